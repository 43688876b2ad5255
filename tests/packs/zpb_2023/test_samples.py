"""The bundled samples: up to date with their data, and holding what they claim to hold.

The 网信办 sample must carry every figure of the example report in its field; each
mistake sample must carry its mistake (and, through the rule catalogue, trigger the
intended finding); the clean sample must pass every check.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlproc.cli.app import app
from xlproc.reading.workbook import read_workbook

ROOT = Path(__file__).resolve().parents[3]
INBOX = ROOT / "samples" / "inbox"
PREVIOUS = ROOT / "samples" / "previous"
D = Decimal


def _load_make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "scripts" / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


make_samples = _load_make_samples()


def _sample(prefix: str, folder: Path = INBOX) -> Path:
    matches = sorted(folder.glob(f"{prefix}_*.xlsx"))
    assert len(matches) == 1, f"expected one sample {prefix}_* in {folder}, found {matches}"
    return matches[0]


@pytest.fixture(scope="module")
def wangxin():
    return read_workbook(_sample("01"))


# --- up to date ---------------------------------------------------------------------


def test_checked_in_samples_match_their_data():
    assert make_samples.stale_samples() == []


def test_check_mode_reports_stale_missing_and_extra_files(tmp_path: Path, capsys):
    make_samples.build(tmp_path)
    assert make_samples.main(["--check", "--out", str(tmp_path)]) == 0
    inbox = tmp_path / "inbox"
    clean, other = _sample("02", inbox), _sample("04", inbox)
    shutil.copyfile(other, clean)  # a workbook whose content no longer matches its data
    (tmp_path / "previous" / _sample("03", PREVIOUS).name).unlink()
    (inbox / "99_多余的工作簿.xlsx").write_bytes(other.read_bytes())
    assert make_samples.main(["--check", "--out", str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    assert f"inbox/{clean.name}: differs from its data file" in printed
    assert f"previous/{_sample('03', PREVIOUS).name}: missing" in printed
    assert "inbox/99_多余的工作簿.xlsx: not produced by any data file" in printed


def test_every_data_file_becomes_one_workbook():
    samples = make_samples.load_samples()
    inbox = sorted(s.filename for s in samples if s.folder == "inbox")
    previous = sorted(s.filename for s in samples if s.folder == "previous")
    assert inbox == sorted(p.name for p in INBOX.glob("*.xlsx"))
    assert previous == sorted(p.name for p in PREVIOUS.glob("*.xlsx"))
    assert len(inbox) >= 6 and len(previous) == 2


@pytest.mark.parametrize(
    ("value", "field_type", "expected"),
    [
        ("197.06", "money", D("197.06")),
        ("0.0044", "money", D("0.0044")),
        ("7", "count", 7),
        ("2023", "year", 2023),
        ("2023-12-31", "date", date(2023, 12, 31)),
        (date(2023, 12, 31), "date", date(2023, 12, 31)),
        ({"raw": "约10"}, "count", "约10"),
        ({"raw": "1,234.50"}, "money", "1,234.50"),
        ("是", "enum", "是"),
    ],
)
def test_convert_value_by_field_type(value, field_type, expected):
    got = make_samples.convert_value(value, field_type, "here")
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "field_type"),
    [
        (197.06, "money"),
        ("约10", "count"),
        ("９", "count"),
        ("7.5", "count"),
        ("2023/12/31", "date"),
        ({"x": 1}, "text"),
    ],
)
def test_convert_value_refuses_what_would_not_be_exact(value, field_type):
    with pytest.raises(make_samples.SampleDataError):
        make_samples.convert_value(value, field_type, "here")


def test_unknown_field_in_data_file_is_refused(tmp_path: Path):
    (tmp_path / "01_x.yaml").write_text("values:\n  dept_name: 某部门\n  no_such_field: '1'\n", encoding="utf-8")
    with pytest.raises(make_samples.SampleDataError, match="no_such_field"):
        make_samples.load_samples(tmp_path)


# --- the 网信办 sample: every figure of the example report in its field -------------

SEED_FIELDS = {
    # 基本情况
    "dept_name": "中共保定市徐水区委网络安全和信息化委员会办公室",
    "year": D("2023"),
    "org_level": "正科级",
    "unit_nature": "行政单位",
    "funding_form": "财政拨款",
    "internal_org_count": D("2"),
    "internal_org_names": "网络综合管理股、网络宣传和信息化股",
    "staff_quota": D("7"),
    "staff_actual": D("6"),
    "vehicle_actual": D("1"),
    # 考核得分
    "score_policy_score": D("4.5"),
    "score_budgeting_score": D("12"),
    "score_execution_score": D("17"),
    "score_performance_score": D("23"),
    "score_assets_score": D("4"),
    "score_debt_score": D("2"),
    "score_transparency_score": D("7.5"),
    "score_informatization_score": D("11.5"),
    "score_innovation_score": D("0"),
    "score_problems_score": D("0"),
    "score_total": D("81.5"),
    "score_converted": D("100"),
    # 重大政策落实
    "special_funds_has": "否",
    "sanbao_livelihood_plan": D("0"),
    "sanbao_livelihood_actual": D("0"),
    "sanbao_wage_plan": D("141.92"),
    "sanbao_wage_actual": D("141.92"),
    "sanbao_operation_plan": D("93.42"),
    "sanbao_operation_actual": D("93.42"),
    "sanbao_total_plan": D("235.34"),
    "fee_items_count": D("0"),
    "fines_has": "否",
    "invoice_writeoff_date": date(2023, 12, 31),
    "nontax_plan_total": D("0.01"),
    "nontax_actual_total": D("0.0044"),
    # 三公经费
    "sangong_car_operation_prev_actual": D("0.93"),
    "sangong_car_operation_budget": D("2.43"),
    "sangong_car_operation_actual": D("1.79"),
    "sangong_reception_budget": D("0"),
    "sangong_total_prev_actual": D("0.93"),
    "sangong_total_budget": D("2.43"),
    "sangong_total_actual": D("1.79"),
    "other_fees_meeting_budget": D("0"),
    "other_fees_training_budget": D("0"),
    # 收支预算
    "budget_income_general": D("197.05"),
    "budget_income_fund": D("0"),
    "budget_income_special_account": D("0"),
    "budget_income_other": D("0.01"),
    "budget_income_carryover": D("0"),
    "budget_income_total": D("197.06"),
    "budget_exp_201": D("163.00"),
    "budget_exp_204": D("0"),
    "budget_exp_205": D("0"),
    "budget_exp_206": D("0"),
    "budget_exp_207": D("0"),
    "budget_exp_208": D("17.08"),
    "budget_exp_210": D("5.04"),
    "budget_exp_221": D("11.94"),
    "budget_exp_total": D("197.06"),
    "budget_sangong": D("2.43"),
    "nontax_plan": D("0.01"),
    "new_asset_budget": D("0.15"),
    "new_asset_purpose": "购置办公设备",
    "carryover_balance": D("0"),
    "returned_to_treasury": D("3861.27"),
    # 决算 (2022)
    "final_income_fiscal": D("191.47"),
    "final_income_other": D("0.01"),
    "final_income_total": D("191.48"),
    "final_income_other_note": "利息收入",
    "final_exp_201_amount": D("168.11"),
    "final_exp_201_share": D("87.40"),
    "final_exp_208_amount": D("11.62"),
    "final_exp_208_share": D("6.04"),
    "final_exp_210_amount": D("4.55"),
    "final_exp_210_share": D("2.37"),
    "final_exp_221_amount": D("8.06"),
    "final_exp_221_share": D("4.20"),
    "final_exp_total_amount": D("192.34"),
    # 财务报告
    "report_date": date(2022, 12, 31),
    "assets_total": D("23.80"),
    "cash": D("1.20"),
    "other_receivables": D("0"),
    "fixed_assets_net": D("22.60"),
    "liabilities_total": D("0.79"),
    "current_liabilities": D("0.79"),
    "other_payables": D("0.79"),
    "declared_debt_ratio": D("3.32"),
    "declared_cash_ratio": D("152.20"),
    "declared_current_ratio": D("152.20"),
    "declared_newness_ratio": D("57.87"),
    "financial_risk": "无财务风险",
    # 政府采购
    "procurement_budget": D("210.00"),
    "contract_total": D("53.70"),
    "sme_contract": D("53.70"),
    "micro_contract": D("53.70"),
    "sme_share": D("100"),
    "micro_share": D("100"),
    "poverty_reserved": D("0"),
    "complaints_count": D("0"),
    # 预算执行
    "alerts_count": D("0"),
    "violations": "否",
    "temp_payment_new": D("0"),
    "direct_funds": D("0"),
    "spending_progress": D("100"),
    # 项目台账 (derived from the register)
    "project_count": D("3"),
    "pre_eval_count": D("2"),
    "monitored_count": D("3"),
    "monitor_ge50_count": D("1"),
    "monitor_30_50_count": D("0"),
    "monitor_lt30_count": D("1"),
    "monitor_none_count": D("1"),
    "achieved_count": D("2"),
    "achieved_amount": D("67.28"),
    "not_achieved_count": D("0"),
    "not_achieved_amount": D("0"),
    "self_eval_count": D("2"),
    "self_eval_full_count": D("1"),
    "self_eval_95_count": D("2"),
    "self_eval_90_95_count": D("0"),
    "self_eval_lt90_count": D("0"),
    "key_eval_count": D("0"),
    "gov_investment_count": D("0"),
    # 资产管理
    "equipment_count": D("41"),
    "furniture_count": D("6"),
    "vehicle_count": D("1"),
    "land_count": D("0"),
    "building_count": D("0"),
    "construction_count": D("0"),
    "new_assets_amount": D("0"),
    "asset_tagging_done": "是",
    "asset_reconciled": "是",
    # 债务、透明度、信息化
    "bond_projects_count": D("0"),
    "bond_amount": D("0"),
    "disclosure_done": "是",
    "disclosure_where": "区政府门户网站公开专栏",
    "security_incidents": D("0"),
}


@pytest.mark.parametrize(("field_id", "expected"), list(SEED_FIELDS.items()), ids=list(SEED_FIELDS))
def test_wangxin_sample_holds_seed_figure(wangxin, field_id, expected):
    value = wangxin.value(field_id)
    assert value == expected and type(value) is type(expected), f"{field_id}: {value!r} != {expected!r}"


def test_wangxin_sample_reads_without_problems(wangxin):
    assert wangxin.problems == []
    assert wangxin.fields["final_carryover"].value is None  # the report states no 结转: the check must see that


def test_wangxin_tables_hold_the_seed_rows(wangxin):
    goals = wangxin.tables["goals"].records()
    assert [(g["function"], g["activity"], g["project"]) for g in goals] == [
        ("网络安全", "网络舆情监测", "机关运行保障经费"),
        ("网络宣传", "网络宣传活动", "机关运行保障经费"),
    ]
    results = [(a["name"], a["result"]) for a in wangxin.tables["achievements"].records()]
    assert results == [("网络安全", "舆情发现率达到95%"), ("网络宣传", "组织系列培训宣传活动4次")]
    nontax = wangxin.tables["nontax"].records()
    assert [(n["item"], n["plan"], n["actual"]) for n in nontax] == [("利息收入", D("0.01"), D("0.0044"))]
    projects = {p["name"]: p for p in wangxin.tables["projects"].records()}
    assert list(projects) == ["电子政务网组建与维护", "网络舆情监测服务", "网络安全宣传周活动"]
    assert projects["电子政务网组建与维护"]["amount"] == D("53.70")
    assert projects["网络舆情监测服务"]["amount"] == D("13.58")
    third = projects["网络安全宣传周活动"]
    assert (third["midyear"], third["yearend"], third["self_score"]) == ("未开展", None, None)
    assert len(wangxin.tables["key_tasks"].records()) == 1


def test_wangxin_texts_are_not_copied_from_the_seed(wangxin):
    # shared/ lies beside the checkout (for developers and for CI)
    seed = ROOT.parent / "shared" / "seed" / "000_5b946c685a46ba99.txt"
    if not seed.exists():
        pytest.skip("example report not available")
    published = seed.read_text(encoding="utf-8")
    spec = wangxin.spec
    texts = [(f.id, f.value) for f in wangxin.fields.values() if spec.fields[f.id].type == "longtext" and f.value]
    for tid in ("goals", "achievements", "key_tasks"):
        for record in wangxin.tables[tid].records():
            for cid, value in record.items():
                # names (text columns) and short factual results (舆情发现率达到95%) may keep the report's words
                longtext = cid != "row" and spec.tables[tid].column(cid).type == "longtext"
                if longtext and (tid, cid) != ("achievements", "result") and isinstance(value, str):
                    texts.append((f"{tid}.{cid}", value))
    n = 12  # no run of 12 characters of our prose appears verbatim in the published report
    copied = [(where, t[i : i + n]) for where, t in texts for i in range(len(t) - n + 1) if t[i : i + n] in published]
    assert len(texts) > 20 and copied == []


def test_extract_json_of_wangxin_sample_matches_golden(golden):
    path = _sample("01")
    result = CliRunner().invoke(app, ["extract", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == str(path)
    data["source"] = path.relative_to(ROOT).as_posix()
    golden("extract/01_wangxin.json", data)


# --- the mistake samples carry their mistakes ----------------------------------------


def test_sum_mistakes_sample():
    sub = read_workbook(_sample("04"))
    parts = sum(
        sub.value(f"budget_income_{r}") for r in ("general", "fund", "soe", "special_account", "other", "carryover")
    )
    assert (sub.value("budget_income_total"), parts, sub.value("budget_exp_total")) == (
        D("982.92"),
        D("982.82"),
        D("982.82"),
    )
    shares = [sub.value(f"final_exp_{c}_share") for c in ("207", "208", "210", "221")]
    assert shares[1] == D("10.52") and sum(shares) == D("100.27")


def test_unit_slip_sample():
    sub = read_workbook(_sample("05"))
    assert sub.value("sangong_reception_actual") == D("3860.00")
    assert sub.value("sangong_reception_budget") == D("2.00")
    assert sub.value("returned_to_treasury") == D("125600")
    assert sub.value("budget_income_total") == D("1527.80")


def test_text_and_missing_sample():
    sub = read_workbook(_sample("06"))
    assert [(p.field_id, p.cell, p.raw) for p in sub.problems] == [("staff_quota", "B12", "约10")]
    assert sub.value("staff_actual") == D("9")  # full-width ９, read with certainty
    assert sub.value("budget_exp_201") == D("1234.50")  # "1,234.50" typed as text
    assert sub.value("budget_exp_total") == sub.value("budget_income_total") == D("1261.30")
    assert sub.fields["sanbao_wage_actual"].is_blank


def test_previous_year_samples():
    justice, justice_prev = read_workbook(_sample("02")), read_workbook(_sample("02", PREVIOUS))
    town, town_prev = read_workbook(_sample("03")), read_workbook(_sample("03", PREVIOUS))
    assert justice_prev.department == justice.department and town_prev.department == town.department
    assert (justice_prev.value("year"), town_prev.value("year")) == (D("2022"), D("2022"))
    rows = ("abroad", "car_purchase", "car_operation", "reception")
    for r in rows:
        assert justice.value(f"sangong_{r}_prev_actual") == justice_prev.value(f"sangong_{r}_actual")
    differing = [r for r in rows if town.value(f"sangong_{r}_prev_actual") != town_prev.value(f"sangong_{r}_actual")]
    assert differing == ["reception"]


# --- the rule catalogue on the samples ------------------------------------------------
# Each sample is asserted to yield exactly its intended findings: the clean ones none,
# the mistake ones their mistake and nothing else. Findings are located by field id
# (or table.column), so a layout change does not break these tests.


def _located(sub, report) -> list[tuple[str, str, str]]:
    """(severity, rule id, field id or table.column) of every finding."""
    by_cell = {(f.sheet, f.cell): fid for fid, f in sub.fields.items()}
    for tid, table in sub.tables.items():
        for row in table.frame["row"]:
            for cid, letter in table.columns.items():
                by_cell[(table.sheet, f"{letter}{row}")] = f"{tid}.{cid}"
    return sorted(
        (f.severity, f.rule_id, by_cell.get((f.sheet, f.cell), f"{f.sheet}!{f.cell}")) for f in report.findings
    )


EXPECTED_FINDINGS = {
    # the example report: RULES.md "What the example report must yield", and nothing else
    "01": [
        ("error", "final.share", "final_exp_221_share"),  # 4.20% declared, 4.19% computed
        ("error", "projects.yearend", "projects.yearend"),  # 3 projects, 2 answered at year end
        ("warning", "budget.new_assets", "new_assets_amount"),  # 0.15 budget, no new assets
        ("warning", "budget.procurement", "procurement_budget"),  # 210.00 > 197.06
        ("warning", "budget.unit_slip", "returned_to_treasury"),  # 3861.27 vs 197.06
        ("warning", "final.exp_over_income", "final_exp_total_amount"),  # 192.34 > 191.48
        ("warning", "policy.nontax_deviation", "nontax.actual"),  # 0.0044 vs 0.01
        ("warning", "policy.sanbao_within_budget", "sanbao_total_plan"),  # 235.34 > 197.06
        # what the department wrote against its figures (text_claim, issue 10.5)
        ("warning", "claim.full_marks_with_problems", "problems_found"),  # 换算100 beside listed problems
        ("warning", "claim.no_deduction_with_problems", "problems_found"),  # 扣分0 beside 没有全部完成
        ("warning", "claim.strict_control_with_rise", "frugal_note"),  # 从严控制 beside 0.93 → 1.79
    ],
    "02": [],  # clean
    "03": [],  # clean within the year (the cross-year slip is below)
    "04": [
        ("error", "budget.balance", "budget_income_total"),
        ("error", "budget.income_sum", "budget_income_total"),
        ("error", "final.share", "final_exp_208_share"),
        ("error", "final.share_total", "final_exp_208_share"),  # 10.52 for 10.25: transposed digits
    ],
    "05": [
        ("error", "sangong.within_budget", "sangong_reception_actual"),  # the row carrying the excess
        ("warning", "budget.unit_slip", "returned_to_treasury"),
        ("warning", "sangong.row_within_budget", "sangong_reception_actual"),
        ("warning", "sangong.unit_slip", "sangong_reception_actual"),
    ],
    "06": [
        ("error", "parse.cell", "staff_quota"),
        ("error", "required", "sanbao_wage_actual"),
    ],
    "07": [
        ("warning", "basic.staff", "staff_actual"),
        ("warning", "policy.nontax_deviation", "nontax.actual"),
        ("warning", "policy.sanbao_paid", "sanbao_wage_actual"),
        ("warning", "sangong.change_reason", "sangong_change_reason"),
    ],
}


@pytest.mark.parametrize("prefix", sorted(EXPECTED_FINDINGS))
def test_sample_yields_exactly_its_intended_findings(prefix):
    from xlproc.rules import run_checks

    sub = read_workbook(_sample(prefix))
    assert _located(sub, run_checks(sub)) == sorted(EXPECTED_FINDINGS[prefix])


def test_every_inbox_sample_has_expected_findings_listed():
    assert sorted(p.name[:2] for p in INBOX.glob("*.xlsx")) == sorted(EXPECTED_FINDINGS)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("02", []),  # last year's 本年实际数 match this year's 上年实际数
        ("03", [("warning", "prev.sangong", "sangong_reception_prev_actual")]),  # 4.20 vs 4.02
    ],
)
def test_previous_year_samples_cross_check(prefix, expected):
    from xlproc.rules import run_checks

    sub, prev = read_workbook(_sample(prefix)), read_workbook(_sample(prefix, PREVIOUS))
    located = _located(sub, run_checks(sub, previous=prev))
    assert located == sorted(EXPECTED_FINDINGS[prefix] + expected)
    assert _located(prev, run_checks(prev)) == []  # last year's workbooks are clean themselves
