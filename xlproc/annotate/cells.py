"""Read the cell texts of one small worksheet (our 审核结果 and state sheets).

Handles inline strings (what we write), shared strings (what Excel and WPS write
on save) and plain values. Parsed with regular expressions over the text, which
expand no entities (a hostile workbook cannot blow up memory) and cost a fraction
of a full XML parser for these small sheets. Only the sheet asked for and, if it
needs them, the shared strings are read.
"""

from __future__ import annotations

import re

from ..ooxml.xmltext import get_attr, unescape
from .package import REL_SHARED_STRINGS, Package

_P = r"(?:[\w.-]+:)?"
_CELL = re.compile(r"<" + _P + r"c\b([^>]*?)(?:/>|>(.*?)</" + _P + r"c>)", re.S)
_V = re.compile(r"<" + _P + r"v>(.*?)</" + _P + r"v>", re.S)
_SI = re.compile(r"<" + _P + r"si>(.*?)</" + _P + r"si>|<" + _P + r"si\s*/>", re.S)
_T = re.compile(r"<" + _P + r"t(?:\s[^>]*)?>(.*?)</" + _P + r"t>|<" + _P + r"t\s*/>", re.S)
_RPH = re.compile(r"<" + _P + r"rPh\b.*?</" + _P + r"rPh>", re.S)


def item_text(xml: str) -> str:
    """Text of a string item (<si> / <is> content): its <t> elements, not phonetic <rPh>."""
    xml = _RPH.sub("", xml)
    return "".join(unescape(m.group(1) or "") for m in _T.finditer(xml))


def shared_strings(pkg: Package, workbook_part: str) -> list[str]:
    """The shared-string table of the workbook (texts only)."""
    rel = next((r for r in pkg.rels(workbook_part) if r.type == REL_SHARED_STRINGS), None)
    if rel is None or not pkg.exists(rel.target):
        return []
    return [item_text(m.group(1) or "") for m in _SI.finditer(pkg.read_text(rel.target))]


def read_cells(pkg: Package, part: str, workbook_part: str) -> dict[str, str]:
    """{A1 ref: text} of every non-empty cell of worksheet ``part``."""
    xml = pkg.read_text(part)
    strings: list[str] | None = None
    cells: dict[str, str] = {}
    for m in _CELL.finditer(xml):
        attrs, body = " " + m.group(1), m.group(2) or ""
        ref = get_attr(attrs, "r") or ""
        kind = get_attr(attrs, "t") or "n"
        if kind == "inlineStr":
            text = item_text(body)
        else:
            v = _V.search(body)
            value = unescape(v.group(1)) if v else ""
            if kind == "s":
                if strings is None:
                    strings = shared_strings(pkg, workbook_part)
                text = strings[int(value)] if value.isdigit() and int(value) < len(strings) else ""
            else:
                text = value
        if text != "" and ref:
            cells[ref] = text
    return cells
