"""The ``xlproc`` command line: resolve paths, call one library function, print, exit.

Exit codes: 0 clean, 1 findings of severity ``error`` (or failed files in a batch),
2 could not run (bad input, bad spec). Only this module imports typer and rich's
console; nothing imports this module.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import XlprocError

app = typer.Typer(
    help="部门整体绩效管理自评表：生成填报模板、读取、审核、批注、生成报告、批量处理。",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fails_cleanly(fn):
    """Turn "could not run" exceptions into a Chinese message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except XlprocError as exc:
            err.print(f"[bold red]错误：[/]{exc}", markup=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("已中断。")
            raise typer.Exit(130) from None

    return wrapper


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# --- template ---------------------------------------------------------------------


@app.command()
@fails_cleanly
def template(
    output: Annotated[Path, typer.Option("-o", "--output", help="输出的 .xlsx 文件")] = Path("自评表.xlsx"),
    year: Annotated[int | None, typer.Option("--year", help="预填的年度，如 2023")] = None,
    department: Annotated[str | None, typer.Option("--department", help="预填的部门名称")] = None,
) -> None:
    """生成空白的自评填报工作簿。"""
    from .template import write_template

    path = write_template(output, year=year, department=department)
    out.print(f"已生成填报模板：{path}")


# --- extract ----------------------------------------------------------------------


@app.command()
@fails_cleanly
def extract(
    file: Annotated[Path, typer.Argument(help="已填报的自评表 .xlsx")],
    format: Annotated[str, typer.Option("--format", help="json 或 table")] = "table",
) -> None:
    """列出工作簿中读取到的每个字段和表格行。"""
    from .reading import read_workbook

    if format not in ("json", "table"):
        raise XlprocError(f"--format 只能是 json 或 table，收到：{format}")
    sub = read_workbook(file)
    if format == "json":
        print_json(sub.to_dict())
        return
    from .extract_view import render_submission

    render_submission(sub, out)


# --- check ------------------------------------------------------------------------
# (issue 3)

# --- annotate ---------------------------------------------------------------------
# (issue 4)

# --- report -----------------------------------------------------------------------
# (issue 5)

# --- batch ------------------------------------------------------------------------
# (issue 6)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
