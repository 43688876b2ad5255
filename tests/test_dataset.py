"""The district dataset (issue 14): frames from the samples, exports, checks across departments."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from script_modules import load_script
from typer.testing import CliRunner

import xlproc
from xlproc.batch import BatchOptions, process_folder
from xlproc.cli.app import app
from xlproc.dataset.export import write_dataset
from xlproc.pipeline import PipelineOptions
from xlproc.template.fill import fill_workbook

ROOT = Path(__file__).resolve().parent.parent
# the 2023 edition's samples (samples/inbox/2024 holds another edition's; mixed inboxes are not the point here)
INBOX_FILES = sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))
PREVIOUS_FILES = sorted((ROOT / "samples" / "previous").glob("*.xlsx"))


def _folder(folder: Path, files: list[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy2(f, folder / f.name)
    return folder


@pytest.fixture(scope="module")
def ds():
    return xlproc.dataset(INBOX_FILES, previous=PREVIOUS_FILES)


def _row(frame: pd.DataFrame, department: str) -> pd.Series:
    rows = frame[frame["department"] == department]
    assert len(rows) == 1, department
    return rows.iloc[0]


def test_frames_of_the_samples(ds) -> None:
    spec = ds.spec
    assert ds.fields.shape == (7, 2 + len(spec.fields))
    assert list(ds.fields.columns[:2]) == ["department", "source"]
    assert {k: v.shape for k, v in ds.tables.items()} == {
        "goals": (23, 7),
        "achievements": (23, 6),
        "nontax": (10, 6),
        "projects": (31, 10),
        "key_tasks": (10, 5),
    }
    assert ds.meta.shape == (7, 8) and ds.problems.shape == (1, 8)
    # exact values, exact types: amounts are Decimal (never float), dates date, text str
    sifa = _row(ds.fields, "示例区司法局")
    assert sifa["sangong_total_actual"] == Decimal("3.24") and isinstance(sifa["sangong_total_actual"], Decimal)
    assert sifa["budget_income_total"] == Decimal("627.60")
    assert sifa["staff_actual"] == Decimal(29)
    assert isinstance(sifa["fill_date"], date)
    assert sifa["source"] == "02_示例区司法局.xlsx"
    assert not any(isinstance(v, float) for v in ds.fields.to_numpy().ravel())
    projects = ds.tables["projects"]
    first = projects[projects["department"] == "示例区司法局"].iloc[0]
    assert (first["row"], first["name"], first["amount"], first["self_score"]) == (
        6,
        "法律援助专项经费",
        Decimal("45"),
        Decimal("98"),
    )
    # findings: the per-file checks, with their status
    f = ds.findings
    assert set(f.columns) >= {"department", "rule", "severity", "sheet", "cell", "message", "status"}
    slip = f[(f["department"] == "示例区市场监督管理局") & (f["rule"] == "sangong.unit_slip")]
    assert len(slip) == 1 and slip.iloc[0]["severity"] == "warning" and slip.iloc[0]["status"] == "待说明"
    assert set(f.loc[f["severity"] == "error", "status"]) == {"待修改"}
    # meta: file, edition, hash, read time
    m = _row(ds.meta, "示例区司法局")
    assert m["edition"] == "xlproc-zpb 2023.1" and len(m["sha256"]) == 64 and m["status"] == "已读取"
    assert m["read_at"].startswith(str(date.today().year))


def test_unreadable_cell_is_missing_with_its_problem(ds) -> None:
    stats = _row(ds.fields, "示例区统计局")
    assert stats["staff_quota"] is None  # "约10": never a number, never 0
    p = ds.problems.iloc[0]
    assert (p["department"], p["field"], p["raw"], p["sheet"]) == ("示例区统计局", "staff_quota", "约10", "基本情况")
    assert "约10" in p["message"]


def test_dataset_of_a_batch_equals_the_library_read_and_totals_match(ds, tmp_path: Path) -> None:
    """The batch gathers the same frames from its workers (no second read), and 汇总's totals are their sums."""
    inbox = _folder(tmp_path / "inbox", INBOX_FILES)
    previous = _folder(tmp_path / "previous", PREVIOUS_FILES)
    opts = BatchOptions(jobs=0, previous=previous, pipeline=PipelineOptions(report=False))
    batch = process_folder(inbox, tmp_path / "out", opts)
    bds = batch.dataset
    pd.testing.assert_frame_equal(bds.fields, ds.fields)
    for tid, frame in ds.tables.items():
        pd.testing.assert_frame_equal(bds.tables[tid], frame)
    assert (tmp_path / "out" / "全区数据.xlsx").is_file()
    wb = openpyxl.load_workbook(batch.summary_path)
    ws = wb["汇总"]
    header = [c.value for c in ws[1]]
    total_row = next(r for r in ws.iter_rows(values_only=True) if str(r[1]).startswith("全区合计"))
    assert total_row[1] == "全区合计（7 个部门）"

    def frame_sum(fid: str) -> Decimal:
        return sum((v for v in ds.fields[fid] if v is not None), Decimal(0))

    assert total_row[header.index("收入合计（万元）")] == float(frame_sum("budget_income_total"))
    assert total_row[header.index("“三公”本年实际（万元）")] == float(frame_sum("sangong_total_actual"))
    coverage = frame_sum("sanbao_total_actual") / frame_sum("sanbao_total_plan") * 100
    assert total_row[header.index("“三保”保障率（%）")] == pytest.approx(float(coverage), abs=1e-9)
    # 全区合计 sheet: 三保, 三公, budgets and 决算 by function class, each a sum of the frame
    totals = {}
    section = ""
    for r in wb["全区合计"].iter_rows(values_only=True):
        if r[0] and r[1] and isinstance(r[1], str):
            section = r[0]
        elif r[0] and section and not r[0].startswith("数据来源"):
            totals[(section, r[0])] = r[1:]
    by_class = [k for k in totals if k[0].startswith("决算支出")]
    assert len(by_class) == len([f for f in ds.spec.fields if f.startswith("final_exp_") and f.endswith("_amount")])
    assert totals[("决算支出（按功能分类）（决算）", "教育支出")][0] is None  # no department: blank, not 0
    assert totals[("决算支出（按功能分类）（决算）", "一般公共服务支出")][0] == float(frame_sum("final_exp_201_amount"))
    assert totals[("“三保”支出（重大政策落实）", "“三保”支出合计")][:2] == (
        float(frame_sum("sanbao_total_plan")),
        float(frame_sum("sanbao_total_actual")),
    )
    assert totals[("支出预算（按功能分类）（收支预算）", "支出合计")][0] == float(frame_sum("budget_exp_total"))
    assert totals[("“三公”经费（三公经费）", "公务接待费")][2] == float(frame_sum("sangong_reception_actual"))
    # a re-run reuses every file and still has every department's figures (records kept in the manifests)
    again = process_folder(inbox, tmp_path / "out", opts)
    assert again.cached == 7
    pd.testing.assert_frame_equal(again.dataset.fields, ds.fields)


