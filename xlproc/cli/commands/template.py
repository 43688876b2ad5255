"""``xlproc template``: the blank form a department fills."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..base import app, fails_cleanly, out
from ..packopts import OnePackOption, resolve_one
from ..paths import output_file

DEFAULT_NAME = "自评表.xlsx"


@app.command()
@fails_cleanly
def template(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help=f"输出的 .xlsx 文件或文件夹（默认：当前文件夹下的 {DEFAULT_NAME}）"),
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="预填的年度，如 2023")] = None,
    department: Annotated[str | None, typer.Option("--department", help="预填的部门名称")] = None,
    pack: OnePackOption = None,
) -> None:
    """生成空白的自评填报工作簿（默认为最新的已安装表单包，可用 --pack 选择其他版本）。"""
    from ...template.build import write_template

    target = output_file(output, Path(DEFAULT_NAME), (".xlsx",), "Excel 工作簿")
    chosen = resolve_one(pack)
    path = write_template(target, year=year, department=department, spec=chosen.spec)
    out.print(f"已生成填报模板（{chosen.title}，{chosen.edition} 版）：{path}")
