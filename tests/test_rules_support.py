"""Helpers for the rule tests (no tests here): submissions varied from a real sample.

The base is the clean sample workbook (示例区司法局, samples/inbox), read once by the
real reader, so every cell reference is the template's. ``variant`` returns a copy
with some fields / table cells changed (and computed fields recomputed as the reader
would), without writing a workbook: the rules see only the Submission (STYLE.md).
"""

from __future__ import annotations

import dataclasses
import functools
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from xlproc.form.ops import compute_value
from xlproc.form.spec import FormSpec, default_spec
from xlproc.reading.workbook import read_workbook
from xlproc.submission import (
    FORMULA_CLEARED,
    FORMULA_OWN,
    FORMULA_TYPED,
    CellProblem,
    FieldValue,
    FormulaCell,
    Submission,
    TableData,
)

SAMPLES = Path(__file__).parent.parent / "samples"


def sample_path(name_part: str, folder: str = "inbox") -> Path:
    matches = sorted(p for p in (SAMPLES / folder).glob("*.xlsx") if name_part in p.name)
    if not matches:
        raise FileNotFoundError(name_part)
    return matches[0]


@functools.lru_cache(maxsize=8)
def read_sample(name_part: str, folder: str = "inbox") -> Submission:
    return read_workbook(sample_path(name_part, folder))


def clean_base() -> Submission:
    """The clean department's submission (passes every rule)."""
    return read_sample("司法局")


def _typed(spec: FormSpec, type_: str, value: Any) -> Any:
    if isinstance(value, str) and type_ in ("money", "percent", "number", "count", "year"):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value  # text left in a number field: the engine must survive it too
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def variant(
    base: Submission,
    values: dict[str, Any] | None = None,
    table_edits: dict[str, dict[int, dict[str, Any]]] | None = None,
    problems: dict[str, Any] | None = None,
    spec: FormSpec | None = None,
    formulas: dict[str, Any] | None = None,
    own_formulas: dict[str, str] | None = None,
) -> Submission:
    """A copy of ``base`` with field values, table cells (row index → {col: value}) or
    unreadable cells (field id → raw text) changed; computed fields recomputed.

    ``formulas``: computed field id → the constant typed over its formula ("=" types the
    computed value itself, None empties the cell). ``own_formulas``: input field id →
    the department's formula text in that cell (its value stays as read)."""
    spec = spec or base.spec
    fields = dict(base.fields)
    for fid, value in (values or {}).items():
        fv = fields[fid]
        fields[fid] = dataclasses.replace(fv, value=_typed(spec, spec.fields[fid].type, value), raw=None, problem="")
    cell_problems = list(base.problems)
    for fid, raw in (problems or {}).items():
        fv = fields[fid]
        fields[fid] = dataclasses.replace(fv, value=None, raw=raw, problem=f"“{raw}”不是可以确定的数字，请填写数字")
        cell_problems.append(CellProblem(fv.sheet, fv.cell, fv.label, raw, fields[fid].problem, fid))
    tables = dict(base.tables)
    for tid, edits in (table_edits or {}).items():
        td = tables[tid]
        rows = [dict(r) for r in td.rows]
        for idx, cols in edits.items():
            for col, value in cols.items():
                rows[idx][col] = _typed(spec, td.spec.column(col).type, value)
        tables[tid] = TableData(td.spec, td.sheet, rows, td.columns)
    frames = {tid: t.rows for tid, t in tables.items()}
    vals = {fid: fv.value for fid, fv in fields.items()}
    for f in spec.fields.values():
        if f.compute:
            fv = fields[f.id]
            try:
                v = compute_value(f, spec, vals, frames)
            except (ArithmeticError, TypeError):  # odd values the reader never produces
                v = None
            vals[f.id] = v
            state, typed = fv.formula, fv.typed
            if formulas and f.id in formulas:
                typed = formulas[f.id]
                state = FORMULA_CLEARED if typed is None else FORMULA_TYPED
                typed = v if typed == "=" else _typed(spec, f.type, typed)
            fields[f.id] = FieldValue(f.id, f.label, fv.sheet, fv.cell, v, computed=True, formula=state, typed=typed)
    own = list(base.formulas)
    for fid, text in (own_formulas or {}).items():
        fv = fields[fid] = dataclasses.replace(fields[fid], formula=FORMULA_OWN)
        own.append(FormulaCell(fv.sheet, fv.cell, fv.label, fid, text, fv.value))
    return Submission(base.source, spec, base.form_id, base.form_version, fields, tables, cell_problems, formulas=own)


def typed_counts_spec(field_ids: list[str]) -> FormSpec:
    """The form as an older version had it: these register counts typed, not derived."""
    spec = default_spec()
    fields = dict(spec.fields)
    for fid in field_ids:
        fields[fid] = dataclasses.replace(fields[fid], compute=None, required=False)
    return dataclasses.replace(spec, fields=fields)
