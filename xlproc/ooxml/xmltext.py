"""Text-level XML editing: find elements and attributes, splice strings.

The department's package parts are never parsed and re-serialised as a whole:
ElementTree would rename namespace prefixes and drop declarations that
``mc:Ignorable`` still names, which Excel treats as corruption. Instead, the few
places we touch are located with regular expressions on the decoded text and
spliced, so every byte we do not mean to change stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_ATTR_RE_CACHE: dict[str, re.Pattern[str]] = {}
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_NEEDS_ESCAPE = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def escape(text: str) -> str:
    """Escape text for element content or a double-quoted attribute; drop illegal chars."""
    if _NEEDS_ESCAPE.search(text) is None:  # the usual case: one scan, no copies
        return text
    text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def unescape(text: str) -> str:
    """Undo ``escape`` and numeric character references."""
    if "&" not in text:
        return text

    def ref(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("#x") or body.startswith("#X"):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        return {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}.get(body, m.group(0))

    return re.sub(r"&(#?\w+);", ref, text)


def _attr_re(name: str) -> re.Pattern[str]:
    pat = _ATTR_RE_CACHE.get(name)
    if pat is None:
        pat = re.compile(r"(\s)" + re.escape(name) + r"\s*=\s*(\"([^\"]*)\"|'([^']*)')")
        _ATTR_RE_CACHE[name] = pat
    return pat


def get_attr(tag: str, name: str) -> str | None:
    """Value of attribute ``name`` in a start tag (unescaped), or None."""
    m = _attr_re(name).search(tag)
    if not m:
        return None
    return unescape(m.group(3) if m.group(3) is not None else m.group(4))


_ALL_ATTRS = re.compile(r"\s([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def tag_attrs(tag: str) -> dict[str, str]:
    """All attributes of a start tag, unescaped (first occurrence wins)."""
    out: dict[str, str] = {}
    for name, dq, sq in _ALL_ATTRS.findall(tag):
        if name not in out:
            out[name] = unescape(dq or sq)
    return out


def set_attr(tag: str, name: str, value: str) -> str:
    """Start tag with attribute ``name`` set to ``value`` (added before the tag end)."""
    pat = _attr_re(name)
    new = f'{name}="{escape(value)}"'
    if pat.search(tag):
        return pat.sub(lambda m: m.group(1) + new, tag, count=1)
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return tag[:end].rstrip() + " " + new + tag[end:]


def del_attr(tag: str, name: str) -> str:
    """Start tag without attribute ``name``."""
    return _attr_re(name).sub("", tag, count=1)


def root_prefix(xml: str, local: str) -> str:
    """The namespace prefix used on the root element ``local`` ("" or "x:")."""
    m = re.search(r"<([\w.-]+:)?" + re.escape(local) + r"[\s>/]", xml)
    return m.group(1) or "" if m else ""


def ns_prefix(xml: str, uri: str) -> str | None:
    """The prefix the root element declares for namespace ``uri``, or None.

    Only the root counts: openpyxl, for one, declares ``xmlns:r`` on each <sheet>
    element, and a prefix declared there is not in scope for an element we add.
    """
    root = re.search(r"<(?![?!])[^>]*>", xml)
    if root is None:
        return None
    m = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(uri) + r'["\']', root.group(0))
    return m.group(1) if m else None


class Span(NamedTuple):
    """An element found in a text: [start, end) covers the whole element."""

    start: int
    end: int
    tag: str  # the start tag text
    empty: bool  # self-closing

    @property
    def inner_start(self) -> int:
        return self.start + len(self.tag)


def find_element(xml: str, qname: str, start: int = 0, end: int | None = None) -> Span | None:
    """First element ``qname`` (no nesting of the same name assumed) in xml[start:end]."""
    end = len(xml) if end is None else end
    m = re.compile(r"<" + re.escape(qname) + r"(?=[\s/>])[^>]*>").search(xml, start, end)
    if not m:
        return None
    tag = m.group(0)
    if tag.endswith("/>"):
        return Span(m.start(), m.end(), tag, True)
    close = xml.find(f"</{qname}>", m.end(), end)
    if close < 0:
        return None
    return Span(m.start(), close + len(qname) + 3, tag, False)


def iter_elements(xml: str, qname: str, start: int = 0, end: int | None = None) -> Iterator[Span]:
    """Successive non-nested elements ``qname`` in xml[start:end]."""
    pos = start
    while True:
        span = find_element(xml, qname, pos, end)
        if span is None:
            return
        yield span
        pos = span.end


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping (start, end, replacement) edits in one pass."""
    if not edits:
        return text
    out: list[str] = []
    pos = 0
    for s, e, rep in sorted(edits, key=lambda x: (x[0], x[1])):
        out.append(text[pos:s])
        out.append(rep)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def set_count(xml: str, span: Span, qname: str, count: int) -> str:
    """Update the ``count`` attribute of a container's start tag, if it has one."""
    if get_attr(span.tag, "count") is None:
        return xml
    return xml[: span.start] + set_attr(span.tag, "count", str(count)) + xml[span.start + len(span.tag) :]


def append_children(xml: str, qname: str, children: str, container_tag_if_missing: str | None = None) -> str:
    """Insert ``children`` at the end of the container ``qname`` (expanding ``<x/>``)."""
    span = find_element(xml, qname)
    if span is None:
        raise ValueError(f"no <{qname}> element")
    if span.empty:
        tag = span.tag[:-2].rstrip() + ">"
        return xml[: span.start] + tag + children + f"</{qname}>" + xml[span.end :]
    close = span.end - len(qname) - 3
    return xml[:close] + children + xml[close:]


_TAG_RE = re.compile(
    r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>|<(/?)([\w.:-]+)(?:\"[^\"]*\"|'[^']*'|[^>\"'])*?(/?)>", re.S
)


def top_level_children(xml: str, start: int, end: int) -> Iterator[tuple[str, int]]:
    """(qualified name, position) of each element starting at depth 0 in xml[start:end].

    A depth-0 element whose name does not occur nested inside itself (true of every
    worksheet child) is skipped in one ``find`` of its end tag, so long blocks such as
    data validations cost nothing.
    """
    pos = start
    while True:
        m = _TAG_RE.search(xml, pos, end)
        if m is None:
            return
        if m.group(2) is None or m.group(1):
            pos = m.end()
            if m.group(1):
                return  # the parent's end tag
            continue
        name = m.group(2)
        yield name, m.start()
        if m.group(3):
            pos = m.end()
            continue
        close = xml.find(f"</{name}>", m.end(), end)
        if close < 0:
            return
        pos = close + len(name) + 3
