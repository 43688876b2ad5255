"""Hypothesis properties of the engine on real-shaped submissions (variants of the clean sample).

- parts that sum to the declared total within rounding never fire;
- a total off by more than the derived tolerance fires exactly once;
- reordering the parts changes nothing;
- blanks, text, odd values anywhere never raise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from test_rules_support import clean_base, variant

from xlproc.rules import load_catalogue, run_checks
from xlproc.rules.intervals import round_half_up

CAT = load_catalogue()
INCOME_ROWS = ["general", "fund", "soe", "special_account", "other", "carryover"]
RULE = "budget.income_sum"
# 6 parts and the declared total, each ± 0.005: the derived tolerance.
TOLERANCE = Decimal("0.035")

true_amounts = st.lists(
    st.integers(min_value=0, max_value=10**8).map(lambda n: Decimal(n).scaleb(-4)), min_size=6, max_size=6
)


def _income(parts: list[Decimal], total: Decimal) -> dict[str, Decimal]:
    values = {f"budget_income_{r}": p for r, p in zip(INCOME_ROWS, parts, strict=True)}
    values["budget_income_total"] = total
    return values


def _fired(values: dict) -> list[tuple[str, str]]:
    report = run_checks(variant(clean_base(), values), CAT)
    return [t for t in report.flatten() if t[0] == RULE]


@given(true_amounts)
def test_parts_summing_within_rounding_never_fire(amounts):
    typed = [round_half_up(a, 2) for a in amounts]
    total = round_half_up(sum(amounts, Decimal(0)), 2)
    assert _fired(_income(typed, total)) == []


@given(true_amounts, st.integers(min_value=4, max_value=10**6), st.booleans())
def test_total_off_beyond_tolerance_fires_exactly_once(amounts, off_cents, negative):
    typed = [round_half_up(a, 2) for a in amounts]
    delta = Decimal(off_cents).scaleb(-2) * (-1 if negative else 1)
    assert abs(delta) > TOLERANCE
    total = sum(typed, Decimal(0)) + delta
    base = clean_base()
    assert _fired(_income(typed, total)) == [(RULE, base.fields["budget_income_total"].cell)]


@given(true_amounts, st.permutations(range(6)), st.integers(min_value=-300, max_value=300))
def test_reordering_parts_changes_nothing(amounts, order, off_cents):
    typed = [round_half_up(a, 2) for a in amounts]
    total = sum(typed, Decimal(0)) + Decimal(off_cents).scaleb(-2)
    a = run_checks(variant(clean_base(), _income(typed, total)), CAT)
    b = run_checks(variant(clean_base(), _income([typed[i] for i in order], total)), CAT)
    assert a.flatten() == b.flatten()
    assert [f.message for f in a.findings] == [f.message for f in b.findings]


_FIELDS = sorted(f.id for f in clean_base().spec.fields.values() if not f.compute)
odd_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        ["", " ", "—", "约10", "1,234.50", "１２３", "12万元", "否", "是", "≥50%", "NaN", "-Infinity", "-0", "1E+5"]
    ),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12, places=6),
    st.integers(min_value=-(10**9), max_value=10**9).map(Decimal),
    st.just(Decimal(0)),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)),
)


@given(
    st.dictionaries(st.sampled_from(_FIELDS), odd_values, max_size=40),
    st.dictionaries(st.sampled_from(_FIELDS), st.text(max_size=8), max_size=5),
    st.dictionaries(st.sampled_from(["amount", "midyear", "yearend", "self_score", "name"]), odd_values, max_size=4),
)
def test_blanks_and_text_never_raise(values, problems, project_row):
    sub = variant(clean_base(), values, {"projects": {0: project_row}}, problems)
    report = run_checks(sub, CAT, previous=variant(clean_base(), values))
    ids = set(CAT.rule_ids) | set(CAT.previous_rule_ids)
    for f in report.findings:
        assert f.rule_id in ids and isinstance(f.message, str) and f.message.strip()
    assert report.to_dict()["counts"]["error"] == sum(f.severity == "error" for f in report.findings)
