"""End to end on real workbooks: the sample inbox, generated workbooks, LibreOffice re-saves.

Findings of every sample are kept as readable golden JSON (tests/golden/rules/), so a
reviewer sees what a rule change does to each department.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_rules_support import SAMPLES, sample_path

from xlproc.reading.workbook import read_workbook
from xlproc.rules import load_catalogue, run_checks

CAT = load_catalogue()
INBOX = sorted((SAMPLES / "inbox").glob("*.xlsx"))


def _projection(report) -> list[dict]:
    return [
        {"rule_id": f.rule_id, "severity": f.severity, "cell": f"{f.sheet}!{f.cell}", "message": f.message}
        for f in report.findings
    ]


@pytest.mark.parametrize("path", INBOX, ids=[p.name[:2] for p in INBOX])
def test_sample_findings_match_golden(path: Path, golden):
    previous = sorted((SAMPLES / "previous").glob(f"{path.name[:2]}_*.xlsx"))
    prev = read_workbook(previous[0]) if previous else None
    report = run_checks(read_workbook(path), CAT, previous=prev)
    golden(f"rules/sample_{path.name[:2]}.json", {"department": report.department, "findings": _projection(report)})


def test_wangxinban_yields_what_rules_md_requires():
    sub = read_workbook(sample_path("网络安全"))
    report = run_checks(sub, CAT)
    cell = {fid: sub.fields[fid].cell for fid in sub.fields}
    yearend_blank = sub.tables["projects"].cell(int(sub.tables["projects"].rows[2]["row"]), "yearend")
    must = {
        ("final.exp_over_income", cell["final_exp_total_amount"]),  # 192.34 > 191.48
        ("final.share", cell["final_exp_221_share"]),  # 4.20 vs 4.19
        ("budget.unit_slip", cell["returned_to_treasury"]),  # 3861.27 vs 197.06
        ("budget.procurement", cell["procurement_budget"]),  # 210.00 > 197.06
        ("policy.sanbao_within_budget", cell["sanbao_total_plan"]),  # 235.34 > 197.06
        ("projects.yearend", yearend_blank),  # 3 projects, 2 answered at year end
        ("budget.new_assets", cell["new_assets_amount"]),  # 0.15 with no new assets
    }
    flat = set(report.flatten())
    assert must <= flat, must - flat
    nontax = [f for f in report.findings if f.rule_id == "policy.nontax_deviation"]
    assert len(nontax) == 1 and "0.0044" in nontax[0].message and "0.0100" in nontax[0].message
    slip = next(f for f in report.findings if f.rule_id == "budget.unit_slip")
    assert "19.59 倍" in slip.message and "0.39万元" in slip.message
    must_not = {
        "finance.cash_ratio",
        "finance.current_ratio",
        "finance.debt_ratio",
        "finance.newness_ratio",
        "budget.income_sum",
        "budget.balance",
        "scores.range",
        "final.share_total",
        "final.income_sum",
    }
    assert not must_not & {r for r, _ in flat}
    assert [f.cell for f in report.findings if f.rule_id == "final.share"] == [cell["final_exp_221_share"]]
    assert sub.fields["score_converted"].value == 100


def test_clean_sample_has_no_error_and_no_warning():
    report = run_checks(read_workbook(sample_path("司法局")), CAT)
    assert report.counts["error"] == 0 and report.counts["warning"] == 0


def test_generated_workbook_with_text_in_number_cells(make_workbook):
    from test_rules_support import clean_base

    base = clean_base()
    inputs = {fid for fid, f in base.spec.fields.items() if f.is_input}
    values = {fid: fv.value for fid, fv in base.fields.items() if fid in inputs and fv.value is not None}
    values = {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in values.items()}
    values.update({"staff_quota": "约10", "budget_income_total": "627.70", "returned_to_treasury": "１２３"})
    tables = {
        tid: [{k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in r.items() if k != "row"} for r in td.rows]
        for tid, td in base.tables.items()
    }
    sub = read_workbook(make_workbook(values, tables))
    report = run_checks(sub, CAT)
    cell = {fid: fv.cell for fid, fv in sub.fields.items()}
    assert report.flatten() == sorted(
        [
            ("parse.cell", cell["staff_quota"]),
            ("budget.income_sum", cell["budget_income_total"]),
            ("budget.balance", cell["budget_income_total"]),
        ],
        key=lambda t: [f.rule_id for f in report.findings].index(t[0]),
    )
    # 编制数 unreadable: the staff rule is skipped, not reported as missing
    assert not [f for f in report.findings if f.rule_id in ("basic.staff", "required")]


@pytest.mark.libreoffice
def test_libreoffice_resave_keeps_the_findings(lo_resave):
    src = sample_path("网络安全")
    before = run_checks(read_workbook(src), CAT)
    after = run_checks(read_workbook(lo_resave(src)), CAT)
    assert after.flatten() == before.flatten()
    assert [f.message for f in after.findings] == [f.message for f in before.findings]
