"""Parity of xlproc's report renderer with ``docxtpl.DocxTemplate.render``.

``ReportRenderer`` (xlproc/report/render.py) compiles a pack's report.docx once and then
renders it many times, reusing docxtpl's internals (``init_docx``, ``patch_xml``,
``get_part_xml``) instead of calling ``DocxTemplate.render`` per report. This test is what
the pin ``docxtpl>=0.18,<0.21`` in pyproject.toml rests on: the same template and the same
context (``build_context``) rendered both ways must read back identically with python-docx
— paragraph texts with their style names, charts (their data and labels), pictures (alt text
and image bytes), table cell
texts, and every section's header and footer texts. Raise the pin only with this test green
on the new docxtpl.

Two conventions differ on purpose and are mapped, not ignored: xlproc writes its own
document properties (docProps/core.xml: title, draft status), which the projection leaves
out; and a line break inside one paragraph is ``LINE_BREAK`` ("\\v") in xlproc's context
where docxtpl's own convention is "\\n" — the docxtpl side gets "\\n" there.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path
from typing import Any

import docx
import pytest
from chart_projection import chart_rids, chart_summary
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from test_report_render import HOSTILE, HOSTILE_TABLES, HOSTILE_VALUES

from xlproc.form.packs import find_pack
from xlproc.reading.workbook import read_workbook
from xlproc.report import ReportRenderer
from xlproc.report.charts import CHART_NAMES, render_charts
from xlproc.report.context import LINE_BREAK
from xlproc.rules import load_catalogue, run_checks

INBOX = Path(__file__).resolve().parent.parent / "samples" / "inbox"


def projection(data: bytes) -> list[str]:
    """A readable projection of a .docx: headers/footers per section, then the body in order."""
    document = docx.Document(BytesIO(data))
    lines = []
    for i, section in enumerate(document.sections):
        lines.append(f"# section {i}: {section.orientation} {section.page_width}x{section.page_height}")
        for kind in ("header", "footer", "first_page_header", "first_page_footer", "even_page_header"):
            part = getattr(section, kind)
            if not part.is_linked_to_previous:
                lines += [f"# {kind}: {p.text}" for p in part.paragraphs]
    rels = document.part.related_parts
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            para = Paragraph(child, document)
            for pic in child.iter(qn("wp:docPr")):
                blips = [b.get(qn("r:embed")) for b in pic.getparent().iter(qn("a:blip"))]
                charts = chart_rids(pic.getparent())
                if charts:
                    lines.append(f"[chart {pic.get('descr')}] {chart_summary(rels[charts[0]].blob)}")
                    continue
                digest = hashlib.sha256(rels[blips[0]].blob).hexdigest()[:16] if blips else "-"
                lines.append(f"[picture {pic.get('descr')} {digest}]")
            lines.append(f"[{para.style.name}] {para.text!r}")
        elif child.tag == qn("w:tbl"):
            table = Table(child, document)
            lines.append(f"[table {table.style.name if table.style else ''}]")
            lines += ["| " + " | ".join(repr(c.text) for c in row.cells) for row in table.rows]
    return lines


def _as_docxtpl_writes(value: Any) -> Any:
    """xlproc's LINE_BREAK, in docxtpl's own convention ("\\n"), everywhere in the context."""
    if isinstance(value, str):
        return value.replace(LINE_BREAK, "\n")
    if isinstance(value, dict):
        return {k: _as_docxtpl_writes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_docxtpl_writes(v) for v in value]
    return value


def _both(path: Path, draft: bool) -> tuple[list[str], list[str]]:
    sub = read_workbook(path)
    pack = find_pack(sub.form_id, sub.form_version)
    report = run_checks(sub, load_catalogue(pack.rules_path, spec=pack.spec)) if draft else None
    renderer = ReportRenderer(pack.report_template)
    # the context and chart parts exactly as ReportRenderer.render_docx prepares them
    ctx = renderer.context(sub, report)
    for name in CHART_NAMES:
        if name not in renderer._charts:
            ctx["charts"][name] = False
    charts = render_charts(ctx["charts"])
    ours = renderer.render_bytes(ctx, charts)

    # docxtpl renders the template as the renderer compiled it (chart placeholders made chart frames)
    tpl = DocxTemplate(BytesIO(renderer.template_bytes))
    tpl.render(_as_docxtpl_writes(ctx), autoescape=True)
    for name, chart in charts.items():  # as benchmarks/batch.py naive_report swaps the charts in
        frame = renderer._charts[name]
        tpl.zipname_to_replace[frame.part], tpl.zipname_to_replace[frame.workbook] = chart
    out = BytesIO()
    tpl.save(out)
    return projection(ours), projection(out.getvalue())


def _sample(name: str) -> Path:
    return next(INBOX.glob(name))


@pytest.mark.parametrize(
    ("sample", "draft"),
    [
        ("02_*.xlsx", False),  # a clean 2023 workbook: the final report
        ("01_*.xlsx", True),  # 2 errors, 9 warnings: a draft with its findings appended
        ("2024/03_*.xlsx", True),  # the 2024 edition's own template, a draft
    ],
    ids=["2023-clean", "2023-draft", "2024-draft"],
)
def test_renderer_matches_docxtpl_render(sample, draft):
    ours, theirs = _both(_sample(sample), draft)
    assert ours == theirs
    text = "\n".join(ours)
    assert len(ours) > 120 and "[Heading 1]" in text and "| " in text  # a whole report, tables included
    assert ("审核未通过（草稿）" in text) == draft
    if draft:
        assert "附件：审核情况" in text
    # both charts drawn and swapped in, with the department's own figures
    assert text.count("[chart chart:") == 2 and "[picture" not in text
    assert (
        "各类别自评得分与满分 | 满分: 重大政策落实=" in text
        and "本年预算支出构成（按功能分类） | 金额（万元）: " in text
    )


def test_renderer_matches_docxtpl_on_hostile_text(make_workbook):
    # the department text of test_report_render.py: markup, Jinja-looking text, line breaks, 5000 characters
    ours, theirs = _both(make_workbook(HOSTILE_VALUES, HOSTILE_TABLES), draft=True)
    assert ours == theirs
    text = "\n".join(ours)
    assert repr(HOSTILE) in text and "'{{ x }}'" in text and "'测试局 <A&B>\\n2023年度部门整体绩效管理自评报告'" in text
