"""The narrative report (自评报告): submission → docx (→ pdf).

``build_context`` turns a submission (and optionally its findings) into ready-formatted
values; ``ReportRenderer`` compiles the docxtpl template once and renders many;
``render_report`` is the one-call convenience. See render.py for the design.
"""

from __future__ import annotations

from .context import CONTEXT_KEYS, build_context
from .options import ReportOptions, default_options, load_report_options
from .render import ReportError, ReportRenderer, convert_to_pdf, render_report

__all__ = [
    "CONTEXT_KEYS",
    "ReportError",
    "ReportOptions",
    "ReportRenderer",
    "build_context",
    "convert_to_pdf",
    "default_options",
    "load_report_options",
    "render_report",
]
