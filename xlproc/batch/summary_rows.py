"""Who the summary ranks, and the status of everyone else (pure data, no Excel).

Only departments whose workbook passed — no mandatory finding (强制性) and no warning
left without a 说明 — are ranked, by the pack's rank figure (换算得分), highest first,
ties sharing a place (1, 2, 2, 4). Everyone else follows without a rank, with the
status that says why: 待说明, 有错误, 未填报 (a blank form), 无法读取, 非本轮版本 (filed on
another edition than the round's, the newest one in the inbox — last year's form, say),
已被替代 (an earlier workbook of a department that filed again: its latest counts),
未报送 (on the roster, no workbook). Findings across departments (peer comparisons) are listed but do not
change a status: a department cannot correct its peers' figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..dataset.latest import department_key
from ..dataset.totals import Figure

PASSED, OPEN, ERRORS, BLANK, FAILED, OTHER_ROUND, SUPERSEDED, MISSING = (
    "通过",
    "待说明",
    "有错误",
    "未填报",
    "无法读取",
    "非本轮版本",
    "已被替代",
    "未报送",
)
STATUS_ORDER = {s: i for i, s in enumerate((PASSED, OPEN, ERRORS, BLANK, FAILED, OTHER_ROUND, SUPERSEDED, MISSING))}


@dataclass
class SummaryRow:
    """One line of 汇总: a workbook, or a department of the roster that filed none."""

    department: str
    source: str
    status: str
    figures: dict[str, Decimal | None] = field(default_factory=dict)
    rank: int | None = None
    errors: int | None = None
    open_warnings: int | None = None
    explained: int | None = None
    edition: str = ""
    across: int = 0
    remark: str = ""
    outputs: str = ""

    @property
    def counted(self) -> bool:
        """Part of the district's figures (latest readable workbook of its department)."""
        return self.status in (PASSED, OPEN, ERRORS, BLANK)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def is_blank(record: dict[str, Any] | None, spec: Any) -> bool:
    """A form with no input filled in besides the department's name and the year (which
    ``xlproc template --department --year`` writes in advance)."""
    if not record or spec is None:
        return False
    dept_field = getattr(spec, "department_field", "")
    inputs = [fid for fid, f in spec.fields.items() if f.is_input and fid != dept_field and f.type != "year"]
    return not any(record["fields"].get(fid) not in (None, "") for fid in inputs) and not any(
        record.get("tables", {}).values()
    )


def row_figures(result: Any, figures: tuple[Figure, ...]) -> dict[str, Decimal | None]:
    """A result's summary figures, as the worker computed them from the same submission as its record."""
    return {fig.id: _decimal(result.figures.get(fig.id)) for fig in figures}


def status_of(result: Any, superseded: dict[str, str], spec: Any, other_round: dict[str, str] | None = None) -> str:
    if not result.ok:
        return FAILED
    if result.source in superseded:
        return SUPERSEDED
    if other_round and result.source in other_round:
        return OTHER_ROUND
    if is_blank(result.record, spec):
        return BLANK
    if result.counts.get("error"):
        return ERRORS
    if result.counts.get("open_warning"):
        return OPEN
    return PASSED


def competition_ranks(scored: list[tuple[Decimal, str]]) -> dict[str, int]:
    """(score, key) → key's place, highest first; ties share a place (1, 2, 2, 4)."""
    scored = sorted(scored, key=lambda x: -x[0])
    out: dict[str, int] = {}
    for i, (score, key) in enumerate(scored):
        out[key] = out[scored[i - 1][1]] if i and scored[i - 1][0] == score else i + 1
    return out


def summary_rows(batch: Any, figures: tuple[Figure, ...]) -> list[SummaryRow]:
    """Every line of 汇总 in order: ranked first, then by status, then the roster's missing departments."""
    spec = batch.dataset.spec if getattr(batch, "dataset", None) is not None else None
    superseded = getattr(batch, "superseded", {}) or {}
    across: dict[str, int] = {}
    other_round: dict[str, str] = {}
    if getattr(batch, "dataset", None) is not None:
        for f in batch.dataset.across:
            across[f["source"]] = across.get(f["source"], 0) + 1
        other_round = {e.source: e.other_round for e in batch.dataset.entries if e.other_round}
    rank_fig = next((f for f in figures if f.rank), figures[0] if figures else None)
    rows: list[SummaryRow] = []
    for r in batch.results:
        status = status_of(r, superseded, spec, other_round)
        remark = [r.error] if r.error else []
        if status == OTHER_ROUND:
            remark.append(other_round[r.source])
        remark += list(r.notes)
        if across.get(r.source):
            remark.append(f"跨部门核对提示 {across[r.source]} 条（见“审核问题”）")
        rows.append(
            SummaryRow(
                department=r.department or ("（无法读取）" if not r.ok else "（未填部门名称）"),
                source=r.source,
                status=status,
                figures=row_figures(r, figures) if r.ok else {},
                edition=r.form_version if r.ok else "",
                errors=r.counts.get("error") if r.ok else None,
                open_warnings=r.counts.get("open_warning") if r.ok else None,
                explained=r.counts.get("explained") if r.ok else None,
                across=across.get(r.source, 0),
                remark="；".join(x for x in remark if x),
                outputs="、".join(r.outputs[k] for k in ("annotated", "report", "findings") if k in r.outputs),
            )
        )
    if rank_fig is not None:
        scored = [
            (row.figures[rank_fig.id], row.source)
            for row in rows
            if row.status == PASSED and row.figures.get(rank_fig.id) is not None
        ]
        places = competition_ranks(scored)
        for row in rows:
            row.rank = places.get(row.source)
            if row.status == PASSED and row.rank is None:
                row.remark = "；".join(x for x in (row.remark, f"未填{rank_fig.label}，不参与排名") if x)
    roster = getattr(batch, "roster", None)
    if roster:
        filed = {department_key(row.department) for row in rows if row.counted}
        for name in roster:
            if department_key(name) not in filed:
                rows.append(SummaryRow(department=name, source="", status=MISSING, remark="名单中的部门未报送工作簿"))
        listed = {department_key(n) for n in roster}
        for row in rows:
            if row.counted and department_key(row.department) not in listed:
                row.remark = "；".join(x for x in (row.remark, "不在部门名单中，请核对部门名称") if x)

    def order(row: SummaryRow) -> tuple:
        ranked = row.rank is not None
        return (not ranked, row.rank or 0, STATUS_ORDER[row.status], row.department, row.source)

    return sorted(rows, key=order)
