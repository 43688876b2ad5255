"""annotate end to end on the sample workbooks: read → check → annotate → recheck.

Covers the acceptance criteria of issue 4 on real project files: the 网信办 sample
annotated cell by cell, the department's fix-and-answer round trip, the CLI, input
files never modified, and LibreOffice opening the result.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import openpyxl
import pytest
from annotate_fixtures import (
    answer_in_results,
    assert_faithful,
    assert_sheet_xml_unchanged,
    assert_well_formed,
    parts,
    sheet_parts,
)
from test_annotate import projection
from typer.testing import CliRunner

from xlproc.annotate import (
    RESULTS_SHEET,
    WARNING_FILL_RGB,
    annotate_workbook,
    apply_explanations,
    read_explanations,
)
from xlproc.annotate.sheet import SheetXml
from xlproc.cli.app import app
from xlproc.io.office import convert
from xlproc.reading.workbook import read_workbook
from xlproc.results import CheckReport, Finding
from xlproc.rules import run_checks

SAMPLES = Path(__file__).parent.parent / "samples" / "inbox"
WANGXIN = next(SAMPLES.glob("01_*.xlsx"), None)
needs_samples = pytest.mark.skipif(WANGXIN is None, reason="samples not generated (make samples)")


def _check(path: Path):
    return run_checks(read_workbook(path))


def _anchor(path: Path, sheet: str, cell: str) -> str:
    """The cell a finding is shown on: the top-left of its merged range."""
    from xlproc.annotate.book import Book
    from xlproc.annotate.package import Package

    pkg = Package(path)
    return SheetXml(pkg, Book(pkg).sheet(sheet).part).merge_anchor(cell)


def _inputs(report, f):
    computed = report.computed.get(f"{f.sheet}!{f.cell}")
    return computed.inputs if computed is not None else ()


@needs_samples
def test_wangxinban_every_finding_is_marked_and_linked(tmp_path: Path, golden) -> None:
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    report = _check(src)
    assert report.findings, "the 网信办 sample is expected to have findings"
    out = annotate_workbook(src, report)
    view = projection(out)
    golden("annotate/wangxinban.json", view)
    assert report.computed, "the 网信办 sample has findings on computed cells"
    for f in report.findings:
        if not f.cell:
            continue
        mark = view["cells"][f"{f.sheet}!{_anchor(src, f.sheet, f.cell)}"]
        computed = report.computed.get(f"{f.sheet}!{f.cell}")
        if computed is None:
            assert f.message in mark["comment"] and f.title in mark["comment"]
        else:  # a locked formula cell: a short pointer there, the message on every input feeding it
            assert "自动计算" in mark["comment"] and f.title in mark["comment"]
            assert all(c.cell in mark["comment"] for c in computed.inputs)
            for c in computed.inputs:
                fed = view["cells"][f"{c.sheet}!{c.cell}"]
                assert f.message in fed["comment"] and f.cell in fed["comment"]
                assert fed["fill"] == mark["fill"]
        if f.severity != "info":
            assert mark["fill"] == (
                "FFFFC7CE" if f.severity == "error" or _worst_is_error(report, f) else WARNING_FILL_RGB
            )
        assert f.rule_id not in mark["comment"]
    rows = view["results"][1:]
    assert len(rows) == len(report.findings)
    for row, f in zip(rows, report.findings, strict=True):
        assert row["values"][2] == f.title and row["values"][8] == f.rule_id  # title for the clerk, id last
        assert not any(f.rule_id in str(v) for v in row["values"][:8])
        assert row["link"] == (f"'{f.sheet}'!{f.cell}" if f.cell else None)
    annotated = {(f.sheet, _anchor(src, f.sheet, f.cell)) for f in report.findings if f.cell}
    annotated |= {(c.sheet, c.cell) for f in report.findings for c in _inputs(report, f)}
    assert_faithful(src, out, annotated)
    assert_sheet_xml_unchanged(src, out, annotated)
    assert_well_formed(out)


def _worst_is_error(report, finding) -> bool:
    return any(g.severity == "error" and (g.sheet, g.cell) == (finding.sheet, finding.cell) for g in report.findings)


def _department_round(annotated: Path, out: Path, edits: dict, answers: dict[str, str]) -> Path:
    return answer_in_results(annotated, out, answers, edits)


@needs_samples
def test_fix_and_recheck_round_trip(tmp_path: Path) -> None:
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    original_fill = openpyxl.load_workbook(src)["决算"]["C27"].fill.fgColor.rgb
    first_report = _check(src)
    by_rule = {f.rule_id: f for f in first_report.findings}
    assert {"final.share", "budget.procurement", "projects.yearend"} <= set(by_rule)
    first = annotate_workbook(src, first_report)
    # the department corrects the share and answers a warning and (in vain) an error
    share = by_rule["final.share"]
    returned = _department_round(
        first,
        tmp_path / "网信办_退回.xlsx",
        {(share.sheet, share.cell): 4.19},
        {"budget.procurement": "含跨年度采购项目，已报财政局备案", "projects.yearend": "第三个项目尚在实施"},
    )
    answers = read_explanations(returned)
    assert answers[("budget.procurement", "政府采购", "B4")] == "含跨年度采购项目，已报财政局备案"
    second_report = apply_explanations(_check(returned), answers)
    second_rules = {f.rule_id: f for f in second_report.findings}
    assert "final.share" not in second_rules
    assert second_rules["budget.procurement"].explained
    assert second_rules["projects.yearend"].explanation and not second_rules["projects.yearend"].explained
    assert second_report.counts["explained"] == 1
    assert second_report.counts["open_warning"] == first_report.counts["open_warning"] - 1
    second = annotate_workbook(returned, second_report, tmp_path / "网信办_第二轮.xlsx")
    view = projection(second)
    # the fixed cell lost our fill and comment; its own fill is back
    assert f"{share.sheet}!{share.cell}" not in view["cells"]
    assert openpyxl.load_workbook(second)["决算"]["C27"].fill.fgColor.rgb == original_fill
    # nothing stacked: one 审核结果, one row per finding, one marker per comment
    assert view["sheets"].count(RESULTS_SHEET) == 1
    assert len(view["results"]) == len(second_report.findings) + 1
    for cell in view["cells"].values():
        assert (cell["comment"] or "").count("xlproc审核:") <= 1
    rows = {r["values"][8]: r["values"] for r in view["results"][1:]}
    assert rows["budget.procurement"][6:8] == ["已说明", "含跨年度采购项目，已报财政局备案"]
    assert rows["projects.yearend"][6:8] == ["须修改", "第三个项目尚在实施"]
    assert read_explanations(second) == answers


@needs_samples
def test_cli_annotate_writes_beside_input_and_leaves_input_alone(tmp_path: Path) -> None:
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
    runner = CliRunner()
    result = runner.invoke(app, ["annotate", str(src)])
    assert result.exit_code == 1, result.output  # the sample has errors
    out = tmp_path / "网信办_审核.xlsx"
    assert out.exists() and str(out) in result.output.replace("\n", "")
    assert "强制性" in result.output
    for args in (["check", str(src)], ["annotate", str(src), "-o", str(tmp_path / "b.xlsx")]):
        runner.invoke(app, args)
    assert hashlib.sha256(Path(src).read_bytes()).hexdigest() == digest
    refused = runner.invoke(app, ["annotate", str(src), "-o", str(src)])
    assert refused.exit_code == 2
    assert hashlib.sha256(Path(src).read_bytes()).hexdigest() == digest
    clean = next((p for p in sorted(SAMPLES.glob("*.xlsx")) if not _check(p).findings), None)
    if clean is not None:
        copy = shutil.copy(clean, tmp_path / "clean.xlsx")
        ok = runner.invoke(app, ["annotate", str(copy)])
        assert ok.exit_code == 0, ok.output
        assert projection(tmp_path / "clean_审核.xlsx")["summary"] == "审核结果：未发现问题。"


@needs_samples
@pytest.mark.libreoffice
def test_libreoffice_opens_annotated_sample(tmp_path: Path, lo_resave) -> None:
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    report = _check(src)
    out = annotate_workbook(src, report)
    assert convert(out, "pdf", tmp_path / "pdf").stat().st_size > 1000
    back = lo_resave(out)
    view = projection(back)
    for f in report.findings:
        if f.cell:
            shown = [f"{f.sheet}!{_anchor(src, f.sheet, f.cell)}", *map(str, _inputs(report, f))]
            assert all(f.title in view["cells"][key]["comment"] for key in shown)
            assert f.message in view["cells"][shown[-1]]["comment"]
    # and the re-saved, annotated workbook is still readable and checks the same
    assert [(f.rule_id, f.cell) for f in _check(back).findings] == report.flatten()


@needs_samples
def test_marks_on_every_field_leave_every_value_readable_and_come_off_cleanly(tmp_path: Path) -> None:
    """A finding on every field cell (blank ones too): the reader still reads the same
    submission from the annotated copy, and a clean round restores every sheet's XML."""

    src = Path(shutil.copy(WANGXIN, tmp_path / "网信办.xlsx"))
    sub = read_workbook(src)
    severities = ("error", "warning", "info")
    findings = [
        Finding(f"all.{i}", severities[i % 3], fv.sheet, fv.cell, f"{fv.label}：测试批注")
        for i, fv in enumerate(sub.fields.values())
    ]
    marked = annotate_workbook(src, CheckReport(str(src), findings=findings))
    assert_well_formed(marked)
    again = read_workbook(marked)
    assert [(f.id, f.value) for f in again.fields.values()] == [(f.id, f.value) for f in sub.fields.values()]
    assert {k: t.records() for k, t in again.tables.items()} == {k: t.records() for k, t in sub.tables.items()}
    clean = annotate_workbook(marked, CheckReport(str(src)), tmp_path / "clean.xlsx")
    assert_well_formed(clean)
    pa, pc = parts(src), parts(clean)
    for name, part in sheet_parts(src).items():
        if "tabSelected" not in pa[part].decode():  # the active sheet is unselected for 审核结果
            assert pc[sheet_parts(clean)[name]] == pa[part], name


