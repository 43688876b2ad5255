"""The report's two charts as native Word charts: expenditure composition and scores.

Each chart is a DrawingML chart part (``word/charts/…xml``) written as text: horizontal
bars whose values, category names and labels are the department's figures. Word, WPS
and LibreOffice draw it with the document's own fonts, so it prints as sharp as the
text, scales with the frame, and a reviewer can restyle it in Word. The data sit in the
part's caches (``c:strCache`` / ``c:numCache``), which every suite draws, and in the small
workbook embedded with it (chartdata.py), which Word and WPS open for 编辑数据.

Where a chart goes is the template's business: a picture whose alt text is
``chart:<name>`` marks the frame (size and position); ``chartframes.py`` turns it into a
chart frame once per template, and ``render_charts`` gives each report's chart part and
its workbook.

Labels carry the report's own formatting: 万元 with 2 decimals and the share with 2
decimals for the expenditure classes; score / 满分 for the categories; a figure a draft
doubts is labelled （待核实） as in the text. Only figures that were entered and readable
reach a chart (the context's ``_charts``), never a blank drawn as 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from ..ooxml.xmltext import escape
from .chartdata import chart_workbook
from .formatting import fmt_money, fmt_percent, fmt_score

CHART_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CHART_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"
CHART_NAMES = ("expenditure", "scores")
# The chart part's relationship to its embedded workbook (in the chart's own .rels part)
EMBEDDING_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"
EMBEDDING_RID = "rId1"


class Chart(NamedTuple):
    """One report's chart: the chart part's XML and the workbook embedded with it."""

    xml: bytes
    workbook: bytes


_INK, _BLUE, _PALE, _MUTED = "282828", "2E69AA", "E2E9F2", "6E6E6E"
# Title in 黑体, labels in 宋体 (digits too, as the document's own text), as figures in
# official documents; a system without them substitutes its own CJK face (LibreOffice:
# Noto / WenQuanYi).
_TITLE_FONT, _LABEL_FONT = "黑体", "宋体"
_AMOUNT = "金额（万元）"

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<c:chartSpace xmlns:c="{CHART_URI}" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<c:date1904 val="0"/><c:lang val="zh-CN"/><c:roundedCorners val="0"/><c:chart>'
)
_TAIL = (
    '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
    "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>"
    f'{{txpr}}<c:externalData r:id="{EMBEDDING_RID}"><c:autoUpdate val="0"/></c:externalData></c:chartSpace>'
)
_FLAGS = (
    '<c:showLegendKey val="0"/><c:showVal val="{val}"/><c:showCatName val="0"/>'
    '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>'
)


def _font(size: int, face: str, bold: bool = False, tag: str = "a:defRPr") -> str:
    """Run properties: size in hundredths of a point, dark ink, Latin and East Asian face."""
    return (
        f'<{tag} lang="zh-CN" sz="{size}" b="{int(bold)}"><a:solidFill><a:srgbClr val="{_INK}"/></a:solidFill>'
        f'<a:latin typeface="{face}"/><a:ea typeface="{face}"/><a:cs typeface="{face}"/></{tag}>'
    )


def _txpr(size: int, face: str = _LABEL_FONT) -> str:
    return (
        f'<c:txPr><a:bodyPr wrap="none"/><a:lstStyle/><a:p><a:pPr>{_font(size, face)}</a:pPr>'
        '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>'
    )


def _rich(text: str, size: int, face: str, bold: bool = False) -> str:
    return (
        f'<c:rich><a:bodyPr wrap="none"/><a:lstStyle/><a:p><a:pPr>{_font(size, face, bold)}</a:pPr>'
        f"<a:r>{_font(size, face, bold, 'a:rPr')}<a:t>{escape(text)}</a:t></a:r></a:p></c:rich>"
    )


def _title(text: str) -> str:
    return (
        f'<c:title><c:tx>{_rich(text, 1200, _TITLE_FONT)}</c:tx><c:overlay val="0"/></c:title>'
        '<c:autoTitleDeleted val="0"/>'
    )


def _fill(colour: str, outline: str | None = None) -> str:
    line = f'<a:ln w="9525"><a:solidFill><a:srgbClr val="{outline}"/></a:solidFill></a:ln>' if outline else ""
    return f'<c:spPr><a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>{line}</c:spPr>'


def _label_size(n: int) -> int:
    """Label size (hundredths of a point) for n bars in the frame: 10.5 pt down to 7 pt."""
    return 1050 if n <= 6 else 900 if n <= 10 else 800 if n <= 16 else 700


def _number(x: Decimal) -> str:
    return format(x, "f")


def _labels(texts: list[str], size: int) -> str:
    """Each bar's own label text, outside the bar's end."""
    points = "".join(
        f'<c:dLbl><c:idx val="{k}"/><c:tx>{_rich(text, size, _LABEL_FONT)}</c:tx>{_txpr(size)}'
        f'<c:dLblPos val="outEnd"/>{_FLAGS.format(val=1)}</c:dLbl>'
        for k, text in enumerate(texts)
    )
    return f'<c:dLbls>{points}{_txpr(size)}<c:dLblPos val="outEnd"/>{_FLAGS.format(val=1)}</c:dLbls>'


def _series(idx: int, name: str, labels: list[str], values: list[Decimal], fill: str, dlbls: str) -> str:
    n = len(labels)
    cats = "".join(f'<c:pt idx="{k}"><c:v>{escape(label)}</c:v></c:pt>' for k, label in enumerate(labels))
    vals = "".join(f'<c:pt idx="{k}"><c:v>{_number(v)}</c:v></c:pt>' for k, v in enumerate(values))
    col, last = "BC"[idx], max(n + 1, 2)  # an empty chart still names a valid range
    return (
        f'<c:ser><c:idx val="{idx}"/><c:order val="{idx}"/><c:tx><c:v>{escape(name)}</c:v></c:tx>{fill}'
        f'<c:invertIfNegative val="0"/>{dlbls}'
        f'<c:cat><c:strRef><c:f>Sheet1!$A$2:$A${last}</c:f><c:strCache><c:ptCount val="{n}"/>{cats}</c:strCache>'
        f"</c:strRef></c:cat>"
        f"<c:val><c:numRef><c:f>Sheet1!${col}$2:${col}${last}</c:f>"
        f'<c:numCache><c:formatCode>0.00</c:formatCode><c:ptCount val="{n}"/>{vals}</c:numCache></c:numRef></c:val>'
        "</c:ser>"
    )


def _axes(size: int, top: Decimal) -> str:
    """Category axis on the left, first category on top; the value axis hidden, 0 … ``top``."""
    line = f'<c:spPr><a:ln w="12700"><a:solidFill><a:srgbClr val="{_MUTED}"/></a:solidFill></a:ln></c:spPr>'
    return (
        '<c:catAx><c:axId val="501"/><c:scaling><c:orientation val="maxMin"/></c:scaling><c:delete val="0"/>'
        '<c:axPos val="l"/><c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="none"/>'
        f'<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>{line}{_txpr(size)}'
        '<c:crossAx val="502"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:tickLblSkip val="1"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="502"/><c:scaling><c:orientation val="minMax"/>'
        f'<c:max val="{_number(top)}"/><c:min val="0"/></c:scaling><c:delete val="1"/><c:axPos val="t"/>'
        '<c:numFmt formatCode="0.00" sourceLinked="0"/><c:majorTickMark val="none"/><c:minorTickMark val="none"/>'
        '<c:tickLblPos val="none"/><c:crossAx val="501"/><c:crosses val="autoZero"/>'
        '<c:crossBetween val="between"/></c:valAx>'
    )


def _chart(title: str, bars: str, size: int, top: Decimal, legend: bool) -> bytes:
    legend_xml = f'<c:legend><c:legendPos val="t"/><c:overlay val="0"/>{_txpr(size)}</c:legend>' if legend else ""
    return (
        _HEAD
        + _title(title)
        + f"<c:plotArea><c:layout/>{bars}{_axes(size, top)}"
        + "<c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr></c:plotArea>"
        + legend_xml
        + _TAIL.format(txpr=_txpr(size))
    ).encode("utf-8")


def _top(biggest: Decimal, room: str) -> Decimal:
    """The value axis maximum: the longest bar plus room for its label on the right."""
    return (biggest or Decimal(1)) * Decimal(room)


def expenditure_chart(items: list[dict[str, Any]], title: str = "本年预算支出构成（按功能分类）") -> Chart:
    """Horizontal bars, largest class first, each labelled with 万元 and its share."""
    rows = sorted(items, key=lambda i: i["amount"], reverse=True)
    size = _label_size(len(rows))
    texts = []
    for item in rows:
        text = f"{item.get('money') or fmt_money(item['amount'])}万元"
        if item.get("share") is not None:
            text += f"（{fmt_percent(item['share'])}）"
        texts.append(text + item.get("mark", ""))
    labels, amounts = [i["label"] for i in rows], [i["amount"] for i in rows]
    series = _series(0, _AMOUNT, labels, amounts, _fill(_BLUE), _labels(texts, size))
    bars = (
        '<c:barChart><c:barDir val="bar"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
        f'{series}<c:gapWidth val="60"/><c:axId val="501"/><c:axId val="502"/></c:barChart>'
    )
    xml = _chart(title, bars, size, _top(max(amounts, default=Decimal(0)), "1.6"), legend=False)
    return Chart(xml, chart_workbook(labels, [(_AMOUNT, amounts)]))


def scores_chart(rows: list[dict[str, Any]], title: str = "各类别自评得分与满分") -> Chart:
    """Per scored category a pale 满分 bar with the 得分 bar drawn over it, labelled 得分 / 满分.

    Only categories that have a 满分 to be measured against belong here: bonus and
    deduction items are left to the table (the context passes ``kind == "score"`` rows).
    """
    rows = [r for r in rows if r.get("kind", "score") == "score" and r.get("score") is not None]
    size = _label_size(len(rows))
    labels = [r["label"] for r in rows]
    texts = [f"{fmt_score(r['score'], 1)} / {fmt_score(r['max'], 1)}{r.get('mark', '')}" for r in rows]
    most = [r["max"] for r in rows]
    got = [max(min(r["score"], r["max"]), Decimal(0)) for r in rows]
    full = _series(0, "满分", labels, most, _fill(_PALE, _MUTED), _labels(texts, size))
    scored = _series(1, "得分", labels, got, _fill(_BLUE), f"<c:dLbls>{_FLAGS.format(val=0)}</c:dLbls>")
    bars = (
        '<c:barChart><c:barDir val="bar"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
        f'{full}{scored}<c:gapWidth val="50"/><c:overlap val="100"/>'
        '<c:axId val="501"/><c:axId val="502"/></c:barChart>'
    )
    xml = _chart(title, bars, size, _top(max(most, default=Decimal(0)), "1.35"), legend=True)
    return Chart(xml, chart_workbook(labels, [("满分", most), ("得分", got)]))


def render_charts(charts: dict[str, Any]) -> dict[str, Chart]:
    """The chart (part and workbook) per chart name, for the charts the context switches on."""
    out = {}
    if charts.get("expenditure"):
        out["expenditure"] = expenditure_chart(charts["expenditure_data"])
    if charts.get("scores"):
        out["scores"] = scores_chart(charts["scores_data"])
    return out


def empty_chart(name: str) -> Chart:
    """The part a template carries for a chart no report has drawn yet (no bars)."""
    return expenditure_chart([]) if name == "expenditure" else scores_chart([])
