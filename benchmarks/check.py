"""Median time to check one workbook: the catalogue compiled once vs re-loaded per workbook.

    python benchmarks/check.py [--repeat N]

Reads every sample of samples/inbox once (reading is measured by read.py), then times
``run_checks`` per workbook with a catalogue compiled once (what batch workers do),
against the naive baseline that loads and compiles rules.yaml for every workbook.
Prints the median ms per workbook of both, side by side, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from xlproc.reading.workbook import read_workbook
from xlproc.rules import load_catalogue, run_checks

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn, items, repeat: int) -> float:
    for item in items:
        fn(item)  # warm-up
    times = []
    for _ in range(repeat):
        for item in items:
            t = time.perf_counter()
            fn(item)
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    paths = sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))
    if not paths:
        raise SystemExit("no samples: run scripts/make_samples.py first")
    subs = [read_workbook(p) for p in paths]
    # One catalogue per edition (the inbox mixes 2023 and 2024 workbooks), compiled once.
    catalogues = {}
    for s in subs:
        if id(s.spec) not in catalogues:
            catalogues[id(s.spec)] = load_catalogue(spec=s.spec)
    compiled = median_ms(lambda s: run_checks(s, catalogues[id(s.spec)]), subs, args.repeat)
    naive = median_ms(lambda s: run_checks(s, load_catalogue(spec=s.spec)), subs, max(3, args.repeat // 10))
    findings = sum(len(run_checks(s, catalogues[id(s.spec)]).findings) for s in subs)
    rules = ", ".join(f"{c.spec.version}: {len(c.infos)}" for c in catalogues.values())
    print(f"{len(subs)} sample workbooks, rules per edition {rules}, {findings} findings in all")
    print(f"{'check (per workbook)':<44}{'median ms':>10}{'ratio':>8}")
    print(f"{'run_checks, catalogue compiled once':<44}{compiled:>10.2f}{1:>7.1f}x")
    print(f"{'run_checks, catalogue re-loaded each time':<44}{naive:>10.2f}{naive / compiled:>7.1f}x")
    print(f"speedup of compiling once: {naive / compiled:.1f}x")


if __name__ == "__main__":
    main()
