"""Timing helper shared by the benchmark scripts (run as scripts: benchmarks/ is on sys.path)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn()`` in ms over ``repeat`` runs, after one warm-up run."""
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def median_range(xs: list[float]) -> str:
    """``median [min–max]`` of figures in ms, for runs the machine's drift spreads out."""
    return f"{statistics.median(xs):6.2f} [{min(xs):.2f}–{max(xs):.2f}]"
