"""One linear pass over a worksheet's XML for what python-calamine does not expose.

Calamine gives each cell's value; the reader also needs to know

* which cells hold a formula (``<f>``): a computed cell whose template formula was
  typed over, an input cell holding the department's own formula;
* which cells hold an error value (``t="e"``: #DIV/0!, #N/A …), which calamine reads
  as blank (or refuses, for the newer codes);
* the style index of the cells whose number format matters (percent formats).

The pass is targeted: a few regular expressions with no nested quantifiers, each
character class stopping at ``<``/``>``, so the work is linear in the part's size
(no backtracking over department-controlled text). Only the cells that matter are
looked at — formulas, error cells, cells with a percent style — so a sheet costs a
scan in C, not a Python step per cell. Cells without an ``r`` attribute (allowed by
the format, written by a few generators) send the sheet through a full expat pass
that counts positions instead. Every result is kept on the Submission (``scans``) so
later stages (the annotator) need not parse the sheet again.
"""

from __future__ import annotations

import contextlib
import html
import re
from dataclasses import dataclass, field
from xml.parsers import expat

from ..form.layout import col_letter
from ..ooxml.a1 import col_number
from ..ooxml.xmlparse import parse_all
from .numbers import showable

_P = rb"(?:[A-Za-z_][\w.\-]{0,31}:)?"  # an optional namespace prefix (x:c, Strict files …)
_SHEET_DATA = re.compile(rb"<(" + _P + rb")sheetData[\s>/]")
_ERROR_CELL = re.compile(rb"<" + _P + rb"c(\s(?:[^<>]*\s)?t\s*=\s*[\"']e[\"'][^<>]*)>")
_VALUE = re.compile(rb"<" + _P + rb"v(?:\s[^<>]*)?>([^<]{0,256})<")
_R_ATTR = re.compile(rb"(?:^|\s)r\s*=\s*[\"']([A-Z]{1,3}[0-9]{1,7})[\"']")
_S_ATTR = re.compile(rb"(?:^|\s)s\s*=\s*[\"']([0-9]{1,9})[\"']")
_FORMULA_TEXT_MAX = 512
_AFTER_NAME = frozenset(b" \t\r\n/>")


@dataclass
class SheetScan:
    """What one pass over a sheet found, by A1 reference."""

    formulas: dict[str, str] = field(default_factory=dict)  # cell → formula text ("" for a shared follower)
    errors: dict[str, str] = field(default_factory=dict)  # cell → error code as stored (#DIV/0! …)
    styles: dict[str, int] = field(default_factory=dict)  # cell → style index, for the styles asked about


class _NoRef(Exception):
    """A cell of interest has no ``r`` attribute: positions must be counted."""


def _ref(attrs: bytes | None) -> str:
    attrs = attrs or b""
    q = attrs.find(b' r="')
    if 0 <= q < 8:  # the usual <c r="B5" …>: no regex
        end = attrs.find(b'"', q + 4, q + 16)
        ref = attrs[q + 4 : end]
        if end > 0 and ref[:1].isupper() and ref[-1:].isdigit() and ref.isalnum() and ref.isascii():
            return ref.decode("ascii")
    m = _R_ATTR.search(attrs)
    if m is None:
        raise _NoRef
    return m.group(1).decode("ascii")


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return str(showable(html.unescape(text) if "&" in text else text))


def _formula_text(xml: bytes, after_f: int) -> str:
    gt = xml.find(b">", after_f, after_f + 4096)
    if gt < 0 or xml[gt - 1 : gt] == b"/":
        return ""
    lt = xml.find(b"<", gt + 1, gt + 1 + _FORMULA_TEXT_MAX * 4)
    return _text(xml[gt + 1 : lt if lt >= 0 else gt + 1])[:_FORMULA_TEXT_MAX]


def scan_sheet(xml: bytes, style_ids: frozenset[int] = frozenset()) -> SheetScan:
    """Formulas, error values and (for ``style_ids``) styles of one sheet's cells."""
    at = xml.find(b"sheetData")
    m = _SHEET_DATA.search(xml, max(0, at - 40)) if at >= 0 else None
    if m is None:
        return SheetScan()
    lo = m.start()
    prefix = m.group(1)
    end = xml.find(b"</" + prefix + b"sheetData", lo)
    hi = end if end >= 0 else len(xml)
    try:
        return _targeted(xml, lo, hi, prefix, style_ids)
    except _NoRef:
        return _counted(xml, style_ids)


class _Next:
    """The next occurrence of a token at or after a position, for positions that only grow:
    each byte is searched once however many hits ask (linear on any input)."""

    def __init__(self, xml: bytes, token: bytes, hi: int):
        self.xml, self.token, self.hi = xml, token, hi
        self.at = -1  # the last answer (-1: not searched yet; hi: none left)

    def after(self, pos: int) -> int:
        if self.at < pos:
            found = self.xml.find(self.token, pos, self.hi)
            self.at = found if found >= 0 else self.hi
        return self.at


class _Cells:
    """Locates the ``<c …>`` start tag around a position found by a byte search.

    Positions asked about must grow; the search back for a tag never goes below the
    previous position asked about (a tag holding two hits is found on the first)."""

    def __init__(self, xml: bytes, lo: int, hi: int, prefix: bytes):
        self.xml = xml
        self.floor = lo
        self.open = b"<" + prefix + b"c"
        self.gt = _Next(xml, b">", hi)

    def tag(self, pos: int) -> tuple[int, int] | None:
        """(start, end) of the cell start tag that contains or precedes ``pos``."""
        xml = self.xml
        start = xml.rfind(self.open, self.floor, pos)
        while start >= 0 and xml[start + len(self.open)] not in _AFTER_NAME:
            start = xml.rfind(self.open, self.floor, start)  # <col…>, <cfRule…>: not a cell
        self.floor = pos
        if start < 0:
            return None
        end = self.gt.after(start)
        return None if end - start > 4096 or end >= len(xml) else (start, end)


