"""Imported by the fork server of a worker pool: everything a worker needs, ready once.

``xlproc.batch.executors.worker_context`` starts worker processes from a fork server
that imports this module first. The server then holds the imported libraries and the
default pipeline (packs, compiled rule catalogues, report template and wording), and
every worker forked from it starts with them instead of importing and compiling them
again (about a second per worker). Nothing here may raise: a problem is left for the
worker's own ``cached_pipeline`` call to report.
"""

from __future__ import annotations

import contextlib
import gc


def warm() -> None:
    """Import the processing stages and build the default pipeline (errors ignored)."""
    with contextlib.suppress(Exception):
        import docx  # noqa: F401 - the report writer's dependencies, imported once here
        import python_calamine  # noqa: F401

        from .. import annotate, report  # noqa: F401
        from .task import PipelineOptions, cached_pipeline

        cached_pipeline(PipelineOptions())
    gc.collect()
    gc.freeze()  # what every worker shares stays out of their garbage collections


warm()