@needs_samples
@pytest.mark.libreoffice
def test_round_trip_when_the_department_uses_libreoffice(tmp_path: Path, lo_edit) -> None:
    """The department fixes a figure and answers a warning in LibreOffice Calc."""
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    first_report = _check(src)
    first = annotate_workbook(src, first_report)
    row = 3 + [f.rule_id for f in first_report.findings].index("budget.procurement")
    share = next(f for f in first_report.findings if f.rule_id == "final.share")
    returned = lo_edit(
        first,
        [
            {"op": "set", "sheet": share.sheet, "cell": share.cell, "value": 4.19},
            {"op": "set", "sheet": RESULTS_SHEET, "cell": f"H{row}", "value": "跨年度采购，已备案"},
        ],
        name="returned.xlsx",
    )
    answers = read_explanations(returned)
    assert answers == {("budget.procurement", "政府采购", "B4"): "跨年度采购，已备案"}
    report = apply_explanations(_check(returned), answers)
    assert "final.share" not in {f.rule_id for f in report.findings}
    second = annotate_workbook(returned, report, tmp_path / "second.xlsx")
    view = projection(second)
    assert f"{share.sheet}!{share.cell}" not in view["cells"]
    assert view["sheets"].count(RESULTS_SHEET) == 1
    for cell in view["cells"].values():
        assert (cell["comment"] or "").count("xlproc审核:") <= 1
    rows = {r["values"][8]: r["values"] for r in view["results"][1:]}
    assert rows["budget.procurement"][6:8] == ["已说明", "跨年度采购，已备案"]


