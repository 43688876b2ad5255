"""Plausibility rule types: amounts that are possible but suspicious.

``unit_slip`` (元 typed as 万元, with the factor shown), ``deviation`` (actual vs plan
beyond a percentage, after rounding) and ``sangong_category`` (会议费/培训费 kept out
of 三公). Registered in types.py like the others.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..form.spec import FormSpec
from ..results import CellRef, Finding
from .builtin import field_list, message_template
from .context import Context
from .expr import Compiler, Missing, Skip
from .intervals import Num, Undefined, num_sum
from .messages import fmt_decimal, fmt_value, render
from .types import Rule, RuleInfo, check_locate, register

_TEN_THOUSAND = Decimal(10000)


# -- unit slip ------------------------------------------------------------------------

_SLIP_NAMES = ("label", "value", "base_label", "base", "factor", "as_wan")


class UnitSlipRule(Rule):
    def __init__(self, info, base: str, factor: Decimal, fields: list[str], columns: list[tuple[str, str]], msg: str):
        self.info = info
        self.base = base
        self.factor = factor
        self.fields = fields
        self.columns = columns
        self.message = msg

    def run(self, ctx: Context, out: list[Finding]) -> None:
        try:
            base = ctx.num(self.base)
        except (Skip, Missing, Undefined):
            return
        if base.mid <= 0:
            return
        limit = base.mid * self.factor
        for fid in self.fields:
            fv = ctx.fields.get(fid)
            if fv is not None and isinstance(fv.value, Decimal) and fv.value.is_finite() and fv.value >= limit:
                self._emit(ctx, out, CellRef(fv.sheet, fv.cell), fv.label, fv.value, fid, base)
        for tid, cid in self.columns:
            rows, values = ctx.table(tid)
            for n, (r, v) in enumerate(zip(rows, values.get(cid, ()), strict=False), start=1):
                if isinstance(v, Decimal) and v.is_finite() and v >= limit:
                    td = ctx.sub.tables[tid]
                    label = f"{td.spec.label}第{n}项{td.spec.column(cid).label}"
                    self._emit(ctx, out, CellRef(td.sheet, td.cell(r, cid)), label, v, None, base)

    def _emit(self, ctx: Context, out: list[Finding], cell: CellRef, label: str, v: Decimal, fid, base: Num) -> None:
        decimals = ctx.spec.decimals(ctx.spec.fields[fid]) if fid else 2
        as_wan = v / _TEN_THOUSAND
        names = {
            "label": label,
            "value": fmt_decimal(v, max(decimals or 2, 2)),
            "base_label": ctx.spec.fields[self.base].label,
            "base": fmt_value(base),
            "factor": fmt_decimal(v / base.mid, 2),
            "as_wan": fmt_decimal(as_wan, 2 if as_wan >= Decimal("0.01") else 4),
        }
        base_cell = ctx.cell_of(self.base)
        out.append(
            self.finding(
                ctx,
                render(self.message, names.__getitem__),
                [cell, base_cell],
                [label, names["base_label"]],
                expected=f"< {fmt_decimal(base.mid * self.factor, 2)}",
                actual=names["value"],
                operands={"factor": names["factor"], "base": names["base"], "as_wan": names["as_wan"]},
            )
        )


@register(
    "unit_slip",
    params=("base", "factor", "sheets", "fields", "exclude", "message"),
    required=("base", "factor", "message"),
    doc="疑似单位错误：单项金额（fields，或 sheets 中的全部金额栏）达到 base 的 factor 倍以上，疑似将“元”误填为“万元”，并给出倍数和按元折算的金额",
)
def build_unit_slip(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    base = params["base"]
    if base not in spec.fields or spec.fields[base].type != "money":
        raise fail(f"base 应为金额字段：{base!r}")
    try:
        factor = Decimal(str(params["factor"]))
    except InvalidOperation:
        raise fail("factor 应为数字") from None
    if not factor.is_finite() or factor <= 1:
        raise fail("factor 应为大于1的数字")
    sheets = params.get("sheets") or [s.id for s in spec.sheets]
    known = {s.id for s in spec.sheets}
    if not isinstance(sheets, list) or any(s not in known for s in sheets):
        raise fail(f"sheets 应为工作表 id 列表（可选：{', '.join(sorted(known))}）")
    exclude = set(field_list(spec, params.get("exclude"), "exclude", fail)) | {base}
    chosen = field_list(spec, params.get("fields"), "fields", fail)
    if chosen:
        fields = [f for f in chosen if "." not in f]
        columns = [tuple(f.split(".", 1)) for f in chosen if "." in f]
        return UnitSlipRule(info, base, factor, fields, columns, message_template(params, _SLIP_NAMES, fail, ""))
    fields = [
        f.id
        for f in spec.fields.values()
        if f.type == "money" and f.compute is None and not f.fixed and f.sheet in sheets and f.id not in exclude
    ]
    columns = [
        (t.id, c.id)
        for t in spec.tables.values()
        if t.sheet in sheets
        for c in t.columns
        if c.type == "money" and f"{t.id}.{c.id}" not in exclude
    ]
    return UnitSlipRule(info, base, factor, fields, columns, message_template(params, _SLIP_NAMES, fail, ""))


# -- deviation ------------------------------------------------------------------------

_DEV_NAMES = ("actual", "plan", "actual_label", "plan_label", "change", "pct", "threshold")


class DeviationRule(Rule):
    def __init__(self, info, actual: str, plan: str, threshold: Decimal, message: str, locate: str | None):
        self.info = info
        self.actual = actual
        self.plan = plan
        self.threshold = threshold
        self.message = message
        self.locate = locate

    @staticmethod
    def _get(ctx: Context, ref: str) -> Num:
        return ctx.prev_num(ref[5:]) if ref.startswith("prev.") else ctx.num(ref)

    def run(self, ctx: Context, out: list[Finding]) -> None:
        try:
            a, p = self._get(ctx, self.actual), self._get(ctx, self.plan)
            if p.mid <= 0:
                return
            dev = ((a - p) / p).pct()
        except (Skip, Missing, Undefined):
            return
        t = self.threshold
        if not (dev.lo >= t or dev.hi <= -t):
            return  # within the threshold, or rounding could bring it within
        spec = ctx.spec
        names = {
            "actual": fmt_value(a),
            "plan": fmt_value(p),
            "actual_label": spec.fields[self.actual.removeprefix("prev.")].label,
            "plan_label": spec.fields[self.plan.removeprefix("prev.")].label,
            "change": "增加" if dev.mid > 0 else "减少",
            "pct": fmt_decimal(abs(dev.mid), 2),
            "threshold": fmt_decimal(t, 0 if t == t.to_integral_value() else 2),
        }
        cells = [ctx.cell_of(r) for r in (self.actual, self.plan) if not r.startswith("prev.")]
        out.append(
            self.finding(
                ctx,
                render(self.message, names.__getitem__),
                cells,
                [names["actual_label"], names["plan_label"]],
                expected=names["plan"],
                actual=names["actual"],
                operands={"deviation_pct": fmt_decimal(dev.mid, 2), "threshold_pct": names["threshold"]},
            )
        )


@register(
    "deviation",
    params=("actual", "plan", "threshold", "message", "locate"),
    required=("actual", "plan", "threshold", "message"),
    doc="偏离度：实际数与计划数相比偏离达到 threshold%（计入舍入后仍达到才报）",
)
def build_deviation(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    refs = []
    for key in ("actual", "plan"):
        ref = params[key]
        if not isinstance(ref, str) or ref.removeprefix("prev.") not in spec.fields:
            raise fail(f"{key} 应为字段 id（上年数用 prev.字段）：{ref!r}")
        if not spec.fields[ref.removeprefix("prev.")].is_numeric:
            raise fail(f"{key} 应为数值字段：{ref!r}")
        refs.append(ref)
    try:
        threshold = Decimal(str(params["threshold"]))
    except InvalidOperation:
        raise fail("threshold 应为数字（百分比）") from None
    if not threshold.is_finite() or threshold <= 0:
        raise fail("threshold 应为正数（百分比）")
    message = message_template(params, _DEV_NAMES, fail, "")
    return DeviationRule(info, refs[0], refs[1], threshold, message, check_locate(spec, params.get("locate"), fail))


# -- 三公 category ---------------------------------------------------------------------

_SG_NAMES = ("budget", "budget_label", "total", "other", "with_other", "row_label", "row")


class SangongCategoryRule(Rule):
    def __init__(
        self, info: RuleInfo, budget: str, total: str, other: list[str], message: str, rows: list[str], row_message: str
    ):
        self.info = info
        self.budget = budget
        self.total = total
        self.other = other
        self.message = message
        self.rows = rows  # the parts of the 三公 total (one column)
        self.row_message = row_message

    def run(self, ctx: Context, out: list[Finding]) -> None:
        try:
            b, s = ctx.num(self.budget), ctx.num(self.total)
            o = num_sum(ctx.num(f, "zero") for f in self.other)
        except (Skip, Missing, Undefined):
            return
        if b.overlaps(s) or o.mid <= 0:
            return
        if not b.overlaps(s + o):
            if self.row_message and s.overlaps(b + o):
                self._row(ctx, out, b, s, o)
            return
        names = {
            "budget": fmt_value(b),
            "budget_label": ctx.spec.fields[self.budget].label,
            "total": fmt_value(s),
            "other": fmt_value(o),
            "with_other": fmt_value(s + o),
        }
        cells = [ctx.cell_of(self.budget), ctx.cell_of(self.total), *(ctx.cell_of(f) for f in self.other)]
        labels = [ctx.spec.fields[f].label for f in (self.budget, self.total, *self.other)]
        msg = render(self.message, names.__getitem__)
        out.append(self.finding(ctx, msg, cells, labels, expected=names["total"], actual=names["budget"]))

    def _row(self, ctx: Context, out: list[Finding], b: Num, s: Num, o: Num) -> None:
        """The 三公 grid's total is the budget plus 会议费/培训费: one row took them in."""
        able = []
        for fid in self.rows:
            try:
                v = ctx.num(fid)
            except (Skip, Missing, Undefined):
                continue
            if v.mid >= o.mid:
                able.append((fid, v))
        where = able[0] if len(able) == 1 else None
        names = {
            "budget": fmt_value(b),
            "budget_label": ctx.spec.fields[self.budget].label,
            "total": fmt_value(s),
            "other": fmt_value(o),
            "with_other": fmt_value(b + o),
            "row_label": ctx.spec.fields[where[0]].label if where else "“三公”经费表的某一项",
            "row": fmt_value(where[1]) if where else "",
        }
        first = [ctx.cell_of(where[0])] if where else []
        cells = [*first, ctx.cell_of(self.total), ctx.cell_of(self.budget), *(ctx.cell_of(f) for f in self.other)]
        msg = render(self.row_message, names.__getitem__)
        labels = [ctx.spec.fields[f].label for f in (self.total, self.budget, *self.other)]
        out.append(self.finding(ctx, msg, cells, labels, expected=names["budget"], actual=names["total"]))


