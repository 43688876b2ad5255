"""``xlproc report``: the narrative Word report (and its PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..base import app, fails_cleanly, out
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
    with_findings: Annotated[bool, typer.Option("--with-findings", help="附加“审核情况”附录")] = False,
) -> None:
    """根据填报的工作簿生成部门整体绩效管理自评报告（Word，可选 PDF）。"""
    from ...reading.workbook import read_workbook
    from ...report import ReportRenderer, convert_to_pdf

    default = file.with_name(f"{file.stem}_自评报告.docx")
    target = output_file(output, default, (".docx", ".pdf"), "Word 报告（.docx，可另存 .pdf）")
    pdf_target = None
    if target.suffix.lower() == ".pdf":  # -o x.pdf: the PDF there, its .docx beside it
        pdf, pdf_target, target = True, target, target.with_suffix(".docx")
    sub = read_workbook(file)
    findings = None
    if with_findings:
        from ...rules import run_checks

        findings = run_checks(sub)
    path = ReportRenderer(template_file).render(sub, target, report=findings)
    out.print(f"已生成自评报告：{escape(str(path))}")
    if pdf:
        out.print(f"已生成 PDF：{escape(str(convert_to_pdf(path, pdf_target)))}")
