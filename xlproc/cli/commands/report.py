"""``xlproc report``: the narrative Word report (and its PDF)."""

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
    pack: PacksOption = None,
) -> None:
    """根据填报的工作簿生成部门整体绩效管理自评报告（Word，可选 PDF）。"""
    from ...io.atomic import write_bytes
    from ...pipeline import REPORT, check_file, report_renderer
    from ...report import convert_to_pdf

    default = file.with_name(f"{file.stem}_自评报告.docx")
    target = output_file(output, default, (".docx", ".pdf"), "Word 报告（.docx，可另存 .pdf）")
    pdf_target = None
    if target.suffix.lower() == ".pdf":  # -o x.pdf: the PDF there, its .docx beside it
        pdf, pdf_target, target = True, target, target.with_suffix(".docx")
    outcome = check_file(file, None, None, packs=resolve_packs(pack))
    renderer = report_renderer(outcome.pack, template_file)
    artifact = REPORT.write(outcome, target.stem, renderer=renderer, appendix=with_findings)
    path = write_bytes(target, artifact.data)
    out.print(f"已生成自评报告：{escape(str(path))}")
    if pdf:
        out.print(f"已生成 PDF：{escape(str(convert_to_pdf(path, pdf_target)))}")
