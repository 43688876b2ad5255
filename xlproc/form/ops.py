"""The one registry of compute operations (form.yaml ``compute:``, pack.yaml summary figures).

Each op is written once, with its four faces side by side:

- ``check``    validation against the spec (a Chinese problem, or None);
- ``formula``  the Excel formula the template writes (the sheet shows live totals);
- ``value``    the exact Decimal value the reader recomputes (never the file's cache);
- ``interval`` the interval value the rules compare (rounding tolerance kept).

An op is a mapping with exactly one op key, e.g. ``{sum: [a, b]}``,
``{ratio_pct: [num, den]}``, ``{rubric_total: GRID.COLUMN}``. The interval face is
duck-typed over the rules' evaluation context (``rules/context.py``): it calls
``ctx.part / ctx.num / ctx.computed / ctx.column / ctx.column_nums / ctx.row_count /
ctx.exact / ctx.total / ctx.raw`` and arithmetic on the returned numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .layout import Layout
    from .spec import Block, FormSpec

HUNDRED = Decimal(100)
Values = Mapping[str, Any]  # field id → value (Decimal, str, date, None)
Frames = Mapping[str, list[dict[str, Any]]]  # table id → rows (column id → value)


def quantize(value: Decimal, decimals: int | None) -> Decimal:
    """Round half up (四舍五入), as Excel's ROUND does."""
    if decimals is None:
        return value
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _num(v: Any) -> Decimal | None:
    return v if isinstance(v, Decimal) and v.is_finite() else None


def _quote(text: Any) -> str:
    return '"' + str(text).replace('"', '""') + '"'


def _split(ref: str) -> tuple[str, str]:
    table_id, column_id = ref.split(".", 1)
    return table_id, column_id


def _column(frames: Frames, ref: str) -> list[Any]:
    table_id, column_id = _split(ref)
    return [r.get(column_id) for r in frames[table_id]]


def _range(layout: Layout, ref: str) -> str:
    table_id, column_id = _split(ref)
    return layout.tables[table_id].column_range(column_id)


# -- validation helpers --------------------------------------------------------------


def _fields_problem(refs: Any, spec: FormSpec, n: int | None = None) -> str | None:
    if not isinstance(refs, list) or not refs or (n is not None and len(refs) != n):
        return f"应为 {n} 个字段 id 的列表" if n else "应为字段 id 的列表"
    for ref in refs:
        if ref not in spec.fields:
            return f"未知字段 {ref!r}"
    return None


def _table_col_problem(ref: Any, spec: FormSpec) -> str | None:
    if not isinstance(ref, str) or "." not in ref:
        return f"应为 表格.列 形式：{ref!r}"
    tid, cid = _split(ref)
    if tid not in spec.tables:
        return f"未知表格 {tid!r}"
    if cid not in {c.id for c in spec.tables[tid].columns}:
        return f"表格 {tid} 没有列 {cid!r}"
    return None


def _grid(spec: FormSpec, grid_id: str) -> Block | None:
    for sheet in spec.sheets:
        for block in sheet.blocks:
            if block.kind == "grid" and block.id == grid_id:
                return block
    return None


def _rubric_cells(spec: FormSpec, ref: str) -> list[tuple[Any, str]]:
    """(rubric category, field id) of one column of the grid whose rows are the rubric's categories."""
    grid_id, column_id = _split(ref)
    block = _grid(spec, grid_id)
    assert block is not None
    return [(cat, block.grid_field(cat.id, column_id)) for cat in spec.rubric.categories]


def _rubric_col_problem(ref: Any, spec: FormSpec) -> str | None:
    if not isinstance(ref, str) or "." not in ref:
        return f"应为 网格.列 形式（行来自评分办法的网格）：{ref!r}"
    block = _grid(spec, _split(ref)[0])
    if block is None:
        return f"未知网格 {_split(ref)[0]!r}"
    if [r.id for r in block.grid_rows] != [c.id for c in spec.rubric.categories]:
        return f"网格 {block.id} 的行应来自评分办法（rows_from: rubric）"
    missing = [fid for _cat, fid in _rubric_cells(spec, ref) if fid not in spec.fields]
    return f"网格 {block.id} 没有列 {_split(ref)[1]!r}" if missing else None


