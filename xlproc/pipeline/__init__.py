"""From one workbook to its outputs: the typed check step, the artifact writers, the batch task.

- ``check.py``     ``check_workbook(data, pack=None, previous=None) -> CheckOutcome``
- ``artifacts.py`` ``WRITERS[kind].write(outcome, stem) -> Artifact`` (bytes + name + media type)
- ``task.py``      ``process_file`` / ``Pipeline`` / ``FileResult``: one file of a batch, into the outbox

The web layer uses the first two without touching the disk; ``xlproc.batch`` runs the third.
"""

from .artifacts import ANNOTATED, FINDINGS, OUTPUT_SUFFIXES, REPORT, WRITERS, Artifact, ArtifactWriter, report_renderer
from .check import (
    CheckOutcome,
    PreviousYear,
    check_file,
    check_workbook,
    compiled_catalogue,
    department_key,
    map_previous,
    validate_rules,
)
from .task import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SKIPPED,
    UNNAMED_DEPARTMENT,
    FileResult,
    Pipeline,
    PipelineOptions,
    cached_pipeline,
    compact_finding,
    failed_result,
    failure_reason,
    key_figures,
    output_paths,
    pipeline_fingerprint,
    pipeline_versions,
    process_file,
    process_stats,
    safe_folder_name,
    with_notes,
)

__all__ = [
    "ANNOTATED",
    "FINDINGS",
    "OUTPUT_SUFFIXES",
    "REPORT",
    "STATUS_FAILED",
    "STATUS_OK",
    "STATUS_SKIPPED",
    "UNNAMED_DEPARTMENT",
    "WRITERS",
    "Artifact",
    "ArtifactWriter",
    "CheckOutcome",
    "FileResult",
    "Pipeline",
    "PipelineOptions",
    "PreviousYear",
    "cached_pipeline",
    "check_file",
    "check_workbook",
    "compact_finding",
    "compiled_catalogue",
    "department_key",
    "failed_result",
    "failure_reason",
    "key_figures",
    "map_previous",
    "output_paths",
    "pipeline_fingerprint",
    "pipeline_versions",
    "process_file",
    "process_stats",
    "report_renderer",
    "safe_folder_name",
    "validate_rules",
    "with_notes",
]
