"""Cells mean what Excel shows (issue 10.3, 10.2, 12.3): percent formats, binary noise,
error values, typed-over and own formulas, unreadable inputs, unrepresentable text and
numbers. Workbooks are the project's own template, with cells stored exactly as Excel
or WPS stores them (tests/cell_xml.py) or written by openpyxl."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from cell_xml import put_cells

from xlproc.form.packs import find_pack
from xlproc.pipeline import key_figures
from xlproc.reading.workbook import read_workbook
from xlproc.report import build_context
from xlproc.rules import run_checks

ERRORS = {
    "#DIV/0!": "公式中除数为零",
    "#N/A": "公式查找不到所需的值",
    "#VALUE!": "公式中参与计算的数据类型不对",
    "#REF!": "公式引用的单元格已被删除",
    "#NUM!": "公式的数值无效或超出范围",
    "#NAME?": "公式中有无法识别的函数或名称",
    "#NULL!": "公式引用的区域没有交集",
    "#GETTING_DATA": "数据尚未取得",
    "#SPILL!": "动态数组公式的结果区域被占用",
    "#CALC!": "公式无法计算",
}
BASE = {
    "dept_name": "某区统计局",
    "staff_quota": 12,
    "staff_actual": 11,
    "budget_income_general": Decimal("300.25"),
    "sanbao_wage_plan": Decimal("141.92"),
    "sanbao_operation_plan": Decimal("93.42"),
}
PROJECTS = [
    {"name": "甲项目", "amount": Decimal("10.5"), "pre_eval": "是", "midyear": "≥50%", "yearend": "是"},
    {"name": "乙项目", "amount": Decimal("2.25"), "pre_eval": "否", "midyear": "<30%", "yearend": "否"},
]


def findings(sub) -> list[tuple[str, str, str, str]]:
    return [(f.rule_id, f.sheet, f.cell, f.message) for f in run_checks(sub).findings]


def at(sub, cell_rule: tuple[str, str]) -> list[str]:
    return [m for r, _s, c, m in findings(sub) if (r, c) == cell_rule]


def cell_of(path: Path, field: str) -> tuple[str, str]:
    fv = read_workbook(path)[field]
    return fv.sheet, fv.cell


# -- percent formats ------------------------------------------------------------------


def _percent_workbook(make_workbook, tmp_path: Path, as_percent: bool) -> Path:
    """98.6 typed the Excel way (0.986 shown 98.60%) or as a plain 98.6; shares likewise."""
    src = make_workbook({**BASE, "final_exp_201_amount": Decimal("87.40"), "final_exp_208_amount": Decimal("12.60")})
    wb = openpyxl.load_workbook(src)
    subs = read_workbook(src)
    for fid, value in (
        ("spending_progress", Decimal("98.6")),
        ("final_exp_201_share", Decimal("87.4")),
        ("final_exp_208_share", Decimal("12.6")),
        ("declared_debt_ratio", Decimal("3.32")),
    ):
        fv = subs[fid]
        cell = wb[fv.sheet][fv.cell]
        cell.value = float(value / 100) if as_percent else float(value)
        if as_percent:
            cell.number_format = "0.00%"
    out = tmp_path / ("percent.xlsx" if as_percent else "plain.xlsx")
    wb.save(out)
    return out


def test_percent_formatted_cells_read_as_shown(make_workbook, tmp_path):
    shown = _percent_workbook(make_workbook, tmp_path, as_percent=True)
    plain = _percent_workbook(make_workbook, tmp_path, as_percent=False)
    sub = read_workbook(shown)
    assert sub.value("spending_progress") == Decimal("98.6")
    assert sub.value("final_exp_201_share") == Decimal("87.4")
    assert sub.value("final_exp_208_share") == Decimal("12.6")
    assert sub.value("declared_debt_ratio") == Decimal("3.32")
    # nothing false: the same findings as the figures typed without the percent sign
    assert findings(sub) == findings(read_workbook(plain))
    assert not [f for f in findings(sub) if "spending_progress" in f[3] or "占比" in f[3]]


def test_percent_style_of_a_money_cell_is_not_scaled(make_workbook, tmp_path):
    src = make_workbook(BASE)
    wb = openpyxl.load_workbook(src)
    sheet, cell = cell_of(src, "budget_income_general")
    wb[sheet][cell].number_format = "0.00%"
    wb.save(tmp_path / "m.xlsx")
    assert read_workbook(tmp_path / "m.xlsx").value("budget_income_general") == Decimal("300.25")


# -- binary noise ---------------------------------------------------------------------


def test_binary_noise_is_the_typed_number(make_workbook, tmp_path):
    src = make_workbook(BASE)
    sub0 = read_workbook(src)
    general = sub0["budget_income_general"]
    other = sub0["budget_income_other"]
    dst = put_cells(
        src,
        tmp_path / "noise.xlsx",
        {
            general.sheet: {
                general.cell: "|<f>1182.3+0.1</f><v>1182.3999999999999</v>",
                other.cell: "|<v>0.30000000000000004</v>",  # 0.1+0.2 pasted as a value
            }
        },
    )
    sub = read_workbook(dst)
    assert sub.value("budget_income_general") == Decimal("1182.4")
    assert sub.value("budget_income_other") == Decimal("0.3")
    assert not [f for f in findings(sub) if f[0] == "format.decimals"]
    # the department's own formula is read by its saved result, and the finding says so
    assert at(sub, ("formula.own_input", general.cell)) == [
        "“预算一般公共预算拨款”中是部门自设的公式（=1182.3+0.1），按文件保存的计算结果 1182.40 读取，"
        "审核不重新计算该公式。请确认结果无误，或直接填写数字"
    ]
    assert [(c.cell, c.formula, c.value) for c in sub.formulas] == [(general.cell, "1182.3+0.1", Decimal("1182.4"))]


def test_a_real_third_decimal_is_kept(make_workbook):
    sub = read_workbook(make_workbook({**BASE, "budget_income_general": 1182.123}))
    assert sub.value("budget_income_general") == Decimal("1182.123")
    assert [f[0] for f in findings(sub)].count("format.decimals") == 1


# -- error values ---------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_error_value_in_required_and_optional_cells(make_workbook, tmp_path, code):
    src = make_workbook(BASE, {"projects": PROJECTS})
    sub0 = read_workbook(src)
    required = sub0["staff_actual"]  # a required count
    optional = sub0["declared_debt_ratio"]  # an optional percent
    text = sub0["finance_note"]  # an optional text
    amount_cell = sub0.tables["projects"].cell(sub0.tables["projects"].rows[1]["row"], "amount")
    edits = {
        required.sheet: {required.cell: f"e|<f>A1/0</f><v>{code}</v>"},
        optional.sheet: {optional.cell: f"e|<v>{code}</v>", text.cell: f"e|<f>VLOOKUP(1,A:A,2)</f><v>{code}</v>"},
        "项目台账": {amount_cell: f"e|<v>{code}</v>"},
    }
    sub = read_workbook(put_cells(src, tmp_path / "err.xlsx", edits))
    meaning = ERRORS[code]
    number = f"单元格显示错误值 {code}（{meaning}），不是有效数据。请修正公式，或直接填写数字"
    text_msg = f"单元格显示错误值 {code}（{meaning}），不是有效数据。请修正公式，或直接填写内容"
    mine = {
        (required.sheet, required.cell),
        (optional.sheet, optional.cell),
        (text.sheet, text.cell),
        ("项目台账", amount_cell),
    }
    got = sorted(f for f in findings(sub) if (f[1], f[2]) in mine)
    assert got == sorted(
        [
            ("parse.cell", "基本情况", required.cell, f"实有在编人数：{number}"),
            ("parse.cell", "财务报告", optional.cell, f"资产负债率（财务报告数）：{number}"),
            ("parse.cell", "财务报告", text.cell, f"说明：{text_msg}"),
            ("parse.cell", "项目台账", amount_cell, f"项目台账第{amount_cell[1:]}行金额：{number}"),
        ]
    )
    assert all("未填写" not in m for *_, m in got)  # never "empty"
    assert sub["staff_actual"].value is None and sub["staff_actual"].raw == code
    # the register totals that read the amount column are unknown, never a sum treating it as 0
    assert sub.value("achieved_amount") is None
    assert sub.value("not_achieved_amount") is None
    assert sub.value("project_count") == 2  # the row is there: counting rows does not read amounts
    assert "无法计算" in sub["not_achieved_amount"].problem


# -- unreadable is never 0 ------------------------------------------------------------


def test_uncertain_text_in_a_required_count_and_what_depends_on_it(make_workbook):
    sub = read_workbook(make_workbook({**BASE, "staff_quota": "约10", "sanbao_wage_plan": "约141.92"}))
    assert sub.value("staff_quota") is None
    assert [f for f in findings(sub) if f[1:3] == ("基本情况", "B12")] == [
        ("parse.cell", "基本情况", "B12", "编制数：“约10”不是可以确定的数字（是约数），请填写确切数字")
    ]  # one finding: unreadable, not "empty"
    total = sub["sanbao_total_plan"]
    assert total.value is None
    assert total.problem == "无法计算：所依据的单元格无法识别（保工资安排资金 B10）"
    data = json.loads(json.dumps(sub.to_dict(), ensure_ascii=False))
    shown = next(f for f in data["fields"] if f["id"] == "sanbao_total_plan")
    assert shown["value"] is None and shown["problem"].startswith("无法计算")
    assert key_figures(
        sub, find_pack(sub.form_id, sub.form_version)
    )  # the summary's figures build without treating it as 0


# -- typed-over formulas --------------------------------------------------------------


def test_typed_over_totals_and_counts(make_workbook, tmp_path):
    src = make_workbook(BASE, {"projects": PROJECTS})
    sub0 = read_workbook(src)
    plan, actual, count = sub0["sanbao_total_plan"], sub0["sanbao_total_actual"], sub0["project_count"]
    achieved = sub0["achieved_count"]
    assert {sub0[f].formula for f in ("sanbao_total_plan", "project_count", "debt_ratio")} == {"kept"}
    edits = {
        plan.sheet: {plan.cell: "|<v>300</v>", actual.cell: "|"},
        count.sheet: {count.cell: "|<v>2</v>", achieved.cell: "inlineStr|<is><t>见附表</t></is>"},
    }
    sub = read_workbook(put_cells(src, tmp_path / "typed.xlsx", edits))
    assert (sub["sanbao_total_plan"].formula, sub["sanbao_total_plan"].typed) == ("typed", Decimal("300"))
    assert sub["sanbao_total_actual"].formula == "cleared"
    assert sub.value("sanbao_total_plan") == Decimal("235.34")  # still recomputed from the inputs
    got = sorted((r, s, c, m) for r, s, c, m in findings(sub) if r.startswith("formula."))
    assert got == [
        (
            "formula.removed",
            "重大政策落实",
            actual.cell,
            "““三保”支出合计实际支出”的自动计算公式已被删除（单元格为空），按明细计算应为 0.00。请恢复公式",
        ),
        (
            "formula.removed",
            "项目台账",
            count.cell,
            "“项目数”应由公式自动计算，公式却被改成了手填的 2（与按明细计算的结果一致）。"
            "明细变动后该数不会随之更新，请恢复公式",
        ),
        (
            "formula.typed_over",
            "重大政策落实",
            plan.cell,
            "““三保”支出合计安排资金”应由公式自动计算，公式却被改成了手填的 300.00，按明细计算应为 235.34。"
            "请恢复公式并核对明细",
        ),
        (
            "formula.typed_over",
            "项目台账",
            achieved.cell,
            "“年末实现绩效目标项目数”应由公式自动计算，公式却被改成了手填的 “见附表”，按明细计算应为 1。"
            "请恢复公式并核对明细",
        ),
    ]


# -- unrepresentable text and numbers -------------------------------------------------


def test_unrepresentable_numbers_are_cell_problems(make_workbook, tmp_path):
    src = make_workbook(BASE)
    sub0 = read_workbook(src)
    cells = {
        "budget_income_general": "|<v>1E+308</v>",
        "budget_income_other": "|<v>1234567890123456789012345678901234567890</v>",
        "budget_income_total": "inlineStr|<is><t>1234567890123456789012345678901234567890</t></is>",
    }
    finance = {"assets_total": "|<v>NaN</v>", "cash": "|<v>INF</v>", "liabilities_total": "|<v>-1E+400</v>"}
    edits = {
        "收支预算": {sub0[f].cell: x for f, x in cells.items()},
        "财务报告": {sub0[f].cell: x for f, x in finance.items()},
    }
    sub = read_workbook(put_cells(src, tmp_path / "big.xlsx", edits))
    for fid in (*cells, *finance):
        assert sub.value(fid) is None, fid
        assert sub[fid].problem, fid
    assert (
        sub["budget_income_general"].problem == "“1.000000E+308”超出合理范围（绝对值应小于100亿万元），请核对数字和单位"
    )
    assert sub["assets_total"].problem == "单元格内容不是有效数字（无穷大或非数值）"
    # nothing downstream raises on them: findings, JSON, the report's context, the summary figures
    report = run_checks(sub)
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    json.dumps(sub.to_dict(), ensure_ascii=False).encode("utf-8")
    build_context(sub, report)
    key_figures(sub, find_pack(sub.form_id, sub.form_version))


def test_unrepresentable_text_is_a_cell_problem(make_workbook, tmp_path):
    src = make_workbook({**BASE, "dept_name": "某区统计局甲"})
    sub0 = read_workbook(src)
    notes = {
        "finance_note": "inlineStr|<is><t>第一段&#xD800;第二段</t></is>",
        "procurement_note": "inlineStr|<is><t>含&#0;零字符</t></is>",
    }
    edits = {
        "财务报告": {sub0["finance_note"].cell: notes["finance_note"]},
        "政府采购": {sub0["procurement_note"].cell: notes["procurement_note"]},
        "预算执行": {sub0["execution_note"].cell: "inlineStr|<is><t>第一行_x000B_第二行</t></is>"},
        "基本情况": {sub0["filler"].cell: "inlineStr|<is><t>张_x0001_三</t></is>"},
    }
    replace = {"xl/sharedStrings.xml": ("某区统计局甲", "某区&#x110000;统计局")}
    sub = read_workbook(put_cells(src, tmp_path / "text.xlsx", edits, replace))
    assert sub["dept_name"].problem == "含有无法识别的字符（文件中的字符编码无效），请删除后重新填写"
    assert sub["finance_note"].problem == "含有无法识别的字符（文件中的字符编码无效），请删除后重新填写"
    assert sub["procurement_note"].problem == "含有无法识别的字符（文件中的字符编码无效），请删除后重新填写"
    assert sub["filler"].problem == "含有不可见的控制字符 U+0001，请删除后重新填写"
    assert sub.value("execution_note") == "第一行\n第二行"  # Word's manual line break: a line break
    assert sub.value("staff_quota") == 12  # the rest of the sheet reads as before
    report = run_checks(sub)
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    json.dumps(sub.to_dict(), ensure_ascii=False).encode("utf-8")
    build_context(sub, report)


def test_invisible_characters_alone_are_blank_and_beside_a_figure_are_ignored(make_workbook, tmp_path):
    """A zero-width space or a BOM copied from a web page or Word: a cell holding only such
    characters is 未填报, never a value nobody can see; beside a figure or a choice they
    are dropped (the clerk sees 300.25 and 是)."""
    src = make_workbook({**BASE, "dept_code": "X01", "org_level": "正科级"})
    sub0 = read_workbook(src)
    assert sub0.value("dept_code") == "X01" and sub0.value("org_level") == "正科级"
    cells = {
        "dept_code": "inlineStr|<is><t>\u200b\u3000\ufeff</t></is>",
        "budget_income_general": "inlineStr|<is><t>\u200b300.25\u2060</t></is>",
        "org_level": "inlineStr|<is><t>\ufeff正科级</t></is>",
        "staff_quota": "inlineStr|<is><t>\u202e</t></is>",
        "fill_date": "inlineStr|<is><t>\ufeff</t></is>",
    }
    edits: dict[str, dict[str, str]] = {}
    for fid, spec in cells.items():
        edits.setdefault(sub0[fid].sheet, {})[sub0[fid].cell] = spec
    sub = read_workbook(put_cells(src, tmp_path / "invisible.xlsx", edits))
    assert sub.value("dept_code") is None and not sub["dept_code"].problem
    assert sub.value("budget_income_general") == Decimal("300.25") and not sub["budget_income_general"].problem
    assert sub.value("org_level") == "正科级" and not sub["org_level"].problem
    assert sub.value("staff_quota") is None and not sub["staff_quota"].problem
    assert sub.value("fill_date") is None and not sub["fill_date"].problem
    context = build_context(sub, run_checks(sub))
    assert "\u200b" not in json.dumps(context, ensure_ascii=False, default=str)
