"""The 审核结果 worksheet (one row per finding) and the hidden _审核记录 sheet.

审核结果 is appended as the last sheet and made the active tab, so the department
sees it first. Row 1 sums up, row 2 is the header, then one row per finding: 序号,
类别, 审核项目 (the rule's Chinese title), 工作表, 单元格 (an internal hyperlink to the
flagged cell), 问题说明, 状态, 说明（请填写）, a narrow 规则编号 (the rule id, for the
bureau; the clerk reads the title) and a hidden key column J (rule id | sheet | cell)
that ties an answer to its finding in the next round. Earlier rounds' layout (规则编号
in C, key in I) is still read: columns are found by their header text. The sheet is protected without a password
with only the 说明 column unlocked; columns and rows can still be resized.
Strings are written inline so the shared-strings part is left untouched.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass

from ..ooxml.xmltext import escape
from ..results import SEVERITY_LABELS, CheckReport, Finding
from .styles import ERROR_FILL, WARNING_FILL, Styles, solid_fill

RESULTS_SHEET = "审核结果"
STATE_SHEET = "_审核记录"
STATE_TITLE = "xlproc annotate state v1（审核程序使用，请勿修改）"
HEADERS = ("序号", "类别", "审核项目", "工作表", "单元格", "问题说明", "状态", "说明（请填写）", "规则编号", "键")
WIDTHS = (6, 9, 26, 14, 9, 56, 9, 40, 10, 30)
ANSWER_COL = "H"
KEY_COL = "J"
HEADER_ROW = 2
STATUS_LABELS = {"error": "须修改", "open": "待说明", "explained": "已说明", "info": "仅供参考"}
EXPLAINED_FILL = solid_fill("FFC6EFCE")
_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
_BORDER = (
    '<border><left style="thin"><color indexed="64"/></left><right style="thin"><color indexed="64"/></right>'
    '<top style="thin"><color indexed="64"/></top><bottom style="thin"><color indexed="64"/></bottom><diagonal/></border>'
)


def finding_key(f: Finding) -> str:
    """The hidden key of a finding's row: rule id | sheet | cell."""
    return f"{f.rule_id}|{f.sheet}|{f.cell}"


def computed_note(report: CheckReport, f: Finding) -> str:
    """For a finding on a computed cell: where the clerk corrects it ("" otherwise)."""
    cc = report.computed.get(f"{f.sheet}!{f.cell}")
    if cc is None or not cc.inputs:
        return ""
    cells = "、".join(c.cell if c.sheet == f.sheet else str(c) for c in cc.inputs)
    label = cc.label if "“" in cc.label else f"“{cc.label}”"
    return f"（{f.cell} 为自动计算的{label}，请核对并修改参与计算的 {cells}）"


def row_values(report: CheckReport, n: int, f: Finding) -> tuple:
    """The values of a finding's row in 审核结果, in HEADERS order."""
    return (
        n,
        SEVERITY_LABELS[f.severity],
        f.title or f.rule_id,
        f.sheet,
        f.cell,
        f.message + computed_note(report, f),
        status_of(f),
        f.explanation,
        f.rule_id,
        finding_key(f),
    )


def status_of(f: Finding) -> str:
    """The 状态 column text of a finding."""
    if f.severity == "error":
        return STATUS_LABELS["error"]
    if f.severity == "info":
        return STATUS_LABELS["info"]
    return STATUS_LABELS["explained" if f.explained else "open"]


def summary_text(report: CheckReport) -> str:
    """The one-line summary at the top of 审核结果."""
    c = report.counts
    if not report.findings:
        return "审核结果：未发现问题。"
    return (
        f"审核结果：强制性问题 {c['error']} 项（须修改后重新报送）；提示性问题 {c['warning']} 项"
        f"（已说明 {c['explained']} 项，待说明 {c['open_warning']} 项）；提示信息 {c['info']} 项。"
        "点击“单元格”列可跳转到问题所在位置；请在“说明（请填写）”列对提示性问题逐条说明。"
    )


@dataclass(frozen=True)
class _Ids:
    summary: int
    header: int
    body: int
    center: int
    link: int
    error: int
    warning: int
    explained: int
    answer: int
    small: int


