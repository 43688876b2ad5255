"""Benchmark the district dataset: frames from N per-file records, and each export format.

    .venv/bin/python benchmarks/dataset.py 20000 [--naive-sample 100]

A batch already holds every department's submission in its workers; each sends back a
compact record (``xlproc.dataset.record``), and the parent builds the frames from those
records without reading any workbook again. This script reads the sample workbooks once,
makes N records from them (each with its own department name and slightly different
figures), and times

- record size: bytes per record as pickled for the worker → parent traffic;
- frames: ``build_frames`` + the checks across departments (``assemble``);
- each export: xlsx (`ooxml.tablebook`, rows deflated as they come), csv folder, parquet folder;
- the naive baseline: re-reading each workbook with ``pandas.read_excel`` (every sheet),
  measured on ``--naive-sample`` workbooks and extrapolated to N (it would take hours).

Prints the figures and, on its last line, ``speedup: <naive / xlproc frames>x``.
Work files go to benchmarks/_work/ (git-ignored).
"""

from __future__ import annotations

import argparse
import pickle
import random
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlproc.dataset.across import load_rules  # noqa: E402
from xlproc.dataset.api import assemble  # noqa: E402
from xlproc.dataset.export import write_dataset  # noqa: E402
from xlproc.dataset.frames import FileEntry  # noqa: E402
from xlproc.pipeline import Pipeline, PipelineOptions, compact_finding  # noqa: E402
from xlproc.pipeline.task import dataset_record  # noqa: E402

WORK = ROOT / "benchmarks" / "_work" / "dataset"
INBOX = ROOT / "samples" / "inbox"


def _records(n: int) -> tuple[object, list[FileEntry], tuple]:
    pipe = Pipeline.build(PipelineOptions(annotate=False, report=False))
    base = []
    for path in sorted(INBOX.glob("*.xlsx")):
        outcome = pipe.check(path.read_bytes(), source=str(path))
        rec = dataset_record(outcome, pipe)
        base.append((outcome.department, rec, tuple(compact_finding(f) for f in outcome.report.findings)))
    pack = outcome.pack
    rules = load_rules(Path(pipe.catalogue(pack).path), pack.spec)
    rnd = random.Random(7)
    entries = []
    for i in range(n):
        dept, rec, findings = base[i % len(base)]
        fields = dict(rec["fields"])
        for key in ("sangong_total_actual", "budget_income_total", "staff_actual"):
            if key in fields:
                value = Decimal(fields[key]) * (1 + Decimal(rnd.randint(-20, 20)) / 100)
                fields[key] = str(value.quantize(Decimal("0.01")) if key != "staff_actual" else value.to_integral())
        name = f"{dept}{i:05d}"
        fields["dept_name"] = name
        entries.append(
            FileEntry(
                source=f"{i:05d}.xlsx",
                department=name,
                sha256=f"{i:064x}",
                record={**rec, "fields": fields},
                findings=findings,
            )
        )
    return pack.spec, entries, rules


def _naive_per_file(sample: int) -> float:
    import pandas as pd

    files = sorted(INBOX.glob("*.xlsx"))
    t = time.perf_counter()
    for i in range(sample):
        pd.read_excel(files[i % len(files)], sheet_name=None, header=None, engine="calamine")
    return (time.perf_counter() - t) / sample


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, nargs="?", default=1000, help="number of departments (records)")
    ap.add_argument("--naive-sample", type=int, default=50, help="workbooks re-read by the naive baseline")
    args = ap.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)

    t = time.perf_counter()
    spec, entries, rules = _records(args.n)
    print(f"records: {args.n} made in {time.perf_counter() - t:.1f} s (not part of a batch: workers make them)")
    sizes = [len(pickle.dumps(e.record, protocol=pickle.HIGHEST_PROTOCOL)) for e in entries[:50]]
    print(f"record size: {sum(sizes) / len(sizes) / 1024:.1f} KiB pickled per workbook")

    t = time.perf_counter()
    ds = assemble(spec, entries, rules)
    frames_s = time.perf_counter() - t
    print(
        f"frames: {frames_s:.2f} s  fields {ds.fields.shape}, "
        + ", ".join(f"{k} {v.shape[0]}" for k, v in ds.tables.items())
        + f", findings {len(ds.findings)}, across {len(ds.across)}"
    )
    for suffix in ("xlsx", "csv", "parquet"):
        t = time.perf_counter()
        out = write_dataset(ds, WORK / f"全区数据.{suffix}")
        size = out.stat().st_size if out.is_file() else sum(p.stat().st_size for p in out.iterdir())
        print(f"write {suffix}: {time.perf_counter() - t:.2f} s  ({size / 1e6:.1f} MB)")

    per_file = _naive_per_file(args.naive_sample)
    naive_s = per_file * args.n
    print(
        f"naive baseline (pandas.read_excel of every sheet, calamine engine, {args.naive_sample} files measured): "
        f"{per_file * 1000:.0f} ms per workbook → {naive_s:.0f} s for {args.n} (extrapolated), "
        "and it still has no typed values, recomputed totals or findings"
    )
    print(f"speedup: {naive_s / frames_s:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
