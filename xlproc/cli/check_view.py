"""Terminal rendering of check reports (``xlproc check --format table``), grouped by sheet."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..results import SEVERITY_LABELS, CheckReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_reports(reports: list[CheckReport], console: Console) -> None:
    """One block per workbook: a heading with the counts, then a table per sheet."""
    for report in reports:
        c = report.counts
        name = report.department or "（未填部门名称）"
        console.print(
            f"[bold]{report.source}[/]  {name}：强制性 {c['error']} 条，提示性 {c['warning']} 条"
            + (f"，提示信息 {c['info']} 条" if c["info"] else "")
        )
        if not report.findings:
            console.print("  [green]未发现问题。[/]")
            continue
        by_sheet: dict[str, list] = {}
        for f in report.findings:
            by_sheet.setdefault(f.sheet or "（其他）", []).append(f)
        for sheet, findings in by_sheet.items():
            t = Table(title=f"工作表：{sheet}", title_justify="left")
            t.add_column("单元格", no_wrap=True)
            t.add_column("级别", no_wrap=True)
            t.add_column("审核项目", max_width=24, overflow="fold")
            t.add_column("问题", overflow="fold")
            for f in findings:
                label = SEVERITY_LABELS[f.severity]
                rule = f"{escape(f.title)}\n[dim]{f.rule_id}[/]" if f.title else f.rule_id
                t.add_row(f.cell, f"[{_STYLE[f.severity]}]{label}[/]", rule, escape(f.message))
            console.print(t)
