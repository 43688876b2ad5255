"""Budgets and validation of an untrusted zip package, before anything reads it.

Every workbook comes from outside the bureau. ``inspect_package`` looks at the raw
bytes once and refuses, with a Chinese reason, what could hurt the machine or be
handed back to a department unchanged:

- too many members (counted from the end record, before the central directory is
  parsed), a file too large;
- member names that are absolute, contain ``..``, backslashes or NUL, or appear twice
  (also case-insensitively: OPC part names ignore case); a local header whose name
  differs from the central directory's;
- encrypted members and compression methods other than stored / deflated;
- declared sizes above the per-part or total budget, or a compression ratio of a
  bomb; every member is then inflated as a stream with a cap (never more than its
  declared size) and its size and CRC-32 checked, read or merely copied;
- document type declarations and entity declarations in any XML part (no DTDs at all);
- macro content (a VBA project, Excel 4 macro sheets, ActiveX binaries, macro-enabled
  content types), and Strict Open XML, each with its own message.

The result is cached per ``bytes`` object, so the reader, the 说明 reader and the
annotator of one file share one inspection.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import deflate, extent

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one workbook may cost. Generous for any real self-assessment form."""

    max_file_bytes: int = 64 * MiB
    max_members: int = 10_000
    max_part_bytes: int = 128 * MiB  # inflated, per member
    max_total_bytes: int = 256 * MiB  # inflated, all members together
    max_ratio: int = 200  # inflated / compressed, checked for members above ratio_from
    ratio_from: int = 4 * MiB
    max_sheet_cells: int = 2_000_000  # rows x columns a sheet may span when read
    max_xml_depth: int = 200


LIMITS = Limits()

STRICT_NS = b"http://purl.oclc.org/ooxml/"
_MACRO_TYPES = (b"macroenabled", b"vbaproject", b"macrosheet", b"activex")
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DTD_MARKS = tuple(m for s in ("<!DOCTYPE", "<!ENTITY") for m in (s.encode(), s.encode("utf-16-le")))


class PackageRefused(Exception):
    """The package breaks a budget or a validation rule; ``str(exc)`` is the Chinese reason."""