# -- the ops ------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One compute operation, all four faces."""

    name: str
    syntax: str  # how it is written in YAML (docs/pack-format.md lists these)
    doc: str
    check: Callable[[Mapping[str, Any], FormSpec], str | None]
    formula: Callable[[Mapping[str, Any], FormSpec, Layout], str]
    value: Callable[[Mapping[str, Any], FormSpec, Values, Frames, int | None], Decimal | None]
    interval: Callable[[Mapping[str, Any], Any], Any]


def _sum_value(c, spec, values, frames, decimals):
    return sum((_num(values.get(p)) or Decimal(0) for p in c["sum"]), Decimal(0))


def _difference_value(c, spec, values, frames, decimals):
    a, b = (_num(values.get(p)) for p in c["difference"])
    return None if a is None or b is None else a - b


def _ratio_value(c, spec, values, frames, decimals):
    num, den = (_num(values.get(x)) for x in c["ratio_pct"])
    if num is None or not den:
        return None
    return quantize(num / den * HUNDRED, decimals)


def _ratio_formula(c, spec, layout):
    num, den = (layout.ref(f) for f in c["ratio_pct"])
    return f'=IF(OR(NOT(ISNUMBER({num})),N({den})=0),"",{num}/{den}*100)'


def _sum_if_value(c, spec, values, frames, decimals):
    amounts, where = _column(frames, c["sum_if"]), _column(frames, c["where"])
    return sum(
        (a for a, w in zip(amounts, where, strict=True) if w == c["equals"] and isinstance(a, Decimal)),
        Decimal(0),
    )


def _sum_if_check(c, spec):
    return _table_col_problem(c["sum_if"], spec) or _table_col_problem(c.get("where"), spec)


def _sum_if_interval(c, ctx):
    t, col = _split(c["sum_if"])
    keys = ctx.column(t, _split(c["where"])[1])
    return ctx.total(n for n, k in zip(ctx.column_nums(t, col), keys, strict=True) if n and k == c["equals"])


