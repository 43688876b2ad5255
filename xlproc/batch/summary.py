"""The bureau's summary workbook ``汇总.xlsx`` (xlsxwriter).

Sheets: 汇总 (one row per workbook: score and rank, counts, key figures), 得分图 (a
chart sheet: native bar chart of the converted scores), 审核问题 (every finding with its file and
department), 按规则 (how many departments each rule fired on, like a reviewer's
按公式 view) and 失败文件 (failed, skipped and unreadable files with the reason).

Department-supplied text is data: every string goes through ``write_string`` with
``strings_to_formulas`` off, so a name or 说明 beginning with = + - @ stays text.
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions

from ..errors import OutputError
from ..io.atomic import write_bytes
from ..results import SEVERITY_LABELS

SHEET_SUMMARY = "汇总"
SHEET_FINDINGS = "审核问题"
SHEET_RULES = "按规则"
SHEET_FAILED = "失败文件"
SHEET_CHART = "得分图"
DUPLICATE_RULE = "batch.duplicate_department"
MAX_CELL_TEXT = 32767  # Excel's limit per cell

# (header, key, kind, width); the packs' summary figures (pack.yaml ``summary``) go where
# SCORES (kind score: the ranked one first, 排名 right after it) and FIGURES (the others)
# stand (``summary_columns``).
SCORES = ("", "", "scores", 0)
FIGURES = ("", "", "figures", 0)
SUMMARY_COLUMNS = [
    ("序号", "index", "int", 6),
    ("部门名称", "department", "text", 26),
    ("源文件", "source", "text", 30),
    ("版本", "edition", "text", 9),
    ("审核状态", "status", "text", 10),
    SCORES,
    ("强制性错误", "errors", "int", 10),
    ("未说明提示", "open_warnings", "int", 10),
    ("已说明提示", "explained", "int", 10),
    FIGURES,
    ("备注", "remark", "text", 50),
    ("审核结果文件", "outputs", "text", 40),
]
_FIGURE_FORMATS = {0: "int", 1: "num1"}  # decimals → number format (otherwise 2 places)


def summary_columns(figures: list[Any]) -> list[tuple[str, str, str, int]]:
    """The 汇总 columns for the batch's summary figures (``SummaryFigure`` of the packs used)."""
    ranked = [f for f in figures if f.rank][:1]
    slots = {
        id(SCORES): ranked + [f for f in figures if f.kind == "score" and f not in ranked],
        id(FIGURES): [f for f in figures if f.kind != "score" and f not in ranked],
    }
    columns: list[tuple[str, str, str, int]] = []
    for col in SUMMARY_COLUMNS:
        if id(col) not in slots:
            columns.append(col)
            continue
        for f in slots[id(col)]:
            columns.append(
                (f.label, f"figure:{f.id}", _FIGURE_FORMATS.get(f.decimals, "num"), 14 if f.kind == "amount" else 10)
            )
            if f in ranked:
                columns.append(("排名", "rank", "int", 6))
    return columns


FINDING_COLUMNS = [
    ("部门名称", 24),
    ("源文件", 28),
    ("级别", 8),
    ("规则", 22),
    ("工作表", 12),
    ("单元格", 8),
    ("问题描述", 60),
    ("部门说明", 40),
    ("处理状态", 10),
]
RULE_COLUMNS = [("规则", 26), ("级别", 8), ("触发部门数", 10), ("触发次数", 10), ("占部门比例（%）", 12), ("示例", 70)]
FAILED_COLUMNS = [("源文件", 36), ("类别", 14), ("原因", 80)]


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _status(r: Any) -> str:
    if not r.ok:
        return "处理失败"
    if any(n.startswith("重复报送") for n in r.notes):
        return "重复报送"
    if r.counts.get("error"):
        return "有错误"
    if r.counts.get("open_warning"):
        return "待说明"
    return "通过"


