"""Cells mean what Excel shows, in files another office suite wrote (issue 10.6, reader
part): percent formats, ``=1182.3+0.1``-style formulas, error values computed by a
formula, typed-over template formulas — written with openpyxl, then re-saved by
LibreOffice (which computes and stores every formula's result, as Excel and WPS do)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xlproc.reading.workbook import read_workbook
from xlproc.rules import run_checks

pytestmark = pytest.mark.libreoffice

BASE = {
    "dept_name": "某区统计局",
    "staff_quota": 12,
    "staff_actual": 11,
    "budget_income_general": Decimal("300.25"),
    "sanbao_wage_plan": Decimal("141.92"),
    "sanbao_operation_plan": Decimal("93.42"),
    "final_exp_201_amount": Decimal("87.40"),
    "final_exp_208_amount": Decimal("12.60"),
}


def findings(sub) -> list[tuple[str, str, str, str]]:
    return [(f.rule_id, f.sheet, f.cell, f.message) for f in run_checks(sub).findings]


def _edit(src: Path, out: Path, edits: dict[str, tuple[object, str | None]]) -> Path:
    """field id → (value, number format or None), written with openpyxl."""
    where = read_workbook(src)
    wb = openpyxl.load_workbook(src)
    for fid, (value, number_format) in edits.items():
        fv = where[fid]
        cell = wb[fv.sheet][fv.cell]
        cell.value = value
        if number_format:
            cell.number_format = number_format
    wb.save(out)
    return out


def test_percent_cells_resaved_by_libreoffice(make_workbook, lo_resave, tmp_path):
    src = make_workbook(BASE)
    percent = {
        "spending_progress": (0.986, "0.00%"),
        "final_exp_201_share": (0.874, "0.00%"),
        "final_exp_208_share": (0.126, "0%"),
        "declared_debt_ratio": (0.0332, "0.00%"),
    }
    plain = {k: (round(v * 100, 2), None) for k, (v, _f) in percent.items()}
    shown = lo_resave(_edit(src, tmp_path / "percent.xlsx", percent))
    typed = lo_resave(_edit(src, tmp_path / "plain.xlsx", plain))
    sub = read_workbook(shown)
    assert [sub.value(k) for k in percent] == [Decimal("98.6"), Decimal("87.4"), Decimal("12.6"), Decimal("3.32")]
    assert findings(sub) == findings(read_workbook(typed))  # nothing false


def test_department_formulas_resaved_by_libreoffice(make_workbook, lo_resave, tmp_path):
    src = make_workbook(BASE)
    edited = _edit(
        src,
        tmp_path / "formulas.xlsx",
        {
            "budget_income_general": ("=1182.3+0.1", None),
            "staff_actual": ("=1/0", None),  # required
            "declared_debt_ratio": ("=NA()", None),  # optional
            "declared_cash_ratio": ('="a"+1', None),  # optional
        },
    )
    # openpyxl stores formulas without results: the reader does not invent them
    before = read_workbook(edited)
    assert before.value("budget_income_general") is None
    assert before["budget_income_general"].problem == (
        "单元格中的公式（=1182.3+0.1）没有保存计算结果（文件未经 Excel 或 WPS 重新计算），请打开后保存，或直接填写"
    )
    sub = read_workbook(lo_resave(edited))
    general = sub["budget_income_general"]
    assert general.value == Decimal("1182.4")
    got = [f for f in findings(sub) if f[0] in ("parse.cell", "formula.own_input", "format.decimals", "required")]
    ids = ("budget_income_general", "staff_actual", "declared_debt_ratio", "declared_cash_ratio")
    mine = {(sub[fid].sheet, sub[fid].cell) for fid in ids}
    assert sorted(f for f in got if (f[1], f[2]) in mine) == sorted(
        [
            (
                "formula.own_input",
                "收支预算",
                general.cell,
                "“预算一般公共预算拨款”中是部门自设的公式（=1182.3+0.1），按文件保存的计算结果 1182.40 读取，"
                "审核不重新计算该公式。请确认结果无误，或直接填写数字",
            ),
            (
                "parse.cell",
                "基本情况",
                sub["staff_actual"].cell,
                "实有在编人数：单元格显示错误值 #DIV/0!（公式中除数为零），不是有效数据。请修正公式，或直接填写数字",
            ),
            (
                "parse.cell",
                "财务报告",
                sub["declared_debt_ratio"].cell,
                "资产负债率（财务报告数）：单元格显示错误值 #N/A（公式查找不到所需的值），不是有效数据。"
                "请修正公式，或直接填写数字",
            ),
            (
                "parse.cell",
                "财务报告",
                sub["declared_cash_ratio"].cell,
                "现金比率（财务报告数）：单元格显示错误值 #VALUE!（公式中参与计算的数据类型不对），不是有效数据。"
                "请修正公式，或直接填写数字",
            ),
        ]
    )


def test_typed_over_formula_resaved_by_libreoffice(make_workbook, lo_resave, tmp_path):
    src = make_workbook(BASE)
    clean = read_workbook(lo_resave(src))
    # LibreOffice keeps every template formula: nothing is reported on a clean re-save
    assert {fv.formula for fv in clean.fields.values() if fv.computed} == {"kept"}
    assert not [f for f in findings(clean) if f[0].startswith("formula.")]
    edited = _edit(src, tmp_path / "typed.xlsx", {"sanbao_total_plan": (300, None)})
    sub = read_workbook(lo_resave(edited))
    cell = sub["sanbao_total_plan"].cell
    assert [f for f in findings(sub) if f[0].startswith("formula.")] == [
        (
            "formula.typed_over",
            "重大政策落实",
            cell,
            "““三保”支出合计安排资金”应由公式自动计算，公式却被改成了手填的 300.00，按明细计算应为 235.34。"
            "请恢复公式并核对明细",
        )
    ]
