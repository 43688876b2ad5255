"""Rule types about formulas in the sheet (the reader's sheet scan, reading/sheetscan.py):

``formula_typed_over`` — a computed cell (a total, a ratio, a derived register count)
whose template formula was replaced by a typed constant or deleted. ``match: differs``
fires when the typed value disagrees with the value computed from the inputs (the
interval of its rounding does not overlap), or is not a number at all; ``match:
agrees`` fires when it agrees, or when the cell was emptied, or when the inputs cannot
be read so no comparison is possible. The finding sits on the computed cell.

``own_formula`` — an input cell holding the department's own formula: it is read by
the result the office suite last saved, never recomputed; the finding says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..form.spec import FormSpec
from ..results import CellRef, Finding
from ..submission import FORMULA_CLEARED, FORMULA_TYPED, FieldValue
from .builtin import message_template
from .context import Context
from .expr import Compiler, Missing, Skip
from .intervals import Num, Undefined
from .messages import fmt_value, render
from .types import Rule, RuleInfo, register

MATCHES = ("differs", "agrees")
_TYPED_NAMES = ("label", "typed", "computed")
_OWN_NAMES = ("label", "formula", "value")
DEFAULT_MESSAGES = {
    "differs": "“{label}”应由公式自动计算，公式却被改成了手填的 {typed}，按明细计算应为 {computed}。请恢复公式并核对明细",
    "agrees": "“{label}”应由公式自动计算，公式却被改成了手填的 {typed}（与按明细计算的结果一致）。"
    "明细变动后该数不会随之更新，请恢复公式",
    "cleared": "“{label}”的自动计算公式已被删除（单元格为空），按明细计算应为 {computed}。请恢复公式",
    "unchecked": "“{label}”应由公式自动计算，公式却被改成了手填的 {typed}；所依据的单元格未填或无法识别，无法核对。请恢复公式",
    "own": "“{label}”中是部门自设的公式（={formula}），按文件保存的计算结果 {value} 读取，审核不重新计算该公式。请确认结果无误，或直接填写数字",
}


def _template(params: dict[str, Any], key: str, default: str, names: tuple[str, ...], fail) -> str:
    return message_template({"message": params.get(key, default)}, names, fail, default)


def _places(value: Decimal) -> int:
    exp = value.normalize().as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


class TypedOverRule(Rule):
    """Computed cells whose formula is gone (see the module docstring)."""

    def __init__(self, info: RuleInfo, match: str, message: str, cleared: str, unchecked: str):
        self.info = info
        self.match = match
        self.message = message
        self.cleared = cleared
        self.unchecked = unchecked

    def _computed(self, ctx: Context, fv: FieldValue) -> Num | None:
        try:
            return ctx.computed(fv.id)
        except (Skip, Missing, Undefined):
            return None

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for fv in ctx.fields.values():
            if not fv.computed or fv.formula not in (FORMULA_TYPED, FORMULA_CLEARED):
                continue
            computed = self._computed(ctx, fv)
            decimals = ctx.spec.decimals(ctx.spec.fields[fv.id]) or 0
            shown = fmt_value(computed, decimals) if computed is not None else "（无法计算：所依据的单元格无法识别）"
            if fv.formula == FORMULA_CLEARED:
                if self.match == "agrees":
                    self._emit(ctx, out, fv, self.cleared, {"label": fv.label, "typed": "", "computed": shown})
                continue
            typed = fv.typed
            message = self.message
            if isinstance(typed, Decimal) and typed.is_finite():
                typed_text = fmt_value(typed, max(decimals, _places(typed)))
                if computed is None:
                    agrees, message = True, self.unchecked
                else:
                    agrees = Num.shown(typed, decimals).overlaps(computed)
            else:
                agrees = False
                typed_text = f"“{typed}”"
            if agrees == (self.match == "agrees"):
                names = {"label": fv.label, "typed": typed_text, "computed": shown}
                self._emit(ctx, out, fv, message, names, typed)

    def _emit(
        self, ctx: Context, out: list[Finding], fv: FieldValue, message: str, names: dict, typed: Any = None
    ) -> None:
        cell = CellRef(fv.sheet, fv.cell)
        actual = str(typed) if isinstance(typed, Decimal) else typed
        out.append(
            self.finding(
                ctx,
                render(message, names.__getitem__),
                [cell],
                [fv.label],
                expected=names["computed"],
                actual=actual,
                operands={"formula": fv.formula},
            )
        )


@register(
    "formula_typed_over",
    params=("match", "message", "message_cleared", "message_unchecked"),
    required=("match",),
    doc="公式被改成数字：自动计算的单元格（合计、比率、台账派生的项目数）中的公式被手填数字替换或删除；"
    "match: differs 为手填数与按明细计算的结果不一致，agrees 为一致（或单元格已清空）",
)
def build_typed_over(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    match = params.get("match")
    if match not in MATCHES:
        raise fail(f"match 应为 {' / '.join(MATCHES)}")
    message = _template(params, "message", DEFAULT_MESSAGES[match], _TYPED_NAMES, fail)
    cleared = _template(params, "message_cleared", DEFAULT_MESSAGES["cleared"], _TYPED_NAMES, fail)
    unchecked = _template(params, "message_unchecked", DEFAULT_MESSAGES["unchecked"], _TYPED_NAMES, fail)
    return TypedOverRule(info, match, message, cleared, unchecked)


def _decimals(spec: FormSpec, ref: str) -> int:
    if "." in ref:
        table_id, column_id = ref.split(".", 1)
        return spec.decimals(spec.tables[table_id].column(column_id)) or 0
    return spec.decimals(spec.fields[ref]) or 0


class OwnFormulaRule(Rule):
    """Input cells holding the department's own formula: read by their saved result."""

    def __init__(self, info: RuleInfo, message: str):
        self.info = info
        self.message = message

    def run(self, ctx: Context, out: list[Finding]) -> None:
        for fc in ctx.sub.formulas:
            formula = fc.formula[:80] + ("…" if len(fc.formula) > 80 else "") if fc.formula else "…"
            value = fc.value
            if isinstance(value, Decimal):
                shown = fmt_value(value, max(_decimals(ctx.spec, fc.field_id), _places(value)))
            else:
                shown = "（空）" if value is None else f"“{value}”"
            names = {"label": fc.label, "formula": formula, "value": shown}
            cell = CellRef(fc.sheet, fc.cell)
            out.append(
                self.finding(
                    ctx,
                    render(self.message, names.__getitem__),
                    [cell],
                    [fc.label],
                    actual=str(value) if isinstance(value, Decimal) else value,
                    operands={"formula": fc.formula},
                )
            )


@register(
    "own_formula",
    params=("message",),
    required=(),
    doc="填报栏中的自设公式：按文件保存的计算结果读取（不重新计算），逐格提示",
)
def build_own_formula(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    return OwnFormulaRule(info, _template(params, "message", DEFAULT_MESSAGES["own"], _OWN_NAMES, fail))
