"""End-to-end batch runs on the project's own workbooks (samples and generated copies)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from test_batch_helpers import ENCRYPTED_STANDIN, outbox_projection, patch_strings, summary_projection
from test_batch_orchestration import summary_rows
from typer.testing import CliRunner

from xlproc.batch import BatchOptions, process_folder
from xlproc.cli.app import app
from xlproc.errors import XlprocError
from xlproc.io.atomic import TEMP_PREFIX
from xlproc.pipeline import PipelineOptions
from xlproc.reading.workbook import read_workbook

ROOT = Path(__file__).parent.parent
INBOX = ROOT / "samples" / "inbox"
PREVIOUS = ROOT / "samples" / "previous"


def _sample(part: str) -> Path:
    return next(p for p in sorted(INBOX.glob("*.xlsx")) if part in p.name)


def _clones(folder: Path, n: int, base: Path | None = None) -> list[Path]:
    """``n`` copies of a sample workbook, each with its own department name."""
    base = base or _sample("司法局")
    name = read_workbook(base).department
    folder.mkdir(parents=True, exist_ok=True)
    return [patch_strings(base, folder / f"{i:03}.xlsx", {name: f"{name}{i:03}"}) for i in range(n)]


def _readable(path: Path) -> bool:
    try:
        read_workbook(path)
    except XlprocError:
        return False
    return True


def _assert_outputs_whole(outbox: Path) -> list[Path]:
    """Every output opens (zip / JSON); returns the leftover temporaries."""
    temps = []
    for p in outbox.rglob("*"):
        if not p.is_file():
            continue
        if p.name.startswith(TEMP_PREFIX):
            temps.append(p)
        elif p.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(p) as z:
                assert z.testzip() is None, p
        elif p.suffix == ".json":
            json.loads(p.read_text(encoding="utf-8"))
    return temps


def test_batch_samples_with_broken_files(inbox_copy: Path, tmp_path: Path, golden) -> None:
    (inbox_copy / "90_损坏.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (inbox_copy / "91_加密.xlsx").write_bytes(ENCRYPTED_STANDIN)
    patch_strings(_sample("司法局"), inbox_copy / "92_旧版本.xlsx", {"2023.1": "2021.1"})
    refiled = "2024/02_示例区司法局.xlsx"  # the round is the newest edition in the inbox: 2024
    shutil.copy(inbox_copy / refiled, inbox_copy / "93_司法局重报.xlsx")
    (inbox_copy / "说明.docx").write_bytes(b"x")
    outbox = tmp_path / "out"
    run = CliRunner().invoke(app, ["batch", str(inbox_copy), "-o", str(outbox), "--jobs", "2"])
    assert run.exit_code == 1, run.output
    wb = openpyxl.load_workbook(outbox / "汇总.xlsx")
    rows = {r["源文件"]: r for r in summary_rows(wb) if r["源文件"]}
    assert rows["90_损坏.xlsx"]["审核状态"] == "无法读取" and "损坏" in rows["90_损坏.xlsx"]["备注"]
    assert rows["91_加密.xlsx"]["审核状态"] == "无法读取" and "加密" in rows["91_加密.xlsx"]["备注"]
    assert rows["92_旧版本.xlsx"]["审核状态"] == "无法读取" and "版本" in rows["92_旧版本.xlsx"]["备注"]
    # the re-filed copy is the newer file: it counts, the earlier one is superseded
    assert rows["93_司法局重报.xlsx"]["审核状态"] == "通过" and "重复报送" in rows["93_司法局重报.xlsx"]["备注"]
    assert rows[refiled]["审核状态"] == "已被替代" and rows[refiled]["排名"] is None
    # last year's edition belongs to another round: listed, never ranked or summed
    old_form = rows[_sample("司法局").name]
    assert old_form["审核状态"] == "非本轮版本" and old_form["排名"] is None and "2024" in old_form["备注"]
    totals = next(r for r in summary_rows(wb) if str(r["部门名称"]).startswith("全区合计"))
    assert totals["部门名称"] == "全区合计（3 个部门）"
    ok = [name for name, r in rows.items() if r["审核状态"] != "无法读取"]
    expected = {p.relative_to(INBOX).as_posix() for p in INBOX.rglob("*.xlsx") if _readable(p)}
    assert set(ok) == expected | {"93_司法局重报.xlsx"}
    for name in ok:
        r = rows[name]
        edition_2024 = name.startswith("2024/") or name == "93_司法局重报.xlsx"
        assert r["版本"] == ("2024.1" if edition_2024 else "2023.1")  # one inbox, two editions
        dept_dir = outbox / r["审核结果文件"].split("、")[0].split("/")[0]
        assert dept_dir.is_dir()
    # no department with an open mandatory finding (or a warning without 说明) has a rank
    for r in rows.values():
        assert (r["排名"] is not None) == (r["审核状态"] == "通过"), r
    skipped = [row[:2] for row in wb["失败文件"].iter_rows(min_row=2, values_only=True)]
    assert ("说明.docx", "已跳过") in skipped
    golden("batch/summary_samples.json", summary_projection(outbox / "汇总.xlsx"))


def test_outputs_per_department(tmp_path: Path) -> None:
    result = process_folder(INBOX, tmp_path / "out", BatchOptions(jobs=0))
    for r in result.results:
        assert r.ok, r.error
        assert set(r.outputs) == {"annotated", "report", "findings"}
        for rel in r.outputs.values():
            assert (tmp_path / "out" / rel).is_file()
        data = json.loads((tmp_path / "out" / r.outputs["findings"]).read_text(encoding="utf-8"))
        assert data["file"]["sha256"] == r.sha256 and data["counts"] == r.counts
    assert not _assert_outputs_whole(tmp_path / "out")


def test_formula_like_department_name_stays_text(make_workbook, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = _sample("司法局")
    patch_strings(src, inbox / "a.xlsx", {read_workbook(src).department: '=HYPERLINK("http://x","局")'})
    result = process_folder(inbox, tmp_path / "out", BatchOptions(jobs=0))
    assert result.results[0].department.startswith("=HYPERLINK")
    cell = openpyxl.load_workbook(result.summary_path)["汇总"]["B2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x","局")', "s")


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)], ids=["kill", "ctrl-c"]
)
def test_killed_batch_leaves_no_partial_file_and_rerun_completes(tmp_path: Path, sig: int, code: int) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "out"
    n = 96  # enough work left after the first manifests that the kill lands mid-batch on a fast machine
    _clones(inbox, n)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "xlproc.cli.app",
        "batch",
        str(inbox),
        "-o",
        str(outbox),
        "--jobs",
        "2",
        "--format",
        "json",
    ]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            # killed once some finished files are on record (their manifests), so the
            # re-run below has work to reuse; the chunk in flight is then cut off
            if len(list(outbox.glob("*/.xlproc-manifest.json"))) >= 3:
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)  # the whole process group, as Ctrl-C or a killed session would
        proc.wait(timeout=60)
    assert proc.returncode == code, "the batch finished before it could be killed"
    done_before = len(list(outbox.glob("*/*_审核结果.json")))
    assert 0 < done_before < n
    for p in _assert_outputs_whole(outbox):
        assert p.name.startswith(TEMP_PREFIX)
    assert not (outbox / "汇总.xlsx").exists()
    result = process_folder(inbox, outbox, BatchOptions(jobs=2))
    assert result.files == n and result.failed == 0
    assert result.cached > 0  # finished work of the killed run is reused
    assert not _assert_outputs_whole(outbox)  # temporaries swept, everything whole
    assert len(list(outbox.glob("*/*_审核结果.json"))) == n


@pytest.mark.slow
def test_dask_local_cluster_matches_local_pool(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    inbox = tmp_path / "inbox"
    shutil.copytree(INBOX, inbox)
    local = process_folder(inbox, tmp_path / "local", BatchOptions(jobs=2))
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    ) as cluster:
        remote = process_folder(inbox, tmp_path / "dask", BatchOptions(scheduler=cluster.scheduler_address))
    assert [(r.source, r.status, r.counts) for r in remote.results] == [
        (r.source, r.status, r.counts) for r in local.results
    ]
    assert {r.worker for r in remote.results} != {r.worker for r in local.results}
    assert outbox_projection(tmp_path / "dask") == outbox_projection(tmp_path / "local")


def test_previous_year_workbooks_are_matched_by_department(tmp_path: Path) -> None:
    if not any(PREVIOUS.glob("*.xlsx")):
        pytest.skip("samples/previous has no workbooks yet")
    result = process_folder(INBOX, tmp_path / "out", BatchOptions(jobs=0, previous=PREVIOUS))
    with_previous = [r for r in result.results if r.previous]
    assert with_previous, "no department matched its previous-year workbook"
    assert all(r.previous_sha256 for r in with_previous)
    again = process_folder(INBOX, tmp_path / "out", BatchOptions(jobs=0, previous=PREVIOUS))
    assert again.cached == again.files


def test_department_answer_starting_with_equals_reaches_summary_as_text(tmp_path: Path) -> None:
    first = process_folder(INBOX, tmp_path / "round1", BatchOptions(jobs=0))
    r = next(r for r in first.results if r.counts.get("open_warning"))
    annotated = tmp_path / "round1" / r.outputs["annotated"]
    wb = openpyxl.load_workbook(annotated)
    ws = wb["审核结果"]
    row = next(c.row for c in ws["G"] if c.value == "待说明")
    answer = "=1+1 系车辆维修，已报批"
    ws[f"H{row}"].value = answer
    ws[f"H{row}"].data_type = "s"  # typed as text, as a department would (a leading ' in Excel)
    inbox = tmp_path / "round2-in"
    inbox.mkdir()
    wb.save(inbox / "returned.xlsx")
    second = process_folder(inbox, tmp_path / "round2", BatchOptions(jobs=0))
    res = second.results[0]
    assert res.ok, res.error
    assert res.counts["explained"] == 1
    summary = openpyxl.load_workbook(second.summary_path)
    cells = [row[7] for row in summary["审核问题"].iter_rows(min_row=2) if row[7].value]
    assert [(c.value, c.data_type) for c in cells] == [(answer, "s")]
    assert summary_rows(summary)[0]["已说明提示"] == 1


def test_missing_inbox_cannot_run(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["batch", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert run.exit_code == 2
    assert "收件目录不存在" in run.output


def test_changed_rule_catalogue_reprocesses_unchanged_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(_sample("司法局"), inbox)
    rules = tmp_path / "rules.yaml"
    shutil.copy(ROOT / "workbook_templates" / "zpb-2023" / "rules.yaml", rules)
    options = BatchOptions(jobs=0, pipeline=PipelineOptions(rules_path=str(rules)))
    assert process_folder(inbox, tmp_path / "out", options).cached == 0
    assert process_folder(inbox, tmp_path / "out", options).cached == 1
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# 修订\n", encoding="utf-8")
    assert process_folder(inbox, tmp_path / "out", options).cached == 0


def test_cli_json_matches_library(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["batch", str(INBOX), "-o", str(tmp_path / "out"), "--jobs", "0", "--format", "json"])
    cli = json.loads(run.stdout)
    lib = process_folder(INBOX, tmp_path / "out", BatchOptions(jobs=0)).to_dict()  # same outbox: reused results

    def projection(d: dict) -> list:
        keys = ("source", "status", "department", "counts", "figures", "findings", "outputs", "error", "notes")
        return [{k: r[k] for k in keys} for r in d["results"]]

    assert run.exit_code == lib["exit_code"]
    assert projection(cli) == projection(lib)
    assert cli["counts"]["files"] == lib["counts"]["files"] == lib["counts"]["cached"]


def test_unwritable_output_fails_only_that_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = shutil.copy(_sample("司法局"), inbox)
    shutil.copy(_sample("统计局"), inbox)
    dept = read_workbook(Path(src)).department
    (tmp_path / "out" / dept / f"{Path(src).stem}_审核结果.json").mkdir(parents=True)
    result = process_folder(inbox, tmp_path / "out", BatchOptions(jobs=0))
    by = {r.source: r for r in result.results}
    assert not by[Path(src).name].ok and "无法写入输出文件" in by[Path(src).name].error
    assert [r.ok for r in result.results].count(True) == 1


@pytest.mark.parametrize("jobs", [0, 2])
def test_broken_template_stops_the_batch_before_any_file(tmp_path: Path, jobs: int) -> None:
    """With workers, the parent asks one of them to build the pipeline instead of building
    its own: a broken report template must still stop the batch, in Chinese, with no output."""
    from xlproc.report.render import ReportError

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(_sample("司法局"), inbox)
    template = tmp_path / "report.docx"
    template.write_bytes(b"PK\x03\x04 not a docx")
    options = BatchOptions(jobs=jobs, pipeline=PipelineOptions(report_template=str(template)))
    with pytest.raises(ReportError, match="报告模板"):
        process_folder(inbox, tmp_path / "out", options)
    assert not list((tmp_path / "out").glob("*/*.xlsx"))
    assert not (tmp_path / "out" / "汇总.xlsx").exists()


def test_outputs_never_go_through_a_link_out_of_the_outbox(tmp_path: Path) -> None:
    """A department folder in the outbox that is a symlink to elsewhere fails the file; a
    file that is a symlink is replaced by the output, never written through."""
    from xlproc.pipeline import cached_pipeline, process_file
    from xlproc.pipeline.task import output_paths

    src = sorted((ROOT / "samples" / "inbox").glob("02_*.xlsx"))[0]
    pipeline = cached_pipeline(PipelineOptions(report=False))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outbox = tmp_path / "out"
    outbox.mkdir()
    first = process_file(src, outbox, pipeline)
    assert first.ok
    folder = output_paths(outbox, first.department, src.stem)["findings"].parent
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere, target_is_directory=True)
    linked = process_file(src, outbox, pipeline)
    assert not linked.ok and list(elsewhere.iterdir()) == []
    folder.unlink()
    folder.mkdir()
    victim = elsewhere / "victim.json"
    victim.write_text("keep", encoding="utf-8")
    findings = output_paths(outbox, first.department, src.stem)["findings"]
    findings.symlink_to(victim)
    assert process_file(src, outbox, pipeline).ok
    assert victim.read_text(encoding="utf-8") == "keep" and not findings.is_symlink()
