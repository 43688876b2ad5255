"""Median time to annotate one workbook: part-level XML editing against openpyxl.

    python benchmarks/annotate.py [WORKBOOK ...] [--repeat N]

Each workbook is read and checked once (not timed); then its findings are written
back. xlproc: ``annotate_workbook`` — fills, comments, the 审核结果 sheet and the
hidden record, untouched zip members copied compressed, atomic write (column
"xlproc", reading the file; column "bytes": given the bytes the batch already has,
``data=``). The package guard (``ooxml/guard.py``: every member inflated and
CRC-checked) keeps its last two results, keyed by the bytes' content: in a batch or
the portal the check of a file runs it and the annotator of the same bytes reuses it.
Both columns therefore time the annotator *after* the check, as it runs there; column
"guard" is what the guard itself costs on those bytes (uncached), to add for a file
annotated without being checked first (and what a benchmark cycling through more
than two workbooks pays on every call). The output file exists from the warm-up run, so every timed run replaces
it, as a batch re-run does. Baseline: the
naive way, ``openpyxl.load_workbook`` + the same fills, comments and result sheet
+ ``save`` (which also loses extension-list validations and comment sizes). Prints
the median ms per workbook for both, side by side, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import warnings
from pathlib import Path

import openpyxl
from _timing import median_ms
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from xlproc.annotate import annotate_workbook
from xlproc.ooxml.guard import LIMITS
from xlproc.ooxml.guard import _inspect as guard_inspect
from xlproc.reading.workbook import read_workbook
from xlproc.results import SEVERITY_LABELS
from xlproc.rules import run_checks

ROOT = Path(__file__).resolve().parent.parent
FILLS = {"error": PatternFill("solid", fgColor="FFC7CE"), "warning": PatternFill("solid", fgColor="FFEB9C")}


def openpyxl_annotate(src: Path, report, out: Path) -> None:
    """The naive baseline: load everything, mark cells, add a sheet, save everything."""
    wb = openpyxl.load_workbook(src)
    for f in report.findings:
        if not f.cell or f.sheet not in wb.sheetnames:
            continue
        cell = wb[f.sheet][f.cell]
        if f.severity in FILLS:
            cell.fill = FILLS[f.severity]
        cell.comment = Comment(f"【{SEVERITY_LABELS[f.severity]}】{f.message}", "xlproc审核")
    ws = wb.create_sheet("审核结果")
    ws.append(["序号", "类别", "规则编号", "工作表", "单元格", "问题说明", "状态", "说明（请填写）"])
    for n, f in enumerate(report.findings, start=1):
        ws.append([n, SEVERITY_LABELS[f.severity], f.rule_id, f.sheet, f.cell, f.message, "", ""])
        if f.cell:
            ws.cell(n + 1, 5).hyperlink = f"#'{f.sheet}'!{f.cell}"
    wb.save(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workbooks", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=100)
    args = ap.parse_args()
    paths = args.workbooks or sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))
    if not paths:
        raise SystemExit("no workbooks: run `make samples` or pass a path")
    warnings.simplefilter("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="xlproc-bench-"))
    print(f"median of {args.repeat} runs per workbook (ms)")
    print(f"{'workbook':<36}{'findings':>9}{'xlproc':>9}{'bytes':>8}{'guard':>8}{'openpyxl':>10}{'ratio':>8}")
    ours_all, bytes_all, guard_all, base_all = [], [], [], []
    for path in paths:
        report = run_checks(read_workbook(path))
        data = path.read_bytes()
        ours = median_ms(lambda p=path, r=report: annotate_workbook(p, r, tmp / "ours.xlsx"), args.repeat)
        given = median_ms(
            lambda p=path, r=report, d=data: annotate_workbook(p, r, tmp / "ours.xlsx", data=d), args.repeat
        )
        guard = median_ms(lambda d=data: guard_inspect(d, LIMITS), args.repeat)  # uncached
        base = median_ms(lambda p=path, r=report: openpyxl_annotate(p, r, tmp / "base.xlsx"), max(5, args.repeat // 3))
        ours_all.append(ours)
        bytes_all.append(given)
        guard_all.append(guard)
        base_all.append(base)
        print(
            f"{path.stem[:34]:<36}{len(report.findings):>9}{ours:>9.2f}{given:>8.2f}{guard:>8.2f}{base:>10.2f}"
            f"{base / ours:>7.1f}x"
        )
    o, g, b = statistics.median(ours_all), statistics.median(bytes_all), statistics.median(base_all)
    gd = statistics.median(guard_all)
    print(f"{'median per workbook':<36}{'':>9}{o:>9.2f}{g:>8.2f}{gd:>8.2f}{b:>10.2f}{b / o:>7.1f}x")


if __name__ == "__main__":
    main()
