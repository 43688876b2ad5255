"""Print setup for the worksheets xlproc writes (xlsxwriter's, and ``ooxml.tablebook``'s).

A printed sheet must be readable without the screen: A4, landscape when the sheet is
wide, fitted to one page wide (as many pages tall as needed), the header rows repeated
on every page, the title in the page header and "第 N 页 / 共 M 页" in the footer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

A4 = 9
WIDE_COLUMNS = 60  # total column width (characters) above which a sheet prints landscape
ONE_PAGE_WIDE = 260  # wider than this, fitting one page wide would be unreadable: columns repeat instead


MARGINS = {"left": 0.4, "right": 0.4, "top": 0.75, "bottom": 0.75}
HEADER_FOOTER_MARGIN = 0.3
FOOTER = "&C第 &P 页 / 共 &N 页"


def _escape(text: str) -> str:
    return text.replace("&", "&&")


@dataclass(frozen=True)
class PrintPlan:
    """How one sheet prints, decided once for every writer of xlproc's workbooks."""

    landscape: bool
    across: bool  # printed across pages (too wide to shrink), its key columns repeated
    repeat_columns: int  # the first N columns on every page (only when ``across``)
    header: str  # the page header: the title, centred, bold
    footer: str = FOOTER


def print_plan(
    title: str, *, width: float | None = None, landscape: bool | None = None, key_columns: int = 0
) -> PrintPlan:
    """The print setup of a sheet (see ``setup_print`` for the arguments)."""
    if landscape is None:
        landscape = width is not None and width > WIDE_COLUMNS
    across = width is not None and width > ONE_PAGE_WIDE
    return PrintPlan(
        landscape=landscape,
        across=across,
        repeat_columns=key_columns if across else 0,
        header=f'&C&"宋体,Bold"&12{_escape(title)}',
    )


def setup_print(
    ws: Any,
    title: str,
    *,
    header_rows: tuple[int, int] | None = (0, 0),
    width: float | None = None,
    landscape: bool | None = None,
    key_columns: int = 0,
) -> None:
    """Apply the print setup to an xlsxwriter worksheet.

    ``header_rows``: first and last 0-based row repeated on every page (None: none).
    ``width``: the sheet's total column width in characters, to choose the orientation
    when ``landscape`` is not given; a sheet wider than ``ONE_PAGE_WIDE`` (the dataset's
    one-column-per-field sheet) is not shrunk to one page but printed across pages with
    its first ``key_columns`` columns (department, file) repeated on each.
    """
    plan = print_plan(title, width=width, landscape=landscape, key_columns=key_columns)
    ws.set_paper(A4)
    if plan.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    if plan.across:
        if plan.repeat_columns:
            ws.repeat_columns(0, plan.repeat_columns - 1)
        ws.print_across()
    else:
        ws.fit_to_pages(1, 0)  # one page wide, as tall as needed
    ws.set_margins(**MARGINS)
    if header_rows is not None:
        ws.repeat_rows(*header_rows)
    ws.set_header(plan.header, {"margin": HEADER_FOOTER_MARGIN})
    ws.set_footer(plan.footer, {"margin": HEADER_FOOTER_MARGIN})
    ws.hide_gridlines(0)  # gridlines on screen and on paper: rows stay readable across a page
