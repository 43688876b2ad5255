"""Rendering the narrative report from real workbooks, read back with python-docx."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from chart_projection import chart_rids, chart_sheet, chart_summary
from docx.oxml.ns import qn
from script_modules import load_script
from typer.testing import CliRunner

from xlproc.cli.app import app
from xlproc.reading.workbook import read_workbook
from xlproc.report import CONTEXT_KEYS, ReportError, ReportRenderer, build_context, render_report
from xlproc.report.charts import CHART_CONTENT_TYPE
from xlproc.rules import run_checks

TESTS = Path(__file__).parent
INBOX = TESTS.parent / "samples" / "inbox"
WANGXINBAN = next(INBOX.glob("01_*.xlsx"))

# Every figure the example report states, by the section (一、… / （一）…) that must hold it.
SEED_FIGURES = {
    "（一）机构设置和人员配备": [
        "正科级行政单位",
        "财政拨款",
        "内设机构2个",
        "网络综合管理股、网络宣传和信息化股",
        "编制7个",
        "在编人员6名",
    ],
    "（二）部门整体绩效目标": ["网络舆情监测", "网络宣传活动", "机关运行保障经费"],
    "二、部门绩效考核自评情况": ["合计得分81.5分", "换算得分100分"],
    "（一）重大政策落实情况，得分4.5分": [
        "无保基本民生资金安排",
        "保工资：安排资金141.92万元，实际支出141.92万元",
        "保运转：安排资金93.42万元，实际支出93.42万元",
        "实际支出1.79万元，上年实际支出0.93万元，较上年增加0.86万元",
        "实际上缴0.0044万元，其中：利息收入0.0044万元",
    ],
    "（二）预算编制管理情况，得分12分": [
        "预算收入197.06万元",
        "一般公共预算拨款197.05万元",
        "其他收入0.01万元",
        "一般公共服务支出163.00万元",
        "社会保障和就业支出17.08万元",
        "卫生健康支出5.04万元",
        "住房保障支出11.94万元",
        "“三公”经费预算2.43万元，其中：公务用车运行维护费2.43万元",
        "非税收入计划0.01万元",
        "新增资产预算0.15万元",
        "交回财政3861.27万元",
    ],
    "（三）预算执行管理情况，得分17分": [
        "决算收入191.48万元",
        "财政拨款收入191.47万元",
        "其他收入0.01万元（利息收入）",
        "一般公共服务支出168.11万元，占比87.40%",
        "社会保障和就业支出11.62万元，占比6.04%",
        "卫生健康支出4.55万元，占比2.37%",
        "住房保障支出8.06万元，占比4.20%",
        "资产总额23.80万元",
        "货币资金1.20万元",
        "固定资产净值22.60万元",
        "负债总额0.79万元，其中其他应付款0.79万元，占负债总额的100.00%",
        "资产负债率3.32%",
        "现金比率152.20%",
        "流动比率152.20%",
        "固定资产成新率57.87%",
        "采购预算总额210.00万元",
        "合同总金额53.70万元",
        "中小企业合同金额53.70万元，占合同总金额的100.00%",
        "小微企业合同金额53.70万元，占中小企业合同金额的100.00%",
    ],
    "（四）预算绩效管理情况，得分23分": [
        "重点任务1项",
        "2个项目开展事前绩效评估",
        "支出进度为100.00%",
        "达到50%的项目1个",
        "30%以下的项目1个",
        "工作未开展的项目1个",
        "实现绩效目标的项目2个，涉及资金67.28万元",
        "未实现绩效目标的项目0个",
        "满分的项目1个",
        "95分以上的项目2个",
        "90-95分的项目0个",
        "90分以下的项目0个",
    ],
    "（五）资产管理情况，得分4分": ["通用设备41台件", "家具用具6台件", "车辆1辆", "无新增固定和无形资产"],
    "（六）债务管理情况，得分2分": ["未申报债券项目"],
    "（七）预算透明度情况，得分7.5分": ["门户网站"],
    "（八）预算信息化情况，得分11.5分": ["网络安全事件"],
    "（九）参与财政改革创新情况，得分0分": ["财政改革创新"],
    "（十）存在问题，扣分0分": [],
    "三、部门整体绩效目标实现情况": ["舆情发现率达到95%", "组织系列培训宣传活动4次"],
    "四、绩效自评发现的问题": ["合同"],
    "五、改进措施及相关建议": ["整改"],
}
PARTS = [
    "一、部门基本情况",
    "二、部门绩效考核自评情况",
    "三、部门整体绩效目标实现情况",
    "四、绩效自评发现的问题",
    "五、改进措施及相关建议",
]


def project(path: Path) -> str:
    """A readable text projection of a .docx: styled paragraphs, charts (their data and labels),
    pictures and tables in body order."""
    document = docx.Document(str(path))
    props = document.core_properties
    lines = [f"# title: {props.title}", f"# status: {props.content_status}"]
    header = " ".join(p.text for p in document.sections[0].header.paragraphs if p.text.strip())
    lines.append(f"# header: {header}")
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            para = docx.text.paragraph.Paragraph(child, document)
            rids = chart_rids(child)
            pics = [d.get("descr") for d in child.iter(qn("wp:docPr"))]
            if rids:
                related = document.part.related_parts
                lines += [
                    f"[chart {descr}] {chart_summary(related[rid].blob)}" for descr, rid in zip(pics, rids, strict=True)
                ]
            elif pics:
                lines.append(f"[picture {', '.join(pics)}]")
            if para.text.strip():
                lines.append(f"[{para.style.name}] {para.text.replace(chr(10), '⏎')}")
        elif child.tag == qn("w:tbl"):
            table = docx.table.Table(child, document)
            for row in table.rows:
                lines.append("| " + " | ".join(c.text.replace("\n", "⏎") for c in row.cells) + " |")
    return "\n".join(lines) + "\n"


def sections(text: str) -> dict[str, str]:
    """Projection text grouped under its level-1 / level-2 heading."""
    out: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.splitlines():
        m = re.match(r"\[Heading [12]\] (.*)", line)
        if m:
            current = m.group(1)
            out.setdefault(current, [])
        else:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def renderer() -> ReportRenderer:
    return ReportRenderer()


@pytest.fixture(scope="module")
def wangxinban(tmp_path_factory, renderer) -> Path:
    out = tmp_path_factory.mktemp("report") / "网信办.docx"
    return renderer.render(read_workbook(WANGXINBAN), out)


@pytest.fixture(scope="module")
def wangxinban_draft(tmp_path_factory, renderer) -> Path:
    """The report as `xlproc report` makes it: checked first, so a draft with its findings."""
    sub = read_workbook(WANGXINBAN)
    return renderer.render(sub, tmp_path_factory.mktemp("draft") / "网信办_草稿.docx", report=run_checks(sub))


def test_wangxinban_golden_projection(wangxinban, wangxinban_draft, golden):
    golden("report/wangxinban.txt", project(wangxinban))
    golden("report/wangxinban_draft.txt", project(wangxinban_draft))


def test_every_seed_figure_in_its_section(wangxinban):
    text = project(wangxinban)
    by_section = sections(text)
    headings = [re.sub(r"^\[Heading 1\] ", "", line) for line in text.splitlines() if line.startswith("[Heading 1]")]
    assert headings == PARTS
    subsections = [h for h in by_section if (h.startswith("（") and "得分" in h) or h.startswith("（十）")]
    assert len(subsections) == 10
    for heading, figures in SEED_FIGURES.items():
        assert heading in by_section, f"missing section {heading}"
        for figure in figures:
            assert figure in by_section[heading], f"{figure!r} not in section {heading}"
    assert "[chart chart:scores] 各类别自评得分与满分" in by_section["二、部门绩效考核自评情况"]
    assert "[chart chart:expenditure] 本年预算支出构成" in by_section["（二）预算编制管理情况，得分12分"]


def test_charts_are_native_charts_in_place_of_the_placeholders(wangxinban):
    with zipfile.ZipFile(wangxinban) as z, zipfile.ZipFile(ReportRenderer().path) as t:
        assert [n for n in t.namelist() if n.startswith("word/media/")]  # the template's placeholder pictures
        assert not [n for n in z.namelist() if n.startswith("word/media/")]  # none left in the report
        parts = sorted(n for n in z.namelist() if n.startswith("word/charts/x"))
        assert parts == ["word/charts/xlproc_expenditure.xml", "word/charts/xlproc_scores.xml"]
        for name in ("expenditure", "scores"):  # each with its workbook, for Word's 编辑数据
            book = z.read(f"word/embeddings/xlproc_{name}.xlsx")
            assert chart_sheet(book)[1:]
        types = z.read("[Content_Types].xml").decode()
        assert all(f'PartName="/{p}" ContentType="{CHART_CONTENT_TYPE}"' in types for p in parts)
        body = z.read("word/document.xml").decode()
    assert body.count("<c:chart ") == 2 and "pic:pic" not in body
    # the frames keep the placeholders' size (the template's 15.5 cm x 8.7 cm)
    assert body.count('<wp:extent cx="5580000" cy="3138750"/>') == 2


HOSTILE = "<b>粗体</b> & 符号 {{ dept }} {% if true %}是{% endif %} {#注释#} \"引号\" '单引号'"


LONG_PARAGRAPH = ("长段落" + "甲乙丙丁戊己庚辛壬癸" * 500)[:5000]
HOSTILE_VALUES = {
    "dept_name": "测试局 <A&B>",
    "year": 2023,
    "basic_note": HOSTILE,
    "problems_found": f"第一条 {HOSTILE}\n第二条\r\n\n{LONG_PARAGRAPH}",
    "improvements": "{{ 1 + 1 }}",
}
HOSTILE_TABLES = {
    "goals": [{"function": "{%tr endfor %}", "activity": "<w:p>", "target": "a & b\n第二段", "project": "{{ x }}"}]
}


def test_hostile_free_text_renders_literally(make_workbook, renderer, tmp_path):
    sub = read_workbook(make_workbook(HOSTILE_VALUES, HOSTILE_TABLES))
    out = renderer.render(sub, tmp_path / "hostile.docx")
    document = docx.Document(str(out))  # well-formed, opens
    texts = [p.text for p in document.paragraphs]
    assert "测试局 <A&B>\n2023年度部门整体绩效管理自评报告" in texts  # title broken after the department
    assert HOSTILE in texts
    assert f"第一条 {HOSTILE}" in texts and "第二条" in texts  # one paragraph per line
    assert LONG_PARAGRAPH in texts
    assert "{{ 1 + 1 }}" in texts and "2" not in texts
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert {"{%tr endfor %}", "<w:p>", "a & b\n第二段", "{{ x }}"} <= set(cells)  # two paragraphs in the cell


def test_template_uses_only_variables_the_context_provides(renderer):
    assert renderer.variables() <= set(CONTEXT_KEYS)
    assert {
        "title_lines",
        "opening",
        "blocks",
        "scores",
        "findings",
        "charts",
        "draft",
        "signoff",
    } <= renderer.variables()


def test_blank_workbook_renders_every_branch_strictly(make_workbook, renderer, tmp_path):
    sub = read_workbook(make_workbook({}))
    out = renderer.render(sub, tmp_path / "blank.docx", report=run_checks(sub))
    text = project(out)
    assert "[Normal] 部门整体绩效目标未填报。" in text
    assert "# header: 审核未通过（草稿）" in text and "# status: 审核未通过（草稿）" in text
    assert "附件：审核情况" in text


def _template_with(tmp_path: Path, text: str) -> Path:
    document = docx.Document()
    document.add_paragraph("{{ title }}")
    document.add_paragraph(text)
    path = tmp_path / "custom.docx"
    document.save(str(path))
    return path


def test_missing_variable_is_an_error_naming_it(tmp_path):
    sub = read_workbook(WANGXINBAN)
    with pytest.raises(ReportError, match="未提供的变量：nosuch"):
        ReportRenderer(_template_with(tmp_path, "{{ nosuch }}")).render(sub, tmp_path / "a.docx")
    with pytest.raises(ReportError, match="未提供的变量：missing_key"):
        ReportRenderer(_template_with(tmp_path, "{{ scores.missing_key }}")).render(sub, tmp_path / "b.docx")
    assert not (tmp_path / "a.docx").exists()
    with pytest.raises(ReportError, match="语法错误"):
        ReportRenderer(_template_with(tmp_path, "{% if %}"))


def _without(src: Path, dst: Path, member: str, edit: tuple[str, str, str] | None = None) -> Path:
    """A copy of the template without ``member`` (and with one text replaced in a part)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if edit and info.filename == edit[0]:
                data = data.replace(edit[1].encode(), edit[2].encode())
            if info.filename != member:
                zout.writestr(info, data)
    return dst