def _font_variant(styles: Styles, bold: bool = False, link: bool = False, small: bool = False) -> int:
    base = styles.get("fonts", 0) or '<font><sz val="11"/><name val="宋体"/><charset val="134"/></font>'
    inner = base[base.index(">") + 1 : base.rindex("</")] if not base.endswith("/>") else ""
    inner = re.sub(r"<(?:[\w.-]+:)?(b|u)\b[^<>]*/>", "", inner)
    if small:  # the rule id column: small grey print, for the bureau
        inner = re.sub(r"<(?:[\w.-]+:)?(sz|color)\b[^<>]*/>", "", inner)
        inner = '<sz val="8"/><color rgb="FF808080"/>' + inner
    if link:
        inner = re.sub(r"<(?:[\w.-]+:)?color\b[^<>]*/>", "", inner)
        inner = '<u/><color rgb="FF0563C1"/>' + inner
    if bold:
        inner = "<b/>" + inner
    return styles.ensure("fonts", f"<font>{inner}</font>")


def _xf(font: int, fill: int, border: int, h: str = "", wrap: bool = True, locked: bool = True, numfmt: int = 0) -> str:
    align = f' horizontal="{h}"' if h else ""
    vertical = "center" if h else "top"
    wrap_attr = ' wrapText="1"' if wrap else ""
    prot = "" if locked else '<protection locked="0"/>'
    return (
        f'<xf numFmtId="{numfmt}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0" applyNumberFormat="1" '
        f'applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1" applyProtection="1">'
        f'<alignment{align} vertical="{vertical}"{wrap_attr}/>{prot}</xf>'
    )


def _style_ids(styles: Styles) -> _Ids:
    regular, bold, link = _font_variant(styles), _font_variant(styles, bold=True), _font_variant(styles, link=True)
    small = _font_variant(styles, small=True)
    no_fill = 0
    border = styles.ensure("borders", _BORDER)
    none_border = 0
    header_fill = styles.ensure("fills", solid_fill("FFD9E1F2"))
    err, warn, ok = (styles.ensure("fills", f) for f in (ERROR_FILL, WARNING_FILL, EXPLAINED_FILL))
    x = styles.ensure
    return _Ids(
        summary=x("cellXfs", _xf(bold, no_fill, none_border)),
        header=x("cellXfs", _xf(bold, header_fill, border, h="center")),
        body=x("cellXfs", _xf(regular, no_fill, border)),
        center=x("cellXfs", _xf(regular, no_fill, border, h="center")),
        link=x("cellXfs", _xf(link, no_fill, border, h="center")),
        error=x("cellXfs", _xf(regular, err, border, h="center")),
        warning=x("cellXfs", _xf(regular, warn, border, h="center")),
        explained=x("cellXfs", _xf(regular, ok, border, h="center")),
        answer=x("cellXfs", _xf(regular, no_fill, border, locked=False, numfmt=49)),
        small=x("cellXfs", _xf(small, no_fill, border)),
    )


_WIDE: dict[str, int] = {}  # non-ASCII character → 1 if it takes two columns


def _width_units(text: str) -> int:
    if text.isascii():
        return len(text)
    n = len(text)
    for ch in text:
        if ch > "\x7f":
            w = _WIDE.get(ch)
            if w is None:
                w = _WIDE[ch] = 1 if unicodedata.east_asian_width(ch) in "WF" else 0
            n += w
    return n


def _lines(text: str, width: int) -> int:
    return sum(max(1, math.ceil(_width_units(part) / max(width - 1, 1))) for part in (text or "").split("\n"))


def _col(i: int, width: int, answer_style: int) -> str:
    extra = ' hidden="1"' if HEADERS[i] == "键" else ""
    if HEADERS[i].startswith("说明"):
        extra = f' style="{answer_style}"'  # unlocked beyond the listed rows too
    return f'<col min="{i + 1}" max="{i + 1}" width="{width}"{extra} customWidth="1"/>'


