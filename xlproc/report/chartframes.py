"""Turn a report template's chart placeholders into native chart frames, once per template.

A bureau marks where a chart goes with an ordinary picture whose alt text (description
or title) is ``chart:expenditure`` or ``chart:scores``: Word and WPS let anyone place,
size and caption a picture, not so a chart without data. When the renderer compiles the
template, each such picture becomes a chart frame of the same size and position that
refers to a chart part of the package (``word/charts/xlproc_<name>.xml``, an empty chart
until a report fills it) with its embedded workbook (``word/embeddings/xlproc_<name>.xlsx``);
the placeholder image is dropped when nothing else uses it. Every report then only swaps
in its chart parts and workbooks (charts.py, chartdata.py). A picture with another
``chart:`` name is left as it is.
"""

from __future__ import annotations

import itertools
import posixpath
import zipfile
from io import BytesIO
from typing import Any, NamedTuple

from lxml import etree

from ..ooxml.opc import relative, rels_name, resolve, source_of
from ..ooxml.zipout import FIXED_DATE_TIME, Member, zip_bytes
from .chartdata import XLSX_CONTENT_TYPE
from .charts import (
    CHART_CONTENT_TYPE,
    CHART_NAMES,
    CHART_REL_TYPE,
    CHART_URI,
    EMBEDDING_REL_TYPE,
    EMBEDDING_RID,
    empty_chart,
)

_NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_CONTENT_TYPES = "[Content_Types].xml"


class ChartFrame(NamedTuple):
    """Where one chart's report-specific parts live in the package."""

    part: str  # the chart part, e.g. word/charts/xlproc_scores.xml
    workbook: str  # its embedded workbook, e.g. word/embeddings/xlproc_scores.xlsx


# A template is the bureau's file, but still parsed as untrusted: no entities, no network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _parse(blob: bytes) -> Any:
    return etree.fromstring(blob, _PARSER)


def _q(prefix: str, local: str) -> str:
    return f"{{{_NS[prefix]}}}{local}"


def _main_part(blobs: dict[str, bytes]) -> str | None:
    root = blobs.get("_rels/.rels")
    if root is None:
        return None
    for rel in _parse(root).iter(_q("rel", "Relationship")):
        if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            return resolve("", rel.get("Target", ""))
    return None


def _targets(blobs: dict[str, bytes]) -> set[str]:
    """Every internal part any relationships part of the package points at."""
    return {
        resolve(source_of(name), rel.get("Target", ""))
        for name, blob in blobs.items()
        if name.endswith(".rels")
        for rel in _parse(blob).iter(_q("rel", "Relationship"))
        if rel.get("TargetMode") != "External"
    }


def _rel_refs(element: Any) -> set[str]:
    """The relationship ids that ``element`` and its descendants refer to (r:embed, r:id …)."""
    prefix = f"{{{_NS['r']}}}"
    return {v for el in element.iter() for k, v in el.attrib.items() if k.startswith(prefix)}


def _embedding_rels(frame: ChartFrame) -> bytes:
    target = relative(frame.part, frame.workbook)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_NS["rel"]}"><Relationship Id="{EMBEDDING_RID}" '
        f'Type="{EMBEDDING_REL_TYPE}" Target="{target}"/></Relationships>'
    ).encode()


def native_chart_frames(raw: bytes) -> tuple[bytes, dict[str, ChartFrame]]:
    """``raw`` (a .docx) with its chart placeholders as chart frames; chart name → its members.

    Returns ``raw`` itself and ``{}`` when the template has no placeholder.
    Raises what lxml and zipfile raise for a broken package (the renderer reports it).
    """
    with zipfile.ZipFile(BytesIO(raw)) as z:
        infos = z.infolist()
        blobs = {info.filename: z.read(info) for info in infos}
    main = _main_part(blobs)
    if main is None or main not in blobs or rels_name(main) not in blobs or _CONTENT_TYPES not in blobs:
        return raw, {}
    doc = _parse(blobs[main])
    rels = _parse(blobs[rels_name(main)])
    rel_ids = {rel.get("Id") for rel in rels}
    folder = posixpath.dirname(main)
    frames: dict[str, ChartFrame] = {}
    chart_ids: dict[str, str] = {}
    dropped_ids: set[str] = set()
    for pr in doc.iter(_q("wp", "docPr")):
        descr = (pr.get("descr") or pr.get("title") or "").strip()
        name = descr.split(":", 1)[1].strip() if descr.startswith("chart:") else ""
        data = pr.getparent().find("a:graphic/a:graphicData", _NS)
        if name not in CHART_NAMES or data is None:
            continue
        if name not in chart_ids:
            member = ChartFrame(
                posixpath.join(folder, "charts", f"xlproc_{name}.xml"),
                posixpath.join(folder, "embeddings", f"xlproc_{name}.xlsx"),
            )
            rid = next(f"rIdXlprocChart{k}" for k in itertools.count(1) if f"rIdXlprocChart{k}" not in rel_ids)
            rel_ids.add(rid)
            etree.SubElement(
                rels, _q("rel", "Relationship"), Id=rid, Type=CHART_REL_TYPE, Target=relative(main, member.part)
            )
            chart_ids[name], frames[name] = rid, member
        dropped_ids |= _rel_refs(data)
        for child in list(data):
            data.remove(child)
        data.set("uri", CHART_URI)
        chart = etree.SubElement(data, f"{{{CHART_URI}}}chart", nsmap={"c": CHART_URI, "r": _NS["r"]})
        chart.set(_q("r", "id"), chart_ids[name])
    if not frames:
        return raw, {}
    unused = dropped_ids - _rel_refs(doc)
    for rel in list(rels):
        if rel.get("Id") in unused:
            rels.remove(rel)
    blobs[main] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
    blobs[rels_name(main)] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = _parse(blobs[_CONTENT_TYPES])
    if not types.findall("ct:Default[@Extension='xlsx']", _NS):
        types.insert(0, etree.Element(_q("ct", "Default"), Extension="xlsx", ContentType=XLSX_CONTENT_TYPE))
    for name, frame in frames.items():
        for old in list(types.iterfind("ct:Override", _NS)):
            if old.get("PartName") == f"/{frame.part}":
                types.remove(old)
        etree.SubElement(types, _q("ct", "Override"), PartName=f"/{frame.part}", ContentType=CHART_CONTENT_TYPE)
        blobs[frame.part], blobs[frame.workbook] = empty_chart(name)
        blobs[rels_name(frame.part)] = _embedding_rels(frame)
    blobs[_CONTENT_TYPES] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    used = _targets(blobs)  # the placeholder images nothing points at any more are left out
    names = [i.filename for i in infos if not i.filename.startswith(f"{folder}/media/") or i.filename in used]
    for frame in frames.values():
        names += [m for m in (frame.part, rels_name(frame.part), frame.workbook) if m not in names]
    return zip_bytes([Member(name, FIXED_DATE_TIME, 0, body=blobs[name]) for name in names]), frames