@dataclass(frozen=True)
class Inspected:
    """A package that passed: its member infos (central directory order) and XML parts.

    ``bodies`` holds the inflated, CRC-checked bytes of the XML parts up to
    ``KEEP_PART_BYTES`` each: the guard has inflated every member anyway, so the
    reader, the 说明 reader and the annotator take them from here instead of opening
    the zip and inflating the parts again.

    ``far`` names the XML members *not* kept whose cell references may reach far,
    measured while they streamed through; a kept part is measured when the reader asks
    ``reaches_far`` (it asks for every worksheet, the only parts whose reach matters),
    so the other parts — theme, shared strings, styles — are not scanned for it.
    """

    infos: tuple[zipfile.ZipInfo, ...]
    total_bytes: int
    far: frozenset[str] = frozenset()  # XML members not in ``bodies`` whose cell references may reach far
    bodies: Mapping[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def body(self, name: str) -> bytes | None:
        """The verified content of XML member ``name`` (None: not kept, read it yourself)."""
        return self.bodies.get(name)

    def reaches_far(self, name: str) -> bool:
        """Whether member ``name``'s cell references may reach far (``extent.reaches_far``)."""
        if name in self.far:
            return True
        body = self.bodies.get(name)
        return body is not None and extent.reaches_far(body)


KEEP_PART_BYTES = 16 * MiB


def _mb(n: int) -> str:
    return f"{n / MiB:.0f} MB" if n >= MiB else f"{n} 字节"


def member_count(data: bytes) -> int | None:
    """Entries the end-of-central-directory record declares (zip64 aware); None if not found."""
    start = max(0, len(data) - 65_557)
    eocd = data.rfind(b"PK\x05\x06", start)
    if eocd < 0 or eocd + 22 > len(data):
        return None
    count = struct.unpack_from("<H", data, eocd + 10)[0]
    loc = eocd - 20
    if loc >= 0 and data[loc : loc + 4] == b"PK\x06\x07":
        off = struct.unpack_from("<Q", data, loc + 8)[0]
        if off + 56 <= len(data) and data[off : off + 4] == b"PK\x06\x06":
            count = max(count, struct.unpack_from("<Q", data, off + 32)[0])
    return count


def check_member_name(name: str) -> str | None:
    """Why ``name`` is not an acceptable part name, or None."""
    if not name or "\x00" in name:
        return "成员名为空或含空字符"
    if "\\" in name:
        return f"成员名“{name[:80]}”含反斜杠"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"成员名“{name[:80]}”是绝对路径"
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"成员名“{name[:80]}”含“..”或空路径段"
    return None


def local_payload(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of ``info``, after checking its local header matches."""
    off = info.header_offset
    if data[off : off + 4] != b"PK\x03\x04":
        raise PackageRefused(f"成员 {info.filename[:80]} 的本地文件头损坏")
    n, m = struct.unpack_from("<HH", data, off + 26)
    local_name = data[off + 30 : off + 30 + n]
    utf8 = info.orig_filename.encode("utf-8")
    if local_name != utf8 and local_name != info.orig_filename.encode("cp437", "replace"):
        raise PackageRefused(f"成员 {info.filename[:80]} 的本地文件头与目录记录的名称不一致")
    start = off + 30 + n + m
    end = start + info.compress_size
    if end > len(data):
        raise PackageRefused(f"成员 {info.filename[:80]} 被截断")
    return data[start:end]


def _verify_member(data: bytes, info: zipfile.ZipInfo, limits: Limits) -> tuple[bool, bytes | None]:
    """Inflate one member as a stream, capped at its declared size; check size, CRC, DTDs.

    Returns, for an XML member of at most ``KEEP_PART_BYTES``, False and its content
    (``Inspected.reaches_far`` measures it whole when asked); for a larger XML member,
    whether its cell references may reach far (``extent.reaches_far`` on each chunk and
    on the bytes around each chunk boundary) and None.
    """
    name = info.filename
    raw = local_payload(data, info)
    xml = name.lower().endswith(_XML_SUFFIXES)
    if info.compress_type == zipfile.ZIP_STORED:
        body_chunks = [raw]
        if len(raw) != info.file_size:
            raise PackageRefused(f"成员 {name[:80]} 的大小与记录不符")
    else:
        body_chunks = deflate.inflate_chunks(raw, info.file_size)
    crc = 0
    size = 0
    tail = b""
    far = False
    keep: list[bytes] | None = [] if xml and info.file_size <= KEEP_PART_BYTES else None
    for chunk in body_chunks:
        size += len(chunk)
        if size > info.file_size:
            raise PackageRefused(f"成员 {name[:80]} 解压后超过记录的大小（疑似压缩炸弹）")
        crc = deflate.crc32(chunk, crc)
        if xml:
            window = tail + chunk[:32]
            # every mark holds a "!" (rare in XML): one memchr scan spares the four searches
            if (b"!" in chunk or b"!" in window) and any(m in chunk or m in window for m in _DTD_MARKS):
                raise PackageRefused(f"部件 {name[:80]} 含 DTD 或实体声明（<!DOCTYPE>/<!ENTITY>），不予处理")
            if keep is None:  # not kept: measured now, while it streams through
                far = far or extent.reaches_far(chunk) or extent.reaches_far(window)
            tail = chunk[-32:]
        if keep is not None:
            keep.append(chunk)
    if size != info.file_size or crc != info.CRC:
        raise PackageRefused(f"成员 {name[:80]} 校验失败（CRC 或大小不符，文件已损坏）")
    return far, (b"".join(keep) if keep is not None else None)


def _small_member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    raw = local_payload(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        return raw
    return b"".join(deflate.inflate_chunks(raw, info.file_size))[: info.file_size]


def _check_types(data: bytes, infos: list[zipfile.ZipInfo], by_name: dict[str, zipfile.ZipInfo]) -> None:
    """Macro content and Strict Open XML, by member names and [Content_Types].xml."""
    for info in infos:
        low = info.filename.lower()
        if low.endswith("vbaproject.bin") or "/macrosheets/" in low or "/activex/" in low:
            raise PackageRefused(
                "工作簿含有宏或 ActiveX 控件（启用宏的工作簿），为安全起见不予处理。"
                "请在 Excel/WPS 中另存为“Excel 工作簿（*.xlsx）”后重新提交"
            )
    ct = by_name.get("[Content_Types].xml")
    if ct is not None and ct.file_size <= 4 * MiB:
        text = _small_member(data, ct).lower()
        if any(t in text for t in _MACRO_TYPES):
            raise PackageRefused(
                "工作簿是启用宏的格式（.xlsm 等，含宏内容类型），为安全起见不予处理。"
                "请在 Excel/WPS 中另存为“Excel 工作簿（*.xlsx）”后重新提交"
            )
    rels = by_name.get("_rels/.rels")
    if rels is not None and rels.file_size <= MiB:
        text = _small_member(data, rels)
        if STRICT_NS in text:
            raise PackageRefused(
                "工作簿为“Strict Open XML 电子表格”格式，暂不支持。请在 Excel 中另存为“Excel 工作簿（*.xlsx）”后重新提交"
            )


def _inspect(data: bytes, limits: Limits) -> Inspected:
    if len(data) > limits.max_file_bytes:
        raise PackageRefused(f"文件过大（{_mb(len(data))}，上限 {_mb(limits.max_file_bytes)}）")
    count = member_count(data)
    if count is not None and count > limits.max_members:
        raise PackageRefused(f"压缩包成员过多（{count} 个，上限 {limits.max_members} 个）")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, struct.error, NotImplementedError):
        raise PackageRefused("zip") from None
    if len(infos) > limits.max_members:
        raise PackageRefused(f"压缩包成员过多（{len(infos)} 个，上限 {limits.max_members} 个）")
    seen: dict[str, zipfile.ZipInfo] = {}
    folded: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        # zipfile cuts a name at its first NUL ("xl/\0orksheets/…" becomes the folder "xl/")
        why = check_member_name(info.orig_filename if "\x00" in info.orig_filename else name)
        if why:
            raise PackageRefused(f"压缩包成员名不安全：{why}")
        key = name.casefold()
        if key in folded:
            raise PackageRefused(f"压缩包中成员“{name[:80]}”重复出现")
        folded.add(key)
        seen[name] = info
        if info.flag_bits & 0x1:
            raise PackageRefused("工作簿的压缩包成员已加密，无法读取")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise PackageRefused(f"成员 {name[:80]} 使用了不支持的压缩方式（{info.compress_type}）")
        if info.file_size > limits.max_part_bytes:
            raise PackageRefused(
                f"部件 {name[:80]} 解压后过大（{_mb(info.file_size)}，单个部件上限 {_mb(limits.max_part_bytes)}）"
            )
        if info.file_size > limits.ratio_from and info.file_size > limits.max_ratio * max(1, info.compress_size):
            ratio = info.file_size // max(1, info.compress_size)
            raise PackageRefused(f"部件 {name[:80]} 压缩比异常（{ratio}:1，上限 {limits.max_ratio}:1），疑似压缩炸弹")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise PackageRefused(f"工作簿解压后总大小超过上限 {_mb(limits.max_total_bytes)}，疑似压缩炸弹")
    current = ""
    far = set()
    bodies: dict[str, bytes] = {}
    try:
        _check_types(data, infos, seen)
        for info in infos:
            current = info.filename
            if current.endswith("/"):  # a folder: holds nothing, and its header says the same name
                local_payload(data, info)
                if info.file_size or info.compress_size > 2:  # an empty deflate stream is 2 bytes
                    raise PackageRefused(f"压缩包成员“{current[:80]}”是文件夹却含有数据")
                continue
            reaches, body = _verify_member(data, info, limits)
            if reaches:
                far.add(current)
            if body is not None:
                bodies[current] = body
    except deflate.error:
        raise PackageRefused(f"成员 {current[:80] or '[Content_Types].xml'} 无法解压（数据损坏）") from None
    return Inspected(tuple(infos), total, frozenset(far), bodies)


@functools.lru_cache(maxsize=2)  # the bytes of the file in hand (reader + annotator)
def _cached(data: bytes, limits: Limits) -> Inspected | str:
    try:
        return _inspect(data, limits)
    except PackageRefused as exc:
        return str(exc)


def inspect_package(data: bytes, limits: Limits = LIMITS) -> Inspected:
    """Validate the raw bytes of a package; raise ``PackageRefused`` with the reason.

    ``str(exc) == "zip"`` means "not a zip at all": callers explain what the file is.
    """
    out = _cached(bytes(data), limits)
    if isinstance(out, str):
        raise PackageRefused(out)
    return out
