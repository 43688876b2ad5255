"""Median time to read one sample workbook: xlproc's reader against a plain openpyxl load.

    python benchmarks/read.py [WORKBOOK] [--repeat N]

xlproc: ``read_workbook`` (the package guard, python-calamine + defined names + typed
parsing + recomputed totals: the whole job). The guard keeps its last results keyed by
the bytes' content, so reading the same file again would skip it; its cache is
cleared before every run, as for each new file of a batch. Baselines: ``openpyxl.load_workbook`` alone (no parsing, no
recomputation — strictly less work), and in read-only mode. Prints medians in ms and
the ratio of each baseline to xlproc.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import openpyxl
from _timing import median_ms

from xlproc.ooxml.guard import _cached as guard_cache
from xlproc.reading.workbook import read_workbook

guard_cache_clear = guard_cache.cache_clear

ROOT = Path(__file__).resolve().parent.parent


def default_workbook() -> Path:
    samples = sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))
    if samples:
        return samples[0]
    from xlproc.template.fill import fill_workbook

    return fill_workbook(Path(tempfile.mkdtemp()) / "bench.xlsx", {"dept_name": "基准测试局"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workbook", nargs="?", type=Path)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    path = args.workbook or default_workbook()
    ours = median_ms(lambda: (guard_cache_clear(), read_workbook(path)), args.repeat)
    plain = median_ms(lambda: openpyxl.load_workbook(path, data_only=True), args.repeat)
    ro = median_ms(lambda: openpyxl.load_workbook(path, data_only=True, read_only=True).close(), args.repeat)
    print(f"workbook: {path.name} ({path.stat().st_size / 1024:.1f} KiB), median of {args.repeat} runs")
    print(f"{'reader':<44}{'median ms':>10}{'ratio':>8}")
    print(f"{'xlproc read_workbook (calamine, typed)':<44}{ours:>10.2f}{1:>7.1f}x")
    print(f"{'openpyxl.load_workbook (values only)':<44}{plain:>10.2f}{plain / ours:>7.1f}x")
    print(f"{'openpyxl.load_workbook read_only (open only)':<44}{ro:>10.2f}{ro / ours:>7.1f}x")
    print(f"speedup vs openpyxl load: {plain / ours:.1f}x")


if __name__ == "__main__":
    main()
