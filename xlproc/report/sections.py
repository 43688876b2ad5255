"""The sentences of the ten scoring sub-sections, generated from the figures.

Each builder returns a dict of ready-formatted strings (and lists of lines) that the
docx template places under its heading. Generated sentences state figures only; the
department's own words come from its 说明 cells (``note`` keys) and are placed
verbatim beside them. A category with nothing to report gets one sentence saying so.
"""

from __future__ import annotations

from typing import Any

from .formatting import (
    circled,
    clean_inline,
    clean_text,
    fmt_count,
    fmt_date,
    fmt_money,
    fmt_percent,
    join_cn,
    share_pct,
    to_decimal,
    yoy_phrase,
)
from .options import ReportOptions
from .values import Values


def class_items(v: Values, grid_id: str, column: str, opts: ReportOptions) -> list[dict[str, Any]]:
    """功能分类 rows of a grid: label, amount text, Decimal; zero classes only if configured."""
    block = v.grid(grid_id)
    if block is None:
        return []
    items = []
    for row in block.grid_rows:
        fid = block.grid_field(row.id, column)
        amount = v.num(fid)
        if amount == 0 and not opts.list_zero_classes:
            continue
        items.append({"code": row.id, "label": row.label, "amount": amount, "money": v.money(fid), "field": fid})
    return items


def policy(v: Values, o: ReportOptions) -> dict[str, Any]:
    """（一）重大政策落实: 专项资金, 三保, 过紧日子 (三公 yoy), 减税降费."""
    me = o.self_name
    if v.yes("special_funds_has") or v.has("special_funds_plan"):
        special = (
            f"{me}本年安排专项资金{v.money('special_funds_plan')}万元，实际支出{v.money('special_funds_spent')}万元。"
        )
    else:
        special = f"{me}本年无专项资金安排。"
    sanbao = []
    for i, (row, label) in enumerate((("livelihood", "保基本民生"), ("wage", "保工资"), ("operation", "保运转")), 1):
        plan, actual = f"sanbao_{row}_plan", f"sanbao_{row}_actual"
        if v.num(plan) == 0 and v.num(actual) == 0:
            sanbao.append(f"（{i}）{label}：{me}无{label}资金安排。")
        else:
            rate = share_pct(v.num(actual), v.num(plan))
            tail = f"，执行率{fmt_percent(rate)}" if rate is not None else ""
            sanbao.append(f"（{i}）{label}：安排资金{v.money(plan)}万元，实际支出{v.money(actual)}万元{tail}。")
    cur, prev = v.num("sangong_total_actual"), v.num("sangong_total_prev_actual")
    sangong = (
        f"本年“三公”经费实际支出{v.money('sangong_total_actual')}万元，上年实际支出"
        f"{v.money('sangong_total_prev_actual')}万元，{yoy_phrase(cur, prev)}。"
    )
    reason = v.para("sangong_change_reason")
    fee_n = v.num("fee_items_count")
    if fee_n == 0:
        fee = f"{me}无行政事业性收费项目。"
    else:
        shown = {"是": "已按规定公示", "否": "尚未公示"}.get(v.text("fee_publicized"), "公示情况未填报")
        fee = f"{me}共有收费项目{fmt_count(fee_n)}项，{shown}收费项目、标准和依据等信息。"
    nontax_rows = [r for r in v.records("nontax") if to_decimal(r.get("actual")) or to_decimal(r.get("plan"))]
    if nontax_rows:
        parts = [f"{clean_inline(r.get('item')) or '其他'}{fmt_money(r.get('actual'), 4)}万元" for r in nontax_rows]
        nontax = (
            f"本年非税收入计划{v.money('nontax_plan_total')}万元，实际上缴{v.money('nontax_actual_total')}万元，"
            f"其中：{join_cn(parts)}。"
        )
    else:
        nontax = f"{me}本年无非税收入。"
    fines = f"{me}存在罚没事项，罚没财物已按规定管理。" if v.yes("fines_has") else f"{me}无罚没事项。"
    date_text = fmt_date(v.raw("invoice_writeoff_date"))
    invoice = f"财政电子票据已于{date_text}完成核销。" if date_text else "本年未填报财政电子票据核销情况。"
    return {
        "special_funds": special,
        "sanbao_lines": sanbao,
        "frugal_note": v.para("frugal_note"),
        "sangong": sangong,
        "sangong_reason": reason,
        "fee": fee,
        "nontax": nontax,
        "fines": fines,
        "invoice": invoice,
        "note": v.para("policy_note"),
    }


