"""Progress events: the library emits ``ProgressEvent``s to a callback it is given.

The CLI draws them (``xlproc.cli.progress``); tests pass a list's ``append``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """Where a batch stands: files done of total, and the running counts."""

    phase: str  # "previous" (indexing last year's workbooks) or "process"
    total: int
    done: int = 0
    failed: int = 0
    errors: int = 0
    warnings: int = 0
    cached: int = 0
    current: str = ""  # the file just finished
