"""Build workbook_templates/zpb-2023/report.docx, the docxtpl template of the narrative report.

Run: ``.venv/bin/python scripts/make_report_template.py`` (rewrites the file; the
output is committed so a bureau can open it in Word/WPS and restyle it by hand).

Layout follows the usual government document format (GB/T 9704 in spirit): A4,
title in 小标宋/宋体, level-1 headings 黑体, level-2 楷体, level-3 仿宋 bold, body 仿宋
16 pt with a 2-character first-line indent. Each Chinese font name carries an
``altName`` in the font table pointing at a Noto CJK face, and the body keeps
ASCII text in Times New Roman, so LibreOffice (and WPS on Linux) render CJK glyphs
where the Windows fonts are missing. Headings are numbered in the text (一、（一）1.
（1）) so the numbering survives any restyling. Tables are bordered and use
``{%tr for %}`` row loops; the two charts are placeholder pictures whose alternative
text (``chart:scores`` / ``chart:expenditure``) marks the frame the renderer turns into
a native chart (xlproc/report/chartframes.py).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "workbook_templates" / "zpb-2023" / "report.docx"

BODY_FONT, H1_FONT, H2_FONT, TITLE_FONT = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"
FALLBACKS = {
    "仿宋_GB2312": "Noto Serif CJK SC",
    "楷体_GB2312": "Noto Serif CJK SC",
    "方正小标宋简体": "Noto Serif CJK SC",
    "宋体": "Noto Serif CJK SC",
    "黑体": "Noto Sans CJK SC",
}


def set_fonts(rpr_owner, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    """Explicit fonts on a style's run properties (theme fonts removed, they win otherwise)."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    fonts.set(qn("w:ascii"), east_asia)
    fonts.set(qn("w:hAnsi"), east_asia)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")
    for tag in ("w:color",):
        for el in rpr.findall(qn(tag)):
            rpr.remove(el)
    if size is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(int(size * 2)))
    if bold is not None:
        for tag in ("w:b", "w:bCs"):
            for el in rpr.findall(qn(tag)):
                rpr.remove(el)
            if bold:
                rpr.append(OxmlElement(tag))


def style_paragraph(
    style, *, indent_chars: int = 0, align=None, before: float = 0, after: float = 0, exact: float = 28
):
    pf = style.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(exact)
    if align is not None:
        pf.alignment = align
    ppr = style.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    for attr in list(ind.attrib):
        del ind.attrib[attr]
    ind.set(qn("w:firstLineChars"), str(indent_chars * 100))
    ind.set(qn("w:firstLine"), str(indent_chars * 320))
    ind.set(qn("w:left"), "0")


