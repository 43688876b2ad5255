"""`xlproc template` and `xlproc extract`, in-process: output, parity with the library, exit codes."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

from annotate_fixtures import answer_in_results
from typer.testing import CliRunner

from xlproc.cli.app import COMMANDS, app
from xlproc.reading.workbook import read_workbook

runner = CliRunner()


def test_template_command_writes_a_readable_form(tmp_path):
    out = tmp_path / "自评表.xlsx"
    result = runner.invoke(app, ["template", "-o", str(out), "--year", "2024", "--department", "某区审计局"])
    assert result.exit_code == 0, result.output
    assert "已生成填报模板" in result.output
    sub = read_workbook(out)
    assert (sub.value("year"), sub.department) == (Decimal(2024), "某区审计局")


def test_extract_json_equals_library_to_dict(make_workbook):
    path = make_workbook(
        {"dept_name": "某局", "budget_income_general": Decimal("10.5"), "staff_quota": "约10"},
        {"goals": [{"function": "职能一", "target": "目标 <&>"}]},
    )
    result = runner.invoke(app, ["extract", str(path), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == read_workbook(path).to_dict()


def test_extract_table_lists_fields_cells_and_rows(make_workbook):
    path = make_workbook({"dept_name": "某局", "staff_quota": "约10"}, {"goals": [{"function": "网络安全"}]})
    result = runner.invoke(app, ["extract", str(path)])
    assert result.exit_code == 0
    for text in ("dept_name", "部门名称", "B4", "某局", "网络安全", "约10", "不是可以确定的数字"):
        assert text in result.output


def test_extract_rejects_unknown_format(make_workbook):
    result = runner.invoke(app, ["extract", str(make_workbook()), "--format", "xml"])
    assert result.exit_code == 2 and "json 或 table" in result.output


SAMPLES = Path(__file__).parent.parent / "samples"


def test_check_carries_the_departments_answers_from_an_annotated_workbook(tmp_path):
    src = shutil.copy(next((SAMPLES / "inbox").glob("01_*.xlsx")), tmp_path / "网信办.xlsx")
    assert runner.invoke(app, ["annotate", str(src)]).exit_code == 1  # the sample has errors
    annotated = answer_in_results(
        tmp_path / "网信办_审核.xlsx", tmp_path / "网信办_审核.xlsx", {"budget.procurement": "含跨年度采购项目，已备案"}
    )
    result = runner.invoke(app, ["check", str(annotated), "--format", "json"])
    data = json.loads(result.output)
    [answered] = [f for f in data["findings"] if f["rule_id"] == "budget.procurement"]
    assert answered["explained"] and answered["explanation"] == "含跨年度采购项目，已备案"
    assert data["counts"]["explained"] == 1


def test_check_with_last_years_workbook_runs_the_cross_year_rules():
    this_year = next((SAMPLES / "inbox").glob("03_*.xlsx"))
    last_year = next((SAMPLES / "previous").glob("03_*.xlsx"))
    alone = json.loads(runner.invoke(app, ["check", str(this_year), "--format", "json"]).output)
    both = json.loads(
        runner.invoke(app, ["check", str(this_year), "--previous", str(last_year), "--format", "json"]).output
    )
    assert not any(f["rule_id"].startswith("prev.") for f in alone["findings"])
    assert [f["cell"] for f in both["findings"] if f["rule_id"] == "prev.sangong"] == ["B8"]


def test_every_command_is_documented_in_the_readme():
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    docs = readme + "".join(p.read_text(encoding="utf-8") for p in sorted(root.glob("docs/**/*.md")))
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert set(commands) == set(COMMANDS) >= {"template", "extract", "check", "annotate", "report", "batch"}
    for name in commands:
        assert f"`xlproc {name}" in docs, name
    assert "make demo" in readme and "make test" in readme


def test_help_screens_are_in_chinese():
    for args in ([], ["check"], ["batch"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "显示本帮助并退出" in result.output and "Show this message" not in result.output
        assert "选项" in result.output


def test_no_command_modifies_its_input(tmp_path):
    src = shutil.copy(next((SAMPLES / "inbox").glob("01_*.xlsx")), tmp_path / "网信办.xlsx")
    before = src.read_bytes()
    stat = src.stat()
    for args in (
        ["extract", str(src), "--format", "json"],
        ["check", str(src)],
        ["annotate", str(src)],
        ["report", str(src), "--with-findings"],
        ["batch", str(tmp_path), "-o", str(tmp_path / "输出"), "--jobs", "0"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (args, result.output)
        assert src.read_bytes() == before, args
        assert src.stat().st_mtime_ns == stat.st_mtime_ns, args
    assert (tmp_path / "网信办_审核.xlsx").exists() and (tmp_path / "网信办_自评报告_草稿.docx").exists()
