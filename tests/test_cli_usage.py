"""The command line fits its users (issue 13.5), in-process through typer's CliRunner:
-h / --version everywhere, usage errors in Chinese, -o checked against what a command
writes, several files checked at once, batch never reading its own outputs."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlproc import __version__
from xlproc.batch import state as batch_state
from xlproc.batch.discover import OUTBOX_MARKERS
from xlproc.cli.app import COMMANDS, app
from xlproc.cli.i18n import is_translated, translate

runner = CliRunner()
SAMPLES = Path(__file__).parent.parent / "samples" / "inbox"
WITH_ERRORS = next(SAMPLES.glob("01_*.xlsx"))  # 网信办: 2 强制性 findings
CLEAN = next(SAMPLES.glob("02_*.xlsx"))  # 司法局: no findings
ENGLISH = ("Missing", "No such", "Invalid value", "Got unexpected", "requires", "Usage:", "Error", "Try '")


def _panel(output: str) -> str:
    """The text inside the usage-error panel (box characters and padding removed)."""
    lines = [ln.strip("│ ").rstrip() for ln in output.splitlines() if ln.startswith("│")]
    return "".join(lines)


def _assert_chinese_usage_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "命令用法有误" in result.output, result.output
    for english in ENGLISH:
        assert english not in result.output, (english, result.output)
    panel = _panel(result.output)
    assert panel and is_translated(panel), panel
    for fragment in fragments:
        assert fragment in panel, (fragment, panel)


# --- -h, --help, --version -----------------------------------------------------------------


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_h_is_help_and_version_is_offered_everywhere(command):
    prefix = [command] if command else []
    long = runner.invoke(app, [*prefix, "--help"])
    short = runner.invoke(app, [*prefix, "-h"])
    assert long.exit_code == short.exit_code == 0
    assert short.output == long.output
    assert "用法：" in long.output and "--version" in long.output and "显示版本号并退出" in long.output
    assert "Usage" not in long.output and "[OPTIONS]" not in long.output
    version = runner.invoke(app, [*prefix, "--version"])
    assert version.exit_code == 0 and version.output.strip() == f"xlproc {__version__}"


# --- usage errors in Chinese ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["check"], ("缺少参数", "工作簿.xlsx")),
        (["annotate"], ("缺少参数",)),
        (["batch", "收件"], ("缺少选项", "--output")),
        (["check", "--bogus", "x.xlsx"], ("没有选项", "--bogus")),
        (["batch", "in", "-o", "out", "--jobs", "abc"], ("--jobs", "取值无效", "整数")),
        (["batch", "in", "-o", "out", "--jobs", "-1"], ("--jobs", "取值无效", "应大于或等于 0")),
        (["template", "多余", "的"], ("多余的参数", "多余 的")),
        (["check", "x.xlsx", "--format"], ("--format", "需要一个值")),
        (["nocommand"], ("没有命令", "nocommand")),
        (["chek"], ("没有命令 “chek”", "是否想输入 “check”")),
    ],
)
def test_usage_errors_are_in_chinese(args, fragments):
    _assert_chinese_usage_error(runner.invoke(app, args), *fragments)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_an_unknown_option_in_chinese(command):
    _assert_chinese_usage_error(runner.invoke(app, [command, "--no-such-thing"]), "没有选项", "--no-such-thing")


@pytest.mark.parametrize(
    "message",
    [
        "Missing argument 'FILE'.",
        "Missing option '--output' / '-o'.",
        "No such option: --x (Possible options: --xy, --xz)",
        "Invalid value for '--jobs' / '-j': Input should be a valid integer, unable to parse string as an integer",
        "Invalid value for 'FILE': Path 'a.xlsx' does not exist.",
        "Invalid value for '--n': Value 'x' is not a valid float.",
        "Invalid value for '--kind': 'x' is not one of 'a', 'b'.",
        "Invalid value for '--jobs' / '-j': Input should be greater than or equal to 0",
        "Invalid value for '--n': Input should be less than 5",
        "Got unexpected extra argument(s) (a b)",
        "Got unexpected extra argument (a)",
        "Option '--format' requires an argument.",
        "Option '--flag' does not take a value.",
        "No such command 'x'.",
        "No such command 'chek'. Did you mean 'check'?",
        "Missing command.",
    ],
)
def test_every_kind_of_typer_message_has_a_translation(message):
    text = translate(message)
    assert text != message and is_translated(text), text


# --- -o: suffix and folders ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (["template", "-o", "{tmp}/表.xls"], "表.xls"),
        (["template", "-o", "{tmp}/表"], "表"),
        (["annotate", str(WITH_ERRORS), "-o", "{tmp}/批注.docx"], "批注.docx"),
        (["report", str(WITH_ERRORS), "-o", "{tmp}/报告.xlsx"], "报告.xlsx"),
    ],
)
def test_output_with_the_wrong_suffix_is_refused_in_chinese_and_nothing_is_written(tmp_path, args, bad):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "扩展名" in result.output and bad in result.output
    assert re.search(r"应以 \.(xlsx|docx)", result.output), result.output
    assert list(tmp_path.iterdir()) == []


def test_batch_output_must_be_a_folder(tmp_path):
    for target in (tmp_path / "汇总.xlsx", tmp_path / "已有文件"):
        if target.suffix == "":
            target.write_text("x", encoding="utf-8")
        result = runner.invoke(app, ["batch", str(SAMPLES), "-o", str(target), "--jobs", "0"])
        assert result.exit_code == 2 and "输出目录（文件夹）" in result.output, result.output
    assert not (tmp_path / "汇总.xlsx").exists()


def test_output_naming_a_folder_gets_the_default_name_inside(tmp_path):
    out = tmp_path / "输出"
    out.mkdir()
    src = shutil.copy(WITH_ERRORS, tmp_path / "网信办.xlsx")
    assert runner.invoke(app, ["template", "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["annotate", str(src), "-o", str(out)]).exit_code == 1  # findings, written
    assert runner.invoke(app, ["report", str(src), "-o", str(out)]).exit_code == 0
    assert {p.name for p in out.iterdir()} == {"网信办_自评报告_草稿.docx", "网信办_审核.xlsx", "自评表.xlsx"}
    for p in out.iterdir():
        assert zipfile.is_zipfile(p), p


def test_report_to_a_pdf_name_writes_the_pdf_there_and_the_docx_beside_it(tmp_path):
    from xlproc.io.office import find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice not installed")
    result = runner.invoke(app, ["report", str(CLEAN), "-o", str(tmp_path / "报告.pdf")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "报告.pdf").read_bytes().startswith(b"%PDF")
    assert zipfile.is_zipfile(tmp_path / "报告.docx")  # a real .docx, never one named .pdf
    assert sorted(p.name for p in tmp_path.iterdir()) == ["报告.docx", "报告.pdf"]


# --- check with several files --------------------------------------------------------------


def test_check_reports_every_file_and_exits_with_the_worst_status(tmp_path):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    result = runner.invoke(app, ["check", str(WITH_ERRORS), str(bad), str(CLEAN)])
    assert result.exit_code == 2, result.output
    assert "中共保定市徐水区委网络安全和信息化委员会办公室" in result.output  # the good files' findings …
    assert "示例区司法局" in result.output and "未发现问题" in result.output
    assert "坏文件.xlsx" in result.output and "无法审核" in result.output  # … and the bad one's reason
    assert "共 3 个文件" in result.output

    data = json.loads(runner.invoke(app, ["check", str(WITH_ERRORS), str(bad), "--format", "json"]).output)
    assert [d.get("department") for d in data] == ["中共保定市徐水区委网络安全和信息化委员会办公室", None]
    assert data[0]["counts"]["error"] == 2 and "坏文件.xlsx" in data[1]["error"]


@pytest.mark.parametrize(("files", "code"), [([CLEAN, CLEAN], 0), ([CLEAN, WITH_ERRORS], 1), ([WITH_ERRORS], 1)])
def test_check_exit_code_is_the_worst_of_its_files(files, code):
    assert runner.invoke(app, ["check", *map(str, files)]).exit_code == code


# --- batch never reads its own outputs -----------------------------------------------------


def _batch(inbox: Path, outbox: Path):
    result = runner.invoke(app, ["batch", str(inbox), "-o", str(outbox), "--jobs", "0", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_batch_with_its_outbox_inside_the_inbox_never_reads_its_outputs(tmp_path):
    inbox = tmp_path / "收件"
    inbox.mkdir()
    shutil.copy(CLEAN, inbox / "司法局.xlsx")
    shutil.copy(WITH_ERRORS, inbox / "网信办.xlsx")
    first = _batch(inbox, inbox / "输出")
    assert [r["source"] for r in first["results"]] == ["司法局.xlsx", "网信办.xlsx"]
    # a second run into another folder inside the inbox: the first outbox is not an inbox
    second = _batch(inbox, inbox / "输出2")
    assert [r["source"] for r in second["results"]] == ["司法局.xlsx", "网信办.xlsx"]
    assert second["duplicates"] == {} and second["skipped"] == []
    # the summary copied up, and a department-less folder holding our outputs
    shutil.copy(inbox / "输出" / "汇总.xlsx", inbox / "汇总.xlsx")
    loose = inbox / "另存"
    loose.mkdir()
    dept = next(p for p in (inbox / "输出").iterdir() if p.is_dir() and "司法局" in p.name)
    for p in dept.iterdir():
        if not p.name.startswith("."):
            shutil.copy(p, loose / p.name)
    third = _batch(inbox, tmp_path / "外部输出")
    assert [r["source"] for r in third["results"]] == ["司法局.xlsx", "网信办.xlsx"]
    skipped = dict((s["source"], s["reason"]) for s in third["skipped"])
    assert set(skipped) == {"汇总.xlsx", "另存/司法局_审核.xlsx"}, skipped
    assert "汇总表" in skipped["汇总.xlsx"] and "批注工作簿" in skipped["另存/司法局_审核.xlsx"]
    assert third["duplicates"] == {}


def test_batch_reads_an_annotated_workbook_the_department_returned(tmp_path):
    """X_审核.xlsx without its source beside it is a department's return: read it."""
    inbox = tmp_path / "收件"
    inbox.mkdir()
    src = shutil.copy(WITH_ERRORS, tmp_path / "网信办.xlsx")
    assert runner.invoke(app, ["annotate", str(src)]).exit_code == 1
    shutil.move(tmp_path / "网信办_审核.xlsx", inbox / "网信办_审核.xlsx")
    (inbox / "网信办_审核结果.pdf").write_bytes(b"%PDF-1.4")  # not ours: listed as skipped
    data = _batch(inbox, tmp_path / "输出")
    assert [r["source"] for r in data["results"]] == ["网信办_审核.xlsx"]
    assert [s["source"] for s in data["skipped"]] == ["网信办_审核结果.pdf"]


def test_batch_warns_in_chinese_on_an_empty_inbox(tmp_path):
    inbox = tmp_path / "收件"
    inbox.mkdir()
    (inbox / "说明.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(inbox), "-o", str(tmp_path / "输出"), "--jobs", "0"])
    assert result.exit_code == 0, result.output
    assert "没有找到需要处理的 .xlsx 工作簿" in result.output


def test_outbox_markers_name_the_manifest_the_batch_writes():
    assert batch_state.MANIFEST_NAME in OUTBOX_MARKERS
