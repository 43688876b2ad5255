"""Return annotated workbooks to departments (``xlproc annotate``).

Public API:

- ``annotate_workbook(src, report, out=None) -> Path`` — the department's workbook with
  fills, comments and a 审核结果 sheet, written atomically to ``<stem>_审核.xlsx``;
- ``annotate(...) -> AnnotateResult`` — the same, telling whether it was annotated in
  place or a separate 审核意见 workbook had to be written;
- ``read_explanations(path)`` / ``apply_explanations(report, answers)`` — carry the
  department's 说明 answers from one round to the next.
"""

from .annotation import (
    FALLBACK_SUFFIX,
    OUT_SUFFIX,
    AnnotateResult,
    annotate,
    annotate_bytes,
    annotate_workbook,
    default_output,
)
from .comments import AUTHOR, MARKER
from .explanations import apply_explanations, read_explanations
from .results_sheet import RESULTS_SHEET, STATE_SHEET
from .styles import ERROR_FILL_RGB, WARNING_FILL_RGB

__all__ = [
    "AUTHOR",
    "ERROR_FILL_RGB",
    "FALLBACK_SUFFIX",
    "MARKER",
    "OUT_SUFFIX",
    "RESULTS_SHEET",
    "STATE_SHEET",
    "WARNING_FILL_RGB",
    "AnnotateResult",
    "annotate",
    "annotate_bytes",
    "annotate_workbook",
    "apply_explanations",
    "default_output",
    "read_explanations",
]
