"""Every script in benchmarks/ still runs and prints its figures (not a timing test).

The scripts measure speed and accuracy for the notes; nothing else runs them, so a
change elsewhere (the default edition becoming 2024 left ``accuracy.py`` and
``check.py`` failing with a KeyError) went unnoticed. Each runs here on a few files,
in a process of its own, without the tests' ``XLPROC_DEFAULT_PACK`` (a bureau's
machine does not set it), and its last line must be the figure it exists to print.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RUNS = {
    "read": (["--repeat", "2"], r"speedup vs openpyxl load: [\d.]+x"),
    "check": (["--repeat", "2"], r"speedup of compiling once: [\d.]+x"),
    "costs": (
        ["--rounds", "1", "--only", "well-formed", "record"],
        r"share of the full figure: well-formed -?[\d.]+%, record -?[\d.]+%",
    ),
    "annotate": (["--repeat", "2"], r"median per workbook\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+x"),
    "report": (["--repeat", "2"], r"fresh docxtpl vs compiled once .* = [\d.]+x"),
    "per_file": (["--rounds", "1"], r"working tree\s+[\d.]+ \[.*"),
    "dataset": (["20", "--naive-sample", "2"], r"speedup: \d+x"),
    "batch": (["14", "--naive-sample", "4", "--sample", "4"], r"speedup: [\d.]+x"),
    "accuracy": (["--per-kind", "1", "--office", "0"], r"recall: [\d.]+% false_alarms: \d+"),
    "serve": (["--uploads", "6", "--concurrency", "2", "--jobs", "1"], r"targets \(2 cores\): .*"),
}


def test_every_benchmark_script_is_listed():
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_benchmark_runs_and_prints_its_figure(name: str):
    args, last = RUNS[name]
    env = {k: v for k, v in os.environ.items() if k != "XLPROC_DEFAULT_PACK"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert lines and re.fullmatch(last, lines[-1].strip()), out.stdout[-2000:]
