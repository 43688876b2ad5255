"""Workbooks we write hold department text as text, never as a live formula or link.

xlsxwriter's ``write()`` turns a string starting with "=" into a formula and a URL
into a hyperlink; a 说明 answer such as ``=HYPERLINK("http://…")`` would come back to
a department as live content. Every ``xlsxwriter.Workbook`` xlproc creates passes
``INERT_OPTIONS``; code that writes department text uses ``write_string``.
"""

from __future__ import annotations

INERT_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def inert_options(**extra: object) -> dict[str, object]:
    """``INERT_OPTIONS`` plus the caller's own workbook options."""
    return {**INERT_OPTIONS, **extra}