def _bounds(c: Mapping[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    lo, hi = c.get("min"), c.get("max")
    return (None if lo is None else Decimal(str(lo))), (None if hi is None else Decimal(str(hi)))


def _between(values: list[Any], c: Mapping[str, Any]) -> int:
    lo, hi = _bounds(c)
    return sum(1 for v in values if _num(v) is not None and (lo is None or v >= lo) and (hi is None or v < hi))


def _count_between_formula(c, spec, layout):
    rng = _range(layout, c["count_between"])
    parts = []
    if c.get("min") is not None:
        parts.append(f'{rng},">={c["min"]}"')
    if c.get("max") is not None:
        parts.append(f'{rng},"<{c["max"]}"')
    return "=COUNTIFS(" + ",".join(parts) + ")"


def _count_rows_formula(c, spec, layout):
    table = spec.tables[c["count_rows"]]
    place = layout.tables[table.id]
    joined = "&".join(place.column_range(col.id) for col in table.columns)
    return f"=SUMPRODUCT(--(LEN({joined})>0))"


def rubric_total_terms(compute: Mapping[str, Any], spec: FormSpec) -> list[tuple[int, str]]:
    """(sign, field id) of the cells a ``rubric_total`` adds up: −1 for deduction rows."""
    return [(-1 if cat.kind == "deduction" else 1, fid) for cat, fid in _rubric_cells(spec, compute["rubric_total"])]


def _rubric_total_terms(c, spec, layout) -> tuple[list[str], list[str]]:
    plus, minus = [], []
    for cat, fid in _rubric_cells(spec, c["rubric_total"]):
        (minus if cat.kind == "deduction" else plus).append(layout.ref(fid))
    return plus, minus


def _rubric_total_formula(c, spec, layout):
    plus, minus = _rubric_total_terms(c, spec, layout)
    formula = "=SUM(" + ",".join(plus) + ")"
    return formula + ("-SUM(" + ",".join(minus) + ")" if minus else "")


def _rubric_total_value(c, spec, values, frames, decimals):
    total = Decimal(0)
    for cat, fid in _rubric_cells(spec, c["rubric_total"]):
        score = _num(values.get(fid)) or Decimal(0)
        total += -score if cat.kind == "deduction" else score
    return total


def _rubric_total_interval(c, ctx):
    return ctx.total(
        -ctx.part(fid) if cat.kind == "deduction" else ctx.part(fid)
        for cat, fid in _rubric_cells(ctx.spec, c["rubric_total"])
    )


def _base_cells(c: Mapping[str, Any], spec: FormSpec) -> list[tuple[Any, str | None]]:
    """(category, 是否适用 field or None) of the ``score`` categories: the base of 换算得分."""
    applicable = c.get("applicable")
    cells = dict(_rubric_cells(spec, applicable)) if applicable else {}
    return [(cat, cells.get(cat)) for cat in spec.rubric.categories if cat.kind == "score"]


def _excluded(c: Mapping[str, Any]) -> str:
    return str(c.get("excluded_if", "否"))


def _rubric_base(c: Mapping[str, Any], spec: FormSpec, lookup: Callable[[str], Any]) -> Decimal:
    """Σ 满分 of the applicable ``score`` categories (a blank 是否适用 counts as applicable)."""
    return sum((cat.max for cat, fid in _base_cells(c, spec) if fid is None or lookup(fid) != _excluded(c)), Decimal(0))


def _rubric_pct_check(c, spec):
    if c["rubric_pct"] not in spec.fields:
        return f"未知字段 {c['rubric_pct']!r}"
    for key in ("max", "applicable"):
        if key in c and (problem := _rubric_col_problem(c[key], spec)):
            return problem
    return None if "max" in c else "缺少 max（满分所在的 网格.列）"


def _rubric_pct_formula(c, spec, layout):
    maxes = dict(_rubric_cells(spec, c["max"]))
    terms = []
    for cat, fid in _base_cells(c, spec):
        weight = f"({layout.ref(fid)}<>{_quote(_excluded(c))})*" if fid else ""
        terms.append(f"{weight}{layout.ref(maxes[cat])}")
    denominator = "(" + "+".join(terms) + ")"
    return f'=IF({denominator}=0,"",{layout.ref(c["rubric_pct"])}/{denominator}*100)'


def _rubric_pct_value(c, spec, values, frames, decimals):
    base = _rubric_base(c, spec, values.get)
    total = _num(values.get(c["rubric_pct"]))
    if not base or total is None:
        return None
    return quantize(total / base * HUNDRED, decimals)


def _rubric_pct_interval(c, ctx):
    base = _rubric_base(c, ctx.spec, ctx.raw)
    return (ctx.num(c["rubric_pct"]) / ctx.exact(base)).pct()  # typed or computed total


def _ref_check(key: str) -> Callable[[Mapping[str, Any], FormSpec], str | None]:
    return lambda c, spec: _table_col_problem(c[key], spec)


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op(
            "sum",
            "{sum: [field, ...]}",
            "Σ of the fields (a blank counts as 0, like Excel's SUM)",
            lambda c, spec: _fields_problem(c["sum"], spec),
            lambda c, spec, layout: "=SUM(" + ",".join(layout.ref(f) for f in c["sum"]) + ")",
            _sum_value,
            lambda c, ctx: ctx.total(ctx.part(p) for p in c["sum"]),
        ),
        Op(
            "difference",
            "{difference: [a, b]}",
            "a − b (blank when either is blank)",
            lambda c, spec: _fields_problem(c["difference"], spec, 2),
            lambda c, spec, layout: '=IF(OR(NOT(ISNUMBER({0})),NOT(ISNUMBER({1}))),"",{0}-{1})'.format(
                *(layout.ref(f) for f in c["difference"])
            ),
            _difference_value,
            lambda c, ctx: ctx.num(c["difference"][0]) - ctx.num(c["difference"][1]),
        ),
        Op(
            "ratio_pct",
            "{ratio_pct: [numerator, denominator]}",
            "numerator / denominator × 100 (blank when the numerator is blank or the denominator 0)",
            lambda c, spec: _fields_problem(c["ratio_pct"], spec, 2),
            _ratio_formula,
            _ratio_value,
            lambda c, ctx: (ctx.ratio_operand(c["ratio_pct"][0]) / ctx.ratio_operand(c["ratio_pct"][1])).pct(),
        ),
        Op(
            "sum_column",
            "{sum_column: TABLE.COLUMN}",
            "Σ of a table column",
            _ref_check("sum_column"),
            lambda c, spec, layout: f"=SUM({_range(layout, c['sum_column'])})",
            lambda c, spec, values, frames, d: sum(
                (v for v in _column(frames, c["sum_column"]) if isinstance(v, Decimal)), Decimal(0)
            ),
            lambda c, ctx: ctx.total(n for n in ctx.column_nums(*_split(c["sum_column"])) if n is not None),
        ),
        Op(
            "count_rows",
            "{count_rows: TABLE}",
            "rows of a table with any input",
            lambda c, spec: None if c["count_rows"] in spec.tables else f"未知表格 {c['count_rows']!r}",
            _count_rows_formula,
            lambda c, spec, values, frames, d: Decimal(len(frames[c["count_rows"]])),
            lambda c, ctx: ctx.exact(ctx.row_count(c["count_rows"])),
        ),
        Op(
            "count_nonblank",
            "{count_nonblank: TABLE.COLUMN}",
            "filled cells of a table column",
            _ref_check("count_nonblank"),
            lambda c, spec, layout: f"=SUMPRODUCT(--(LEN(TRIM({_range(layout, c['count_nonblank'])}))>0))",
            lambda c, spec, values, frames, d: Decimal(
                sum(1 for v in _column(frames, c["count_nonblank"]) if v is not None)
            ),
            lambda c, ctx: ctx.exact(sum(1 for v in ctx.column(*_split(c["count_nonblank"])) if v is not None)),
        ),
        Op(
            "count_if",
            "{count_if: TABLE.COLUMN, equals: VALUE}",
            "cells of a table column equal to VALUE",
            _ref_check("count_if"),
            # SUMPRODUCT rather than COUNTIF: COUNTIF would read "<30%" as a comparison.
            lambda c, spec, layout: f"=SUMPRODUCT(--(TRIM({_range(layout, c['count_if'])})={_quote(c['equals'])}))",
            lambda c, spec, values, frames, d: Decimal(
                sum(1 for v in _column(frames, c["count_if"]) if v == c["equals"])
            ),
            lambda c, ctx: ctx.exact(sum(1 for v in ctx.column(*_split(c["count_if"])) if v == c["equals"])),
        ),
        Op(
            "sum_if",
            "{sum_if: TABLE.COLUMN, where: TABLE.COLUMN, equals: VALUE}",
            "Σ of a table column over the rows whose `where` column equals VALUE",
            _sum_if_check,
            lambda c, spec, layout: (
                f"=SUMIF({_range(layout, c['where'])},{_quote(c['equals'])},{_range(layout, c['sum_if'])})"
            ),
            _sum_if_value,
            _sum_if_interval,
        ),
        Op(
            "count_between",
            "{count_between: TABLE.COLUMN, min: N, max: N}",
            "cells of a table column with min ≤ x < max (either bound optional)",
            _ref_check("count_between"),
            _count_between_formula,
            lambda c, spec, values, frames, d: Decimal(_between(_column(frames, c["count_between"]), c)),
            lambda c, ctx: ctx.exact(_between(ctx.column(*_split(c["count_between"])), c)),
        ),
        Op(
            "rubric_total",
            "{rubric_total: GRID.COLUMN}",
            "signed total of one column of the rubric grid: Σ score and bonus rows − Σ deduction rows (合计)",
            lambda c, spec: _rubric_col_problem(c["rubric_total"], spec),
            _rubric_total_formula,
            _rubric_total_value,
            _rubric_total_interval,
        ),
        Op(
            "rubric_pct",
            "{rubric_pct: TOTAL_FIELD, max: GRID.COLUMN, applicable: GRID.COLUMN, excluded_if: 否}",
            "TOTAL_FIELD ÷ Σ `max` of the applicable `score` rows of the rubric grid × 100 (换算得分)",
            _rubric_pct_check,
            _rubric_pct_formula,
            _rubric_pct_value,
            _rubric_pct_interval,
        ),
    )
}


