"""The ``xlproc`` command line: resolve paths, call one library function, print, exit.

The app and its Chinese help, usage errors, ``-h`` and ``--version`` are in
``base``; each command is a module of ``commands/`` that registers itself on
import. To add a command: write ``commands/<name>.py`` with ``@app.command()`` and
add its name to ``COMMANDS`` below (the order of the help screen). Only the CLI
package imports typer and rich's console; nothing in the library imports it.
"""

from __future__ import annotations

import importlib

from .base import app

# Command modules under commands/, in the order the help screen lists them.
COMMANDS = ("template", "extract", "check", "annotate", "report", "batch", "packs", "serve")

for _name in COMMANDS:
    importlib.import_module(f"{__package__}.commands.{_name}")

__all__ = ["COMMANDS", "app", "main"]


# --- dataset ----------------------------------------------------------------------


@app.command(cls=_Command)
@fails_cleanly
def dataset(
    inbox: Annotated[Path, typer.Argument(help="收件目录（或一个 .xlsx）：各部门报回的自评表")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="输出：.xlsx 文件，或 .csv / .parquet 文件夹（每个数据表一个文件）")
    ] = Path("全区数据.xlsx"),
    previous: Annotated[Path | None, typer.Option("--previous", help="上年工作簿目录，用于跨年度核对")] = None,
) -> None:
    """把全部自评表汇成一套全区数据（字段、各表格、审核问题、无法读取的单元格、文件清单），并做跨部门核对。

    .xlsx 每个数据表一张工作表（中文列名）；.csv / .parquet 写成一个文件夹，列名为字段编号。
    """
    from rich.markup import escape

    from ..dataset.api import dataset as build
    from ..dataset.export import format_of, write_dataset

    fmt = format_of(output)
    if not inbox.exists():
        raise XlprocError(f"找不到收件目录或文件：{inbox}")
    if previous is not None and not previous.is_dir():
        raise XlprocError(f"上年工作簿目录不存在或不是文件夹：{previous}")
    ds = build(inbox, previous=previous)
    path = write_dataset(ds, output, fmt)
    counted = len(ds.fields)
    failed = int((ds.meta["status"] == "无法读取").sum())
    replaced = int((ds.meta["status"] == "已被替代").sum())
    out.print(
        f"全区数据：{escape(str(path))}（{counted} 个部门"
        + (f"，{failed} 个文件无法读取" if failed else "")
        + (f"，{replaced} 个文件已被同一部门较新的文件替代" if replaced else "")
        + f"，跨部门核对发现 {len(ds.across)} 个问题）"
    )
    for f in ds.across:
        out.print(f"跨部门核对  {escape(f['department'])}：{escape(f['message'])}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