def ranks(results: list[Any], figure: str | None = None) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) by a summary figure (default: the default pack's ranked one), highest first."""
    if figure is None:
        figure = _rank_figure(_default_figures())
    if not figure:
        return {}
    scored = [(s, r.source) for r in results if r.ok and (s := _num(r.figures.get(figure))) is not None]
    scored.sort(key=lambda x: -x[0])
    out: dict[str, int] = {}
    for i, (score, source) in enumerate(scored):
        out[source] = out[scored[i - 1][1]] if i and scored[i - 1][0] == score else i + 1
    return out


def _finding_state(f: dict[str, Any]) -> str:
    if f["severity"] == "error":
        return "待修改"
    if f["severity"] == "warning":
        return "已说明" if f.get("explained") else "待说明"
    return "—"


class _Sheet:
    """A worksheet with a bold header row, frozen and filtered, writing typed cells."""

    def __init__(self, wb: Any, fmts: dict[str, Any], name: str, columns: list[tuple[str, int]]):
        self.ws = wb.add_worksheet(name)
        self.fmts = fmts
        self.row = 0
        for c, (title, width) in enumerate(columns):
            self.ws.write_string(0, c, title, fmts["head"])
            self.ws.set_column(c, c, width)
        self.ws.freeze_panes(1, 0)
        self.ncols = len(columns)

    def text(self, r: int, c: int, value: Any) -> None:
        if value not in (None, ""):
            self.ws.write_string(r, c, str(value)[:MAX_CELL_TEXT], self.fmts["text"])

    def number(self, r: int, c: int, value: Any, fmt: str = "num") -> None:
        v = _num(value)
        if v is not None:
            self.ws.write_number(r, c, v, self.fmts[fmt])

    def finish(self, nrows: int) -> None:
        self.ws.autofilter(0, 0, max(nrows, 1), self.ncols - 1)


def _formats(wb: Any) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 10, "valign": "top"}
    return {
        "head": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
        "text": wb.add_format({**base, "text_wrap": False}),
        "int": wb.add_format({**base, "num_format": "0"}),
        "num": wb.add_format({**base, "num_format": "#,##0.00"}),
        "num1": wb.add_format({**base, "num_format": "0.0"}),
        "fail": wb.add_format({**base, "font_color": "#C00000"}),
    }


def _default_figures() -> list[Any]:
    from ..form.packs import default_pack

    return list(default_pack().summary)


def _rank_figure(figures: list[Any]) -> str:
    return next((f.id for f in figures if f.rank), "")


def _figures(batch: Any) -> list[Any]:
    return list(getattr(batch, "figures", None) or _default_figures())


def _summary_rows(batch: Any) -> list[dict[str, Any]]:
    rank = ranks(batch.results, _rank_figure(_figures(batch)))
    rows = []
    for i, r in enumerate(batch.results, start=1):
        remark = [r.error] if r.error else []
        remark += list(r.notes)
        rows.append(
            {
                "index": i,
                "department": r.department or ("（无法读取）" if not r.ok else ""),
                "source": r.source,
                "edition": r.form_version,
                "status": _status(r),
                "rank": rank.get(r.source),
                "errors": r.counts.get("error") if r.ok else None,
                "open_warnings": r.counts.get("open_warning") if r.ok else None,
                "explained": r.counts.get("explained") if r.ok else None,
                "remark": "；".join(remark),
                "outputs": "、".join(r.outputs[k] for k in ("annotated", "report", "findings") if k in r.outputs),
                **{f"figure:{k}": v for k, v in r.figures.items()},
            }
        )
    return rows


def _write_summary_sheet(wb: Any, fmts: dict[str, Any], batch: Any) -> int:
    columns = summary_columns(_figures(batch))
    sh = _Sheet(wb, fmts, SHEET_SUMMARY, [(h, w) for h, _k, _t, w in columns])
    rows = _summary_rows(batch)
    for i, row in enumerate(rows, start=1):
        for c, (_h, key, kind, _w) in enumerate(columns):
            value = row.get(key)
            if kind == "text":
                sh.text(i, c, value)
            elif value is not None:
                sh.number(i, c, value, "int" if kind == "int" else kind)
        if row["status"] == "处理失败":
            sh.ws.write_string(i, [k for _h, k, _t, _w in columns].index("status"), row["status"], fmts["fail"])
    sh.finish(len(rows))
    return len(rows)


