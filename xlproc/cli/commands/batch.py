"""``xlproc batch``: every workbook of an inbox, with 汇总.xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..base import app, check_format, err, fails_cleanly, out, print_json
from ..packopts import PacksOption, resolve_packs
from ..paths import output_folder


@app.command()
@fails_cleanly
def batch(
    inbox: Annotated[Path, typer.Argument(help="收件目录：各部门报回的 .xlsx（含子目录）", metavar="收件目录")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出目录：按部门分文件夹，另有 汇总.xlsx")],
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=0, help="并行进程数，默认每个 CPU 核一个；0 表示不另起进程"),
    ] = None,
    previous: Annotated[Path | None, typer.Option("--previous", help="上年工作簿目录，用于跨年度核对")] = None,
    force: Annotated[bool, typer.Option("--force", help="全部重新处理，不沿用未变文件的结果")] = False,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask 调度器地址（tcp://主机:端口），用于多机处理")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table 或 json")] = "table",
    pack: PacksOption = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="审核规则文件，替代各表单包的 rules.yaml（默认为表单包自带）")
    ] = None,
    template_file: Annotated[
        Path | None, typer.Option("--template", help="报告模板 .docx，替代各表单包的 report.docx")
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option("--roster", help="部门名单（.xlsx 或 .csv，“部门名称”列或第一列）：汇总表列出未报送的部门"),
    ] = None,
) -> None:
    """批量处理收件目录中的全部自评表：生成批注工作簿、自评报告、审核结果、汇总.xlsx 和 全区数据.xlsx。

    输出目录可以放在收件目录里面：本程序写出的文件（输出目录、汇总.xlsx、_审核.xlsx 等）不会被当作报送文件再次读取。
    退出码：0 全部通过；1 有文件处理失败、有强制性审核错误或有部门重复报送；2 无法运行。
    """
    from ...batch import BatchOptions, process_folder
    from ..progress import RichProgress, closing_table

    check_format(format)
    output = output_folder(output)
    from ...pipeline import PipelineOptions

    packs = tuple(str(p.dir) for p in resolve_packs(pack))
    pipeline = PipelineOptions(
        packs=packs,
        rules_path=str(rules.resolve()) if rules else None,
        report_template=str(template_file.resolve()) if template_file else None,
    )
    options = BatchOptions(
        jobs=jobs, previous=previous, force=force, scheduler=scheduler, pipeline=pipeline, roster=roster
    )
    try:
        if format == "json":
            result = process_folder(inbox, output, options)
            _warn_if_empty(result)
            print_json(result.to_dict())
            raise typer.Exit(result.exit_code)
        with RichProgress(err) as progress:
            result = process_folder(inbox, output, options, on_progress=progress)
    except KeyboardInterrupt:
        err.print("已中断。已完成的工作簿已保存，再次运行同一命令会沿用它们并处理其余文件。")
        raise typer.Exit(130) from None
    _warn_if_empty(result)
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
    if result.dataset_path:
        out.print(f"全区数据：{escape(str(result.dataset_path))}")
    if result.dataset_error:
        out.print(f"[red]全区数据未写出[/]  {escape(result.dataset_error)}", markup=True)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _warn_if_empty(result) -> None:
    if not result.files:
        err.print(
            f"[bold yellow]注意：[/]收件目录“{escape(str(result.inbox))}”中没有找到需要处理的 .xlsx 工作簿"
            "（已排除本程序写出的文件），请检查目录是否选对。",
            markup=True,
        )
