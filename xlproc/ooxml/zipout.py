"""The one zip writer of xlproc: annotated workbooks, clipped packages, reports.

Members are either copied as their compressed bytes (taken over from an input
package or compressed once per process, e.g. a report template's unchanged parts:
no inflate, no deflate, bit-identical and almost free) or given as a new ``body``,
deflated at level 1, or stored when tiny. Local headers carry sizes and CRC (no data
descriptors). Zip64 records are written when a package needs them (more than 65,535
members, or a size or offset of 4 GiB or more), so every archive can be written.
"""

from __future__ import annotations

import struct
import zipfile
from typing import NamedTuple

from . import deflate

COMPRESS_LEVEL = 1  # edited parts only; ~2x faster than 6, files a few % larger
# Edited parts smaller than this are stored, not deflated: for a relationships or
# comments part of a few hundred bytes, setting up deflate costs more than the
# compression is worth (about 0.25 ms per workbook for ~8 KB more file).
STORE_BELOW = 2048
ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets at or above this go to zip64 extra fields
MAX_ENTRIES = 0xFFFF
_SENTINEL = 0xFFFFFFFF  # "see the zip64 record" in a 32-bit field
FIXED_DATE_TIME = (2024, 1, 1, 0, 0, 0)  # identical input, identical bytes (reports)

_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_END = struct.Struct("<4sHHHHLLH")
_END64 = struct.Struct("<4sQHHLLQQQQ")
_LOCATOR = struct.Struct("<4sLQL")
_STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")


class Packed(NamedTuple):
    """A member already compressed: method (0 stored, 8 deflated), CRC-32, size, bytes."""

    method: int
    crc: int
    size: int
    payload: bytes


class Member(NamedTuple):
    """One member to write: ``raw`` = (its ZipInfo, compressed bytes) or ``packed`` to copy, or ``body``."""

    name: str
    date_time: tuple
    external_attr: int
    body: bytes | None = None
    raw: tuple[zipfile.ZipInfo, bytes] | None = None
    packed: Packed | None = None


def make_entry(name: str, blob: bytes, level: int = 6) -> Member:
    """A member compressed now, to be written many times (already-compressed media stored)."""
    crc = deflate.crc32(blob)
    if name.lower().endswith(_STORED_SUFFIXES):
        return Member(name, FIXED_DATE_TIME, 0, packed=Packed(0, crc, len(blob), blob))
    return Member(name, FIXED_DATE_TIME, 0, packed=Packed(8, crc, len(blob), deflate.deflate(blob, level)))


def _pack(m: Member) -> Packed:
    if m.packed is not None:
        return m.packed
    if m.raw is not None:
        info, payload = m.raw
        return Packed(info.compress_type, info.CRC, info.file_size, payload)
    body = m.body or b""
    if len(body) < STORE_BELOW:
        return Packed(zipfile.ZIP_STORED, deflate.crc32(body), len(body), body)
    return Packed(zipfile.ZIP_DEFLATED, deflate.crc32(body), len(body), deflate.deflate(body, COMPRESS_LEVEL))


def _dos(dt: tuple) -> tuple[int, int]:
    if dt[0] < 1980:
        dt = (1980, 1, 1, 0, 0, 0)
    return (dt[3] << 11) | (dt[4] << 5) | (dt[5] // 2), ((dt[0] - 1980) << 9) | (dt[1] << 5) | dt[2]


def _field(value: int) -> int:
    return value if value < ZIP64_LIMIT else _SENTINEL


def zip_bytes(members: list[Member]) -> bytes:
    """The zip archive of ``members``, in order (zip64 where needed)."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        method, crc, usize, payload = _pack(m)
        csize = len(payload)
        fname = m.name.encode("utf-8")
        flags = 0x800 if not fname.isascii() else 0
        dostime, dosdate = _dos(m.date_time)
        big = usize >= ZIP64_LIMIT or csize >= ZIP64_LIMIT
        if big or offset >= ZIP64_LIMIT:
            version = 45
            local_extra = struct.pack("<HHQQ", 1, 16, usize, csize) if big else b""
            sizes = (_SENTINEL, _SENTINEL) if big else (csize, usize)
            fields = [v for v in (usize, csize, offset) if v >= ZIP64_LIMIT]
            extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields)
            listed = (_field(csize), _field(usize), _field(offset))
        else:  # the usual member: no zip64, no extra fields
            version, local_extra, sizes, extra, listed = 20, b"", (csize, usize), b"", (csize, usize, offset)
        header = _LOCAL.pack(
            b"PK\x03\x04", version, flags, method, dostime, dosdate, crc, *sizes, len(fname), len(local_extra)
        )
        chunks.extend((header, fname, local_extra, payload))
        entry = _CENTRAL.pack(
            b"PK\x01\x02",
            version,
            version,
            flags,
            method,
            dostime,
            dosdate,
            crc,
            listed[0],
            listed[1],
            len(fname),
            len(extra),
            0,
            0,
            0,
            m.external_attr,
            listed[2],
        )
        central.append(entry + fname + extra)
        offset += len(header) + len(fname) + len(local_extra) + csize
    directory = b"".join(central)
    chunks.append(directory)
    count = len(central)
    if count > MAX_ENTRIES or offset >= ZIP64_LIMIT or len(directory) >= ZIP64_LIMIT:
        end64_at = offset + len(directory)
        chunks.append(_END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), offset))
        chunks.append(_LOCATOR.pack(b"PK\x06\x07", 0, end64_at, 1))
        chunks.append(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                min(count, MAX_ENTRIES),
                min(count, MAX_ENTRIES),
                _field(len(directory)),
                _field(offset),
                0,
            )
        )
    else:
        chunks.append(_END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0))
    return b"".join(chunks)
