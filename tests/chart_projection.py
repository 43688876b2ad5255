"""A readable projection of the report's native charts, for golden files and assertions."""

from __future__ import annotations

from io import BytesIO

import python_calamine
from lxml import etree

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS = {"c": C, "a": A}


def chart_rids(paragraph) -> list[str]:
    """The relationship ids of the chart frames in a paragraph element (body order)."""
    return [el.get(f"{{{R}}}id") for el in paragraph.iter(f"{{{C}}}chart")]


def chart_summary(blob: bytes) -> str:
    """Title, then per series its name and per bar 'category=value « label »', in bar order."""
    root = etree.fromstring(blob)
    title = "".join(root.xpath("c:chart/c:title//a:t/text()", namespaces=NS))
    parts = [title]
    for ser in root.iter(f"{{{C}}}ser"):
        name = "".join(ser.xpath("c:tx//c:v/text()", namespaces=NS))
        cats = ser.xpath("c:cat//c:pt/c:v/text()", namespaces=NS)
        vals = ser.xpath("c:val//c:pt/c:v/text()", namespaces=NS)
        labels = {
            int(d.find("c:idx", NS).get("val")): "".join(d.xpath("c:tx//a:t/text()", namespaces=NS))
            for d in ser.iterfind("c:dLbls/c:dLbl", NS)
        }
        bars = [
            f"{c}={v}" + (f" «{labels[k]}»" if labels.get(k) else "")
            for k, (c, v) in enumerate(zip(cats, vals, strict=True))
        ]
        parts.append(f"{name}: " + "; ".join(bars))
    return " | ".join(parts)


def chart_sheet(workbook: bytes) -> list[list]:
    """A chart's embedded workbook: its Sheet1 as python-calamine reads it."""
    return python_calamine.CalamineWorkbook.from_filelike(BytesIO(workbook)).get_sheet_by_name("Sheet1").to_python()
