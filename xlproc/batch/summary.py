"""The bureau's summary workbook ``汇总.xlsx`` (xlsxwriter).

Sheets: 汇总 (one row per workbook: rank for the departments that passed, then everyone
else with a highlighted status; the pack's figures; a district totals row), 得分图 (a
chart sheet: the ranked departments' scores, sorted, on an axis that shows the spread),
全区合计 (the district's totals of every amount grid of the form: 三公, 三保, budgets
and 决算 by function class), 审核问题 (every finding, incl. the checks across
departments), 按规则 (how many departments each rule fired on) and 失败文件 (failed,
skipped, superseded and missing workbooks with the reason).

Figures and totals come from the district dataset's frames (``xlproc.dataset``), so the
summary and 全区数据.xlsx never disagree. Every sheet has a print setup (A4, fitted to
one page wide, header rows repeated, title and page numbers). Department-supplied text
is data: every string goes through ``write_string`` with ``strings_to_formulas`` off.
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions

from ..dataset.frames import finding_status
from ..dataset.totals import Figure, district_figures, figures_from, grid_totals
from ..errors import OutputError, os_reason
from ..io.atomic import write_bytes
from ..io.print_setup import setup_print
from ..results import SEVERITY_LABELS
from .summary_rows import (
    BLANK,
    ERRORS,
    FAILED,
    MISSING,
    OPEN,
    OTHER_ROUND,
    PASSED,
    SUPERSEDED,
    SummaryRow,
    summary_rows,
)

SHEET_SUMMARY = "汇总"
SHEET_FINDINGS = "审核问题"
SHEET_RULES = "按规则"
SHEET_FAILED = "失败文件"
SHEET_CHART = "得分图"
SHEET_TOTALS = "全区合计"
TITLE = "部门整体绩效自评审核汇总"
MAX_CELL_TEXT = 32767  # Excel's limit per cell

STATUS_FILLS = {  # (fill, font): green passed, amber to explain, red errors, greys for the rest
    PASSED: ("#C6EFCE", "#006100"),
    OPEN: ("#FFEB9C", "#7F6000"),
    ERRORS: ("#FFC7CE", "#9C0006"),
    BLANK: ("#EDEDED", "#595959"),
    FAILED: ("#F4B084", "#833C0B"),
    OTHER_ROUND: ("#D9D9D9", "#595959"),
    SUPERSEDED: ("#D9D9D9", "#595959"),
    MISSING: ("#FCE4D6", "#C00000"),
}
NUM_FORMATS = {0: "0", 1: "0.0", 2: "#,##0.00", 3: "#,##0.000", 4: "#,##0.0000"}
FINDING_COLUMNS = [
    ("部门名称", 18),
    ("源文件", 18),
    ("级别", 7),
    ("规则", 20),
    ("工作表", 9),
    ("单元格", 6),
    ("问题描述", 50),
    ("部门说明", 22),
    ("处理状态", 8),
]
RULE_COLUMNS = [("规则", 26), ("级别", 8), ("触发部门数", 10), ("触发次数", 9), ("占部门比例（%）", 11), ("示例", 70)]
FAILED_COLUMNS = [("源文件", 36), ("类别", 14), ("原因", 80)]


def ranks(results: list[Any], figure: str) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) by a summary figure (the pack's ranked one), highest first.

    Every readable result; 汇总 itself ranks only the departments that passed (``summary_rows``).
    """
    from .summary_rows import _decimal, competition_ranks

    scored = [(s, r.source) for r in results if r.ok and (s := _decimal(r.figures.get(figure))) is not None]
    return competition_ranks(scored)


def _columns(figures: tuple[Figure, ...]) -> list[tuple[str, str, str, float]]:
    """(header, key, kind, width) of the 汇总 sheet; figure keys are ``fig:<id>``."""
    cols = [
        ("序号", "index", "int", 5),
        ("部门名称", "department", "text", 26),
        ("版本", "edition", "text", 7),
        ("审核状态", "status", "status", 9),
    ]
    cols.append(("排名", "rank", "int", 5))
    ordered = sorted(figures, key=lambda f: not f.rank)  # the rank figure right after the rank
    cols += [(f.label, f"fig:{f.id}", f"dec{f.decimals}", 10.5) for f in ordered]
    cols[1] = ("部门名称", "department", "wrap", 24)
    cols += [
        ("强制性错误", "errors", "int", 6),
        ("未说明提示", "open_warnings", "int", 6),
        ("已说明提示", "explained", "int", 6),
        ("跨部门核对提示", "across", "int", 6),
        ("备注", "remark", "wrap", 34),
        # not printed (the print area ends at 备注): where the files are
        ("源文件", "source", "wrap", 24),
        ("审核结果文件", "outputs", "wrap", 30),
    ]
    return cols


