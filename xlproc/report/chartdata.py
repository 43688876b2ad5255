"""The small workbook each native chart carries: its data, for Word's and WPS's "edit data".

A Word chart keeps its figures twice: cached in the chart part (what every office suite
draws) and in an embedded workbook (``word/embeddings/…xlsx``) that Word and WPS open
when a reviewer chooses 编辑数据. The workbook is one sheet, ``Sheet1``: category names
in column A from row 2, one column per series from B with the series name in row 1 —
exactly the ranges the chart part's ``c:f`` formulas name. Strings are inline (no
shared strings part), so only the sheet changes from report to report; the other parts
are compressed once per process.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from ..ooxml.a1 import a1
from ..ooxml.xmltext import escape
from ..ooxml.zipout import FIXED_DATE_TIME, Member, make_entry, zip_bytes

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_FIXED = (
    (
        "[Content_Types].xml",
        _DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    ),
    (
        "_rels/.rels",
        _DECL + f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    ),
    (
        "xl/workbook.xml",
        _DECL + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    ),
    (
        "xl/_rels/workbook.xml.rels",
        _DECL + f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    ),
)


@functools.lru_cache(maxsize=1)
def _fixed_entries() -> tuple[Member, ...]:
    return tuple(make_entry(name, text.encode("utf-8")) for name, text in _FIXED)


def _text(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def chart_workbook(categories: list[str], series: list[tuple[str, list[Decimal]]]) -> bytes:
    """The .xlsx holding a chart's data: categories in A2…, each series' values below its name."""
    header = "".join(_text(a1(1, k + 2), name) for k, (name, _) in enumerate(series))
    rows = [f'<row r="1">{header}</row>']
    for i, category in enumerate(categories):
        r = i + 2
        cells = _text(f"A{r}", category) + "".join(
            f'<c r="{a1(r, k + 2)}"><v>{format(values[i], "f")}</v></c>' for k, (_, values) in enumerate(series)
        )
        rows.append(f'<row r="{r}">{cells}</row>')
    sheet = f'{_DECL}<worksheet xmlns="{_MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
    return zip_bytes([*_fixed_entries(), Member("xl/worksheets/sheet1.xml", FIXED_DATE_TIME, 0, body=sheet.encode())])
