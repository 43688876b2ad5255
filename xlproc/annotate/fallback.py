"""A separate 审核意见 workbook, for a workbook we cannot annotate without loss.

Used only when the department's package has something our part-level editor does
not handle safely (zip64, rows without ``r`` attributes, a non-UTF-8 part …). The
department's file is then left alone and the findings go to their own workbook,
so nothing of theirs is ever dropped silently.
"""

from __future__ import annotations

import io
from pathlib import Path

import xlsxwriter

from ..io.atomic import atomic_path
from ..io.inert import inert_options
from ..results import CheckReport
from .results_sheet import HEADERS, RESULTS_SHEET, WIDTHS, row_values, summary_text


def write_review_workbook(target: Path, report: CheckReport, source: Path) -> Path:
    """Write the findings of ``report`` as a standalone 审核意见 workbook."""
    with atomic_path(Path(target)) as tmp:
        tmp.write_bytes(review_workbook_bytes(report, Path(source).name))
    return Path(target)


def review_workbook_bytes(report: CheckReport, source_name: str) -> bytes:
    """The standalone 审核意见 workbook listing the findings of ``report``, as bytes."""
    buffer = io.BytesIO()
    # department text (说明 answers, sheet names) stays text: "=HYPERLINK(…)" is not a formula
    wb = xlsxwriter.Workbook(buffer, inert_options(in_memory=True))
    ws = wb.add_worksheet(RESULTS_SHEET)
    wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "align": "center"})
    note = wb.add_format({"bold": True, "text_wrap": True})
    ws.merge_range(
        0,
        0,
        0,
        7,
        f"原工作簿“{source_name}”无法在保留全部内容的前提下直接批注，审核意见另行列出。" + summary_text(report),
        note,
    )
    ws.set_row(0, 48)
    for i, (h, w) in enumerate(zip(HEADERS, WIDTHS, strict=True)):
        ws.write(1, i, h, head)
        ws.set_column(i, i, w, None, {"hidden": h == "键"})
    for n, f in enumerate(report.findings, start=1):
        for i, v in enumerate(row_values(report, n, f)):
            if isinstance(v, str):
                ws.write_string(n + 1, i, v, wrap)
            else:
                ws.write_number(n + 1, i, v, wrap)
    ws.freeze_panes(2, 0)
    wb.close()
    return buffer.getvalue()