@needs_samples
@pytest.mark.libreoffice
def test_marks_of_moved_cells_are_removed(tmp_path: Path, lo_edit) -> None:
    """Rows inserted above a flagged cell: the old mark is found where the cell went."""
    src = shutil.copy(WANGXIN, tmp_path / "网信办.xlsx")
    first_report = _check(src)
    procurement = next(f for f in first_report.findings if f.rule_id == "budget.procurement")
    assert (procurement.sheet, procurement.cell) == ("政府采购", "B4")
    own_fill = openpyxl.load_workbook(src)["政府采购"]["B4"].fill.fgColor.rgb
    first = annotate_workbook(src, first_report)
    returned = lo_edit(
        first,
        [
            {"op": "insert_rows", "sheet": "政府采购", "row": 3, "count": 2},
            {"op": "set", "sheet": "政府采购", "cell": "B6", "value": 190},
        ],
        name="moved.xlsx",
    )
    report = _check(returned)
    assert "budget.procurement" not in {f.rule_id for f in report.findings}
    second = annotate_workbook(returned, report, tmp_path / "second.xlsx")
    view = projection(second)
    marked = {k for k, c in view["cells"].items() if c["fill"] in ("FFFFC7CE", WARNING_FILL_RGB)}
    expected = {
        f"{f.sheet}!{_anchor(second, f.sheet, f.cell)}" for f in report.findings if f.cell and f.severity != "info"
    }
    expected |= {  # the input cells feeding a flagged computed cell
        str(c) for f in report.findings if f.severity != "info" for c in _inputs(report, f)
    }
    assert marked == expected
    assert openpyxl.load_workbook(second)["政府采购"]["B6"].fill.fgColor.rgb == own_fill
