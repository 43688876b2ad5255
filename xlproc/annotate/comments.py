"""Cell comments: the legacy comments part and its VML drawing of note shapes.

Our comments carry the author ``xlproc审核`` and start with the bold line
``xlproc审核:`` (LibreOffice drops authors on re-save, the text marker survives),
so a later round can find and remove exactly them. When the department already
has a comment on a flagged cell, our text is appended to theirs after that line;
the original text is recorded so the next round restores it exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..ooxml.a1 import split_a1
from ..ooxml.xmltext import escape, find_element, get_attr, iter_spans, unescape
from .package import CT_COMMENTS, CT_VML, REL_COMMENTS, REL_VML, Package
from .sheet import SheetXml

AUTHOR = "xlproc审核"
MARKER = AUTHOR + ":"
# Openers for ``iter_spans``: no pattern here spans past a "<" or ends in ".*?</x>",
# so a crafted part with thousands of unclosed elements costs linear time.
_P = r"<((?:[\w.-]{1,40}:)?)"
_T_OPEN = re.compile(_P + r"t(?:\s[^<>]*)?/?>")
_COMMENT_OPEN = re.compile(_P + r"comment\b[^<>]*>")
_AUTHOR_OPEN = re.compile(_P + r"author>")
_SHAPE_OPEN = re.compile(_P + r"shape\b[^<>]*>")
_TEXT_OPEN = re.compile(_P + r"text\b[^<>]*>")
_RUN_OPEN = re.compile(_P + r"r>")
_RPR = '<rPr>{b}<sz val="9"/><color indexed="81"/><rFont val="宋体"/><family val="3"/><charset val="134"/></rPr>'


@dataclass(frozen=True)
class Note:
    """What we put on one cell: the messages (already prefixed with their severity)."""

    cell: str
    lines: tuple[str, ...]


def note_runs(lines: tuple[str, ...], lead: str = "") -> str:
    """Rich-text runs of our comment: bold marker line, then one line per message."""
    head = f'<r>{_RPR.format(b="<b/>")}<t xml:space="preserve">{escape(lead + MARKER)}</t></r>'
    body = escape("\n" + "\n".join(lines))
    return head + f'<r>{_RPR.format(b="")}<t xml:space="preserve">{body}</t></r>'


def comment_plain_text(comment_xml: str) -> str:
    """Concatenated text of a <comment> element (runs and plain <t>)."""
    out = []
    for m in iter_spans(comment_xml, _T_OPEN, "</{p}t>"):
        el = m.group(0)
        if not el.endswith("/>") or el.count("<") > 1:
            out.append(unescape(el[el.index(">") + 1 : el.rindex("</")]))
    return "".join(out)


class CommentsPart:
    """The comments part of one sheet (found through the sheet's relationships)."""

    def __init__(self, pkg: Package, sheet_part: str):
        self.pkg = pkg
        self.sheet_part = sheet_part
        rels = pkg.rels(sheet_part)
        self.rel = next((r for r in rels if r.type == REL_COMMENTS and pkg.exists(r.target)), None)
        self.vml_rel = next((r for r in rels if r.type == REL_VML and pkg.exists(r.target)), None)

    # -- reading --------------------------------------------------------------------------

    def comments(self) -> list[tuple[str, int, int, str]]:
        """(ref, start, end, element xml) of each comment."""
        if self.rel is None:
            return []
        xml = self.pkg.read_text(self.rel.target)
        return self.comments_in(xml)

    def authors(self) -> list[str]:
        """The author names, by author id."""
        if self.rel is None:
            return []
        xml = self.pkg.read_text(self.rel.target)
        return [unescape(m.group(0)[m.group(0).index(">") + 1 : m.group(0).rindex("</")]) for m in _authors(xml)]

    # -- round 2: remove ours ---------------------------------------------------------------

    def strip(self, sheet: SheetXml, merged_originals: dict[str, str]) -> list[str]:
        """Remove our comments, restore merged ones; return refs whose shapes went away."""
        if self.rel is None:
            return []
        ours = {i for i, a in enumerate(self.authors()) if a == AUTHOR}
        xml = self.pkg.read_text(self.rel.target)
        edits: list[tuple[int, int, str]] = []
        removed: list[str] = []
        for ref, start, end, el in self.comments():
            author = get_attr(el, "authorId")
            text = comment_plain_text(el)
            if (author and author.isdigit() and int(author) in ours) or text.startswith(MARKER):
                edits.append((start, end, ""))
                removed.append(ref)
            elif MARKER in text:
                edits.append((start, end, _restore_merged(el, merged_originals.get(ref))))
        if not edits:
            return []
        for s, e, rep in sorted(edits, reverse=True):
            xml = xml[:s] + rep + xml[e:]
        xml = _drop_unused_last_author(xml)
        if not re.search(r"<(?:[\w.-]+:)?comment\b", xml):
            self.pkg.remove_part(self.rel.target)
            self.pkg.remove_rel(self.sheet_part, self.rel.id)
            self.rel = None
        else:
            self.pkg.write_text(self.rel.target, xml)
        self._remove_shapes(removed, sheet)
        return removed

    def _remove_shapes(self, refs: list[str], sheet: SheetXml) -> None:
        if self.vml_rel is None or not refs:
            return
        vml = self.pkg.read_text(self.vml_rel.target)
        wanted = {split_a1(r) for r in refs}
        wanted.discard(None)
        out = []
        pos = 0
        for m in iter_spans(vml, _SHAPE_OPEN, "</{p}shape>"):
            el = m.group(0)
            if "Note" not in el:
                continue
            row = re.search(r"Row>\s*(\d{1,7})\s*<", el)
            col = re.search(r"Column>\s*(\d{1,5})\s*<", el)
            if row and col and (int(row.group(1)) + 1, int(col.group(1)) + 1) in wanted:
                out.append(vml[pos : m.start()])
                pos = m.end()
        out.append(vml[pos:])
        vml = "".join(out)
        if re.search(r"<(?:[\w.-]{1,40}:)?shape\b", vml):
            self.pkg.write_text(self.vml_rel.target, vml)
            return
        self.pkg.remove_part(self.vml_rel.target)
        self.pkg.remove_rel(self.sheet_part, self.vml_rel.id)
        sheet.remove_legacy_drawing()
        self.vml_rel = None

    # -- adding ours ------------------------------------------------------------------------

    def add(self, notes: list[Note], sheet: SheetXml) -> dict[str, str]:
        """Add our notes; return {ref: original comment text xml} for merged comments."""
        merged: dict[str, str] = {}
        if not notes:
            return merged
        if self.rel is None and self.vml_rel is None and sheet.legacy_drawing_rid() is None:
            self._add_fresh(notes, sheet)
            return merged
        if self.rel is None:
            part = self.pkg.unused_name("xl/comments{n}.xml")
            self.pkg.write_text(
                part,
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                "<authors></authors><commentList></commentList></comments>",
            )
            self.pkg.set_override(part, CT_COMMENTS)
            self.pkg.add_rel(self.sheet_part, REL_COMMENTS, part)
            self.rel = next(r for r in self.pkg.rels(self.sheet_part) if r.type == REL_COMMENTS)
        xml = self.pkg.read_text(self.rel.target)
        p = re.search(r"<([\w.-]{1,40}:)?comments\b", xml)
        prefix = (p.group(1) or "") if p else ""
        authors = self.authors()
        if AUTHOR in authors:
            author_id = authors.index(AUTHOR)
        else:
            author_id = len(authors)
            xml = _append(xml, prefix + "authors", f"<{prefix}author>{AUTHOR}</{prefix}author>")
        existing = {ref: (start, end, el) for ref, start, end, el in self.comments_in(xml)}
        new_comments = []
        new_shapes = []
        edits = []
        for note in notes:
            if note.cell in existing:
                start, end, el = existing[note.cell]
                text = find_element(el, prefix + "text")
                if text is None:
                    continue
                original = el[text.start : text.end]
                merged[note.cell] = original
                inner = el[text.inner_start : text.end - len(prefix) - 7] if not text.empty else ""
                plain = re.match(r"\s*(<(?:[\w.-]+:)?t[\s>].*?</(?:[\w.-]+:)?t>)", inner, re.S)
                if plain:  # a plain <t> before runs is not allowed: make it the first run
                    inner = f"<{prefix}r>{plain.group(1)}</{prefix}r>" + inner[plain.end() :]
                runs = note_runs(note.lines, lead="\n")
                if prefix:
                    runs = re.sub(r"<(/?)(?![\w.-]+:)", lambda m: f"<{m.group(1)}{prefix}", runs)
                new_text = f"<{prefix}text>{inner}{runs}</{prefix}text>"
                edits.append((start, end, el[: text.start] + new_text + el[text.end :]))
                continue
            runs = note_runs(note.lines)
            if prefix:
                runs = re.sub(r"<(/?)(?![\w.-]+:)", lambda m: f"<{m.group(1)}{prefix}", runs)
            new_comments.append(
                f'<{prefix}comment ref="{note.cell}" authorId="{author_id}"><{prefix}text>{runs}</{prefix}text></{prefix}comment>'
            )
            new_shapes.append(note)
        for s, e, rep in sorted(edits, reverse=True):
            xml = xml[:s] + rep + xml[e:]
        if new_comments:
            xml = _append(xml, prefix + "commentList", "".join(new_comments))
        self.pkg.write_text(self.rel.target, xml)
        if new_shapes:
            self._add_shapes(new_shapes, sheet)
        return merged

    def _add_fresh(self, notes: list[Note], sheet: SheetXml) -> None:
        """A sheet without comments or drawings: write both parts in one go.

        The same bytes as the general path below, without re-reading what we write.
        """
        part = self.pkg.unused_name("xl/comments{n}.xml")
        body = "".join(
            f'<comment ref="{note.cell}" authorId="0"><text>{note_runs(note.lines)}</text></comment>' for note in notes
        )
        self.pkg.write_text(
            part,
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<authors><author>{AUTHOR}</author></authors><commentList>{body}</commentList></comments>",
        )
        self.pkg.set_override(part, CT_COMMENTS)
        rid = self.pkg.add_rel(self.sheet_part, REL_COMMENTS, part)
        self.rel = next(r for r in self.pkg.rels(self.sheet_part) if r.id == rid)
        vml_part = self.pkg.unused_name("xl/drawings/vmlDrawing{n}.vml")
        block = _free_idmap(self.pkg)
        self.pkg.write_text(vml_part, _VML_HEAD.format(block=block) + _shapes(notes, block * 1024 + 1) + "</xml>")
        self.pkg.set_override(vml_part, CT_VML)
        rid = self.pkg.add_rel(self.sheet_part, REL_VML, vml_part)
        self.vml_rel = next(r for r in self.pkg.rels(self.sheet_part) if r.id == rid)
        sheet.add_legacy_drawing(rid)

    @staticmethod
    def comments_in(xml: str) -> list[tuple[str, int, int, str]]:
        """(ref, start, end, element xml) of each comment in ``xml``."""
        return [
            (get_attr(m.group(0), "ref") or "", m.start(), m.end(), m.group(0))
            for m in iter_spans(xml, _COMMENT_OPEN, "</{p}comment>")
        ]

    def _add_shapes(self, notes: list[Note], sheet: SheetXml) -> None:
        if self.vml_rel is None:
            part = self.pkg.unused_name("xl/drawings/vmlDrawing{n}.vml")
            block = _free_idmap(self.pkg)
            self.pkg.write_text(part, _VML_HEAD.format(block=block) + "</xml>")
            self.pkg.set_override(part, CT_VML)
            rid = self.pkg.add_rel(self.sheet_part, REL_VML, part)
            self.vml_rel = next(r for r in self.pkg.rels(self.sheet_part) if r.id == rid)
            if sheet.legacy_drawing_rid() is None:
                sheet.add_legacy_drawing(rid)
        vml = self.pkg.read_text(self.vml_rel.target)
        if 'id="_x0000_t202"' not in vml:
            vml = _insert_before_end(vml, _SHAPETYPE)
        ids = [int(n) for n in re.findall(r'id="_x0000_s(\d{1,9})"', vml)]
        block = re.search(r'<o:idmap\b[^<>]*data="(\d{1,6})', vml)
        next_id = max([*ids, int(block.group(1)) * 1024 if block else 1024]) + 1
        self.pkg.write_text(self.vml_rel.target, _insert_before_end(vml, _shapes(notes, next_id)))


def _shapes(notes: list[Note], first_id: int) -> str:
    """The VML note shapes of ``notes``, numbered from ``first_id``."""
    shapes = []
    for i, note in enumerate(notes):
        row, col = split_a1(note.cell) or (1, 1)
        length = sum(len(line) for line in note.lines) + 8 * len(note.lines)
        height = min(14, 2 + length // 16 + len(note.lines))
        shapes.append(
            _SHAPE.format(
                sid=first_id + i,
                z=i + 1,
                r0=row - 1,
                c0=col - 1,
                anchor=f"{col}, 15, {max(row - 2, 0)}, 10, {col + 4}, 15, {max(row - 2, 0) + height}, 4",
            )
        )
    return "".join(shapes)


def _restore_merged(el: str, original_text: str | None) -> str:
    """A department comment with our text appended, back to the department's text."""
    m = next(iter_spans(el, _TEXT_OPEN, "</{p}text>"), None)
    if m is None:
        return el
    if original_text is not None:
        return el[: m.start()] + original_text + el[m.end() :]
    # no record (e.g. re-saved elsewhere): cut the runs from our marker on
    runs = list(iter_spans(m.group(0), _RUN_OPEN, "</{p}r>"))
    for run in runs:
        if MARKER in comment_plain_text(run.group(0)):
            cut = m.start() + run.start()
            close = el.rfind("</", 0, m.end())
            return el[:cut] + el[close : m.end()] + el[m.end() :]
    return el


def _drop_unused_last_author(xml: str) -> str:
    """Remove our author entry if it is the last one and no comment uses it any more."""
    authors = list(_authors(xml))
    if not authors:
        return xml
    el = authors[-1].group(0)
    if unescape(el[el.index(">") + 1 : el.rindex("</")]) != AUTHOR:
        return xml
    last = len(authors) - 1
    if re.search(r'<(?:[\w.-]{1,40}:)?comment\b[^<>]*\sauthorId="' + str(last) + '"', xml):
        return xml
    m = authors[-1]
    return xml[: m.start()] + xml[m.end() :]


def _authors(xml: str):
    return iter_spans(xml, _AUTHOR_OPEN, "</{p}author>")


def _append(xml: str, qname: str, children: str) -> str:
    span = find_element(xml, qname)
    if span is None:
        raise ValueError(qname)
    if span.empty:
        return xml[: span.start] + span.tag[:-2].rstrip() + ">" + children + f"</{qname}>" + xml[span.end :]
    close = span.end - len(qname) - 3
    return xml[:close] + children + xml[close:]


def _insert_before_end(vml: str, text: str) -> str:
    i = vml.rfind("</xml>")
    return vml[:i] + text + vml[i:] if i >= 0 else vml + text


def _free_idmap(pkg: Package) -> int:
    """A VML shape-id block (``o:idmap``) no other drawing of the workbook uses."""
    used: set[int] | None = getattr(pkg, "_vml_idmaps", None)
    if used is None:
        used = set()
        for name in [i.filename for i in pkg.infos if i.filename.lower().endswith(".vml")]:
            if pkg.exists(name):
                used.update(int(n) for n in re.findall(r'<o:idmap\b[^<>]*data="(\d{1,6})', pkg.read_text(name)))
        pkg._vml_idmaps = used  # type: ignore[attr-defined]
    n = 1
    while n in used:
        n += 1
    used.add(n)
    return n


_SHAPETYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)
_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>' + _SHAPETYPE
)
_SHAPE = (
    '<v:shape id="_x0000_s{sid}" type="#_x0000_t202" style="position:absolute;margin-left:80pt;margin-top:2pt;'
    'width:260pt;height:90pt;z-index:{z};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
    '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
    '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
    '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{anchor}</x:Anchor>'
    "<x:AutoFill>False</x:AutoFill><x:Row>{r0}</x:Row><x:Column>{c0}</x:Column></x:ClientData></v:shape>"
)
