"""The report never says more than the workbook (issue 10, the whole loop on the report side).

Real workbooks written by the project (cells stored as Excel / WPS store them where the
writer cannot: formulas with cached results, error values, percent formats; re-saved by
LibreOffice where marked) are read, checked and rendered; the sentences are asserted
exactly: a blank says 未填报, an unreadable cell 无法识别 (never 0), a percent cell what
Excel shows, binary noise the typed number; a workbook with open findings is a draft.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from cell_xml import put_cells
from typer.testing import CliRunner

from xlproc.cli.app import app
from xlproc.reading.workbook import read_workbook
from xlproc.report import build_context
from xlproc.rules import run_checks

SAMPLES = Path(__file__).parent.parent / "samples"
WANGXINBAN = next((SAMPLES / "inbox").glob("01_*.xlsx"))
runner = CliRunner()
BASE = {"dept_name": "某区统计局", "year": 2023, "staff_quota": 12, "staff_actual": 11}
CLAIMS = ("不存在", "未发生", "足额", "全部", "无违规", "已完成", "相符", "0.00万元", "0个", "0名")


def paragraphs(ctx) -> list[str]:
    return [b["text"] for b in ctx["blocks"] if b["kind"] == "p"]


def sentence(ctx, start: str) -> str:
    return next(p for p in paragraphs(ctx) if p.startswith(start))


def docx_body(path: Path) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in docx.Document(str(path)).paragraphs]


# -- (a) a blank workbook ----------------------------------------------------------------


def test_blank_workbook_gives_a_draft_that_says_unfilled_everywhere(tmp_path):
    blank = tmp_path / "空表.xlsx"
    assert runner.invoke(app, ["template", "-o", str(blank)]).exit_code == 0
    result = runner.invoke(app, ["report", str(blank)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "空表_自评报告_草稿.docx"
    assert out.exists() and "草稿" in result.output
    document = docx.Document(str(out))
    # the mark on every page (the header) and in the properties
    assert document.sections[0].header.paragraphs[0].text == "审核未通过（草稿）"
    assert document.core_properties.content_status == "审核未通过（草稿）"
    body = docx_body(out)
    start = next(i for i, (s, _) in enumerate(body) if s == "Heading 1")
    end = next(i for i, (s, _) in enumerate(body) if s == "落款")
    data = [t for s, t in body[start:end] if s == "Normal" and t.strip()]
    assert data and all(t.endswith("未填报。") for t in data), [t for t in data if not t.endswith("未填报。")]
    assert not [t for _, t in body[:end] for word in CLAIMS if word in t]
    assert "附件：审核情况" in [t for _, t in body]  # the findings come with the draft
    # a final report is refused while mandatory findings are open
    final = runner.invoke(app, ["report", str(blank), "-o", str(tmp_path / "正式.docx"), "--final"])
    assert final.exit_code == 1 and "不能生成正式报告" in final.output
    assert not (tmp_path / "正式.docx").exists()


def test_final_is_refused_for_the_wangxinban_sample(tmp_path):
    src = shutil.copy(WANGXINBAN, tmp_path / "网信办.xlsx")
    result = runner.invoke(app, ["report", str(src), "--final"])
    assert result.exit_code == 1
    assert "强制性问题 2 条" in result.output
    assert list(tmp_path.iterdir()) == [Path(src)]


# -- (b) 约10 in a required count ---------------------------------------------------------


def test_unreadable_count_is_never_zero(make_workbook):
    sub = read_workbook(make_workbook({**BASE, "staff_quota": "约10", "sanbao_wage_plan": "约141.92"}))
    ctx = build_context(sub, run_checks(sub))
    quota = sub["staff_quota"]
    assert sentence(ctx, "编制和在编人员情况") == (
        f"编制和在编人员情况：“编制数”填报内容无法识别（{quota.sheet}!{quota.cell}），待核实。"
    )
    sanbao = sentence(ctx, "“三保”支出情况")
    assert "无法识别" in sanbao and "待核实" in sanbao
    assert not [p for p in paragraphs(ctx) if "编制0个" in p or "安排资金0.00万元" in p]


def test_unreadable_expenditure_class_draws_no_chart(make_workbook):
    values = {**BASE, "budget_exp_201": Decimal("160"), "budget_exp_208": "约20"}
    ctx = build_context(read_workbook(make_workbook(values)))
    assert ctx["charts"]["expenditure"] is False and ctx["charts"]["expenditure_data"] == []
    assert "无法识别" in sentence(ctx, "预算支出")


# -- (c) percent-formatted cells ----------------------------------------------------------


def _percent_workbook(make_workbook, tmp_path: Path) -> Path:
    """98.6 typed the Excel way: stored 0.986 in a cell formatted 0.00% (openpyxl)."""
    values = {
        **BASE,
        "final_income_fiscal": Decimal("100"),
        "final_income_total": Decimal("100"),
        "final_exp_201_amount": Decimal("87.40"),
        "final_exp_208_amount": Decimal("12.60"),
    }
    src = make_workbook(values)
    sub = read_workbook(src)
    wb = openpyxl.load_workbook(src)
    for fid, value in (("spending_progress", 0.986), ("final_exp_201_share", 0.874), ("final_exp_208_share", 0.126)):
        cell = wb[sub[fid].sheet][sub[fid].cell]
        cell.value, cell.number_format = value, "0.00%"
    out = tmp_path / "percent.xlsx"
    wb.save(out)
    return out


PERCENT_SENTENCES = {
    "项目整体支出进度": "项目整体支出进度为98.60%。",
    "决算支出": "决算支出100.00万元，按功能分类为：一般公共服务支出87.40万元，占比87.40%；社会保障和就业支出12.60万元，占比12.60%。",
}


def test_percent_formatted_cells_print_what_excel_shows(make_workbook, tmp_path):
    ctx = build_context(read_workbook(_percent_workbook(make_workbook, tmp_path)))
    for start, expected in PERCENT_SENTENCES.items():
        assert sentence(ctx, start) == expected


@pytest.mark.libreoffice
def test_percent_cells_resaved_by_libreoffice(make_workbook, lo_resave, tmp_path):
    resaved = lo_resave(_percent_workbook(make_workbook, tmp_path))
    ctx = build_context(read_workbook(resaved))
    for start, expected in PERCENT_SENTENCES.items():
        assert sentence(ctx, start) == expected


# -- (d) =1182.3+0.1 ----------------------------------------------------------------------


def test_binary_noise_prints_the_typed_figure(make_workbook, tmp_path):
    src = make_workbook({**BASE, "budget_income_total": Decimal("1182.4")})
    general = read_workbook(src)["budget_income_general"]
    dst = put_cells(
        src, tmp_path / "noise.xlsx", {general.sheet: {general.cell: "|<f>1182.3+0.1</f><v>1182.3999999999999</v>"}}
    )
    ctx = build_context(read_workbook(dst))
    assert sentence(ctx, "本年部门预算收入") == "本年部门预算收入1182.40万元，其中：一般公共预算拨款1182.40万元。"


# -- (e) error values ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NUM!", "#NAME?", "#NULL!"])
def test_error_values_in_required_and_optional_cells(make_workbook, tmp_path, code):
    values = {**BASE, "assets_total": Decimal("23.80"), "liabilities_total": Decimal("0.79"), "cash": Decimal("1.2")}
    values["current_liabilities"] = Decimal("0.79")
    src = make_workbook(values)
    sub0 = read_workbook(src)
    required, optional = sub0["staff_actual"], sub0["declared_cash_ratio"]
    edits = {required.sheet: {required.cell: f"e|<f>A1/0</f><v>{code}</v>"}}
    edits.setdefault(optional.sheet, {})[optional.cell] = f"e|<v>{code}</v>"
    sub = read_workbook(put_cells(src, tmp_path / "err.xlsx", edits))
    ctx = build_context(sub, run_checks(sub))
    assert ctx["draft"] is True
    assert sentence(ctx, "编制和在编人员情况") == (
        f"编制和在编人员情况：“实有在编人数”填报内容无法识别（{required.sheet}!{required.cell}），待核实。"
    )
    ratios = sentence(ctx, "资产负债率")
    assert "现金比率无法识别" in ratios  # the optional cell: neither 0 nor silently the computed ratio
    assert "资产负债率3.32%" in ratios  # the blank declared ratio: the computed one
