"""Which input cells feed a computed cell, from the form spec's compute ops.

A computed cell holds a locked formula: a finding about it gives the clerk nothing
to edit. ``feeding_cells`` follows the compute op (through other computed fields)
down to the input cells of the submission the value is derived from, so the
annotator can mark those instead. The compute ops' operands are named here once
(``op_inputs``); ``compute.py`` evaluates the same ops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..results import CellRef
from .spec import FieldSpec, FormSpec

if TYPE_CHECKING:
    from ..submission import Submission

# Ops whose operand is one table column ("table.column"); sum_if also reads its ``where`` column.
_COLUMN_OPS = ("sum_column", "count_nonblank", "count_if", "sum_if", "count_between")


def op_inputs(f: FieldSpec, spec: FormSpec) -> tuple[list[str], list[str]]:
    """(field ids, "table.column" refs) the compute op of ``f`` reads."""
    c: dict[str, Any] = f.compute or {}
    fields: list[str] = []
    columns: list[str] = []
    fields += [x for x in c.get("sum", []) + c.get("ratio_pct", []) if isinstance(x, str)]
    columns += [c[k] for k in _COLUMN_OPS if isinstance(c.get(k), str)]
    if isinstance(c.get("where"), str):
        columns.append(c["where"])
    if isinstance(c.get("count_rows"), str):
        table = spec.tables.get(c["count_rows"])
        if table is not None and table.columns:
            columns.append(f"{table.id}.{table.columns[0].id}")
    if "score_total" in c or "score_converted" in c:
        for cat in spec.rubric.categories:
            fields.append(f"score_{cat.id}_score")
            if "score_converted" in c and cat.kind == "score":
                fields.append(f"score_{cat.id}_applicable")
    return [x for x in fields if x in spec.fields], columns


def feeding_cells(sub: Submission, field_id: str, limit: int = 30) -> tuple[CellRef, ...]:
    """The input cells (of ``sub``) that computed field ``field_id`` is derived from.

    Followed through computed operands; table columns contribute their filled rows.
    Field inputs come first in spec order, then table cells by row. Only the filled
    inputs when there are any (a blank counts as 0 in a total: the figure to correct
    is one that was typed), else every input; at most ``limit``. Empty for an input
    field or an unknown id.
    """
    spec = sub.spec
    out: list[CellRef] = []
    blank: set[CellRef] = set()
    seen_fields: set[str] = set()
    seen_columns: set[str] = set()

    def visit(fid: str) -> None:
        if fid in seen_fields or len(out) >= limit:
            return
        seen_fields.add(fid)
        f = spec.fields.get(fid)
        fv = sub.fields.get(fid)
        if f is None or fv is None:
            return
        if f.is_input:
            if fv.cell:
                out.append(CellRef(fv.sheet, fv.cell))
                if fv.is_blank:
                    blank.add(out[-1])
            return
        fields, columns = op_inputs(f, spec)
        for x in fields:
            visit(x)
        for ref in columns:
            if ref in seen_columns:
                continue
            seen_columns.add(ref)
            table_id, column_id = ref.split(".", 1)
            table = sub.tables.get(table_id)
            if table is None or column_id not in table.columns:
                continue
            for row in table.rows:
                if len(out) >= limit:
                    return
                out.append(CellRef(table.sheet, table.cell(row["row"], column_id)))
                if row.get(column_id) is None:
                    blank.add(out[-1])

    spec_field = spec.fields.get(field_id)
    if spec_field is None or spec_field.is_input:
        return ()
    visit(field_id)
    filled = [c for c in out if c not in blank]
    return tuple(dict.fromkeys(filled or out))
