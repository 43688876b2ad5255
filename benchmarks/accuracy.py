"""How many planted clerk mistakes ``check`` finds, and whether it points at the mistyped cell.

    python benchmarks/accuracy.py [--per-kind N] [--office N] [--seed S] [--show-misses]

Plants every kind of mistake of tests/mistakes/corpus.py into the clean samples
(``--per-kind`` per sample; ``--office`` cases per kind re-saved by LibreOffice, 0 to
skip LibreOffice), writes each as a real workbook, reads and checks it, and prints per
kind: planted / detectable / found / found at the mistyped cell; then the benign
variants and their false alarms, and a last line ``recall: <pct>% false_alarms: <n>``
(recall over the mistakes the generator calls detectable).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mistakes import corpus  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=6)
    ap.add_argument("--office", type=int, default=1, help="LibreOffice re-saved cases per office kind (0: none)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    bases = {b.key: b for b in corpus.load_bases()}
    cases = corpus.generate(per_kind=args.per_kind, seed=args.seed, office=args.office)
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    benign: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses, alarms, off_cell = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for p in cases:
            path = corpus.materialize(p, Path(tmp), bases[p.base].sub)
            out = corpus.evaluate(p, path, bases)
            if p.benign:
                benign[p.kind][0] += 1
                if out.new_findings:
                    benign[p.kind][1] += 1
                    alarms.append(out)
                continue
            r = rows[p.kind]
            r[0] += 1
            if p.detectable:
                r[1] += 1
                r[2] += out.found
                r[3] += out.found and out.at_cell
                if not out.found:
                    misses.append(out)
                elif not out.at_cell:
                    off_cell.append(out)
            path.unlink()
    print(f"{'kind':<32}{'planted':>8}{'detectable':>11}{'found':>7}{'at cell':>9}")
    tot = [0, 0, 0, 0]
    for kind in sorted(rows):
        r = rows[kind]
        tot = [a + b for a, b in zip(tot, r, strict=True)]
        print(f"{kind:<32}{r[0]:>8}{r[1]:>11}{r[2]:>7}{r[3]:>9}")
    print(f"{'total':<32}{tot[0]:>8}{tot[1]:>11}{tot[2]:>7}{tot[3]:>9}")
    at_pct = 100 * tot[3] / tot[2] if tot[2] else 0.0
    print(f"mistyped cell named in {at_pct:.1f}% of detections")
    print()
    print(f"{'benign variant':<32}{'cases':>8}{'false alarms':>14}")
    fa = 0
    for kind in sorted(benign):
        n, a = benign[kind]
        fa += a
        print(f"{kind:<32}{n:>8}{a:>14}")
    if args.show_misses:
        for label, items in (("MISSED", misses), ("NOT AT CELL", off_cell), ("FALSE ALARM", alarms)):
            for o in items:
                print(f"{label} {o.case.id} sites={o.case.sites} {o.new_findings[:3]}")
    print(f"({len(cases)} workbooks in {time.perf_counter() - t0:.0f} s)")
    recall = 100 * tot[2] / tot[1] if tot[1] else 100.0
    print(f"recall: {recall:.1f}% false_alarms: {fa}")


if __name__ == "__main__":
    main()
