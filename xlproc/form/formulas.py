"""Excel formulas for the spec's compute ops (the sheet shows live totals and counts).

The reader never trusts these cells' cached values: ``compute.py`` evaluates the same
ops in Decimal from the inputs. Both are driven by the same spec entry, so the sheet
and the reader cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from .layout import Layout
from .spec import FormSpec


def _quote(text: str) -> str:
    return '"' + str(text).replace('"', '""') + '"'


def _table_range(layout: Layout, ref: str) -> str:
    table_id, column_id = ref.split(".", 1)
    return layout.tables[table_id].column_range(column_id)


def _score_terms(spec: FormSpec, layout: Layout) -> tuple[list[str], list[str], list[str]]:
    """(score+bonus cells, deduction cells, applicable-weighted 满分 terms)."""
    plus, minus, base = [], [], []
    for cat in spec.rubric.categories:
        score = layout.ref(f"score_{cat.id}_score")
        if cat.kind == "deduction":
            minus.append(score)
        else:
            plus.append(score)
        if cat.kind == "score":
            # A blank 是否适用 counts as applicable; only an explicit 否 leaves the base.
            applicable = layout.ref(f"score_{cat.id}_applicable")
            base.append(f'({applicable}<>"否")*{layout.ref(f"score_{cat.id}_max")}')
    return plus, minus, base


def excel_formula(compute: dict[str, Any], spec: FormSpec, layout: Layout) -> str:
    """The Excel formula (with leading '=') for one compute op."""
    if "sum" in compute:
        return "=SUM(" + ",".join(layout.ref(f) for f in compute["sum"]) + ")"
    if "sum_column" in compute:
        return f"=SUM({_table_range(layout, compute['sum_column'])})"
    if "count_rows" in compute:
        table = spec.tables[compute["count_rows"]]
        place = layout.tables[table.id]
        joined = "&".join(place.column_range(c.id) for c in table.columns)
        return f"=SUMPRODUCT(--(LEN({joined})>0))"
    if "count_nonblank" in compute:
        rng = _table_range(layout, compute["count_nonblank"])
        return f"=SUMPRODUCT(--(LEN(TRIM({rng}))>0))"
    if "count_if" in compute:
        # SUMPRODUCT rather than COUNTIF: COUNTIF would read "<30%" as a comparison.
        rng = _table_range(layout, compute["count_if"])
        return f"=SUMPRODUCT(--(TRIM({rng})={_quote(compute['equals'])}))"
    if "sum_if" in compute:
        rng = _table_range(layout, compute["sum_if"])
        where = _table_range(layout, compute["where"])
        return f"=SUMIF({where},{_quote(compute['equals'])},{rng})"
    if "count_between" in compute:
        rng = _table_range(layout, compute["count_between"])
        parts = []
        if compute.get("min") is not None:
            parts.append(f'{rng},">={compute["min"]}"')
        if compute.get("max") is not None:
            parts.append(f'{rng},"<{compute["max"]}"')
        return "=COUNTIFS(" + ",".join(parts) + ")"
    if "ratio_pct" in compute:
        num, den = (layout.ref(f) for f in compute["ratio_pct"])
        return f'=IF(OR(NOT(ISNUMBER({num})),N({den})=0),"",{num}/{den}*100)'
    if "score_total" in compute:
        plus, minus, _ = _score_terms(spec, layout)
        formula = "=SUM(" + ",".join(plus) + ")"
        return formula + ("-SUM(" + ",".join(minus) + ")" if minus else "")
    if "score_converted" in compute:
        _, _, base = _score_terms(spec, layout)
        denominator = "(" + "+".join(base) + ")"
        return f'=IF({denominator}=0,"",{layout.ref("score_total")}/{denominator}*100)'
    raise ValueError(f"unknown compute op: {compute}")
