"""Number and text formatting for the narrative report.

Everything the report prints goes through here so the conventions hold everywhere:
万元 with 2 decimals (up to 4 where the field allows), percentages with 2 decimals and
a %, scores without trailing zeros, year-on-year phrases, and free text that is safe
to place into WordprocessingML (XML-illegal control characters dropped, line breaks
turned into paragraph marks the renderer expands). Rounding is half up (四舍五入),
as Excel's ROUND does, never banker's rounding.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# The renderer turns this character into a paragraph break that keeps the
# surrounding paragraph's style (docxtpl's "listing" convention).
PARAGRAPH_MARK = "\a"

_XML_ILLEGAL = re.compile("[\x00-\x06\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_CN_DIGITS = "零一二三四五六七八九"


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal for numbers and numeric text, None for blanks and anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            d = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


_QUANTUM = {d: Decimal(1).scaleb(-d) for d in range(-2, 9)}  # built once: ~100 roundings per report


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    """Round like Excel's ROUND (half away from zero for positive and negative)."""
    quantum = _QUANTUM.get(decimals) or Decimal(1).scaleb(-decimals)
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def fmt_money(value: Any, decimals: int = 2) -> str:
    """万元 amount as text: 2 decimals; a 4-decimal field keeps up to 4 (0.0044, 0.01).

    A field that allows more than 2 decimals prints only the digits it needs, never
    fewer than 2, so 0.0100 reads "0.01" while 0.0044 stays "0.0044".
    """
    d = to_decimal(value)
    if d is None:
        d = Decimal(0)
    q = round_half_up(d, max(decimals, 2))
    text = f"{q:.{max(decimals, 2)}f}"
    if decimals > 2:
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    return "0.00" if text in ("-0.00", "-0.0") else text


def fmt_percent(value: Any, decimals: int = 2) -> str:
    """A percentage figure (87.40 means 87.40%) as "87.40%"; blank → "—"."""
    d = to_decimal(value)
    if d is None:
        return "—"
    return f"{round_half_up(d, decimals):.{decimals}f}%"


def fmt_score(value: Any, decimals: int = 2) -> str:
    """A score as people write it: 4.5, 12, 81.5, 100 (rounded, no trailing zeros)."""
    d = to_decimal(value)
    if d is None:
        d = Decimal(0)
    text = f"{round_half_up(d, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_count(value: Any) -> str:
    """A whole-number count; blank counts as 0."""
    d = to_decimal(value)
    if d is None:
        return "0"
    return f"{round_half_up(d, 0):.0f}"


def fmt_date(value: Any) -> str:
    """A date as 2023年12月31日; text is passed through; blank → ""."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return clean_inline(value)


def share_pct(part: Any, total: Any) -> Decimal | None:
    """part / total × 100, or None when the total is zero or blank."""
    p, t = to_decimal(part), to_decimal(total)
    if p is None or t is None or t == 0:
        return None
    return p / t * 100


def yoy_phrase(current: Any, previous: Any, decimals: int = 2, unit: str = "万元", than: str = "较上年") -> str:
    """The year-on-year phrase: 较上年增加0.86万元 / 较上年减少…万元 / 与上年持平.

    The comparison is made on the rounded figures the reader sees, so two amounts
    printed the same are called 持平.
    """
    cur = round_half_up(to_decimal(current) or Decimal(0), decimals)
    prev = round_half_up(to_decimal(previous) or Decimal(0), decimals)
    diff = cur - prev
    if diff == 0:
        return than.replace("较", "与", 1) + "持平" if than.startswith("较") else f"{than}持平"
    verb = "增加" if diff > 0 else "减少"
    return f"{than}{verb}{fmt_money(abs(diff), decimals)}{unit}"


def clean_inline(value: Any) -> str:
    """Free text for one line: XML-illegal characters removed, whitespace collapsed."""
    if value is None:
        return ""
    text = _XML_ILLEGAL.sub("", str(value))
    return " ".join(text.split())


def clean_text(value: Any) -> str:
    """The department's free text, safe for the document, one paragraph per line.

    Line breaks (\\r\\n, \\n, Excel's Alt+Enter) become paragraph marks that the
    renderer expands into separate paragraphs with the same style; blank lines are
    dropped. Characters XML 1.0 forbids are removed so the document stays valid.
    """
    if value is None:
        return ""
    text = _XML_ILLEGAL.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.replace("\t", " ").split()) for line in text.split("\n")]
    return PARAGRAPH_MARK.join(line for line in lines if line)


def join_cn(items: list[str], sep: str = "、") -> str:
    """Join phrases with the Chinese enumeration comma (or ``sep``)."""
    return sep.join(i for i in items if i)


def circled(n: int) -> str:
    """①, ②, … for list items (plain "(n)" past 20)."""
    return _CIRCLED[n - 1] if 1 <= n <= len(_CIRCLED) else f"({n})"


def cn_number(n: int) -> str:
    """Chinese numeral for heading numbers: 1 → 一, 10 → 十, 12 → 十二, 21 → 二十一."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n - 10] if n > 10 else "")
    if n < 100:
        tens, ones = divmod(n, 10)
        return _CN_DIGITS[tens] + "十" + (_CN_DIGITS[ones] if ones else "")
    return str(n)
