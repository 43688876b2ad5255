"""``xlproc annotate``: the department's workbook back with fills, comments and 审核结果."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..base import app, fails_cleanly, out
from ..packopts import PacksOption, resolve_packs
from ..paths import output_file


@app.command()
@fails_cleanly
def annotate(
    file: Annotated[
        Path,
        typer.Argument(help="部门报送的自评表 .xlsx（可为上一轮退回、已填写说明的工作簿）", metavar="工作簿.xlsx"),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="输出的 .xlsx 文件或文件夹（默认：<原文件名>_审核.xlsx，与原文件同一文件夹）"
        ),
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="审核规则文件（默认为内置 rules.yaml）")] = None,
    pack: PacksOption = None,
) -> None:
    """审核并批注：在部门工作簿副本上标出问题单元格（底色 + 批注），并附“审核结果”工作表。"""
    from ...annotate import annotate as annotate_file
    from ...annotate import default_output
    from ...pipeline import check_file, validate_rules

    default = default_output(file)
    target = output_file(output, default, (default.suffix,), f"批注后的 Excel 工作簿（{default.suffix}）")
    packs = resolve_packs(pack)
    if rules is not None:
        validate_rules(rules, packs)
    outcome = check_file(file, None, None, packs=packs, rules=rules)
    report = outcome.report
    result = annotate_file(file, report, target, data=outcome.data)
    c = report.counts
    if result.in_place:
        out.print(f"已写出批注工作簿：{escape(str(result.path))}")
    else:
        out.print(f"原工作簿含有无法原样保留的内容，未直接批注；审核意见已另存为：{escape(str(result.path))}")
    out.print(
        f"强制性 {c['error']} 项，提示性 {c['warning']} 项（已说明 {c['explained']} 项，待说明 {c['open_warning']} 项），"
        f"提示信息 {c['info']} 项；批注单元格 {result.cells} 个。"
    )
    if report.has_errors:
        raise typer.Exit(1)
