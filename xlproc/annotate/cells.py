"""Read the cell texts of one small worksheet (our 审核结果 and state sheets).

Handles inline strings (what we write), shared strings (what Excel and WPS write
on save) and plain values. Parsed with regular expressions over the text, which
expand no entities (a hostile workbook cannot blow up memory) and cost a fraction
of a full XML parser for these small sheets. Only the sheet asked for and, if it
needs them, the shared strings are read.
"""

from __future__ import annotations

import re

from ..ooxml.a1 import a1, split_a1
from ..ooxml.xmltext import get_attr, iter_spans, unescape
from .package import REL_SHARED_STRINGS, Package

# Openers for ``iter_spans`` (linear on any text; see ``xmltext.iter_spans``).
_P = r"<((?:[\w.-]{1,40}:)?)"
_CELL = re.compile(_P + r"c\b[^<>]*>")
_V = re.compile(_P + r"v>")
_SI = re.compile(_P + r"si\s*/?>")
_T = re.compile(_P + r"t(?:\s[^<>]*)?/?>")
_RPH = re.compile(_P + r"rPh\b[^<>]*>")


def _inner(el: str) -> str:
    """Content of an element found by ``iter_spans`` ("" when self-closing)."""
    if el.endswith("/>") and el.count("<") == 1:
        return ""
    return el[el.index(">") + 1 : el.rindex("</")]


def item_text(xml: str) -> str:
    """Text of a string item (<si> / <is> content): its <t> elements, not phonetic <rPh>."""
    if "rPh" in xml:
        xml = "".join(_without(xml, list(iter_spans(xml, _RPH, "</{p}rPh>"))))
    return "".join(unescape(_inner(m.group(0))) for m in iter_spans(xml, _T, "</{p}t>"))


def _without(xml: str, spans: list) -> list[str]:
    out, pos = [], 0
    for m in spans:
        out.append(xml[pos : m.start()])
        pos = m.end()
    out.append(xml[pos:])
    return out


def shared_strings(pkg: Package, workbook_part: str) -> list[str]:
    """The shared-string table of the workbook (texts only)."""
    rel = next((r for r in pkg.rels(workbook_part) if r.type == REL_SHARED_STRINGS), None)
    if rel is None or not pkg.exists(rel.target):
        return []
    return [item_text(_inner(m.group(0))) for m in iter_spans(pkg.read_text(rel.target), _SI, "</{p}si>")]


def read_cells(pkg: Package, part: str, workbook_part: str) -> dict[str, str]:
    """{A1 ref: text} of every non-empty cell of worksheet ``part`` (refs as Excel writes them)."""
    xml = pkg.read_text(part)
    strings: list[str] | None = None
    cells: dict[str, str] = {}
    for m in iter_spans(xml, _CELL, "</{p}c>"):
        el = m.group(0)
        tag_end = el.index(">") + 1
        attrs, body = " " + el[:tag_end], _inner(el)
        ref = get_attr(attrs, "r") or ""
        kind = get_attr(attrs, "t") or "n"
        if kind == "inlineStr":
            text = item_text(body)
        else:
            v = next(iter_spans(body, _V, "</{p}v>"), None)
            value = unescape(_inner(v.group(0))) if v else ""
            if kind == "s":
                if strings is None:
                    strings = shared_strings(pkg, workbook_part)
                ok = value.isascii() and value.isdigit() and len(value) < 10
                text = strings[int(value)] if ok and int(value) < len(strings) else ""
            else:
                text = value
        if text != "" and ref:
            rc = split_a1(ref)  # "b5" or "$B$5" as B5; no reference, or none in a sheet: not a cell
            if rc is not None:
                cells[a1(*rc)] = text
    return cells
