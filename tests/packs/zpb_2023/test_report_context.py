"""build_context on submissions constructed directly (no workbook): the wording's sentences and tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from xlproc.form.ops import compute_value
from xlproc.form.spec import default_spec
from xlproc.report import CONTEXT_KEYS, build_context
from xlproc.results import CellRef, CheckReport, Finding
from xlproc.submission import FieldValue, Submission, TableData

D = Decimal


def make_sub(
    values: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]] | None = None,
    problems: dict[str, str] | None = None,
) -> Submission:
    """A Submission as the reader would return it: every spec field, blanks as None.

    ``problems`` maps field ids to raw text the reader could not parse (value None + problem).
    """
    spec = default_spec()
    fields = {}
    frames = {tid: [dict(r) for r in (tables or {}).get(tid, [])] for tid in spec.tables}
    known: dict[str, Any] = {}
    for n, (fid, f) in enumerate(spec.fields.items(), 1):
        value = values.get(fid)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = D(str(value))
        if f.compute is not None and fid not in values:  # recomputed as the reader does
            value = compute_value(f, spec, known, frames)
        known[fid] = value
        raw = (problems or {}).get(fid)
        fields[fid] = FieldValue(
            fid,
            f.label,
            spec.sheet_name(f.sheet),
            f"B{n}",
            None if raw else value,
            raw=raw,
            problem="无法识别为数字" if raw else "",
            computed=f.compute is not None,
        )
    tabs = {}
    for tid, t in spec.tables.items():
        rows = (tables or {}).get(tid, [])
        cols = [c.id for c in t.columns]
        records = [{**{c: r.get(c) for c in cols}, "row": 10 + i} for i, r in enumerate(rows)]
        tabs[tid] = TableData(t, spec.sheet_name(t.sheet), records, {c: chr(66 + i) for i, c in enumerate(cols)})
    return Submission(Path("x.xlsx"), spec, spec.form_id, spec.version, fields, tabs)


def paragraphs(ctx: dict[str, Any]) -> list[str]:
    return [b["text"] for b in ctx["blocks"] if b["kind"] == "p"]


def text(ctx: dict[str, Any]) -> str:
    return "\n".join(b["text"] for b in ctx["blocks"])


def test_context_provides_exactly_the_declared_keys():
    ctx = build_context(make_sub({"dept_name": "甲局", "year": 2023}))
    assert set(ctx) == set(CONTEXT_KEYS)
    assert ctx["title"] == "甲局2023年度部门整体绩效管理自评报告"
    assert ctx["title_lines"] == "甲局\v2023年度部门整体绩效管理自评报告"  # broken after the department
    assert "2022年部门决算收入" not in text(ctx)  # blank 决算: no sentence built on it


def test_headings_are_numbered_by_level_and_restart_under_their_parent():
    ctx = build_context(make_sub({}))
    heads = [b["text"] for b in ctx["blocks"] if b["kind"] in ("h1", "h2", "h3")]
    assert heads[:3] == ["一、部门基本情况", "（一）机构设置和人员配备", "（二）部门整体绩效目标"]
    assert "二、部门绩效考核自评情况" in heads
    i = heads.index("（二）预算编制管理情况，得分未填报")
    assert heads[i + 1 : i + 3] == ["1.制度建设情况", "2.部门预算编制情况"]  # sub-items of the form, own headings
    assert "三、部门整体绩效目标实现情况" in heads


def test_tables_drop_empty_rows_and_renumber():
    goals = [
        {"function": "网络安全", "activity": "舆情监测", "target": "及时处置", "project": "运行经费"},
        {"function": None, "activity": "  ", "target": None, "project": None},
        {"function": "网络宣传", "activity": "宣传周", "target": "进校园\n进社区", "project": "运行经费"},
    ]
    ctx = build_context(make_sub({}, {"goals": goals}))
    rows = ctx["tables"]["goals"]
    assert [(r["no"], r["function"]) for r in rows] == [("1", "网络安全"), ("2", "网络宣传")]
    assert rows[1]["target"] == "进校园\a进社区"
    assert ctx["tables"]["achievements"] == []
    assert {"kind": "table", "name": "goals", "text": ""} in ctx["blocks"]
    assert "部门整体绩效目标实现情况未填报。" in paragraphs(ctx)


def test_expenditure_classes_non_zero_only():
    values = {"budget_exp_201": 163, "budget_exp_208": "17.08", "budget_exp_204": 0}
    ctx = build_context(make_sub({k: D(str(v)) for k, v in values.items()}))
    expense = next(p for p in paragraphs(ctx) if p.startswith("预算支出"))
    assert expense == "预算支出180.08万元，按功能分类为：一般公共服务支出163.00万元、社会保障和就业支出17.08万元。"


def test_sangong_year_on_year():
    ctx = build_context(
        make_sub(
            {
                "sangong_car_operation_actual": D("1.79"),
                "sangong_car_operation_prev_actual": D("0.93"),
                "sangong_change_reason": "车辆维修",
            }
        )
    )
    ps = paragraphs(ctx)
    assert "本年“三公”经费实际支出1.79万元，上年实际支出0.93万元，较上年增加0.86万元。" in ps
    assert "增减原因：车辆维修" in ps
    flat = build_context(
        make_sub({"sangong_car_operation_actual": D("1.00"), "sangong_car_operation_prev_actual": D("1.004")})
    )
    assert any("与上年持平" in p for p in paragraphs(flat))


def test_nothing_to_report_sentences_need_an_answer_of_zero():
    zero = {"special_funds_has": "否", "bond_projects_count": 0, "bond_amount": 0, "security_incidents": 0}
    ps = paragraphs(build_context(make_sub(zero)))
    assert "本部门本年无专项资金安排。" in ps
    assert "本部门本年未申报债券项目，不涉及债券资金。" in ps
    assert "本年财政内网终端未发生网络安全事件。" in ps
    blank = paragraphs(build_context(make_sub({})))  # the same sentences from blanks: never
    assert "专项资金情况未填报。" in blank and "债券项目情况未填报。" in blank and "网络安全事件情况未填报。" in blank
    assert not any("未发生" in p or "不存在" in p or "无专项" in p for p in blank)


def test_declared_ratio_wins_over_computed():
    values = {
        "assets_total": D("23.80"),
        "liabilities_total": D("0.79"),
        "cash": D("1.20"),
        "current_liabilities": D("0.79"),
    }
    line = next(p for p in paragraphs(build_context(make_sub(values))) if p.startswith("资产负债率"))
    assert "现金比率151.90%" in line
    values["declared_cash_ratio"] = D("152.20")
    line = next(p for p in paragraphs(build_context(make_sub(values))) if p.startswith("资产负债率"))
    assert "现金比率152.20%" in line


def test_four_decimal_fields_and_scores():
    values = {
        "score_policy_score": D("4.5"),
        "score_policy_applicable": "是",
        "score_problems_score": D("0"),
        "score_problems_applicable": "是",
        "score_debt_applicable": "否",
        "score_debt_note": "本年无债务",
        "score_total": D("81.5"),
        "score_converted": D("100"),
    }
    ctx = build_context(make_sub(values, {"nontax": [{"item": "利息收入", "plan": D("0.01"), "actual": D("0.0044")}]}))
    assert "本年非税收入计划0.01万元，实际上缴0.0044万元，其中：利息收入0.0044万元。" in paragraphs(ctx)
    s = ctx["scores"]
    assert (s["total"], s["converted"]) == ("81.5分", "100分")
    rows = {r["name"]: r["result"] for r in s["rows"]}
    assert rows["重大政策落实"] == "得分4.5分" and rows["存在问题"] == "扣分0分" and rows["债务管理"] == "不适用"
    assert s["base"] == "79.5"  # 81.5 less the inapplicable 债务管理 (2)
    assert len(s["rows"]) == len(default_spec().rubric.categories)
    # a not-applicable category explains why; it is not labelled 扣分说明
    assert "不适用原因：本年无债务" in paragraphs(ctx)
    assert not any(p.startswith("扣分说明：本年无债务") for p in paragraphs(ctx))
    chart = [r["label"] for r in ctx["charts"]["scores_data"]]
    assert chart == ["重大政策落实"]  # only scored categories with a score: no bonus / deduction bars


def test_findings_appendix_with_a_draft_or_on_request():
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
    explained = CheckReport("x.xlsx", findings=[finding])
    ctx = build_context(sub, explained)
    assert ctx["draft"] is False and ctx["findings"]["enabled"] is False  # nothing open: a final report
    assert build_context(sub, explained, appendix=True)["findings"]["enabled"] is True
    report = CheckReport("x.xlsx", findings=[finding, Finding("a", "error", "决算", "C5", "错误")])
    ctx = build_context(sub, report)
    f = ctx["findings"]
    assert ctx["draft"] is True and ctx["draft_mark"] == "审核未通过（草稿）"
    assert f["enabled"] and f["title"] == "附件：审核情况"
    rows = {r["severity"]: r for r in f["rows"]}
    assert set(rows) == {"提示性", "强制性"} and [r["no"] for r in f["rows"]] == ["1", "2"]
    assert rows["提示性"]["message"] == "收入合计与各项之和不符 <核对>（单位说明：已说明）"
    assert "强制性问题1条、提示性问题1条（其中单位已说明1条）" in f["summary"]


def _unit_slip(sub: Submission, field_id: str) -> CheckReport:
    """A check report doubting one figure as a probable unit slip (a draft marks it 待核实)."""
    cell = sub.fields[field_id]
    where = (cell.sheet, cell.cell)
    return CheckReport(
        "x",
        findings=[
            Finding(
                "budget.unit_slip", "warning", *where, "疑似单位错误", (CellRef(*where),), operands={"as_wan": "0.39"}
            )
        ],
    )


def test_draft_marks_doubted_figures_where_printed():
    values = {"carryover_balance": D("0"), "budget_income_other": D("0.01"), "returned_to_treasury": D("3861.27")}
    sub = make_sub(values)
    line = next(p for p in paragraphs(build_context(sub, _unit_slip(sub, "returned_to_treasury"))) if "交回财政" in p)
    assert "交回财政3861.27万元（待核实）" in line
    final = next(p for p in paragraphs(build_context(sub)) if "交回财政" in p)  # not a draft: no mark
    assert "交回财政3861.27万元。" in final


def test_unreadable_is_never_zero():
    sub = make_sub({"staff_actual": D("6")}, problems={"staff_quota": "约10"})
    ps = paragraphs(build_context(sub))
    line = next(p for p in ps if p.startswith("编制和在编人员情况"))
    assert "无法识别" in line and "编制数" in line and "待核实" in line
    assert not any("编制0个" in p for p in ps)


def test_claims_follow_the_numbers():
    full = {
        "sanbao_livelihood_plan": 0, "sanbao_livelihood_actual": 0,
        "sanbao_wage_plan": "141.92", "sanbao_wage_actual": "141.92",
        "sanbao_operation_plan": "93.42", "sanbao_operation_actual": "93.42",
        "violations": "否", "spending_progress": 100,
    }  # fmt: skip
    ps = paragraphs(
        build_context(make_sub({k: D(v) if not isinstance(v, str) or v[0].isdigit() else v for k, v in full.items()}))
    )
    assert any("足额保障" in p for p in ps)
    assert "本部门不存在无预算、超预算安排支出等违规情况。" in ps
    assert "项目整体支出进度为100.00%，预算资金已全部支出。" in ps
    short = dict(full, sanbao_wage_actual="0", spending_progress="98.6", sangong_car_operation_budget="1")
    short["sangong_car_operation_actual"] = "1.79"
    ps = paragraphs(
        build_context(make_sub({k: D(v) if not isinstance(v, str) or v[0].isdigit() else v for k, v in short.items()}))
    )
    assert not any("足额" in p for p in ps)
    assert "（2）保工资：安排资金141.92万元，实际支出0.00万元，执行率0.00%，尚有141.92万元未支出。" in ps
    assert "项目整体支出进度为98.60%。" in ps
    assert not any("不存在无预算" in p for p in ps)
    assert any("公务用车运行维护费本年实际1.79万元超过预算1.00万元" in p for p in ps)


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
    values.update(
        {"new_asset_budget": D("1"), "nontax_plan": D("1"), "final_income_other": D("1"), "procurement_budget": D("1")}
    )
    values.update({"final_income_total": D("1"), "new_assets_amount": D("0")})
    found = "\n".join(_strings(build_context(make_sub(values))))
    missing = [f.id for f in texts if f"甲{f.id}乙" not in found]
    assert missing == []


def test_draft_marks_doubted_figures_in_the_charts_too():
    from chart_projection import chart_summary

    from xlproc.report.charts import render_charts

    sub = make_sub({"budget_exp_201": D("163"), "budget_exp_208": D("17.08"), "score_policy_score": D("4")})
    draft = render_charts(build_context(sub, _unit_slip(sub, "budget_exp_201"))["charts"])
    assert "一般公共服务支出=163 «163.00万元（90.52%）（待核实）»" in chart_summary(draft["expenditure"].xml)
    assert "社会保障和就业支出=17.08 «17.08万元（9.48%）»" in chart_summary(draft["expenditure"].xml)
    final = render_charts(build_context(sub)["charts"])  # not a draft: no mark
    assert "待核实" not in chart_summary(final["expenditure"].xml) + chart_summary(final["scores"].xml)