def op_name(compute: Mapping[str, Any]) -> str | None:
    """The op key of a compute mapping, or None unless there is exactly one."""
    names = [k for k in compute if k in OPS]
    return names[0] if len(names) == 1 else None


# Keys of an op's syntax that may be left out (count_between needs one bound of the two).
_OPTIONAL_KEYS = {"count_between": ("min", "max"), "rubric_pct": ("applicable", "excluded_if")}
_SYNTAX_KEY = re.compile(r"(\w+):")


def check_op(compute: Mapping[str, Any], spec: FormSpec) -> str | None:
    """A Chinese problem with one compute mapping, or None when it is valid for ``spec``.

    Beyond the op's own check: no key its syntax does not name, none it needs left out,
    bounds that are numbers, and a value of the wrong YAML type (a list where a column is
    named …) reported with the syntax instead of failing later."""
    name = op_name(compute)
    if name is None:
        return f"应恰有一个运算（可选：{', '.join(OPS)}）"
    op = OPS[name]
    keys = _SYNTAX_KEY.findall(op.syntax)
    unknown = [str(k) for k in compute if k not in keys]
    if unknown:
        return f"含未知的键 {', '.join(unknown)}（写法：{op.syntax}）"
    optional = _OPTIONAL_KEYS.get(name, ())
    missing = [k for k in keys if k not in compute and k not in optional]
    if missing:
        return f"缺少 {', '.join(missing)}（写法：{op.syntax}）"
    if name == "count_between":
        bounds = [compute.get(k) for k in ("min", "max") if compute.get(k) is not None]
        if not bounds or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
            return f"min、max 至少填一个，且应为数字（写法：{op.syntax}）"
    try:
        return op.check(compute, spec)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return f"写法有误（应为 {op.syntax}）"


