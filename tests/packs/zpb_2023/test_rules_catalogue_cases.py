"""Every rule of the packaged catalogue: one case where it fires (at the expected cell)
and one where it stays silent, on variants of the clean sample.

A rule added to rules.yaml without a case here fails ``test_every_rule_has_a_case``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from test_rules_support import clean_base, typed_counts_spec, variant

from xlproc.rules import load_catalogue, run_checks

CAT = load_catalogue()

# rule id → (failing change, where it must show, passing change)
# A change is a dict with keys values / table_edits / problems / previous (a change of
# the base used as last year's workbook, year 2022) / typed_counts.
# The anchor is a field id or (table id, row index, column id).
CASES: dict[str, tuple[dict[str, Any], Any, dict[str, Any]]] = {
    "parse.cell": ({"problems": {"staff_quota": "约10"}}, "staff_quota", {"values": {"staff_quota": "32"}}),
    "required": (
        {"values": {"filler": None}},
        "filler",
        {"values": {"score_innovation_applicable": "否", "score_innovation_score": None}},
    ),
    "formula.typed_over": (
        {"formulas": {"sanbao_total_plan": "999.00"}},
        "sanbao_total_plan",
        {"formulas": {"sanbao_total_plan": "="}},  # typed over, but the same figure: formula.removed
    ),
    "formula.removed": (
        {"formulas": {"project_count": "="}},
        "project_count",
        {"formulas": {"project_count": "99"}},  # a different figure: formula.typed_over
    ),
    "formula.own_input": (
        {"own_formulas": {"staff_quota": "30+2"}},
        "staff_quota",
        {"values": {"staff_quota": "32"}},
    ),
    "format.decimals": (
        {"values": {"returned_to_treasury": "3.261"}},
        "returned_to_treasury",
        {"values": {"nontax_plan": "0.2000"}},
    ),
    "form.sign": ({"values": {"temp_payment_new": "-3.00"}}, "temp_payment_new", {"values": {"temp_payment_new": "0"}}),
    "form.part_of": ({"values": {"cash": "230.00"}}, "cash", {"values": {"cash": "36.80"}}),
    "form.within_whole": (
        {"table_edits": {"projects": {0: {"amount": "700.00"}}}},
        ("projects", 0, "amount"),
        {"table_edits": {"projects": {0: {"amount": "60.00"}}}},
    ),
    "form.pairs": (
        {"values": {"other_fees_meeting_actual": "1.20"}},
        "other_fees_meeting_actual",
        {"values": {"other_fees_meeting_actual": "1.00"}},
    ),
    "form.same_fact": ({"values": {"vehicle_count": "3"}}, "vehicle_count", {"values": {"vehicle_count": "2"}}),
    "form.year_dates": (
        {"values": {"report_date": date(2023, 12, 31)}},
        "report_date",
        {"values": {"fill_date": date(2024, 12, 30)}},
    ),
    "form.list_count": (
        {"values": {"internal_org_count": "4"}},
        "internal_org_count",
        {
            "values": {
                "internal_org_names": "办公室，法治督察股；公共法律服务管理股\n社区矫正管理股、人民参与和促进法治股"
            }
        },
    ),
    "form.copied_within": (
        {"values": {"sangong_car_operation_actual": "3.12", "sangong_reception_actual": "0.45"}},
        "sangong_car_operation_actual",
        {"values": {"sangong_car_operation_actual": "3.12"}},
    ),
    "basic.staff": ({"values": {"staff_actual": "40"}}, "staff_actual", {"values": {"staff_actual": "32"}}),
    "basic.staff_split": ({"values": {"staff_admin": "20"}}, "staff_admin", {"values": {"staff_admin": None}}),
    "basic.vehicles": ({"values": {"vehicle_actual": "3"}}, "vehicle_actual", {"values": {"vehicle_quota": None}}),
    "scores.range": (
        {"values": {"score_policy_score": "5"}},
        "score_policy_score",
        {"values": {"score_policy_score": "0"}},
    ),
    # text_claim (xlproc/rules/claims.py): what the department wrote against its figures
    "claim.no_deduction_with_problems": (
        {"values": {"problems_found": "部分绩效指标未完成，一个项目未按合同约定支付资金。"}},
        "problems_found",
        {"values": {"problems_found": "部分绩效指标未完成。", "score_problems_score": "1"}},
    ),
    "claim.full_marks_with_problems": (
        {"values": {"score_innovation_score": "3"}},
        "problems_found",
        {"values": {"score_innovation_score": "3", "problems_found": "无"}},
    ),
    "claim.strict_control_with_rise": (
        {"values": {"sangong_car_operation_actual": "3.50"}},
        "frugal_note",
        {"values": {"sangong_car_operation_actual": "3.50", "frugal_note": "公用经费按定额安排。"}},
    ),
    "claim.full_with_sanbao_shortfall": (
        {"values": {"policy_note": "“三保”支出全部足额保障。", "sanbao_wage_actual": "400.00"}},
        "policy_note",
        {"values": {"policy_note": "“三保”支出全部足额保障。"}},
    ),
    "claim.no_new_assets_with_budget": (
        {"values": {"assets_note": "本年无新增资产，资产账实相符。"}},
        "assets_note",
        {"values": {"assets_note": "本年无新增资产。", "new_asset_budget": "0", "new_assets_amount": "0"}},
    ),
    "claim.no_procurement_with_contracts": (
        {"values": {"procurement_note": "本年不存在政府采购事项。"}},
        "procurement_note",
        {"values": {"procurement_note": "本年不存在政府采购事项。", "procurement_budget": "0", "contract_total": "0"}},
    ),
    "scores.total": (
        {"typed_counts": {"score_total": "90.0"}},
        "score_total",
        {"typed_counts": {"score_total": "80.0"}},
    ),
    "scores.not_applicable": (
        {"values": {"score_innovation_applicable": "否", "score_innovation_score": "1"}},
        "score_innovation_score",
        {"values": {"score_innovation_applicable": "否", "score_innovation_score": "0"}},
    ),
    "policy.special_funds": (
        {"values": {"special_funds_plan": None}},
        "special_funds_plan",
        {"values": {"special_funds_has": "否", "special_funds_plan": None}},
    ),
    "policy.sanbao_paid": (
        {"values": {"sanbao_wage_actual": "400.00"}},
        "sanbao_wage_actual",
        {"values": {"sanbao_wage_actual": "420.50"}},
    ),
    "policy.sanbao_within_budget": (
        {"values": {"sanbao_wage_plan": "700.00", "sanbao_wage_actual": "700.00"}},
        "sanbao_total_plan",
        {"values": {"sanbao_wage_plan": "500.00", "sanbao_wage_actual": "500.00"}},
    ),
    "policy.nontax_plan": ({"values": {"nontax_plan": "0.30"}}, "nontax_plan", {"values": {"nontax_plan": "0.2000"}}),
    "policy.nontax_deviation": (
        {"table_edits": {"nontax": {0: {"actual": "0.10"}}}},
        ("nontax", 0, "actual"),
        {"table_edits": {"nontax": {0: {"actual": "0.15"}}}},  # 25% short: below 30%
    ),
    "sangong.within_budget": (
        {"values": {"sangong_car_operation_actual": "3.60"}},
        "sangong_car_operation_actual",  # the row that carries the excess (culprit.py)
        {"values": {"sangong_car_operation_actual": "3.10"}},
    ),
    "sangong.row_within_budget": (
        {"values": {"sangong_car_operation_actual": "3.10"}},
        "sangong_car_operation_actual",
        {"values": {"sangong_car_operation_actual": "3.00"}},
    ),
    "sangong.unit_slip": (
        {"values": {"sangong_reception_actual": "380.00"}},
        "sangong_reception_actual",
        {"values": {"sangong_reception_actual": "0.60"}},
    ),
    "sangong.budget_match": (
        {"values": {"budget_sangong": "3.60"}},
        "budget_sangong",
        {"values": {"budget_sangong": "3.5"}},
    ),
    "sangong.category": (
        {"values": {"budget_sangong": "6.50"}},  # 3.50 + 会议费 1.00 + 培训费 2.00
        "budget_sangong",
        {"values": {"budget_sangong": "6.60"}},  # wrong, but not the 会议费/培训费 pattern
    ),
    "sangong.change_reason": (
        {"values": {"sangong_car_operation_prev_actual": "2.00", "sangong_change_reason": None}},
        "sangong_change_reason",
        {"values": {"sangong_car_operation_prev_actual": "2.00", "sangong_change_reason": "车辆老旧，维修费增加"}},
    ),
    "budget.income_sum": (
        {"values": {"budget_income_total": "627.70"}},
        "budget_income_total",
        {"values": {"budget_income_other": "0.2"}},
    ),
    "budget.balance": (
        {"values": {"budget_exp_221": "23.70"}},
        "budget_income_total",
        {"values": {"budget_exp_221": "23.6"}},
    ),
    "budget.procurement": (
        {"values": {"procurement_budget": "700.00"}},
        "procurement_budget",
        {"values": {"procurement_budget": "627.60"}},
    ),
    "budget.new_assets": (
        {"values": {"new_assets_amount": "0"}},
        "new_assets_amount",
        {"values": {"new_assets_amount": "0", "new_asset_budget": "0"}},
    ),
    "budget.unit_slip": (
        {"values": {"returned_to_treasury": "32600.00"}},
        "returned_to_treasury",
        {"values": {"returned_to_treasury": "3000.00"}},  # 4.78 × the budget: below the factor 5
    ),
    "final.income_sum": (
        {"values": {"final_income_total": "598.55"}},
        "final_income_total",
        {"values": {"final_income_total": "598.45"}},
    ),
    "final.exp_over_income": (
        {"values": {"final_income_fiscal": "580.00", "final_income_total": "580.25", "final_carryover": "5.00"}},
        "final_exp_total_amount",
        {"values": {"final_income_fiscal": "580.00", "final_income_total": "580.25", "final_carryover": "12.00"}},
    ),
    "final.share": (
        {"values": {"final_exp_208_share": "8.94"}},
        "final_exp_208_share",
        {"values": {"final_exp_208_share": "8.50"}},
    ),
    "final.share_total": (
        {"values": {"final_exp_208_share": "8.94"}},
        "final_exp_208_share",  # the transposed share itself (culprit.py), not the first share
        {"values": {"final_exp_208_share": "8.50"}},
    ),  # Σ 100.01
    "finance.assets_sum": ({"values": {"assets_total": "230.00"}}, "assets_total", {"values": {"other_assets": None}}),
    "finance.current_assets": (
        {"values": {"current_assets": "30.00"}},
        "current_assets",
        {"values": {"current_assets": None}},
    ),
    "finance.liabilities": (
        {"values": {"other_payables": "13.00"}},
        "other_payables",
        {"values": {"other_payables": None}},
    ),
    "finance.debt_ratio": (
        {"values": {"declared_debt_ratio": "5.60"}},
        "declared_debt_ratio",
        {"values": {"declared_debt_ratio": None}},
    ),
    "finance.cash_ratio": (
        {"values": {"declared_cash_ratio": "300.00"}},
        "declared_cash_ratio",
        {"values": {"declared_cash_ratio": "299.30"}},
    ),
    "finance.current_ratio": (
        {"values": {"declared_current_ratio": "320.00"}},
        "declared_current_ratio",
        {"values": {"current_assets": None}},
    ),
    "finance.newness_ratio": (
        {"values": {"declared_newness_ratio": "60.00"}},
        "declared_newness_ratio",
        {"values": {"fixed_assets_original": None}},
    ),
    "finance.net_le_original": (
        {"values": {"fixed_assets_original": "180.00"}},
        "fixed_assets_net",
        {"values": {"fixed_assets_original": "185.60", "declared_newness_ratio": None}},
    ),
    "procurement.sme": ({"values": {"sme_contract": "90.00"}}, "sme_contract", {"values": {"sme_contract": "80.45"}}),
    "procurement.micro": (
        {"values": {"micro_contract": "75.00"}},
        "micro_contract",
        {"values": {"micro_contract": "72.30"}},
    ),
    "projects.monitored": (
        {"table_edits": {"projects": {2: {"midyear": None}}}},
        ("projects", 2, "midyear"),
        {"table_edits": {"projects": {2: {"midyear": "未开展"}}}},
    ),
    "projects.monitor_buckets": (
        {
            "typed_counts": {
                "monitored_count": 5,
                "monitor_ge50_count": 3,
                "monitor_30_50_count": 1,
                "monitor_lt30_count": 0,
                "monitor_none_count": 0,
            }
        },
        "monitor_ge50_count",
        {
            "typed_counts": {
                "monitored_count": 5,
                "monitor_ge50_count": 3,
                "monitor_30_50_count": 1,
                "monitor_lt30_count": 1,
                "monitor_none_count": 0,
            }
        },
    ),
    "projects.yearend": (
        {"table_edits": {"projects": {3: {"yearend": None}}}},
        ("projects", 3, "yearend"),
        {"table_edits": {"projects": {3: {"yearend": "否"}}}},
    ),
    "projects.self_eval": (
        {
            "typed_counts": {
                "self_eval_count": 2,
                "self_eval_full_count": 2,
                "self_eval_95_count": 1,
                "self_eval_90_95_count": 1,
                "self_eval_lt90_count": 0,
            }
        },
        "self_eval_full_count",
        {
            "typed_counts": {
                "self_eval_count": 2,
                "self_eval_full_count": 1,
                "self_eval_95_count": 2,
                "self_eval_90_95_count": 0,
                "self_eval_lt90_count": 0,
            }
        },
    ),
    "prev.identity": ({"previous": {"dept_name": "示例区统计局"}}, "dept_name", {"previous": {}}),
    "prev.sangong": (
        {"previous": {"sangong_car_operation_actual": "3.20"}},
        "sangong_car_operation_prev_actual",
        {"previous": {"sangong_car_operation_actual": "3.12", "sangong_reception_actual": "0.45"}},
    ),
    "prev.final_vs_budget": (
        {"previous": {"budget_income_total": "900.00"}},
        "final_income_total",
        {"previous": {"budget_income_total": "650.00"}},
    ),
    "prev.copied": (
        {"previous": {"sangong_car_operation_actual": "2.86", "sangong_reception_actual": "0.38"}},
        "sangong_car_operation_actual",
        {"previous": {"sangong_car_operation_actual": "2.86", "other_fees_meeting_actual": "0.70"}},
    ),
    "prev.final_copied": (
        {"previous": {"final_income_fiscal": "598.20"}, "same_final": True},
        "final_income_total",
        {"previous": {"final_income_fiscal": "560.00", "final_income_total": "560.25"}},
    ),
}

_PREVIOUS_BASE = {
    "year": "2022",
    "sangong_car_operation_actual": "3.12",
    "sangong_reception_actual": "0.45",
    "sangong_abroad_actual": "0",
    "sangong_car_purchase_actual": "0",
    "budget_income_total": "620.00",
    "final_income_fiscal": "570.00",
    "final_income_total": "570.25",
    "final_exp_204_amount": "480.00",
}


def _run(change: dict[str, Any]):
    base = clean_base()
    catalogue = CAT
    if "typed_counts" in change:
        spec = typed_counts_spec(list(change["typed_counts"]))
        catalogue = load_catalogue(spec=spec)
        sub = variant(base, values=change["typed_counts"], spec=spec)
    else:
        sub = variant(
            base,
            change.get("values"),
            change.get("table_edits"),
            change.get("problems"),
            formulas=change.get("formulas"),
            own_formulas=change.get("own_formulas"),
        )
    previous = None
    if "previous" in change:
        prev_values = dict(_PREVIOUS_BASE)
        if change.get("same_final"):
            for k in ("final_income_fiscal", "final_income_total", "final_exp_204_amount"):
                prev_values.pop(k)
        prev_values.update(change["previous"])
        previous = variant(base, prev_values)
    return sub, run_checks(sub, catalogue, previous=previous)


def _cell(sub, anchor: Any) -> str:
    if isinstance(anchor, tuple):
        tid, idx, col = anchor
        td = sub.tables[tid]
        return td.cell(int(td.rows[idx]["row"]), col)
    return sub.fields[anchor].cell


def test_every_rule_has_a_case():
    ids = [i.id for i in CAT.infos]
    assert sorted(ids) == sorted(CASES), set(ids) ^ set(CASES)


def test_clean_sample_passes_every_rule():
    base = clean_base()
    report = run_checks(base, CAT)
    assert report.flatten() == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires(rule_id: str):
    change, anchor, _ = CASES[rule_id]
    sub, report = _run(change)
    assert (rule_id, _cell(sub, anchor)) in report.flatten(), report.flatten()
    hit = next(f for f in report.findings if f.rule_id == rule_id)
    assert hit.message and "{" not in hit.message
    assert hit.cells and hit.cells[0].cell == hit.cell


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes(rule_id: str):
    _, _, change = CASES[rule_id]
    _, report = _run(change)
    assert [t for t in report.flatten() if t[0] == rule_id] == []


def test_year_left_at_last_years_value_points_at_the_year():
    """年度 typed as last year while the dates say otherwise: one finding, on 年度."""
    sub, report = _run({"values": {"year": "2022"}})
    hits = [f for f in report.findings if f.rule_id == "form.year_dates"]
    assert [f.cell for f in hits] == [sub.fields["year"].cell], report.flatten()
    assert "2023" in hits[0].message and "沿用" in hits[0].message


def test_sangong_row_that_took_in_the_meeting_and_training_fees():
    """The 三公 grid's budget total = 收支预算's 三公 budget + 会议费/培训费: the row that took them in."""
    sub, report = _run({"values": {"sangong_car_operation_budget": "6.00"}})
    hits = [f for f in report.findings if f.rule_id == "sangong.category"]
    assert [f.cell for f in hits] == [sub.fields["sangong_car_operation_budget"].cell], report.flatten()
    assert "公务用车运行维护费" in hits[0].message and "3.00万元" in hits[0].message
