"""``xlproc extract``: every field and table row a workbook holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..base import app, check_format, fails_cleanly, out, print_json
from ..packopts import PacksOption, resolve_packs


@app.command()
@fails_cleanly
def extract(
    file: Annotated[Path, typer.Argument(help="已填报的自评表 .xlsx", metavar="工作簿.xlsx")],
    format: Annotated[str, typer.Option("--format", help="json 或 table")] = "table",
    pack: PacksOption = None,
) -> None:
    """列出工作簿中读取到的每个字段和表格行。"""
    from ...reading.workbook import read_workbook

    check_format(format)
    sub = read_workbook(file, packs=resolve_packs(pack))
    if format == "json":
        print_json(sub.to_dict())
        return
    from ..extract_view import render_submission

    render_submission(sub, out)
