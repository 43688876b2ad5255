"""What the clerk sees in the annotated workbook (issue 13.4): Chinese titles instead of
rule ids, a warning fill clearly apart from the form's own colours, and findings on a
computed (locked formula) cell marked on the input cells that feed it."""

from __future__ import annotations

import math
import re
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from annotate_fixtures import answer_in_results
from test_annotate import projection

from xlproc.annotate import ERROR_FILL_RGB, WARNING_FILL_RGB, annotate_workbook
from xlproc.form.feeds import feeding_cells
from xlproc.pipeline import check_workbook
from xlproc.reading.workbook import read_workbook
from xlproc.rules import run_checks
from xlproc.template import build

SAMPLES = Path(__file__).parent.parent / "samples" / "inbox"
WANGXIN = next(SAMPLES.glob("01_*.xlsx"))
SHICHANG = next(SAMPLES.glob("05_*.xlsx"))
RULE_ID = re.compile(r"\b[a-z_]+\.[a-z_.]+\b|\brequired\b")


def _check(path: Path):
    """check_workbook as the CLI and the batch run it (the department's answers carried over)."""
    return check_workbook(Path(path).read_bytes(), source=str(path)).report


# --- colours ---------------------------------------------------------------------------


def _lab(rgb: str) -> tuple[float, float, float, float]:
    """CIE L*a*b* (D65) and relative luminance of an sRGB hex colour (last 6 digits)."""
    rgb = rgb.lstrip("#")[-6:]

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(int(rgb[i : i + 2], 16) / 255) for i in (0, 2, 4))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)), y


def delta_e(a: str, b: str) -> float:
    """CIE76 colour difference (ΔE*ab): about 2.3 is just noticeable, above 40 clearly different."""
    return math.dist(_lab(a)[:3], _lab(b)[:3])


def contrast_with_black(rgb: str) -> float:
    """WCAG contrast ratio of black text on ``rgb``."""
    return (_lab(rgb)[3] + 0.05) / 0.05


def test_the_template_colours_are_the_ones_the_form_uses(tmp_path):
    path = build.write_template(tmp_path / "t.xlsx")
    fills = {
        (c.fill.fgColor.rgb or "")[-6:].upper()
        for ws in openpyxl.load_workbook(path).worksheets
        for row in ws.iter_rows()
        for c in row
        if c.fill is not None and c.fill.fill_type == "solid"
    }
    assert {build.INPUT_FILL[1:], build.FORMULA_FILL[1:], build.LABEL_FILL[1:]} <= fills


@pytest.mark.parametrize("other", ["INPUT_FILL", "FORMULA_FILL", "LABEL_FILL", "white", "error"])
def test_warning_fill_is_clearly_distinct_from_every_colour_of_the_form(other):
    colour = {"white": "#FFFFFF", "error": ERROR_FILL_RGB}.get(other) or getattr(build, other)
    assert delta_e(WARNING_FILL_RGB, colour) >= 40, (other, round(delta_e(WARNING_FILL_RGB, colour), 1))


def test_the_old_warning_yellow_was_too_close_to_the_input_fill():
    """The measure can fail: the earlier FFEB9C sits within ΔE 31 of the input cream."""
    assert delta_e("FFFFEB9C", build.INPUT_FILL) < 40


@pytest.mark.parametrize("fill", [WARNING_FILL_RGB, ERROR_FILL_RGB])
def test_text_on_our_fills_stays_readable(fill):
    assert contrast_with_black(fill) >= 7  # WCAG AAA for normal text


def test_error_fill_is_clearly_apart_from_the_input_fill():
    assert delta_e(ERROR_FILL_RGB, build.INPUT_FILL) >= 20


# --- words -----------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [WANGXIN, SHICHANG])
def test_the_clerk_reads_chinese_titles_never_rule_ids(tmp_path, sample):
    src = shutil.copy(sample, tmp_path / "部门.xlsx")
    report = run_checks(read_workbook(src))
    view = projection(annotate_workbook(src, report))
    header, *rows = view["results"]
    assert header["values"][2] == "审核项目" and header["values"][-2:] == ["规则编号", "键"]
    for row, f in zip(rows, report.findings, strict=True):
        assert f.title and row["values"][2] == f.title
        assert row["values"][8] == f.rule_id  # the id stays, in the narrow last visible column
        assert not any(RULE_ID.search(str(v)) for v in row["values"][:8]), row
    for cell in view["cells"].values():
        text = cell["comment"].split(":", 1)[1]
        assert not RULE_ID.search(text), text
    # the rule id column is narrow and comes after everything the clerk reads
    ws = openpyxl.load_workbook(tmp_path / "部门_审核.xlsx")["审核结果"]
    assert ws.column_dimensions["I"].width <= 12 < ws.column_dimensions["C"].width
    assert ws.column_dimensions["J"].hidden


