"""Cell-level edits of one worksheet part: style ids, missing cells, legacyDrawing.

Works on the text of the part. Rows and cells are found by their ``r`` attribute,
which Excel, WPS, LibreOffice, openpyxl and xlsxwriter always write; a sheet whose
rows lack it, or that spells a cell or row we must create otherwise (``b5``, ``$B$5``,
``r='5'``), cannot be annotated in place (the caller falls back): a second cell or row
with the same reference is never written.
"""

from __future__ import annotations

import functools
import re

from ..ooxml.a1 import a1, split_a1
from ..ooxml.xmltext import (
    Span,
    del_attr,
    find_element,
    get_attr,
    ns_prefix,
    set_attr,
    top_level_children,
    whole_tag,
)
from .package import NS_REL, Package, UnsupportedPackageError

# Children of <worksheet> that must come after <legacyDrawing> (ECMA-376 CT_Worksheet).
_AFTER_LEGACY = (
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


@functools.lru_cache(maxsize=8)
def _later_re(prefix: str) -> re.Pattern[str]:
    """Any start tag of an element that must follow <legacyDrawing>."""
    return re.compile("<" + re.escape(prefix) + "(?:" + "|".join(_AFTER_LEGACY) + r")\b")


class _Found:
    """A located start tag (the subset of ``re.Match`` the callers use)."""

    __slots__ = ("_end", "_start", "_tag")

    def __init__(self, start: int, end: int, tag: str):
        self._start, self._end, self._tag = start, end, tag

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self, _: int = 0) -> str:
        return self._tag