@register(
    "sangong_category",
    params=("budget", "totals", "other", "column", "message", "row_message"),
    required=("budget", "totals", "other", "message"),
    doc="“三公”口径：会议费、培训费不得计入“三公”合计（载入时核对表单公式）；预算表的“三公”经费预算恰好等于“三公”合计加会议费、培训费时提示；反过来“三公”合计恰好多出会议费、培训费时（row_message），指出计入了它们的那一行",
)
def build_sangong(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    budget = params["budget"]
    if budget not in spec.fields:
        raise fail(f"budget 为未知字段 {budget!r}")
    other = params["other"]
    if other not in compiler.grids:
        raise fail(f"other 应为表（grid）id：{other!r}")
    column = params.get("column", "budget")
    other_fields = {f for c in compiler.grids[other].grid_columns for f in compiler.grid_fields(other, c.id)}
    totals = field_list(spec, params["totals"], "totals", fail)
    for tid in totals:
        compute = spec.fields[tid].compute or {}
        if "sum" not in compute:
            raise fail(f"{tid} 应为求和计算字段")
        leaked = [p for p in compute["sum"] if p in other_fields]
        if leaked:
            raise fail(f"“三公”合计 {tid} 包含了会议费/培训费（{', '.join(leaked)}），这两项不属于“三公”经费")
    total = next((t for t in totals if t.endswith(f"_{column}")), None)
    if total is None:
        raise fail(f"totals 中没有 {column} 列的合计")
    parts = compiler.grid_fields(other, column)
    row_message = ""
    if params.get("row_message") is not None:
        row_message = message_template({"message": params["row_message"]}, _SG_NAMES, fail, "")
    rows = list(spec.fields[total].compute["sum"])
    message = message_template(params, _SG_NAMES, fail, "")
    return SangongCategoryRule(info, budget, total, parts, message, rows, row_message)
