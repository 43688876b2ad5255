"""CPU time per workbook in one process: the check, and the annotated workbook after it.

    python benchmarks/per_file.py [--rounds N] [--base REV]
    valgrind --tool=cachegrind --cache-sim=no python benchmarks/per_file.py --calls N [--base REV]

What a portal worker and a batch worker do with each file: ``Pipeline.check(bytes)``,
then ``ANNOTATED.write`` of that outcome (the package guard's result is shared by the
two, as there). CPU time (``process_time``) per workbook, median over blocks of 70
files cycling through the sample workbooks, after a warm-up.

``--base REV``: the same on git revision REV of ``xlproc`` (extracted to a temporary
folder, imported as ``xlproc_base``), its blocks alternated with the working tree's
so the machine's drift hits both alike; prints both, the median of the paired
differences and the ratio. The shared VM drifts by ±20 % over minutes: quote ranges.

``--calls N``: no timing, just N files through the base (with ``--base``) or the
working tree after the warm-up (``--check-only``: without annotating): run it under
cachegrind with N = 0 and N = 70 and divide the difference of the instruction counts
by 70 for a figure the machine's load does not move.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

from _timing import median_range

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 70


def base_package(rev: str) -> ModuleType:
    """``xlproc`` of git revision ``rev``, importable beside the working tree's."""
    folder = Path(tempfile.mkdtemp(prefix="xlproc-base-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "xlproc"], capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "xlproc").rename(folder / "xlproc_base")
    (folder / "xlproc_base" / "workbook_templates").symlink_to(ROOT / "workbook_templates")  # the same packs
    sys.path.insert(0, str(folder))
    return importlib.import_module("xlproc_base")


def prepared(package: ModuleType, datas: list[bytes]) -> tuple[Any, Any]:
    pipeline = importlib.import_module(package.__name__ + ".pipeline")
    artifacts = importlib.import_module(package.__name__ + ".pipeline.artifacts")
    pl = pipeline.cached_pipeline(pipeline.PipelineOptions(report=False))
    for data in datas:  # warm-up: lazy imports, compiled rules, per-template caches
        artifacts.ANNOTATED.write(pl.check(data, source="x.xlsx"), "x")
    return pl, artifacts.ANNOTATED


def block(impl: tuple[Any, Any], datas: list[bytes], n: int = BLOCK, annotate: bool = True) -> tuple[float, float]:
    """(check, annotate) ms of CPU per workbook over ``n`` files."""
    pl, annotated = impl
    checking = annotating = 0.0
    clock = time.process_time
    for i in range(n):
        t0 = clock()
        outcome = pl.check(datas[i % len(datas)], source="x.xlsx")
        t1 = clock()
        if annotate:
            annotated.write(outcome, "x")
        annotating += clock() - t1
        checking += t1 - t0
    return checking / n * 1000, annotating / n * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20, help="blocks of 70 files per side")
    ap.add_argument("--base", help="git revision to compare with, e.g. main")
    ap.add_argument("--calls", type=int, help="run N files without timing (for cachegrind)")
    ap.add_argument("--check-only", action="store_true", help="with --calls: check, do not annotate")
    args = ap.parse_args()
    datas = [p.read_bytes() for p in sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))]
    if not datas:
        raise SystemExit("no workbooks: run `make samples`")
    import xlproc

    sides = {"working tree": xlproc}
    if args.base:
        sides = {f"base {args.base}": base_package(args.base), **sides}
    if args.calls is not None:
        name, package = next(iter(sides.items()))
        impl = prepared(package, datas)
        block(impl, datas, args.calls, annotate=not args.check_only)
        print(f"{name}: {args.calls} files")
        return
    impls = {name: prepared(package, datas) for name, package in sides.items()}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in impls}
    for r in range(args.rounds):
        for name in list(impls) if r % 2 == 0 else list(impls)[::-1]:
            times[name].append(block(impls[name], datas))
    print(f"CPU ms per workbook, median [range] of {args.rounds} blocks of {BLOCK} ({len(datas)} samples)")
    print(f"{'':<22}{'check':>24}{'annotate after check':>26}{'both':>24}")
    for name, ts in times.items():
        c, a = [t[0] for t in ts], [t[1] for t in ts]
        print(f"{name:<22}{median_range(c):>24}{median_range(a):>26}{median_range([x + y for x, y in ts]):>24}")
    if len(times) == 2:
        (_, old), (_, new) = times.items()
        diffs = [[n[k] - o[k] for o, n in zip(old, new, strict=True)] for k in (0, 1)]
        both = [x + y for x, y in zip(*diffs, strict=True)]
        ratio = statistics.median([sum(o) for o in old]) / statistics.median([sum(n) for n in new])
        print(
            f"{'paired difference':<22}{statistics.median(diffs[0]):>+24.2f}{statistics.median(diffs[1]):>+26.2f}"
            f"{statistics.median(both):>+24.2f}"
        )
        print(f"base ÷ working tree (both): {ratio:.2f}x")


if __name__ == "__main__":
    main()
