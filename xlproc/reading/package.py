"""Open an .xlsx package safely and list its sheets and defined names.

This is where "what is this file?" gets a clear Chinese answer: an .xls, a Word
document, an encrypted workbook, random bytes or a truncated zip are each named as
such. The raw package is validated and held to its budgets first (``ooxml.guard``);
xl/workbook.xml is parsed with expat, without DTDs and with a depth limit. A sheet
whose cells reach far beyond the form (a value typed at XFD1048576) is clipped to
the area the form's defined names cover before the grid reader sees it, and the
clipping is reported.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ..errors import WorkbookError, os_reason
from ..io.safe_read import read_input
from ..ooxml import extent
from ..ooxml.a1 import col_number
from ..ooxml.guard import LIMITS, STRICT_NS, Inspected, PackageRefused, inspect_package, local_payload
from ..ooxml.xmlparse import parse_all
from ..ooxml.zipout import Member, Packed, zip_bytes

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"  # which part is which sheet
MAX_ROWS, MAX_COLS = 1_048_576, 16_384
# Rows and columns kept around the form's named cells when a sheet is clipped: the
# reader looks up to 50 rows below a table for rows typed outside it.
_CLIP_MARGIN_ROWS, _CLIP_MARGIN_COLS = 200, 26
STORED_COPY_BYTES = 16 * 1024 * 1024  # grid_source: inflated size up to which calamine gets stored parts
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")
_REF = re.compile(
    r"^(?:'(?P<q>(?:[^']|'')+)'|(?P<s>[^'!]+))!\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?$"
)


@dataclass(frozen=True)
class NameRef:
    """Where a defined name points: a sheet and a cell or a rectangular range (1-based rows)."""

    sheet: str
    col1: str
    row1: int
    col2: str
    row2: int

    @functools.cached_property
    def cell(self) -> str:
        return f"{self.col1}{self.row1}"

    @functools.cached_property
    def col(self) -> int:
        """0-based index of the first column."""
        return col_number(self.col1) - 1


@dataclass
class Package:
    """The parts of a workbook the reader needs: its bytes, sheet names and defined names."""

    path: Path
    data: bytes
    sheets: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name → raw reference text
    key: tuple = ()  # identifies the parsed workbook.xml (same bytes → same key object)
    # What the grid reader gets: ``data``, or a copy whose far-reaching sheets were clipped.
    read_data: bytes = b""
    clipped: dict[str, str] = field(default_factory=dict)  # sheet → first cell outside the form
    inspected: Inspected | None = None  # the guard's result: member infos and verified XML parts

    def body(self, member: str) -> bytes | None:
        """A member as the reader sees it, when the guard kept it (None: inflate it yourself)."""
        if self.inspected is None or self.read_data is not self.data:  # clipped: parts differ
            return None
        return self.inspected.body(member)


@functools.lru_cache(maxsize=4096)
def parse_ref(text: str) -> NameRef | None:
    """Parse "'基本情况'!$B$3" or "Sheet!$A$1:$C$9"; None for #REF! and anything else."""
    m = _REF.match(text.strip().lstrip("="))
    if not m:
        return None
    sheet = m.group("q").replace("''", "'") if m.group("q") is not None else m.group("s")
    c2, r2 = m.group("c2") or m.group("c1"), m.group("r2") or m.group("r1")
    r1, r2 = int(m.group("r1")), int(r2)
    cols = (col_number(m.group("c1").encode()), col_number(c2.encode()))
    if not (1 <= r1 <= r2 <= MAX_ROWS and 1 <= cols[0] <= cols[1] <= MAX_COLS):
        return None  # outside any sheet, or reversed: treated like #REF!
    return NameRef(sheet, m.group("c1"), r1, c2, r2)


def _not_xlsx(path: Path, data: bytes) -> WorkbookError:
    if not data:
        return WorkbookError(path, "文件为空（0 字节），请重新提交")
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTION_MARK in data[:65536] or _ENCRYPTION_MARK in data:
            return WorkbookError(path, "工作簿设置了打开密码（已加密），无法读取。请取消密码后另存为 .xlsx 再提交")
        return WorkbookError(path, "这是旧版 Excel 97-2003 格式（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 后再提交")
    if data[:4] == b"PK\x03\x04":
        return WorkbookError(path, "文件已损坏或不完整（压缩包无法打开），请重新保存后提交")
    return WorkbookError(path, "不是 Excel 工作簿（.xlsx）文件，内容无法识别")


