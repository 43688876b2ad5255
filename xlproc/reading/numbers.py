"""Turn what a cell holds into a typed value, or say why it cannot be used.

RULES.md: text in a number cell is parsed only when the reading is certain
(thousand separators, full-width digits, a trailing unit that matches the field);
anything else ("约10", "—", "12元") is reported, never coerced to 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_YEAR_TEXT = re.compile(r"^(\d{4})\s*年?(度)?$")
_EXCEL_EPOCH = date(1899, 12, 30)

Parsed = tuple[Any, str]  # (value or None, problem message or "")


def decimal_from_float(x: float) -> Decimal:
    """The Decimal a person typed: the shortest repr of the float (197.06, not 197.0600000000000022…)."""
    if x == int(x) and abs(x) < 1e15:
        return Decimal(int(x))
    return Decimal(repr(x))


def normalize_text(text: str) -> str:
    """NFKC (full-width digits and punctuation → ASCII) and trimmed, incl. ideographic spaces."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_number_text(text: str, unit: str = "") -> Parsed:
    """Parse text typed into a number cell. ``unit`` is the field's unit (万元, %, 人 …)."""
    original = text
    s = normalize_text(text).replace(" ", "")
    if not s:
        return None, ""
    if unit and s.endswith(unit):
        s = s[: -len(unit)]
    elif unit == "万元" and s.endswith("元"):
        return None, f"“{original}”的单位是元，本栏单位为万元，请换算后填写数字"
    if _GROUPED.match(s):
        s = s.replace(",", "")
    if _PLAIN.match(s):
        return Decimal(s), ""
    return None, f"“{original}”不是可以确定的数字，请填写数字"


def parse_number(raw: Any, field_type: str, unit: str = "") -> Parsed:
    """A cell value for a money / percent / number / count / year field."""
    if raw is None or raw == "":
        return None, ""
    if isinstance(raw, bool):
        return None, f"“{raw}”不是数字"
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            return None, "单元格内容不是有效数字"
        value = decimal_from_float(float(raw)) if isinstance(raw, float) else Decimal(raw)
    elif isinstance(raw, str):
        if field_type == "year":
            m = _YEAR_TEXT.match(normalize_text(raw))
            raw = m.group(1) if m else raw
        value, problem = parse_number_text(raw, unit)
        if problem or value is None:
            return None, problem
    elif isinstance(raw, (date, datetime)):
        return None, f"“{raw}”是日期，本栏应填写数字"
    else:
        return None, f"“{raw}”不是数字"
    if field_type in ("count", "year") and value != value.to_integral_value():
        return None, f"“{raw}”不是整数"
    if field_type in ("count", "year"):
        value = Decimal(int(value))
    if field_type == "year" and not 1990 <= value <= 2100:
        return None, f"“{raw}”不是有效的年度"
    return value, ""


def parse_date(raw: Any) -> Parsed:
    """A cell value for a date field: a real date, an Excel serial, or unambiguous text."""
    if raw is None or raw == "":
        return None, ""
    if isinstance(raw, datetime):
        return raw.date(), ""
    if isinstance(raw, date):
        return raw, ""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1 <= raw < 80000:
        return _EXCEL_EPOCH + timedelta(days=int(raw)), ""
    if isinstance(raw, str):
        m = _DATE_TEXT.match(normalize_text(raw))
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), ""
            except ValueError:
                pass
    return None, f"“{raw}”不是有效日期，请按 2023-12-31 的格式填写"


def parse_text(raw: Any) -> Parsed:
    """A text cell: numbers typed into it (phone numbers, codes) become their digits."""
    if raw is None:
        return None, ""
    if isinstance(raw, float):
        raw = str(decimal_from_float(raw))
    elif isinstance(raw, (datetime, date)):
        raw = raw.strftime("%Y-%m-%d")
    text = str(raw).strip()
    return (text or None), ""


def parse_enum(raw: Any, allowed: tuple[str, ...]) -> Parsed:
    """A dropdown cell: the value must be one of the list (full-width/space variants tolerated)."""
    text, _ = parse_text(raw)
    if text is None:
        return None, ""
    if text in allowed:
        return text, ""
    norm = {normalize_text(a).replace(" ", ""): a for a in allowed}
    key = normalize_text(text).replace(" ", "")
    if key in norm:
        return norm[key], ""
    return None, f"“{text}”不在可选项（{'、'.join(allowed)}）之中"


def parse_cell(raw: Any, field_type: str, unit: str = "", allowed: tuple[str, ...] = ()) -> Parsed:
    """Dispatch on the field type."""
    try:
        if field_type in ("money", "percent", "number", "count", "year"):
            return parse_number(raw, field_type, unit)
        if field_type == "date":
            return parse_date(raw)
        if field_type == "enum":
            return parse_enum(raw, allowed)
        return parse_text(raw)
    except (InvalidOperation, ValueError, OverflowError):
        return None, f"“{raw}”无法识别"
