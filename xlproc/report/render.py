"""Render the narrative report: a docxtpl template compiled once, rendered many times.

``DocxTemplate.render`` re-reads the .docx, re-serialises and regex-patches the body
XML and re-compiles the jinja template on every call (~40 ms). A batch renders one
report per workbook, so ``ReportRenderer`` does that work once per process: it keeps
the template's zip entries, the body XML preprocessed by docxtpl's own ``patch_xml``
(so every docxtpl tag — ``{%p``, ``{%tr``, split runs — means what it means in
docxtpl) and the compiled jinja ``Template``. Rendering is then: build the context,
render the compiled template, expand paragraph marks, check the XML is well formed,
and write a copy of the package with the new document.xml and chart parts
(chartframes.py turns the template's chart placeholder pictures into chart frames once).

The sentences themselves come from the pack's wording file (wording.py), rendered into
the context before the docx template runs; the docx template only places them.
Jinja runs sandboxed with ``autoescape`` (department text containing ``< > &`` is escaped, and
text that looks like ``{{ x }}`` is data, never re-parsed) and ``StrictUndefined``
(a variable the context does not provide is an error naming it, never a blank).
Column loops (``{%tc``) are not supported by this renderer; row loops are.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.parsers import expat

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, meta
from lxml import etree

from ..errors import XlprocError
from ..form.spec import templates_dir
from ..io.atomic import write_bytes
from ..ooxml.zipout import make_entry, zip_bytes
from ..results import CheckReport
from ..submission import Submission
from .chartframes import native_chart_frames
from .charts import CHART_NAMES, Chart, render_charts
from .context import LINE_BREAK, build_context, is_draft
from .formatting import PARAGRAPH_MARK
from .options import ReportOptions, default_options
from .wording import WordingEnvironment, WordingError

_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PPR = re.compile(r"<w:pPr>.*?</w:pPr>", re.DOTALL)
_RUN = re.compile(r"<w:r(?:\s[^>]*)?>.*?</w:r>", re.DOTALL)
_RPR = re.compile(r"<w:rPr>.*?</w:rPr>", re.DOTALL)
_BR = '</w:t><w:br/><w:t xml:space="preserve">'
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>{title}</dc:title><dc:subject>{subject}</dc:subject><dc:creator>{creator}</dc:creator>"
    "<cp:keywords>{keywords}</cp:keywords><cp:lastModifiedBy>xlproc</cp:lastModifiedBy><cp:revision>1</cp:revision>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
    "<cp:category>自评报告</cp:category>{status}</cp:coreProperties>"
)


# What a template expression can raise while rendering besides Jinja's own errors.
_RUNTIME_ERRORS = (TypeError, ArithmeticError, ValueError, AttributeError, LookupError)


class ReportError(XlprocError):
    """The report cannot be rendered: bad template, missing variable, invalid output."""


def _undefined_name(exc: UndefinedError) -> str:
    m = re.search(r"has no attribute '([^']+)'|'([^']+)' is undefined", str(exc))
    return next((g for g in m.groups() if g), str(exc)) if m else str(exc)


def _expand_marks(xml: str) -> str:
    """Split paragraphs at PARAGRAPH_MARK into sibling paragraphs with the same properties.

    Only the paragraphs that contain a mark are touched (most reports have a handful,
    many none), so the rest of the document is not scanned by regular expressions.
    """
    pos = 0
    hit = xml.find(PARAGRAPH_MARK)
    if hit < 0:
        return xml
    out = []
    while hit >= 0:
        start = max(xml.rfind("<w:p>", pos, hit), xml.rfind("<w:p ", pos, hit))
        end = xml.find("</w:p>", hit)
        if start < 0 or end < 0:  # a mark outside any paragraph: just drop it
            out.append(xml[pos : hit + 1].replace(PARAGRAPH_MARK, ""))
            pos = hit + 1
        else:
            end += len("</w:p>")
            out.append(xml[pos:start])
            out.append(_split_paragraph(xml[start:end]))
            pos = end
        hit = xml.find(PARAGRAPH_MARK, pos)
    out.append(xml[pos:])
    return "".join(out)


def _split_paragraph(p: str) -> str:
    """One paragraph containing PARAGRAPH_MARK → several with its paragraph and run properties."""
    ppr = _PPR.search(p)
    ppr_xml = ppr.group(0) if ppr else ""

    def run(rm: re.Match) -> str:
        r = rm.group(0)
        if PARAGRAPH_MARK not in r:
            return r
        rpr = _RPR.search(r)
        rpr_xml = rpr.group(0) if rpr else ""
        return r.replace(
            PARAGRAPH_MARK,
            f'</w:t></w:r></w:p><w:p>{ppr_xml}<w:r>{rpr_xml}<w:t xml:space="preserve">',
        )

    return _RUN.sub(run, p).replace(PARAGRAPH_MARK, "")


def _check_well_formed(doc: bytes) -> None:
    """Raise ExpatError unless ``doc`` is well-formed XML (expat: no tree built, ~2x lxml's speed)."""
    expat.ParserCreate().Parse(doc, True)


class _Part:
    """One templated XML part: the text around the templated element and its compiled body."""

    def __init__(self, name: str, head: str, template: Any, tail: str, source: str):
        self.name, self.head, self.template, self.tail, self.source = name, head, template, tail, source


class ReportRenderer:
    """Load and compile the report template once; render any number of submissions."""

    def __init__(self, template: Path | None = None, options: ReportOptions | None = None):
        self.path = Path(template) if template else templates_dir() / "report.docx"
        self.options = options or default_options()
        # sandboxed: a template (the bureau's or a pack's) cannot reach Python internals
        self.env = WordingEnvironment(autoescape=True, undefined=StrictUndefined)
        try:
            raw, self._charts = native_chart_frames(self.path.read_bytes())
            self.template_bytes = raw  # the template as compiled: chart placeholders turned into chart frames
            with zipfile.ZipFile(BytesIO(raw)) as z:
                blobs = [(info.filename, z.read(info.filename)) for info in z.infolist()]
            tpl = DocxTemplate(BytesIO(raw))
            tpl.init_docx()
        except etree.XMLSyntaxError as exc:  # a part of the .docx is not XML (not saved by Word or WPS)
            raise ReportError(
                f"报告模板 {self.path} 已损坏：其中的 XML 在第 {exc.lineno} 行第 {exc.offset} 列无法解析。"
                "请在 Word 或 WPS 中打开后另存为 .docx，再重试"
            ) from exc
        except KeyError as exc:  # a part the package's own index names is not in the zip
            raise ReportError(
                f"报告模板 {self.path} 不完整：缺少部件 {_missing_member(exc)}。"
                "请在 Word 或 WPS 中打开后另存为 .docx，再重试"
            ) from exc
        except zipfile.BadZipFile as exc:
            raise ReportError(f"报告模板 {self.path} 不是 Word 文档（.docx）或已损坏，无法打开") from exc
        except OSError as exc:
            raise ReportError(f"无法读取报告模板 {self.path}：{exc.strerror or exc}") from exc
        except ValueError as exc:  # python-docx: the main part is not a Word document body
            raise ReportError(
                f"报告模板 {self.path} 不是可用的 Word 文档：找不到正文部件或其类型不对。"
                "请在 Word 或 WPS 中打开后另存为 .docx，再重试"
            ) from exc
        self._parts: dict[str, _Part] = {}
        doc = tpl.docx
        whole = etree.tostring(doc._element, encoding="unicode")
        if "<w:body" not in whole or "</w:body>" not in whole:
            raise ReportError(f"报告模板 {self.path} 不是 Word 文档的正文（缺少 w:body）")
        start, end = whole.index("<w:body"), whole.rindex("</w:body>") + len("</w:body>")
        self._add_part(tpl, doc.part.partname.lstrip("/"), whole[:start], tpl.get_xml(), whole[end:])
        for rel in doc.part.rels.values():
            if rel.reltype in (RT.HEADER, RT.FOOTER) and not rel.is_external:
                xml = tpl.get_part_xml(rel.target_part)
                if "{{" in xml or "{%" in xml:
                    self._add_part(tpl, rel.target_part.partname.lstrip("/"), "", xml, "")
        self._core = next(((n, blob.decode("utf-8")) for n, blob in blobs if n == "docProps/core.xml"), None)
        # Unchanged parts are deflated once here, not once per report (see zipout.py).
        self._entries = [make_entry(name, blob) for name, blob in blobs]

    def _add_part(self, tpl: DocxTemplate, name: str, head: str, xml: str, tail: str) -> None:
        src = re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))
        try:
            compiled = self.env.from_string(src)
        except TemplateSyntaxError as exc:
            near = re.sub(r"<[^>]+>", "", "\n".join(src.splitlines()[max(exc.lineno - 2, 0) : exc.lineno + 1]))
            raise ReportError(f"报告模板 {self.path} 语法错误：{exc.message}（附近文字：{near.strip()[:80]}）") from exc
        self._parts[name] = _Part(name, head, compiled, tail, src)

    def variables(self) -> set[str]:
        """Top-level names the template uses (for the contract test against the context)."""
        names: set[str] = set()
        for part in self._parts.values():
            names |= meta.find_undeclared_variables(self.env.parse(part.source))
        return names

    def render_bytes(self, context: dict[str, Any], charts: dict[str, Chart] | None = None) -> bytes:
        """The rendered .docx as bytes, from a ready context and charts (name → chart part and workbook)."""
        charts = charts or {}
        replaced: dict[str, bytes] = {}
        for part in self._parts.values():
            try:
                xml = part.template.render(context)
            except UndefinedError as exc:
                name = _undefined_name(exc)
                raise ReportError(f"报告模板 {self.path} 使用了未提供的变量：{name}") from exc
            except TemplateError as exc:
                raise ReportError(f"报告模板 {self.path} 渲染失败：{exc}") from exc
            except _RUNTIME_ERRORS as exc:  # {{ 1/0 }}, a range the sandbox refuses, a wrong type
                raise ReportError(f"报告模板 {self.path} 渲染失败（{type(exc).__name__}: {exc}）") from exc
            xml = _expand_marks(xml.replace("\n<w:p", "<w:p")).replace(LINE_BREAK, _BR)
            doc = (_DECL + part.head + xml + part.tail).encode("utf-8")
            try:
                _check_well_formed(doc)
            except expat.ExpatError as exc:
                raise ReportError(f"报告模板 {self.path} 生成的文档结构无效：{exc}") from exc
            replaced[part.name] = doc
        for name, chart in charts.items():
            frame = self._charts.get(name)
            if frame is not None:
                replaced[frame.part], replaced[frame.workbook] = chart
        if self._core is not None and "title" in context:
            replaced[self._core[0]] = _core_xml(context).encode("utf-8")
        return zip_bytes([make_entry(e.name, replaced[e.name], 1) if e.name in replaced else e for e in self._entries])

    def context(
        self, sub: Submission, report: CheckReport | None = None, appendix: bool | None = None
    ) -> dict[str, Any]:
        """The template context for ``sub`` with this renderer's options and wording."""
        try:
            return build_context(sub, report, self.options, appendix=appendix)
        except WordingError as exc:
            raise ReportError(str(exc)) from exc

    def render(
        self, sub: Submission, out: Path, report: CheckReport | None = None, appendix: bool | None = None
    ) -> Path:
        """Render ``sub`` to ``out`` atomically.

        ``report`` (the check's findings) makes the report a draft when findings are
        open — marked on every page, doubted figures 待核实, appendix included; with
        ``appendix`` the 审核情况 appendix is added to a final report too.
        """
        return write_bytes(Path(out), self.render_docx(sub, report, appendix))

    def render_docx(self, sub: Submission, report: CheckReport | None = None, appendix: bool | None = None) -> bytes:
        """The rendered .docx as bytes (for writers that do not touch the disk)."""
        ctx = self.context(sub, report, appendix)
        for name in CHART_NAMES:
            if name not in self._charts:  # this template has no frame for it: skip drawing
                ctx["charts"][name] = False
        return self.render_bytes(ctx, render_charts(ctx["charts"]))


