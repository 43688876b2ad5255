"""Batch orchestration with a stub per-file task: discovery, isolation, idempotence, summary.

These tests need no real workbook; the end-to-end tests on generated workbooks are in
test_batch_pipeline.py.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from test_batch_helpers import stub_task, summary_projection, write_stub

from xlproc.batch import BatchOptions, BatchResult, process_folder
from xlproc.batch.discover import discover
from xlproc.batch.executors import WORKER_CRASHED
from xlproc.batch.summary import ranks, write_summary
from xlproc.errors import OutputError, XlprocError
from xlproc.pipeline import FileResult, safe_folder_name

STUB = BatchOptions(jobs=0, task=stub_task)


def test_discover_skips_non_workbooks_locks_and_outbox(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_stub(inbox, "a/自评表.xlsx", department="甲")
    write_stub(inbox, "b/自评表.xlsx", department="乙")
    write_stub(inbox, "c.XLSX", department="丙")
    write_stub(inbox, "~$c.xlsx")
    write_stub(inbox, ".~xlproc-abc.xlsx")
    write_stub(inbox, "old.xls")
    write_stub(inbox, "说明.pdf")
    write_stub(inbox, "out/甲/x_审核.xlsx")
    found = discover(inbox, exclude=(inbox / "out",))
    assert [(s.name, s.stem) for s in found.sources] == [
        ("a/自评表.xlsx", "a_自评表"),
        ("b/自评表.xlsx", "b_自评表"),
        ("c.XLSX", "c"),
    ]
    assert [name for name, _ in found.skipped] == ["old.xls", "说明.pdf"]
    assert "另存为 .xlsx" in found.skipped[0][1]


def test_safe_folder_name_strips_unsafe_characters() -> None:
    assert safe_folder_name('网信办/信息中心:*?"<>|\x07') == "网信办_信息中心"
    assert safe_folder_name("  ..  ") == "未填部门名称"


def test_failed_files_duplicates_and_exit_code(tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "out"
    write_stub(inbox, "01.xlsx", department="司法局", score="95.50", warnings=1)
    write_stub(inbox, "02.xlsx", department="司法局 ", score="90")
    write_stub(inbox, "03.xlsx", department="统计局", score="99")
    write_stub(inbox, "04.xlsx", fail="工作簿已加密，无法读取")
    (inbox / "05.xlsx").write_bytes(b"\x00not json")
    write_stub(inbox, "readme.txt")
    os.utime(inbox / "01.xlsx", (2_000_000_000, 2_000_000_000))  # 01 is the department's latest workbook
    os.utime(inbox / "02.xlsx", (1_900_000_000, 1_900_000_000))
    result = process_folder(inbox, outbox, STUB)
    assert [(r.source, r.status) for r in result.results] == [
        ("01.xlsx", "ok"),
        ("02.xlsx", "ok"),
        ("03.xlsx", "ok"),
        ("04.xlsx", "failed"),
        ("05.xlsx", "failed"),
    ]
    assert result.failed == 2 and result.exit_code == 1
    assert result.duplicates == {"司法局": ["01.xlsx", "02.xlsx"]}
    assert result.superseded == {"02.xlsx": "01.xlsx"}
    assert any("重复报送" in n and "以最新的本文件为准" in n for n in result.results[0].notes)
    assert any("已被替代" in n for n in result.results[1].notes)
    assert result.skipped == [("readme.txt", "不是 .xlsx 工作簿")]
    # both duplicates keep their own outputs
    assert sorted(p.name for p in (outbox / "司法局").glob("0*.json")) == ["01_审核结果.json", "02_审核结果.json"]
    wb = openpyxl.load_workbook(outbox / "汇总.xlsx")
    rows = summary_rows(wb)
    # ranked first (passed only), then by status; the superseded workbook counts nowhere
    assert [(r["部门名称"], r["审核状态"], r["排名"]) for r in rows] == [
        ("统计局", "通过", 1),
        ("司法局", "待说明", None),
        ("（无法读取）", "无法读取", None),
        ("（无法读取）", "无法读取", None),
        ("司法局 ", "已被替代", None),
        ("全区合计（2 个部门）", None, None),
    ]
    remark = {r["源文件"]: r["备注"] for r in rows[:-1]}
    assert "工作簿已加密" in remark["04.xlsx"] and "重复报送" in remark["01.xlsx"] and "已被替代" in remark["02.xlsx"]
    failed = [r[:3] for r in wb["失败文件"].iter_rows(min_row=2, values_only=True)]
    assert failed == [
        ("04.xlsx", "处理失败", "工作簿已加密，无法读取"),
        ("05.xlsx", "处理失败", "文件已损坏，无法读取"),
        ("02.xlsx", "已被替代", "同一部门较新的工作簿 01.xlsx 计入汇总"),
        ("readme.txt", "已跳过", "不是 .xlsx 工作簿"),
    ]
    by_rule = {r[0]: r[2] for r in wb["按规则"].iter_rows(min_row=2, values_only=True)}
    assert by_rule == {"stub.w": 1}


def test_clean_batch_exits_zero(tmp_path: Path) -> None:
    write_stub(tmp_path / "in", "a.xlsx", department="甲", score="100")
    result = process_folder(tmp_path / "in", tmp_path / "out", STUB)
    assert (result.exit_code, result.failed, result.errors) == (0, 0, 0)


def test_rerun_reuses_unchanged_files(tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "out"
    for i in range(4):
        write_stub(inbox, f"{i}.xlsx", department=f"部门{i}", score=str(90 + i))
    first = process_folder(inbox, outbox, STUB)
    assert first.cached == 0 and first.processed == 4
    second = process_folder(inbox, outbox, STUB)
    assert second.cached == 4 and second.processed == 0
    assert [r.department for r in second.results] == [r.department for r in first.results]
    # touched (mtime changed, same content): hashed again, still reused
    os.utime(inbox / "1.xlsx", ns=(1, 1))
    # changed content: processed again
    write_stub(inbox, "2.xlsx", department="部门2", score="50")
    third = process_folder(inbox, outbox, STUB)
    assert [r.cached for r in third.results] == [True, True, False, True]
    assert third.results[2].figures["score_converted"] == "50"
    # the department changed: old outputs removed, new ones written
    write_stub(inbox, "3.xlsx", department="新部门", score="93")
    fourth = process_folder(inbox, outbox, STUB)
    assert not (outbox / "部门3").exists() or not any((outbox / "部门3").glob("*.json"))
    assert (outbox / "新部门" / "3_审核结果.json").is_file()
    assert fourth.results[3].department == "新部门"
    forced = process_folder(inbox, outbox, BatchOptions(jobs=0, task=stub_task, force=True))
    assert forced.cached == 0
    # a deleted output makes the file be processed again
    (outbox / "部门0" / "0_审核结果.json").unlink()
    again = process_folder(inbox, outbox, STUB)
    assert [r.cached for r in again.results] == [False, True, True, True]


def test_crashed_worker_loses_no_other_file(tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "out"
    for i in range(9):
        write_stub(inbox, f"{i:02}.xlsx", department=f"部门{i}", score="90")
    write_stub(inbox, "04x.xlsx", crash=True)
    result = process_folder(inbox, outbox, BatchOptions(jobs=2, task=stub_task, chunk_size=3))
    status = {r.source: r.status for r in result.results}
    assert status.pop("04x.xlsx") == "failed"
    assert set(status.values()) == {"ok"} and len(status) == 9
    crashed = next(r for r in result.results if r.source == "04x.xlsx")
    assert crashed.error == WORKER_CRASHED
    assert result.exit_code == 1


def test_progress_events_count_up_to_total(tmp_path: Path) -> None:
    for i in range(3):
        write_stub(tmp_path / "in", f"{i}.xlsx", department=f"部门{i}", errors=1)
    events = []
    process_folder(tmp_path / "in", tmp_path / "out", STUB, on_progress=events.append)
    last = events[-1]
    assert (last.phase, last.total, last.done, last.errors) == ("process", 3, 3, 3)
    assert [e.done for e in events] == sorted(e.done for e in events)


def _result(source: str, dept: str, score: str | None, **kw) -> FileResult:
    figures = {
        "score_converted": score,
        "score_total": score,
        "income_total": "197.06",
        "sangong_actual": "1.79",
        "sangong_change": "0.86",
        "sanbao_coverage": "100.00",
    }
    return FileResult(source=source, sha256="0" * 64, department=dept, figures=figures, **kw)


def test_ranks_share_places_on_ties() -> None:
    results = [_result("a", "甲", "90"), _result("b", "乙", "95"), _result("c", "丙", "90"), _result("d", "丁", None)]
    assert ranks(results, "score_converted") == {"b": 1, "a": 2, "c": 2}


def _formula_batch(tmp_path: Path) -> BatchResult:
    finding = {
        "rule_id": "sangong.reason",
        "severity": "warning",
        "sheet": "三公经费",
        "cell": "C12",
        "message": "“三公”经费本年实际数增加，未填增减原因",
        "explanation": "=1+1 车辆维修",
        "explained": True,
    }
    results = [
        _result(
            "01.xlsx",
            '=HYPERLINK("http://x","点我")',
            "100.00",
            findings=[finding],
            counts={"error": 0, "warning": 1, "info": 0, "explained": 1, "open_warning": 0},
            outputs={"findings": "HYPERLINK/01_审核结果.json"},
        ),
        _result(
            "02.xlsx",
            "+86-311 统计局",
            "81.50",
            counts={"error": 1, "warning": 0, "info": 0, "explained": 0, "open_warning": 0},
            findings=[
                {
                    "rule_id": "budget.balance",
                    "severity": "error",
                    "sheet": "收支预算",
                    "cell": "C10",
                    "message": "@SUM(A1) 收入合计 197.06 ≠ 支出合计 197.16",
                    "explanation": "",
                    "explained": False,
                }
            ],
        ),
        FileResult(source="03.xlsx", status="failed", error="-文件已损坏"),
    ]
    return BatchResult(tmp_path, tmp_path, results, skipped=[("x.pdf", "不是 .xlsx 工作簿")])


def test_formula_like_department_text_stays_text(tmp_path: Path) -> None:
    path = write_summary(tmp_path / "汇总.xlsx", _formula_batch(tmp_path))
    wb = openpyxl.load_workbook(path)
    name = wb["汇总"]["B2"]
    assert (name.value, name.data_type) == ('=HYPERLINK("http://x","点我")', "s")
    assert wb["汇总"]["B3"].data_type == "s"
    note = wb["审核问题"]["H2"]
    assert (note.value, note.data_type) == ("=1+1 车辆维修", "s")
    with zipfile.ZipFile(path) as z:
        for part in z.namelist():
            if part.startswith("xl/worksheets/sheet"):
                assert "<f>" not in z.read(part).decode(), part


def test_summary_projection_golden(tmp_path: Path, golden) -> None:
    from xlproc.form.packs import pack_by_id

    figures = pack_by_id("zpb-2023").summary  # a stub batch names no pack: the summary columns are the pack's
    path = write_summary(tmp_path / "汇总.xlsx", _formula_batch(tmp_path), figures)
    projection = summary_projection(path)
    assert projection["charts"][0]["refs"] == [
        "汇总!$B$2",
        "汇总!$F$2",
    ]  # 部门名称, 换算得分: only the passed department
    golden("batch/summary_stub.json", projection)


def test_returned_annotated_workbook_keeps_the_original_stem(tmp_path: Path) -> None:
    write_stub(tmp_path, "02_司法局_审核.xlsx", department="司法局")
    write_stub(tmp_path, "03_统计局.xlsx", department="统计局")
    write_stub(tmp_path, "03_统计局_审核.xlsx", department="统计局")  # our output beside its source: skipped
    (tmp_path / "退回").mkdir()
    write_stub(tmp_path / "退回", "03_统计局_审核.xlsx", department="统计局")  # a return in a folder of its own
    found = discover(tmp_path)
    assert [s.stem for s in found.sources] == ["02_司法局", "03_统计局", "退回_03_统计局"]
    assert [name for name, _why in found.skipped] == ["03_统计局_审核.xlsx"]


def test_outbox_equal_to_inbox_cannot_run(tmp_path: Path) -> None:
    write_stub(tmp_path, "a.xlsx", department="甲")
    with pytest.raises(XlprocError, match="不能与收件目录相同"):
        process_folder(tmp_path, tmp_path, STUB)


def test_unwritable_summary_is_a_clear_error(tmp_path: Path) -> None:
    write_stub(tmp_path / "in", "a.xlsx", department="甲")
    (tmp_path / "out" / "汇总.xlsx").mkdir(parents=True)  # like a file locked by Excel: cannot be replaced
    with pytest.raises(OutputError, match="无法写入汇总表"):
        process_folder(tmp_path / "in", tmp_path / "out", STUB)
    # the workbook's own outputs are kept and reused once the summary can be written
    (tmp_path / "out" / "汇总.xlsx").rmdir()
    assert process_folder(tmp_path / "in", tmp_path / "out", STUB).cached == 1


def summary_rows(wb) -> list[dict]:
    """The 汇总 sheet's rows as dicts keyed by column heading (columns follow the packs' summary)."""
    head, *rows = wb["汇总"].iter_rows(values_only=True)
    return [dict(zip(head, r, strict=True)) for r in rows]
