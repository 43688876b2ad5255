"""``xlproc report``: the narrative Word report (and its PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..base import app, err, fails_cleanly, out
from ..packopts import PacksOption, resolve_packs
from ..paths import output_file


@app.command()
@fails_cleanly
def report(
    file: Annotated[Path, typer.Argument(help="已填报的自评表 .xlsx", metavar="工作簿.xlsx")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="输出的 .docx 或 .pdf 文件，或文件夹（默认：<文件名>_自评报告.docx）；"
            "给出 .pdf 时同时在旁边保存同名 .docx",
        ),
    ] = None,
    template_file: Annotated[Path | None, typer.Option("--template", help="自定义的报告模板 .docx")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="同时用 LibreOffice 转换为 PDF")] = False,
    with_findings: Annotated[bool, typer.Option("--with-findings", help="附加“审核情况”附录（草稿总会附加）")] = False,
    final: Annotated[
        bool, typer.Option("--final", help="生成正式稿：仍有强制性问题或未说明的提示性问题时拒绝生成（退出码 1）")
    ] = False,
    pack: PacksOption = None,
) -> None:
    """根据填报的工作簿生成部门整体绩效管理自评报告（Word，可选 PDF）。

    生成前先审核：仍有强制性问题或未说明的提示性问题时生成草稿（每页页眉标注“审核未通过（草稿）”，
    文件名加“_草稿”，附审核情况）；加 --final 时拒绝生成。
    """
    from ...io.atomic import write_bytes
    from ...pipeline import REPORT, check_file, report_renderer
    from ...report import convert_to_pdf, draft_path, is_draft

    outcome = check_file(file, None, None, packs=resolve_packs(pack))
    findings = outcome.report
    c = findings.counts
    open_warnings = sum(1 for f in findings.findings if f.severity == "warning" and not f.explained)
    if final and is_draft(findings):
        err.print(
            f"[bold red]不能生成正式报告：[/]{escape(str(file))} 仍有强制性问题 {c['error']} 条、"
            f"未说明的提示性问题 {open_warnings} 条。请先修改或在“审核结果”中说明后重新审核；不加 --final 可生成草稿。",
            markup=True,
        )
        raise typer.Exit(1)
    default = draft_path(file.with_name(f"{file.stem}_自评报告.docx"), findings)
    target = output_file(output, default, (".docx", ".pdf"), "Word 报告（.docx，可另存 .pdf）")
    pdf_target = None
    if target.suffix.lower() == ".pdf":  # -o x.pdf: the PDF there, its .docx beside it
        pdf, pdf_target, target = True, target, target.with_suffix(".docx")
    renderer = report_renderer(outcome.pack, template_file)
    artifact = REPORT.write(outcome, target.stem, renderer=renderer, appendix=with_findings)
    path = write_bytes(target, artifact.data)
    if is_draft(findings):
        out.print(
            f"已生成自评报告草稿：{escape(str(path))}"
            f"（审核未通过：强制性问题 {c['error']} 条、未说明的提示性问题 {open_warnings} 条）"
        )
    else:
        out.print(f"已生成自评报告：{escape(str(path))}")
    if pdf:
        out.print(f"已生成 PDF：{escape(str(convert_to_pdf(path, pdf_target)))}")
