"""What the report may say about each field: its value, formatted, and its state.

The wording (the pack's ``wording.yaml``) never sees a raw cell. Python prepares one
``Fact`` per field of the form — value, formatted text and three flags: ``blank``
(nothing was entered), ``unreadable`` (something was entered the reader could not
take as the field's type, kept as a cell problem) and ``flagged`` (the checker calls
the figure a mandatory error or a probable unit slip). A blank fact prints 未填报 and
an unreadable one 无法识别, never 0, so a sentence that forgets to test them still
says nothing false. Computed fields (totals, ratios, counts) are blank when every
input they are computed from is blank and unreadable when any input is.

Nothing here names a field of a particular edition: fields, grids and tables come
from the form spec; which of them feed which sentence is the wording's business.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from ..form.memo import memo
from ..form.spec import Block, FormSpec
from ..results import CheckReport
from ..submission import Submission
from .formatting import clean_inline, clean_text, fmt_count, fmt_date, fmt_money, fmt_percent, fmt_score, to_decimal

UNFILLED = "未填报"
UNREADABLE = "无法识别"
TO_VERIFY = "（待核实）"
MONEY_UNIT = "万元"

_MONEY, _PERCENT, _COUNT = ("money",), ("percent",), ("count", "year")


class _once:
    """A property computed on first access and kept in the instance's ``__dict__``.

    ``functools.cached_property`` does the same but takes a lock on every first access
    (Python 3.11), which showed up as the largest single cost of building a report's
    ~350 facts. A non-data descriptor: once the value is stored, attribute lookup finds it
    in the instance and never calls ``__get__`` again.
    """

    __slots__ = ("fn", "name")

    def __init__(self, fn: Any):
        self.fn, self.name = fn, fn.__name__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


@dataclass(eq=False)
class Fact:
    """One field as the report may state it (see the module docstring).

    Not changed once made (a snippet cannot assign attributes). Not a frozen dataclass:
    a report builds ~400 of them, and a frozen one's ``__init__`` costs four times as much.
    """

    id: str
    label: str
    type: str
    value: Any  # Decimal / str / date / None
    decimals: int = 2
    state: str = "ok"  # ok | blank | unreadable
    flagged: bool = False  # the checker doubts this figure (marked in a draft)
    cell: str = ""  # 工作表!单元格, for messages

    # -- state -----------------------------------------------------------------------
    @property
    def blank(self) -> bool:
        return self.state == "blank"

    @property
    def unreadable(self) -> bool:
        return self.state == "unreadable"

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    # -- values ----------------------------------------------------------------------
    @_once
    def num(self) -> Decimal | None:
        """The number, or None when blank / unreadable / not a number."""
        return to_decimal(self.value) if self.ok else None

    @property
    def zero(self) -> bool:
        """Entered and equal to 0 (a blank is not zero)."""
        n = self.num
        return n is not None and n == 0

    @property
    def positive(self) -> bool:
        n = self.num
        return n is not None and n > 0

    @property
    def yes(self) -> bool:
        return self.ok and self.plain == "是"

    @property
    def no(self) -> bool:
        return self.ok and self.plain == "否"

    @_once
    def plain(self) -> str:
        """The formatted value without the 待核实 mark ('' when blank / unreadable)."""
        if not self.ok:
            return ""
        v = self.value
        if self.type in _MONEY:
            return fmt_money(v, self.decimals)
        if self.type in _PERCENT:
            return fmt_percent(v)
        if self.type in _COUNT:
            return fmt_count(v)
        if self.type == "number":
            return fmt_score(v, self.decimals)
        if self.type == "date" or hasattr(v, "isoformat"):
            return fmt_date(v)
        if isinstance(v, Decimal):
            return fmt_score(v, 4)
        if self.type == "longtext":
            return clean_text(v)
        return clean_inline(v)

    @property
    def unit(self) -> str:
        """万元 for amounts (printed with the figure), '' otherwise."""
        return MONEY_UNIT if self.type in _MONEY else ""

    @property
    def mark(self) -> str:
        """（待核实） when a draft doubts this figure."""
        return TO_VERIFY if self.flagged and self.ok else ""

    @_once
    def text(self) -> str:
        """What the report prints: 3861.27万元（待核实）, 87.40%, 未填报 or 无法识别."""
        if self.blank:
            return UNFILLED
        if self.unreadable:
            return UNREADABLE
        return self.plain + self.unit + self.mark

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:  # ``{% if f.note %}``: entered and not empty
        return self.ok and bool(self.plain)


# What a wording snippet may read of a Fact (data fields and the properties above).
WORDING_FACT_ATTRS = frozenset(
    [f.name for f in fields(Fact)]
    + [n for n, v in vars(Fact).items() if isinstance(v, (property, _once)) and not n.startswith("_")]
)


class GridRow:
    """One row of a grid: ``row.label``, ``row.id`` and each column's Fact by column id."""

    def __init__(self, row_id: str, label: str, cells: dict[str, Fact]):
        self.id, self.label, self.cells = row_id, label, cells

    def __getattr__(self, name: str) -> Fact:
        cells = self.__dict__.get("cells", {})
        if name in cells:
            return cells[name]
        raise AttributeError(name)


