"""``ooxml.tablebook``: the plain-table workbook writer behind 全区数据.xlsx."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from xlproc.ooxml import tablebook
from xlproc.ooxml.tablebook import TableBook, column_width

CREATED = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def _book(rows, **kw) -> bytes:
    book = TableBook(title="标题 & 测试", author="xlproc")
    labels = kw.pop("labels", ["名称", "金额", "日期", "说明"])
    book.add_sheet("数据", labels, rows, row_count=len(rows), **kw)
    return book.to_bytes(CREATED)


def _cells(data: bytes, sheet: str = "数据") -> list[list]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [[c.value for c in row] for row in wb[sheet].iter_rows()]


def test_values_read_back_as_written_text_stays_text() -> None:
    rows = [
        ['=HYPERLINK("http://x","局")', Decimal("627.60"), date(2024, 3, 1), "  前后有空格 "],
        ["a<b>&c", 12, datetime(2024, 3, 1, 12, 30), True],
        ["控制\x01字符 _x0041_ 原样", -0.5, None, False],
        [None, float("nan"), pd.NaT, pd.NA],
        ["", float("inf"), None, "x" * 40000],
    ]
    data = _book(rows, number_formats=[None, "#,##0.00", None, None])
    back = _cells(data)
    assert back[0] == ["名称", "金额", "日期", "说明"]
    assert back[1] == ['=HYPERLINK("http://x","局")', 627.6, datetime(2024, 3, 1), "  前后有空格 "]
    assert back[2] == ["a<b>&c", 12, datetime(2024, 3, 1, 12, 30), "是"]
    assert back[3][1:] == [-0.5, None, "否"]  # (openpyxl leaves Excel's _xHHHH_ escapes as they are)
    assert back[4] == [None, None, None, None]  # missing markers stay empty
    assert back[5][:2] == [None, "inf"] and back[5][3] == "x" * tablebook.MAX_CELL_TEXT
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["数据"]
    assert ws["A2"].data_type == "s" and ws["B2"].number_format == "#,##0.00" and ws["C2"].number_format == "yyyy-mm-dd"
    assert ws["A1"].font.b and ws["A1"].font.name == "宋体" and ws["B3"].font.sz == 10
    # python-calamine, the reader xlproc itself uses, agrees
    grid = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("数据").to_python()
    assert grid[1][0] == '=HYPERLINK("http://x","局")' and math.isclose(grid[1][1], 627.6)
    assert grid[3][0] == "控制\x01字符 _x0041_ 原样"  # a control character and a literal escape, both kept


def test_a_sheet_larger_than_one_piece_is_deflated_in_pieces(monkeypatch) -> None:
    rows = [[f"部门{i}", i * 1.25, None, f"说明{i % 7}"] for i in range(3000)]
    whole = _cells(_book(rows))
    monkeypatch.setattr(tablebook, "FLUSH_AT", 100)
    assert _cells(_book(rows)) == whole
    assert whole[-1] == ["部门2999", 3748.75, None, "说明3"] and len(whole) == 3001


def test_print_setup_freeze_and_filter() -> None:
    book = TableBook(title="t", author="a")
    wide = [f"列{i}" for i in range(40)]
    book.add_sheet(
        "宽's 表",
        wide,
        [[1] * 40],
        row_count=1,
        widths=[10] * 40,
        freeze_columns=2,
        key_columns=2,
        print_title="全区数据：宽",
    )
    book.add_sheet("窄", ["a", "b"], [["x", 1]], row_count=1, widths=[8, 8], freeze_columns=1)
    wb = openpyxl.load_workbook(io.BytesIO(book.to_bytes(CREATED)))
    w, n = wb["宽's 表"], wb["窄"]
    assert w.page_setup.orientation == "landscape" and w.page_setup.pageOrder == "overThenDown"
    assert w.print_title_cols == "$A:$B" and w.print_title_rows == "$1:$1" and w.freeze_panes == "C2"
    assert w.oddHeader.center.text == "全区数据：宽" and w.auto_filter.ref == "A1:AN2"
    assert n.page_setup.orientation == "portrait" and n.sheet_properties.pageSetUpPr.fitToPage
    assert n.page_setup.fitToHeight == 0 and n.freeze_panes == "B2" and n.print_title_cols is None
    assert math.isclose(n.column_dimensions["A"].width, column_width(8))
    assert wb.properties.title == "t" and wb.properties.creator == "a"


def test_wrong_row_count_and_shapes_are_refused() -> None:
    book = TableBook()
    with pytest.raises(ValueError, match="rows given"):
        book.add_sheet("s", ["a"], [[1], [2]], row_count=1)
    with pytest.raises(ValueError, match="do not fit"):
        book.add_sheet("s", [], [], row_count=0)
    with pytest.raises(ValueError, match="at least one sheet"):
        TableBook().to_bytes()


def test_column_width_as_excel_stores_it() -> None:
    # xlsxwriter's and Excel's padding: 8 characters → 8.7109375, 8.4 → 9.140625
    assert column_width(8) == 8.7109375 and column_width(8.4) == 9.140625 and column_width(0) == 0


def test_package_projection(golden) -> None:
    """The parts of a small book, as text (the sheets' XML included): a change shows in review."""
    data = _book(
        [["示例区司法局", Decimal("1.5"), date(2024, 1, 2), "说明"]], widths=[10, 12, 12, 20], freeze_columns=1
    )
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        parts = {name: z.read(name).decode() for name in z.namelist()}
    golden("tablebook/small.json", parts)


@pytest.mark.libreoffice
def test_libreoffice_resave_keeps_every_value(lo_resave, tmp_path) -> None:
    rows = [["示例区司法局", Decimal("627.60"), date(2024, 3, 1), "=1+1"], ["a<b>&c", 3, None, True]]
    src = tmp_path / "book.xlsx"
    src.write_bytes(_book(rows, number_formats=[None, "#,##0.00", None, None]))
    again = lo_resave(src)
    assert _cells(again.read_bytes()) == _cells(src.read_bytes())


def test_sheet_names_made_valid_and_unique() -> None:
    from xlproc.ooxml.tablebook import sheet_name, valid_sheet_name

    taken = {"字段"}
    long = "表格·" + "很长的表格名称" * 6
    first, second = sheet_name(long, taken), sheet_name(long, taken)
    assert first != second and len(first) == len(second) == 31 and second.endswith("（2）")
    assert sheet_name("收入/支出:[明细]", taken) == "收入_支出__明细_" and sheet_name("字段", taken) == "字段（2）"
    assert all(valid_sheet_name(n) for n in (first, second)) and not valid_sheet_name("a/b")
    book = TableBook()
    book.add_sheet(first, ["a"], [[1]], row_count=1)
    with pytest.raises(ValueError, match="already taken"):
        book.add_sheet(first.upper(), ["a"], [[1]], row_count=1)
    with pytest.raises(ValueError, match="not allowed"):
        book.add_sheet("a/b", ["a"], [[1]], row_count=1)
    with pytest.raises(ValueError, match="cells for"):
        book.add_sheet("c", ["a"], [[1, 2]], row_count=1)


def test_dataset_sheet_names_from_a_pack_with_awkward_table_labels(tmp_path) -> None:
    """Two tables whose labels share their first 31 characters and hold a slash still make
    a workbook: each sheet gets its own valid name."""
    from dataclasses import replace

    import xlproc
    from xlproc.dataset.export import write_dataset

    samples = sorted((__import__("pathlib").Path(__file__).parent.parent / "samples" / "inbox").glob("*.xlsx"))
    ds = xlproc.dataset(samples[:2])
    tables = dict(ds.spec.tables)
    first, second = list(tables)[:2]
    label = "项目/资金" + "很长的说明文字" * 6
    tables[first] = replace(tables[first], label=label)
    tables[second] = replace(tables[second], label=label)
    object.__setattr__(ds, "spec", replace(ds.spec, tables=tables))
    names = ds.sheet_names()
    assert names[first] != names[second] and "/" not in names[first] and len(names[second]) <= 31
    wb = openpyxl.load_workbook(write_dataset(ds, tmp_path / "全区数据.xlsx"))
    assert names[first] in wb.sheetnames and names[second] in wb.sheetnames
