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
``{%tr for %}`` row loops; the two charts are pictures whose alternative text
(``chart:scores`` / ``chart:expenditure``) tells the renderer which PNG goes where.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
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
CATEGORIES = (
    ("一", "policy", "重大政策落实情况"),
    ("二", "budgeting", "预算编制管理情况"),
    ("三", "execution", "预算执行管理情况"),
    ("四", "performance", "预算绩效管理情况"),
    ("五", "assets", "资产管理情况"),
    ("六", "debt", "债务管理情况"),
    ("七", "transparency", "预算透明度情况"),
    ("八", "informatization", "预算信息化情况"),
    ("九", "innovation", "参与财政改革创新情况"),
    ("十", "problems", "存在问题"),
)


def set_fonts(rpr_owner, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    """Explicit fonts on a style's run properties (theme fonts removed, they win otherwise)."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    fonts.set(qn("w:ascii"), "Times New Roman")
    fonts.set(qn("w:hAnsi"), "Times New Roman")
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), "Times New Roman")
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
    fonts.set(qn("w:ascii"), "Times New Roman")
    fonts.set(qn("w:hAnsi"), "Times New Roman")
    fonts.set(qn("w:eastAsia"), BODY_FONT)
    fonts.set(qn("w:cs"), "Times New Roman")
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
    ):
        st = styles[name]
        set_fonts(st.element, font, 16, bold=bold)
        rpr = st.element.get_or_add_rPr()
        for el in rpr.findall(qn("w:i")):
            rpr.remove(el)
        style_paragraph(st, indent_chars=2, align=WD_ALIGN_PARAGRAPH.LEFT)
        st.paragraph_format.keep_with_next = True

    from docx.enum.style import WD_STYLE_TYPE

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

    footer = styles["Footer"]
    set_fonts(footer.element, "宋体", 14)
    style_paragraph(footer, align=WD_ALIGN_PARAGRAPH.CENTER, exact=20)


def setup_page(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
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

    def table(self, headers: list[tuple[str, float]], loop: str, cells: list[str]) -> None:
        """Bordered table: a header row, then one row per item of ``loop`` (``{%tr for %}``)."""
        t = self.doc.add_table(rows=4, cols=len(headers))
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        set_borders(t)
        # Word reads tcW, LibreOffice the grid: set both so widths hold everywhere.
        for col, (_, width) in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), headers, strict=True):
            col.set(qn("w:w"), str(int(Cm(width).twips)))
        for i, (label, width) in enumerate(headers):
            for r in range(4):
                t.cell(r, i).width = Cm(width)
            head = t.cell(0, i).paragraphs[0]
            head.text, head.style = label, self.doc.styles["表头"]
            body = t.cell(2, i).paragraphs[0]
            body.text, body.style = cells[i], self.doc.styles["表格文字"]
            if i == 0:  # 序号
                body.alignment = WD_ALIGN_PARAGRAPH.CENTER
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
    w.p("{{ title }}", "Title")
    w.p("根据{{ basis }}的要求，{{ dept }}对{{ year }}年度部门整体绩效管理工作逐项开展了自评。现将自评情况报告如下。")

    w.h(1, "一、部门基本情况")
    w.h(2, "（一）机构设置和人员配备")
    w.p("{{ basic.org }}")
    w.p("{{ basic.staff }}")
    w.when("basic.note", "{{ basic.note }}")
    w.h(2, "（二）部门整体绩效目标")
    w.tag("{%p if goals %}")
    w.p("{{ me }}围绕部门职责，按照“职能—工作活动—对应项目支出”的层级设定了{{ year }}年度整体绩效目标，见下表。")
    w.table(
        [("序号", 1.3), ("职能", 2.4), ("工作活动", 3.2), ("年度工作目标", 5.4), ("对应项目支出", 3.2)],
        "goals",
        ["{{ row.no }}", "{{ row.function }}", "{{ row.activity }}", "{{ row.target }}", "{{ row.project }}"],
    )
    w.tag("{%p else %}")
    w.p("{{ me }}本年度未填报部门整体绩效目标。")
    w.tag("{%p endif %}")

    w.h(1, "二、部门绩效考核自评情况")
    w.p(
        "对照考核实施办法逐项自评，{{ year }}年度{{ me }}管理绩效考核合计得分{{ scores.total }}分，"
        "以适用类别满分{{ scores.base }}分为基数，换算得分{{ scores.converted }}分。各类别得分情况如下。"
    )
    w.tag("{%p if charts.scores %}")
    w.picture("scores", placeholder("chart:scores", (226, 233, 242)))
    w.tag("{%p endif %}")
    w.table(
        [("序号", 1.3), ("考核类别", 6.0), ("满分", 2.6), ("自评结果", 5.6)],
        "scores.rows",
        ["{{ row.no }}", "{{ row.name }}", "{{ row.max }}", "{{ row.result }}"],
    )
    for num, cid, name in CATEGORIES:
        w.h(2, f"（{num}）{name}，{{{{ scores.{cid}.result }}}}")
        w.when(f"scores.{cid}.note", f"扣分说明：{{{{ scores.{cid}.note }}}}")
        CATEGORY_BODIES[cid](w)

    w.h(1, "三、部门整体绩效目标实现情况")
    w.tag("{%p if achievements %}")
    w.p("{{ year }}年度{{ me }}整体绩效目标的实现情况见下表。")
    w.table(
        [("序号", 1.3), ("项目名称", 3.4), ("绩效目标", 6.0), ("实现情况", 4.8)],
        "achievements",
        ["{{ row.no }}", "{{ row.name }}", "{{ row.goal }}", "{{ row.result }}"],
    )
    w.tag("{%p else %}")
    w.p("{{ me }}本年度未填报整体绩效目标实现情况。")
    w.tag("{%p endif %}")

    w.h(1, "四、绩效自评发现的问题")
    w.p("{{ problems_found }}")
    w.h(1, "五、改进措施及相关建议")
    w.p("{{ improvements }}")

    w.tag("{%p if findings.enabled %}")
    w.h(1, "{{ findings.title }}")
    w.p("{{ findings.summary }}")
    w.tag("{%p if findings.rows %}")
    w.table(
        [("序号", 1.4), ("级别", 2.0), ("工作表", 2.8), ("单元格", 1.8), ("问题说明", 7.5)],
        "findings.rows",
        ["{{ row.no }}", "{{ row.severity }}", "{{ row.sheet }}", "{{ row.cell }}", "{{ row.message }}"],
    )
    w.tag("{%p endif %}")
    w.tag("{%p endif %}")


def _policy(w: Writer) -> None:
    w.h(3, "1.专项资金管理情况")
    w.p("{{ policy.special_funds }}")
    w.h(3, "2.“三保”支出保障情况")
    w.p("{{ me }}将保基本民生、保工资、保运转支出放在预算安排的优先位置，具体如下：")
    w.lines("policy.sanbao_lines")
    w.h(3, "3.落实过紧日子要求情况")
    w.when("policy.frugal_note", "{{ policy.frugal_note }}")
    w.p("{{ policy.sangong }}")
    w.when("policy.sangong_reason", "增减原因：{{ policy.sangong_reason }}")
    w.h(3, "4.减税降费等政策落实情况")
    w.p("（1）收费项目信息公开。{{ policy.fee }}")
    w.p("（2）非税收入。{{ policy.nontax }}")
    w.p("（3）罚没财物管理。{{ policy.fines }}")
    w.p("（4）财政电子票据。{{ policy.invoice }}")
    w.when("policy.note", "{{ policy.note }}")


def _budgeting(w: Writer) -> None:
    w.when("budgeting.note", "{{ budgeting.note }}")
    w.h(3, "1.收支预算")
    w.p("{{ budgeting.income }}{{ budgeting.expense }}")
    w.tag("{%p if charts.expenditure %}")
    w.picture("expenditure", placeholder("chart:expenditure", (242, 236, 226)))
    w.tag("{%p endif %}")
    w.h(3, "2.“三公”经费预算")
    w.p("{{ budgeting.sangong }}")
    w.h(3, "3.非税收入计划")
    w.p("{{ budgeting.nontax }}")
    w.h(3, "4.新增资产预算")
    w.p("{{ budgeting.asset }}")
    w.h(3, "5.各类资源统筹管理情况")
    w.p("{{ budgeting.resources }}")


def _execution(w: Writer) -> None:
    w.h(3, "1.预算执行监督情况")
    w.p("（1）预警处理。{{ execution.alert }}")
    w.p("（2）违规支出。{{ execution.violation }}")
    w.when("execution.note", "{{ execution.note }}")
    w.h(3, "2.暂付款项管理情况")
    w.p("{{ execution.temp }}")
    w.h(3, "3.部门决算管理情况")
    w.p("{{ execution.final_income }}{{ execution.final_expense }}")
    w.when("execution.final_note", "{{ execution.final_note }}")
    w.h(3, "4.政府财务报告管理情况")
    w.lines("execution.finance")
    w.when("execution.finance_note", "{{ execution.finance_note }}")
    w.h(3, "5.政府采购管理情况")
    w.lines("execution.procurement")
    w.when("execution.procurement_note", "{{ execution.procurement_note }}")
    w.h(3, "6.直达资金管理情况")
    w.p("{{ execution.direct }}")


def _performance(w: Writer) -> None:
    w.h(3, "1.重点工作落实情况")
    w.p("{{ performance.tasks_intro }}")
    w.lines("performance.tasks")
    w.when("performance.note", "{{ performance.note }}")
    w.h(3, "2.事前绩效评估情况")
    w.p("{{ performance.pre_eval }}")
    w.h(3, "3.绩效监控管理情况")
    w.when("performance.progress", "{{ performance.progress }}")
    w.when("performance.midyear", "{{ performance.midyear }}")
    w.when("performance.yearend", "{{ performance.yearend }}")
    w.h(3, "4.绩效评价管理情况")
    w.p("（1）绩效自评。{{ performance.self_eval }}")
    w.p("（2）重点评价。{{ performance.key_eval }}")
    w.h(3, "5.投资评审工作情况")
    w.p("{{ performance.investment }}")


def _assets(w: Writer) -> None:
    w.h(3, "1.资产存量情况")
    w.p("{{ assets.stock }}{{ assets.others }}{{ assets.new }}")
    w.h(3, "2.资产基础管理情况")
    w.p("{{ assets.management }}")
    w.when("assets.note", "{{ assets.note }}")


def _simple(key: str):
    def body(w: Writer) -> None:
        w.when(f"{key}.sentence", f"{{{{ {key}.sentence }}}}")
        w.when(f"{key}.note", f"{{{{ {key}.note }}}}")

    return body


CATEGORY_BODIES = {
    "policy": _policy,
    "budgeting": _budgeting,
    "execution": _execution,
    "performance": _performance,
    "assets": _assets,
    **{k: _simple(k) for k in ("debt", "transparency", "informatization", "innovation", "problems")},
}


def add_font_fallbacks(data: bytes) -> bytes:
    """Declare the Chinese fonts in fontTable.xml with an altName LibreOffice can find."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{"swiss" if "黑" in name else "roman"}"/><w:pitch w:val="variable"/></w:font>'
        for name, alt in FALLBACKS.items()
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            blob = src.read(item.filename)
            if item.filename == "word/fontTable.xml":
                blob = blob.replace(b"</w:fonts>", entries.encode("utf-8") + b"</w:fonts>")
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
    props = doc.core_properties
    props.title, props.author, props.comments = (
        "部门整体绩效管理自评报告模板",
        "xlproc",
        "docxtpl 模板，可在 Word/WPS 中修改样式",
    )
    buf = io.BytesIO()
    doc.save(buf)
    return add_font_fallbacks(buf.getvalue())


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from xlproc.io.atomic import write_bytes

    write_bytes(OUT, build())
    OUT.chmod(0o644)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
