"""``xlproc packs``: the installed form packs (and any given with ``--pack``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..base import app, check_format, fails_cleanly, out, print_json
from ..packopts import PacksOption, resolve_packs


def pack_row(pack: Any) -> dict[str, Any]:
    """What ``xlproc packs`` shows of one pack."""
    from ...rules import load_catalogue

    catalogue = load_catalogue(pack.rules_path, spec=pack.spec)
    return {
        "id": pack.id,
        "form": pack.form_id,
        "version": pack.version,
        "year": pack.year,
        "title": pack.title,
        "fields": len(pack.spec.fields),
        "tables": len(pack.spec.tables),
        "rules": len(catalogue.infos),
        "previous": pack.previous.pack_id if pack.previous else None,
        "path": str(pack.dir),
    }


@app.command()
@fails_cleanly
def packs(
    pack: PacksOption = None,
    format: Annotated[str, typer.Option("--format", help="table 或 json")] = "table",
) -> None:
    """列出表单包：编号、表单版本、年度、字段数、表格数、规则数、上年版本、所在位置。

    已安装的表单包随程序提供；用 --pack 给出的文件夹一并列出（并检查其内容是否有效）。
    工作簿按其隐藏的 _form 工作表中的表单编号和版本选用表单包。
    """
    from ...form.packs import installed_packs

    check_format(format)
    given = resolve_packs(pack)
    rows = [pack_row(p) for p in (*given, *installed_packs())]
    if format == "json":
        print_json(rows)
        return
    table = Table(title="表单包", show_lines=False)
    for head in ("编号", "表单", "版本", "年度", "字段", "表格", "规则", "上年版本", "位置"):
        table.add_column(head, overflow="fold")
    for r in rows:
        table.add_row(
            escape(r["id"]),
            escape(r["form"]),
            escape(r["version"]),
            str(r["year"]),
            str(r["fields"]),
            str(r["tables"]),
            str(r["rules"]),
            escape(r["previous"] or "—"),
            escape(r["path"]),
        )
    out.print(table)
