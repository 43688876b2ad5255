"""Imported by the fork server of a worker pool: everything a worker needs, ready once.

``xlproc.batch.executors.worker_context`` starts worker processes from a fork server
that imports this module first. The server then holds the imported libraries and the
pipeline (packs, compiled rule catalogues, report template and wording), and every
worker forked from it starts with them instead of importing and compiling them again
(about a second per worker). The batch's parent names a few of its inbox's files in
``pipeline.sample.SAMPLE_ENV``; the server prepares the editions they are of (about 0.2 s each), not
every installed one, and the default edition only when none was recognised. Nothing
here may raise: a problem is left for the worker's own ``cached_pipeline`` call to report.
"""

from __future__ import annotations

import contextlib
import gc

from .sample import sampled_editions


def warm() -> None:
    """Import the processing stages and prepare the pipeline (errors ignored): for a batch,
    the editions its inbox's sample holds; otherwise every installed edition."""
    with contextlib.suppress(Exception):
        import docx  # noqa: F401 - the report writer's dependencies, imported once here
        import python_calamine  # noqa: F401

        from .. import annotate, dataset, reading, report  # noqa: F401
        from ..form.packs import installed_packs
        from ..reading import workbook  # noqa: F401
        from .task import PipelineOptions, cached_pipeline, expect_editions

        editions = sampled_editions()
        if editions:
            expect_editions(editions)  # the workers forked from here build their pipelines so too
        pipeline = cached_pipeline(PipelineOptions())
        packs = [p for p in installed_packs() if editions is None or (p.form_id, p.version) in editions]
        for pack in packs:  # an inbox may mix editions: each one met, ready
            pipeline.prepare(pack)
    gc.collect()
    gc.freeze()  # what every worker shares stays out of their garbage collections


warm()