def budgeting(v: Values, o: ReportOptions) -> dict[str, Any]:
    """（二）预算编制管理: 收支预算, 三公预算, 非税计划, 新增资产, 资源统筹."""
    me = o.self_name
    income_block = v.grid("budget_income")
    income_parts = []
    if income_block is not None:
        for row in income_block.grid_rows:
            fid = income_block.grid_field(row.id, "amount")
            if v.num(fid) != 0 or o.list_zero_classes:
                income_parts.append(f"{row.label}{v.money(fid)}万元")
    income = f"本年部门预算收入{v.money('budget_income_total')}万元"
    income += f"，其中：{join_cn(income_parts)}。" if income_parts else "。"
    exp_items = class_items(v, "budget_exp", "amount", o)
    if exp_items:
        expense = (
            f"预算支出{v.money('budget_exp_total')}万元，按功能分类为："
            f"{join_cn([i['label'] + i['money'] + '万元' for i in exp_items])}。"
        )
    else:
        expense = "本年未编列预算支出。"
    sg = v.grid("sangong")
    sg_parts = []
    if sg is not None:
        for row in sg.grid_rows:
            fid = sg.grid_field(row.id, "budget")
            if v.num(fid) != 0:
                sg_parts.append(f"{row.label}{v.money(fid)}万元")
    sangong = f"本年安排“三公”经费预算{v.money('budget_sangong')}万元"
    sangong += f"，其中：{join_cn(sg_parts)}。" if sg_parts else "。"
    fees = [
        f"{label}{v.money(f'other_fees_{row}_budget')}万元"
        for row, label in (("meeting", "会议费"), ("training", "培训费"))
        if v.num(f"other_fees_{row}_budget") != 0
    ]
    if fees:
        sangong += f"另安排{join_cn(fees)}（不属于“三公”经费）。"
    nontax_note = v.text("nontax_plan_note")
    nontax = f"本年安排非税收入计划{v.money('nontax_plan')}万元" + (f"，主要为{nontax_note}。" if nontax_note else "。")
    if not v.has("nontax_plan"):
        nontax = f"{me}本年未安排非税收入计划。"
    purpose = v.text("new_asset_purpose")
    if v.has("new_asset_budget"):
        asset = f"本年安排新增资产预算{v.money('new_asset_budget')}万元" + (f"，用于{purpose}。" if purpose else "。")
    else:
        asset = f"{me}本年未安排新增资产预算。"
    resources = (
        f"财政拨款结转结余{v.money('carryover_balance')}万元、其他收入{v.money('budget_income_other')}万元"
        f"均已纳入部门预算统筹管理"
    )
    if v.has("returned_to_treasury"):
        resources += f"；本年盘活结转结余资金，交回财政{v.money('returned_to_treasury')}万元。"
    else:
        resources += "。"
    return {
        "income": income,
        "expense": expense,
        "sangong": sangong,
        "nontax": nontax,
        "asset": asset,
        "resources": resources,
        "note": v.para("budget_note"),
    }


def execution(v: Values, o: ReportOptions, prev_year: str) -> dict[str, Any]:
    """（三）预算执行管理: 预警, 违规, 暂付款, 决算, 财务报告, 政府采购, 直达资金."""
    me = o.self_name
    alerts = v.num("alerts_count")
    alert = (
        f"本年预算执行监督预警{fmt_count(alerts)}次，均已及时核实处理。"
        if alerts
        else "本年预算执行未收到监督预警提示。"
    )
    violation = (
        f"{me}存在违规支出情况，已按要求整改。" if v.yes("violations") else f"{me}不存在无预算、超预算支出等违规情况。"
    )
    temp = (
        f"本年新增暂付款{v.money('temp_payment_new')}万元。" if v.has("temp_payment_new") else f"{me}本年无新增暂付款。"
    )
    income_parts = [f"财政拨款收入{v.money('final_income_fiscal')}万元"]
    other = f"其他收入{v.money('final_income_other')}万元"
    other_note = v.text("final_income_other_note")
    if v.has("final_income_other") or o.list_zero_classes:
        income_parts.append(other + (f"（{other_note}）" if other_note else ""))
    final_income = f"{prev_year}年部门决算收入{v.money('final_income_total')}万元，其中：{join_cn(income_parts)}。"
    lines = []
    total = v.num("final_exp_total_amount")
    for item in class_items(v, "final_exp", "amount", o):
        share_field = item["field"].removesuffix("_amount") + "_share"
        share = v.dec(share_field)
        if share is None:
            share = share_pct(item["amount"], total)
        lines.append(f"{item['label']}{item['money']}万元，占比{fmt_percent(share)}")
    final_expense = (
        f"决算支出{v.money('final_exp_total_amount')}万元，按功能分类为：{'；'.join(lines)}。"
        if lines
        else "上年无决算支出。"
    )
    return {
        "alert": alert,
        "violation": violation,
        "temp": temp,
        "final_income": final_income,
        "final_expense": final_expense,
        "finance": finance_lines(v),
        "procurement": procurement_lines(v, o),
        "direct": (
            f"本年直达资金{v.money('direct_funds')}万元，已按规定分配使用并接受监控。"
            if v.has("direct_funds")
            else f"{me}本年无直达资金。"
        ),
        "note": v.para("execution_note"),
        "final_note": v.para("final_note"),
        "finance_note": v.para("finance_note"),
        "procurement_note": v.para("procurement_note"),
    }


