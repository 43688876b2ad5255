"""The report's native charts: the chart parts' data and labels, their embedded workbooks, and
the template's chart frames."""

from __future__ import annotations

import zipfile
from decimal import Decimal as D
from io import BytesIO

import docx
import pytest
from chart_projection import NS, chart_sheet, chart_summary
from lxml import etree

from xlproc.form.packs import installed_packs
from xlproc.report import ReportRenderer
from xlproc.report.chartframes import ChartFrame, native_chart_frames
from xlproc.report.charts import (
    CHART_CONTENT_TYPE,
    EMBEDDING_REL_TYPE,
    empty_chart,
    expenditure_chart,
    render_charts,
    scores_chart,
)


def _formulas(xml: bytes) -> list[str]:
    return etree.fromstring(xml).xpath("//c:f/text()", namespaces=NS)


def _axis_max(xml: bytes) -> D:
    return D(etree.fromstring(xml).find(".//c:valAx/c:scaling/c:max", NS).get("val"))


def test_expenditure_bars_largest_first_with_money_and_share():
    items = [
        {"label": "卫生健康支出", "amount": D("5.04"), "money": "5.04", "share": D("2.56")},
        {"label": "一般公共服务支出", "amount": D("163"), "money": "163.00", "share": D("82.72")},
        {"label": "住房保障支出", "amount": D("11.9449"), "share": None},
    ]
    xml, workbook = expenditure_chart(items)
    assert chart_summary(xml) == (
        "本年预算支出构成（按功能分类） | 金额（万元）: 一般公共服务支出=163 «163.00万元（82.72%）»; "
        "住房保障支出=11.9449 «11.94万元»; 卫生健康支出=5.04 «5.04万元（2.56%）»"
    )
    # the longest bar leaves room on its right for its label
    assert _axis_max(xml) >= D("163") * D("1.5")
    # the workbook Word opens for 编辑数据 holds the same figures where the chart's formulas point
    assert chart_sheet(workbook) == [
        ["", "金额（万元）"],
        ["一般公共服务支出", 163.0],
        ["住房保障支出", 11.9449],
        ["卫生健康支出", 5.04],
    ]
    assert _formulas(xml) == ["Sheet1!$A$2:$A$4", "Sheet1!$B$2:$B$4"]


def test_scores_chart_draws_scored_categories_only_and_labels_the_real_score():
    rows = [
        {"label": "预算编制管理", "score": D("11.5"), "max": D("12"), "kind": "score"},
        {"label": "预算执行管理", "score": D("19"), "max": D("17"), "kind": "score"},  # over its 满分
        {"label": "资产管理", "score": D("-1"), "max": D("4"), "kind": "score"},
        {"label": "存在问题", "score": D("1"), "max": D("10"), "kind": "deduction"},
        {"label": "未评分", "score": None, "max": D("3"), "kind": "score"},
    ]
    xml, workbook = scores_chart(rows)
    summary = chart_summary(xml)
    assert summary == (
        "各类别自评得分与满分 | 满分: 预算编制管理=12 «11.5 / 12»; 预算执行管理=17 «19 / 17»; 资产管理=4 «-1 / 4»"
        " | 得分: 预算编制管理=11.5; 预算执行管理=17; 资产管理=0"  # bars stay within 0 … 满分
    )
    assert "存在问题" not in summary and "未评分" not in summary
    assert chart_sheet(workbook) == [
        ["", "满分", "得分"],
        ["预算编制管理", 12.0, 11.5],
        ["预算执行管理", 17.0, 17.0],
        ["资产管理", 4.0, 0.0],
    ]
    assert _formulas(xml) == ["Sheet1!$A$2:$A$4", "Sheet1!$B$2:$B$4", "Sheet1!$A$2:$A$4", "Sheet1!$C$2:$C$4"]


def test_department_text_in_a_chart_is_escaped_and_stripped_of_illegal_characters():
    label = '<b>测试&"类"</b>\x01\x1f'
    xml, workbook = expenditure_chart([{"label": label, "amount": D("1"), "money": "1.00", "share": D("100")}])
    root = etree.fromstring(xml)  # well formed
    assert root.xpath("string(.//c:cat//c:pt/c:v)", namespaces=NS) == '<b>测试&"类"</b>'
    assert chart_sheet(workbook)[1][0] == '<b>测试&"类"</b>'


