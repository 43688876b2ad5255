"""Submission (+ findings) → the template context: every value ready to print.

``build_context`` is the only thing the docx template sees. Every value is already a
formatted string (or a list of rows / lines of strings): the template decides where
things go and how they look, never how a number is rounded. Tables keep only their
non-empty rows, renumbered from 1.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..results import SEVERITY_LABELS, CheckReport
from ..submission import Submission
from . import sections
from .formatting import clean_inline, clean_text, fmt_score, share_pct
from .options import ReportOptions, default_options
from .values import Values

# Every top-level name the context provides; the template may use no other.
CONTEXT_KEYS = (
    "title",
    "dept",
    "year",
    "prev_year",
    "me",
    "basis",
    "basic",
    "goals",
    "achievements",
    "scores",
    "policy",
    "budgeting",
    "execution",
    "performance",
    "assets",
    "debt",
    "transparency",
    "informatization",
    "innovation",
    "problems",
    "problems_found",
    "improvements",
    "charts",
    "findings",
)


def build_context(sub: Submission, report: CheckReport | None = None, options: ReportOptions | None = None) -> dict:
    """Turn a submission (and optionally its findings) into the report template's context."""
    o = options or default_options()
    v = Values(sub)
    dept = v.text("dept_name") or "（未填写部门名称）"
    year_d = v.dec("year")
    year = fmt_score(year_d, 0) if year_d is not None else "____"
    prev_year = fmt_score(year_d - 1, 0) if year_d is not None else "上"
    others = sections.other_sections(v, o)
    scores = _scores(v)
    ctx: dict[str, Any] = {
        "title": f"{dept}{year}年度部门整体绩效管理自评报告",
        "dept": dept,
        "year": year,
        "prev_year": prev_year,
        "me": o.self_name,
        "basis": _basis(o, sub, year, prev_year),
        "basic": _basic(v, o),
        "goals": _rows(v, "goals", ("function", "activity", "target", "project")),
        "achievements": _rows(v, "achievements", ("name", "goal", "result")),
        "scores": scores,
        "policy": sections.policy(v, o),
        "budgeting": sections.budgeting(v, o),
        "execution": sections.execution(v, o, prev_year),
        "performance": sections.performance(v, o),
        "assets": sections.assets(v, o),
        **others,
        "problems_found": v.para("problems_found") or "本次自评未发现需要说明的问题。",
        "improvements": v.para("improvements") or "暂无需要说明的改进措施。",
        "charts": _charts(v, o, scores),
        "findings": _findings(report, o),
    }
    return ctx


def _basis(o: ReportOptions, sub: Submission, year: str, prev_year: str) -> str:
    names = {"{year}": year, "{prev_year}": prev_year, "{rubric_title}": sub.spec.rubric.title}
    docs = []
    for doc in o.basis_documents:
        for key, val in names.items():
            doc = doc.replace(key, val)
        docs.append(clean_inline(doc))
    return "和".join(docs) if len(docs) <= 2 else "、".join(docs[:-1]) + "和" + docs[-1]


def _basic(v: Values, o: ReportOptions) -> dict[str, Any]:
    level, nature, funding = v.text("org_level"), v.text("unit_nature"), v.text("funding_form")
    org = f"{o.self_name}为{level}{nature}" if level or nature else f"{o.self_name}"
    if funding:
        org += f"，经费保障形式为{funding}"
    n, names = v.num("internal_org_count"), v.text("internal_org_names")
    if n:
        org += f"，内设机构{v.count('internal_org_count')}个" + (f"，分别为{names}" if names else "")
    org += "。"
    staff = f"按“三定”方案核定编制{v.count('staff_quota')}个，年末实有在编人员{v.count('staff_actual')}名"
    split = [
        f"{label}{v.count(fid)}名"
        for fid, label in (("staff_admin", "行政编制"), ("staff_institution", "事业编制"))
        if v.dec(fid) is not None
    ]
    if split:
        staff += f"（其中{'、'.join(split)}）"
    if v.num("staff_retired"):
        staff += f"，离退休人员{v.count('staff_retired')}名"
    vehicles = [
        f"{label}{v.count(fid)}辆"
        for fid, label in (("vehicle_quota", "核定车辆编制"), ("vehicle_actual", "实有车辆"))
        if v.dec(fid) is not None
    ]
    if vehicles:
        staff += f"；{'，'.join(vehicles)}"
    return {"org": org, "staff": staff + "。", "note": v.para("basic_note")}


