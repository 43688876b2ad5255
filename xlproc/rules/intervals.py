"""Interval numbers over Decimal: the rounding tolerance of every comparison.

A figure shown with d decimals stands for any true value in [x − ½·10⁻ᵈ, x + ½·10⁻ᵈ]
(docs/rules.md, after XBRL Calculations 1.1). Sums, differences, products and quotients of
such figures are intervals too; two figures are "equal" when their intervals overlap.
Each ``Num`` also carries its face value (``mid``: the arithmetic on the figures as
typed) for messages and for comparisons against exact thresholds.

Everything stays in ``Decimal``; a division by an interval that contains zero is
``Undefined`` (the rule is skipped), never an exception that escapes the engine.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
_HALF_UNITS = {d: Decimal(5).scaleb(-(d + 1)) for d in range(0, 12)}


class Undefined(Exception):
    """An operation has no value (division by an interval containing zero)."""


class Num:
    """A figure as an interval [lo, hi] with its face value ``mid``.

    ``decimals`` is how many decimals the figure is shown with in messages.
    """

    __slots__ = ("decimals", "hi", "lo", "mid")

    def __init__(self, mid: Decimal, lo: Decimal, hi: Decimal, decimals: int = 2):
        self.mid = mid
        self.lo = lo
        self.hi = hi
        self.decimals = decimals

    # -- construction -------------------------------------------------------------

    @classmethod
    def exact(cls, value: Decimal | int, decimals: int = 0) -> Num:
        """A value without rounding uncertainty (counts, constants, 满分 from the rubric)."""
        v = value if isinstance(value, Decimal) else Decimal(value)
        return cls(v, v, v, decimals)

    @classmethod
    def shown(cls, value: Decimal, decimals: int) -> Num:
        """A typed figure: ± half a unit of its last decimal (or of the spec's, if coarser)."""
        exp = value.as_tuple().exponent
        own = -exp if isinstance(exp, int) and exp < 0 else 0
        d = max(decimals, own)
        half = _HALF_UNITS.get(d) or Decimal(5).scaleb(-(d + 1))
        return cls(value, value - half, value + half, d)

    @property
    def is_exact(self) -> bool:
        return self.lo == self.hi

    def __repr__(self) -> str:
        return f"Num({self.mid} ∈ [{self.lo}, {self.hi}])"

    # -- arithmetic ---------------------------------------------------------------

    def __add__(self, other: Num) -> Num:
        return Num(self.mid + other.mid, self.lo + other.lo, self.hi + other.hi, max(self.decimals, other.decimals))

    def __sub__(self, other: Num) -> Num:
        return Num(self.mid - other.mid, self.lo - other.hi, self.hi - other.lo, max(self.decimals, other.decimals))

    def __neg__(self) -> Num:
        return Num(-self.mid, -self.hi, -self.lo, self.decimals)

    def __mul__(self, other: Num) -> Num:
        products = (self.lo * other.lo, self.lo * other.hi, self.hi * other.lo, self.hi * other.hi)
        return Num(self.mid * other.mid, min(products), max(products), max(self.decimals, other.decimals))

    def __truediv__(self, other: Num) -> Num:
        if other.lo <= ZERO <= other.hi:
            raise Undefined("division by an interval containing zero")
        quotients = (self.lo / other.lo, self.lo / other.hi, self.hi / other.lo, self.hi / other.hi)
        return Num(self.mid / other.mid, min(quotients), max(quotients), 2)

    def __abs__(self) -> Num:
        if self.lo >= ZERO:
            return self
        if self.hi <= ZERO:
            return -self
        return Num(abs(self.mid), ZERO, max(-self.lo, self.hi), self.decimals)

    def pct(self) -> Num:
        """× 100, shown with 2 decimals (a ratio as a percentage)."""
        h = HUNDRED
        return Num(self.mid * h, self.lo * h, self.hi * h, 2)

    # -- comparisons (three-valued: True, False, or None = cannot tell) -------------

    def overlaps(self, other: Num) -> bool:
        """Could the two true values be equal? (the equality test of every rule)

        A figure rounded half up stands for a half-open interval [x − h, x + h), so two
        figures whose intervals merely touch (2.43 and 2.44) are different: the test is
        strict unless one side is exact.
        """
        if self.lo == self.hi or other.lo == other.hi:
            return self.lo <= other.hi and other.lo <= self.hi
        return self.lo < other.hi and other.lo < self.hi

    def gap(self, other: Num) -> Decimal:
        """How far apart the intervals are (0 when they overlap)."""
        if self.hi < other.lo:
            return other.lo - self.hi
        if other.hi < self.lo:
            return self.lo - other.hi
        return ZERO


def num_min(a: Num, b: Num) -> Num:
    return Num(min(a.mid, b.mid), min(a.lo, b.lo), min(a.hi, b.hi), max(a.decimals, b.decimals))


def num_max(a: Num, b: Num) -> Num:
    return Num(max(a.mid, b.mid), max(a.lo, b.lo), max(a.hi, b.hi), max(a.decimals, b.decimals))


def num_sum(values) -> Num:
    """Σ of Nums (an empty sum is an exact 0)."""
    mid = lo = hi = ZERO
    d = 0
    for v in values:
        mid += v.mid
        lo += v.lo
        hi += v.hi
        if v.decimals > d:
            d = v.decimals
    return Num(mid, lo, hi, d)


def compare(a: Num, op: str, b: Num) -> bool | None:
    """Three-valued comparison of two figures.

    ``==`` / ``!=``: equal when the intervals overlap (a rounding difference is no
    difference), so equality is never "cannot tell". Ordering: when either side is
    exact (a threshold such as 0, a count, a 满分) the face values are compared — "0.00
    entered" means zero, not "maybe 0.004". Otherwise True/False only when the whole
    intervals are ordered, None when rounding could explain either answer.
    """
    if op in ("==", "!="):
        eq = a.overlaps(b)  # equal within rounding counts as equal
        return eq if op == "==" else not eq
    if a.is_exact or b.is_exact:
        x, y = a.mid, b.mid
        return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
    # Rounding intervals are half-open, so touching intervals are already ordered.
    below = a.hi <= b.lo  # a < b for every pair of true values
    above = a.lo >= b.hi  # a > b for every pair
    if op in ("<", "<="):
        return True if below else (False if above else None)
    return True if above else (False if below else None)


# Wide enough for any float a cell can hold (up to ~1.8e308) with its decimals, so that
# formatting an absurd figure never raises InvalidOperation.
WIDE_CONTEXT = Context(prec=400)


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    """四舍五入 to ``decimals`` places, as Excel's ROUND does."""
    if not value.is_finite():
        return value
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP, context=WIDE_CONTEXT)
