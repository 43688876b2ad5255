"""A workbook of plain tables, written straight to SpreadsheetML: one header row per sheet,
then rows of text, numbers and dates.

The district dataset (``dataset/export.py``) has one sheet per frame and, for a district,
tens of thousands of cells; through xlsxwriter's cell-by-cell calls they took about 0.6 s
of a 200-department batch of ~4 s (``docs/benchmarks.md``). Here each row becomes XML in
one pass and is deflated as it comes, so memory holds the compressed parts only and a
sheet of any length is written in pieces.

What a sheet gets, as xlproc's other workbooks (``io/print_setup.py``): the header row
bold on a tinted fill, the first rows and columns frozen, an autofilter, column widths,
and the print setup (A4, orientation by width, fitted to one page wide or printed across
with the key columns repeated, the header row on every page, title and page numbers).
Text is always a string cell (a value starting with ``=`` stays text), numbers carry the
column's number format, dates the ``yyyy-mm-dd`` format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ..io.print_setup import A4, HEADER_FOOTER_MARGIN, MARGINS, print_plan
from . import deflate
from .a1 import MAX_COL, MAX_ROW, col_letters
from .zipout import FIXED_DATE_TIME, Member, Packed, zip_bytes

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAX_CELL_TEXT = 32767  # characters a cell holds; longer text is cut
FLUSH_AT = 1 << 20  # characters of sheet XML gathered before they are deflated

_EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 for every date after 1900-02-28
_ESCAPES = re.compile("[&<>]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")
_LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_NOT_XML = re.compile("[\ufffe\uffff]")
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

# xf 0 is the default; 1 the header; 2 text and plain numbers; from 3 on, one per number format
_HEADER, _TEXT = 1, 2
DATE_FORMAT = "yyyy-mm-dd"


def _text(s: str) -> str:
    """A string as cell text: XML escapes, Excel's ``_xHHHH_`` for control characters."""
    if "_x" in s:
        s = _LITERAL_ESCAPE.sub(r"_x005F\1", s)
    s = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    s = _NOT_XML.sub("\ufffd", s)
    return _ESCAPES.sub(lambda m: _ENTITY[m.group()], s)


def _attr(s: str) -> str:
    return _text(s).replace('"', "&quot;")


def column_width(chars: float) -> float:
    """The stored width of a column ``chars`` characters wide, as Excel (and xlsxwriter)
    store it: padded by 5 pixels, in 1/256 of the width of a digit (7 pixels)."""
    if chars <= 0:
        return 0.0
    pixels = int(chars * 12 + 0.5) if chars < 1 else int(chars * 7 + 0.5) + 5
    return int(pixels / 7 * 256) / 256


_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def valid_sheet_name(name: str) -> bool:
    r"""A name Excel accepts for a sheet: 1–31 characters, none of ``[]:*?/\``, no ``'`` at either end."""
    return 0 < len(name) <= 31 and not _BAD_SHEET_CHARS.search(name) and name[0] != "'" and name[-1] != "'"


def sheet_name(text: str, taken: set[str]) -> str:
    """``text`` made a valid sheet name not in ``taken`` (compared as Excel does, ignoring case)."""
    base = _BAD_SHEET_CHARS.sub("_", text).strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f"（{n}）"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


@dataclass
class _Sheet:
    name: str
    xml: Packed
    last_col: int
    last_row: int
    repeat_columns: int


