"""The ``text_claim`` rules: the department's words against its figures, on real workbooks.

Each claim of issue 10.5 is written into the clean sample (司法局) as a clerk would
type it, the workbook is written by the project and read back, and the catalogue runs:
the rule fires at the text's cell when the figures contradict the words, and stays
silent when the figures support them (or the text only denies).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from script_modules import load_script

from xlproc.reading.workbook import read_workbook
from xlproc.rules import CatalogueError, load_catalogue, run_checks
from xlproc.template.fill import fill_workbook

ROOT = Path(__file__).resolve().parents[3]
CLEAN = ROOT / "samples" / "data" / "02_sifaju.yaml"


@pytest.fixture(scope="module")
def clean() -> Any:
    return load_script("make_samples").load_sample(CLEAN, "inbox")


@pytest.fixture
def findings(clean, tmp_path):
    """``findings(values, tables)`` → claim findings of the clean sample changed so, as (rule, field)."""
    counter = iter(range(1000))

    def run(values: dict[str, Any], tables: dict[str, Any] | None = None) -> list[tuple[str, str]]:
        data = dict(clean.values)
        data.update(values)
        tabs = {k: [dict(r) for r in v] for k, v in clean.tables.items()}
        for tid, rows in (tables or {}).items():
            for i, row in rows.items():
                tabs[tid][i].update(row)
        path = fill_workbook(tmp_path / f"wb{next(counter)}.xlsx", data, tabs, spec=clean.pack.spec)
        sub = read_workbook(path)
        by_cell = {(f.sheet, f.cell): fid for fid, f in sub.fields.items()}
        return sorted(
            (f.rule_id, by_cell.get((f.sheet, f.cell), f.cell))
            for f in run_checks(sub).findings
            if f.rule_id.startswith("claim.")
        )

    return run


def test_the_clean_sample_claims_nothing_its_figures_deny(findings):
    assert findings({}) == []


# (rule, field where it shows, values that make it fire, values that keep it silent)
CLAIMS = [
    (
        "claim.no_deduction_with_problems",
        "problems_found",
        {"problems_found": "部分绩效指标未完成；一个项目未按合同约定的节点支付资金。"},
        {"problems_found": "部分绩效指标未完成；一个项目未按合同约定的节点支付资金。", "score_problems_score": 1},
    ),
    (
        "claim.no_deduction_with_problems",
        "problems_note",
        {"problems_note": "年度审计指出一个项目资金没有按进度拨付。"},
        {"problems_note": "未被督查、审计等指出问题。"},
    ),
    (
        "claim.full_marks_with_problems",
        "problems_found",
        {"score_innovation_score": 3, "problems_found": "个别绩效指标设置不够细化。"},
        {"score_innovation_score": 3, "problems_found": "无"},
    ),
    (
        "claim.strict_control_with_rise",
        "frugal_note",
        {"sangong_car_operation_actual": "3.50", "frugal_note": "“三公”经费从严控制。"},
        {"sangong_car_operation_actual": "2.50", "frugal_note": "“三公”经费从严控制。"},
    ),
    (
        "claim.strict_control_with_rise",
        "sangong_change_reason",
        {"sangong_car_operation_actual": "3.50", "sangong_change_reason": "压减公务用车运行费用。"},
        {"sangong_car_operation_actual": "3.50", "sangong_change_reason": "车辆老化，维修费用增加。"},
    ),
    (
        "claim.full_with_sanbao_shortfall",
        "policy_note",
        {"policy_note": "“三保”支出足额保障。", "sanbao_wage_actual": "400.00"},
        {"policy_note": "“三保”支出足额保障。", "sanbao_wage_actual": "420.50"},
    ),
    (
        "claim.no_new_assets_with_budget",
        "assets_note",
        {"assets_note": "本年无新增资产。"},
        {"assets_note": "本年无新增资产。", "new_asset_budget": "0", "new_assets_amount": "0"},
    ),
    (
        "claim.no_procurement_with_contracts",
        "procurement_note",
        {"procurement_note": "本部门不存在政府采购行为。"},
        {"procurement_note": "采购需求由业务股室提出、办公室审核。"},
    ),
]


@pytest.mark.parametrize(("rule", "where", "fires", "silent"), CLAIMS, ids=[f"{c[0]}@{c[1]}" for c in CLAIMS])
def test_claim_fires_when_figures_deny_it_and_not_otherwise(findings, rule, where, fires, silent):
    assert (rule, where) in findings(fires)
    assert (rule, where) not in findings(silent)


def test_claim_in_a_table_column_and_message(tmp_path):
    """``text`` may name a table column; the message quotes the words that matched."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        """catalogue: {id: t, title: t}
rules:
  - id: claim.task_paid
    severity: warning
    title: 重点任务写按期拨付，但支出进度不足100%
    type: text_claim
    text: [key_tasks.status]
    pattern: "按期拨付|全部支付"
    when: spending_progress < 100
    message: "“{label}”写有“{match}”，但项目整体支出进度为 {spending_progress}%"
""",
        encoding="utf-8",
    )
    catalogue = load_catalogue(rules)
    sub = read_workbook(next((ROOT / "samples" / "inbox").glob("01_*.xlsx")))
    assert [f.rule_id for f in run_checks(sub, catalogue).findings] == []  # 网信办: progress 100
    values = load_script("make_samples").load_sample(ROOT / "samples" / "data" / "01_wangxinban.yaml", "inbox")
    data = dict(values.values, spending_progress="96.5")
    sub = read_workbook(fill_workbook(tmp_path / "w.xlsx", data, values.tables, spec=values.pack.spec))
    (hit,) = run_checks(sub, catalogue).findings
    assert hit.message == "“重点任务第1项落实情况”写有“按期拨付”，但项目整体支出进度为 96.50%"
    assert hit.cell == sub.tables["key_tasks"].cell(sub.tables["key_tasks"].rows[0]["row"], "status")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ("text: [cash]\n    pattern: 足额", "不是文字栏"),
        ("text: [frugal_note]\n    pattern: '(足额'", "不是有效的正则表达式"),
        ("text: [no_such_field]\n    pattern: 足额", "未知字段"),
        ("text: [frugal_note]\n    pattern: 足额\n    when: nosuch > 0", "nosuch"),
    ],
)
def test_bad_claim_rules_are_refused_in_chinese(tmp_path, params, error):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "catalogue: {id: t, title: t}\nrules:\n  - id: claim.x\n    severity: warning\n    title: x\n"
        f"    type: text_claim\n    message: x\n    {params}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match=error):
        load_catalogue(rules)


def test_a_claims_label_names_its_sheet_only_when_another_field_shares_it(spec) -> None:
    # (the shared labels are counted once per spec: rules/claims.py _shared_labels)
    from collections import Counter
    from types import SimpleNamespace

    from xlproc.rules.claims import _label

    counts = Counter(f.label for f in spec.fields.values())
    shared = [f for f in spec.fields.values() if counts[f.label] > 1]
    unique = next(f for f in spec.fields.values() if counts[f.label] == 1)
    assert len(shared) >= 2  # several 说明 fields
    ctx = SimpleNamespace(
        spec=spec, fields={f.id: SimpleNamespace(sheet=spec.sheet_name(f.sheet)) for f in [*shared, unique]}
    )
    for f in shared:
        assert _label(ctx, f.id) == f"{spec.sheet_name(f.sheet)}·{f.label}"
    assert _label(ctx, unique.id) == unique.label
