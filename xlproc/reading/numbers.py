"""Turn what a cell holds into a typed value, or say why it cannot be used.

docs/rules.md: text in a number cell is parsed only when the reading is certain
(thousand separators, full-width digits, a trailing unit that matches the field, an
accountant's brackets for a negative); anything else ("约10", "—", "12元") is
reported with what is wrong with it, never coerced to 0.

A cell means what Excel shows: a float is read by its shortest round-trip decimal,
binary noise (``=1182.3+0.1`` stored as 1182.3999999999999) is the number with the
field's decimals, a percent-formatted cell of a percent field (stored 0.986, shown
98.6%) is 98.6. What cannot be represented — NaN, infinity, magnitudes beyond any
budget, control characters — is a problem, never a value that fails later.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_YEAR_TEXT = re.compile(r"^(\d{4})\s*年?(度)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)  # what a date of this form can be

_HUNDRED = Decimal(100)
_NOISE = Decimal("1e-9")
LIMIT = Decimal(10) ** 10  # no figure of a district department's form comes near 10^10 (万元, 人, %)
# Characters no document can carry: C0 controls other than tab / line feed / carriage return,
# U+FFFE / U+FFFF, lone surrogates, and U+FFFD (what an invalid character reference became).
_UNSHOWABLE = re.compile("[\x00-\x08\x0e-\x1f\ufffd\ufffe\uffff\ud800-\udfff]")
_SOFT_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})  # Word's manual line break, form feed
_SUSPECT = re.compile("[\x00-\x1f\ufffd\ufffe\uffff\ud800-\udfff]")  # incl. \t \n \r \x0b \x0c: rare in numbers

# Format characters that show nothing (zero-width space/joiners, bidi marks, word joiner,
# BOM, soft hyphen): copied from a web page or Word, a cell holding only these is blank.
INVISIBLE_CHARS = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"  # a character class
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")

Parsed = tuple[Any, str]  # (value or None, problem message or "")


def decimal_from_float(x: float) -> Decimal:
    """The Decimal a person typed: the shortest repr of the float (197.06, not 197.0600000000000022…).

    Raises ValueError for NaN and infinity (callers check ``math.isfinite`` first).
    """
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {x!r}")
    if abs(x) < 1e15 and x == int(x):
        return Decimal(int(x))
    return Decimal(repr(x))


def _trim(d: Decimal) -> Decimal:
    """1182.40 → 1182.4 and 100.00 → 100 (never 1E+2): how the same number typed reads."""
    if d == d.to_integral_value():
        return Decimal(int(d))
    return d.normalize()


def snap(value: Decimal, decimals: int | None) -> Decimal:
    """Binary noise removed: a value within a relative 1e-9 of a number with ``decimals``
    decimals is that number (1182.3999999999999 → 1182.4 for 2 decimals); any other
    value is returned unchanged, so a real third decimal still shows."""
    if decimals is None or not value.is_finite():
        return value
    exp = value.as_tuple().exponent
    if isinstance(exp, int) and -exp <= decimals:
        return value
    q = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if abs(value - q) <= _NOISE * max(abs(q), Decimal(1)):
        return _trim(q)
    return value


def unshowable(text: str) -> str:
    """A description of the first character no document can show, or ""."""
    m = _UNSHOWABLE.search(text)
    if m is None:
        return ""
    ch = m.group(0)
    if ch == "\ufffd":
        return "无法识别的字符（文件中的字符编码无效）"
    if "\ud800" <= ch <= "\udfff":
        return f"无效的字符编码 U+{ord(ch):04X}"
    return f"不可见的控制字符 U+{ord(ch):04X}"


def _out_of_range(value: Decimal, unit: str) -> str:
    if abs(value) > LIMIT:
        shown = f"{value:.6E}" if abs(value) >= Decimal(10) ** 15 else f"{value:f}"
        return f"“{shown}”超出合理范围（绝对值应小于100亿{unit}），请核对数字和单位"
    return ""


def _quote(raw: Any, limit: int = 40) -> str:
    """What a message quotes of a cell: its first ``limit`` characters (a pasted page is not repeated)."""
    text = str(raw)
    return text if len(text) <= limit else text[:limit] + "…"


def normalize_text(text: str) -> str:
    """NFKC (full-width digits and punctuation → ASCII), without invisible format characters
    (a zero-width space copied with a figure), trimmed, incl. ideographic spaces."""
    if not text.isprintable():
        text = _INVISIBLE.sub("", text)
    return unicodedata.normalize("NFKC", text).strip()


# Minus signs a figure copied from Word or a web page may carry (NFKC leaves them).
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-"})
_SPACED_DIGITS = re.compile(r"[\d.]\s+[\d.]")  # a space inside a figure (NFKC made U+3000 a space)
# ... which is taken only as a thousands separator: 1 234 567.89 (with a sign, ¥ or unit around it)
_SPACE_GROUPED = re.compile(r"[^\d.]*\d{1,3}(?: \d{3})+(?:\.\d+)?[^\d.]*")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")  # 36.8, 36., .5 (as Excel takes them)
_ACCOUNTING = re.compile(r"^\((\d[\d,]*(?:\.\d+)?)\)$")  # (12.50): a negative, as accountants write it
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d{1,2}$")  # 36,8: a comma where the point belongs
# Text that stands for "nothing here" rather than a figure.
_PLACEHOLDERS = frozenset(
    ["-", "--", "---", "—", "——", "/", "\\", "无", "空", "暂无", "没有", "不适用", "N/A", "NA", "×", "x", "X", "#"]
)
_APPROXIMATE = ("约", "大约", "大概", "左右", "以上", "以下", "以内", "不到", "近", "多", "余", "?")
_CN_NUMERALS = frozenset("零〇一二三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟两")
# Money units other than 万元 a figure may end with → the unit's name in the message (亿 is 亿元).
_OTHER_MONEY_UNITS = {"元": "元", "千元": "千元", "百万元": "百万元", "亿元": "亿元", "亿": "亿元"}


def _strip_unit(s: str, unit: str) -> tuple[str, str]:
    """``s`` without a trailing unit that matches the field's (also in brackets, and 万 for
    万元), and the money unit it names when that is another one ("" when none)."""
    if unit:
        for form in (unit, f"({unit})", f"[{unit}]"):
            if s.endswith(form):
                return s[: -len(form)], ""
    if unit == "万元":
        if s.endswith("万") and not s.endswith(("百万", "千万")):
            return s[:-1], ""
        for other in sorted(_OTHER_MONEY_UNITS, key=len, reverse=True):
            if s.endswith(other) or s.endswith(f"({other})"):
                return s, _OTHER_MONEY_UNITS[other]
    return s, ""


def parse_number_text(text: str, unit: str = "") -> Parsed:
    """Parse text typed into a number cell. ``unit`` is the field's unit (万元, %, 人 …).

    Taken as the number it certainly is: thousand separators, full-width digits, minus
    signs copied from Word, a leading ¥, a trailing unit that is the field's (万 for
    万元, also in brackets) and an accountant's (12.50) for −12.50. Anything else is
    reported with what is wrong with it — another unit, a placeholder such as “-” or
    “无”, an approximation, a decimal comma, Chinese numerals — and never read as 0.
    """
    original = text
    s = normalize_text(text).translate(_MINUS)
    if _SPACED_DIGITS.search(s) and not _SPACE_GROUPED.fullmatch(s):
        return None, f"“{_quote(original)}”不是可以确定的数字（数字中间有空格），请核对后填写"
    s = s.replace(" ", "")
    if not s:
        return None, ""
    s, other_unit = _strip_unit(s, unit)
    if other_unit:
        return None, f"“{_quote(original)}”的单位是{other_unit}，本栏单位为万元，请换算后填写数字"
    if s.startswith("¥"):
        s = s[1:]
    accounting = _ACCOUNTING.match(s)
    if accounting:
        s = "-" + accounting.group(1)
    if _GROUPED.match(s):
        s = s.replace(",", "")
    if _NUMBER.match(s):
        if len(s) > 40:
            return None, f"“{_quote(original)}”位数过多，不是可以确定的数字"
        return Decimal(s), ""
    return None, _not_a_number(original, s)


def _not_a_number(original: str, s: str) -> str:
    """Why ``s`` (normalised) is no figure, in words a clerk can act on."""
    if s in _PLACEHOLDERS:
        return f"“{_quote(original)}”不是可以确定的数字：数额为零请填 0，没有此项请留空"
    if any(word in s for word in _APPROXIMATE) and any(ch.isdigit() for ch in s):
        return f"“{_quote(original)}”不是可以确定的数字（是约数），请填写确切数字"
    if _DECIMAL_COMMA.match(s):
        return f"“{_quote(original)}”不是可以确定的数字：小数点请用“.”，千位分隔符“,”应每三位一个"
    if s and all(ch in _CN_NUMERALS or ch in ".点" for ch in s):
        return f"“{_quote(original)}”不是可以确定的数字，请用阿拉伯数字填写"
    return f"“{_quote(original)}”不是可以确定的数字，请填写数字"


def parse_number(
    raw: Any, field_type: str, unit: str = "", decimals: int | None = None, percent_format: bool = False
) -> Parsed:
    """A cell value for a money / percent / number / count / year field.

    ``decimals``: the field's allowed decimals (binary noise of a stored float is
    snapped to them). ``percent_format``: the cell shows its number as a percentage
    (stored 0.986 shown 98.6%); for a percent field the value is then ×100.
    """
    if raw is None or raw == "":
        return None, ""
    if isinstance(raw, bool):
        return None, f"“{_quote(raw)}”不是数字"
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            return None, "单元格内容不是有效数字（无穷大或非数值）"
        value = decimal_from_float(float(raw)) if isinstance(raw, float) else Decimal(raw)
        if percent_format and field_type == "percent":
            value = value * _HUNDRED
        if isinstance(raw, float) and abs(value) <= LIMIT:
            value = snap(value, decimals)
    elif isinstance(raw, str):
        if field_type == "year":
            m = _YEAR_TEXT.match(normalize_text(raw))
            raw = m.group(1) if m else raw
        value, problem = parse_number_text(raw, unit)
        if problem or value is None:
            return None, problem
    elif isinstance(raw, (date, datetime)):
        return None, f"“{_quote(raw)}”是日期，本栏应填写数字"
    else:
        return None, f"“{_quote(raw)}”不是数字"
    too_big = _out_of_range(value, unit)
    if too_big:
        return None, too_big
    if field_type in ("count", "year") and value != value.to_integral_value():
        return None, f"“{_quote(raw)}”不是整数"
    if field_type in ("count", "year"):
        value = Decimal(int(value))
    if field_type == "year" and not 1990 <= value <= 2100:
        return None, f"“{_quote(raw)}”不是有效的年度"
    return value, ""


def parse_date(raw: Any) -> Parsed:
    """A cell value for a date field: a real date, an Excel serial, or unambiguous text."""
    if raw is None or raw == "":
        return None, ""
    if isinstance(raw, (datetime, date)):
        day = raw.date() if isinstance(raw, datetime) else raw
        if not _FIRST_DAY <= day <= _LAST_DAY:  # serial 0 / NaN read as 1899-12-30, year 9999 …
            return None, f"“{day.isoformat()}”不是有效日期，请按 2023-12-31 的格式填写"
        return day, ""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1 <= raw < 80000:
        return _EXCEL_EPOCH + timedelta(days=int(raw)), ""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 19000101 <= raw <= 21001231 and raw == int(raw):
        raw = str(int(raw))  # 20240105 typed as a number: the date it spells (checked below)
    if isinstance(raw, str):
        text = normalize_text(raw)
        if not text:  # blanks and invisible characters only
            return None, ""
        text = _cn_date_digits(text.replace(" ", ""))
        m = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
        if m:
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                day = None
            if day is not None and _FIRST_DAY <= day <= _LAST_DAY:
                return day, ""
        elif _MONTH_ONLY.match(text):
            return None, f"“{_quote(raw)}”只写到月份，请填写完整日期，如 2023-12-31"
    return None, f"“{_quote(raw)}”不是有效日期，请按 2023-12-31 的格式填写"


_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")  # 20240105
_MONTH_ONLY = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*月?$")
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0", "Ｏ": "0"}
_CN_DATE = re.compile(
    r"^([〇零○Ｏ一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})[日号]$"
)


def _cn_small(text: str) -> str:
    """一 … 三十一 as digits (the month or day of a date written in Chinese numerals)."""
    if "十" not in text:
        return "".join(_CN_DIGIT[c] for c in text)
    tens, _, ones = text.partition("十")
    return str((int(_CN_DIGIT[tens]) if tens else 1) * 10 + (int(_CN_DIGIT[ones]) if ones else 0))


def _cn_date_digits(text: str) -> str:
    """二〇二四年一月五日 → 2024年1月5日; 号 for 日 (as it is said); other text unchanged."""
    m = _CN_DATE.match(text)
    if m:
        try:
            year = "".join(_CN_DIGIT[c] for c in m.group(1))
            text = f"{year}年{_cn_small(m.group(2))}月{_cn_small(m.group(3))}日"
        except (KeyError, ValueError):
            return text
    return text[:-1] + "日" if text.endswith("号") else text


def parse_text(raw: Any) -> Parsed:
    """A text cell: numbers typed into it (phone numbers, codes) become their digits.

    Vertical tab and form feed (Word's manual line break) become line breaks; any
    other character no document can carry makes the cell a problem.
    """
    if raw is None:
        return None, ""
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return None, "单元格内容不是有效数字（无穷大或非数值）"
        raw = str(decimal_from_float(raw))
    elif isinstance(raw, (datetime, date)):
        raw = raw.strftime("%Y-%m-%d")
    text = str(raw)
    if "\x0b" in text or "\x0c" in text:
        text = text.translate(_SOFT_BREAKS)
    text = text.strip()
    if text and not text.isprintable() and not normalize_text(text):
        return None, ""  # only zero-width spaces, a BOM, bidi marks: nothing a reader sees
    return (text or None), ""


_ENUM_PUNCT = "。.，,、；;！!"


def parse_enum(raw: Any, allowed: tuple[str, ...]) -> Parsed:
    """A dropdown cell: the value must be one of the list (full-width/space variants tolerated)."""
    text, problem = parse_text(raw)
    if text is None:
        return None, problem
    if text in allowed:
        return text, ""
    norm = {normalize_text(a).replace(" ", ""): a for a in allowed}
    key = normalize_text(text).replace(" ", "").strip(_ENUM_PUNCT)  # "否。" is 否
    if key in norm:
        return norm[key], ""
    return None, f"“{_quote(text)}”不在可选项（{'、'.join(allowed)}）之中"


def parse_cell(
    raw: Any,
    field_type: str,
    unit: str = "",
    allowed: tuple[str, ...] = (),
    decimals: int | None = None,
    percent_format: bool = False,
) -> Parsed:
    """Dispatch on the field type (``decimals`` / ``percent_format``: see ``parse_number``).

    Text holding a character no document can carry is a problem whatever the type,
    and the message never quotes it.
    """
    if isinstance(raw, str) and _SUSPECT.search(raw) is not None:
        bad = unshowable(raw.translate(_SOFT_BREAKS))
        if bad:
            return None, f"含有{bad}，请删除后重新填写"
    try:
        if field_type in ("money", "percent", "number", "count", "year"):
            return parse_number(raw, field_type, unit, decimals, percent_format)
        if field_type == "date":
            return parse_date(raw)
        if field_type == "enum":
            return parse_enum(raw, allowed)
        return parse_text(raw)
    except (InvalidOperation, ValueError, OverflowError):
        return None, f"“{_quote(raw)}”无法识别"


def showable(raw: Any) -> Any:
    """``raw`` safe to print or serialise: unshowable characters replaced by U+FFFD."""
    if isinstance(raw, str) and _UNSHOWABLE.search(raw):
        return _UNSHOWABLE.sub("\ufffd", raw)
    return raw