def _write_chart_sheet(wb: Any, nrows: int, batch: Any) -> None:
    """A chart sheet: a native bar chart of every department's ranked figure (换算得分: name → score)."""
    figures = _figures(batch)
    ranked = next((f for f in figures if f.rank), None)
    if not nrows or ranked is None:
        return
    keys = [k for _h, k, _t, _w in summary_columns(figures)]
    col_name, col_score = keys.index("department"), keys.index(f"figure:{ranked.id}")
    chart = wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": ranked.label,
            "categories": [SHEET_SUMMARY, 1, col_name, nrows, col_name],
            "values": [SHEET_SUMMARY, 1, col_score, nrows, col_score],
            "data_labels": {"value": True, "num_format": "0.00"},
            "fill": {"color": "#4472C4"},
            "gap": 60,
        }
    )
    chart.set_title({"name": f"各部门{ranked.label}", "name_font": {"name": "宋体", "size": 14}})
    chart.set_x_axis({"min": 0, "max": 100, "name": ranked.label, "num_font": {"name": "宋体"}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": "宋体", "size": 9}})
    chart.set_legend({"none": True})
    sheet = wb.add_chartsheet(SHEET_CHART)
    sheet.set_chart(chart)


def _all_findings(batch: Any) -> list[tuple[Any, dict[str, Any]]]:
    out = []
    for r in batch.results:
        if not r.ok:
            continue
        out.extend((r, f) for f in r.findings)
        for dept, names in batch.duplicates.items():
            if r.source in names:
                others = "、".join(n for n in names if n != r.source)
                message = f"部门“{dept}”重复报送：另有工作簿 {others}"
                out.append(
                    (r, {"rule_id": DUPLICATE_RULE, "severity": "error", "sheet": "", "cell": "", "message": message})
                )
    return out


def _write_findings_sheet(wb: Any, fmts: dict[str, Any], findings: list[tuple[Any, dict[str, Any]]]) -> None:
    sh = _Sheet(wb, fmts, SHEET_FINDINGS, FINDING_COLUMNS)
    for i, (r, f) in enumerate(findings, start=1):
        values = [
            r.department,
            r.source,
            SEVERITY_LABELS.get(f["severity"], f["severity"]),
            f["rule_id"],
            f.get("sheet", ""),
            f.get("cell", ""),
            f.get("message", ""),
            f.get("explanation", ""),
            _finding_state(f),
        ]
        for c, v in enumerate(values):
            sh.text(i, c, v)
    sh.finish(len(findings))


def _write_rules_sheet(wb: Any, fmts: dict[str, Any], findings: list[tuple[Any, dict[str, Any]]], n_ok: int) -> None:
    sh = _Sheet(wb, fmts, SHEET_RULES, RULE_COLUMNS)
    depts: dict[str, set[str]] = defaultdict(set)
    hits: dict[str, int] = defaultdict(int)
    first: dict[str, dict[str, Any]] = {}
    for r, f in findings:
        rid = f["rule_id"]
        depts[rid].add(r.source)
        hits[rid] += 1
        first.setdefault(rid, f)
    order = sorted(depts, key=lambda rid: (-len(depts[rid]), rid))
    for i, rid in enumerate(order, start=1):
        sh.text(i, 0, rid)
        sh.text(i, 1, SEVERITY_LABELS.get(first[rid]["severity"], first[rid]["severity"]))
        sh.number(i, 2, len(depts[rid]), "int")
        sh.number(i, 3, hits[rid], "int")
        if n_ok:
            sh.number(i, 4, Decimal(len(depts[rid]) * 100) / Decimal(n_ok), "num")
        sh.text(i, 5, first[rid].get("message", ""))
    sh.finish(len(order))


def _write_failed_sheet(wb: Any, fmts: dict[str, Any], batch: Any) -> None:
    sh = _Sheet(wb, fmts, SHEET_FAILED, FAILED_COLUMNS)
    rows = [(r.source, "处理失败", r.error) for r in batch.results if not r.ok]
    rows += [(name, "已跳过", why) for name, why in batch.skipped]
    rows += [(name, "上年工作簿无法读取", why) for name, why in batch.previous_errors]
    for i, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            sh.text(i, c, v)
    sh.finish(len(rows))


def write_summary(path: Path, batch: Any) -> Path:
    """Write the bureau's summary workbook for a ``BatchResult`` (atomically)."""
    findings = _all_findings(batch)
    n_ok = sum(1 for r in batch.results if r.ok)
    try:
        _write(Path(path), batch, findings, n_ok)
    except (OSError, xlsxwriter.exceptions.FileCreateError) as exc:  # xlsxwriter wraps disk full / EFBIG
        reason = getattr(exc, "strerror", None) or getattr(getattr(exc, "args", [None])[0], "strerror", None) or exc
        raise OutputError(
            f"无法写入汇总表 {path}（{reason}）。如该文件正在 Excel/WPS 中打开，请关闭后重新运行；"
            "已处理的工作簿会直接沿用"
        ) from None
    return Path(path)


def _write(path: Path, batch: Any, findings: list[tuple[Any, dict[str, Any]]], n_ok: int) -> None:
    # built in memory, then written atomically by us: a full disk is one clean OSError
    # (xlsxwriter writing a file itself leaves a half-closed zip that complains at exit)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True},
    )
    wb.set_properties({"title": "部门整体绩效自评审核汇总", "author": "xlproc"})
    fmts = _formats(wb)
    nrows = _write_summary_sheet(wb, fmts, batch)
    _write_chart_sheet(wb, nrows, batch)
    _write_findings_sheet(wb, fmts, findings)
    _write_rules_sheet(wb, fmts, findings, n_ok)
    _write_failed_sheet(wb, fmts, batch)
    wb.close()
    write_bytes(path, buffer.getvalue())
