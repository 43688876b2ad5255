"""Rule types: the base rule, the expression rule (``check``) and the type registry.

A catalogue entry names a ``type`` and its parameters; the type's builder validates
them against the spec (once, at load) and returns a compiled rule whose ``run``
appends findings for one workbook. Built-in types other than ``check`` live in
builtin.py; both register here, and docs.py renders the list for the README.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..form.spec import FormSpec
from ..results import CellRef, Finding
from .context import Context
from .expr import Compiled, Compiler, ExprError, Missing, Skip
from .intervals import Num, Undefined
from .linear import Linear, linearize, rule_inputs
from .messages import (
    COMPARISON_NAMES,
    checked_message,
    field_placeholder_ok,
    fmt_decimal,
    fmt_interval,
    fmt_value,
    render,
)

BLANK_POLICIES = ("skip", "zero", "missing")


@dataclass(frozen=True)
class RuleInfo:
    """What the catalogue says about a rule, independent of its logic."""

    id: str
    severity: str
    title: str
    type: str
    scope: str = "current"  # "previous": a cross-year rule, run only with last year's workbook
    gate: bool = False  # previous-scope only: when it fires, the other cross-year rules are skipped


@dataclass(frozen=True)
class TypeDef:
    """A registered rule type: its parameters, its builder and a one-line description."""

    name: str
    params: tuple[str, ...]
    required: tuple[str, ...]
    build: Callable[..., Any]
    doc: str


TYPES: dict[str, TypeDef] = {}


def register(name: str, params: tuple[str, ...], required: tuple[str, ...], doc: str):
    """Decorator registering a builder ``build(info, params, spec, compiler, fail) -> Rule``."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        TYPES[name] = TypeDef(name, params, required, fn, doc)
        return fn

    return deco