def build_styles(doc) -> None:
    styles = doc.styles
    # Document defaults carry theme fonts (Calibri / 等线): replace them.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr_default.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), BODY_FONT)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")

    normal = styles["Normal"]
    set_fonts(normal.element, BODY_FONT, 16)
    style_paragraph(normal, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)

    title = styles["Title"]
    set_fonts(title.element, TITLE_FONT, 22, bold=False)
    style_paragraph(title, align=WD_ALIGN_PARAGRAPH.CENTER, before=12, after=18, exact=36)
    ppr = title.element.get_or_add_pPr()
    for el in ppr.findall(qn("w:pBdr")):
        ppr.remove(el)

    # 黑体 headings are bold as well so the hierarchy survives font substitution
    # (LibreOffice without the Windows fonts renders 黑体 and 仿宋 with one fallback face).
    for name, font, bold in (
        ("Heading 1", H1_FONT, True),
        ("Heading 2", H2_FONT, False),
        ("Heading 3", BODY_FONT, True),
        ("Heading 4", BODY_FONT, False),
    ):
        st = styles[name]
        set_fonts(st.element, font, 16, bold=bold)
        rpr = st.element.get_or_add_rPr()
        for el in rpr.findall(qn("w:i")):
            rpr.remove(el)
        style_paragraph(st, indent_chars=2, align=WD_ALIGN_PARAGRAPH.LEFT)
        st.paragraph_format.keep_with_next = True

    table_text = styles.add_style("表格文字", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    set_fonts(table_text.element, BODY_FONT, 12)
    style_paragraph(table_text, align=WD_ALIGN_PARAGRAPH.LEFT, exact=20)
    table_head = styles.add_style("表头", WD_STYLE_TYPE.PARAGRAPH)
    table_head.base_style = table_text
    set_fonts(table_head.element, H1_FONT, 12, bold=False)
    style_paragraph(table_head, align=WD_ALIGN_PARAGRAPH.CENTER, exact=20)
    figure = styles.add_style("图片", WD_STYLE_TYPE.PARAGRAPH)
    figure.base_style = normal
    pf = figure.paragraph_format
    style_paragraph(figure, align=WD_ALIGN_PARAGRAPH.CENTER, before=6, after=6, exact=28)
    pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.line_spacing = 1.0

    signoff = styles.add_style("落款", WD_STYLE_TYPE.PARAGRAPH)
    signoff.base_style = normal
    style_paragraph(signoff, align=WD_ALIGN_PARAGRAPH.RIGHT)
    signoff.paragraph_format.right_indent = Pt(64)  # 4 characters of 16 pt from the right edge
    signoff.paragraph_format.keep_with_next = True

    footer = styles["Footer"]
    set_fonts(footer.element, "宋体", 14)
    style_paragraph(footer, align=WD_ALIGN_PARAGRAPH.CENTER, exact=20)
    header = styles["Header"]
    set_fonts(header.element, H1_FONT, 14, bold=True)
    style_paragraph(header, align=WD_ALIGN_PARAGRAPH.CENTER, exact=20)
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "C00000")
    header.element.get_or_add_rPr().append(color)
    pbdr = header.element.get_or_add_pPr().find(qn("w:pBdr"))
    if pbdr is not None:
        header.element.get_or_add_pPr().remove(pbdr)


def setup_page(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    # GB/T 9704 7.5: the page number's line sits about 7 mm below the text block. The
    # footer line is 20 pt (~7 mm) high and ends footer_distance above the page edge:
    # 35 mm margin − 7 mm gap − 7 mm line = 21 mm.
    section.footer_distance = Cm(2.1)
    section.header_distance = Cm(1.5)
    # Every page of a draft carries the mark (审核未通过（草稿）) in the header.
    hp = section.header.paragraphs[0]
    hp.style = doc.styles["Header"]
    hp.text = "{% if draft %}{{ draft_mark }}{% endif %}"
    p = section.footer.paragraphs[0]
    p.style = doc.styles["Footer"]
    p.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)
    tail = OxmlElement("w:r")
    t2 = OxmlElement("w:t")
    t2.set(qn("xml:space"), "preserve")
    t2.text = " —"
    tail.append(t2)
    p._p.append(tail)


