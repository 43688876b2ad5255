"""What each safeguard costs per workbook: ``process_file`` with one of them switched off.

    python benchmarks/costs.py [--rounds N] [--only NAME ...]
    valgrind --tool=cachegrind --cache-sim=no python benchmarks/costs.py --calls N --off NAME

For the owner's trade-off between the per-workbook figure and the requirements that cost
time. Each variant switches one safeguard off inside this process (the library is
patched here, never in the package), then runs ``process_file`` (check, annotated
workbook, report, findings JSON, the district record) on the sample workbooks:

- ``well-formed``: the report's per-render XML well-formedness check (render.py);
- ``far-reach``: the cheap test for cell references far outside the form, run on every
  worksheet before python-calamine reads it (ooxml/extent.py);
- ``guard-checks``: the package guard's CRC, size and DTD checks, keeping its inflation
  of the parts (ooxml/guard.py);
- ``culprit``: the search for the mistyped cell behind failed checks (rules/culprit.py);
- ``record``: the district dataset's record of the file (dataset/record.py).

Prints CPU ms per workbook for the full pipeline and each variant, blocks alternated
(median over ``--rounds`` blocks of 70 files), and the share of the full figure each
safeguard takes. The machine drifts by ±20 %: for a figure the load does not move, run
``--calls 0`` and ``--calls 70`` under cachegrind per variant and divide the difference
of the instruction counts by 70. A variant's outputs are not valid reports: this is a
measurement, never a mode of the tool.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _timing import median_range  # noqa: E402

BLOCK = 70


def _guard_inflate_only(data: bytes, info: Any, limits: Any) -> tuple[bool, bytes | None]:
    """The guard's ``_verify_member`` without its checks: the member inflated (as the guard's
    own ``_small_member`` does) and kept when it is XML."""
    from xlproc.ooxml import guard

    body = guard._small_member(data, info)
    return False, body if info.filename.lower().endswith(guard._XML_SUFFIXES) else None


def _patches(name: str) -> list[tuple[str, Any]]:
    """(dotted target, replacement) of one variant."""
    return {
        "well-formed": [("xlproc.report.render._check_well_formed", lambda doc: None)],
        "far-reach": [
            ("xlproc.ooxml.guard.Inspected.reaches_far", lambda self, name: False),
            ("xlproc.ooxml.extent.reaches_far", lambda xml: False),
        ],
        "guard-checks": [("xlproc.ooxml.guard._verify_member", _guard_inflate_only)],
        "culprit": [("xlproc.rules.engine.locate_culprits", lambda *args: None)],
        "record": [("xlproc.dataset.record.make_record", lambda *args, **kw: {})],
    }[name]


VARIANTS = ("well-formed", "far-reach", "guard-checks", "culprit", "record")


@contextmanager
def switched_off(name: str | None):
    with ExitStack() as stack:
        for target, new in _patches(name) if name else []:
            stack.enter_context(mock.patch(target, new))
        yield


def _runner(datas: list[tuple[Path, bytes]], out: Path) -> Callable[[int], float]:
    from xlproc.pipeline import PipelineOptions, cached_pipeline, process_file

    pipeline = cached_pipeline(PipelineOptions())

    def run(n: int) -> float:
        t0 = time.process_time()
        for i in range(n):
            path, data = datas[i % len(datas)]
            result = process_file(path, out, pipeline, data=data, sha256="-")
            if not result.ok:
                raise SystemExit(f"{path.name}: {result.error}")
        return (time.process_time() - t0) / max(n, 1) * 1000

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10, help="blocks of 70 files per variant")
    ap.add_argument("--only", nargs="*", choices=VARIANTS, help="these variants only")
    ap.add_argument("--calls", type=int, help="run N files without timing (for cachegrind)")
    ap.add_argument("--off", choices=VARIANTS, help="with --calls: the variant to run")
    args = ap.parse_args()
    datas = [(p, p.read_bytes()) for p in sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))]
    if not datas:
        raise SystemExit("no workbooks: run `make samples`")
    out = Path(tempfile.mkdtemp(prefix="xlproc-costs-"))
    try:
        run = _runner(datas, out)
        if args.calls is not None:
            with switched_off(args.off):
                run(3 * len(datas))  # warm-up: lazy imports, compiled rules, per-template caches
                run(args.calls)
            print(f"{args.off or 'full'}: {args.calls} files")
            return
        names: list[str | None] = [None, *(args.only or VARIANTS)]
        for name in names:
            with switched_off(name):
                run(3 * len(datas))
        times: dict[str | None, list[float]] = {name: [] for name in names}
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                with switched_off(name):
                    times[name].append(run(BLOCK))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    full = statistics.median(times[None])
    print(f"CPU ms per workbook, median [range] of {args.rounds} blocks of {BLOCK} ({len(datas)} samples)")
    print(f"{'full pipeline':<26}{median_range(times[None])}")
    for name in names[1:]:
        saves = full - statistics.median(times[name])
        print(f"{'without ' + name:<26}{median_range(times[name])}   saves {saves:+.2f} ms")
    shares = ", ".join(f"{n} {(full - statistics.median(times[n])) / full * 100:.1f}%" for n in names[1:])
    print(f"share of the full figure: {shares}")


if __name__ == "__main__":
    main()