class TableRow(GridRow):
    """One non-empty row of a repeating table (``row.no`` is its 1-based position)."""

    def __init__(self, no: int, cells: dict[str, Fact]):
        super().__init__(str(no), "", cells)
        self.no = no


def flagged_cells(report: CheckReport | None) -> set[tuple[str, str]]:
    """(sheet, cell) of figures a draft marks 待核实: mandatory errors and probable unit slips."""
    out: set[tuple[str, str]] = set()
    if report is None:
        return out
    for f in report.findings:
        # The finding's own cell is the figure it doubts (a unit slip's base, a total's
        # parts are only context and stay unmarked).
        if f.severity == "error" or ("as_wan" in f.operands and not f.explained):
            out.add((f.sheet, f.cell))
    return out


def _refs(node: Any, spec: FormSpec) -> list[str]:
    """Field ids and table.column references inside a compute definition."""
    found: list[str] = []
    if isinstance(node, str):
        head, _, column = node.partition(".")
        grid = next((b for s in spec.sheets for b in s.blocks if b.kind == "grid" and b.id == head), None)
        if node in spec.fields or head in spec.tables:
            found.append(node)
        elif grid is not None and column:  # grid.column (e.g. the score column of the rubric grid)
            found += [
                grid.grid_field(r.id, column) for r in grid.grid_rows if grid.grid_field(r.id, column) in spec.fields
            ]
    elif isinstance(node, dict):
        for v in node.values():
            found += _refs(v, spec)
    elif isinstance(node, (list, tuple)):
        for v in node:
            found += _refs(v, spec)
    return found


@dataclass(frozen=True)
class _FieldPlan:
    """What a field's Fact takes from the spec, prepared once per spec."""

    id: str
    label: str
    type: str
    decimals: int
    refs: tuple[str, ...] | None  # a computed field's operands (fields, table.column); None: an input
    rubric: bool  # a rubric total or percentage: its operands are the score fields


def _decimals(spec: FormSpec, node: Any) -> int:
    """The places a field or column's figure is printed with (2 when its type sets none)."""
    d = spec.decimals(node)
    return 2 if d is None else d


def _field_plans(spec: FormSpec) -> dict[str, _FieldPlan]:
    def build() -> dict[str, _FieldPlan]:
        out = {}
        for fid, fs in spec.fields.items():
            compute = fs.compute
            refs = None if compute is None else tuple(_refs(compute, spec))
            rubric = compute is not None and any(k in compute for k in ("rubric_total", "rubric_pct"))
            out[fid] = _FieldPlan(fid, fs.label, fs.type, _decimals(spec, fs), refs, rubric)
        return out

    return memo(spec, "fact_plans", build)


def _grid_layouts(spec: FormSpec) -> dict[str, list[tuple[str, str, list[tuple[str, str]]]]]:
    """Grid id → its rows as (row id, label, [(column id, field id)]), once per spec."""

    def build() -> dict[str, list[tuple[str, str, list[tuple[str, str]]]]]:
        return {
            block.id: [
                (row.id, row.label, [(c.id, block.grid_field(row.id, c.id)) for c in block.grid_columns])
                for row in block.grid_rows
            ]
            for sheet in spec.sheets
            for block in sheet.blocks
            if block.kind == "grid"
        }

    return memo(spec, "fact_grids", build)


def _table_columns(spec: FormSpec) -> dict[str, list[tuple[str, str, str, str, int]]]:
    """Table id → its columns as (column id, fact id, label, type, decimals), once per spec."""

    def build() -> dict[str, list[tuple[str, str, str, str, int]]]:
        return {
            table_id: [(c.id, f"{table_id}.{c.id}", c.label, c.type, _decimals(spec, c)) for c in tspec.columns]
            for table_id, tspec in spec.tables.items()
        }

    return memo(spec, "fact_tables", build)


