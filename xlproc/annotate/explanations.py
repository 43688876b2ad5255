"""The department's 说明 answers: read them back, carry them to the new findings.

A finding is matched to a previous answer by its key (rule id, sheet, cell). When
there is no exact match, the answer follows the finding if the cell moved — e.g.
the department inserted a row in a table — provided the rule fired exactly once
on that sheet in both rounds: (rule id, sheet) then identifies it without doubt.
Answers whose finding is gone are dropped. Errors keep the department's text for
the record but are never counted as explained (``Finding.explained``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from ..results import CheckReport
from .book import Book, main_part
from .cells import read_cells
from .package import Package, UnsupportedPackageError
from .results_sheet import HEADER_ROW, HEADERS, RESULTS_SHEET, STATE_SHEET, parse_state

Key = tuple[str, str, str]
_COLS = {h: chr(65 + i) for i, h in enumerate(HEADERS)}  # this layout; earlier ones are found by header text
_ANSWER = "说明（请填写）"


def read_explanations(path: Path, *, data: bytes | None = None) -> dict[Key, str]:
    """(rule id, sheet, cell) → 说明 text from a workbook we annotated before ({} if none).

    ``data``: the bytes of ``path`` when the caller already has them (not read again).
    """
    try:
        pkg = Package(Path(path), data)
        names = pkg.read_text(main_part(pkg))
        if RESULTS_SHEET not in names and STATE_SHEET not in names and "&#" not in names:
            return {}  # never annotated by us (the usual first round): nothing to parse
        book = Book(pkg)
        cells, cols = _results_cells(pkg, book, RESULTS_SHEET)
        if cols is None:  # renamed because the department has a sheet of that name
            state_entry = book.sheet(STATE_SHEET)
            if state_entry is None or not state_entry.part or not pkg.exists(state_entry.part):
                return {}
            state = parse_state(read_cells(pkg, state_entry.part, book.part)) or {}
            cells, cols = _results_cells(pkg, book, state.get("results_sheet") or "")
    except UnsupportedPackageError:
        return {}
    if cols is None:
        return {}
    answer_col, header_row = cols
    by_header = _columns_by_header(cells, header_row)
    rows = sorted({int("".join(ch for ch in ref if ch.isdigit())) for ref in cells})
    out: dict[Key, str] = {}
    for r in rows:
        if r <= header_row:
            continue
        answer = cells.get(f"{answer_col}{r}", "").strip()
        if not answer:
            continue
        key = _key_of(cells, r, by_header)
        if key is not None:
            out[key] = answer
    return out


def _results_cells(pkg: Package, book: Book, name: str) -> tuple[dict[str, str], tuple[str, int] | None]:
    entry = book.sheet(name) if name else None
    if entry is None or not entry.part or not pkg.exists(entry.part):
        return {}, None
    cells = read_cells(pkg, entry.part, book.part)
    return cells, _header_columns(cells)


def _header_columns(cells: dict[str, str]) -> tuple[str, int] | None:
    for ref, text in cells.items():
        if text.strip() == _ANSWER:
            col = "".join(ch for ch in ref if ch.isalpha())
            return col, int(ref[len(col) :])
    if cells.get(f"{_COLS[_ANSWER]}{HEADER_ROW}"):
        return _COLS[_ANSWER], HEADER_ROW
    return None


def _columns_by_header(cells: dict[str, str], header_row: int) -> dict[str, str]:
    """Header text → column letter, read from the header row (any layout we wrote)."""
    found = dict(_COLS)
    suffix = str(header_row)
    for ref, text in cells.items():
        col = ref[: len(ref) - len(suffix)]
        if ref.endswith(suffix) and col.isalpha() and text.strip() in _COLS:
            found[text.strip()] = col
    return found


def _key_of(cells: dict[str, str], r: int, cols: dict[str, str]) -> Key | None:
    hidden = cells.get(f"{cols['键']}{r}", "")
    if hidden.count("|") >= 2:
        rule, rest = hidden.split("|", 1)
        sheet, cell = rest.rsplit("|", 1)
        return rule, sheet, cell
    rule = cells.get(f"{cols['规则编号']}{r}", "").strip()
    sheet = cells.get(f"{cols['工作表']}{r}", "").strip()
    if not rule:
        return None
    return rule, sheet, cells.get(f"{cols['单元格']}{r}", "").strip()


def apply_explanations(report: CheckReport, explanations: dict[Key, str]) -> CheckReport:
    """A copy of ``report`` whose findings carry the matching previous answers."""
    if not explanations:
        return report
    findings = list(report.findings)
    used: set[Key] = set()
    answers: dict[int, str] = {}
    for i, f in enumerate(findings):
        key = (f.rule_id, f.sheet, f.cell)
        if key in explanations:
            answers[i] = explanations[key]
            used.add(key)
    # cell moved: one unmatched finding and one unused answer for the same (rule, sheet)
    open_findings = Counter((f.rule_id, f.sheet) for i, f in enumerate(findings) if i not in answers)
    open_answers = Counter((k[0], k[1]) for k in explanations if k not in used)
    by_rule_sheet = {(k[0], k[1]): v for k, v in explanations.items() if k not in used}
    for i, f in enumerate(findings):
        rs = (f.rule_id, f.sheet)
        if i not in answers and open_findings[rs] == 1 and open_answers[rs] == 1:
            answers[i] = by_rule_sheet[rs]
    if not answers:
        return report
    new = [dataclasses.replace(f, explanation=answers[i]) if i in answers else f for i, f in enumerate(findings)]
    return dataclasses.replace(report, findings=new)