def load_input(path: Path) -> bytes:
    """The bytes of an input workbook (bounded, ``io.safe_read``); WorkbookError in Chinese when unreadable."""
    try:
        return read_input(path)
    except FileNotFoundError:
        raise WorkbookError(path, "文件不存在") from None
    except IsADirectoryError:
        raise WorkbookError(path, "这是一个文件夹，不是工作簿文件") from None
    except OSError as exc:
        raise WorkbookError(path, f"无法读取文件（{os_reason(exc)}）") from None


def open_package(path: Path, data: bytes | None = None) -> Package:
    """Read the file once (or take its ``data``) and parse xl/workbook.xml.

    Raises WorkbookError with a clear reason.
    """
    path = Path(path)
    if data is None:
        data = load_input(path)
    try:
        inspected = inspect_package(data)
    except PackageRefused as exc:
        if str(exc) == "zip":
            raise _not_xlsx(path, data) from None
        raise WorkbookError(path, str(exc)) from None
    members = {info.filename for info in inspected.infos}
    if "xl/workbook.xml" not in members:
        if "word/document.xml" in members:
            raise WorkbookError(path, "这是 Word 文档（.docx），不是 Excel 工作簿")
        if "ppt/presentation.xml" in members:
            raise WorkbookError(path, "这是 PowerPoint 演示文稿，不是 Excel 工作簿")
        raise WorkbookError(path, "不是 Excel 工作簿（.xlsx）文件：缺少工作簿内容")
    try:
        body = inspected.body("xl/workbook.xml")  # inflated and checked by the guard
        if body is None:
            body = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")
        parsed = _parse_workbook_xml(body)
    except _Refused as exc:
        raise WorkbookError(path, str(exc)) from None
    except expat.ExpatError as exc:
        raise WorkbookError(
            path,
            f"文件已损坏，无法读取工作簿结构（xl/workbook.xml 第 {exc.lineno} 行第 {exc.offset + 1} 列的 XML 格式有误）",
        ) from None
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, ValueError):
        raise WorkbookError(path, "文件已损坏或不完整，无法读取工作簿结构（xl/workbook.xml 无法解压或读取）") from None
    sheets, names, rids = parsed
    pkg = Package(path, data, list(sheets), dict(names), key=names, read_data=data, inspected=inspected)
    try:
        _clip_far_sheets(pkg, dict(zip(sheets, rids, strict=True)), inspected)
    except _Refused as exc:
        raise WorkbookError(path, str(exc)) from None
    except expat.ExpatError as exc:  # the relationships are broken and a part reaches far
        raise WorkbookError(
            path,
            f"文件已损坏：工作表关系部件 {WORKBOOK_RELS} 第 {exc.lineno} 行第 {exc.offset + 1} 列的 XML 格式有误，"
            "且文件中有远超表单范围的单元格，无法安全读取。请在 Excel 或 WPS 中打开后另存，再重新提交",
        ) from None
    return pkg


def grid_source(pkg: Package) -> bytes:
    """The package as python-calamine should read it.

    The clipped copy when a sheet reached too far; otherwise, when the guard kept the
    inflated parts, a copy of the package whose kept members are *stored*: calamine
    then reads the bytes the guard already inflated and CRC-checked instead of
    inflating every part a second time (same names, order and CRCs; members not kept
    are copied compressed as they were). The copy leaves out what calamine would parse
    and the reader never takes from it (``_for_calamine``): the document properties
    and theme, the defined names (read from the original by ``open_package``) and
    each sheet's XML after its cell table. Above ``STORED_COPY_BYTES`` of inflated
    parts the package goes as it is (no second copy of a large file in memory).
    """
    inspected = pkg.inspected
    if pkg.read_data is not pkg.data or inspected is None or not inspected.bodies:
        return pkg.read_data or pkg.data
    if inspected.total_bytes > STORED_COPY_BYTES:
        return pkg.data
    members = []
    for info in inspected.infos:
        name = info.filename
        if name.startswith(_NOT_FOR_CALAMINE):
            continue
        body = inspected.body(name)
        if body is not None:
            cut = _for_calamine(body)
            crc = info.CRC if cut is body else zipfile.crc32(cut)
            packed = Packed(zipfile.ZIP_STORED, crc, len(cut), cut)
            members.append(Member(name, info.date_time, info.external_attr, packed=packed))
        elif name.endswith("/"):  # a folder entry (its header is not the guard's concern)
            members.append(Member(name, info.date_time, info.external_attr, body=b""))
        else:  # verified by the guard, copied compressed
            members.append(Member(name, info.date_time, info.external_attr, raw=(info, local_payload(pkg.data, info))))
    return zip_bytes(members)


