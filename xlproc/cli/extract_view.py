"""Render a Submission as readable terminal tables (``xlproc extract --format table``)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..submission import Submission


def _show(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def render_submission(sub: Submission, console: Console) -> None:
    """Print every field (id, label, sheet, cell, value) per sheet, then every table row."""
    console.print(f"[bold]{sub.source}[/]  表单 {sub.form_id} {sub.form_version}  部门：{sub.department or '（未填）'}")
    by_sheet: dict[str, list] = {}
    for f in sub.fields.values():
        by_sheet.setdefault(f.sheet, []).append(f)
    for sheet, fields in by_sheet.items():
        t = Table(title=f"工作表：{sheet}", title_justify="left", show_lines=False)
        for col in ("字段", "名称", "单元格", "值"):
            t.add_column(col, overflow="fold")
        for f in fields:
            value = _show(f.value)
            if f.problem:
                value = f"[red]{_show(f.raw)}（{f.problem}）[/]"
            elif f.computed:
                value = f"{value}（计算）"
            t.add_row(f.id, f.label, f.cell, value)
        console.print(t)
    for table in sub.tables.values():
        t = Table(title=f"表格：{table.spec.label}（{table.sheet}，{len(table.rows)} 行）", title_justify="left")
        t.add_column("行")
        for col in table.spec.columns:
            t.add_column(f"{col.label}\n{table.columns[col.id]}列", overflow="fold")
        for rec in table.rows:
            t.add_row(str(rec["row"]), *(_show(rec.get(c.id)) for c in table.spec.columns))
        console.print(t)
    if sub.problems:
        console.print("[bold red]无法确定的单元格：[/]")
        for p in sub.problems:
            console.print(f"  {p.sheet}!{p.cell} {p.label}：{p.message}")
