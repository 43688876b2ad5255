"""``xlproc dataset``: the district's figures as one dataset (xlsx, csv or parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ...errors import XlprocError
from ..base import app, fails_cleanly, out
from ..paths import output_file


@app.command()
@fails_cleanly
def dataset(
    inbox: Annotated[Path, typer.Argument(help="收件目录（或一个 .xlsx）：各部门报回的自评表", metavar="收件目录")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="输出：.xlsx 文件（每个数据表一张工作表，中文列名），或 .csv / .parquet 文件夹"
            "（每个数据表一个文件，列名为字段编号）；默认 全区数据.xlsx",
        ),
    ] = None,
    previous: Annotated[Path | None, typer.Option("--previous", help="上年工作簿目录，用于跨年度核对")] = None,
) -> None:
    """把全部自评表汇成一套全区数据（字段、各表格、审核问题、无法读取的单元格、文件清单），并做跨部门核对。"""
    from ...dataset.api import dataset as build
    from ...dataset.export import write_dataset

    target = output_file(
        output, Path("全区数据.xlsx"), (".xlsx", ".csv", ".parquet"), "全区数据（.xlsx，或 .csv / .parquet 文件夹）"
    )
    if not inbox.exists():
        raise XlprocError(f"找不到收件目录或文件：{inbox}")
    if previous is not None and not previous.is_dir():
        raise XlprocError(f"上年工作簿目录不存在或不是文件夹：{previous}")
    ds = build(inbox, previous=previous)
    path = write_dataset(ds, target)
    failed = int((ds.meta["status"] == "无法读取").sum())
    replaced = int((ds.meta["status"] == "已被替代").sum())
    out.print(
        f"全区数据：{escape(str(path))}（{len(ds.fields)} 个部门"
        + (f"，{failed} 个文件无法读取" if failed else "")
        + (f"，{replaced} 个文件已被同一部门较新的文件替代" if replaced else "")
        + f"，跨部门核对发现 {len(ds.across)} 个问题）"
    )
    for f in ds.across:
        out.print(f"跨部门核对  {escape(f['department'])}：{escape(f['message'])}")
    if failed:
        raise typer.Exit(1)
