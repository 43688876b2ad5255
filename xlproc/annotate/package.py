"""The xlsx package as a zip of parts: read parts lazily, replace a few, write fast.

Untouched members are copied as their compressed bytes (no inflate / deflate), so
they come back bit-identical and the copy costs almost nothing; only the parts we
edit are deflated again. Relationships and content types are small and edited as
text (see ``xmltext``).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

from ..errors import WorkbookError, os_reason
from ..io.safe_read import read_input
from ..ooxml import deflate
from ..ooxml.guard import PackageRefused, inspect_package, local_payload
from ..ooxml.opc import relative, rels_name, resolve
from ..ooxml.xmltext import escape, get_attr, tag_attrs, unescape
from ..ooxml.zipout import Member, zip_bytes

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
REL_WORKSHEET = REL_BASE + "worksheet"
REL_COMMENTS = REL_BASE + "comments"
REL_VML = REL_BASE + "vmlDrawing"
REL_STYLES = REL_BASE + "styles"
REL_SHARED_STRINGS = REL_BASE + "sharedStrings"
REL_CALC_CHAIN = REL_BASE + "calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_TYPES = "[Content_Types].xml"

_REL_RE = re.compile(r"<Relationship\b[^<>]*>(?:\s*</Relationship>)?")


class UnsupportedPackageError(Exception):
    """The package cannot be annotated in place safely (caller falls back)."""


class Rel(NamedTuple):  # a tuple: cheap to make, many per workbook
    """One relationship of a part."""

    id: str
    type: str
    target: str  # resolved part name, e.g. "xl/worksheets/sheet1.xml" ("" if external)
    raw_target: str
    external: bool


class Package:
    """An xlsx opened for editing: original bytes, member infos, edited parts."""

    def __init__(self, path: Path, data: bytes | None = None):
        self.path = Path(path)
        if data is None:
            try:
                data = read_input(self.path)
            except OSError as exc:
                raise WorkbookError(path, f"无法读取文件（{os_reason(exc)}）") from exc
        self.data = bytes(data)
        try:  # budgets, member names, CRCs, macros, DTDs: before anything is read or copied
            self._inspected = inspect_package(self.data)
        except PackageRefused as exc:
            reason = "不是有效的 .xlsx 工作簿（可能已加密或已损坏）" if str(exc) == "zip" else str(exc)
            raise WorkbookError(path, reason) from None
        # The guard parsed the central directory and kept the verified XML parts: the
        # zip is not opened again (``_zip`` only for a member zipfile must explain).
        self._zip_file: zipfile.ZipFile | None = None
        self.infos = list(self._inspected.infos)
        self._info = {i.filename: i for i in self.infos}
        self._by_lower = {i.filename.lower(): i.filename for i in self.infos}
        self._text: dict[str, str] = {}
        self._latin: set[str] = set()  # parts whose text holds their bytes as Latin-1
        self.changed: dict[str, bytes | None] = {}  # name → new bytes; None = removed
        self.added: list[str] = []
        self._rels: dict[str, list[Rel]] = {}
        self._dirty: set[str] = set()
        self._overrides: set[str] | None = None
        self._free_from: dict[str, int] = {}

    def _zip(self) -> zipfile.ZipFile:
        if self._zip_file is None:
            self._zip_file = zipfile.ZipFile(io.BytesIO(self.data))
        return self._zip_file

    # -- part access ----------------------------------------------------------------

    def name(self, part: str) -> str | None:
        """The member name of ``part`` (OPC part names are case-insensitive)."""
        if part in self.changed:
            return part if self.changed[part] is not None else None
        if part in self._info:  # spelled as stored: the usual case, no lower()
            return part
        name = self._by_lower.get(part.lower())
        if name is not None and name in self.changed and self.changed[name] is None:
            return None  # removed, asked for in another spelling
        return name

    def exists(self, part: str) -> bool:
        """Whether the package has ``part`` (after edits)."""
        return self.name(part) is not None

    def read_bytes(self, part: str) -> bytes:
        """The content of ``part`` (edited or original)."""
        name = self.name(part)
        if name is None:
            raise KeyError(part)
        if name in self._dirty:
            return self._encoded(name)
        if name in self.changed:
            return self.changed[name]  # type: ignore[return-value]
        info = self._info[name]
        try:
            if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                return self._zip().read(name)  # let zipfile explain what it cannot read
            kept = self._inspected.body(name)
            if kept is not None:
                return kept
            # the member's bytes straight from the buffer: no ZipExtFile per part
            raw = self._raw(info)
            body = deflate.inflate(raw, info.file_size) if info.compress_type else raw
            if len(body) != info.file_size or deflate.crc32(body) != info.CRC:
                raise zipfile.BadZipFile(f"bad CRC or size of {name}")
            return body
        except (zipfile.BadZipFile, deflate.error, OSError, UnsupportedPackageError) as exc:
            raise WorkbookError(self.path, f"工作簿已损坏（部件 {name} 无法解压）") from exc

    def _encoded(self, name: str) -> bytes:
        return self._text[name].encode("latin-1" if name in self._latin else "utf-8")

    def read_text(self, part: str) -> str:
        """The content of ``part`` decoded as UTF-8 (cached)."""
        name = self.name(part)
        if name is None:
            raise KeyError(part)
        if name in self._latin:  # held as bytes text (``read_byte_text``): decode now
            self._text[name] = self._to_utf8(name, self._text[name].encode("latin-1"))
            self._latin.discard(name)
        if name not in self._text:
            self._text[name] = self._to_utf8(name, self.read_bytes(name))
        return self._text[name]

    def _to_utf8(self, name: str, raw: bytes) -> str:
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedPackageError(f"{name} is not UTF-8") from exc

    def read_byte_text(self, part: str) -> str:
        """The bytes of ``part`` as a str of code points 0-255 (Latin-1), cached.

        For parts edited only with ASCII (worksheets: style ids, cells, legacyDrawing):
        no UTF-8 decoding and encoding of the whole part, and every byte not edited,
        a byte-order mark included, goes back exactly. Write it back with
        ``write_text(..., latin1=True)``.
        """
        name = self.name(part)
        if name is None:
            raise KeyError(part)
        if name in self._text and name not in self._latin:
            self._text[name] = self._text[name].encode("utf-8").decode("latin-1")
            self._latin.add(name)
        if name not in self._text:
            self._text[name] = self.read_bytes(name).decode("latin-1")
            self._latin.add(name)
        return self._text[name]

    def peek_text(self, part: str, size: int) -> str:
        """The first ``size`` characters (about) of a part, inflating only that much."""
        name = self.name(part)
        if name is None:
            raise KeyError(part)
        if name in self._latin:
            return self._text[name][:size].encode("latin-1").decode("utf-8", errors="ignore")
        if name in self.changed or name in self._text:
            return self.read_text(name)[:size]
        info = self._info[name]
        if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
            return self.read_text(name)[:size]
        kept = self._inspected.body(name)  # inflated and checked by the guard: the same first bytes
        if kept is not None:
            return kept[:size].decode("utf-8", errors="ignore")
        raw = self._raw(info)
        head = zlib.decompressobj(-15).decompress(raw, size)
        return head.decode("utf-8", errors="ignore")

    def write_text(self, part: str, text: str, rels: list[Rel] | None = None, *, latin1: bool = False) -> None:
        """Replace (or add) ``part``; ``rels`` primes the parsed-relationships cache.

        ``latin1``: ``text`` came from ``read_byte_text`` (bytes as code points 0-255).
        """
        name = self.name(part) or part
        if name not in self._info and name not in self.added:
            self.added.append(name)
        self._text[name] = text
        if latin1:
            self._latin.add(name)
        else:
            self._latin.discard(name)
        self.changed[name] = b""  # encoded in to_bytes, once
        self._dirty.add(name)
        if rels is None:
            self._rels.pop(name, None)
        else:
            self._rels[name] = rels

    def remove(self, part: str) -> None:
        """Drop ``part`` from the package."""
        name = self.name(part)
        if name is None:
            return
        self._text.pop(name, None)
        self._latin.discard(name)
        self._rels.pop(name, None)
        self._dirty.discard(name)
        if name in self.added:
            self.added.remove(name)
            del self.changed[name]
        else:
            self.changed[name] = None

    def unused_name(self, pattern: str) -> str:
        """First free part name for ``pattern`` with ``{n}`` (e.g. "xl/comments{n}.xml").

        The caller writes the part: the next call starts after it (no rescans). Parts
        are removed (previous round) before any name is asked for.
        """
        n = self._free_from.get(pattern, 1)
        while self.exists(pattern.format(n=n)):
            n += 1
        self._free_from[pattern] = n + 1
        return pattern.format(n=n)

    # -- relationships ----------------------------------------------------------------

    def rels(self, part: str) -> list[Rel]:
        """The relationships of ``part`` (targets resolved to part names)."""
        rp = rels_name(part)
        name = self.name(rp)
        if name is None:
            return []
        if name not in self._rels:
            self._rels[name] = self._parse_rels(part, name)
        return list(self._rels[name])

    def _parse_rels(self, part: str, rp: str) -> list[Rel]:
        out = []
        for m in _REL_RE.finditer(self.read_text(rp)):
            attrs = tag_attrs(m.group(0))
            target = attrs.get("Target", "")
            external = attrs.get("TargetMode", "") == "External"
            out.append(
                Rel(
                    id=attrs.get("Id", ""),
                    type=attrs.get("Type", ""),
                    target="" if external else resolve(part, target),
                    raw_target=target,
                    external=external,
                )
            )
        return out

    def add_rel(self, part: str, rel_type: str, target_part: str) -> str:
        """Add a relationship from ``part`` to ``target_part``; return its new id."""
        rp = rels_name(part)
        if self.exists(rp):
            xml = self.read_text(rp)
        else:
            xml = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                "</Relationships>"
            )
        current = self.rels(part) if self.exists(rp) else []
        used = {r.id for r in current}
        n = 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        target = relative(part, target_part)
        new = f'<Relationship Id="{rid}" Type="{rel_type}" Target="{escape(target)}"/>'
        if re.search(r"<Relationships\b[^<>]*/>", xml):
            xml = re.sub(
                r"<Relationships\b([^<>]*)/>", lambda m: f"<Relationships{m.group(1)}>{new}</Relationships>", xml
            )
        else:
            i = xml.rindex("</Relationships>")
            xml = xml[:i] + new + xml[i:]
        self.write_text(rp, xml, rels=[*current, Rel(rid, rel_type, target_part, target, False)])
        return rid

    def remove_rel(self, part: str, rid: str) -> None:
        """Remove relationship ``rid`` of ``part`` (and the .rels part once empty)."""
        rp = rels_name(part)
        if not self.exists(rp):
            return
        xml = self.read_text(rp)
        for m in _REL_RE.finditer(xml):
            if get_attr(m.group(0), "Id") == rid:
                xml = xml[: m.start()] + xml[m.end() :]
                break
        if _REL_RE.search(xml) is None:  # nothing left: the part goes, as if never made
            self.remove(rp)
            self.drop_override(rp)
            return
        self.write_text(rp, xml)

    # -- content types ----------------------------------------------------------------

    def set_override(self, part: str, content_type: str) -> None:
        """Declare the content type of a new ``part``."""
        xml = self.read_text(CT_TYPES)
        pn = "/" + part
        if self._overrides is None:
            self._overrides = {unescape(v).lower() for v in re.findall(r'\sPartName="([^"]*)"', xml)}
        if pn.lower() in self._overrides:
            return
        new = f'<Override PartName="{escape(pn)}" ContentType="{content_type}"/>'
        i = xml.rindex("</Types>")
        self.write_text(CT_TYPES, xml[:i] + new + xml[i:])
        self._overrides.add(pn.lower())

    def drop_override(self, part: str) -> None:
        """Remove the content-type declaration of ``part``."""
        xml = self.read_text(CT_TYPES)
        pn = "/" + part
        new = re.sub(r'<Override\b[^<>]*PartName="' + re.escape(pn) + r'"[^<>]*/>', "", xml, flags=re.IGNORECASE)
        if new != xml:
            self.write_text(CT_TYPES, new)
            self._overrides = None

    def remove_part(self, part: str) -> None:
        """Remove a part, its relationships part and its content-type override."""
        self.remove(part)
        self.remove(rels_name(part))
        self.drop_override(part)

    # -- writing ------------------------------------------------------------------------

    def _raw(self, info: zipfile.ZipInfo) -> bytes:
        """The member's compressed bytes (its size and CRC were verified on opening)."""
        try:
            return local_payload(self.data, info)
        except PackageRefused as exc:
            raise UnsupportedPackageError(str(exc)) from None

    def to_bytes(self) -> bytes:
        """The edited package: untouched members copied compressed, edited ones deflated."""
        members: list[Member] = []
        for info in self.infos:
            name = info.filename
            dt = info.date_time if info.date_time[0] >= 1980 else (1980, 1, 1, 0, 0, 0)
            if name in self.changed:
                body = self._encoded(name) if name in self._dirty else self.changed[name]
                if body is not None:
                    members.append(Member(name, dt, info.external_attr, body=body))
                continue
            if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UnsupportedPackageError(f"unsupported member {name}")
            members.append(Member(name, dt, info.external_attr, raw=(info, self._raw(info))))
        for name in self.added:
            members.append(Member(name, (1980, 1, 1, 0, 0, 0), 0, body=self._encoded(name)))
        try:
            return zip_bytes(members)
        except OverflowError as exc:
            raise UnsupportedPackageError("zip64 not supported") from exc
