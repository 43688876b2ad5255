"""Submission (+ findings) → the docx template's context, through the pack's wording.

``build_context`` prepares the facts (facts.py), renders every snippet of the wording
(wording.py) and numbers the headings; the docx template only places the results:
``blocks`` (headings and paragraphs in order, tables and charts where the wording
puts them), the title lines, the tables, the score table, the charts' data, the 落款,
the draft mark and the findings appendix. Every value is a ready string.

A report is a draft (审核未通过（草稿）) when the check found open mandatory findings or
warnings the department has not explained; a draft carries the mark on every page and
in its properties, marks the doubted figures 待核实 and always has the appendix.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..results import SEVERITY_LABELS, CheckReport
from ..submission import Submission
from .facts import UNFILLED, Fact, FactBook
from .formatting import PARAGRAPH_MARK, clean_inline, clean_text, cn_number, fmt_score, share_pct
from .options import ReportOptions, default_options
from .wording import BlockDef, Wording, WordingError, allow_attributes, render_data

LINE_BREAK = "\v"  # a line break inside one paragraph (the title); the renderer writes <w:br/>

# Every top-level name the context provides; the template may use no other.
CONTEXT_KEYS = (
    "title",
    "title_lines",
    "dept",
    "year",
    "opening",
    "blocks",
    "tables",
    "scores",
    "charts",
    "signoff",
    "draft",
    "draft_mark",
    "findings",
)

_HEADING_FORMATS = {
    "h1": lambda n: f"{cn_number(n)}、",
    "h2": lambda n: f"（{cn_number(n)}）",
    "h3": lambda n: f"{n}.",
    "h4": lambda n: f"（{n}）",
}


_LEVELS = {kind: i for i, kind in enumerate(_HEADING_FORMATS)}  # h1 → 0 … h4 → 3


DRAFT_SUFFIX = "_草稿"


def is_draft(report: CheckReport | None) -> bool:
    """Open mandatory findings, or warnings nobody has explained."""
    if report is None:
        return False
    return any(f.severity == "error" or (f.severity == "warning" and not f.explained) for f in report.findings)


def draft_path(path: Path, report: CheckReport | None) -> Path:
    """``path`` with ``_草稿`` added before its suffix when ``report`` makes it a draft."""
    path = Path(path)
    return path.with_name(f"{path.stem}{DRAFT_SUFFIX}{path.suffix}") if is_draft(report) else path


@dataclass
class Category:
    """A rubric category as the wording sees it (``cat.<id>`` and ``c`` in texts.result)."""

    id: str
    name: str
    kind: str
    max: str
    score: Fact
    applicable: bool | None  # None: not answered
    note: Fact
    result: str = ""
    note_prefix: str = ""
    max_value: Decimal = Decimal(0)


allow_attributes(Category, [f.name for f in fields(Category)])


def build_context(
    sub: Submission,
    report: CheckReport | None = None,
    options: ReportOptions | None = None,
    wording: Wording | None = None,
    appendix: bool | None = None,
) -> dict[str, Any]:
    """The template context for ``sub``; ``report`` decides draft / 待核实 / appendix."""
    o = options or default_options()
    w = wording or o.wording(sub.spec)
    draft = is_draft(report)
    book = FactBook(sub, report, mark=draft, scores=_score_field_ids(book_spec=sub.spec, w=w))
    f = book.fields
    dept_fact = f[w.names["department"]]
    dept = dept_fact.plain if dept_fact.ok else "（部门名称未填报）"
    year_fact = f[w.names["year"]]
    year_num = year_fact.num
    year = fmt_score(year_num, 0) if year_num is not None else "____"
    prev_year = fmt_score(year_num - 1, 0) if year_num is not None else "上"
    cats = _categories(book, w)
    data: dict[str, Any] = {
        "f": f,
        "grid": book.grids(),
        "t": book.tables(),
        "cat": cats,
        "dept": dept,
        "year": year,
        "prev_year": prev_year,
        "me": w.self_name,
        "draft": draft,
        "basis": _basis(o, sub, year, prev_year),
    }
    data = render_data(data)
    try:
        for c in cats.values():
            c.result = _one_line(w.texts["result"].render_with(w.path, data, {"c": c}))
            c.note_prefix = _one_line(w.texts["note_prefix"].render_with(w.path, data, {"c": c}))
        data["score"] = _score_summary(book, w, cats)  # RenderData: shared by every snippet below
        title_lines = [_one_line(s.render(w.path, data)) for s in w.title]
        with_appendix = draft or bool(appendix)
        return {
            "title": "".join(title_lines),
            "title_lines": LINE_BREAK.join(title_lines),
            "dept": dept,
            "year": year,
            "opening": _para(w.opening.render(w.path, data)),
            "blocks": _blocks(w, data),
            "tables": {tid: _table_rows(rows) for tid, rows in data["t"].items()},
            "scores": _score_table(cats, data["score"]),
            "charts": _charts(book, w, o, cats),
            "signoff": [_one_line(s.render(w.path, data)) for s in w.signoff],
            "draft": draft,
            "draft_mark": _one_line(w.texts["draft_mark"].render(w.path, data)),
            "findings": _findings(report if with_appendix else None, o, w, data),
        }
    finally:
        data.release()  # frees the report's data at once (no reference cycle left)


# -- body ------------------------------------------------------------------------------


def _blocks(w: Wording, data: dict[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    counters = [0] * len(_LEVELS)
    path = w.path
    for b in w.body:
        if b.when is not None and not b.when.test(path, data):
            continue
        kind = b.kind
        level = _LEVELS.get(kind)
        if level is not None:
            counters[level] += 1
            for lower in range(level + 1, len(counters)):
                counters[lower] = 0
            assert b.text is not None
            text = _one_line(b.text.render(path, data))
            out.append({"kind": kind, "name": "", "text": _HEADING_FORMATS[kind](counters[level]) + text})
        elif kind == "table" or kind == "chart":
            out.append({"kind": kind, "name": b.name, "text": ""})
        else:
            for line in _block_lines(b, w, data):
                out.append({"kind": "p", "name": "", "text": line})
    return out


def _block_lines(b: BlockDef, w: Wording, data: dict[str, Any]) -> list[str]:
    f: dict[str, Fact] = data["f"]
    if b.kind == "note":
        fact = f[b.field_id]
        if fact.unreadable or (not fact and b.item):
            return _missing_text(b, w, data, [fact])
        if not fact:
            return []
        prefix = _one_line(b.prefix.render(w.path, data)) if b.prefix else ""
        return [prefix + fact.plain]
    missing = [m for m in (_needed(f, data, n) for n in b.needs) if m is not None]
    if missing:
        return _missing_text(b, w, data, missing)
    assert b.text is not None
    return _split(b.text.render(w.path, data))


def _missing_text(b: BlockDef, w: Wording, data: dict[str, Any], missing: list[Fact]) -> list[str]:
    """The sentence for a block whose fields are blank (未填报) or unreadable (待核实)."""
    unreadable = [m for m in missing if m.unreadable]
    blank = [m for m in missing if not m.unreadable]
    if unreadable:
        extra = {
            "item": b.item or "、".join(m.label for m in unreadable),
            "labels": "、".join(m.label for m in unreadable),
            "cells": "、".join(m.cell for m in unreadable if m.cell),
        }
        return _split(w.texts["unreadable"].render_with(w.path, data, extra))
    if blank:
        if b.omit_if_blank:
            return []
        extra = {"item": b.item or "、".join(m.label for m in blank), "labels": "、".join(m.label for m in blank)}
        extra["cells"] = ""
        snippet = b.blank or w.texts["blank"]
        return _split(snippet.render_with(w.path, data, extra))
    return []


def _needed(f: dict[str, Fact], data: dict[str, Any], ref: str) -> Fact | None:
    """The fact a ``needs`` entry names (a table counts as blank when it has no rows)."""
    if ref in f:
        fact = f[ref]
        return None if fact.ok else fact
    rows = data["t"].get(ref)
    if rows:
        return None
    return Fact(ref, ref, "text", None, state="blank")


def _split(text: str) -> list[str]:
    """Snippet output → paragraphs (one per non-empty line; department text keeps its marks)."""
    out = []
    for line in text.split("\n"):
        line = " ".join(line.split()) if PARAGRAPH_MARK not in line else line.strip()
        if line:
            out.append(line)
    return out


def _para(text: str) -> str:
    return PARAGRAPH_MARK.join(_split(text))


def _one_line(text: str) -> str:
    return clean_inline(text)


# -- basis, tables, scores, charts ----------------------------------------------------------


def _basis(o: ReportOptions, sub: Submission, year: str, prev_year: str) -> list[dict[str, str]]:
    names = {"{year}": year, "{prev_year}": prev_year, "{rubric_title}": sub.spec.rubric.title}
    out = []
    for doc in o.basis_documents:
        entry = {}
        for key in ("issuer", "title", "number"):
            text = doc.get(key, "")
            for k, v in names.items():
                text = text.replace(k, v)
            entry[key] = clean_inline(text)
        out.append(entry)
    return out


def _table_rows(rows: list[Any]) -> list[dict[str, str]]:
    out = []
    for r in rows:
        row = {"no": str(r.no)}
        for cid, fact in r.cells.items():
            row[cid] = fact.text if not fact.ok else (clean_text(fact.value) if fact.type == "longtext" else fact.text)
        out.append(row)
    return out


def _score_field_ids(book_spec: Any, w: Wording) -> list[str]:
    grid_id, col = w.scores.get("grid", ""), w.scores.get("score", "score")
    for sheet in book_spec.sheets:
        for block in sheet.blocks:
            if block.kind == "grid" and block.id == grid_id:
                return [block.grid_field(r.id, col) for r in block.grid_rows]
    return []


def _categories(book: FactBook, w: Wording) -> dict[str, Category]:
    block = book.grid_block(w.scores["grid"])
    if block is None:  # checked at load
        raise WordingError(f"报告措辞 {w.path}：scores.grid 未知")
    cols = {c.id for c in block.grid_columns}
    blank = Fact("", "", "text", None, state="blank")

    def cell(row: str, key: str, default: str) -> Fact:
        col = w.scores.get(key, default)
        return book.fields[block.grid_field(row, col)] if col in cols else blank

    out = {}
    for cat in book.spec.rubric.categories:
        applicable_fact = cell(cat.id, "applicable", "applicable")
        applicable = None if not applicable_fact.ok else applicable_fact.plain != "否"
        out[cat.id] = Category(
            id=cat.id,
            name=cat.name,
            kind=cat.kind,
            max=fmt_score(cat.max, 1),
            score=cell(cat.id, "score", "score"),
            applicable=applicable,
            note=cell(cat.id, "note", "note"),
            max_value=Decimal(cat.max),
        )
    return out


def _score_summary(book: FactBook, w: Wording, cats: dict[str, Category]) -> dict[str, Any]:
    base = sum((c.max_value for c in cats.values() if c.kind == "score" and c.applicable is not False), Decimal(0))
    blank = Fact("", "", "number", None, state="blank")
    return {
        "total": book.fields.get(w.scores.get("total", ""), blank),
        "converted": book.fields.get(w.scores.get("converted", ""), blank),
        "base": fmt_score(base, 1),
    }


def _score_table(cats: dict[str, Category], summary: dict[str, Any]) -> dict[str, Any]:
    rows = [{"no": str(i), "name": c.name, "max": c.max, "result": c.result} for i, c in enumerate(cats.values(), 1)]

    def points(fact: Fact) -> str:
        return f"{fact.plain}分{fact.mark}" if fact.ok else fact.text

    return {
        "rows": rows,
        "base": summary["base"],
        "total": points(summary["total"]),
        "converted": points(summary["converted"]),
    }


def _charts(book: FactBook, w: Wording, o: ReportOptions, cats: dict[str, Category]) -> dict[str, Any]:
    """Chart data: only what was entered and readable (never a blank or unreadable drawn as 0);
    a figure a draft doubts keeps its （待核实） mark in the chart's label."""
    expenditure = []
    spec = w.charts.get("expenditure")
    if spec:
        rows = book.grid(spec["grid"])
        col = spec.get("column", "amount")
        amounts = [(r.label, getattr(r, col)) for r in rows if col in r.cells]
        if not any(a.unreadable for _, a in amounts):
            items = [(label, a) for label, a in amounts if a.positive]
            tot = book.fields.get(spec.get("total", ""))
            total = tot.num if tot is not None and tot.ok else sum((a.num for _, a in items), Decimal(0))
            expenditure = [
                {"label": label, "amount": a.num, "money": a.plain, "share": share_pct(a.num, total), "mark": a.mark}
                for label, a in items
            ]
    # Only scored categories: bonus and deduction items have no 满分 to draw against.
    score_rows = [
        {"label": c.name, "score": c.score.num, "max": c.max_value, "kind": c.kind, "mark": c.score.mark}
        for c in cats.values()
        if c.kind == "score" and c.applicable is not False and c.score.ok
    ]
    return {
        "expenditure": bool(o.charts and expenditure),
        "scores": bool(o.charts and score_rows),
        "expenditure_data": expenditure,
        "scores_data": score_rows,
    }


def _findings(report: CheckReport | None, o: ReportOptions, w: Wording, data: dict[str, Any]) -> dict[str, Any]:
    """The 审核情况 appendix: with the findings passed in (always for a draft)."""
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
    counts = dict(report.counts)
    key = "findings_summary" if rows else "findings_none"
    summary = _one_line(w.texts[key].render_with(w.path, data, {"counts": counts}))
    return {"enabled": True, "title": o.appendix_title, "summary": summary, "rows": rows}


__all__ = ["CONTEXT_KEYS", "DRAFT_SUFFIX", "LINE_BREAK", "UNFILLED", "build_context", "draft_path", "is_draft"]
