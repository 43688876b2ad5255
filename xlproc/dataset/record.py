"""The compact per-file record a batch worker sends back for the district dataset.

A worker already holds the typed ``Submission``; instead of pickling it (spec, cell
maps, problems objects …) it sends this record: plain JSON-able data, every value a
string (exact: a ``Decimal`` as its own digits, a date in ISO form) or ``None``,
tables as rows aligned with the spec's columns. The parent decodes the values by the
spec's field types, so the dataset holds the same ``Decimal`` / ``date`` / ``str`` the
reader produced, without a second read of any file. The record is also what the batch
manifest keeps, so a re-run that reuses a file's outputs still has its figures.

Standard library only: workers never import pandas for this.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

RECORD_FORMAT = 1
NUMERIC = ("money", "percent", "count", "number", "year")


def encode(value: Any) -> str | None:
    """A value of a submission as a string (exact) or None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def decode(text: str | None, kind: str) -> Any:
    """The inverse of ``encode`` for a field or column of type ``kind``."""
    if text is None:
        return None
    if kind in NUMERIC:
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    if kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    return text


def make_record(sub: Any, *, read_at: str = "", locate: tuple[str, ...] = ()) -> dict:
    """The record of one submission (see the module docstring).

    ``locate``: field ids whose sheet and cell are kept (the fields the checks across
    departments point at; every other value is located through the form spec).
    """
    fields = {fid: v for fid, fv in sub.fields.items() if (v := encode(fv.value)) is not None}
    tables = {}
    for tid, table in sub.tables.items():
        cols = [c.id for c in table.spec.columns]
        tables[tid] = [[r.get("row"), *(encode(r.get(c)) for c in cols)] for r in table.rows]
    problems = [
        [p.sheet, p.cell, p.field_id, p.label, encode(p.raw) if p.raw is not None else None, p.message]
        for p in sub.problems
    ]
    record = {
        "format": RECORD_FORMAT,
        "form": [sub.form_id, sub.form_version],
        "read_at": read_at,
        "fields": fields,
        "tables": tables,
        "problems": problems,
    }
    cells = {f: [sub.fields[f].sheet, sub.fields[f].cell] for f in locate if f in sub.fields}
    if cells:
        record["cells"] = cells
    return record


def figures_of(sub: Any, field_ids: tuple[str, ...]) -> dict[str, str]:
    """A few fields of a submission, encoded (last year's figures for the year-on-year checks)."""
    return {f: v for f in field_ids if f in sub.fields and (v := encode(sub.fields[f].value)) is not None}