PRINTED_UNTIL = "remark"  # the last column of 汇总's print area


class _Sheet:
    """A worksheet with a bold header row, frozen and filtered, writing typed cells."""

    def __init__(self, wb: Any, fmts: dict[str, Any], name: str, columns: list[tuple[str, float]], title: str):
        self.ws = wb.add_worksheet(name)
        self.fmts = fmts
        for c, (head, width) in enumerate(columns):
            self.ws.write_string(0, c, head, fmts["head"])
            self.ws.set_column(c, c, width)
        self.ws.set_row(0, 30)
        self.ws.freeze_panes(1, 0)
        self.ncols = len(columns)
        setup_print(self.ws, title, width=sum(w for _h, w in columns))

    def text(self, r: int, c: int, value: Any, fmt: str = "text") -> None:
        if value not in (None, ""):
            self.ws.write_string(r, c, str(value)[:MAX_CELL_TEXT], self.fmts[fmt])

    def number(self, r: int, c: int, value: Any, fmt: str = "dec2") -> None:
        if value is not None and value != "":
            self.ws.write_number(r, c, float(value), self.fmts[fmt])

    def fit_row(self, r: int, texts: list[tuple[Any, float]]) -> None:
        """Row height for wrapped text: (text, column width) → lines (a CJK character is ~2 units)."""
        lines = 1
        for text, width in texts:
            if text:
                units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))
                lines = max(lines, -(-units // max(int(width) - 1, 1)))
        if lines > 1:
            self.ws.set_row(r, 14.5 * min(lines, 15) + 2)

    def finish(self, nrows: int) -> None:
        self.ws.autofilter(0, 0, max(nrows, 1), self.ncols - 1)


def _formats(wb: Any) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 10, "valign": "top"}
    fmts = {
        "head": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
        "text": wb.add_format(base),
        "wrap": wb.add_format({**base, "text_wrap": True}),
        "int": wb.add_format({**base, "num_format": "0"}),
        "title": wb.add_format({**base, "bold": True, "font_size": 12}),
        "note": wb.add_format({**base, "font_color": "#595959", "italic": True}),
    }
    for d, f in NUM_FORMATS.items():
        fmts[f"dec{d}"] = wb.add_format({**base, "num_format": f})
    total = {**base, "bold": True, "top": 1, "bottom": 6, "bg_color": "#F2F2F2"}
    fmts["total_text"] = wb.add_format(total)
    fmts["total_int"] = wb.add_format({**total, "num_format": "0"})
    for d, f in NUM_FORMATS.items():
        fmts[f"total_dec{d}"] = wb.add_format({**total, "num_format": f})
    for status, (fill, font) in STATUS_FILLS.items():
        fmts[f"status:{status}"] = wb.add_format({**base, "bold": True, "bg_color": fill, "font_color": font})
    return fmts


def _write_summary_sheet(wb: Any, fmts: dict[str, Any], rows: list[SummaryRow], batch: Any, figures) -> int:
    cols = _columns(figures)
    last = next(c for c, col in enumerate(cols) if col[1] == PRINTED_UNTIL)
    sh = _Sheet(wb, fmts, SHEET_SUMMARY, [(h, w) for h, _k, _t, w in cols[: last + 1]], TITLE)
    for c, (head, _k, _t, width) in enumerate(cols[last + 1 :], start=last + 1):
        sh.ws.write_string(0, c, head, fmts["head"])
        sh.ws.set_column(c, c, width)
    sh.ncols = len(cols)
    sh.ws.set_row(0, 45)
    sh.ws.freeze_panes(1, 2)
    sh.ws.print_area(0, 0, len(rows) + 1, last)
    for i, row in enumerate(rows, start=1):
        for c, (_h, key, kind, _w) in enumerate(cols):
            value = i if key == "index" else (row.figures.get(key[4:]) if key.startswith("fig:") else getattr(row, key))
            if kind == "status":
                sh.text(i, c, value, f"status:{value}")
            elif kind in ("text", "wrap"):
                sh.text(i, c, value, kind)
            elif key == "across" and not value:
                continue
            else:
                sh.number(i, c, value, "int" if kind == "int" else kind)
        sh.fit_row(i, [(row.remark, next(w for _h, k, _t, w in cols if k == "remark")), (row.department, 24)])
    sh.finish(len(rows))
    _write_totals_row(sh, fmts, rows, batch, cols, figures, len(rows) + 1)
    # Statuses also keyed by conditional formats, so a status typed over by hand recolours.
    status_col = next(c for c, col in enumerate(cols) if col[1] == "status")
    for status in STATUS_FILLS:
        sh.ws.conditional_format(
            1,
            status_col,
            max(len(rows), 1),
            status_col,
            {"type": "cell", "criteria": "==", "value": f'"{status}"', "format": fmts[f"status:{status}"]},
        )
    return sum(1 for r in rows if r.rank is not None)


def _write_totals_row(sh: _Sheet, fmts, rows: list[SummaryRow], batch: Any, cols, figures, r: int) -> None:
    """全区合计: sums over the departments counted (latest readable workbook each), from the dataset."""
    counted = [row for row in rows if row.counted]
    ds = getattr(batch, "dataset", None)
    if ds is not None:
        totals = district_figures(ds.fields, figures, ds.spec)
    else:  # no dataset (a stub batch): the sums of the rows' own amounts
        totals = {
            f.id: sum((v for row in counted if (v := row.figures.get(f.id)) is not None), Decimal(0))
            if f.kind in ("amount", "count")
            else None
            for f in figures
        }
    for c, (_h, key, kind, _w) in enumerate(cols):
        if key == "department":
            sh.ws.write_string(r, c, f"全区合计（{len(counted)} 个部门）", fmts["total_text"])
        elif key.startswith("fig:") and totals.get(key[4:]) is not None:
            sh.ws.write_number(r, c, float(totals[key[4:]]), fmts[f"total_{kind}"])
        elif key in ("errors", "open_warnings", "explained", "across"):
            sh.ws.write_number(r, c, sum(getattr(row, key) or 0 for row in counted), fmts["total_int"])
        else:
            sh.ws.write_blank(r, c, None, fmts["total_text"])


def _write_chart_sheet(wb: Any, rows: list[SummaryRow], nranked: int, figures) -> None:
    """The ranked departments' scores, highest on top, on an axis from just below the lowest."""
    rank_fig = next((f for f in figures if f.rank), None)
    if not nranked or rank_fig is None:
        return
    cols = _columns(figures)
    col_name = next(c for c, col in enumerate(cols) if col[1] == "department")
    col_score = next(c for c, col in enumerate(cols) if col[1] == f"fig:{rank_fig.id}")
    scores = [float(r.figures[rank_fig.id]) for r in rows[:nranked]]
    low, high = min(scores), max(scores)
    axis_min = max(0.0, (int(low) // 5) * 5 - (5 if high - low < 5 else 0))
    axis_max = 100.0 if high <= 100 else ((int(high) // 5) + 1) * 5
    chart = wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": rank_fig.label,
            "categories": [SHEET_SUMMARY, 1, col_name, nranked, col_name],
            "values": [SHEET_SUMMARY, 1, col_score, nranked, col_score],
            "data_labels": {"value": True, "num_format": "0.00", "font": {"name": "宋体", "size": 9}},
            "fill": {"color": "#4472C4"},
            "gap": 60,
        }
    )
    chart.set_title(
        {"name": f"通过审核部门的{rank_fig.label}（按得分排序）", "name_font": {"name": "宋体", "size": 14}}
    )
    chart.set_x_axis(
        {
            "min": axis_min,
            "max": axis_max,
            "name": f"{rank_fig.label}（坐标轴自 {axis_min:g} 起）",
            "name_font": {"name": "宋体", "size": 10},
            "num_font": {"name": "宋体"},
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    chart.set_y_axis({"reverse": True, "num_font": {"name": "宋体", "size": 9}})
    chart.set_legend({"none": True})
    sheet = wb.add_chartsheet(SHEET_CHART)
    sheet.set_chart(chart)
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.set_header(f'&C&"宋体,Bold"&12{TITLE}：得分图')
    sheet.set_footer("&C第 &P 页 / 共 &N 页")


def _write_totals_sheet(wb: Any, fmts: dict[str, Any], batch: Any) -> None:
    ds = getattr(batch, "dataset", None)
    if ds is None:
        return
    tables = grid_totals(ds.spec, ds.fields)
    ws = wb.add_worksheet(SHEET_TOTALS)
    ws.set_column(0, 0, 30)
    width = max((len(t.columns) for t in tables), default=1)
    ws.set_column(1, width, 16)
    n = len(ds.fields)
    ws.write_string(0, 0, f"全区合计：{n} 个部门（每个部门以最新报送的可读工作簿计），单位：万元", fmts["title"])
    r = 2
    for t in tables:
        ws.write_string(r, 0, f"{t.label}（{t.sheet}）", fmts["head"])
        for c, (_cid, label) in enumerate(t.columns, start=1):
            ws.write_string(r, c, label, fmts["head"])
        r += 1
        for k, (label, sums) in enumerate(t.rows):
            is_total = t.has_total and k == len(t.rows) - 1
            ws.write_string(r, 0, label, fmts["total_text"] if is_total else fmts["text"])
            for c, v in enumerate(sums, start=1):
                if v is not None:
                    ws.write_number(r, c, float(v), fmts["total_dec2"] if is_total else fmts["dec2"])
            r += 1
        r += 1
    ws.write_string(r, 0, "数据来源：全区数据.xlsx 的“字段”表逐列求和（空白不计）。", fmts["note"])
    setup_print(ws, f"{TITLE}：全区合计", header_rows=None, landscape=False)


def _all_findings(batch: Any) -> list[tuple[Any, dict[str, Any]]]:
    superseded = getattr(batch, "superseded", {}) or {}
    out = [(r, f) for r in batch.results if r.ok and r.source not in superseded for f in r.findings]
    ds = getattr(batch, "dataset", None)
    if ds is not None and ds.across:
        by_source = {r.source: r for r in batch.results}
        out += [(by_source[f["source"]], f) for f in ds.across if f["source"] in by_source]
    return out


def _write_findings_sheet(wb: Any, fmts: dict[str, Any], findings: list[tuple[Any, dict[str, Any]]]) -> None:
    sh = _Sheet(wb, fmts, SHEET_FINDINGS, FINDING_COLUMNS, f"{TITLE}：审核问题")
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
            finding_status(f),
        ]
        for c, v in enumerate(values):
            sh.text(i, c, v, "wrap" if c in (0, 1, 3, 6, 7) else "text")
        sh.fit_row(i, [(values[c], FINDING_COLUMNS[c][1]) for c in (0, 1, 3, 6, 7)])
    sh.finish(len(findings))


def _write_rules_sheet(wb: Any, fmts: dict[str, Any], findings: list[tuple[Any, dict[str, Any]]], n_ok: int) -> None:
    sh = _Sheet(wb, fmts, SHEET_RULES, RULE_COLUMNS, f"{TITLE}：按规则")
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
            sh.number(i, 4, Decimal(len(depts[rid]) * 100) / Decimal(n_ok), "dec2")
        sh.text(i, 5, first[rid].get("message", ""), "wrap")
        sh.fit_row(i, [(first[rid].get("message", ""), RULE_COLUMNS[5][1])])
    sh.finish(len(order))


def _write_failed_sheet(wb: Any, fmts: dict[str, Any], batch: Any, rows: list[SummaryRow]) -> None:
    sh = _Sheet(wb, fmts, SHEET_FAILED, FAILED_COLUMNS, f"{TITLE}：未计入的文件")
    out = [(r.source, "处理失败", r.error) for r in batch.results if not r.ok]
    superseded = getattr(batch, "superseded", {}) or {}
    out += [(src, "已被替代", f"同一部门较新的工作簿 {kept} 计入汇总") for src, kept in superseded.items()]
    out += [(name, "已跳过", why) for name, why in batch.skipped]
    out += [(name, "上年工作簿无法读取", why) for name, why in batch.previous_errors]
    out += [(row.department, "未报送", row.remark) for row in rows if row.status == MISSING]
    for i, row in enumerate(out, start=1):
        for c, v in enumerate(row):
            sh.text(i, c, v, "wrap" if c == 2 else "text")
        sh.fit_row(i, [(row[2], FAILED_COLUMNS[2][1])])
    sh.finish(len(out))


def write_summary(path: Path, batch: Any, figures: Any = None) -> Path:
    """Write the bureau's summary workbook for a ``BatchResult`` (atomically).

    ``figures``: the pack's ``summary:`` list (default: the figures of the packs the batch used).
    """
    figs = figures_from(figures or getattr(batch, "figures", None))
    try:
        _write(Path(path), batch, figs)
    except (OSError, xlsxwriter.exceptions.FileCreateError) as exc:  # xlsxwriter wraps disk full / EFBIG
        inner = exc if isinstance(exc, OSError) else next(iter(exc.args), None)  # FileCreateError wraps one
        reason = os_reason(inner) if isinstance(inner, OSError) else exc
        raise OutputError(
            f"无法写入汇总表 {path}（{reason}）。如该文件正在 Excel/WPS 中打开，请关闭后重新运行；"
            "已处理的工作簿会直接沿用"
        ) from None
    return Path(path)


def _write(path: Path, batch: Any, figures: tuple[Figure, ...]) -> None:
    rows = summary_rows(batch, figures)
    findings = _all_findings(batch)
    n_ok = sum(1 for r in rows if r.counted)
    # built in memory, then written atomically by us: a full disk is one clean OSError
    # (xlsxwriter writing a file itself leaves a half-closed zip that complains at exit)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True},
    )
    wb.set_properties({"title": TITLE, "author": "xlproc"})
    fmts = _formats(wb)
    nranked = _write_summary_sheet(wb, fmts, rows, batch, figures)
    _write_chart_sheet(wb, rows, nranked, figures)
    _write_totals_sheet(wb, fmts, batch)
    _write_findings_sheet(wb, fmts, findings)
    _write_rules_sheet(wb, fmts, findings, n_ok)
    _write_failed_sheet(wb, fmts, batch, rows)
    wb.close()
    write_bytes(path, buffer.getvalue())