def _rows(v: Values, table_id: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Non-empty rows, renumbered 1…n, every cell clean text."""
    out = []
    for r in v.records(table_id):
        row = {c: _cell_text(r.get(c)) for c in columns}
        if any(row.values()):
            row["no"] = str(len(out) + 1)
            out.append(row)
    return out


def _cell_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return fmt_score(value, 4)
    if hasattr(value, "isoformat"):
        from .formatting import fmt_date

        return fmt_date(value)
    return clean_text(value)


def _scores(v: Values) -> dict[str, Any]:
    """合计, 换算得分 and one entry per rubric category (by id and in order)."""
    cats: dict[str, Any] = {}
    rows = []
    base = Decimal(0)
    for i, cat in enumerate(v.spec.rubric.categories, 1):
        score = v.dec(f"score_{cat.id}_score")
        applicable = v.text(f"score_{cat.id}_applicable") != "否"
        if cat.kind == "score" and applicable:
            base += cat.max
        score_text = fmt_score(score or 0, 1)
        if not applicable:
            result = "不适用"
        elif cat.kind == "deduction":
            result = f"扣分{score_text}分"
        else:
            result = f"得分{score_text}分"
        entry = {
            "no": str(i),
            "name": cat.name,
            "kind": cat.kind,
            "max": fmt_score(cat.max, 1),
            "score": score_text,
            "applicable": applicable,
            "result": result,
            "note": v.para(f"score_{cat.id}_note"),
            "_score": score or Decimal(0),
            "_max": cat.max,
        }
        cats[cat.id] = entry
        rows.append(entry)
    return {
        "total": v.score("score_total"),
        "converted": v.score("score_converted"),
        "base": fmt_score(base, 1),
        "rows": rows,
        **cats,
    }


def _charts(v: Values, o: ReportOptions, scores: dict[str, Any]) -> dict[str, Any]:
    """Chart data (Decimals, labels) and whether each chart is shown."""
    exp = sections.class_items(v, "budget_exp", "amount", o)
    exp = [i for i in exp if i["amount"] > 0]
    total = v.num("budget_exp_total") or sum((i["amount"] for i in exp), Decimal(0))
    expenditure = [
        {"label": i["label"], "amount": i["amount"], "money": i["money"], "share": share_pct(i["amount"], total)}
        for i in exp
    ]
    score_rows = [
        {"label": r["name"], "score": r["_score"], "max": r["_max"], "kind": r["kind"]} for r in scores["rows"]
    ]
    return {
        "expenditure": bool(o.charts and expenditure),
        "scores": bool(o.charts and score_rows),
        "expenditure_data": expenditure,
        "scores_data": score_rows,
    }


def _findings(report: CheckReport | None, o: ReportOptions) -> dict[str, Any]:
    """The 审核情况 appendix: shown only when findings are passed in."""
    if report is None:
        return {"enabled": False, "title": o.appendix_title, "summary": "", "rows": []}
    rows = []
    for f in report.findings:
        message = clean_inline(f.message)
        if f.explained:
            message += f"（单位说明：{clean_inline(f.explanation)}）"
        rows.append(
            {
                "no": str(len(rows) + 1),
                "severity": SEVERITY_LABELS.get(f.severity, f.severity),
                "sheet": clean_inline(f.sheet),
                "cell": clean_inline(f.cell),
                "message": message,
            }
        )
    c = report.counts
    if rows:
        summary = (
            f"经交叉审核，共发现强制性问题{c['error']}条、提示性问题{c['warning']}条"
            f"（其中单位已说明{c['explained']}条）、提示信息{c['info']}条，明细如下。"
        )
    else:
        summary = "经交叉审核，未发现问题。"
    return {"enabled": True, "title": o.appendix_title, "summary": summary, "rows": rows}