def _ratio(v: Values, name: str) -> str:
    """The department's declared ratio (财务报告数) when present, else the computed one."""
    declared = v.dec(f"declared_{name}")
    return fmt_percent(declared if declared is not None else v.dec(name))


def finance_lines(v: Values) -> list[str]:
    """政府财务报告: assets, liabilities and the four ratios."""
    date_text = v.raw("report_date")
    when = fmt_date(date_text)
    if hasattr(date_text, "month") and (date_text.month, date_text.day) == (12, 31):
        when = f"{date_text.year}年末"
    when = when or "报告期末"
    lines = [
        f"截至{when}，资产总额{v.money('assets_total')}万元，其中：货币资金{v.money('cash')}万元，"
        f"其他应收款净额{v.money('other_receivables')}万元，固定资产净值{v.money('fixed_assets_net')}万元。"
    ]
    if v.has("liabilities_total"):
        debt = f"负债总额{v.money('liabilities_total')}万元"
        if v.has("other_payables"):
            share = share_pct(v.num("other_payables"), v.num("liabilities_total"))
            debt += f"，其中其他应付款{v.money('other_payables')}万元，占负债总额的{fmt_percent(share)}"
        lines.append(debt + "。")
    else:
        lines.append("期末无负债。")
    lines.append(
        f"资产负债率{_ratio(v, 'debt_ratio')}，现金比率{_ratio(v, 'cash_ratio')}，"
        f"流动比率{_ratio(v, 'current_ratio')}，固定资产成新率{_ratio(v, 'newness_ratio')}。"
    )
    risk = v.text("financial_risk")
    if risk:
        lines.append(f"经分析，财务风险判断为：{risk}。")
    return lines


def procurement_lines(v: Values, o: ReportOptions) -> list[str]:
    """政府采购: totals and the SME / micro shares (computed fields)."""
    if not (v.has("procurement_budget") or v.has("contract_total")):
        return [f"{o.self_name}本年无政府采购事项。"]
    lines = [
        f"本年政府采购预算总额{v.money('procurement_budget')}万元，签订采购合同总金额{v.money('contract_total')}万元；"
        f"其中中小企业合同金额{v.money('sme_contract')}万元，占合同总金额的{v.pct('sme_share')}；"
        f"小微企业合同金额{v.money('micro_contract')}万元，占中小企业合同金额的{v.pct('micro_share')}。"
    ]
    if v.has("poverty_reserved") or v.has("poverty_purchased"):
        lines.append(
            f"脱贫地区农副产品预留份额{v.money('poverty_reserved')}万元，实际采购{v.money('poverty_purchased')}万元。"
        )
    else:
        lines.append("本年无脱贫地区农副产品采购预留份额。")
    n = v.num("complaints_count")
    lines.append(f"本年发生政府采购质疑投诉{fmt_count(n)}件。" if n else "本年未发生政府采购质疑投诉。")
    return lines


def performance(v: Values, o: ReportOptions) -> dict[str, Any]:
    """（四）预算绩效管理: 重点任务, 事前评估, 监控, 自评, 重点评价, 投资评审 (counts from the register)."""
    me = o.self_name
    tasks = []
    for r in v.records("key_tasks"):
        task, status = clean_inline(r.get("task")), clean_text(r.get("status"))
        if task or status:
            tasks.append(f"{circled(len(tasks) + 1)}{task}" + (f"：{status}" if status else "。"))
    tasks_intro = (
        f"{me}落实财政部门部署的重点任务{len(tasks)}项，情况如下：" if tasks else f"{me}本年无财政部门部署的重点任务。"
    )
    c = v.count
    projects = v.num("project_count")
    pre = f"本年共对{c('pre_eval_count')}个项目开展事前绩效评估。" if projects else f"{me}本年无预算项目。"
    progress = f"项目整体支出进度为{v.pct('spending_progress')}。" if v.dec("spending_progress") is not None else ""
    midyear = (
        f"年中绩效监控中，绩效目标实现程度达到50%的项目{c('monitor_ge50_count')}个，"
        f"实现程度在30%-50%之间的项目{c('monitor_30_50_count')}个，"
        f"实现程度在30%以下的项目{c('monitor_lt30_count')}个，工作未开展的项目{c('monitor_none_count')}个。"
    )
    yearend = (
        f"截至年末，实现绩效目标的项目{c('achieved_count')}个，涉及资金{v.money('achieved_amount')}万元；"
        f"未实现绩效目标的项目{c('not_achieved_count')}个，涉及资金{v.money('not_achieved_amount')}万元。"
    )
    self_eval = (
        f"共对{c('self_eval_count')}个项目开展绩效自评，其中：满分的项目{c('self_eval_full_count')}个，"
        f"95分以上的项目{c('self_eval_95_count')}个，90-95分的项目{c('self_eval_90_95_count')}个，"
        f"90分以下的项目{c('self_eval_lt90_count')}个。"
    )
    if not v.num("self_eval_count"):
        self_eval = f"{me}本年无开展绩效自评的项目。"
    key = v.num("key_eval_count")
    key_eval = f"本年有{fmt_count(key)}个项目纳入重点评价。" if key else f"{me}本年无纳入重点评价的项目。"
    inv = v.num("gov_investment_count")
    investment = (
        f"本年有政府投资项目{fmt_count(inv)}个，已按规定送财政投资评审。"
        if inv
        else f"{me}本年无政府投资项目，不涉及财政投资评审。"
    )
    return {
        "tasks_intro": tasks_intro,
        "tasks": tasks,
        "pre_eval": pre,
        "progress": progress,
        "midyear": midyear if projects else "",
        "yearend": yearend if projects else "",
        "self_eval": self_eval,
        "key_eval": key_eval,
        "investment": investment,
        "note": v.para("performance_note"),
    }