class Writer:
    """Small helpers so the template reads top to bottom like the report."""

    def __init__(self, doc):
        self.doc = doc

    def p(self, text: str, style: str | None = None):
        return self.doc.add_paragraph(text, style=style)

    def tag(self, text: str):
        """A paragraph holding only a docxtpl ``{%p … %}`` tag (removed when rendering)."""
        return self.doc.add_paragraph(text)

    def when(self, cond: str, text: str, style: str | None = None) -> None:
        self.tag(f"{{%p if {cond} %}}")
        self.p(text, style)
        self.tag("{%p endif %}")

    def lines(self, seq: str, style: str | None = None) -> None:
        self.tag(f"{{%p for line in {seq} %}}")
        self.p("{{ line }}", style)
        self.tag("{%p endfor %}")

    def h(self, level: int, text: str):
        return self.doc.add_heading(text, level=level)

    def table(
        self, headers: list[tuple[str, float]], loop: str, cells: list[str], tail: list[list[str]] | None = None
    ) -> None:
        """Bordered table: a header row, one row per item of ``loop`` (``{%tr for %}``), fixed tail rows."""
        tail = tail or []
        t = self.doc.add_table(rows=4 + len(tail), cols=len(headers))
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        set_borders(t)
        # Word reads tcW, LibreOffice the grid: set both so widths hold everywhere.
        for col, (_, width) in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), headers, strict=True):
            col.set(qn("w:w"), str(int(Cm(width).twips)))
        for i, (label, width) in enumerate(headers):
            for r in range(4 + len(tail)):
                t.cell(r, i).width = Cm(width)
            head = t.cell(0, i).paragraphs[0]
            head.text, head.style = label, self.doc.styles["表头"]
            body = t.cell(2, i).paragraphs[0]
            body.text, body.style = cells[i], self.doc.styles["表格文字"]
            if i == 0:  # 序号
                body.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for r, row in enumerate(tail, start=4):
                cell = t.cell(r, i).paragraphs[0]
                cell.text, cell.style = row[i], self.doc.styles["表格文字" if i else "表头"]
        t.cell(1, 0).paragraphs[0].text = f"{{%tr for row in {loop} %}}"
        t.cell(3, 0).paragraphs[0].text = "{%tr endfor %}"
        t.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # header repeats on each page
        t.rows[2]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a data row never breaks

    def picture(self, name: str, png: bytes) -> None:
        para = self.p("", "图片")
        shape = para.add_run().add_picture(io.BytesIO(png), width=Cm(15.5))
        shape._inline.docPr.set("descr", f"chart:{name}")
        shape._inline.docPr.set("title", f"chart:{name}")


def set_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)


