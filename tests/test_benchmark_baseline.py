"""The batch benchmark's naive baseline must make the same outputs as xlproc's task,
or its ``speedup`` compares different work (``benchmarks/batch.py``)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import openpyxl

from xlproc.batch import BatchOptions, process_folder

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "samples" / "inbox"


def _benchmark():
    name = "benchmark_batch"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "batch.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _sheet_rows(path: Path, sheet: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    return sorted(tuple(c for c in row) for row in ws.iter_rows(min_row=2, values_only=True))


def test_naive_baseline_makes_the_same_results_and_district_dataset(tmp_path: Path) -> None:
    bench = _benchmark()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for p in sorted(INBOX.glob("*.xlsx"))[:3]:
        shutil.copy(p, inbox)
    ours = process_folder(inbox, tmp_path / "ours", BatchOptions(jobs=0))
    naive = process_folder(inbox, tmp_path / "naive", BatchOptions(jobs=0, task=bench.naive_task))
    assert [r.ok for r in naive.results] == [r.ok for r in ours.results] == [True] * 3
    for a, b in zip(ours.results, naive.results, strict=True):
        assert (b.department, b.counts, b.figures, sorted(b.outputs)) == (
            a.department,
            a.counts,
            a.figures,
            sorted(a.outputs),
        )
        assert b.record is not None and b.record["fields"] == a.record["fields"]
    assert _sheet_rows(naive.dataset_path, "字段") == _sheet_rows(ours.dataset_path, "字段")
