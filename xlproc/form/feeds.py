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
        fields, columns = op_inputs(f.compute or {}, spec)
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

    visit(field_id)
    del visit  # empties its closure cell: no reference cycle left for the cyclic collector
    filled = [c for c in out if c not in blank]
    return tuple(dict.fromkeys(filled or out))
