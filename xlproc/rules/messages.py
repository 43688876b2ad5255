"""Chinese message templates: placeholders, figure formatting, validation at load time.

A rule's message is a template such as
``"收入合计 {left} ≠ 各项之和 {right}，相差 {diff}万元"``. Placeholders are:

- ``{left}``, ``{right}``, ``{diff}`` — the two sides of the rule's comparison and
  their difference (shown with the decimals of the figures involved);
- ``{<field id>}`` — the field's figure as typed (computed fields: as the sheet
  computes it); ``{<field id>.label}`` — its label; ``{prev.<field id>}`` — last
  year's figure;
- names a rule type provides (``{factor}``, ``{pct}`` … see types.py).

Amounts keep the field's decimals (2, or 4 where the spec says so), percentages 2,
rounded half up. The templates are checked when the catalogue loads, so a typo in
a placeholder is refused before any workbook is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from .intervals import WIDE_CONTEXT, Num, round_half_up

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")
COMPARISON_NAMES = ("left", "right", "diff")
BLANK_TEXT = "（空）"


def fmt_decimal(value: Decimal, decimals: int) -> str:
    """A figure with exactly ``decimals`` places, rounded half up (197.06, 0.0044, 4.19)."""
    return f"{round_half_up(value, decimals):f}"


def fmt_value(value: Any, decimals: int | None = None) -> str:
    """Any value for a message: Num/Decimal with its decimals, dates ISO, blanks （空）."""
    if value is None:
        return BLANK_TEXT
    if isinstance(value, Num):
        return fmt_decimal(value.mid, value.decimals if decimals is None else decimals)
    if isinstance(value, Decimal):
        return fmt_decimal(value, 2 if decimals is None else decimals)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fmt_interval(value: Num, places: int = 6) -> list[str]:
    """[lo, hi] as strings for the finding's operands, rounded outward to ``places``
    decimals at most (a quotient's 28 digits say nothing a reviewer needs)."""
    step = Decimal(1).scaleb(-places)
    lo = (
        value.lo if _places(value.lo) <= places else value.lo.quantize(step, rounding=ROUND_FLOOR, context=WIDE_CONTEXT)
    )
    hi = (
        value.hi
        if _places(value.hi) <= places
        else value.hi.quantize(step, rounding=ROUND_CEILING, context=WIDE_CONTEXT)
    )
    return [f"{lo:f}", f"{hi:f}"]


def _places(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def check_template(template: str, known: Callable[[str], bool]) -> str | None:
    """The first unknown placeholder of ``template``, or None when all are known."""
    for name in placeholders(template):
        if not known(name):
            return name
    return None


def checked_message(
    message: Any, known: Callable[[str], bool], fail: Callable[[str], Exception], hint: str = ""
) -> str:
    """A rule's message template, refused through ``fail`` when it is empty or names an
    unknown placeholder; ``hint`` follows the refusal (which names may be used)."""
    if not isinstance(message, str) or not message.strip():
        raise fail("message 应为非空文本")
    bad = check_template(message, known)
    if bad:
        raise fail(f"message 中的未知占位符 {{{bad}}}{hint}")
    return message


def render(template: str, lookup: Callable[[str], str]) -> str:
    """Fill every placeholder through ``lookup`` (validated at load, so always known)."""
    return PLACEHOLDER.sub(lambda m: lookup(m.group(1)), template)


def field_placeholder_ok(name: str, field_ids: Mapping[str, Any], extra: Iterable[str] = ()) -> bool:
    """Is ``name`` a valid placeholder for a rule over these fields?"""
    if name in extra:
        return True
    if name.startswith("prev."):
        return name[5:] in field_ids
    if name.endswith(".label"):
        return name[:-6] in field_ids
    return name in field_ids
