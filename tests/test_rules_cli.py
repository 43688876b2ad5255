"""``xlproc check``: exit codes, JSON parity with the library, the table view, --rules."""

from __future__ import annotations

import json

from test_rules_support import sample_path
from typer.testing import CliRunner

from xlproc.cli.app import app
from xlproc.reading.workbook import read_workbook
from xlproc.rules import run_checks

runner = CliRunner()


def test_json_equals_library_to_dict_and_exit_1_on_errors():
    path = sample_path("网络安全")
    result = runner.invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout) == run_checks(read_workbook(path)).to_dict()


def test_clean_workbook_exits_0_and_table_groups_by_sheet():
    result = runner.invoke(app, ["check", str(sample_path("司法局"))])
    assert result.exit_code == 0, result.output
    assert "强制性 0 条，提示性 0 条" in result.stdout and "未发现问题" in result.stdout


def test_table_lists_findings_under_their_sheet():
    result = runner.invoke(app, ["check", str(sample_path("统计局"))])
    assert result.exit_code == 1
    out = result.stdout
    assert (
        out.index("工作表：基本情况")
        < out.index("parse.cell")
        < out.index("工作表：重大政策落实")
        < out.index("required")
    )


def test_several_files_give_a_json_list():
    paths = [str(sample_path("司法局")), str(sample_path("卫生健康"))]
    result = runner.invoke(app, ["check", *paths, "--format", "json"])
    assert result.exit_code == 0  # warnings only
    data = json.loads(result.stdout)
    assert [d["department"] for d in data] == ["示例区司法局", "示例区卫生健康局"]
    assert data[1]["counts"]["warning"] == 4


def test_bad_catalogue_exits_2_before_reading(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - id: x.y\n    severity: error\n    title: t\n    assert: nope > 1\n    message: m\n", "utf-8"
    )
    result = runner.invoke(app, ["check", str(tmp_path / "missing.xlsx"), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "x.y" in result.stderr and "未知字段 'nope'" in result.stderr


def test_custom_rules_file_is_used(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - id: only.one\n    severity: error\n    title: 编制数不超过5\n"
        "    assert: staff_quota <= 5\n    message: 编制数 {staff_quota} 超过5\n",
        "utf-8",
    )
    result = runner.invoke(app, ["check", str(sample_path("司法局")), "--rules", str(rules), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["rules_run"] == ["only.one"]
    assert [f["message"] for f in data["findings"]] == ["编制数 32 超过5"]


def test_unreadable_file_exits_2(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 2 and "bad.xlsx" in result.stderr


def test_wrong_format_exits_2():
    result = runner.invoke(app, ["check", str(sample_path("司法局")), "--format", "xml"])
    assert result.exit_code == 2
