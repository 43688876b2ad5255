"""Built-in rule types about the form itself: ``required`` (blank required inputs),
``parse`` (unreadable cells) and ``decimals`` (money with too many decimals).

Each is parameterised from the catalogue and registered in types.py; the plausibility
types are in plausibility.py. ``field_list`` and ``message_template`` validate the
parameters both modules share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..form.spec import FormSpec
from ..results import CellRef, Finding
from .context import Context
from .expr import Compiler
from .messages import checked_message, render
from .types import Rule, RuleInfo, check_ref, register

_TEN_THOUSAND = Decimal(10000)


def _decimals_of(v: Decimal, allowed: int = 0) -> int:
    exp = v.as_tuple().exponent
    if isinstance(exp, int) and -exp <= allowed:
        return allowed  # fast path: trailing zeros aside, within the allowed decimals
    exp = v.normalize().as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def field_list(spec: FormSpec, node: Any, key: str, fail) -> list[str]:
    if node is None:
        return []
    if not isinstance(node, list) or not all(isinstance(x, str) for x in node):
        raise fail(f"{key} 应为字段 id 列表")
    for x in node:
        check_ref(spec, x, fail, f"{key} 中的")
    return node


def message_template(params: dict[str, Any], names: tuple[str, ...], fail, default: str) -> str:
    return checked_message(params.get("message", default), lambda n: n in names, fail, f"（可用：{', '.join(names)}）")


# -- required -------------------------------------------------------------------------


class RequiredRule(Rule):
    def __init__(self, info: RuleInfo, fields: list[tuple[str, str | None]], columns: dict[str, list[str]]):
        self.info = info
        self.fields = fields  # (field id, the 是否适用 field that can exempt it)
        self.columns = columns

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for fid, exempt_by in self.fields:
            fv = ctx.fields.get(fid)
            if fv is None or not fv.is_blank:
                continue
            if exempt_by and ctx.fields[exempt_by].value == "否":
                continue
            cell = CellRef(fv.sheet, fv.cell)
            out.append(self.finding(ctx, f"“{fv.label}”为必填项，尚未填写", [cell], [fv.label]))
        if not self.columns:
            return
        bad = {(p.sheet, p.cell) for p in ctx.sub.problems}
        for tid, cols in self.columns.items():
            rows, values = ctx.table(tid)
            if not rows:
                continue
            td = ctx.sub.tables[tid]
            for cid in cols:
                label = td.spec.column(cid).label
                for n, (r, v) in enumerate(zip(rows, values[cid], strict=True), start=1):
                    if v is not None:
                        continue
                    cell = CellRef(td.sheet, td.cell(r, cid))
                    if (cell.sheet, cell.cell) not in bad:
                        msg = f"{td.spec.label}第{n}项的“{label}”尚未填写"
                        out.append(self.finding(ctx, msg, [cell], [f"{td.spec.label}{label}"]))


@register(
    "required",
    params=("exclude", "exempt_when_not_applicable"),
    required=(),
    doc="必填项：表单规定必填的输入项（及表格中已填写行的必填列）不得为空",
)
def build_required(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    exclude = set(field_list(spec, params.get("exclude"), "exclude", fail))
    grid = params.get("exempt_when_not_applicable")
    if grid is not None and grid not in compiler.grids:
        raise fail(f"exempt_when_not_applicable 指向未知的表 {grid!r}")
    exempt: dict[str, str] = {}
    if grid:
        block = compiler.grids[grid]
        cols = {c.id for c in block.grid_columns}
        if "applicable" not in cols:
            raise fail(f"表 {grid} 没有“是否适用”列（applicable）")
        for r in block.grid_rows:
            for c in cols - {"applicable"}:
                exempt[block.grid_field(r.id, c)] = block.grid_field(r.id, "applicable")
    fields = [
        (f.id, exempt.get(f.id))
        for f in spec.fields.values()
        if f.required and f.compute is None and not f.fixed and f.id not in exclude
    ]
    columns = {
        t.id: [c.id for c in t.columns if c.required and f"{t.id}.{c.id}" not in exclude] for t in spec.tables.values()
    }
    return RequiredRule(info, fields, {k: v for k, v in columns.items() if v})


# -- parse ----------------------------------------------------------------------------


class ParseRule(Rule):
    def __init__(self, info: RuleInfo):
        self.info = info

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for p in ctx.sub.problems:
            cell = CellRef(p.sheet, p.cell)
            raw = p.raw if isinstance(p.raw, (str, int, float)) or p.raw is None else str(p.raw)
            out.append(self.finding(ctx, f"{p.label}：{p.message}", [cell], [p.label], actual=raw))


@register(
    "parse",
    params=(),
    required=(),
    doc="无法识别的单元格：数字栏中无法确定的文本、不在下拉选项中的值、无效日期等，逐格报告（不按0处理）",
)
def build_parse(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    return ParseRule(info)


# -- decimals -------------------------------------------------------------------------

_DEC_NAMES = ("label", "value", "decimals", "allowed")


class DecimalsRule(Rule):
    def __init__(self, info: RuleInfo, fields: list[tuple[str, int]], columns: list[tuple[str, str, int]], msg: str):
        self.info = info
        self.fields = fields
        self.columns = columns
        self.message = msg

    def _emit(
        self, ctx: Context, out: list[Finding], cell: CellRef, label: str, v: Decimal, allowed: int, n: int
    ) -> None:
        """A finding for ``v``, which has ``n`` decimals where ``allowed`` are allowed."""
        names = {"label": label, "value": f"{v:f}", "decimals": str(n), "allowed": str(allowed)}
        msg = render(self.message, names.__getitem__)
        out.append(self.finding(ctx, msg, [cell], [label], expected=allowed, actual=f"{v:f}"))

    def run(self, ctx: Context, out: list[Finding]) -> None:
        # the cell reference is made only for a value with too many decimals (a few per
        # workbook), not for each of the hundreds checked
        for fid, allowed in self.fields:
            fv = ctx.fields.get(fid)
            v = fv.value if fv is not None else None
            if isinstance(v, Decimal) and v.is_finite() and (n := _decimals_of(v, allowed)) > allowed:
                self._emit(ctx, out, CellRef(fv.sheet, fv.cell), fv.label, v, allowed, n)
        for tid, cid, allowed in self.columns:
            rows, values = ctx.table(tid)
            if not rows:
                continue
            td = ctx.sub.tables[tid]
            label = f"{td.spec.label}{td.spec.column(cid).label}"
            for r, v in zip(rows, values[cid], strict=True):
                if isinstance(v, Decimal) and v.is_finite() and (n := _decimals_of(v, allowed)) > allowed:
                    self._emit(ctx, out, CellRef(td.sheet, td.cell(r, cid)), label, v, allowed, n)


@register(
    "decimals",
    params=("types", "message"),
    required=("message",),
    doc="小数位数：金额栏填写的小数位数超过表单规定（一般2位，个别栏4位）",
)
def build_decimals(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    types = params.get("types", ["money"])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise fail("types 应为字段类型列表")
    fields = [
        (f.id, spec.decimals(f) or 0)
        for f in spec.fields.values()
        if f.type in types and f.compute is None and not f.fixed
    ]
    columns = [(t.id, c.id, spec.decimals(c) or 0) for t in spec.tables.values() for c in t.columns if c.type in types]
    return DecimalsRule(info, fields, columns, message_template(params, _DEC_NAMES, fail, ""))
