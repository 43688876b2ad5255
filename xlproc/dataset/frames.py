"""The district dataset: pandas frames built from the per-file records.

Frames (``Dataset.frames()`` in this order):

- ``fields``    one row per department (its latest readable workbook), columns
                ``department``, ``source`` and one per field id of the form. Amounts and
                every other number are exact ``decimal.Decimal`` (object dtype), never
                floats; dates ``datetime.date``; text ``str``; a blank or unreadable cell
                is missing (``None``), its problem in ``problems``.
- ``<table>``   one long frame per repeating table: ``department``, ``source``,
                ``row`` (the Excel row), then the table's column ids.
- ``findings``  every finding: ``department, source, rule, severity, sheet, cell,
                message, status`` (``explanation``: the department's 说明).
- ``problems``  cells that could not be read: ``department, source, sheet, cell,
                field, label, raw, message``.
- ``meta``      one row per workbook: ``source, department, edition, sha256, read_at,
                status, superseded_by, error``.

Every frame's columns have Chinese labels (``Dataset.labels``) for the xlsx export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..form.spec import FormSpec
from .record import decode

SEVERITY_STATUS = {"error": "待修改", "info": "提示"}
META_STATUS = {"ok": "已读取", "superseded": "已被替代", "failed": "无法读取", "other_round": "非本轮版本"}

FINDING_COLUMNS = ["department", "source", "rule", "severity", "sheet", "cell", "message", "status", "explanation"]
PROBLEM_COLUMNS = ["department", "source", "sheet", "cell", "field", "label", "raw", "message"]
META_COLUMNS = ["source", "department", "edition", "sha256", "read_at", "status", "superseded_by", "error"]

BASE_LABELS = {
    "department": "部门名称",
    "source": "源文件",
    "row": "Excel行号",
    "rule": "规则",
    "severity": "级别",
    "sheet": "工作表",
    "cell": "单元格",
    "message": "问题描述",
    "status": "状态",
    "explanation": "部门说明",
    "field": "字段编号",
    "label": "项目",
    "raw": "原始内容",
    "edition": "表单版本",
    "sha256": "文件SHA-256",
    "read_at": "读取时间",
    "superseded_by": "被替代为",
    "error": "无法读取的原因",
}


@dataclass(frozen=True)
class FileEntry:
    """One workbook as the dataset sees it (a batch ``FileResult`` or a file read here)."""

    source: str
    department: str = ""
    sha256: str = ""
    ok: bool = True
    error: str = ""
    record: dict[str, Any] | None = None
    findings: tuple[dict[str, Any], ...] = ()
    superseded_by: str = ""  # a later workbook of the same department replaces this one
    previous: dict[str, str] | None = None  # last year's figures (encoded), for year-on-year checks
    other_round: str = ""  # filed on another edition than the round's (e.g. last year's form): why

    @property
    def counted(self) -> bool:
        """Part of the district's figures: readable, not superseded, on the round's edition."""
        return self.ok and not self.superseded_by and not self.other_round and self.record is not None


def finding_status(f: dict[str, Any]) -> str:
    """How far a finding is dealt with: 待修改 / 待说明 / 已说明 / 提示 (or the finding's own)."""
    if f.get("status"):
        return str(f["status"])
    if f["severity"] == "warning":
        return "已说明" if f.get("explained") or f.get("explanation") else "待说明"
    return SEVERITY_STATUS.get(f["severity"], "")


@dataclass
class Dataset:
    """The district's figures as pandas frames (see the module docstring)."""

    spec: FormSpec
    fields: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    problems: pd.DataFrame
    meta: pd.DataFrame
    entries: list[FileEntry] = field(default_factory=list, repr=False)
    across: list[dict[str, Any]] = field(default_factory=list, repr=False)  # findings across departments

    def add_findings(self, extra: list[dict[str, Any]]) -> None:
        """Append findings (dicts with department and source) to ``findings``."""
        if extra:
            rows = [_finding_row(f["department"], f["source"], f) for f in extra]
            added = pd.DataFrame(rows, columns=FINDING_COLUMNS, dtype=object)
            self.findings = added if self.findings.empty else pd.concat([self.findings, added], ignore_index=True)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every frame by name, in export order (tables by their id)."""
        return {
            "fields": self.fields,
            **self.tables,
            "findings": self.findings,
            "problems": self.problems,
            "meta": self.meta,
        }

    def sheet_names(self) -> dict[str, str]:
        """Frame name → Chinese sheet name for the xlsx export."""
        from ..ooxml.tablebook import sheet_name

        names = {"fields": "字段", "findings": "审核问题", "problems": "无法读取的单元格", "meta": "文件"}
        taken = {n.casefold() for n in names.values()}
        for tid, spec in self.spec.tables.items():  # a pack's label may hold / or : and be long
            names[tid] = sheet_name(f"表格·{spec.label}", taken)
        return names

    def labels(self, name: str) -> dict[str, str]:
        """Column id → Chinese label of one frame."""
        if name == "fields":
            return {**BASE_LABELS, **field_labels(self.spec)}
        if name in self.spec.tables:
            return {**BASE_LABELS, **{c.id: c.label for c in self.spec.tables[name].columns}}
        return dict(BASE_LABELS)

    def value(self, department: str, field_id: str) -> Any:
        """One department's value of one field (None when blank or unreadable)."""
        rows = self.fields.loc[self.fields["department"] == department, field_id]
        return rows.iloc[0] if len(rows) else None


def field_labels(spec: FormSpec) -> dict[str, str]:
    """Field id → a unique Chinese column label ("sheet·label" where a label repeats)."""
    count: dict[str, int] = dict.fromkeys(BASE_LABELS.values(), 1)  # never the same as 部门名称 / 源文件 …
    for f in spec.fields.values():
        count[f.label] = count.get(f.label, 0) + 1
    out = {}
    for fid, f in spec.fields.items():
        label = f.label if count[f.label] == 1 else f"{spec.sheet_name(f.sheet)}·{f.label}"
        out[fid] = f"{label}（{f.unit}）" if f.unit and f.unit not in label else label
    return out


def build_frames(spec: FormSpec, entries: Iterable[FileEntry]) -> Dataset:
    """The dataset of ``entries`` (superseded and unreadable ones only in ``meta``)."""
    entries = list(entries)
    counted = [e for e in entries if e.counted]
    field_ids = list(spec.fields)
    kinds = {fid: f.type for fid, f in spec.fields.items()}
    rows = []
    for e in counted:
        values = e.record["fields"]  # type: ignore[index]
        row: dict[str, Any] = {"department": e.department, "source": e.source}
        for fid in field_ids:
            row[fid] = decode(values.get(fid), kinds[fid])
        rows.append(row)
    fields = pd.DataFrame(rows, columns=["department", "source", *field_ids], dtype=object)

    tables = {}
    for tid, tspec in spec.tables.items():
        cols = [c.id for c in tspec.columns]
        ckinds = [c.type for c in tspec.columns]
        trows = []
        for e in counted:
            for raw in e.record["tables"].get(tid, ()):  # type: ignore[index]
                trows.append(
                    [
                        e.department,
                        e.source,
                        int(raw[0]),
                        *(decode(v, k) for v, k in zip(raw[1:], ckinds, strict=False)),
                    ]
                )
        tables[tid] = pd.DataFrame(trows, columns=["department", "source", "row", *cols], dtype=object)

    frows = []
    for e in counted:
        for f in e.findings:
            frows.append(_finding_row(e.department, e.source, f))
    findings = pd.DataFrame(frows, columns=FINDING_COLUMNS, dtype=object)

    prows = []
    for e in counted:
        for sheet, cell, fid, label, raw, message in e.record.get("problems", ()):  # type: ignore[union-attr]
            prows.append([e.department, e.source, sheet, cell, fid, label, raw, message])
    problems = pd.DataFrame(prows, columns=PROBLEM_COLUMNS, dtype=object)

    mrows = []
    for e in entries:
        form = (e.record or {}).get("form") or ["", ""]
        if not e.ok or e.record is None:
            status = "failed"
        else:
            status = "superseded" if e.superseded_by else ("other_round" if e.other_round else "ok")
        mrows.append(
            [
                e.source,
                e.department,
                " ".join(x for x in form if x),
                e.sha256,
                (e.record or {}).get("read_at", ""),
                META_STATUS[status],
                e.superseded_by,
                e.error or e.other_round,
            ]
        )
    meta = pd.DataFrame(mrows, columns=META_COLUMNS, dtype=object)
    return Dataset(spec, fields, tables, findings, problems, meta, entries)


def _finding_row(department: str, source: str, f: dict[str, Any]) -> list[Any]:
    return [
        department,
        source,
        f.get("rule_id", f.get("rule", "")),
        f["severity"],
        f.get("sheet", ""),
        f.get("cell", ""),
        f.get("message", ""),
        finding_status(f),
        f.get("explanation", ""),
    ]
