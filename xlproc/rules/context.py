"""What a rule sees of one workbook: every figure as an interval, every blank as a policy.

A ``Context`` wraps one ``Submission``. Inputs become ``Num`` intervals from their
displayed decimals; computed fields (totals, ratios, register counts, scores) are
re-evaluated here *in interval arithmetic from their inputs* — the reader's exact
recomputation is a single rounded figure and would hide the rounding tolerance.
Results are cached per workbook; nothing here raises past the engine except the
``Skip`` / ``Missing`` control signals of expr.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..form.ops import op_interval
from ..form.spec import FieldSpec, FormSpec
from ..results import CellRef
from ..submission import Submission
from .expr import Missing, Skip
from .intervals import Num, Undefined, num_sum

_ZERO = Num.exact(Decimal(0))


def _finite(v: Any) -> bool:
    return isinstance(v, Decimal) and v.is_finite()


class _Failed:
    """A cached evaluation failure (re-raised as Skip on every access)."""


_FAILED = _Failed()


class Context:
    """Evaluation context of one submission (and, for cross-year rules, last year's)."""

    def __init__(self, sub: Submission, spec: FormSpec, prev: Context | None = None):
        self.sub = sub
        self.spec = spec
        self.fields = sub.fields
        self.prev = prev
        self._computed: dict[str, Num | _Failed] = {}
        self._inputs: dict[str, Num] = {}
        self._tables: dict[str, tuple[list[int], dict[str, list[Any]]]] = {}
        self._columns: dict[tuple[str, str], list[Any]] = {}
        self._column_nums: dict[tuple[str, str], list[Num | None]] = {}
        self.bad_columns = {p.field_id for p in sub.problems if "." in p.field_id}
        self.failed: list[tuple[Any, Any]] = []  # (expression rule, its finding): culprit.py

    # -- single fields ------------------------------------------------------------

    def num(self, field_id: str, policy: str = "skip") -> Num:
        """The field as an interval. Blank: ``zero`` → exact 0, ``missing`` → Missing, else Skip."""
        hit = self._inputs.get(field_id)
        if hit is not None:
            return hit
        fs = self.spec.fields[field_id]
        if fs.compute is not None:
            return self.computed(field_id)
        fv = self.fields.get(field_id)
        if fv is None or fv.problem:
            raise Skip
        v = fv.value
        if v is None:
            if fs.required:
                raise Skip  # reported once by the `required` rule, not by every rule using it
            if policy == "zero":
                return Num.exact(Decimal(0), self.spec.decimals(fs) or 0)
            if policy == "missing":
                raise Missing(field_id)
            raise Skip
        if not isinstance(v, Decimal) or not v.is_finite():
            raise Skip
        n = self._inputs[field_id] = self._as_num(v, fs)
        return n

    def _as_num(self, v: Decimal, fs: Any) -> Num:
        if fs.type in ("count", "year") or getattr(fs, "fixed", False):
            return Num.exact(v)
        return Num.shown(v, self.spec.decimals(fs) or 0)

    def value(self, field_id: str) -> Any:
        """A text / enum / date field as typed (None when blank); unreadable → Skip."""
        fv = self.fields.get(field_id)
        if fv is None or fv.problem:
            raise Skip
        if self.spec.fields[field_id].is_numeric:
            return self.num(field_id)
        return fv.value

    def filled(self, field_id: str) -> bool:
        """Has the department entered something (even something unreadable)?"""
        fv = self.fields.get(field_id)
        if fv is None:
            return False
        if fv.problem:
            return True
        v = fv.value
        return v is not None and not (isinstance(v, str) and not v.strip())

    def cell_of(self, field_id: str) -> CellRef:
        fv = self.fields[field_id]
        return CellRef(fv.sheet, fv.cell)

    # -- tables -------------------------------------------------------------------

    def table(self, table_id: str) -> tuple[list[int], dict[str, list[Any]]]:
        """Excel row numbers and column lists of a table, extracted once per workbook."""
        hit = self._tables.get(table_id)
        if hit is None:
            td = self.sub.tables.get(table_id)
            if td is None or not td.rows:
                hit = ([], {})
            else:
                rows = [int(r["row"]) for r in td.rows]
                hit = (rows, {c.id: td.column(c.id) for c in td.spec.columns})
            self._tables[table_id] = hit
        return hit

    def row_count(self, table_id: str) -> int:
        return len(self.table(table_id)[0])

    def column(self, table_id: str, column_id: str) -> list[Any]:
        """The values of one table column, row by row; a column with an unreadable cell → Skip."""
        key = (table_id, column_id)
        cached = self._columns.get(key)
        if cached is not None:
            return cached
        if f"{table_id}.{column_id}" in self.bad_columns:
            raise Skip
        rows, cols = self.table(table_id)
        values: list[Any] = cols.get(column_id, [None] * len(rows))
        self._columns[key] = values
        return values

    def column_nums(self, table_id: str, column_id: str) -> list[Num | None]:
        key = (table_id, column_id)
        cached = self._column_nums.get(key)
        if cached is not None:
            return cached
        col = self.spec.tables[table_id].column(column_id)
        nums = [self._as_num(v, col) if _finite(v) else None for v in self.column(table_id, column_id)]
        self._column_nums[key] = nums
        return nums

    def column_cells(self, table_id: str, column_id: str) -> list[CellRef]:
        td = self.sub.tables.get(table_id)
        if td is None or column_id not in td.columns:
            return []
        return [CellRef(td.sheet, td.cell(r, column_id)) for r in self.table(table_id)[0]]

    def first_blank_cell(self, table_id: str, column_id: str) -> CellRef | None:
        """Where a count mismatch of a register column shows: its first blank cell."""
        td = self.sub.tables.get(table_id)
        rows = self.table(table_id)[0]
        if td is None or not rows:
            return None
        try:
            values = self.column(table_id, column_id)
        except Skip:
            values = [1] * len(rows)
        for r, v in zip(rows, values, strict=True):
            if v is None:
                return CellRef(td.sheet, td.cell(r, column_id))
        return CellRef(td.sheet, td.cell(rows[0], column_id))

    # -- previous year --------------------------------------------------------------

    def prev_num(self, field_id: str, policy: str = "skip") -> Num:
        if self.prev is None:
            raise Skip
        return self.prev.num(field_id, policy)

    def prev_value(self, field_id: str) -> Any:
        if self.prev is None:
            raise Skip
        return self.prev.value(field_id)

    # -- computed fields in interval arithmetic ---------------------------------------

    def computed(self, field_id: str) -> Num:
        cached = self._computed.get(field_id)
        if cached is None:
            try:
                cached = self._evaluate(self.spec.fields[field_id])
            except (Skip, Missing, Undefined):
                cached = _FAILED
            self._computed[field_id] = cached
        if cached is _FAILED:
            raise Skip
        return cached  # type: ignore[return-value]

    def _part(self, field_id: str) -> Num:
        """A part of a computed SUM: a blank input counts as 0, like Excel's SUM."""
        fv = self.fields.get(field_id)
        if fv is not None and fv.value is None and not fv.problem and self.spec.fields[field_id].compute is None:
            return _ZERO
        return self.num(field_id)

    def _evaluate(self, f: FieldSpec) -> Num:
        return op_interval(f.compute or {}, self)

    # the interval face of the compute ops (form/ops.py) calls these
    exact = staticmethod(Num.exact)
    total = staticmethod(num_sum)
    part = _part

    def raw(self, field_id: str) -> Any:
        fv = self.fields.get(field_id)
        return None if fv is None else fv.value

    def ratio_operand(self, field_id: str) -> Num:
        return self._ratio_operand(field_id)

    def _ratio_operand(self, field_id: str) -> Num:
        fs = self.spec.fields[field_id]
        if fs.compute is None and self.fields[field_id].value is None:
            raise Skip  # a ratio of a blank is blank, as the sheet shows it
        return self._part(field_id)
