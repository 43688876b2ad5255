"""build_context on submissions constructed directly (no workbook): the sentences and tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from xlproc.form.spec import default_spec
from xlproc.report import CONTEXT_KEYS, ReportOptions, build_context
from xlproc.results import CellRef, CheckReport, Finding
from xlproc.submission import FieldValue, Submission, TableData

D = Decimal


def make_sub(values: dict[str, Any], tables: dict[str, list[dict[str, Any]]] | None = None) -> Submission:
    """A Submission as the reader would return it: every spec field, blanks as None."""
    spec = default_spec()
    fields = {}
    for fid, f in spec.fields.items():
        value = values.get(fid)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = D(str(value))
        fields[fid] = FieldValue(fid, f.label, spec.sheet_name(f.sheet), "B1", value, computed=f.compute is not None)
    tabs = {}
    for tid, t in spec.tables.items():
        rows = (tables or {}).get(tid, [])
        cols = [c.id for c in t.columns]
        records = [{**{c: r.get(c) for c in cols}, "row": 10 + i} for i, r in enumerate(rows)]
        tabs[tid] = TableData(t, spec.sheet_name(t.sheet), records, {c: chr(66 + i) for i, c in enumerate(cols)})
    return Submission(Path("x.xlsx"), spec, spec.form_id, spec.version, fields, tabs)


def test_context_provides_exactly_the_declared_keys():
    ctx = build_context(make_sub({"dept_name": "甲局", "year": 2023}))
    assert set(ctx) == set(CONTEXT_KEYS)
    assert ctx["title"] == "甲局2023年度部门整体绩效管理自评报告"
    assert ctx["prev_year"] == "2022"


def test_tables_drop_empty_rows_and_renumber():
    goals = [
        {"function": "网络安全", "activity": "舆情监测", "target": "及时处置", "project": "运行经费"},
        {"function": None, "activity": "  ", "target": None, "project": None},
        {"function": "网络宣传", "activity": "宣传周", "target": "进校园\n进社区", "project": "运行经费"},
    ]
    ctx = build_context(make_sub({}, {"goals": goals}))
    assert [(r["no"], r["function"]) for r in ctx["goals"]] == [("1", "网络安全"), ("2", "网络宣传")]
    assert ctx["goals"][1]["target"] == "进校园\a进社区"
    assert ctx["achievements"] == []


def test_expenditure_classes_non_zero_only_unless_configured():
    values = {"budget_exp_201": 163, "budget_exp_208": "17.08", "budget_exp_204": 0, "budget_exp_total": "180.08"}
    values = {k: D(str(v)) for k, v in values.items()}
    expense = build_context(make_sub(values))["budgeting"]["expense"]
    assert "一般公共服务支出163.00万元、社会保障和就业支出17.08万元" in expense
    assert "公共安全支出" not in expense
    listed = build_context(make_sub(values), options=ReportOptions(list_zero_classes=True))["budgeting"]["expense"]
    assert "公共安全支出0.00万元" in listed


def test_sangong_yoy_and_nothing_to_report_sentences():
    ctx = build_context(
        make_sub(
            {
                "sangong_total_actual": D("1.79"),
                "sangong_total_prev_actual": D("0.93"),
                "sangong_change_reason": "车辆维修",
            }
        )
    )
    assert "较上年增加0.86万元" in ctx["policy"]["sangong"]
    assert ctx["policy"]["sangong_reason"] == "车辆维修"
    assert ctx["policy"]["special_funds"] == "本部门本年无专项资金安排。"
    assert ctx["policy"]["sanbao_lines"][0] == "（1）保基本民生：本部门无保基本民生资金安排。"
    assert ctx["debt"]["sentence"] == "本部门本年未申报债券项目，不涉及债券资金管理。"
    assert ctx["innovation"]["sentence"] and not ctx["innovation"]["note"]
    flat = build_context(make_sub({"sangong_total_actual": D("1.00"), "sangong_total_prev_actual": D("1.004")}))
    assert "与上年持平" in flat["policy"]["sangong"]


def test_department_notes_replace_the_nothing_sentence():
    ctx = build_context(make_sub({"innovation_note": "参与了票据电子化试点。", "debt_note": "无债务。"}))
    assert ctx["innovation"] == {"sentence": "", "note": "参与了票据电子化试点。"}
    assert ctx["debt"]["sentence"] == ""


def test_declared_ratio_wins_over_computed():
    values = {"cash": D("1.20"), "current_liabilities": D("0.79"), "cash_ratio": D("151.8987")}
    line = build_context(make_sub(values))["execution"]["finance"][2]
    assert "现金比率151.90%" in line
    line = build_context(make_sub({**values, "declared_cash_ratio": D("152.20")}))["execution"]["finance"][2]
    assert "现金比率152.20%" in line


def test_four_decimal_fields_and_scores():
    values = {
        "nontax_plan_total": D("0.01"),
        "nontax_actual_total": D("0.0044"),
        "score_policy_score": D("4.5"),
        "score_problems_score": D("0"),
        "score_debt_applicable": "否",
        "score_total": D("81.5"),
        "score_converted": D("100"),
    }
    ctx = build_context(make_sub(values, {"nontax": [{"item": "利息收入", "plan": D("0.01"), "actual": D("0.0044")}]}))
    assert ctx["policy"]["nontax"] == "本年非税收入计划0.01万元，实际上缴0.0044万元，其中：利息收入0.0044万元。"
    s = ctx["scores"]
    assert (s["total"], s["converted"]) == ("81.5", "100")
    assert s["policy"]["result"] == "得分4.5分"
    assert s["problems"]["result"] == "扣分0分"
    assert s["debt"]["result"] == "不适用"
    assert s["base"] == "79.5"  # 81.5 less the inapplicable 债务管理 (2)
    assert len(s["rows"]) == len(default_spec().rubric.categories)


def test_findings_appendix_only_when_a_report_is_given():
    sub = make_sub({})
    assert build_context(sub)["findings"]["enabled"] is False
    finding = Finding(
        "sum.budget",
        "warning",
        "收支预算",
        "C12",
        "收入合计与各项之和不符 <核对>",
        (CellRef("收支预算", "C12"),),
        explanation="已说明",
    )
    report = CheckReport("x.xlsx", findings=[finding, Finding("a", "error", "决算", "C5", "错误")])
    f = build_context(sub, report)["findings"]
    assert f["enabled"] and f["title"] == "附件：审核情况"
    rows = {r["severity"]: r for r in f["rows"]}
    assert set(rows) == {"提示性", "强制性"} and [r["no"] for r in f["rows"]] == ["1", "2"]
    assert rows["提示性"]["message"] == "收入合计与各项之和不符 <核对>（单位说明：已说明）"
    assert "强制性问题1条、提示性问题1条（其中单位已说明1条）" in f["summary"]


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def test_every_department_text_field_reaches_the_report():
    spec = default_spec()
    texts = [f for f in spec.fields.values() if f.type == "longtext" or f.id.endswith(("_note", "_reason", "_purpose"))]
    values = {f.id: f"甲{f.id}乙" for f in texts}
    values.update({f"score_{c.id}_score": D("1") for c in spec.rubric.categories})
    values.update({"new_asset_budget": D("1"), "nontax_plan": D("1"), "final_income_other": D("1")})
    found = "\n".join(_strings(build_context(make_sub(values))))
    missing = [f.id for f in texts if f"甲{f.id}乙" not in found]
    assert missing == []
