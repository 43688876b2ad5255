"""The sheet-XML scan (reading/sheetscan.py), the percent-format test (numformats.py) and
the readable copy for calamine (sanitize.py): what each finds in the shapes writers use,
and linear time on hostile text."""

from __future__ import annotations

import time
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from xlproc.reading.numbers import parse_date, parse_number, snap
from xlproc.reading.numformats import is_percent_code, percent_styles
from xlproc.reading.sanitize import clean_error_codes, clean_text_part
from xlproc.reading.sheetscan import scan_sheet

HEAD = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def sheet(rows: bytes, prefix: bytes = b"") -> bytes:
    p = prefix
    return HEAD + b"<" + p + b"sheetData>" + rows + b"</" + p + b"sheetData></worksheet>"


def test_formulas_errors_and_styles_as_excel_writes_them():
    xml = sheet(
        b'<row r="3"><c r="A3" s="2" t="s"><v>0</v></c><c r="B3" s="5"><f>SUM(B1:B2)</f><v>3</v></c>'
        b'<c r="C3" s="5"><f t="shared" si="0"/><v>4</v></c><c r="D3" s="9" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        b'<c r="E3" t="e"><v>#SPILL!</v></c><c r="F3" s="9"><v>0.986</v></c><c r="G3" s="12"/></row>'
        b'<row r="4" s="9"><c r="A4"><f>A1&amp;"&lt;x&gt;"</f><v>a</v></c></row>'
    )
    scan = scan_sheet(xml, frozenset({9}))
    assert scan.formulas == {"B3": "SUM(B1:B2)", "C3": "", "D3": "1/0", "A4": 'A1&"<x>"'}
    assert scan.errors == {"D3": "#DIV/0!", "E3": "#SPILL!"}
    assert scan.styles == {"D3": 9, "F3": 9}  # the row's s="9" is not a cell's


def test_prefixed_elements_and_attribute_order():
    xml = sheet(
        b'<x:row r="2"><x:c s="3" r="B2"><x:f>1+1</x:f><x:v>2</x:v></x:c>'
        b"<x:c t='e' r='C2'><x:v>#N/A</x:v></x:c></x:row>",
        prefix=b"x:",
    )
    scan = scan_sheet(xml, frozenset({3}))
    assert scan.formulas == {"B2": "1+1"}
    assert scan.errors == {"C2": "#N/A"}
    assert scan.styles == {"B2": 3}


def test_cells_without_references_are_counted():
    xml = sheet(
        b'<row r="5"><c><v>1</v></c><c s="4"><f>A5*2</f><v>2</v></c><c t="e"><v>#REF!</v></c></row><row><c/></row>'
    )
    scan = scan_sheet(xml, frozenset({4}))
    assert scan.formulas == {"B5": "A5*2"}
    assert scan.errors == {"C5": "#REF!"}
    assert scan.styles == {"B5": 4}


def test_formula_like_text_outside_cells_is_not_a_formula():
    xml = sheet(b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lt;f&gt;SUM()</t></is></c></row>')
    xml += b"<conditionalFormatting><cfRule><formula>A1&gt;0</formula></cfRule></conditionalFormatting>"
    assert scan_sheet(xml).formulas == {}


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([b'<c r="A1" t="e" ', b"<f ", b"<c ", b't="e"', b"<x:c"]))
def test_scan_is_linear_on_hostile_text(noise, unit):
    """Repeated fragments that would make a backtracking pattern quadratic: bounded time."""
    xml = sheet(noise + unit * 20000 + noise)
    start = time.perf_counter()
    scan_sheet(xml, frozenset({1, 2, 3}))
    assert time.perf_counter() - start < 2.0


def test_percent_codes():
    assert is_percent_code("0.00%") and is_percent_code("#,##0%;[Red]-0%")
    assert not is_percent_code('0.00"%"') and not is_percent_code("0.00\\%") and not is_percent_code("[$%-409]0.00")
    styles = (
        b'<styleSheet><numFmts><numFmt numFmtId="164" formatCode="0.0%"/><numFmt numFmtId="165" formatCode="0.00"/>'
        b'</numFmts><cellStyleXfs><xf numFmtId="9"/></cellStyleXfs><cellXfs><xf numFmtId="0"/><xf numFmtId="10"/>'
        b'<xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="9"/></cellXfs></styleSheet>'
    )
    assert percent_styles(styles) == frozenset({1, 2, 4})


def test_readable_copy_of_bad_references_bytes_and_codes():
    assert clean_text_part(b"<t>a&#xD800;b&#0;c&#x41;&#99999999999999999999;\x01</t>") == (
        b"<t>a&#xFFFD;b&#xFFFD;c&#x41;&#xFFFD;\xef\xbf\xbd</t>"
    )
    xml = sheet(b'<c r="A1" t="e"><v>#SPILL!</v></c><c r="A2" t="e"><v>#N/A</v></c><c r="A3" t="s"><v>#SPILL!</v></c>')
    assert clean_error_codes(xml) == xml.replace(b'#SPILL!</v></c><c r="A2"', b'#N/A</v></c><c r="A2"', 1)


def test_noise_and_limits():
    assert snap(Decimal("1182.3999999999999"), 2) == Decimal("1182.4")
    assert parse_number(1182.3999999999999, "money", "万元", 2) == (Decimal("1182.4"), "")
    assert parse_number(0.986, "percent", "%", 2, percent_format=True)[0] == Decimal("98.6")
    assert parse_number(0.986, "money", "万元", 2, percent_format=True)[0] == Decimal("0.986")
    assert parse_number(1e308, "money", "万元", 2)[0] is None
    assert parse_number(float("nan"), "count", "人", 0)[1] == "单元格内容不是有效数字（无穷大或非数值）"
    assert parse_number("1" * 41, "money", "万元", 2)[0] is None


def test_dates_outside_the_form_are_problems():
    from datetime import date, datetime

    assert parse_date(datetime(2024, 1, 15, 0, 0)) == (date(2024, 1, 15), "")
    assert parse_date(datetime(1899, 12, 30))[0] is None  # NaN or 0 in a date cell, as calamine reads it
    assert parse_date("0001-01-01")[0] is None
    assert parse_date("2023年12月31日") == (date(2023, 12, 31), "")
