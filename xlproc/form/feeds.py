"""Which input cells feed a computed cell, from the form spec's compute ops.

A computed cell holds a locked formula: a finding about it gives the clerk nothing
to edit. ``feeding_cells`` follows the compute op (through other computed fields)
down to the input cells of the submission the value is derived from, so the
annotator can mark those instead. Each op's operands come from the op registry
(``ops.op_inputs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..results import CellRef
from .ops import op_inputs

if TYPE_CHECKING:
    from ..submission import Submission


def feeding_cells(sub: Submission, field_id: str, limit: int = 30) -> tuple[CellRef, ...]:
    """The input cells (of ``sub``) that computed field ``field_id`` is derived from.

    Followed through computed operands; table columns contribute their filled rows.
    Field inputs come first in spec order, then table cells by row. Only the filled
    inputs when there are any (a blank counts as 0 in a total: the figure to correct
    is one that was typed), else every input; at most ``limit``. Empty for an input
    field or an unknown id.
    """
    spec = sub.spec
    spec_field = spec.fields.get(field_id)
    if spec_field is None or spec_field.is_input:
        return ()
    out: list[CellRef] = []
    blank: set[CellRef] = set()
    seen_fields: set[str] = set()
    seen_columns: set[str] = set()
    # Depth first, in operand order: a computed operand's own inputs before the next operand,
    # a field's table columns after its field operands. An explicit stack, not a recursive
    # closure (that would be a reference cycle holding ``sub`` until a garbage collection).
    todo: list[tuple[str, str]] = [("field", field_id)]
    while todo and len(out) < limit:
        kind, ref = todo.pop()
        if kind == "column":
            _column_cells(sub, ref, seen_columns, out, blank, limit)
            continue
        if ref in seen_fields:
            continue
        seen_fields.add(ref)
        f = spec.fields.get(ref)
        fv = sub.fields.get(ref)
        if f is None or fv is None:
            continue
        if f.is_input:
            if fv.cell:
                out.append(CellRef(fv.sheet, fv.cell))
                if fv.is_blank:
                    blank.add(out[-1])
            continue
        fields, columns = op_inputs(f.compute or {}, spec)
        todo += [("column", c) for c in reversed(columns)] + [("field", x) for x in reversed(fields)]
    filled = [c for c in out if c not in blank]
    return tuple(dict.fromkeys(filled or out))


def _column_cells(
    sub: Submission, ref: str, seen: set[str], out: list[CellRef], blank: set[CellRef], limit: int
) -> None:
    """The cells of table column ``ref`` (table.column), row by row, into ``out``."""
    if ref in seen:
        return
    seen.add(ref)
    table_id, column_id = ref.split(".", 1)
    table = sub.tables.get(table_id)
    if table is None or column_id not in table.columns:
        return
    for row in table.rows:
        if len(out) >= limit:
            return
        out.append(CellRef(table.sheet, table.cell(row["row"], column_id)))
        if row.get(column_id) is None:
            blank.add(out[-1])