# Parts calamine never needs for cell values: document properties, the theme.
_NOT_FOR_CALAMINE = ("docProps/", "xl/theme/")
_ROOT_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(worksheet|workbook)\s*>\s*\Z")
_SHEET_DATA_END = b"</sheetData>"
_NAMES = (b"<definedNames>", b"</definedNames>")


def _for_calamine(xml: bytes) -> bytes:
    """A part as calamine should see it: a worksheet without what follows its cell table
    (merged ranges, data validations, conditional formats, page setup: two thirds of a
    form's sheet XML, none of it a value), the workbook part without its defined names.

    Only the plain unprefixed layout Excel, WPS and LibreOffice write is cut, and only
    when the element occurs once; anything else goes unchanged (calamine reads it as
    before). Any other part is returned as it is (the same object).
    """
    root = _ROOT_END.search(xml, max(0, len(xml) - 64))
    if root is None:
        return xml
    if root.group(1) == b"worksheet":
        end = xml.find(_SHEET_DATA_END)
        if end < 0 or xml.find(_SHEET_DATA_END, end + 1) >= 0:
            return xml
        return xml[: end + len(_SHEET_DATA_END)] + root.group(0)
    start, end = xml.find(_NAMES[0]), xml.find(_NAMES[1])
    if start < 0 or end < start or xml.find(_NAMES[0], start + 1) >= 0 or xml.find(_NAMES[1], end + 1) >= 0:
        return xml
    return xml[:start] + xml[end + len(_NAMES[1]) :]


def _member(pkg: Package, name: str) -> bytes | None:
    """An original member's content: kept by the guard, else read through zipfile (None: absent)."""
    body = pkg.inspected.body(name) if pkg.inspected is not None else None
    if body is not None:
        return body
    try:
        return zipfile.ZipFile(io.BytesIO(pkg.data)).read(name)
    except KeyError:
        return None


def _sheet_parts(pkg: Package, rids: dict[str, str]) -> dict[str, str]:
    """Sheet name → worksheet part name, through xl/_rels/workbook.xml.rels."""
    rels = _member(pkg, WORKBOOK_RELS)
    if rels is None:
        return {}
    targets = dict(_rel_targets(rels))
    return {sheet: targets[rid] for sheet, rid in rids.items() if rid in targets}


@functools.lru_cache(maxsize=16)
def _rel_targets(rels: bytes) -> tuple[tuple[str, str], ...]:
    """(Id, part name) of the internal relationships of workbook.xml.rels.

    Cached by content: workbooks of one template share this part byte for byte.
    """
    targets: dict[str, str] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[attrs.get("Id", "")] = posixpath.normpath(part)

    _expat_parse(rels, start)
    return tuple(targets.items())