def placeholder(label: str, colour: tuple[int, int, int]) -> bytes:
    """A distinct 16:9 placeholder per chart (identical images would share one part)."""
    img = Image.new("RGB", (960, 540), colour)
    ImageDraw.Draw(img).rectangle([20, 20, 940, 520], outline=(90, 90, 90), width=4)
    ImageDraw.Draw(img).text((40, 40), label, fill=(0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_body(w: Writer) -> None:
    """Title, opening, the wording's blocks in order, 落款 and the findings appendix."""
    w.p("{{ title_lines }}", "Title")
    w.p("{{ opening }}")
    w.tag("{%p for b in blocks %}")
    w.tag('{%p if b.kind == "h1" %}')
    w.h(1, "{{ b.text }}")
    w.tag('{%p elif b.kind == "h2" %}')
    w.h(2, "{{ b.text }}")
    w.tag('{%p elif b.kind == "h3" %}')
    w.h(3, "{{ b.text }}")
    w.tag('{%p elif b.kind == "h4" %}')
    w.h(4, "{{ b.text }}")
    w.tag('{%p elif b.kind == "p" %}')
    w.p("{{ b.text }}")
    w.tag('{%p elif b.kind == "table" and b.name == "goals" %}')
    w.table(
        [("序号", 1.3), ("职能", 2.4), ("工作活动", 3.2), ("年度工作目标", 5.4), ("对应项目支出", 3.2)],
        "tables.goals",
        ["{{ row.no }}", "{{ row.function }}", "{{ row.activity }}", "{{ row.target }}", "{{ row.project }}"],
    )
    w.tag('{%p elif b.kind == "table" and b.name == "achievements" %}')
    w.table(
        [("序号", 1.3), ("项目名称", 3.4), ("绩效目标", 6.0), ("实现情况", 4.8)],
        "tables.achievements",
        ["{{ row.no }}", "{{ row.name }}", "{{ row.goal }}", "{{ row.result }}"],
    )
    w.tag('{%p elif b.kind == "table" and b.name == "scores" %}')
    w.table(
        [("序号", 1.3), ("考核类别", 6.0), ("满分", 2.6), ("自评结果", 5.6)],
        "scores.rows",
        ["{{ row.no }}", "{{ row.name }}", "{{ row.max }}", "{{ row.result }}"],
        tail=[
            ["", "合计", "{{ scores.base }}", "{{ scores.total }}"],
            ["", "换算得分", "100", "{{ scores.converted }}"],
        ],
    )
    w.tag('{%p elif b.kind == "chart" and b.name == "scores" and charts.scores %}')
    w.picture("scores", placeholder("chart:scores", (226, 233, 242)))
    w.tag('{%p elif b.kind == "chart" and b.name == "expenditure" and charts.expenditure %}')
    w.picture("expenditure", placeholder("chart:expenditure", (242, 236, 226)))
    w.tag("{%p endif %}")
    w.tag("{%p endfor %}")

    # 落款: a blank line, then department and date flush right (GB/T 9704 7.3.5).
    w.p("", "落款")
    w.lines("signoff", "落款")

    w.tag("{%p if findings.enabled %}")
    heading = w.h(1, "{{ findings.title }}")
    heading.paragraph_format.page_break_before = True
    w.p("{{ findings.summary }}")
    w.tag("{%p if findings.rows %}")
    w.table(
        [("序号", 1.4), ("级别", 2.0), ("工作表", 2.8), ("单元格", 1.8), ("问题说明", 7.5)],
        "findings.rows",
        ["{{ row.no }}", "{{ row.severity }}", "{{ row.sheet }}", "{{ row.cell }}", "{{ row.message }}"],
    )
    w.tag("{%p endif %}")
    w.tag("{%p endif %}")


CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>部门整体绩效管理自评报告</dc:title><dc:creator>xlproc</dc:creator>"
    "<cp:lastModifiedBy>xlproc</cp:lastModifiedBy><cp:revision>1</cp:revision>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:modified>'
    "</cp:coreProperties>"
)


def finish_package(data: bytes) -> bytes:
    """Font table altNames, and no python-docx leftovers in the package.

    python-docx's default document carries a blank thumbnail, a description, 2013
    dates and a Japanese East-Asian theme language; a bureau opening the template (or
    a report made from it) should see none of that. The renderer stamps each report's
    own title, dates and status into core.xml.
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{"swiss" if "黑" in name else "roman"}"/><w:pitch w:val="variable"/></w:font>'
        for name, alt in FALLBACKS.items()
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename == "docProps/thumbnail.jpeg":
                continue
            blob = src.read(item.filename)
            if item.filename == "word/fontTable.xml":
                blob = blob.replace(b"</w:fonts>", entries.encode("utf-8") + b"</w:fonts>")
            elif item.filename == "_rels/.rels":
                blob = re.sub(rb"<Relationship [^>]*Target=\"docProps/thumbnail.jpeg\"/>", b"", blob)
            elif item.filename == "[Content_Types].xml":
                blob = re.sub(rb"<Override [^>]*PartName=\"/docProps/thumbnail.jpeg\"[^>]*/>", b"", blob)
            elif item.filename == "docProps/core.xml":
                blob = CORE.encode("utf-8")
            elif item.filename == "word/settings.xml":
                blob = blob.replace(b'w:eastAsia="ja-JP"', b'w:eastAsia="zh-CN"')
            elif item.filename == "word/theme/theme1.xml":
                blob = re.sub(rb'<a:font script="Jpan" typeface="[^"]*"/>', b"", blob)
            # A fixed timestamp keeps the committed file byte-identical across rebuilds.
            dst.writestr(zipfile.ZipInfo(item.filename, date_time=(2024, 1, 1, 0, 0, 0)), blob, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def build() -> bytes:
    """The template as bytes (deterministic: same script, same file)."""
    doc = Document()
    build_styles(doc)
    setup_page(doc)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    write_body(Writer(doc))
    buf = io.BytesIO()
    doc.save(buf)
    return finish_package(buf.getvalue())


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from xlproc.io.atomic import write_bytes

    data = build()
    # Every shipped pack uses this template (its wording.yaml says what the sentences are).
    for out in [OUT, *sorted(p for p in (ROOT / "workbook_templates").glob("*/report.docx") if p != OUT)]:
        write_bytes(out, data)
        out.chmod(0o644)
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