class SheetXml:
    """The text of a worksheet part with cell-style and drawing edits."""

    def __init__(self, pkg: Package, part: str):
        self.pkg = pkg
        self.part = part
        # the bytes as Latin-1 text: every edit here is ASCII (see Package.read_byte_text)
        self.xml = pkg.read_byte_text(part)
        m = re.search(r"<([\w.-]+:)?worksheet\b", self.xml)
        if not m:
            raise UnsupportedPackageError(f"{part} is not a worksheet")
        self.p = m.group(1) or ""
        self.rel_prefix = ns_prefix(self.xml[:8000], NS_REL)
        self.dirty = False
        self._merges: list[tuple[int, int, int, int]] | None = None

    # -- merged cells -------------------------------------------------------------------

    def merge_anchor(self, ref: str) -> str:
        """Top-left cell of the merged range holding ``ref`` (``ref`` itself if none)."""
        rc = split_a1(ref)
        if rc is None:
            return ref
        if self._merges is None:
            self._merges = []
            start = self.xml.find(f"<{self.p}mergeCells")  # all of them are in there
            pat = re.compile(r"<" + re.escape(self.p) + r'mergeCell\b[^<>]*\sref="([A-Z]+\d+):([A-Z]+\d+)"')
            for m in pat.finditer(self.xml, start) if start >= 0 else ():
                a, b = split_a1(m.group(1)), split_a1(m.group(2))
                if a and b:
                    self._merges.append((a[0], a[1], b[0], b[1]))
        r, c = rc
        for r1, c1, r2, c2 in self._merges:
            if r1 <= r <= r2 and c1 <= c <= c2:
                return a1(r1, c1)
        return ref

    # -- cells ----------------------------------------------------------------------------

    @property
    def xml(self) -> str:
        return self._xml

    @xml.setter
    def xml(self, value: str) -> None:
        self._xml = value
        self._sd: Span | None = None

    def _sheet_data(self) -> Span:
        if self._sd is None:
            self._sd = find_element(self._xml, self.p + "sheetData")
            if self._sd is None:
                raise UnsupportedPackageError(f"{self.part}: no sheetData")
        return self._sd

    def _find_cell(self, ref: str) -> _Found | None:
        """The start tag of cell ``ref`` (a plain ``find``: no regex per cell)."""
        data = self._sheet_data()
        needle = f'r="{ref}"'
        ctag = f"<{self.p}c"
        pos = data.start
        while True:
            i = self.xml.find(needle, pos, data.end)
            if i < 0:
                return None
            pos = i + len(needle)
            lt = self.xml.rfind("<", data.start, i)
            if self.xml.startswith(ctag, lt) and self.xml[lt + len(ctag)] in " \t\r\n" and self.xml[i - 1] in " \t\r\n":
                gt = self.xml.find(">", i)
                if self.xml.rfind(">", lt, i) < 0:
                    return _Found(lt, gt + 1, self.xml[lt : gt + 1])

    def _find_row(self, row: int) -> re.Match[str] | None:
        data = self._sheet_data()
        pat = re.compile(r"<" + re.escape(self.p) + r'row\b[^<>]*?\sr="' + str(row) + r'"[^<>]*>')
        return pat.search(self.xml, data.start, data.end)

    def default_style(self, ref: str) -> int:
        """Style an absent cell shows: its row's (customFormat) or column's, else 0."""
        row, col = split_a1(ref) or (0, 0)
        m = self._find_row(row)
        if m and (get_attr(m.group(0), "customFormat") or "") in ("1", "true"):
            s = get_attr(m.group(0), "s")
            if s and s.isdigit():
                return int(s)
        for cm in re.finditer(r"<" + re.escape(self.p) + r"col\b[^<>]*>", self.xml):
            tag = cm.group(0)
            lo, hi = get_attr(tag, "min"), get_attr(tag, "max")
            if lo and hi and lo.isdigit() and hi.isdigit() and int(lo) <= col <= int(hi):
                s = get_attr(tag, "style")
                return int(s) if s and s.isdigit() else 0
        return 0

    def get_style(self, ref: str) -> tuple[int, bool, str | None]:
        """(style id shown, cell element exists, raw ``s`` attribute or None)."""
        m = self._find_cell(ref)
        if m is None:
            return self.default_style(ref), False, None
        s = get_attr(m.group(0), "s")
        return (int(s) if s and s.isdigit() else 0), True, s

    def styled_cells(self) -> list[tuple[str, int]]:
        """(ref, style id) of every cell element with an ``s`` attribute."""
        data = self._sheet_data()
        out = []
        for m in re.finditer(r"<" + re.escape(self.p) + r"c\b[^<>]*>", self.xml[data.start : data.end]):
            r, s = get_attr(m.group(0), "r"), get_attr(m.group(0), "s")
            if r and s and s.isdigit():
                out.append((r, int(s)))
        return out

    def set_style(self, ref: str, style: int | None) -> None:
        """Set the ``s`` of cell ``ref`` (None removes it), creating the cell if absent."""
        m = self._find_cell(ref)
        if m is not None:
            tag = del_attr(m.group(0), "s") if style is None else set_attr(m.group(0), "s", str(style))
            self.xml = self.xml[: m.start()] + tag + self.xml[m.end() :]
            self.dirty = True
            return
        if style is not None:
            self._insert_cell(ref, f'<{self.p}c r="{ref}" s="{style}"/>')

    def remove_empty_cell(self, ref: str) -> None:
        """Remove cell ``ref`` if it holds nothing (a cell we created for a fill)."""
        m = self._find_cell(ref)
        if m is not None and m.group(0).endswith("/>"):
            self.xml = self.xml[: m.start()] + self.xml[m.end() :]
            self.dirty = True
            # a row we created for it (bare <row r="N">) goes too once empty
            row = (split_a1(ref) or (0, 0))[0]
            self.xml = self.xml.replace(f'<{self.p}row r="{row}"></{self.p}row>', "", 1)

    def _insert_cell(self, ref: str, cell_xml: str) -> None:
        row, col = split_a1(ref) or (0, 0)
        if not row:
            raise UnsupportedPackageError(f"bad cell {ref}")
        p = re.escape(self.p)
        m = self._find_row(row)
        if m is None:
            self._insert_row(row, f'<{self.p}row r="{row}">{cell_xml}</{self.p}row>')
            return
        tag = whole_tag(m.group(0))
        if tag.endswith("/>"):
            new = tag[:-2].rstrip() + ">" + cell_xml + f"</{self.p}row>"
            self.xml = self.xml[: m.start()] + new + self.xml[m.end() :]
            self.dirty = True
            return
        row_end = self.xml.find(f"</{self.p}row>", m.end())
        insert_at = row_end
        for cm in re.finditer(r"<" + p + r"c\b[^<>]*>", self.xml[m.end() : row_end]):
            r = get_attr(cm.group(0), "r")
            rc = split_a1(r or "")
            if rc is None:
                raise UnsupportedPackageError(f"{self.part}: cells without r in row {row}")
            if rc[1] == col:  # the cell is there, spelled otherwise (b5, $B$5, r='B5'): never a twin
                raise UnsupportedPackageError(f"{self.part}: cell {ref} written as {r!r}")
            if rc[1] > col:
                insert_at = m.end() + cm.start()
                break
        self.xml = self.xml[:insert_at] + cell_xml + self.xml[insert_at:]
        self.dirty = True

    def _insert_row(self, row: int, row_xml: str) -> None:
        data = self._sheet_data()
        p = re.escape(self.p)
        if data.empty:
            tag = data.tag[:-2].rstrip() + ">"
            self.xml = self.xml[: data.start] + tag + row_xml + f"</{self.p}sheetData>" + self.xml[data.end :]
            self.dirty = True
            return
        insert_at = data.end - len(self.p + "sheetData") - 3
        for rm in re.finditer(r"<" + p + r"row\b[^<>]*>", self.xml[data.start : data.end]):
            r = get_attr(rm.group(0), "r")
            if r is None or not r.isdigit():
                raise UnsupportedPackageError(f"{self.part}: rows without r")
            if int(r) == row:  # the row is there, spelled otherwise (r='5', r = "5"): never a twin
                raise UnsupportedPackageError(f"{self.part}: row {row} written as {rm.group(0)[:40]!r}")
            if int(r) > row:
                insert_at = data.start + rm.start()
                break
        self.xml = self.xml[:insert_at] + row_xml + self.xml[insert_at:]
        self.dirty = True

    # -- legacy drawing (comment shapes) ----------------------------------------------------

    def legacy_drawing_rid(self) -> str | None:
        """The relationship id of the sheet's <legacyDrawing>, or None."""
        if "legacyDrawing" not in self.xml:  # a plain scan is much cheaper than the regex
            return None
        m = re.search(r"<" + re.escape(self.p) + r"legacyDrawing\b[^<>]*>", self.xml)
        if not m:
            return None
        for name in ([f"{self.rel_prefix}:id"] if self.rel_prefix else []) + ["r:id"]:
            v = get_attr(m.group(0), name)
            if v:
                return v
        return None

    def add_legacy_drawing(self, rid: str) -> None:
        """Add <legacyDrawing> where the schema wants it (before later siblings)."""
        if self.rel_prefix:
            el = f'<{self.p}legacyDrawing {self.rel_prefix}:id="{rid}"/>'
        else:
            el = f'<{self.p}legacyDrawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="{rid}"/>'
        after = self._sheet_data().end
        close = self.xml.rindex(f"</{self.p}worksheet>")
        insert_at = close
        # none of the later elements anywhere (the usual case): no need to walk the children
        if _later_re(self.p).search(self.xml, after, close) is not None:
            later = {self.p + name for name in _AFTER_LEGACY}
            for name, pos in top_level_children(self.xml, after, close):
                if name in later:
                    insert_at = pos
                    break
        self.xml = self.xml[:insert_at] + el + self.xml[insert_at:]
        self.dirty = True

    def remove_legacy_drawing(self) -> None:
        """Remove the <legacyDrawing> element."""
        new = re.sub(
            r"<" + re.escape(self.p) + r"legacyDrawing\b[^<>]*?(/>|>\s*</" + re.escape(self.p) + r"legacyDrawing>)",
            "",
            self.xml,
        )
        if new != self.xml:
            self.xml = new
            self.dirty = True

    def save(self) -> None:
        """Write the edited text back to the package."""
        if self.dirty:
            self.pkg.write_text(self.part, self.xml, latin1=True)
            self.dirty = False