@dataclass
class TableBook:
    """Sheets added one by one (``add_sheet``), then ``to_bytes``."""

    title: str = ""
    author: str = ""
    font: str = "宋体"
    size: int = 10
    header_fill: str = "DDEBF7"
    bool_labels: tuple[str, str] = ("是", "否")
    _sheets: list[_Sheet] = field(default_factory=list)
    _strings: dict[str, int] = field(default_factory=dict)
    _formats: dict[str, int] = field(default_factory=dict)  # number format → xf index

    def style(self, number_format: str | None) -> int:
        """The cell style (xf index) of numbers in ``number_format`` (None: general)."""
        if not number_format or number_format == "General":
            return _TEXT
        xf = self._formats.get(number_format)
        if xf is None:
            xf = self._formats[number_format] = 3 + len(self._formats)
        return xf

    def add_sheet(
        self,
        name: str,
        labels: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        widths: Sequence[float] = (),
        number_formats: Sequence[str | None] = (),
        value_labels: dict[int, dict[Any, str]] | None = None,
        freeze_columns: int = 0,
        print_title: str = "",
        key_columns: int = 0,
        row_count: int,
    ) -> None:
        """A sheet: the header row ``labels``, then ``row_count`` rows (cells left to right;
        None, "" and missing markers such as NaN stay empty).

        ``number_formats``: per column, the format of its numbers; ``value_labels``: per
        column, the label shown for a coded value; ``freeze_columns``: columns kept in view
        beside the frozen header row; ``key_columns``: columns repeated on every page when the
        sheet is too wide to print on one; ``print_title``: the page header.
        """
        if not valid_sheet_name(name) or name.casefold() in {s.name.casefold() for s in self._sheets}:
            raise ValueError(f"sheet name {name!r} is not allowed or already taken")
        ncols = len(labels)
        if not 0 < ncols <= MAX_COL or row_count + 1 > MAX_ROW:
            raise ValueError(f"sheet {name!r}: {ncols} columns, {row_count} rows do not fit a worksheet")
        letters = [col_letters(c + 1) for c in range(ncols)]
        styles = [self.style(number_formats[c] if c < len(number_formats) else None) for c in range(ncols)]
        date_style = self.style(DATE_FORMAT)
        width_sum = sum(widths)
        plan = print_plan(print_title or name, width=width_sum if widths else None, key_columns=key_columns)
        last_row = max(row_count, 1) + 1
        dim = f"A1:{letters[-1]}{last_row}"

        out = deflate.Deflater()
        parts: list[str] = [XML_HEAD, f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">']
        if not plan.across:
            parts.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        parts.append(f'<dimension ref="{dim}"/>')
        parts.append(self._view(len(self._sheets) == 0, freeze_columns))
        parts.append('<sheetFormatPr defaultRowHeight="15"/>')
        if widths:
            parts.append("<cols>")
            parts.extend(
                f'<col min="{c + 1}" max="{c + 1}" width="{column_width(w)}" customWidth="1"/>'
                for c, w in enumerate(widths)
            )
            parts.append("</cols>")
        parts.append('<sheetData><row r="1" ht="30" customHeight="1">')
        for c, label in enumerate(labels):
            parts.append(f'<c r="{letters[c]}1" s="{_HEADER}" t="s"><v>{self._string(str(label))}</v></c>')
        parts.append("</row>")

        size = 0
        written = 0
        for written, row in enumerate(rows, start=1):
            if len(row) > ncols:
                raise ValueError(f"sheet {name!r}, row {written}: {len(row)} cells for {ncols} columns")
            chunk = self._row_xml(str(written + 1), row, letters, styles, date_style, value_labels or {})
            parts.append(chunk)
            size += len(chunk)
            if size > FLUSH_AT:
                out.write("".join(parts).encode())
                parts, size = [], 0
        if written != row_count:
            raise ValueError(f"sheet {name!r}: {written} rows given, {row_count} announced")
        parts.append("</sheetData>")
        parts.append(f'<autoFilter ref="{dim}"/>')
        parts.append('<printOptions gridLines="1"/>')
        m = MARGINS
        parts.append(
            f'<pageMargins left="{m["left"]}" right="{m["right"]}" top="{m["top"]}" bottom="{m["bottom"]}" '
            f'header="{HEADER_FOOTER_MARGIN}" footer="{HEADER_FOOTER_MARGIN}"/>'
        )
        fit = ' pageOrder="overThenDown"' if plan.across else ' fitToHeight="0"'
        orientation = "landscape" if plan.landscape else "portrait"
        parts.append(f'<pageSetup paperSize="{A4}"{fit} orientation="{orientation}"/>')
        parts.append(
            f"<headerFooter><oddHeader>{_text(plan.header)}</oddHeader>"
            f"<oddFooter>{_text(plan.footer)}</oddFooter></headerFooter></worksheet>"
        )
        out.write("".join(parts).encode())
        payload = out.finish()
        self._sheets.append(_Sheet(name, Packed(8, out.crc, out.size, payload), ncols, last_row, plan.repeat_columns))

    def _row_xml(
        self,
        rs: str,
        row: Sequence[Any],
        letters: list[str],
        styles: list[int],
        date_style: int,
        coded: dict[int, dict[Any, str]],
    ) -> str:
        """One ``<row>``: text as shared strings, numbers in their column's style, dates as serials."""
        strings = self._strings
        cells = [f'<row r="{rs}">']
        for c, v in enumerate(row):
            if v is None:
                continue
            if c in coded:
                v = coded[c].get(v, v)
            t = type(v)
            if t is str:
                if not v:
                    continue
                if len(v) > MAX_CELL_TEXT:
                    v = v[:MAX_CELL_TEXT]
                idx = strings.get(v)
                if idx is None:
                    idx = strings[v] = len(strings)
                cells.append(f'<c r="{letters[c]}{rs}" s="{_TEXT}" t="s"><v>{idx}</v></c>')
                continue
            if t is bool:
                idx = self._string(self.bool_labels[0] if v else self.bool_labels[1])
                cells.append(f'<c r="{letters[c]}{rs}" s="{_TEXT}" t="s"><v>{idx}</v></c>')
                continue
            if t is float or t is int or t is Decimal or isinstance(v, (int, float, Decimal)):
                f = float(v)
                if math.isfinite(f):
                    cells.append(f'<c r="{letters[c]}{rs}" s="{styles[c]}"><v>{f:.16G}</v></c>')
                elif f == f:  # ±infinity: no number a spreadsheet holds; shown as text (NaN: missing)
                    cells.append(f'<c r="{letters[c]}{rs}" s="{_TEXT}" t="s"><v>{self._string(str(v))}</v></c>')
                continue
            if isinstance(v, date):
                if v == v:  # not NaT
                    cells.append(f'<c r="{letters[c]}{rs}" s="{date_style}"><v>{_serial(v):.16G}</v></c>')
                continue
            try:
                if v != v:  # pandas' NA and other missing markers
                    continue
            except TypeError:
                continue
            text = str(v)[:MAX_CELL_TEXT]
            if text:
                cells.append(f'<c r="{letters[c]}{rs}" s="{_TEXT}" t="s"><v>{self._string(text)}</v></c>')
        cells.append("</row>")
        return "".join(cells)

    def _string(self, s: str) -> int:
        idx = self._strings.get(s)
        if idx is None:
            idx = self._strings[s] = len(self._strings)
        return idx

    @staticmethod
    def _view(selected: bool, freeze_columns: int) -> str:
        tab = ' tabSelected="1"' if selected else ""
        if freeze_columns:
            top = f"{col_letters(freeze_columns + 1)}2"
            first = f"{col_letters(freeze_columns + 1)}1"
            pane = (
                f'<pane xSplit="{freeze_columns}" ySplit="1" topLeftCell="{top}" activePane="bottomRight" '
                'state="frozen"/>'
                f'<selection pane="topRight" activeCell="{first}" sqref="{first}"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/><selection pane="bottomRight"/>'
            )
        else:
            pane = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
        return f'<sheetViews><sheetView{tab} workbookViewId="0">{pane}</sheetView></sheetViews>'

    # --- the package ---------------------------------------------------------------

    def to_bytes(self, created: datetime | None = None) -> bytes:
        """The .xlsx package of the sheets added so far."""
        if not self._sheets:
            raise ValueError("a workbook needs at least one sheet")
        created = created or datetime.now(UTC)
        members = [
            ("[Content_Types].xml", self._content_types()),
            ("_rels/.rels", self._root_rels()),
            ("docProps/app.xml", self._app()),
            ("docProps/core.xml", self._core(created)),
            ("xl/workbook.xml", self._workbook()),
            ("xl/_rels/workbook.xml.rels", self._workbook_rels()),
            ("xl/styles.xml", self._styles()),
            ("xl/sharedStrings.xml", self._shared_strings()),
        ]
        out = [Member(name, FIXED_DATE_TIME, 0, body=xml.encode()) for name, xml in members]
        out += [
            Member(f"xl/worksheets/sheet{i}.xml", FIXED_DATE_TIME, 0, packed=s.xml)
            for i, s in enumerate(self._sheets, start=1)
        ]
        return zip_bytes(out)

    def _content_types(self) -> str:
        ct = "application/vnd.openxmlformats-officedocument"
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ct}.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(self._sheets) + 1)
        )
        return (
            f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{ct}.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.spreadsheetml.sheet.main+xml"/>'
            f"{sheets}"
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        )

    @staticmethod
    def _root_rels() -> str:
        kind = "http://schemas.openxmlformats.org"
        return (
            f'{XML_HEAD}<Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Type="{kind}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{kind}/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{kind}/officeDocument/2006/relationships/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'
        )

    def _app(self) -> str:
        names = "".join(f"<vt:lpstr>{_text(s.name)}</vt:lpstr>" for s in self._sheets)
        n = len(self._sheets)
        return (
            f'{XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
            '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
            f"</vt:variant><vt:variant><vt:i4>{n}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
            f'<TitlesOfParts><vt:vector size="{n}" baseType="lpstr">{names}</vt:vector></TitlesOfParts>'
            "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
            "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>"
        )

    def _core(self, created: datetime) -> str:
        when = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"{XML_HEAD}<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{_text(self.title)}</dc:title><dc:creator>{_text(self.author)}</dc:creator>"
            f"<cp:lastModifiedBy>{_text(self.author)}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified></cp:coreProperties>'
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f'<sheet name="{_attr(s.name)}" sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(self._sheets, start=1)
        )
        names = []
        for i, s in enumerate(self._sheets):
            q = _quoted(s.name)
            last = col_letters(s.last_col)
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                f"{_text(q)}!$A$1:${last}${s.last_row}</definedName>"
            )
        for i, s in enumerate(self._sheets):
            q = _text(_quoted(s.name))
            cols = f"{q}!$A:${col_letters(s.repeat_columns)}," if s.repeat_columns else ""
            names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{cols}{q}!$1:$1</definedName>')
        return (
            f'{XML_HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr/>'
            '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
            f"<sheets>{sheets}</sheets><definedNames>{''.join(names)}</definedNames>"
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )

    def _workbook_rels(self) -> str:
        kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        n = len(self._sheets)
        rels = [
            f'<Relationship Id="rId{i}" Type="{kind}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        ]
        rels.append(f'<Relationship Id="rId{n + 1}" Type="{kind}/styles" Target="styles.xml"/>')
        rels.append(f'<Relationship Id="rId{n + 2}" Type="{kind}/sharedStrings" Target="sharedStrings.xml"/>')
        return f'{XML_HEAD}<Relationships xmlns="{PKG_REL}">{"".join(rels)}</Relationships>'

    def _styles(self) -> str:
        formats = list(self._formats.items())  # in xf order
        num_fmts = "".join(
            f'<numFmt numFmtId="{164 + i}" formatCode="{_attr(code)}"/>' for i, (code, _xf) in enumerate(formats)
        )
        font = f'<sz val="{self.size}"/><name val="{_attr(self.font)}"/><family val="2"/><charset val="134"/>'
        xfs = [
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
            '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
            'applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>',
            '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
        ]
        xfs += [
            f'<xf numFmtId="{164 + i}" fontId="2" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
            for i in range(len(formats))
        ]
        thin = '<left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
        thin += '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom>'
        return (
            f'{XML_HEAD}<styleSheet xmlns="{MAIN}">'
            + (f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>' if formats else "")
            + '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            f"<font><b/>{font}</font><font>{font}</font></fonts>"
            '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
            f'</fill><fill><patternFill patternType="solid"><fgColor rgb="FF{self.header_fill}"/><bgColor indexed="64"/>'
            "</patternFill></fill></fills>"
            f'<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border>{thin}<diagonal/>'
            "</border></borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
            'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
        )

    def _shared_strings(self) -> str:
        items = []
        for s in self._strings:  # insertion order = index order
            space = ' xml:space="preserve"' if s[:1].isspace() or s[-1:].isspace() else ""
            items.append(f"<si><t{space}>{_text(s)}</t></si>")
        n = len(items)
        return f'{XML_HEAD}<sst xmlns="{MAIN}" uniqueCount="{n}">{"".join(items)}</sst>'


def _serial(d: date) -> float:
    """Excel's serial number of a date (a datetime keeps its time of day; its zone is dropped)."""
    days = d.toordinal() - _EPOCH
    if isinstance(d, datetime):
        return days + (d.hour * 3600 + d.minute * 60 + d.second + d.microsecond / 1e6) / 86400
    return float(days)
