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
        ("budget_income_general", "621.40", "612.40 的相邻数字颠倒", "收入合计 627.60"),
        ("budget_income_carryover", "1500.00", "15.00 的 100 倍", "收入合计 627.60"),
        ("cash", "368000.00", "“元”误填为“万元”", "资产总额 224.80"),
        ("sanbao_wage_plan", "4205.00", "420.50 的 10 倍", "收入预算合计 627.60"),
    ],
)
def test_the_slip_is_named_at_the_mistyped_cell_with_the_total_in_the_message(site, typed, hint, total, tmp_path):
    b = BASES["02"]
    p = corpus._case(b, "slip", 0, {site: corpus.Decimal(typed)}, sites=[site])
    out = _run([p], tmp_path)[0]
    assert out.found and out.at_cell, out.new_findings
    here = [m for m in out.new_findings if m.split(":")[0].endswith("!" + b.sub.fields[site].cell)]
    assert any(hint in m and total in m for m in here), out.new_findings


def test_mistakes_and_variations_through_libreoffice(soffice, tmp_path):
    """Re-saved by LibreOffice: still found at the cell; a plain re-save raises nothing."""
    cases = [p for p in corpus.generate(per_kind=1, office=1) if p.office]
    picked = [p for p in cases if p.benign or p.kind in ("digit_transposition", "text_in_number")][:4]
    outcomes = _run(picked, tmp_path)
    assert [o.case.id for o in outcomes if o.case.benign and o.new_findings] == []
    assert [o.case.id for o in outcomes if not o.case.benign and o.case.detectable and not o.found] == []
