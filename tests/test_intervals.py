"""Interval numbers: rounding tolerance derived from displayed decimals (RULES.md)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlproc.rules.intervals import Num, Undefined, compare, num_sum, round_half_up

D = Decimal


def shown(x: str, d: int = 2) -> Num:
    return Num.shown(D(x), d)


def test_shown_interval_from_spec_decimals_or_more():
    n = shown("197.06")
    assert (n.lo, n.hi) == (D("197.055"), D("197.065"))
    four = shown("0.0044")  # more decimals than the spec's 2: its own precision
    assert (four.lo, four.hi, four.decimals) == (D("0.00435"), D("0.00445"), 4)
    assert shown("163", 2).lo == D("162.995")


def test_cash_ratio_of_the_example_overlaps_the_declared_figure():
    ratio = (shown("1.20") / shown("0.79")).pct()
    assert D("150.30") < ratio.lo < D("150.32") and D("153.49") < ratio.hi < D("153.51")
    assert compare(shown("152.20"), "==", ratio) is True


def test_housing_share_of_the_example_does_not():
    total = num_sum([shown("168.11"), shown("11.62"), shown("4.55"), shown("8.06")])
    share = (shown("8.06") / total).pct()
    assert compare(shown("4.20"), "==", share) is False
    assert compare(shown("4.19"), "==", share) is True


def test_touching_intervals_are_different_figures():
    # 2.43 and 2.44 stand for [2.425, 2.435) and [2.435, 2.445): never equal.
    assert compare(shown("2.44"), "==", shown("2.43")) is False
    assert compare(shown("2.44"), "<=", shown("2.43")) is False
    assert compare(shown("2.43"), "<=", shown("2.43")) is None  # rounding cannot tell


def test_thresholds_compare_face_values():
    assert compare(shown("0.00"), ">", Num.exact(0)) is False
    assert compare(shown("0.15"), ">", Num.exact(0)) is True
    assert compare(Num.exact(3), "==", Num.exact(2)) is False


def test_division_by_an_interval_containing_zero_is_undefined():
    with pytest.raises(Undefined):
        _ = shown("1.00") / shown("0.00")
    with pytest.raises(Undefined):
        _ = shown("1.00") / Num.exact(0)


def test_round_half_up_like_excel():
    assert round_half_up(D("2.345"), 2) == D("2.35")
    assert round_half_up(D("-2.345"), 2) == D("-2.35")
    assert round_half_up(D("0.0044"), 2) == D("0.00")


cents = st.integers(min_value=-(10**9), max_value=10**9).map(lambda n: D(n).scaleb(-4))


@given(st.lists(cents, min_size=1, max_size=12))
def test_rounded_parts_always_overlap_the_rounded_total(true_parts):
    parts = [shown(str(round_half_up(p, 2))) for p in true_parts]
    total = shown(str(round_half_up(sum(true_parts, D(0)), 2)))
    assert compare(total, "==", num_sum(parts)) is True


@given(st.lists(cents, min_size=1, max_size=12), st.randoms())
def test_order_of_parts_does_not_matter(true_parts, rnd):
    parts = [shown(str(round_half_up(p, 2))) for p in true_parts]
    shuffled = parts[:]
    rnd.shuffle(shuffled)
    a, b = num_sum(parts), num_sum(shuffled)
    assert (a.lo, a.hi, a.mid) == (b.lo, b.hi, b.mid)


@given(cents, cents)
def test_interval_contains_every_value_that_rounds_to_the_figure(x, y):
    fx = round_half_up(x, 2)
    nx = shown(str(fx))
    assert nx.lo <= x < nx.hi or nx.lo < x <= nx.hi
    product = nx * shown(str(round_half_up(y, 2)))
    assert product.lo <= x * y <= product.hi


def test_quantize_uses_half_up():
    assert D("0.125").quantize(D("0.01"), rounding=ROUND_HALF_UP) == round_half_up(D("0.125"), 2)
