"""Turn a report template's chart placeholders into native chart frames, once per template.

A bureau marks where a chart goes with an ordinary picture whose alt text (description
or title) is ``chart:expenditure`` or ``chart:scores``: Word and WPS let anyone place,
size and caption a picture, not so a chart without data. When the renderer compiles the
template, each such picture becomes a chart frame of the same size and position that
refers to a chart part of the package (``word/charts/xlproc_<name>.xml``, an empty chart
until a report fills it); the placeholder image is dropped when nothing else uses it.
Every report then only swaps in its chart parts (charts.py). A picture with another
``chart:`` name is left as it is.
"""

from __future__ import annotations

import posixpath
import zipfile
from io import BytesIO

from lxml import etree

from .charts import CHART_CONTENT_TYPE, CHART_NAMES, CHART_REL_TYPE, CHART_URI, empty_chart

_NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_CONTENT_TYPES = "[Content_Types].xml"


def _q(prefix: str, local: str) -> str:
    return f"{{{_NS[prefix]}}}{local}"


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _main_part(blobs: dict[str, bytes]) -> str | None:
    root = blobs.get("_rels/.rels")
    if root is None:
        return None
    for rel in etree.fromstring(root).iter(_q("rel", "Relationship")):
        if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            return rel.get("Target", "").lstrip("/")
    return None


def _targets(blobs: dict[str, bytes]) -> set[str]:
    """Every internal part any relationships part of the package points at."""
    found = set()
    for name, blob in blobs.items():
        if not name.endswith(".rels"):
            continue
        source = posixpath.dirname(posixpath.dirname(name))
        for rel in etree.fromstring(blob).iter(_q("rel", "Relationship")):
            if rel.get("TargetMode") != "External":
                target = rel.get("Target", "")
                found.add(
                    target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(source, target))
                )
    return found


def native_chart_frames(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """``raw`` (a .docx) with its chart placeholders as chart frames; chart name → zip member.

    Returns ``raw`` itself and ``{}`` when the template has no placeholder.
    Raises what lxml and zipfile raise for a broken package (the renderer reports it).
    """
    with zipfile.ZipFile(BytesIO(raw)) as z:
        infos = z.infolist()
        blobs = {info.filename: z.read(info) for info in infos}
    main = _main_part(blobs)
    if main is None or main not in blobs or _rels_name(main) not in blobs or _CONTENT_TYPES not in blobs:
        return raw, {}
    doc = etree.fromstring(blobs[main])
    rels = etree.fromstring(blobs[_rels_name(main)])
    rel_ids = {rel.get("Id") for rel in rels}
    folder = posixpath.dirname(main)
    frames: dict[str, str] = {}
    chart_ids: dict[str, str] = {}
    dropped_ids: set[str] = set()
    for pr in doc.iter(_q("wp", "docPr")):
        descr = (pr.get("descr") or pr.get("title") or "").strip()
        name = descr.split(":", 1)[1].strip() if descr.startswith("chart:") else ""
        data = pr.getparent().find("a:graphic/a:graphicData", _NS)
        if name not in CHART_NAMES or data is None:
            continue
        if name not in chart_ids:
            member = posixpath.join(folder, "charts", f"xlproc_{name}.xml")
            rid = next(f"rIdXlprocChart{k}" for k in range(1, 1000) if f"rIdXlprocChart{k}" not in rel_ids)
            rel_ids.add(rid)
            etree.SubElement(
                rels, _q("rel", "Relationship"), Id=rid, Type=CHART_REL_TYPE, Target=f"charts/xlproc_{name}.xml"
            )
            chart_ids[name], frames[name] = rid, member
        dropped_ids |= {v for el in data.iter() for k, v in el.attrib.items() if k.startswith(f"{{{_NS['r']}}}")}
        for child in list(data):
            data.remove(child)
        data.set("uri", CHART_URI)
        chart = etree.SubElement(data, f"{{{CHART_URI}}}chart", nsmap={"c": CHART_URI, "r": _NS["r"]})
        chart.set(_q("r", "id"), chart_ids[name])
    if not frames:
        return raw, {}
    still_used = {v for el in doc.iter() for k, v in el.attrib.items() if k.startswith(f"{{{_NS['r']}}}")}
    for rel in list(rels):
        if rel.get("Id") in dropped_ids - still_used:
            rels.remove(rel)
    blobs[main] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
    blobs[_rels_name(main)] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(blobs[_CONTENT_TYPES])
    for name, member in frames.items():
        for old in types.findall(f"ct:Override[@PartName='/{member}']", _NS):
            types.remove(old)
        etree.SubElement(types, _q("ct", "Override"), PartName=f"/{member}", ContentType=CHART_CONTENT_TYPE)
        blobs[member] = empty_chart(name)
    blobs[_CONTENT_TYPES] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    used = _targets(blobs)  # the placeholder images nothing points at any more are left out
    names = [i.filename for i in infos if not i.filename.startswith(f"{folder}/media/") or i.filename in used]
    names += [m for m in frames.values() if m not in names]
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            z.writestr(name, blobs[name])
    return out.getvalue(), frames
