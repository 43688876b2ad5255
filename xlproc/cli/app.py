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
from typing import Annotated, Any

import typer
import typer.rich_utils
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from ..errors import XlprocError

# Help screens in Chinese (typer's panel titles are module constants).
typer.rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
typer.rich_utils.OPTIONS_PANEL_TITLE = "选项"
typer.rich_utils.COMMANDS_PANEL_TITLE = "命令"
typer.rich_utils.REQUIRED_LONG_STRING = "[必填]"
typer.rich_utils.DEFAULT_STRING = "[默认：{}]"
typer.rich_utils.ERRORS_PANEL_TITLE = "命令用法有误"
typer.rich_utils.ABORTED_TEXT = "已中断。"
typer.rich_utils.RICH_HELP = "运行 [blue]'{command_path} {help_option}'[/] 查看用法。"


class _ChineseHelp:
    """The --help option's own text, in Chinese."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = "显示本帮助并退出。"
        return option


class _Group(_ChineseHelp, TyperGroup):
    pass


class _Command(_ChineseHelp, TyperCommand):
    pass


app = typer.Typer(
    cls=_Group,
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


@app.command(cls=_Command)
@fails_cleanly
def template(
    output: Annotated[Path, typer.Option("-o", "--output", help="输出的 .xlsx 文件")] = Path("自评表.xlsx"),
    year: Annotated[int | None, typer.Option("--year", help="预填的年度，如 2023")] = None,
    department: Annotated[str | None, typer.Option("--department", help="预填的部门名称")] = None,
) -> None:
    """生成空白的自评填报工作簿。"""
    from ..template.build import write_template

    path = write_template(output, year=year, department=department)
    out.print(f"已生成填报模板：{path}")


# --- extract ----------------------------------------------------------------------


@app.command(cls=_Command)
@fails_cleanly
def extract(
    file: Annotated[Path, typer.Argument(help="已填报的自评表 .xlsx")],
    format: Annotated[str, typer.Option("--format", help="json 或 table")] = "table",
) -> None:
    """列出工作簿中读取到的每个字段和表格行。"""
    from ..reading.workbook import read_workbook

    if format not in ("json", "table"):
        raise XlprocError(f"--format 只能是 json 或 table，收到：{format}")
    sub = read_workbook(file)
    if format == "json":
        print_json(sub.to_dict())
        return
    from .extract_view import render_submission

    render_submission(sub, out)


# --- check ------------------------------------------------------------------------


@app.command(cls=_Command)
@fails_cleanly
def check(
    files: Annotated[list[Path], typer.Argument(help="要审核的自评表 .xlsx（可多个）")],
    format: Annotated[str, typer.Option("--format", help="table 或 json")] = "table",
    rules: Annotated[Path | None, typer.Option("--rules", help="审核规则文件（默认为内置 rules.yaml）")] = None,
    previous: Annotated[Path | None, typer.Option("--previous", help="同一部门上年的工作簿，用于跨年度核对")] = None,
) -> None:
    """交叉审核：逐项核对勾稽关系，列出强制性（错误）与提示性（警告）问题。

    已退回部门、部门已在“审核结果”表填写说明的工作簿，说明会被带入：有说明的提示性问题记为“已说明”。
    """
    from ..pipeline import check_workbook
    from ..rules import load_catalogue

    if format not in ("json", "table"):
        raise XlprocError(f"--format 只能是 json 或 table，收到：{format}")
    catalogue = load_catalogue(rules)  # refused before any workbook is read
    reports = []
    for f in files:
        _sub, report, _used, note = check_workbook(f, catalogue, previous)
        if note:
            err.print(f"{f}：{note}")
        reports.append(report)
    if format == "json":
        print_json(reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports])
    else:
        from ..rules.view import render_reports

        render_reports(reports, out)
    if any(r.has_errors for r in reports):
        raise typer.Exit(1)


# --- annotate ---------------------------------------------------------------------


@app.command(cls=_Command)
@fails_cleanly
def annotate(
    file: Annotated[Path, typer.Argument(help="部门报送的自评表 .xlsx（可为上一轮退回、已填写说明的工作簿）")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="输出文件（默认：<原文件名>_审核.xlsx）")
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="审核规则文件（默认为内置 rules.yaml）")] = None,
) -> None:
    """审核并批注：在部门工作簿副本上标出问题单元格（底色 + 批注），并附“审核结果”工作表。"""
    from ..annotate import annotate as annotate_file
    from ..pipeline import check_workbook
    from ..rules import load_catalogue

    catalogue = load_catalogue(rules)
    _sub, report, _used, _note = check_workbook(file, catalogue)
    result = annotate_file(file, report, output)
    c = report.counts
    if result.in_place:
        out.print(f"已写出批注工作簿：{result.path}")
    else:
        out.print(f"原工作簿含有无法原样保留的内容，未直接批注；审核意见已另存为：{result.path}")
    out.print(
        f"强制性 {c['error']} 项，提示性 {c['warning']} 项（已说明 {c['explained']} 项，待说明 {c['open_warning']} 项），"
        f"提示信息 {c['info']} 项；批注单元格 {result.cells} 个。"
    )
    if report.has_errors:
        raise typer.Exit(1)


# --- report -----------------------------------------------------------------------
# (issue 5)


@app.command(cls=_Command)
@fails_cleanly
def report(
    file: Annotated[Path, typer.Argument(help="已填报的自评表 .xlsx")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="输出的 .docx（默认：<文件名>_自评报告.docx）")
    ] = None,
    template_file: Annotated[Path | None, typer.Option("--template", help="自定义的报告模板 .docx")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="同时用 LibreOffice 转换为 PDF")] = False,
    with_findings: Annotated[bool, typer.Option("--with-findings", help="附加“审核情况”附录")] = False,
) -> None:
    """根据填报的工作簿生成部门整体绩效管理自评报告（Word，可选 PDF）。"""
    from ..reading.workbook import read_workbook
    from ..report import ReportRenderer, convert_to_pdf

    sub = read_workbook(file)
    findings = None
    if with_findings:
        from ..rules import run_checks

        findings = run_checks(sub)
    target = output or file.with_name(f"{file.stem}_自评报告.docx")
    path = ReportRenderer(template_file).render(sub, target, report=findings)
    out.print(f"已生成自评报告：{path}")
    if pdf:
        out.print(f"已生成 PDF：{convert_to_pdf(path)}")


# --- batch ------------------------------------------------------------------------
# (issue 6)


@app.command(cls=_Command)
@fails_cleanly
def batch(
    inbox: Annotated[Path, typer.Argument(help="收件目录：各部门报回的 .xlsx（含子目录）")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出目录：按部门分文件夹，另有 汇总.xlsx")],
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="并行进程数，默认每个 CPU 核一个；0 表示不另起进程")
    ] = None,
    previous: Annotated[Path | None, typer.Option("--previous", help="上年工作簿目录，用于跨年度核对")] = None,
    force: Annotated[bool, typer.Option("--force", help="全部重新处理，不沿用未变文件的结果")] = False,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask 调度器地址（tcp://主机:端口），用于多机处理")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table 或 json")] = "table",
) -> None:
    """批量处理收件目录中的全部自评表：生成批注工作簿、自评报告、审核结果和 汇总.xlsx。

    退出码：0 全部通过；1 有文件处理失败、有强制性审核错误或有部门重复报送；2 无法运行。
    """
    from rich.markup import escape

    from ..batch import BatchOptions, process_folder
    from .progress import RichProgress, closing_table

    if format not in ("json", "table"):
        raise XlprocError(f"--format 只能是 json 或 table，收到：{format}")
    options = BatchOptions(jobs=jobs, previous=previous, force=force, scheduler=scheduler)
    try:
        if format == "json":
            result = process_folder(inbox, output, options)
            print_json(result.to_dict())
            raise typer.Exit(result.exit_code)
        with RichProgress(err) as progress:
            result = process_folder(inbox, output, options, on_progress=progress)
    except KeyboardInterrupt:
        err.print("已中断。已完成的工作簿已保存，再次运行同一命令会沿用它们并处理其余文件。")
        raise typer.Exit(130) from None
    out.print(closing_table(result))
    for r in result.results:
        if not r.ok:
            out.print(f"[red]处理失败[/]  {escape(r.source)}：{escape(r.error)}", markup=True)
    for dept, names in result.duplicates.items():
        out.print(f"[red]重复报送[/]  {escape(dept)}：{escape('、'.join(names))}", markup=True)
    for name, why in result.skipped:
        out.print(f"已跳过  {escape(name)}：{escape(why)}")
    if result.summary_path:
        out.print(f"汇总表：{escape(str(result.summary_path))}")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