class FactBook:
    """Every field, grid and table of one submission as Facts."""

    def __init__(self, sub: Submission, report: CheckReport | None = None, mark: bool = False, scores: Any = None):
        self.sub, self.spec = sub, sub.spec
        self.flagged = flagged_cells(report) if mark else set()
        self._bad_columns = {p.field_id for p in sub.problems if "." in p.field_id}
        self._bad_cells = {(p.sheet, p.cell) for p in sub.problems}
        self._score_fields = tuple(scores or ())
        self._plans = _field_plans(self.spec)
        self.fields: dict[str, Fact] = {}
        for plan in self._plans.values():
            if plan.id not in self.fields:  # not already made as another field's operand
                self._fact(plan, ())

    def _fact(self, plan: _FieldPlan, seen: tuple[str, ...]) -> Fact:
        fid = plan.id
        hit = self.fields.get(fid)
        if hit is not None:
            return hit
        fv = self.sub.fields.get(fid)
        if fv is None:
            value, cell, flagged, problem = None, "", False, False
        else:
            value, cell, problem = fv.value, f"{fv.sheet}!{fv.cell}", fv.problem
            flagged = bool(self.flagged) and (fv.sheet, fv.cell) in self.flagged
        if problem:
            state = "unreadable"
        elif plan.refs is not None:  # computed: from its operands' states; no value is blank
            state = self._computed_state(plan, (*seen, fid))
            if state == "ok" and value is None:
                state = "blank"
        elif value is None or (isinstance(value, str) and not value.strip()):
            state = "blank"
        else:
            state = "ok"
        fact = self.fields[fid] = Fact(fid, plan.label, plan.type, value, plan.decimals, state, flagged, cell)
        return fact

    def _computed_state(self, plan: _FieldPlan, seen: tuple[str, ...]) -> str:
        refs = plan.refs if plan.refs or not plan.rubric else self._score_fields
        states = []
        plans = self._plans
        for ref in refs or ():
            sub_plan = plans.get(ref)
            if sub_plan is None:
                states.append(self._column_state(ref))
            elif ref not in seen:
                states.append(self._fact(sub_plan, seen).state)
        if "unreadable" in states:
            return "unreadable"
        if states and all(s == "blank" for s in states):
            return "blank"
        return "ok"

    def _column_state(self, ref: str) -> str:
        table_id, _, column = ref.partition(".")
        if ref in self._bad_columns or (not column and any(c.startswith(table_id + ".") for c in self._bad_columns)):
            return "unreadable"
        table = self.sub.tables.get(table_id)
        rows = [] if table is None else table.rows
        if column:
            values: Any = (r.get(column) for r in rows)
        else:
            values = (v for r in rows for k, v in r.items() if k != "row")
        return "ok" if any(v is not None and str(v).strip() for v in values) else "blank"

    # -- grids and tables --------------------------------------------------------------
    def grid_block(self, grid_id: str) -> Block | None:
        for sheet in self.spec.sheets:
            for block in sheet.blocks:
                if block.kind == "grid" and block.id == grid_id:
                    return block
        return None

    def grid(self, grid_id: str) -> list[GridRow]:
        layout = _grid_layouts(self.spec).get(grid_id)
        if layout is None:
            return []
        fields = self.fields
        return [GridRow(row_id, label, {cid: fields[fid] for cid, fid in cells}) for row_id, label, cells in layout]

    def grids(self) -> dict[str, list[GridRow]]:
        return {grid_id: self.grid(grid_id) for grid_id in _grid_layouts(self.spec)}

    def table(self, table_id: str) -> list[TableRow]:
        """The table's non-empty rows as Facts, numbered 1…n."""
        data = self.sub.tables.get(table_id)
        columns = _table_columns(self.spec).get(table_id)
        if data is None or columns is None:
            return []
        out: list[TableRow] = []
        sheet, letters = data.sheet, data.columns
        bad, flagged = self._bad_cells, self.flagged
        for r in data.rows:
            cells: dict[str, Fact] = {}
            has_row, row = "row" in r, r.get("row")
            any_entered = False
            for cid, full_id, label, typ, decimals in columns:
                v = r.get(cid)
                letter = letters.get(cid) if has_row else None
                where = (sheet, f"{letter}{row}") if letter is not None else None
                if where is not None and where in bad:
                    state = "unreadable"
                elif v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip()):
                    state = "blank"
                else:
                    state = "ok"
                if state != "blank":
                    any_entered = True
                cells[cid] = Fact(
                    full_id,
                    label,
                    typ,
                    v,
                    decimals,
                    state,
                    where is not None and where in flagged,
                    f"{sheet}!{where[1]}" if where else "",
                )
            if any_entered:
                out.append(TableRow(len(out) + 1, cells))
        return out

    def tables(self) -> dict[str, list[TableRow]]:
        return {tid: self.table(tid) for tid in self.spec.tables}
