"""Open an .xlsx package safely and list its sheets and defined names.

This is where "what is this file?" gets a clear Chinese answer: an .xls, a Word
document, an encrypted workbook, random bytes or a truncated zip are each named as
such. XML is parsed with defusedxml.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree as SafeET

from ..errors import WorkbookError

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
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
        n = 0
        for ch in self.col1:
            n = n * 26 + ord(ch) - 64
        return n - 1


@dataclass
class Package:
    """The parts of a workbook the reader needs: its bytes, sheet names and defined names."""

    path: Path
    data: bytes
    sheets: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name → raw reference text
    key: tuple = ()  # identifies the parsed workbook.xml (same bytes → same key object)


@functools.lru_cache(maxsize=4096)
def parse_ref(text: str) -> NameRef | None:
    """Parse "'基本情况'!$B$3" or "Sheet!$A$1:$C$9"; None for #REF! and anything else."""
    m = _REF.match(text.strip().lstrip("="))
    if not m:
        return None
    sheet = m.group("q").replace("''", "'") if m.group("q") is not None else m.group("s")
    c2, r2 = m.group("c2") or m.group("c1"), m.group("r2") or m.group("r1")
    return NameRef(sheet, m.group("c1"), int(m.group("r1")), c2, int(r2))


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


def open_package(path: Path, data: bytes | None = None) -> Package:
    """Read the file once (or take its ``data``) and parse xl/workbook.xml.

    Raises WorkbookError with a clear reason.
    """
    path = Path(path)
    try:
        if data is None:
            data = path.read_bytes()
    except FileNotFoundError:
        raise WorkbookError(path, "文件不存在") from None
    except IsADirectoryError:
        raise WorkbookError(path, "这是一个文件夹，不是工作簿文件") from None
    except OSError as exc:
        raise WorkbookError(path, f"无法读取文件（{exc.strerror or exc}）") from None
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _not_xlsx(path, data) from None
    if "xl/workbook.xml" not in members:
        if "word/document.xml" in members:
            raise WorkbookError(path, "这是 Word 文档（.docx），不是 Excel 工作簿")
        if "ppt/presentation.xml" in members:
            raise WorkbookError(path, "这是 PowerPoint 演示文稿，不是 Excel 工作簿")
        raise WorkbookError(path, "不是 Excel 工作簿（.xlsx）文件：缺少工作簿内容")
    try:
        sheets, names = _parse_workbook_xml(zf.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, SafeET.ParseError, ValueError) as exc:
        raise WorkbookError(path, f"文件已损坏或不完整，无法读取工作簿结构（{type(exc).__name__}）") from None
    return Package(path, data, list(sheets), dict(names), key=names)


@functools.lru_cache(maxsize=16)
def _parse_workbook_xml(xml: bytes) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Sheet names and global defined names of xl/workbook.xml.

    Cached by content: workbooks written from the same template share this part
    byte for byte, so a batch parses it once per worker.
    """
    root = SafeET.fromstring(xml)
    sheets = [sheet.get("name", "") for sheet in root.iterfind("m:sheets/m:sheet", _NS)]
    names = []
    for dn in root.iterfind("m:definedNames/m:definedName", _NS):
        if dn.get("localSheetId") is None:
            names.append((dn.get("name", ""), dn.text or ""))
    return tuple(sheets), tuple(names)