def assets(v: Values, o: ReportOptions) -> dict[str, Any]:
    """（五）资产管理: fixed asset stock, land / buildings / construction, new assets, tagging."""
    me = o.self_name
    stock = [
        f"{label}{v.count(fid)}{unit}"
        for fid, label, unit in (
            ("equipment_count", "通用设备", "台件"),
            ("furniture_count", "家具用具", "台件"),
            ("vehicle_count", "车辆", "辆"),
        )
        if v.num(fid)
    ]
    stock_text = f"年末固定资产中，{join_cn(stock)}。" if stock else f"{me}年末无通用设备、家具用具和车辆。"
    others = []
    missing = []
    for fid, label, unit in (
        ("land_count", "土地", "宗"),
        ("building_count", "房屋", "处"),
        ("construction_count", "在建工程", "项"),
    ):
        if v.num(fid):
            others.append(f"{label}{v.count(fid)}{unit}")
        else:
            missing.append(label)
    other_text = ""
    if others:
        other_text += f"现有{join_cn(others)}。"
    if missing:
        other_text += f"无{join_cn(missing)}。"
    new = (
        f"本年新增固定和无形资产{v.money('new_assets_amount')}万元。"
        if v.has("new_assets_amount")
        else "本年无新增固定和无形资产。"
    )
    tagged = "已完成资产标识化工作" if v.yes("asset_tagging_done") else "资产标识化工作尚未完成"
    reconciled = "资产账实相符" if v.yes("asset_reconciled") else "资产存在账实不符情况"
    return {
        "stock": stock_text,
        "others": other_text,
        "new": new,
        "management": f"{me}{tagged}，经核对{reconciled}。",
        "note": v.para("assets_note"),
    }


def other_sections(v: Values, o: ReportOptions) -> dict[str, dict[str, Any]]:
    """（六）债务 （七）透明度 （八）信息化 （九）改革创新 （十）存在问题."""
    me = o.self_name
    bonds = v.num("bond_projects_count")
    debt_note = v.para("debt_note")
    if bonds or v.has("bond_amount"):
        debt = f"本年申报债券项目{fmt_count(bonds)}个，债券资金{v.money('bond_amount')}万元。"
    else:  # nothing to report: one sentence, unless the department wrote its own
        debt = "" if debt_note else f"{me}本年未申报债券项目，不涉及债券资金管理。"
    where = v.text("disclosure_where")
    if v.yes("disclosure_done"):
        transparency = f"{me}已按要求公开预决算、绩效等信息" + (f"，公开渠道为{where}。" if where else "。")
    else:
        transparency = f"{me}本年预决算等信息公开工作尚未全部完成。"
    incidents = v.num("security_incidents")
    info = (
        f"本年发生网络安全事件{fmt_count(incidents)}起。"
        if incidents
        else "本年财政内网终端未发生网络安全事件，一体化系统操作规范。"
    )
    innovation = v.para("innovation_note")
    problems = v.para("problems_note")
    return {
        "debt": {"sentence": debt, "note": debt_note},
        "transparency": {"sentence": transparency, "note": v.para("transparency_note")},
        "informatization": {"sentence": info, "note": v.para("informatization_note")},
        "innovation": {"sentence": "" if innovation else f"{me}本年无参与财政改革创新的特别事项。", "note": innovation},
        "problems": {
            "sentence": "" if problems else f"{me}本年未被督查、审计、财政监督等指出问题，无违反财政法规的行为。",
            "note": problems,
        },
    }
