"""Median time to render one narrative report: compiled-once renderer against fresh docxtpl.

    python benchmarks/report.py [WORKBOOK] [--repeat N]

xlproc: ``ReportRenderer`` created once (template parsed, patched and compiled once),
then ``render`` per report: context + charts + jinja + zip, written to disk — the
whole job a batch worker does. The row "new figures every report" gives every report
scores and amounts not seen before, the case of a batch of different departments. Baseline: what a straightforward implementation does
per report, a fresh ``DocxTemplate(template)`` + ``render`` (same context, autoescape,
StrictUndefined) + ``save``, without charts (so the baseline does strictly less).
Also prints the parts: context only, charts only (two native chart parts), renderer
without charts.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import itertools
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined

from xlproc.reading.workbook import read_workbook
from xlproc.report import ReportOptions, ReportRenderer, build_context, default_options
from xlproc.report.charts import render_charts

ROOT = Path(__file__).resolve().parent.parent


def median_ms(fn, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds (CPU time is steadier on a busy machine)."""
    fn()  # warm-up: imports, caches
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def varied(sub, n: int) -> list:
    """``n`` copies of ``sub`` with random category scores and expenditure amounts."""
    rng = random.Random(7)
    rubric = sub.spec.rubric.categories
    amount_ids = [f for f in sub.fields if f.startswith("budget_exp_") and f.removeprefix("budget_exp_").isdigit()]
    out = []
    for _ in range(n):
        fields = dict(sub.fields)
        for cat in rubric:
            fid = f"score_{cat.id}_score"
            if fid in fields:
                score = Decimal(rng.randint(0, int(cat.max * 2))) / 2
                fields[fid] = dataclasses.replace(fields[fid], value=score)
        for fid in amount_ids:
            if fields[fid].value:
                fields[fid] = dataclasses.replace(fields[fid], value=Decimal(rng.randint(100, 30000)) / 100)
        out.append(dataclasses.replace(sub, fields=fields))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workbook", nargs="?", type=Path)
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    path = args.workbook or sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))[0]
    sub = read_workbook(path)
    out_dir = Path(tempfile.mkdtemp(prefix="xlproc-bench-report-"))
    renderer = ReportRenderer()
    no_charts = ReportRenderer(options=ReportOptions(**{**default_options().__dict__, "charts": False}))
    template = renderer.path

    def fresh_docxtpl() -> None:
        ctx = build_context(sub)
        tpl = DocxTemplate(template)
        tpl.render(ctx, jinja_env=Environment(autoescape=True, undefined=StrictUndefined))
        buf = io.BytesIO()
        tpl.save(buf)
        (out_dir / "fresh.docx").write_bytes(buf.getvalue())

    ctx = build_context(sub)

    fresh_subs = itertools.cycle(varied(sub, args.repeat + 1))
    count = itertools.count()
    rows = [
        ("context only (build_context)", median_ms(lambda: build_context(sub), args.repeat)),
        ("charts only (2 native chart parts)", median_ms(lambda: render_charts(ctx["charts"]), args.repeat)),
        ("compiled once, no charts", median_ms(lambda: no_charts.render(sub, out_dir / "nc.docx"), args.repeat)),
        (
            "compiled once, with charts (default)",
            median_ms(lambda: renderer.render(sub, out_dir / f"r{next(count) % 100}.docx"), args.repeat),
        ),
        (
            "same, new figures every report",
            median_ms(lambda: renderer.render(next(fresh_subs), out_dir / f"v{next(count) % 100}.docx"), args.repeat),
        ),
        ("fresh DocxTemplate per report (no charts)", median_ms(fresh_docxtpl, args.repeat)),
    ]
    ours_wall, ours_cpu = rows[3][1]
    print(f"workbook: {path.name}, median of {args.repeat} runs")
    print(f"{'rendering one report':<44}{'wall ms':>9}{'ratio':>7}{'cpu ms':>9}{'ratio':>7}")
    for name, (wall, cpu) in rows:
        print(f"{name:<44}{wall:>9.2f}{wall / ours_wall:>6.1f}x{cpu:>9.2f}{cpu / ours_cpu:>6.1f}x")
    (fw, fc), (cw, cc) = rows[5][1], rows[2][1]
    print(
        f"fresh docxtpl vs compiled once (both without charts): wall {fw:.1f} vs {cw:.1f} ms = {fw / cw:.1f}x, "
        f"cpu {fc:.1f} vs {cc:.1f} ms = {fc / cc:.1f}x"
    )


if __name__ == "__main__":
    main()