def test_broken_template_package_is_a_chinese_error_naming_the_file_and_part(tmp_path):
    shipped = ReportRenderer().path
    for member, edit, said in [
        ("[Content_Types].xml", None, "不完整：缺少部件 [Content_Types].xml。"),
        ("", ("_rels/.rels", "word/document.xml", "word/nothere.xml"), "缺少部件 word/nothere.xml"),
        (
            "",
            ("[Content_Types].xml", 'PartName="/word/document.xml"', 'PartName="/word/x.xml"'),
            "不是可用的 Word 文档",
        ),
    ]:
        broken = _without(shipped, tmp_path / "broken.docx", member, edit)
        with pytest.raises(ReportError) as caught:
            ReportRenderer(broken)
        assert str(broken) in str(caught.value) and said in str(caught.value), str(caught.value)
        assert not re.search(r"There is no item|not a Word file|content type", str(caught.value))  # no library English
    (tmp_path / "not.docx").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ReportError, match=r"不是 Word 文档（\.docx）或已损坏"):
        ReportRenderer(tmp_path / "not.docx")


def test_custom_template_renders(tmp_path):
    out = render_report(
        read_workbook(WANGXINBAN), tmp_path / "c.docx", template=_template_with(tmp_path, "{{ scores.total }}")
    )
    assert [p.text for p in docx.Document(str(out)).paragraphs][1] == "81.5分"