def _missing_member(exc: KeyError) -> str:
    """The zip member a KeyError names (zipfile: "There is no item named 'x' in the archive")."""
    text = str(exc.args[0]) if exc.args else ""
    found = re.search(r"'([^']{1,200})'", text)
    return found.group(1) if found else text[:200]


def _xml_text(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _core_xml(context: dict[str, Any]) -> str:
    """Document properties of one report: its title, department, date and draft status."""
    draft = bool(context.get("draft"))
    mark = _xml_text(context.get("draft_mark", ""))
    title = _xml_text(context["title"])
    return _CORE.format(
        title=title,
        creator=_xml_text(context.get("dept", "")),
        keywords=mark if draft else "",
        subject=mark if draft else "部门整体绩效管理自评报告",
        now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        status=f"<cp:contentStatus>{mark}</cp:contentStatus>" if draft else "<cp:contentStatus>终稿</cp:contentStatus>",
    )


def convert_to_pdf(docx: Path, pdf: Path | None = None) -> Path:
    """Convert a rendered report to PDF with LibreOffice headless (atomic write beside it)."""
    from ..io.office import OfficeError, convert, find_soffice

    docx = Path(docx)
    target = Path(pdf) if pdf else docx.with_suffix(".pdf")
    if find_soffice() is None:
        raise OfficeError(
            f"已生成 Word 报告 {docx}，但未找到 LibreOffice（soffice），无法转换为 PDF。请安装 LibreOffice 后重试。"
        )
    with tempfile.TemporaryDirectory(prefix="xlproc-pdf-") as tmp:
        produced = convert(docx, "pdf", Path(tmp))
        return write_bytes(target, produced.read_bytes())


_RENDERERS: dict[tuple[str, ReportOptions], ReportRenderer] = {}


def render_report(
    sub: Submission,
    out: Path,
    template: Path | None = None,
    report: CheckReport | None = None,
    pdf: bool = False,
    options: ReportOptions | None = None,
) -> Path:
    """Render one report to ``out``; with ``pdf`` also convert it and return the PDF's path.

    Renderers are cached per (template, options) so repeated calls in one process
    compile the template once.
    """
    opts = options or default_options()
    key = (str(Path(template).resolve()) if template else "", opts)
    renderer = _RENDERERS.get(key)
    if renderer is None:
        renderer = _RENDERERS[key] = ReportRenderer(template, opts)
    path = renderer.render(sub, Path(out), report)
    return convert_to_pdf(path) if pdf else path


__all__ = ["ReportError", "ReportRenderer", "convert_to_pdf", "is_draft", "render_report"]