def _clean_samples(folder: Path, plant: Decimal | None = None) -> Path:
    """The sample departments with 05's unit slip corrected; ``plant``: 统计局's 公务接待费 set to that."""
    ms = load_script("make_samples")
    folder.mkdir()
    for s in ms.load_samples():
        if s.folder != "inbox":
            continue
        values = dict(s.values)
        if values["dept_name"] == "示例区市场监督管理局":
            values["sangong_reception_actual"] = Decimal("0.39")
        if plant is not None and values["dept_name"] == "示例区统计局":
            values["sangong_reception_actual"] = plant
        fill_workbook(folder / s.filename, values, s.tables)
    return folder


def test_peer_outlier_three_gong_per_head(tmp_path: Path) -> None:
    clean = xlproc.dataset(_clean_samples(tmp_path / "clean"))
    assert clean.across == []
    assert not clean.findings["rule"].str.startswith("across.").any()
    per_head = {
        r.department: r.sangong_total_actual / r.staff_actual for r in clean.fields.itertuples() if r.staff_actual
    }
    stats = "示例区统计局"
    peers = sorted(v for k, v in per_head.items() if k != stats)
    median = peers[len(peers) // 2 - 1 : len(peers) // 2 + 1]
    target = sum(median) / 2 * 5 * clean.value(stats, "staff_actual")  # five times the peers' median per head
    other = clean.value(stats, "sangong_total_actual") - clean.value(stats, "sangong_reception_actual")
    planted = xlproc.dataset(_clean_samples(tmp_path / "planted", (target - other).quantize(Decimal("0.01"))))
    found = planted.across
    assert [(f["department"], f["rule_id"], f["severity"]) for f in found] == [
        (stats, "across.sangong_per_head", "warning")
    ]
    msg = found[0]["message"]
    assert "全区中位数" in msg and "全区 7 个部门中由高到低第 1 位" in msg
    assert (found[0]["sheet"], found[0]["cell"]) == ("三公经费", "D9")
    row = planted.findings[planted.findings["rule"] == "across.sangong_per_head"]
    assert list(row["department"]) == [stats]


def test_year_change_without_a_note(tmp_path: Path) -> None:
    from xlproc.dataset.across import parse_rules, run_across
    from xlproc.dataset.frames import FileEntry, build_frames

    base = xlproc.dataset(INBOX_FILES)
    rules = parse_rules(
        {
            "across": [
                {
                    "id": "across.t",
                    "type": "year_change",
                    "figure": "budget_income_total",
                    "factor": 2,
                    "note": "sangong_change_reason",
                    "min_departments": 3,
                    "unit": "万元",
                }
            ]
        },
        Path("t.yaml"),
        base.spec,
    )
    entries = []
    for e in base.entries:
        now = Decimal(e.record["fields"]["budget_income_total"])
        before = now / 3 if e.department == "示例区统计局" else now
        fields = dict(e.record["fields"])
        if e.department == "示例区统计局":
            fields.pop("sangong_change_reason", None)
        rec = {**e.record, "fields": fields}
        entries.append(FileEntry(**{**e.__dict__, "record": rec, "previous": {"budget_income_total": str(before)}}))
    found = run_across(rules, build_frames(base.spec, entries), base.spec)
    assert [(f["department"], f["severity"]) for f in found] == [("示例区统计局", "warning")]
    assert "为上年的 3.00 倍" in found[0]["message"] and "中位数为 1.00" in found[0]["message"]


def test_across_rules_are_checked(ds) -> None:
    from xlproc.dataset.across import AcrossRuleError, parse_rules

    bad = [
        ({"id": "a", "type": "peer_outlier", "figure": "nope"}, "没有字段 nope"),
        ({"id": "a", "type": "peer_outlier", "figure": "dept_name"}, "不是数字"),
        ({"id": "a", "type": "peer_outlier", "figure": "staff_actual", "severity": "error"}, "info 或 warning"),
        ({"id": "a", "type": "median", "figure": "staff_actual"}, "type"),
        ({"id": "a", "type": "year_change", "figure": "staff_actual", "threshold": 3}, "未知参数 threshold"),
    ]
    for node, reason in bad:
        with pytest.raises(AcrossRuleError, match=reason):
            parse_rules({"across": [node]}, Path("r.yaml"), ds.spec)


def _plain(frame: pd.DataFrame) -> list[list]:
    return [[None if (v is None or v != v) else v for v in row] for row in frame.astype(object).to_numpy().tolist()]


def test_parquet_round_trips_with_identical_values(ds, tmp_path: Path) -> None:
    out = write_dataset(ds, tmp_path / "全区数据.parquet")
    for name, frame in ds.frames().items():
        back = pd.read_parquet(out / f"{name}.parquet")
        assert list(back.columns) == list(frame.columns), name
        assert _plain(back) == _plain(frame), name
    back = pd.read_parquet(out / "fields.parquet")
    assert isinstance(back["budget_income_total"].iloc[0], Decimal)


def test_csv_keeps_exact_digits_and_field_ids(ds, tmp_path: Path) -> None:
    out = write_dataset(ds, tmp_path / "全区数据.csv")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.csv" for n in ds.frames())
    back = pd.read_csv(out / "fields.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    row = back[back["department"] == "示例区司法局"].iloc[0]
    assert row["budget_income_total"] == str(ds.value("示例区司法局", "budget_income_total"))
    assert row["staff_quota"] != "" and back[back["department"] == "示例区统计局"].iloc[0]["staff_quota"] == ""


def test_xlsx_export_labels_and_text(ds, tmp_path: Path) -> None:
    path = write_dataset(ds, tmp_path / "全区数据.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["字段", "表格·部门整体绩效目标"] and wb.sheetnames[-3:] == [
        "审核问题",
        "无法读取的单元格",
        "文件",
    ]
    ws = wb["字段"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["部门名称", "源文件", "基本情况·部门名称"]
    assert len(set(header)) == len(header)  # every column label unique
    col = header.index(ds.labels("fields")["budget_income_total"]) + 1
    sifa = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "示例区司法局")
    assert ws.cell(sifa, col).value == 627.6 and ws.cell(sifa, 1).data_type == "s"
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape"
    findings = wb["审核问题"]
    assert {c.value for c in findings["D"][1:]} >= {"强制性", "提示性"}


def test_xlsx_export_holds_every_value_of_the_frames(ds, tmp_path: Path) -> None:
    """Every cell of every frame, read back with openpyxl: numbers as numbers in the form's
    decimals, dates as dates, yes/no and severities as their Chinese labels, blanks empty."""
    from xlproc.results import SEVERITY_LABELS

    path = write_dataset(ds, tmp_path / "全区数据.xlsx")
    wb = openpyxl.load_workbook(path)
    names = ds.sheet_names()
    checked = 0
    for name, frame in ds.frames().items():
        ws = wb[names.get(name, name)[:31]]
        rows = list(ws.iter_rows(min_row=2))
        assert len(rows) == len(frame), name
        for cells, values in zip(rows, frame.itertuples(index=False, name=None), strict=True):
            for col, cell, value in zip(frame.columns, cells, values, strict=False):
                if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
                    assert cell.value is None, (name, cell.coordinate)
                elif isinstance(value, bool):
                    assert cell.value == ("是" if value else "否")
                elif isinstance(value, (Decimal, int, float)):
                    assert cell.value == float(value) and cell.data_type == "n", (name, cell.coordinate)
                elif isinstance(value, date):
                    assert cell.value.date() == value and cell.number_format == "yyyy-mm-dd"
                elif col == "severity" and name != "fields":
                    assert cell.value == SEVERITY_LABELS.get(value, value)
                else:
                    assert cell.value == str(value) and cell.data_type == "s", (name, cell.coordinate)
                checked += 1
    assert checked > 1000
    ws = wb["字段"]
    header = [c.value for c in ws[1]]
    amount = header.index(ds.labels("fields")["budget_income_total"]) + 1
    assert ws.cell(2, amount).number_format == "#,##0.00" and ws.freeze_panes == "C2"


def test_formula_like_department_name_is_text_in_the_export(ds, tmp_path: Path) -> None:
    from dataclasses import replace

    entries = [replace(e, department='=HYPERLINK("http://x","局")') if i == 0 else e for i, e in enumerate(ds.entries)]
    from xlproc.dataset.frames import build_frames

    path = write_dataset(build_frames(ds.spec, entries), tmp_path / "x.xlsx")
    cell = openpyxl.load_workbook(path)["字段"]["A2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x","局")', "s")


def test_cli_dataset(tmp_path: Path) -> None:
    out = tmp_path / "全区数据.xlsx"
    inbox = _folder(tmp_path / "inbox", INBOX_FILES)
    run = CliRunner().invoke(app, ["dataset", str(inbox), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "7 个部门" in run.output and "跨部门核对发现 1 个问题" in run.output
    assert "示例区市场监督管理局" in run.output  # 元 typed as 万元: 三公 per head far above its peers
    bad = CliRunner().invoke(app, ["dataset", str(inbox), "-o", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2 and "扩展名不对" in bad.output and ".parquet" in bad.output


@pytest.mark.libreoffice
def test_dataset_xlsx_opens_in_libreoffice(soffice: str, ds, tmp_path: Path) -> None:
    path = write_dataset(ds, tmp_path / "全区数据.xlsx")
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "全区数据.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "全区数据：字段" in text and "示例区司法局" in text and "约10" in text


def _cells(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's cells (value and number format), the read times blanked: they differ
    from run to run, and with them which strings are shared, so the raw parts may differ."""
    import re

    wb = openpyxl.load_workbook(path)
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
    return {
        ws.title: [
            tuple((stamp.sub("T", c.value) if isinstance(c.value, str) else c.value, c.number_format) for c in row)
            for row in ws.iter_rows()
        ]
        for ws in wb.worksheets
    }


def test_a_pool_worker_writes_the_same_district_workbook(tmp_path: Path) -> None:
    """With a pool, 全区数据.xlsx is written by an idle worker from plain rows (dataset.sheets)
    while the parent writes 汇总.xlsx: the same cells and formats as the parent's."""
    inbox = _folder(tmp_path / "inbox", INBOX_FILES)
    here = process_folder(inbox, tmp_path / "here", BatchOptions(jobs=0))
    pooled = process_folder(inbox, tmp_path / "pooled", BatchOptions(jobs=2))
    assert pooled.dataset_path == tmp_path / "pooled" / "全区数据.xlsx" and not pooled.dataset_error
    assert _cells(pooled.dataset_path) == _cells(here.dataset_path)


def test_the_workers_refusal_to_write_the_district_workbook_is_said(tmp_path: Path) -> None:
    inbox = _folder(tmp_path / "inbox", INBOX_FILES)
    (tmp_path / "out" / "全区数据.xlsx").mkdir(parents=True)  # a folder where the workbook goes
    batch = process_folder(inbox, tmp_path / "out", BatchOptions(jobs=2))
    assert batch.dataset_path is None and "全区数据.xlsx" in batch.dataset_error
    assert batch.summary_path.is_file()  # the summary and every file's outputs stand


def test_a_worker_that_fails_otherwise_leaves_the_workbook_to_the_parent(tmp_path: Path) -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from xlproc.batch import _write_summaries

    class Crashing:  # the pool's aside, whose worker died
        def can_aside(self) -> bool:
            return True

        def aside(self, fn, *args):
            future: Future = Future()
            future.set_exception(BrokenProcessPool("a worker died"))
            return future

    inbox = _folder(tmp_path / "inbox", INBOX_FILES)
    batch = process_folder(inbox, tmp_path / "out", BatchOptions(jobs=0, summary=False))
    batch.outbox = tmp_path / "again"
    batch.outbox.mkdir()
    _write_summaries(batch, BatchOptions(), None, Crashing())
    assert batch.dataset_path == tmp_path / "again" / "全区数据.xlsx" and not batch.dataset_error
    assert _cells(batch.dataset_path) == _cells(
        process_folder(inbox, tmp_path / "here", BatchOptions(jobs=0)).dataset_path
    )


def test_a_failing_summary_waits_for_the_worker_before_the_pool_stops(tmp_path: Path) -> None:
    """The summary cannot be written (here: a folder in its place; on a full disk alike): the
    worker writing the dataset finishes or removes its temporary before the batch stops the
    pool, so no half-written temporary is left behind (the tiny-disk corpus test)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from xlproc.batch import _write_summaries
    from xlproc.errors import OutputError

    started = []

    class Slow:  # a pool whose worker takes its time
        def __init__(self) -> None:
            self.pool = ThreadPoolExecutor(1)

        def can_aside(self) -> bool:
            return True

        def aside(self, fn, *args):
            def late():
                time.sleep(0.3)
                return fn(*args)

            started.append(self.pool.submit(late))
            return started[-1]

    inbox = _folder(tmp_path / "inbox", INBOX_FILES)
    batch = process_folder(inbox, tmp_path / "out", BatchOptions(jobs=0, summary=False))
    (tmp_path / "out" / "汇总.xlsx").mkdir()
    with pytest.raises(OutputError):
        _write_summaries(batch, BatchOptions(), None, Slow())
    assert started and started[0].done()
    assert (tmp_path / "out" / "全区数据.xlsx").is_file() and not list((tmp_path / "out").glob(".~xlproc-*"))