def test_cli_report_with_findings(tmp_path):
    src = tmp_path / "网信办.xlsx"
    shutil.copy(WANGXINBAN, src)
    result = CliRunner().invoke(app, ["report", str(src), "--with-findings"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "网信办_自评报告_草稿.docx"  # open findings: a draft
    assert str(out) in result.output and "草稿" in result.output
    text = project(out)
    assert "[Heading 1] 附件：审核情况" in text
    sub = read_workbook(src)
    expected = build_context(sub, run_checks(sub), appendix=True)["findings"]["rows"]
    assert expected and all(r["message"] in text for r in expected)


def test_cli_pdf_without_libreoffice_says_so(tmp_path, monkeypatch):
    import xlproc.io.office

    monkeypatch.setattr(xlproc.io.office, "find_soffice", lambda: None)
    result = CliRunner().invoke(app, ["report", str(WANGXINBAN), "-o", str(tmp_path / "r.docx"), "--pdf"])
    assert result.exit_code == 2
    assert "未找到 LibreOffice" in result.output
    assert (tmp_path / "r.docx").exists() and not (tmp_path / "r.pdf").exists()


@pytest.mark.libreoffice
def test_libreoffice_converts_to_pdf(soffice, wangxinban, tmp_path):
    pdf = render_report(read_workbook(WANGXINBAN), tmp_path / "网信办.docx", pdf=True)
    assert pdf.suffix == ".pdf" and pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        squeezed = re.sub(r"\s+", "", text)
        for needle in ("2023年度部门整体绩效管理自评报告", "一、部门基本情况", "五、改进措施及相关建议", "3861.27"):
            assert needle in squeezed
    if shutil.which("pdftoppm"):  # page 1 as PNG, for the reviewer to look at
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
        )
        assert list(tmp_path.glob("page*.png"))


def test_committed_template_is_the_script_output():
    module = load_script("make_report_template")
    assert module.build() == (TESTS.parent / "workbook_templates" / "zpb-2023" / "report.docx").read_bytes(), (
        "workbook_templates/zpb-2023/report.docx is stale: run scripts/make_report_template.py"
    )


@pytest.mark.libreoffice
def test_template_resaved_by_libreoffice_still_renders(soffice, wangxinban, tmp_path):
    """A bureau restyling the template in another office suite (runs split, XML rewritten) breaks nothing."""
    from xlproc.io.office import convert

    resaved = convert(ReportRenderer().path, "docx:MS Word 2007 XML", tmp_path / "lo")
    out = ReportRenderer(resaved).render(read_workbook(WANGXINBAN), tmp_path / "from-lo.docx")

    def texts(path: Path) -> list[str]:
        return [re.sub(r"^\[[^\]]+\] ", "", line) for line in project(path).splitlines()]

    assert texts(out) == texts(wangxinban)