def op_value(compute: Mapping[str, Any], spec: FormSpec, values: Values, frames: Frames, decimals: int | None):
    """The exact Decimal value of a compute mapping (None when blank or undefined)."""
    name = op_name(compute)
    assert name is not None
    return OPS[name].value(compute, spec, values, frames, decimals)


def op_formula(compute: Mapping[str, Any], spec: FormSpec, layout: Layout) -> str:
    """The Excel formula (with leading '=') of a compute mapping."""
    name = op_name(compute)
    assert name is not None
    return OPS[name].formula(compute, spec, layout)


def op_interval(compute: Mapping[str, Any], ctx: Any) -> Any:
    """The interval value of a compute mapping in a rules context."""
    name = op_name(compute)
    assert name is not None
    return OPS[name].interval(compute, ctx)


def compute_value(f: Any, spec: FormSpec, values: Values, frames: Frames) -> Decimal | None:
    """The exact value of one computed field, given the input values and the table frames.

    Computed fields may depend on other computed fields (换算得分 on 合计): ``values``
    is filled in spec order, which must be dependency order.
    """
    return op_value(f.compute or {}, spec, values, frames, spec.decimals(f))


# Which operands each op reads: field ids, and "TABLE.COLUMN" refs (annotate marks the
# input cells feeding a computed cell from these; see form/feeds.py).
_FIELD_KEYS = ("sum", "difference", "ratio_pct")
_COLUMN_KEYS = ("sum_column", "count_nonblank", "count_if", "sum_if", "where", "count_between")


def op_inputs(compute: Mapping[str, Any], spec: FormSpec) -> tuple[list[str], list[str]]:
    """(field ids, "TABLE.COLUMN" refs) a compute mapping reads (operands that exist in ``spec``)."""
    fields: list[str] = []
    columns: list[str] = []
    for key in _FIELD_KEYS:
        if isinstance(compute.get(key), list):
            fields += [f for f in compute[key] if isinstance(f, str)]
    columns += [compute[k] for k in _COLUMN_KEYS if isinstance(compute.get(k), str)]
    table = spec.tables.get(compute.get("count_rows")) if isinstance(compute.get("count_rows"), str) else None
    if table is not None and table.columns:
        columns.append(f"{table.id}.{table.columns[0].id}")
    if isinstance(compute.get("rubric_total"), str) and not _rubric_col_problem(compute["rubric_total"], spec):
        fields += [fid for _cat, fid in _rubric_cells(spec, compute["rubric_total"])]
    if isinstance(compute.get("rubric_pct"), str):
        fields.append(compute["rubric_pct"])
        applicable = compute.get("applicable")
        if isinstance(applicable, str) and not _rubric_col_problem(applicable, spec):
            fields += [fid for cat, fid in _rubric_cells(spec, applicable) if cat.kind == "score"]
    return [f for f in fields if f in spec.fields], columns
