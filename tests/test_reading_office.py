"""A department edits the form in another office suite (LibreOffice through UNO):
inserts rows, adds comments and colours, re-saves. Reading still finds every value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xlproc.reading.workbook import read_workbook
from xlproc.rules import run_checks

pytestmark = pytest.mark.libreoffice

VALUES = {
    "dept_name": "某区统计局",
    "staff_quota": 12,
    "staff_actual": 11,
    "budget_income_general": Decimal("300.25"),
    "budget_income_total": Decimal("300.25"),
    "sanbao_wage_plan": Decimal("141.92"),
    "nontax_plan": Decimal("0.0100"),
}
TABLES = {
    "nontax": [{"item": "利息收入", "plan": Decimal("0.01"), "actual": Decimal("0.0044")}],
    "projects": [
        {"name": "甲项目", "amount": Decimal("10.5"), "pre_eval": "是", "midyear": "≥50%", "yearend": "是"},
        {"name": "乙项目", "amount": Decimal("2.25"), "pre_eval": "否", "midyear": "<30%", "yearend": "否"},
    ],
}


def test_inserted_rows_comments_and_colours(make_workbook, lo_edit):
    src = make_workbook(VALUES, TABLES)
    before = read_workbook(src)
    edited = lo_edit(
        src,
        [
            {"op": "insert_rows", "sheet": "基本情况", "row": 5, "count": 2},
            {"op": "set", "sheet": "基本情况", "cell": "A5", "value": "（部门自己插入的说明行）"},
            {"op": "insert_rows", "sheet": "收支预算", "row": 5, "count": 1},
            # inside the project register: the register grows, counts follow
            {"op": "insert_rows", "sheet": "项目台账", "row": 7, "count": 1},
            {"op": "set", "sheet": "项目台账", "cell": "B7", "value": "插入的丙项目"},
            {"op": "set", "sheet": "项目台账", "cell": "C7", "value": 4},
            {"op": "set", "sheet": "项目台账", "cell": "F7", "value": "是"},
            {"op": "comment", "sheet": "基本情况", "cell": "B4", "text": "部门批注：名称以批复为准"},
            {"op": "colour", "sheet": "基本情况", "cell": "B14", "rgb": "FFFF00"},
        ],
    )
    sub = read_workbook(edited)
    assert sub.value("dept_name") == "某区统计局"
    assert (sub["staff_quota"].cell, sub.value("staff_quota")) == ("B14", 12)  # was B12
    assert (sub["budget_income_general"].cell, sub.value("budget_income_general")) == ("B6", Decimal("300.25"))
    assert sub.value("budget_income_total") == Decimal("300.25")
    assert sub.value("sanbao_wage_plan") == Decimal("141.92")
    names = [r["name"] for r in sub.tables["projects"].rows]
    assert names == ["甲项目", "插入的丙项目", "乙项目"]
    assert sub.value("project_count") == 3
    assert sub.value("achieved_count") == 2 and sub.value("achieved_amount") == Decimal("14.5")
    assert sub.tables["nontax"].rows[0]["actual"] == Decimal("0.0044")
    assert not sub.problems
    # every field not touched by the edits reads the same as before
    changed = {
        "project_count",
        "achieved_count",
        "achieved_amount",
        "pre_eval_count",
        "monitored_count",
        "monitor_ge50_count",
        "monitor_lt30_count",
        "not_achieved_amount",
        "not_achieved_count",
    }
    for fid, fv in before.fields.items():
        if fid not in changed:
            assert sub.value(fid) == fv.value, fid


def test_plain_libreoffice_resave_reads_the_same(make_workbook, lo_resave):
    src = make_workbook(VALUES, TABLES)
    a, b = read_workbook(src).to_dict(), read_workbook(lo_resave(src)).to_dict()
    a.pop("source"), b.pop("source")
    assert a == b


def test_rows_added_below_a_table_are_reported_not_lost(make_workbook, lo_edit):
    src = make_workbook(VALUES, TABLES)
    # 非税收入 occupies rows 22-26; the department inserts a row under it and types there
    edited = lo_edit(
        src,
        [
            {"op": "insert_rows", "sheet": "重大政策落实", "row": 27, "count": 1},
            {"op": "set", "sheet": "重大政策落实", "cell": "B27", "value": "房租收入"},
            {"op": "set", "sheet": "重大政策落实", "cell": "C27", "value": 1.5},
        ],
    )
    sub = read_workbook(edited)
    assert [r["item"] for r in sub.tables["nontax"].rows] == ["利息收入"]
    [p] = sub.problems
    assert (p.sheet, p.cell, p.raw, p.field_id) == ("重大政策落实", "B27", "房租收入", "nontax")
    assert "表格范围之外" in p.message
    # the next block (fields under the table) is not mistaken for table rows
    assert sub.value("nontax_plan_total") == Decimal("0.01")
    # and the checks report it where the department typed it
    assert ("parse.cell", "B27") in run_checks(sub).flatten()
