"""Evaluate the spec's compute ops in Decimal (the reader never trusts cached formulas).

A file written by a library and never opened in Excel has no cached values, and a
cached value may be stale; so totals and derived counts are recomputed here from the
inputs, mirroring ``formulas.py`` (blank parts count as 0, like Excel's SUM).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .spec import FieldSpec, FormSpec

HUNDRED = Decimal(100)


def quantize(value: Decimal, decimals: int | None) -> Decimal:
    """Round half up (四舍五入), as Excel's ROUND does."""
    if decimals is None:
        return value
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _num(v: Any) -> Decimal | None:
    return v if isinstance(v, Decimal) else None


def _column(tables: dict[str, list[dict[str, Any]]], ref: str) -> list[Any]:
    table_id, column_id = ref.split(".", 1)
    return [r.get(column_id) for r in tables[table_id]]


def compute_value(
    f: FieldSpec, spec: FormSpec, values: dict[str, Any], frames: dict[str, list[dict[str, Any]]]
) -> Decimal | None:
    """The value of one computed field, given input values (field id → value) and table frames.

    Computed fields may depend on other computed fields (score_converted on score_total):
    ``values`` is filled in spec order, which is dependency order for our form;
    ``frames`` maps table id → rows (dicts of column id → value).
    """
    c = f.compute or {}
    if "sum" in c:
        return sum((_num(values.get(p)) or Decimal(0) for p in c["sum"]), Decimal(0))
    if "sum_column" in c:
        return sum((v for v in _column(frames, c["sum_column"]) if isinstance(v, Decimal)), Decimal(0))
    if "count_rows" in c:
        return Decimal(len(frames[c["count_rows"]]))
    if "count_nonblank" in c:
        return Decimal(sum(1 for v in _column(frames, c["count_nonblank"]) if v is not None))
    if "count_if" in c:
        return Decimal(sum(1 for v in _column(frames, c["count_if"]) if v == c["equals"]))
    if "sum_if" in c:
        amounts = _column(frames, c["sum_if"])
        where = _column(frames, c["where"])
        return sum(
            (a for a, w in zip(amounts, where, strict=True) if w == c["equals"] and isinstance(a, Decimal)),
            Decimal(0),
        )
    if "count_between" in c:
        lo, hi = c.get("min"), c.get("max")
        n = 0
        for v in _column(frames, c["count_between"]):
            if (
                isinstance(v, Decimal)
                and (lo is None or v >= Decimal(str(lo)))
                and (hi is None or v < Decimal(str(hi)))
            ):
                n += 1
        return Decimal(n)
    if "ratio_pct" in c:
        num, den = (_num(values.get(x)) for x in c["ratio_pct"])
        if num is None or not den:
            return None
        return quantize(num / den * HUNDRED, spec.decimals(f))
    if "score_total" in c:
        total = Decimal(0)
        for cat in spec.rubric.categories:
            score = _num(values.get(f"score_{cat.id}_score")) or Decimal(0)
            total += -score if cat.kind == "deduction" else score
        return total
    if "score_converted" in c:
        base = score_base(spec, values)
        total = _num(values.get("score_total"))
        if not base or total is None:
            return None
        return quantize(total / base * HUNDRED, spec.decimals(f))
    raise ValueError(f"unknown compute op in {f.id}: {c}")


def score_base(spec: FormSpec, values: dict[str, Any]) -> Decimal:
    """Σ 满分 of the applicable ``score`` categories (a blank 是否适用 counts as applicable)."""
    return sum(
        (
            cat.max
            for cat in spec.rubric.categories
            if cat.kind == "score" and values.get(f"score_{cat.id}_applicable") != "否"
        ),
        Decimal(0),
    )
