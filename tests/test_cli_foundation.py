"""`xlproc template` and `xlproc extract`, in-process: output, parity with the library, exit codes."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from xlproc.cli import app
from xlproc.reading import read_workbook

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