def test_render_charts_gives_only_the_charts_switched_on():
    ctx = {
        "expenditure": False,
        "scores": True,
        "expenditure_data": [],
        "scores_data": [{"label": "甲", "score": D("1"), "max": D("2"), "kind": "score"}],
    }
    assert set(render_charts(ctx)) == {"scores"}
    for name in ("expenditure", "scores"):  # the empty parts a template carries parse and have no bars
        xml, workbook = empty_chart(name)
        assert etree.fromstring(xml).find(".//c:pt", NS) is None and len(chart_sheet(workbook)) == 1


def _template(*pictures: tuple[str, str]) -> bytes:
    """The shipped template with its chart placeholders' alt texts replaced (old → new)."""
    raw = installed_packs()[0].report_template.read_bytes()
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(raw)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                text = data.decode()
                for old, new in pictures:
                    text = text.replace(f'descr="{old}" title="{old}"', f'descr="{new}" title="{new}"')
                data = text.encode()
            zout.writestr(info, data)
    return out.getvalue()


def _parts(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(raw)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_template_placeholders_become_chart_frames_of_the_same_size():
    raw = _template()
    frames_raw, frames = native_chart_frames(raw)
    assert frames == {
        name: ChartFrame(f"word/charts/xlproc_{name}.xml", f"word/embeddings/xlproc_{name}.xlsx")
        for name in ("scores", "expenditure")
    }
    before, after = _parts(raw), _parts(frames_raw)
    assert [n for n in before if n.startswith("word/media/")] and not [n for n in after if n.startswith("word/media/")]
    for name, frame in frames.items():
        assert (after[frame.part], after[frame.workbook]) == empty_chart(name)
        chart_rels = after[f"word/charts/_rels/xlproc_{name}.xml.rels"].decode()
        assert f'Id="rId1" Type="{EMBEDDING_REL_TYPE}" Target="../embeddings/xlproc_{name}.xlsx"' in chart_rels
    types = after["[Content_Types].xml"].decode()
    assert types.count(CHART_CONTENT_TYPE) == 2 and 'Extension="xlsx"' in types
    rels = after["word/_rels/document.xml.rels"].decode()
    assert rels.count("/relationships/chart") == 2 and "/relationships/image" not in rels
    body = after["word/document.xml"].decode()
    assert body.count("<c:chart ") == 2 and "<pic:pic" not in body
    assert before["word/document.xml"].decode().count('cx="5580000" cy="3138750"') == 4  # wp:extent + a:ext
    assert body.count('<wp:extent cx="5580000" cy="3138750"/>') == 2  # the frames keep the extent
    assert docx.Document(BytesIO(frames_raw)).paragraphs  # python-docx opens it


def test_unknown_chart_names_stay_pictures_and_a_template_without_placeholders_is_unchanged():
    raw = _template(("chart:scores", "chart:未知"))
    frames_raw, frames = native_chart_frames(raw)
    assert set(frames) == {"expenditure"}
    after = _parts(frames_raw)
    assert after["word/document.xml"].decode().count("<pic:pic") == 1
    assert len([n for n in after if n.startswith("word/media/")]) == 1  # the picture still shown keeps its image
    plain = _template(("chart:scores", "图一"), ("chart:expenditure", "图二"))
    assert native_chart_frames(plain) == (plain, {})


def test_one_chart_placed_twice_shares_one_part(tmp_path):
    raw = _template(("chart:expenditure", "chart:scores"))
    frames_raw, frames = native_chart_frames(raw)
    assert list(frames) == ["scores"]
    body = _parts(frames_raw)["word/document.xml"].decode()
    assert body.count('r:id="rIdXlprocChart1"') == 2
    path = tmp_path / "twice.docx"
    path.write_bytes(raw)
    assert ReportRenderer(path)._charts == frames  # the renderer compiles the same frames


@pytest.mark.parametrize("pack", installed_packs(), ids=lambda p: p.id)
def test_every_shipped_template_has_both_chart_frames(pack):
    renderer = ReportRenderer(pack.report_template)
    assert set(renderer._charts) == {"expenditure", "scores"}
    with zipfile.ZipFile(BytesIO(renderer.template_bytes)) as z:
        assert all(z.read(m) for frame in renderer._charts.values() for m in frame)
