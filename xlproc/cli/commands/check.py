"""``xlproc check``: the rule catalogue over one or more workbooks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..base import app, check_format, err, fails_cleanly, out, print_json
from ..packopts import PacksOption, resolve_packs

EXIT_CLEAN, EXIT_ERRORS, EXIT_CANNOT_RUN = 0, 1, 2


@app.command()
@fails_cleanly
def check(
    files: Annotated[list[Path], typer.Argument(help="要审核的自评表 .xlsx（可多个）", metavar="工作簿.xlsx")],
    format: Annotated[str, typer.Option("--format", help="table 或 json")] = "table",
    rules: Annotated[Path | None, typer.Option("--rules", help="审核规则文件（默认为内置 rules.yaml）")] = None,
    previous: Annotated[Path | None, typer.Option("--previous", help="同一部门上年的工作簿，用于跨年度核对")] = None,
    pack: PacksOption = None,
) -> None:
    """交叉审核：逐项核对勾稽关系，列出强制性（错误）与提示性（警告）问题。

    已退回部门、部门已在“审核结果”表填写说明的工作簿，说明会被带入：有说明的提示性问题记为“已说明”。
    可一次审核多个文件：每个文件都列出结果，无法读取的文件给出原因；退出码取最严重者（2 有文件无法读取，1 有强制性问题，0 全部通过）。
    """
    from ...errors import WorkbookError
    from ...pipeline import check_file, validate_rules

    check_format(format)
    packs = resolve_packs(pack)  # a malformed pack or rule file is refused before any workbook is read
    if rules is not None:
        validate_rules(rules, packs)
    outcomes: list[Any] = []  # CheckReport, or (file, Chinese error)
    worst = EXIT_CLEAN
    for f in files:
        try:
            outcome = check_file(f, None, previous, packs=packs, rules=rules)
        except WorkbookError as exc:
            if len(files) == 1:
                raise
            outcomes.append((f, str(exc)))
            worst = EXIT_CANNOT_RUN
            continue
        for note in outcome.notes:
            err.print(f"{escape(str(f))}：{escape(note)}")
        report = outcome.report
        outcomes.append(report)
        if report.has_errors:
            worst = max(worst, EXIT_ERRORS)
    if format == "json":
        items = [o.to_dict() if not isinstance(o, tuple) else {"source": str(o[0]), "error": o[1]} for o in outcomes]
        print_json(items[0] if len(files) == 1 else items)
    else:
        _print_table(outcomes)
    if worst:
        raise typer.Exit(worst)


def _print_table(outcomes: list[Any]) -> None:
    from ..check_view import render_reports

    for o in outcomes:
        if isinstance(o, tuple):
            out.print(f"[bold red]无法审核：[/]{escape(o[1])}")
        else:
            render_reports([o], out)
    if len(outcomes) > 1:
        failed = sum(isinstance(o, tuple) for o in outcomes)
        with_errors = sum(1 for o in outcomes if not isinstance(o, tuple) and o.has_errors)
        out.print(
            f"共 {len(outcomes)} 个文件：{len(outcomes) - failed - with_errors} 个无强制性问题，"
            f"{with_errors} 个有强制性问题，{failed} 个无法读取。"
        )
