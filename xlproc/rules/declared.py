"""Rule types driven by what the form declares (form.yaml ``relations:``, see relations.py).

``sign`` (amounts ≥ 0 unless declared signed), ``part_of`` (a part never exceeds its
whole), ``pairs`` (actual within its plan / budget), ``same_fact`` (one fact typed in
two places), ``year_dates`` (dates in the right year relative to 年度, and a 年度 left
at last year's value) and ``list_count`` (a typed count against the names listed).
rules.yaml enables each kind once with its severity and wording; the form supplies
the fields, so a new pack's relations are checked without a rule per field.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from ..form.spec import FormSpec
from ..results import CellRef, Finding
from .builtin import message_template
from .context import Context
from .expr import Compiler, Missing, Skip
from .intervals import Num, Undefined, compare
from .messages import fmt_decimal, fmt_value, render
from .relations import relations_of, split_list
from .types import Rule, RuleInfo, register

_ZERO = Num.exact(Decimal(0))


def _unit(ctx: Context, ref: str) -> str:
    if "." in ref:
        t, c = ref.split(".", 1)
        u = ctx.spec.tables[t].column(c).unit
    else:
        u = ctx.spec.fields[ref].unit
    return {"个": "个", "人": "人"}.get(u, u)


def _values(ctx: Context, ref: str) -> Iterator[tuple[CellRef, str, Num]]:
    """Each figure of a field or a table column: (cell, label, interval); blanks skipped."""
    if "." in ref:
        t, c = ref.split(".", 1)
        try:
            nums = ctx.column_nums(t, c)
        except Skip:
            return
        td = ctx.sub.tables.get(t)
        if td is None:
            return
        rows = ctx.table(t)[0]
        col_label = td.spec.column(c).label
        for n, (r, v) in enumerate(zip(rows, nums, strict=False), start=1):
            if v is not None:
                yield CellRef(td.sheet, td.cell(r, c)), f"{td.spec.label}第{n}项{col_label}", v
        return
    fv = ctx.fields.get(ref)
    if fv is None or fv.problem or fv.value is None:
        return
    try:
        yield ctx.cell_of(ref), fv.label, ctx.num(ref)
    except (Skip, Missing, Undefined):
        return


def _single(ctx: Context, ref: str) -> Num | None:
    try:
        return ctx.num(ref)
    except (Skip, Missing, Undefined):
        return None


# -- sign -------------------------------------------------------------------------------

_SIGN_NAMES = ("label", "value", "unit")


class SignRule(Rule):
    def __init__(self, info: RuleInfo, refs: list[str], message: str):
        self.info = info
        self.fields = tuple(r for r in refs if "." not in r)
        self.columns = tuple(r for r in refs if "." in r)
        self.message = message

    def run(self, ctx: Context, out: list[Finding]) -> None:
        fields = ctx.fields
        hits = [r for r in self.fields if _negative(fields[r].value)] if self.fields else []
        for ref in self.columns:
            t, c = ref.split(".", 1)
            if ctx.row_count(t) and any(_negative(v) for v in ctx.table(t)[1].get(c, ())):
                hits.append(ref)
        for ref in hits:
            for cell, label, n in _values(ctx, ref):
                if n.mid < 0:
                    names = {"label": label, "value": fmt_value(n), "unit": _unit(ctx, ref)}
                    msg = render(self.message, names.__getitem__)
                    out.append(self.finding(ctx, msg, [cell], [label], expected=">= 0", actual=names["value"]))


def _negative(v: Any) -> bool:
    """A finite number below zero (cheap: most cells are not even signed)."""
    return isinstance(v, Decimal) and v.is_signed() and v.is_finite() and v != 0


@register(
    "sign",
    params=("types", "message"),
    required=("message",),
    doc="符号：金额、数量、百分比不得为负数（表单 relations.signed 声明可为负数的栏目除外）",
)
def build_sign(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    types = params.get("types", ["money", "count", "percent"])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise fail("types 应为字段类型列表")
    signed = relations_of(spec).signed
    refs = [f.id for f in spec.fields.values() if f.type in types and f.is_input and f.id not in signed]
    refs += [
        f"{t.id}.{c.id}"
        for t in spec.tables.values()
        for c in t.columns
        if c.type in types and f"{t.id}.{c.id}" not in signed
    ]
    return SignRule(info, refs, message_template(params, _SIGN_NAMES, fail, ""))


# -- part of ----------------------------------------------------------------------------

_PART_NAMES = ("part_label", "part", "whole_label", "whole", "unit", "diff")


class PartOfRule(Rule):
    def __init__(self, info: RuleInfo, pairs: list[tuple[str, str]], message: str):
        self.info = info
        self.pairs = pairs
        self.message = message

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for part, whole in self.pairs:
            w = _single(ctx, whole)
            if w is None or not _may_exceed(ctx, part, w.hi):
                continue
            whole_label = ctx.spec.fields[whole].label
            for cell, label, p in _values(ctx, part):
                if compare(p, "<=", w) is not False:
                    continue
                unit = _unit(ctx, whole)
                names = {
                    "part_label": label,
                    "part": fmt_value(p),
                    "whole_label": whole_label,
                    "whole": fmt_value(w),
                    "unit": unit,
                    "diff": fmt_decimal(p.mid - w.mid, max(p.decimals, w.decimals)),
                }
                msg = render(self.message, names.__getitem__)
                cells = [cell, ctx.cell_of(whole)]
                out.append(
                    self.finding(
                        ctx, msg, cells, [label, whole_label], expected=f"<= {names['whole']}", actual=names["part"]
                    )
                )


@register(
    "part_of",
    params=("kind", "message"),
    required=("message",),
    doc="部分不大于整体：表单 relations.part_of 声明的“其中”项、合计中的各项（kind 选择声明的分组）不得大于其所属的总数",
)
def build_part_of(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    kind = str(params.get("kind", "part"))
    pairs = [(p.part, p.whole) for p in relations_of(spec).part_of if p.kind == kind]
    for _part, whole in pairs:
        if "." in whole:
            raise fail(f"relations.part_of 的 whole 应为字段：{whole!r}")
    return PartOfRule(info, pairs, message_template(params, _PART_NAMES, fail, ""))


def _may_exceed(ctx: Context, ref: str, limit: Decimal) -> bool:
    """Cheap pre-check on the figures as typed before building intervals."""
    if "." in ref:
        t, c = ref.split(".", 1)
        values = ctx.table(t)[1].get(c, ()) if ctx.row_count(t) else ()
    else:
        fv = ctx.fields.get(ref)
        values = () if fv is None else (fv.value,)
    return any(isinstance(v, Decimal) and v.is_finite() and v > limit - 1 for v in values)


# -- pairs ------------------------------------------------------------------------------

_PAIR_NAMES = ("actual_label", "actual", "plan_label", "plan", "diff", "relation")


class PairsRule(Rule):
    def __init__(self, info: RuleInfo, pairs: list[tuple[str, str, str]], message: str):
        self.info = info
        self.pairs = pairs
        self.message = message

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for plan, actual, limit in self.pairs:
            a, p = _single(ctx, actual), _single(ctx, plan)
            if a is None or p is None:
                continue
            op = "<=" if limit == "ceiling" else ">="
            if compare(a, op, p) is not False:
                continue
            labels = [ctx.spec.fields[actual].label, ctx.spec.fields[plan].label]
            names = {
                "actual_label": labels[0],
                "actual": fmt_value(a),
                "plan_label": labels[1],
                "plan": fmt_value(p),
                "diff": fmt_decimal(abs(a.mid - p.mid), max(a.decimals, p.decimals)),
                "relation": "超过" if limit == "ceiling" else "低于",
            }
            msg = render(self.message, names.__getitem__)
            out.append(
                self.finding(
                    ctx,
                    msg,
                    [ctx.cell_of(actual), ctx.cell_of(plan)],
                    labels,
                    expected=f"{op} {names['plan']}",
                    actual=names["actual"],
                )
            )


@register(
    "pairs",
    params=("message",),
    required=("message",),
    doc="计划与实际：表单 relations.pairs 声明的预算/实际数对，实际数不得超过预算（ceiling），或不得低于预留份额（floor）",
)
def build_pairs(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    pairs = [(p.plan, p.actual, p.limit) for p in relations_of(spec).pairs]
    return PairsRule(info, pairs, message_template(params, _PAIR_NAMES, fail, ""))


# -- same fact --------------------------------------------------------------------------

_SAME_NAMES = ("label", "value", "sheet", "other_label", "other_value", "other_sheet")


class SameFactRule(Rule):
    def __init__(self, info: RuleInfo, pairs: list[tuple[str, str]], message: str):
        self.info = info
        self.pairs = pairs
        self.message = message

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for a, b in self.pairs:
            fa, fb = ctx.fields.get(a), ctx.fields.get(b)
            if fa is None or fb is None or fa.problem or fb.problem or fa.value is None or fb.value is None:
                continue
            if ctx.spec.fields[a].is_numeric:
                na, nb = _single(ctx, a), _single(ctx, b)
                if na is None or nb is None or na.overlaps(nb):
                    continue
                va, vb = fmt_value(na), fmt_value(nb)
            else:
                if str(fa.value).strip() == str(fb.value).strip():
                    continue
                va, vb = fmt_value(fa.value), fmt_value(fb.value)
            names = {
                "label": fb.label,
                "value": vb,
                "sheet": fb.sheet,
                "other_label": fa.label,
                "other_value": va,
                "other_sheet": fa.sheet,
            }
            msg = render(self.message, names.__getitem__)
            cells = [ctx.cell_of(b), ctx.cell_of(a)]
            out.append(self.finding(ctx, msg, cells, [fb.label, fa.label], expected=va, actual=vb))


@register(
    "same_fact",
    params=("message",),
    required=("message",),
    doc="同一事项两处填写：表单 relations.same_fact 声明的两个栏目应一致（提示在后一处）",
)
def build_same_fact(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    return SameFactRule(info, list(relations_of(spec).same_fact), message_template(params, _SAME_NAMES, fail, ""))


# -- year and dates ---------------------------------------------------------------------

_YEAR_NAMES = ("label", "value", "year", "expected", "dates")


class YearDatesRule(Rule):
    """Each date falls in 年度 + [lo, hi]. When the dates agree on another 年度, the 年度 is wrong."""

    def __init__(
        self, info: RuleInfo, year_field: str, dates: dict[str, tuple[int, int]], msg_date: str, msg_year: str
    ):
        self.info = info
        self.year_field = year_field
        self.dates = dates
        self.msg_date = msg_date
        self.msg_year = msg_year

    @staticmethod
    def _expected(y: int, lo: int, hi: int) -> str:
        return f"{y + lo}年" if lo == hi else f"{y + lo}年至{y + hi}年"

    def run(self, ctx: Context, out: list[Finding]) -> None:
        fy = ctx.fields.get(self.year_field)
        if fy is None or fy.problem or not isinstance(fy.value, Decimal) or not fy.value.is_finite():
            return
        year = int(fy.value)
        if not 1900 <= year <= 2200:
            return
        seen: list[tuple[str, date, int, int]] = []
        for fid, (lo, hi) in self.dates.items():
            fv = ctx.fields.get(fid)
            if fv is not None and not fv.problem and isinstance(fv.value, date):
                seen.append((fid, fv.value, lo, hi))
        bad = [s for s in seen if not s[2] <= s[1].year - year <= s[3]]
        if not bad:
            return
        feasible_lo = max(d.year - hi for _, d, _, hi in seen)
        feasible_hi = min(d.year - lo for _, d, lo, _ in seen)
        if len(bad) >= 2 and feasible_lo <= feasible_hi:
            # the dates agree among themselves on another 年度: the 年度 itself is wrong
            expected = str(feasible_lo) if feasible_lo == feasible_hi else f"{feasible_lo}至{feasible_hi}"
            dates = "、".join(f"{ctx.fields[f].label} {d.isoformat()}" for f, d, _, _ in seen)
            names = {"label": fy.label, "value": str(year), "year": str(year), "expected": expected, "dates": dates}
            cells = [ctx.cell_of(self.year_field), *(ctx.cell_of(f) for f, _, _, _ in bad)]
            out.append(
                self.finding(
                    ctx,
                    render(self.msg_year, names.__getitem__),
                    cells,
                    [fy.label],
                    expected=expected,
                    actual=str(year),
                )
            )
            return
        for fid, d, lo, hi in bad:
            fv = ctx.fields[fid]
            names = {
                "label": fv.label,
                "value": d.isoformat(),
                "year": str(year),
                "expected": self._expected(year, lo, hi),
                "dates": d.isoformat(),
            }
            cells = [ctx.cell_of(fid), ctx.cell_of(self.year_field)]
            msg = render(self.msg_date, names.__getitem__)
            out.append(
                self.finding(ctx, msg, cells, [fv.label, fy.label], expected=names["expected"], actual=names["value"])
            )


@register(
    "year_dates",
    params=("message", "year_message"),
    required=("message", "year_message"),
    doc="年度与日期：表单 relations.year 声明的日期应落在相对年度的年份内；各日期一致指向另一年度时，提示年度本身填错（如沿用上年）",
)
def build_year_dates(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    rel = relations_of(spec)
    msg = message_template(params, _YEAR_NAMES, fail, "")
    year_msg = message_template({"message": params.get("year_message")}, _YEAR_NAMES, fail, "")
    return YearDatesRule(info, rel.year_field, dict(rel.year_dates), msg, year_msg)


# -- list count -------------------------------------------------------------------------

_LIST_NAMES = ("label", "value", "list_label", "listed", "names")


class ListCountRule(Rule):
    def __init__(self, info: RuleInfo, pairs: list[tuple[str, str]], message: str):
        self.info = info
        self.pairs = pairs
        self.message = message

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for count, listed in self.pairs:
            fc, fl = ctx.fields.get(count), ctx.fields.get(listed)
            if fc is None or fl is None or fc.problem or not isinstance(fc.value, Decimal) or not fc.value.is_finite():
                continue
            if not isinstance(fl.value, str) or not fl.value.strip():
                continue
            names = split_list(fl.value)
            if Decimal(len(names)) == fc.value:
                continue
            vals = {
                "label": fc.label,
                "value": fmt_value(fc.value, 0),
                "list_label": fl.label,
                "listed": str(len(names)),
                "names": "、".join(names),
            }
            msg = render(self.message, vals.__getitem__)
            cells = [ctx.cell_of(count), ctx.cell_of(listed)]
            out.append(self.finding(ctx, msg, cells, [fc.label, fl.label], expected=len(names), actual=vals["value"]))


@register(
    "list_count",
    params=("message",),
    required=("message",),
    doc="数量与名单：表单 relations.list_count 声明的数量栏应等于对应名单列出的项数（按顿号、逗号、分号、换行分隔）",
)
def build_list_count(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    return ListCountRule(info, list(relations_of(spec).list_count), message_template(params, _LIST_NAMES, fail, ""))
