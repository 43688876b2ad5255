"""Undo a previous round of annotation before annotating again (no stacking).

A workbook we returned carries a hidden ``_审核记录`` sheet: for every cell we
filled, its original and our style id and the xf / fill XML behind them, and the
original text of department comments we appended to. Restoring is exact when the
styles table is still ours (the department edited in Excel or WPS); when another
suite rewrote it (style ids renumbered), the cell keeps its current format with
our fill replaced by the recorded original fill. Our own comments are recognised
by author or by their leading ``xlproc审核:`` line; 审核结果 and ``_审核记录`` are
removed.
"""

from __future__ import annotations

from ..ooxml.a1 import split_a1
from .book import Book
from .cells import read_cells
from .comments import CommentsPart
from .package import REL_COMMENTS, Package
from .results_sheet import HEADERS, RESULTS_SHEET, STATE_SHEET, parse_state
from .sheet import SheetXml
from .styles import Styles, normalize


def _looks_like_results(pkg: Package, book: Book, name: str) -> bool:
    entry = book.sheet(name)
    if entry is None or not entry.part or not pkg.exists(entry.part):
        return False
    cells = read_cells(pkg, entry.part, book.part)
    return all(cells.get(f"{chr(65 + i)}2") == h for i, h in enumerate(HEADERS[:2]))  # 序号, 类别 (every layout)


def strip_previous(pkg: Package, book: Book, styles: Styles) -> dict | None:
    """Remove the previous round's fills, comments and sheets; return its state."""
    state_entry = book.sheet(STATE_SHEET)
    state = None
    if state_entry is not None and state_entry.part and pkg.exists(state_entry.part):
        state = parse_state(read_cells(pkg, state_entry.part, book.part))
    results_name = (state or {}).get("results_sheet") or RESULTS_SHEET
    had_results = _looks_like_results(pkg, book, results_name)
    if state is None and not had_results:
        return None
    state = state or {}
    sheets: dict[str, SheetXml] = {}

    def sheet_xml(name: str) -> SheetXml | None:
        if name not in sheets:
            entry = book.sheet(name)
            if entry is None or not entry.is_worksheet or not pkg.exists(entry.part):
                return None
            sheets[name] = SheetXml(pkg, entry.part)
        return sheets[name]

    lost: dict[str, list[dict]] = {}
    for rec in state.get("cells", []):
        sx = sheet_xml(rec.get("sheet", ""))
        if sx is not None and not _restore_cell(sx, styles, rec, rec.get("cell", "")):
            lost.setdefault(rec.get("sheet", ""), []).append(rec)
    for name, recs in lost.items():
        _restore_moved(sheets[name], styles, recs)

    merged: dict[str, dict[str, str]] = {}
    for rec in state.get("merged", []):
        merged.setdefault(rec.get("sheet", ""), {})[rec.get("cell", "")] = rec.get("text", "")
    ours = {results_name, STATE_SHEET}
    for entry in book.sheets:
        if entry.name in ours or not entry.is_worksheet or not entry.part:
            continue
        if not any(r.type == REL_COMMENTS for r in pkg.rels(entry.part)):
            continue
        sx = sheet_xml(entry.name)
        if sx is not None:
            CommentsPart(pkg, entry.part).strip(sx, merged.get(entry.name, {}))
    for sx in sheets.values():
        sx.save()
    for name in (STATE_SHEET, results_name):
        entry = book.sheet(name)
        if entry is not None and (name == STATE_SHEET or had_results):
            book.remove_sheet(entry)
    return state


def _exact(styles: Styles, rec: dict, current: int) -> bool:
    """The cell still has our xf and the styles table is the one we wrote."""
    orig_s = rec.get("orig_s")
    return (
        current == rec.get("annot_s")
        and normalize(styles.get("cellXfs", current)) == normalize(rec.get("annot_xf", ""))
        and isinstance(orig_s, int)
        and normalize(styles.get("cellXfs", orig_s)) == normalize(rec.get("orig_xf", ""))
    )


def _restore_cell(sx: SheetXml, styles: Styles, rec: dict, cell: str) -> bool:
    """Put back the department's format of ``cell`` per ``rec``; False if not ours there."""
    current, exists, _ = sx.get_style(cell)
    if not exists:
        return False
    if _exact(styles, rec, current):
        sx.set_style(cell, None if rec.get("orig_attr") is None else rec["orig_s"])
    elif styles.is_our_fill(current):
        fill = rec.get("orig_fill") or styles.get("fills", 0)
        sx.set_style(cell, styles.with_fill(current, fill, rec.get("orig_apply")))
    else:
        return False  # moved away, or the department changed the format itself
    if rec.get("created") and cell == rec.get("cell"):
        sx.remove_empty_cell(cell)
    return True


def _restore_moved(sx: SheetXml, styles: Styles, lost: list[dict]) -> None:
    """Cells that moved (rows or columns inserted): find our marks elsewhere on the sheet.

    Only when a recorded cell lost its mark do we look for marks at other places, and
    each one found is matched to the nearest lost record (same column first).
    """
    marked = []
    for ref, s in sx.styled_cells():
        if any(_exact(styles, rec, s) for rec in lost) or styles.is_our_fill(s):
            marked.append(ref)
    for ref in marked:
        if not lost:
            return
        rc = split_a1(ref) or (0, 0)

        def distance(rec: dict, rc=rc) -> tuple[int, int]:
            r2 = split_a1(rec.get("cell", "")) or (0, 0)
            return (0 if r2[1] == rc[1] else 1, abs(r2[0] - rc[0]) + abs(r2[1] - rc[1]))

        rec = min(lost, key=distance)
        if _restore_cell(sx, styles, rec, ref):
            lost.remove(rec)
