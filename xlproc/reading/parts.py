"""The package parts the reader looks at beside calamine: sheet XML and styles.

Sheets are found the way Excel finds them — workbook.xml's ``<sheet r:id>`` through
the workbook relationships — and each part is read at most once per workbook, with
a size cap, then scanned once (sheetscan.py). Parsing of workbook.xml and its
relationships is cached by content: a batch of one template resolves them once.
"""

from __future__ import annotations

import contextlib
import functools
import io
import posixpath
import struct
import zipfile
import zlib
from xml.parsers import expat

try:  # ISA-L inflates about twice as fast; the stream is the same
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover
    _zlib = zlib  # type: ignore[assignment]

from ..errors import WorkbookError
from ..ooxml.xmlparse import parse_all
from .numformats import percent_styles
from .package import WORKBOOK_RELS, Package
from .sheetscan import SheetScan, scan_sheet

PART_LIMIT = 256 * 1024 * 1024  # never inflate more than this for one part (the package budget is stricter)
_WORKBOOK = "xl/workbook.xml"
_LAYOUTS: dict[tuple, tuple[dict[str, str], str]] = {}


class _Stop(Exception):
    pass


def _parse(xml: bytes, start) -> None:
    def no_dtd(*_args: object) -> None:
        raise _Stop

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = no_dtd
    with contextlib.suppress(expat.ExpatError, _Stop):
        parse_all(parser, xml)


@functools.lru_cache(maxsize=16)
def _layout(workbook_xml: bytes, rels_xml: bytes) -> tuple[dict[str, str], str]:
    """(sheet name → part name, styles part name) from workbook.xml and its relationships."""
    rids: dict[str, str] = {}
    targets: dict[str, str] = {}
    styles = ["xl/styles.xml"]

    def sheet(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
            rids[attrs.get("name", "")] = rid

    def rel(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] != "Relationship" or attrs.get("TargetMode") == "External":
            return
        target = attrs.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[attrs.get("Id", "")] = part
        if attrs.get("Type", "").endswith("/styles"):
            styles[0] = part

    _parse(workbook_xml, sheet)
    _parse(rels_xml, rel)
    return {name: targets[rid] for name, rid in rids.items() if rid in targets}, styles[0]


class Parts:
    """Reads and scans the sheet parts of one package, each once."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self._data = pkg.read_data or pkg.data  # far-reaching sheets clipped (package.py), as calamine reads them
        self._zip: zipfile.ZipFile | None = None
        self._scans: dict[str, SheetScan] = {}
        self._layout_hit: tuple[dict[str, str], str] | None = None
        self._percent: frozenset[int] | None = None

    @property
    def zip(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._zip = zipfile.ZipFile(io.BytesIO(self._data))
        return self._zip

    def read(self, member: str) -> bytes:
        """A member's bytes (b"" when absent); a part above the cap is refused."""
        kept = self.pkg.body(member)
        if kept is not None and len(kept) <= PART_LIMIT:
            return kept
        try:
            info = self.zip.getinfo(member)
        except KeyError:
            return b""
        if info.file_size > PART_LIMIT:
            raise WorkbookError(self.pkg.path, f"文件中的部件 {member} 过大（超过 {PART_LIMIT // 2**20} MB），拒绝读取")
        data = self._inflate(info)
        if data is None:
            try:
                with self.zip.open(info) as fh:
                    data = fh.read(PART_LIMIT + 1)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:  # bad CRC, broken stream
                raise WorkbookError(
                    self.pkg.path, f"文件已损坏，部件 {member} 无法读取（{type(exc).__name__}）"
                ) from None
        if len(data) > PART_LIMIT:
            raise WorkbookError(self.pkg.path, f"文件中的部件 {member} 过大（超过 {PART_LIMIT // 2**20} MB），拒绝读取")
        return data

    def _inflate(self, info: zipfile.ZipInfo) -> bytes | None:
        """A deflated member inflated straight from the package bytes (ISA-L when installed);
        None for anything unusual (stored, encrypted, a local header that disagrees), which
        then goes through zipfile."""
        raw = self._data
        off = info.header_offset
        head = raw[off : off + 30]
        if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 1 or head[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = off + 30 + name_len + extra_len
        try:  # never more than the declared size: a lying header cannot inflate a bomb here
            data = _zlib.decompressobj(-15).decompress(raw[start : start + info.compress_size], info.file_size + 1)
        except (zlib.error, getattr(_zlib, "error", zlib.error)):
            return None
        return data if len(data) == info.file_size else None

    def _layout(self) -> tuple[dict[str, str], str]:
        if self._layout_hit is None:
            rels = self.read(WORKBOOK_RELS)
            key = (self.pkg.key, rels)  # pkg.key: the parsed workbook.xml, shared by identical parts
            hit = _LAYOUTS.get(key) if self.pkg.key else None
            if hit is None:
                hit = _layout(self.read(_WORKBOOK), rels)
                if self.pkg.key:
                    if len(_LAYOUTS) > 64:
                        _LAYOUTS.clear()
                    _LAYOUTS[key] = hit
            self._layout_hit = hit
        return self._layout_hit

    def sheet_part(self, sheet: str) -> str:
        return self._layout()[0].get(sheet, "")

    def shared_strings_part(self) -> str:
        return "xl/sharedStrings.xml"

    @property
    def percent_styles(self) -> frozenset[int]:
        """Style indices whose number format shows a percentage."""
        if self._percent is None:
            self._percent = percent_styles(self.read(self._layout()[1]))
        return self._percent

    def scan(self, sheet: str) -> SheetScan:
        """The one scan of a sheet (formulas, error values, percent-styled cells)."""
        hit = self._scans.get(sheet)
        if hit is None:
            part = self.sheet_part(sheet)
            hit = scan_sheet(self.read(part), self.percent_styles) if part else SheetScan()
            self._scans[sheet] = hit
        return hit

    @property
    def scans(self) -> dict[str, SheetScan]:
        return self._scans