# --- computed cells --------------------------------------------------------------------


def test_feeding_cells_follow_the_compute_ops_to_the_inputs():
    sub = read_workbook(SHICHANG)
    # 三公 total of the year = the four items above it
    assert [c.cell for c in feeding_cells(sub, "sangong_total_actual")] == ["D5", "D6", "D7", "D8"]
    # a table column: the filled rows of the project register
    amounts = feeding_cells(sub, "achieved_amount")
    rows = [r["row"] for r in sub.tables["projects"].rows]
    assert amounts and {int(c.cell[1:]) for c in amounts} <= set(rows)
    # the total score: every category's score; the converted score also each 是否适用
    scores = {f.cell for k, f in sub.fields.items() if k.startswith("score_") and k.endswith("_score")}
    applicable = {f.cell for k, f in sub.fields.items() if k.startswith("score_") and k.endswith("_applicable")}
    assert len(scores) >= 8 and {c.cell for c in feeding_cells(sub, "score_total")} == scores
    converted = {c.cell for c in feeding_cells(sub, "score_converted")}
    assert scores < converted <= scores | applicable
    assert feeding_cells(sub, "dept_name") == ()  # an input feeds nothing


def test_a_finding_on_a_computed_cell_is_marked_on_its_inputs(tmp_path):
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    report = run_checks(read_workbook(src))
    total = next(f for f in report.findings if f.rule_id == "policy.sanbao_within_budget")
    assert (total.sheet, total.cell) == ("重大政策落实", "B12")  # the locked SUM of the 三保 rows
    out = annotate_workbook(src, report)
    view = projection(out)
    pointer = view["cells"]["重大政策落实!B12"]["comment"]
    assert "自动计算" in pointer and all(c in pointer for c in ("B9", "B10", "B11"))
    assert total.message not in pointer  # the full message goes where the clerk can type
    for cell in ("B9", "B10", "B11"):
        mark = view["cells"][f"重大政策落实!{cell}"]
        assert total.message in mark["comment"] and "B12" in mark["comment"]
        assert mark["fill"] == WARNING_FILL_RGB
    # the input cells are the unlocked ones the clerk can change, the pointer cell is locked
    ws = openpyxl.load_workbook(out)["重大政策落实"]
    assert ws["B12"].protection.locked and not any(ws[c].protection.locked for c in ("B9", "B10", "B11"))
    [row] = [r for r in view["results"][1:] if r["values"][8] == "policy.sanbao_within_budget"]
    assert "B9、B10、B11" in row["values"][5]


def test_fixing_an_input_clears_the_marks_in_the_next_round(tmp_path):
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    report = _check(src)
    first = annotate_workbook(src, report)
    cream = openpyxl.load_workbook(src)["重大政策落实"]["B10"].fill.fgColor.rgb
    # the department corrects 保工资 (141.92 → 100) so the 三保 total fits the budget, and sends it back
    returned = answer_in_results(first, tmp_path / "退回.xlsx", {}, edits={("重大政策落实", "B10"): Decimal("100")})
    second_report = _check(returned)
    assert "policy.sanbao_within_budget" not in {f.rule_id for f in second_report.findings}
    second = annotate_workbook(returned, second_report, tmp_path / "第二轮.xlsx")
    view = projection(second)
    for cell in ("B9", "B10", "B11", "B12"):
        assert f"重大政策落实!{cell}" not in view["cells"], cell
    ws = openpyxl.load_workbook(second)["重大政策落实"]
    assert ws["B10"].fill.fgColor.rgb == ws["B11"].fill.fgColor.rgb == cream


def test_a_typed_over_total_is_marked_on_itself_not_on_its_inputs(tmp_path):
    """The clerk typed a number over the 三公 total: the fix is in that cell, so no input is marked."""
    clean = next(SAMPLES.glob("02_*.xlsx"))
    wb = openpyxl.load_workbook(clean)
    wb["三公经费"]["D9"].value = 99
    typed = tmp_path / "手填合计.xlsx"
    wb.save(typed)
    report = _check(typed)
    on_total = [f for f in report.findings if (f.sheet, f.cell) == ("三公经费", "D9")]
    assert "formula.typed_over" in {f.rule_id for f in on_total}
    assert "三公经费!D9" not in report.computed
    view = projection(annotate_workbook(typed, report, tmp_path / "批注.xlsx"))
    assert "自动计算（公式），请核对并修改" not in view["cells"]["三公经费!D9"]["comment"]
    assert not any(f"三公经费!D{r}" in view["cells"] for r in (5, 6, 7, 8))
