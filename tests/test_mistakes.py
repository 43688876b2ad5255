"""The mistake corpus (tests/mistakes): every detectable planted mistake is found, at
its cell for most, and no benign variant raises anything.

A deterministic sample of the corpus (one case per kind and clean sample, every
benign variant); benchmarks/accuracy.py runs the whole corpus and prints the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mistakes import corpus

BASES = {b.key: b for b in corpus.load_bases()}


def _run(cases: list[corpus.Planted], tmp_path: Path) -> list[corpus.Outcome]:
    return [corpus.evaluate(p, corpus.materialize(p, tmp_path, BASES[p.base].sub), BASES) for p in cases]


def test_every_kind_is_planted_and_most_are_detectable():
    cases = corpus.generate(per_kind=1, office=0)
    kinds = {p.kind for p in cases if not p.benign}
    assert kinds == set(corpus.KINDS)
    assert sum(p.detectable for p in cases if not p.benign) >= 0.9 * sum(1 for p in cases if not p.benign)
    assert corpus.generate(per_kind=1, office=0)[5].values == cases[5].values  # deterministic


def test_detectable_mistakes_are_found_and_benign_variants_raise_nothing(tmp_path):
    cases = corpus.generate(per_kind=1, seed=7, office=0)
    outcomes = _run(cases, tmp_path)
    missed = [(o.case.id, o.case.sites) for o in outcomes if o.case.detectable and not o.case.benign and not o.found]
    alarms = [(o.case.id, o.new_findings) for o in outcomes if o.case.benign and o.new_findings]
    assert missed == []
    assert alarms == []
    found = [o for o in outcomes if o.case.detectable and not o.case.benign]
    at_cell = sum(o.at_cell for o in found) / len(found)
    assert at_cell >= 0.85, [(o.case.id, o.new_findings[:1]) for o in found if not o.at_cell]


@pytest.mark.parametrize(
    ("site", "typed", "hint", "total"),
    [
        ("budget_income_general", "621.40", "填写为 621.40万元，疑为 612.40万元 的相邻数字颠倒", "收入合计 627.60"),
        ("budget_income_carryover", "1500.00", "是 15.00万元 的 100 倍", "收入合计 627.60"),
        ("cash", "368000.00", "“元”误填为“万元”", "资产总额 224.80"),
        ("sanbao_wage_plan", "4205.00", "420.50万元 的 10 倍", "收入预算合计 627.60"),
    ],
)
def test_the_slip_is_named_at_the_mistyped_cell_with_the_total_in_the_message(site, typed, hint, total, tmp_path):
    b = BASES["02"]
    p = corpus._case(b, "slip", 0, {site: corpus.Decimal(typed)}, sites=[site])
    out = _run([p], tmp_path)[0]
    assert out.found and out.at_cell, out.new_findings
    here = [m for m in out.new_findings if m.split(":")[0].endswith("!" + b.sub.fields[site].cell)]
    assert any(hint in m and total in m for m in here), out.new_findings


@pytest.mark.parametrize(
    ("base", "site", "typed", "meant", "checks"),
    [
        # 货币资金 read by the assets sum, the current-assets range and the cash ratio
        ("03", "cash", "317.02", "285.60万元", 3),
        # the car budget row read by the 三公 budget sum, its row's limit and the table's limit
        ("03", "sangong_car_operation_budget", "8.14", "11.00万元", 3),
    ],
)
def test_a_figure_changed_to_any_value_is_named_when_several_checks_agree(base, site, typed, meant, checks, tmp_path):
    """No slip signature (not a transposition, not a decimal shift): the value that makes the
    failed total hold also makes every other failed check on that cell hold, and no other
    cell does as much — so every one of those findings names the cell and the value."""
    b = BASES[base]
    out = _run([corpus._case(b, "changed", 0, {site: corpus.Decimal(typed)}, sites=[site])], tmp_path)[0]
    cell = b.sub.fields[site].cell
    named = [m for m in out.new_findings if m.split(":")[0].endswith("!" + cell)]
    assert len(named) == checks and len(out.new_findings) == checks, out.new_findings
    assert all(f"填为 {meant} 时各项均相符" in m for m in named), named


def test_a_slip_that_breaks_only_shares_is_named_at_the_amount(tmp_path):
    """A 决算 amount with its decimal point shifted moves the computed total and so every 占比;
    no sum is entered to fail, yet the shares together single out the amount."""
    b = BASES["03"]
    site = "final_exp_221_amount"
    out = _run([corpus._case(b, "shares", 0, {site: corpus.Decimal("15.89")}, sites=[site])], tmp_path)[0]
    cell = b.sub.fields[site].cell
    assert len(out.new_findings) > 3 and all(m.split(":")[0].endswith("!" + cell) for m in out.new_findings)
    assert all("是 158.90万元 的 1/10，疑为小数点错位" in m for m in out.new_findings), out.new_findings


def test_a_figure_only_one_total_reads_stays_on_the_total(tmp_path):
    """A part changed that only its total reads: any part could be the slip, so none is named."""
    b = BASES["02"]
    out = _run(
        [corpus._case(b, "changed", 0, {"budget_exp_221": corpus.Decimal("19.35")}, sites=["budget_exp_221"])], tmp_path
    )[0]
    assert out.found and not out.at_cell and not any("同时指向此格" in m for m in out.new_findings), out.new_findings


def test_mistakes_and_variations_through_libreoffice(soffice, tmp_path):
    """Re-saved by LibreOffice: still found at the cell; a plain re-save raises nothing."""
    cases = [p for p in corpus.generate(per_kind=1, office=1) if p.office]
    picked = [p for p in cases if p.benign or p.kind in ("digit_transposition", "text_in_number")][:4]
    outcomes = _run(picked, tmp_path)
    assert [o.case.id for o in outcomes if o.case.benign and o.new_findings] == []
    assert [o.case.id for o in outcomes if not o.case.benign and o.case.detectable and not o.found] == []