def _error_cells(xml: bytes, lo: int, hi: int, prefix: bytes):
    """(tag, value start, value end, code) of every ``t="e"`` cell, in one forward pass."""
    values = _Next(xml, b"<" + prefix + b"v", hi)
    next_cells = _Next(xml, b"<" + prefix + b"c", hi)
    for quoted in (b'"e"', b"'e'"):
        pos = lo
        cells = _Cells(xml, lo, hi, prefix)
        while (i := xml.find(quoted, pos, hi)) >= 0:
            pos = i + 3
            tag = cells.tag(i)
            if tag is None or tag[1] < i or _ERROR_CELL.match(xml, tag[0], tag[1] + 1) is None:
                continue
            v = values.after(tag[1])
            if v >= hi or v >= next_cells.after(tag[1]):
                continue  # no value in this cell
            m = _VALUE.match(xml, v, min(hi, v + 512))
            code = _text(m.group(1)).strip() if m else ""
            if m and code:
                yield xml[tag[0] : tag[1]], m.start(1), m.end(1), code


def error_value_spans(xml: bytes) -> list[tuple[int, int, str]]:
    """(start, end, code) of the stored text of every error value of a sheet part."""
    at = xml.find(b"sheetData")
    m = _SHEET_DATA.search(xml, max(0, at - 40)) if at >= 0 else None
    if m is None:
        return []
    end = xml.find(b"</" + m.group(1) + b"sheetData", m.start())
    hi = end if end >= 0 else len(xml)
    return sorted((a, b, code) for _t, a, b, code in _error_cells(xml, m.start(), hi, m.group(1)))


def _targeted(xml: bytes, lo: int, hi: int, prefix: bytes, style_ids: frozenset[int]) -> SheetScan:
    """Byte searches for ``<f``, ``t="e"`` and ``s="<percent style>"``; each hit placed by its cell tag."""
    out = SheetScan()
    cells = _Cells(xml, lo, hi, prefix)
    token = b"<" + prefix + b"f"
    pos = lo
    while (i := xml.find(token, pos, hi)) >= 0:
        pos = i + len(token)
        if xml[pos] not in _AFTER_NAME:
            continue  # <filter…>, <formula…>: not a cell formula
        tag = cells.tag(i)
        if tag is None or tag[1] > i or xml[tag[1] + 1 : i].strip():
            continue  # <f> is a cell's first child; anything else is not ours
        out.formulas[_ref(xml[tag[0] : tag[1]])] = _formula_text(xml, pos)
    for attrs, _start, _end, code in _error_cells(xml, lo, hi, prefix):
        out.errors[_ref(attrs)] = code
    for sid in sorted(style_ids):
        for quoted in (b'"%d"' % sid, b"'%d'" % sid):
            pos = lo
            cells = _Cells(xml, lo, hi, prefix)
            while (i := xml.find(quoted, pos, hi)) >= 0:
                pos = i + len(quoted)
                tag = cells.tag(i)
                if tag is None or tag[1] < i:
                    continue
                attrs = xml[tag[0] : tag[1]]
                s = _S_ATTR.search(attrs)
                if s is not None and int(s.group(1)) == sid:
                    out.styles[_ref(attrs)] = sid
    return out


def _counted(xml: bytes, style_ids: frozenset[int]) -> SheetScan:
    """The full pass (expat, linear): positions counted where ``r`` attributes are missing."""
    out = SheetScan()
    row, col = 0, 0
    ref = ""
    in_error_value = False
    text: list[str] = []
    cell_is_error = False
    in_formula = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal row, col, ref, in_error_value, cell_is_error, in_formula
        local = name.rpartition(":")[2]
        if local == "row":
            r = attrs.get("r", "")
            row = int(r) if r.isdigit() and len(r) < 8 else row + 1
            col = 0
        elif local == "c":
            m = _R_ATTR.search(b' r="' + attrs.get("r", "").encode("ascii", "replace") + b'"')
            if m is not None:
                ref = m.group(1).decode("ascii")
                col = col_number(ref.rstrip("0123456789"))
            else:
                col += 1
                ref = f"{col_letter(col - 1)}{row}"
            cell_is_error = attrs.get("t") == "e"
            s = attrs.get("s", "")
            if style_ids and s.isdigit() and len(s) < 9 and int(s) in style_ids:
                out.styles[ref] = int(s)
        elif local == "f" and ref:
            out.formulas[ref] = ""
            in_formula = True
            text.clear()
        elif local == "v" and cell_is_error:
            in_error_value = True
            text.clear()

    def end(name: str) -> None:
        nonlocal in_error_value, in_formula
        local = name.rpartition(":")[2]
        if local == "f" and in_formula:
            out.formulas[ref] = str(showable("".join(text)))[:_FORMULA_TEXT_MAX]
            in_formula = False
        elif local == "v" and in_error_value:
            code = str(showable("".join(text))).strip()
            if code:
                out.errors[ref] = code
            in_error_value = False

    def chars(data: str) -> None:
        if (in_formula or in_error_value) and len(text) < 64:
            text.append(data)

    def no_dtd(*_args: object) -> None:
        raise _NoRef  # no DTD is ever expanded; the package check refuses such parts

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = no_dtd
    with contextlib.suppress(
        expat.ExpatError, _NoRef
    ):  # what was read so far stands; calamine has judged the sheet readable
        parse_all(parser, xml)
    return out