def _clip_far_sheets(pkg: Package, rids: dict[str, str], inspected: Inspected) -> None:
    """Clip sheets whose cells span more than the budget allows (see the module docstring).

    Every worksheet part is measured (``Inspected.reaches_far``); other parts never
    matter (a theme's r="50000" is no cell reference).
    """
    try:
        parts = _sheet_parts(pkg, rids)
    except (_Refused, expat.ExpatError):
        if not _over_budget_anywhere(inspected):
            return  # no part spans too much: the sheet list is not needed (as when nothing reaches far)
        raise  # which sheet to clip cannot be known (open_package refuses the file)
    replaced: dict[str, bytes] = {}
    for sheet, part in parts.items():
        if not inspected.reaches_far(part):
            continue
        xml = _member(pkg, part)
        if xml is None or not extent.reaches_far(xml):
            continue
        if not _over_budget(xml):
            continue
        refs = [r for r in (parse_ref(t) for t in pkg.names.values()) if r is not None and r.sheet == sheet]
        max_row = max((r.row2 for r in refs), default=0) + _CLIP_MARGIN_ROWS
        max_col = max((col_number(r.col2.encode()) for r in refs), default=0) + _CLIP_MARGIN_COLS
        replaced[part], first = extent.clip(xml, max_row, max_col)
        pkg.clipped[sheet] = first
    if not replaced:
        return
    members = []
    infos = pkg.inspected.infos if pkg.inspected is not None else zipfile.ZipFile(io.BytesIO(pkg.data)).infolist()
    for info in infos:
        dt = info.date_time if info.date_time[0] >= 1980 else (1980, 1, 1, 0, 0, 0)
        if info.filename in replaced:
            members.append(Member(info.filename, dt, info.external_attr, body=replaced[info.filename]))
        else:
            members.append(Member(info.filename, dt, info.external_attr, raw=(info, local_payload(pkg.data, info))))
    pkg.read_data = zip_bytes(members)


def _over_budget(xml: bytes) -> bool:
    """Whether the cells of a part span more than a sheet may (measured exactly)."""
    rows, cols = extent.extent(xml)
    return rows * max(cols, 1) > LIMITS.max_sheet_cells or rows > MAX_ROWS or cols > MAX_COLS


def _over_budget_anywhere(inspected: Inspected) -> bool:
    """Whether any XML part may span more than a sheet may: a part too large to keep that
    reached far while it streamed, or a kept one that measures too far (a theme's
    ``r="50000"`` reaches far by the cheap test and measures well within)."""
    if inspected.far:
        return True
    return any(extent.reaches_far(body) and _over_budget(body) for body in inspected.bodies.values())


class _Refused(ValueError):
    """workbook.xml breaks a rule (Chinese message)."""


def _expat_parse(xml: bytes, start, end=None, chars=None) -> None:
    """Parse with expat: namespaces expanded, no DTD, depth limited; ``start(tag, attrs)``."""
    parser = expat.ParserCreate(namespace_separator="}")
    depth = 0

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > LIMITS.max_xml_depth:
            raise _Refused(f"工作簿结构的 XML 嵌套过深（超过 {LIMITS.max_xml_depth} 层）")
        start(tag, attrs)

    def on_end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        if end is not None:
            end(tag)

    def no_dtd(*_args) -> None:
        raise _Refused("工作簿结构含 DTD 或实体声明，不予处理")

    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    if chars is not None:
        parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parse_all(parser, xml)


@functools.lru_cache(maxsize=16)
def _parse_workbook_xml(xml: bytes) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Sheet names, global defined names and sheet relationship ids of xl/workbook.xml.

    Cached by content: workbooks written from the same template share this part
    byte for byte, so a batch parses it once per worker.
    """
    sheets: list[str] = []
    rids: list[str] = []
    names: list[tuple[str, str]] = []
    current: list[str] = []  # [name] while inside a global definedName
    text: list[str] = []
    root: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        ns, _, local = tag.rpartition("}")
        if not root:
            root.append(ns)
        if ns != NS_MAIN:
            return
        if local == "sheet":
            sheets.append(attrs.get("name", ""))
            rids.append(attrs.get(NS_REL + "}id", ""))
        elif local == "definedName" and attrs.get("localSheetId") is None:
            current[:] = [attrs.get("name", "")]
            text.clear()

    def chars(data: str) -> None:
        if current:
            text.append(data)

    def end(tag: str) -> None:
        if current and tag == NS_MAIN + "}definedName":
            names.append((current[0], "".join(text)))
            current.clear()

    _expat_parse(xml, start, end, chars)
    if root and root[0].startswith(STRICT_NS.decode()):
        raise _Refused(
            "工作簿为“Strict Open XML 电子表格”格式，暂不支持。请在 Excel 中另存为“Excel 工作簿（*.xlsx）”后重新提交"
        )
    return tuple(sheets), tuple(names), tuple(rids)