def _s(ref: str, style: int, text: str) -> str:
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _sheet_ref(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def results_sheet_xml(report: CheckReport, styles: Styles, linkable: set[tuple[str, str]]) -> str:
    """The worksheet XML of 审核结果; ``linkable`` = (sheet, cell) pairs that exist."""
    ids = _style_ids(styles)
    rows: list[str] = []
    links: list[str] = []
    summary = summary_text(report)
    rows.append(
        f'<row r="1" ht="{15 * max(2, _lines(summary, sum(WIDTHS[:8])))}" customHeight="1">{_s("A1", ids.summary, summary)}</row>'
    )
    header = "".join(_s(f"{chr(65 + i)}{HEADER_ROW}", ids.header, h) for i, h in enumerate(HEADERS))
    rows.append(f'<row r="{HEADER_ROW}">{header}</row>')
    for n, f in enumerate(report.findings, start=1):
        r = HEADER_ROW + n
        sev_style = {"error": ids.error, "warning": ids.warning}.get(f.severity, ids.center)
        status_style = ids.explained if f.explained else sev_style
        link_style = ids.center
        if f.cell and (f.sheet, f.cell) in linkable:
            link_style = ids.link
            links.append(
                f'<hyperlink ref="E{r}" location="{escape(_sheet_ref(f.sheet) + "!" + f.cell)}" display="{escape(f.cell)}"/>'
            )
        v = row_values(report, n, f)
        height = max(_lines(v[5], WIDTHS[5]), _lines(v[2], WIDTHS[2]), _lines(f.explanation, WIDTHS[7]), 1)
        cells = [
            f'<c r="A{r}" s="{ids.center}"><v>{n}</v></c>',
            _s(f"B{r}", sev_style, v[1]),
            _s(f"C{r}", ids.body, v[2]),
            _s(f"D{r}", ids.center, v[3]),
            _s(f"E{r}", link_style, v[4]),
            _s(f"F{r}", ids.body, v[5]),
            _s(f"G{r}", status_style, v[6]),
            _s(f"H{r}", ids.answer, f.explanation) if f.explanation else f'<c r="H{r}" s="{ids.answer}"/>',
            _s(f"I{r}", ids.small, v[8]),
            _s(f"J{r}", ids.body, v[9]),
        ]
        rows.append(f'<row r="{r}" ht="{15 * height + 3}" customHeight="1">{"".join(cells)}</row>')
    last = HEADER_ROW + max(len(report.findings), 0)
    cols = "".join(_col(i, w, ids.answer) for i, w in enumerate(WIDTHS))
    hyperlinks = f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<worksheet {_NS}>"
        '<sheetPr><tabColor rgb="FFC00000"/><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:J{last}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        f'<pane ySplit="{HEADER_ROW}" topLeftCell="A{HEADER_ROW + 1}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="H{HEADER_ROW + 1}" sqref="H{HEADER_ROW + 1}"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
        f"<sheetData>{''.join(rows)}</sheetData>"
        '<sheetProtection sheet="1" objects="1" scenarios="1" formatCells="0" formatColumns="0" formatRows="0" autoFilter="0" sort="0"/>'
        '<mergeCells count="1"><mergeCell ref="A1:H1"/></mergeCells>'
        f"{hyperlinks}"
        '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        '<headerFooter><oddHeader>&amp;C&amp;"宋体,Bold"&amp;12审核结果</oddHeader>'
        "<oddFooter>&amp;C第 &amp;P 页 / 共 &amp;N 页</oddFooter></headerFooter>"
        "</worksheet>"
    )


_CHUNK = 30000  # Excel cells hold at most 32767 characters


def state_sheet_xml(state: dict) -> str:
    """The hidden sheet recording what this round changed (JSON in column A)."""
    text = json.dumps(state, ensure_ascii=False, sort_keys=True)
    chunks = [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)] or [""]
    rows = [f'<row r="1">{_s("A1", 0, STATE_TITLE)}</row>']
    rows += [f'<row r="{i + 2}">{_s(f"A{i + 2}", 0, c)}</row>' for i, c in enumerate(chunks)]
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet {_NS}><dimension ref="A1:A{len(chunks) + 1}"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f"<sheetData>{''.join(rows)}</sheetData>"
        '<sheetProtection sheet="1" objects="1" scenarios="1"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    )


def parse_state(cells: dict[str, str]) -> dict | None:
    """The state dict from the state sheet's cells (None if absent or unreadable)."""
    if not cells.get("A1", "").startswith("xlproc annotate state v1"):
        return None
    parts = []
    row = 2
    while f"A{row}" in cells:
        parts.append(cells[f"A{row}"])
        row += 1
    try:
        state = json.loads("".join(parts))
    except ValueError:
        return None
    return state if isinstance(state, dict) else None