class Rule:
    """A compiled rule. ``run`` never raises on workbook content."""

    info: RuleInfo
    locate: str | None = None

    def run(self, ctx: Context, out: list[Finding]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(
        self,
        ctx: Context,
        message: str,
        cells: list[CellRef],
        labels: list[str],
        expected: Any = None,
        actual: Any = None,
        operands: dict[str, Any] | None = None,
    ) -> Finding:
        """A finding of this rule, shown at ``locate`` (when given) or the first cell."""
        anchor = self._anchor(ctx) or (cells[0] if cells else CellRef("", ""))
        ordered = [anchor, *[c for c in cells if c != anchor]] if anchor.cell else cells
        seen: list[CellRef] = []
        for c in ordered:
            if c not in seen:
                seen.append(c)
        return Finding(
            rule_id=self.info.id,
            severity=self.info.severity,
            sheet=anchor.sheet,
            cell=anchor.cell,
            message=message,
            cells=tuple(seen),
            fields=tuple(dict.fromkeys(labels)),
            expected=expected,
            actual=actual,
            operands=operands or {},
            title=self.info.title,
        )

    def _anchor(self, ctx: Context) -> CellRef | None:
        loc = self.locate
        if not loc:
            return None
        if "." in loc:
            t, c = loc.split(".", 1)
            return ctx.first_blank_cell(t, c)
        return ctx.cell_of(loc) if loc in ctx.fields else None

    def missing(self, ctx: Context, field_id: str) -> Finding:
        """The "missing input" finding (docs/rules.md): at the blank cell, with the rule's severity."""
        fv = ctx.fields[field_id]
        cell = CellRef(fv.sheet, fv.cell)
        return Finding(
            rule_id=self.info.id,
            severity=self.info.severity,
            sheet=fv.sheet,
            cell=fv.cell,
            message=f"“{fv.label}”未填写，无法核对：{self.info.title}",
            cells=(cell,),
            fields=(fv.label,),
            operands={"missing": field_id},
            title=self.info.title,
        )


def check_locate(spec: FormSpec, locate: Any, fail: Callable[[str], Exception]) -> str | None:
    """``locate`` is a field id or ``table.column`` (the column's first blank cell)."""
    if locate is None:
        return None
    if not isinstance(locate, str):
        raise fail("locate 应为字段 id 或 表格.列")
    check_ref(spec, locate, fail, "locate 指向")
    return locate


def check_ref(spec: FormSpec, ref: str, fail: Callable[[str], Exception], where: str) -> None:
    """``ref`` must be a field id or a ``table.column`` of the spec; ``where`` prefixes the error."""
    if "." in ref:
        t, c = ref.split(".", 1)
        if t not in spec.tables or c not in {col.id for col in spec.tables[t].columns}:
            raise fail(f"{where}未知的表格列 {ref!r}")
    elif ref not in spec.fields:
        raise fail(f"{where}未知字段 {ref!r}")


def blank_policy(node: Any, spec: FormSpec, fail: Callable[[str], Exception]) -> Callable[[str], str]:
    """``blank: zero`` for every optional field, or ``{default: skip, field_id: zero}``."""
    if node is None:
        return lambda _fid: "skip"
    if isinstance(node, str):
        if node not in BLANK_POLICIES:
            raise fail(f"blank 应为 {' / '.join(BLANK_POLICIES)}")
        return lambda _fid: node
    if not isinstance(node, dict):
        raise fail("blank 应为文本或 字段: 策略 映射")
    for key, value in node.items():
        if key != "default" and key not in spec.fields:
            raise fail(f"blank 中的未知字段 {key!r}")
        if value not in BLANK_POLICIES:
            raise fail(f"blank.{key} 应为 {' / '.join(BLANK_POLICIES)}")
    default = node.get("default", "skip")
    return lambda fid: node.get(fid, default)


class CheckRule(Rule):
    """An expression rule: when ``when`` holds, ``assert`` must not be definitely false."""

    def __init__(self, info: RuleInfo, assertion: Compiled, when: Compiled | None, message: str, locate: str | None):
        self.info = info
        self.assertion = assertion
        self.when = when
        self.message = message
        self.locate = locate
        fields = list(assertion.fields)
        if when is not None:
            fields += [f for f in when.fields if f not in fields]
        self.fields = fields
        self.columns = assertion.columns + ([] if when is None else when.columns)
        self.prev_fields = assertion.prev_fields + ([] if when is None else when.prev_fields)
        self.linear: list[Linear] | None = None  # the assertion as linear relations (culprit.py)
        self.inputs: frozenset = frozenset()  # every input cell read, computed fields expanded

    def run(self, ctx: Context, out: list[Finding]) -> None:
        try:
            if self.when is not None and self.when.fn(ctx) is not True:
                return
            if self.assertion.fn(ctx) is not False:
                return
        except (Skip, Undefined):
            return
        except Missing as m:
            out.append(self.missing(ctx, m.field_id))
            return
        finding = self._fail(ctx)
        out.append(finding)
        ctx.failed.append((self, finding))

    def _fail(self, ctx: Context) -> Finding:
        sides: dict[str, Any] = {}
        operands: dict[str, Any] = {}
        if self.assertion.sides is not None:
            left, right, op = self.assertion.sides
            try:
                lv, rv = left.fn(ctx), right.fn(ctx)
            except (Skip, Undefined, Missing):
                lv = rv = None
            if isinstance(lv, Num) and isinstance(rv, Num):
                d = max(lv.decimals, rv.decimals)
                sides = {"left": fmt_value(lv), "right": fmt_value(rv), "diff": fmt_decimal(abs(lv.mid - rv.mid), d)}
                operands.update(op=op, left_interval=fmt_interval(lv), right_interval=fmt_interval(rv))
            elif lv is not None or rv is not None:
                sides = {"left": fmt_value(lv), "right": fmt_value(rv), "diff": ""}
        for fid in self.fields:
            operands[fid] = _shown(ctx, fid)
        for fid in self.prev_fields:
            operands[f"prev.{fid}"] = _shown(ctx.prev, fid) if ctx.prev else None

        def lookup(name: str) -> str:
            if name in COMPARISON_NAMES:
                return sides.get(name, "")
            if name.startswith("prev."):
                return _shown(ctx.prev, name[5:]) or "" if ctx.prev else ""
            if name.endswith(".label"):
                return ctx.spec.fields[name[:-6]].label
            return _shown(ctx, name) or "（空）"

        cells = [ctx.cell_of(f) for f in self.fields]
        for ref in self.columns:
            t, c = ref.split(".", 1)
            cells += ctx.column_cells(t, c)
        labels = [ctx.spec.fields[f].label for f in self.fields]
        return self.finding(
            ctx,
            render(self.message, lookup),
            cells,
            labels,
            expected=sides.get("right"),
            actual=sides.get("left"),
            operands=operands,
        )


def _shown(ctx: Context | None, field_id: str) -> str | None:
    """A field's figure for a message: intervals at face value, text as typed, blank None."""
    if ctx is None:
        return None
    try:
        fs = ctx.spec.fields[field_id]
        if fs.is_numeric:
            return fmt_value(ctx.num(field_id, "zero"))
        v = ctx.value(field_id)
    except (Skip, Missing, Undefined):
        fv = ctx.fields.get(field_id)
        v = None if fv is None else (fv.raw if fv.problem else fv.value)
        if isinstance(v, Decimal):
            return fmt_value(v, ctx.spec.decimals(ctx.spec.fields[field_id]))
    return None if v is None else fmt_value(v)


@register(
    "check",
    params=("assert", "when", "blank", "message", "locate", "gate"),
    required=("assert", "message"),
    doc="表达式规则：when 成立时，assert 必须成立（相等按区间重叠判断，大小比较在舍入范围内不报）",
)
def build_check(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    """Compile ``assert`` / ``when`` once; validate the message's placeholders."""
    policy = blank_policy(params.get("blank"), spec, fail)
    try:
        assertion = compiler.compile(str(params["assert"]), policy)
        when = compiler.compile(str(params["when"]), policy) if params.get("when") is not None else None
    except ExprError as exc:
        raise fail(str(exc)) from None
    message = checked_message(params["message"], lambda n: field_placeholder_ok(n, spec.fields, COMPARISON_NAMES), fail)
    rule = CheckRule(info, assertion, when, message, check_locate(spec, params.get("locate"), fail))
    if not assertion.prev_fields:
        rule.linear = linearize(str(params["assert"]), spec, compiler.grids)
        rule.inputs = rule_inputs(rule.fields, rule.columns, spec)
    return rule
