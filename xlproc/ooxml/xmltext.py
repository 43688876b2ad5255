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


_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_REFERENCE = re.compile(r"&(#[xX][0-9A-Fa-f]{1,8}|#[0-9]{1,10}|[A-Za-z]{2,4});")


def _char(code: int) -> str:
    """A referenced character, or U+FFFD when XML does not allow it (surrogates, NUL …)."""
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    return "\ufffd"


def unescape(text: str) -> str:
    """Undo ``escape`` and numeric character references (linear; bad references → U+FFFD)."""
    if "&" not in text:
        return text

    def ref(m: re.Match[str]) -> str:
        body = m.group(1)
        if body[0] != "#":
            return _ENTITIES.get(body, m.group(0))
        return _char(int(body[2:], 16) if body[1] in "xX" else int(body[1:]))

    return _REFERENCE.sub(ref, text)


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


def whole_tag(tag: str) -> str:
    """``tag`` itself, after making sure it is a whole start tag; ValueError if it is cut.

    A quoted attribute value may hold ``>`` (``note="1>0"``): a tag found by a pattern
    that stops at the first ``>`` then ends inside that value, and an attribute written
    into it would break the part. Only double quotes and an even number of them: the tag
    is whole (one count, no scan); otherwise it is walked quote by quote (``tag_end``).
    """
    if "'" not in tag and not tag.count('"') % 2:
        return tag
    if tag_end(tag, 1, len(tag)) != len(tag):
        raise ValueError(f"start tag cut inside an attribute value: {tag[:60]!r}")
    return tag


def set_attr(tag: str, name: str, value: str) -> str:
    """Start tag with attribute ``name`` set to ``value`` (added before the tag end).

    ValueError when ``tag`` is cut inside an attribute value (``whole_tag``)."""
    tag = whole_tag(tag)
    pat = _attr_re(name)
    new = f'{name}="{escape(value)}"'
    if pat.search(tag):
        return pat.sub(lambda m: m.group(1) + new, tag, count=1)
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return tag[:end].rstrip() + " " + new + tag[end:]


def del_attr(tag: str, name: str) -> str:
    """Start tag without attribute ``name`` (ValueError when ``tag`` is cut, ``whole_tag``)."""
    return _attr_re(name).sub("", whole_tag(tag), count=1)


def root_prefix(xml: str, local: str) -> str:
    """The namespace prefix used on the root element ``local`` ("" or "x:")."""
    m = re.search(r"<([\w.-]{1,40}:)?" + re.escape(local) + r"[\s>/]", xml)
    return m.group(1) or "" if m else ""


def ns_prefix(xml: str, uri: str) -> str | None:
    """The prefix the root element declares for namespace ``uri``, or None.

    Only the root counts: openpyxl, for one, declares ``xmlns:r`` on each <sheet>
    element, and a prefix declared there is not in scope for an element we add.
    """
    root = re.search(r"<(?![?!])[^<>]*>", xml)
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


_START_TAGS: dict[str, re.Pattern[str]] = {}


def _start_tag(qname: str) -> re.Pattern[str]:
    pat = _START_TAGS.get(qname)
    if pat is None:  # [^<>]: an unclosed tag ends at the next "<", so a search stays linear
        pat = _START_TAGS[qname] = re.compile(r"<" + re.escape(qname) + r"(?=[\s/>])[^<>]*>")
    return pat


def find_element(xml: str, qname: str, start: int = 0, end: int | None = None) -> Span | None:
    """First element ``qname`` (no nesting of the same name assumed) in xml[start:end]."""
    end = len(xml) if end is None else end
    m = _start_tag(qname).search(xml, start, end)
    if not m:
        return None
    tag = m.group(0)
    if tag.endswith("/>"):
        return Span(m.start(), m.end(), tag, True)
    close = xml.find(f"</{qname}>", m.end(), end)
    if close < 0:
        return None
    return Span(m.start(), close + len(qname) + 3, tag, False)


class Found(NamedTuple):
    """An element found by ``iter_spans``: like a ``re.Match`` for start/end/group(0)."""

    begin: int
    finish: int
    text: str
    prefix: str

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.finish

    def group(self, n: int = 0) -> str:
        return self.text if n == 0 else self.prefix


def iter_spans(xml: str, opener: re.Pattern[str], close: str, start: int = 0) -> Iterator[Found]:
    """Elements whose start tag matches ``opener`` (up to and including ``>``), each
    ending at the next ``close`` text (``{p}`` in it stands for ``opener``'s group 1,
    the namespace prefix), or at its own ``/>``.

    Replaces ``<x\b[^>]*?(?:/>|>.*?</x>)`` patterns, which cost quadratic time on a
    text of many unclosed elements: once ``close`` is missing, no later element can
    close either, so the scan stops. ``opener`` must not cross a ``<`` (``[^<>]*``).
    """
    pos = start
    while True:
        m = opener.search(xml, pos)
        if m is None:
            return
        if m.group(0).endswith("/>"):
            yield Found(m.start(), m.end(), m.group(0), m.group(1) or "")
            pos = m.end()
            continue
        closing = close.replace("{p}", m.group(1) or "")
        c = xml.find(closing, m.end())
        if c < 0:
            return
        stop = c + len(closing)
        yield Found(m.start(), stop, xml[m.start() : stop], m.group(1) or "")
        pos = stop


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


_NAME = re.compile(r"(/?)([\w.:-]{1,200})")
_QUOTE_OR_END = re.compile(r"[\"'>]")
_SPECIAL_ENDS = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"))


def tag_end(xml: str, pos: int, end: int) -> int:
    """Index just past the ``>`` closing the tag whose attributes start at ``pos`` (-1 if none).

    Quoted attribute values may hold ``>``; each character is looked at once.
    """
    while True:
        m = _QUOTE_OR_END.search(xml, pos, end)
        if m is None:
            return -1
        if m.group(0) == ">":
            return m.end()
        close = xml.find(m.group(0), m.end(), end)
        if close < 0:
            return -1
        pos = close + 1


def top_level_children(xml: str, start: int, end: int) -> Iterator[tuple[str, int]]:
    """(qualified name, position) of each element starting at depth 0 in xml[start:end].

    A depth-0 element whose name does not occur nested inside itself (true of every
    worksheet child) is skipped in one ``find`` of its end tag, so long blocks such as
    data validations cost nothing. A scan by ``find``, never a backtracking pattern:
    time is linear in the text, whatever it holds.
    """
    pos = start
    while True:
        lt = xml.find("<", pos, end)
        if lt < 0:
            return
        special = next(((o, c) for o, c in _SPECIAL_ENDS if xml.startswith(o, lt)), None)
        if special is not None:  # comment, CDATA, processing instruction, declaration
            close = xml.find(special[1], lt + len(special[0]), end)
            if close < 0:
                return
            pos = close + len(special[1])
            continue
        m = _NAME.match(xml, lt + 1, end)
        if m is None or not m.group(2):
            pos = lt + 1
            continue
        stop = tag_end(xml, m.end(), end)
        if stop < 0:
            return
        if m.group(1):
            return  # the parent's end tag
        name = m.group(2)
        yield name, lt
        if xml[stop - 2] == "/":
            pos = stop
            continue
        close = xml.find(f"</{name}>", stop, end)
        if close < 0:
            return
        pos = close + len(name) + 3
