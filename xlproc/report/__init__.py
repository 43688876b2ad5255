"""The narrative report (自评报告): submission → docx (→ pdf).

``facts.py`` prepares every field as data (value, figure, blank / unreadable /
doubted); ``wording.py`` loads the pack's wording file (every sentence, as sandboxed
Jinja snippets checked before rendering); ``build_context`` renders the wording into
ready strings; ``ReportRenderer`` compiles the docxtpl template once and renders many;
``render_report`` is the one-call convenience. See render.py for the design.
"""

from __future__ import annotations

from .context import CONTEXT_KEYS, build_context, draft_path, is_draft
from .options import ReportOptions, default_options, load_report_options
from .render import ReportError, ReportRenderer, convert_to_pdf, render_report
from .wording import WordingError, load_wording

__all__ = [
    "CONTEXT_KEYS",
    "ReportError",
    "ReportOptions",
    "ReportRenderer",
    "WordingError",
    "build_context",
    "convert_to_pdf",
    "default_options",
    "draft_path",
    "is_draft",
    "load_report_options",
    "load_wording",
    "render_report",
]
