"""Which editions a batch's inbox holds, told to its fork server before the workers start.

The batch's parent names a few of the inbox's files in an environment variable; the fork
server (``pipeline.warm``) reads their editions and prepares those. Kept apart from
``warm``, which runs when it is imported.
"""

from __future__ import annotations

import contextlib
import json
import os

SAMPLE_ENV = "XLPROC_WARM_SAMPLE"  # workbooks of the batch's inbox, a JSON list of paths
SAMPLE_SIZE = 8


def sample_inbox(paths: list[str]) -> str:
    """What the batch's parent puts in ``SAMPLE_ENV``: up to ``SAMPLE_SIZE`` files spread
    over the inbox (first and last included)."""
    if len(paths) <= SAMPLE_SIZE:
        picked = paths
    else:
        step = (len(paths) - 1) / (SAMPLE_SIZE - 1)
        picked = [paths[round(i * step)] for i in range(SAMPLE_SIZE)]
    return json.dumps(picked) if picked else ""


def sampled_editions() -> set[tuple[str, str]] | None:
    """The editions of the sampled workbooks (None: no sample; unreadable files are left out)."""
    sample = os.environ.get(SAMPLE_ENV, "")
    if not sample:
        return None
    from pathlib import Path

    from ..reading.workbook import read_edition

    editions = set()
    try:
        paths = [str(p) for p in json.loads(sample)]
    except (ValueError, TypeError):
        return set()
    for path in paths:
        with contextlib.suppress(Exception):  # through the package guard; a bad file is the worker's to report
            editions.add(read_edition(Path(path)))
    return editions
