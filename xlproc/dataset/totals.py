"""District totals and the summary's figures, computed from the dataset's frames.

The bureau's summary takes both its per-department figures and its district totals
from here, so the summary and the dataset never disagree.

A summary figure is declared like the pack's ``summary:`` list: ``id``, ``label``,
``kind`` (score | amount | percent | count), and ``field`` (a field id) or ``compute``
(``{difference: [a, b]}``, ``{ratio_pct: [a, b]}``, ``{sum: [a, ...]}``). The district
total of an amount or count is the sum over departments; of a computed figure, the
same computation over the summed fields (a ratio of sums, never a sum of ratios); a
score has no total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

DEFAULT_DECIMALS = {"score": 2, "amount": 2, "percent": 2, "count": 0}


@dataclass(frozen=True)
class Figure:
    """One column of the summary."""

    id: str
    label: str
    kind: str
    field: str = ""
    op: str = ""
    args: tuple[str, ...] = ()
    decimals: int = 2
    rank: bool = False
    compute: tuple[tuple[str, Any], ...] = ()  # the compute mapping, as items

    @classmethod
    def of(cls, node: Any) -> Figure:
        """From a pack's summary entry (a mapping or an object with the same attributes)."""
        get = node.get if isinstance(node, dict) else (lambda k, d=None: getattr(node, k, d))
        compute = get("compute") or {}
        op, args = next(iter(compute.items())) if compute else ("", ())
        kind = str(get("kind", "amount"))
        decimals = get("decimals")
        return cls(
            id=str(get("id")),
            label=str(get("label")),
            kind=kind,
            field=str(get("field") or ""),
            op=str(op),
            args=tuple(str(a) for a in args),
            decimals=int(decimals) if decimals is not None else DEFAULT_DECIMALS.get(kind, 2),
            rank=bool(get("rank", False)),
            compute=tuple((str(k), tuple(v) if isinstance(v, list) else v) for k, v in dict(compute).items()),
        )

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,) if self.field else self.args

    def value(self, values: dict[str, Any], spec: Any = None) -> Decimal | None:
        """The figure from one department's (or the district's summed) field values.

        With ``spec``, a compute op is evaluated by the form's op registry (as the worker
        computes the department's figure); otherwise difference / ratio_pct / sum here.
        """
        if self.field:
            v = values.get(self.field)
            return v if isinstance(v, Decimal) else None
        if spec is not None and self.compute:
            from ..form.ops import op_value

            compute = {k: list(v) if isinstance(v, tuple) else v for k, v in self.compute}
            try:
                v = op_value(compute, spec, values, {}, None)
            except (ArithmeticError, KeyError, TypeError, ValueError):
                return None
            return v if isinstance(v, Decimal) else None
        nums = [values.get(a) for a in self.args]
        if not all(isinstance(n, Decimal) for n in nums):
            return None
        if self.op == "difference":
            return nums[0] - nums[1]
        if self.op == "ratio_pct":
            return nums[0] / nums[1] * 100 if nums[1] else None
        if self.op == "sum":
            return sum(nums, Decimal(0))
        return None

    @property
    def totals(self) -> bool:
        """Whether the district total is meaningful (not for scores)."""
        return self.kind != "score"


def figures_from(pack_summary: Any = None) -> tuple[Figure, ...]:
    """The summary's figures: the pack's ``summary:`` list (none when no pack declares any)."""
    return tuple(Figure.of(n) for n in (pack_summary or ()))


def column_sums(fields_frame: Any, field_ids: list[str] | tuple[str, ...]) -> dict[str, Decimal | None]:
    """Exact sums of numeric fields over the departments (None where no department has a value)."""
    out: dict[str, Decimal | None] = {}
    for fid in field_ids:
        if fid not in fields_frame.columns:
            out[fid] = None
            continue
        vals = [v for v in fields_frame[fid] if isinstance(v, Decimal)]
        out[fid] = sum(vals, Decimal(0)) if vals else None
    return out


def district_figures(fields_frame: Any, figures: tuple[Figure, ...], spec: Any = None) -> dict[str, Decimal | None]:
    """Figure id → the district's total (None for scores): the figure computed over the summed fields."""
    needed = sorted({f for fig in figures if fig.totals for f in fig.fields})
    sums = column_sums(fields_frame, needed)
    return {fig.id: fig.value(sums, spec) if fig.totals else None for fig in figures}


@dataclass(frozen=True)
class TotalsTable:
    """The district's totals of one grid of the form (三公, 三保, budgets, 决算 by function class)."""

    label: str
    sheet: str
    columns: tuple[tuple[str, str], ...]  # (column id, label)
    rows: tuple[tuple[str, tuple[Decimal | None, ...]], ...]  # (row label, one sum per column)
    has_total: bool = False  # the last row is the grid's total row


def grid_totals(spec: Any, fields_frame: Any) -> list[TotalsTable]:
    """Sums over departments of every money grid of the form, row by row (incl. its total row)."""
    tables = []
    for sheet in spec.sheets:
        for block in sheet.blocks:
            if block.kind != "grid":
                continue
            cols = [c for c in block.grid_columns if c.type == "money"]
            if not cols:
                continue
            row_ids = [(r.id, r.label) for r in block.grid_rows]
            if block.total:
                row_ids.append(("total", block.total_label or "合计"))
            rows = []
            for rid, rlabel in row_ids:
                ids = [block.grid_field(rid, c.id) for c in cols]
                sums = column_sums(fields_frame, [i for i in ids if i in spec.fields])
                rows.append((rlabel, tuple(sums.get(i) for i in ids)))
            tables.append(
                TotalsTable(
                    block.label, sheet.name, tuple((c.id, c.label) for c in cols), tuple(rows), bool(block.total)
                )
            )
    return tables
