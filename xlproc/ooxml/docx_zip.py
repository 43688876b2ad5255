"""Write a .docx package whose unchanged parts were compressed once per process.

A rendered report differs from its template in two or three parts (document.xml,
core.xml, the chart pictures). ``zipfile`` would deflate every part again for every
report, which was half the rendering time; ``Package`` keeps each template part's
deflated bytes and CRC and writes the zip structure directly (local headers, central
directory, end record — the plain PKZIP format without ZIP64, ample for a report).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import deflate

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DOS_DATE = (2024 - 1980) << 9 | 1 << 5 | 1  # fixed timestamp: identical input, identical bytes
_UTF8 = 0x800


@dataclass(frozen=True)
class Entry:
    """One stored part: name, CRC-32, raw size and deflated bytes."""

    name: str
    crc: int
    size: int
    data: bytes
    method: int  # 8 deflated, 0 stored


def make_entry(name: str, blob: bytes, level: int = 6) -> Entry:
    """Compress one part (already-compressed media is stored as is)."""
    if name.lower().endswith((".png", ".jpg", ".jpeg", ".gif")):
        return Entry(name, deflate.crc32(blob), len(blob), blob, 0)
    return Entry(name, deflate.crc32(blob), len(blob), deflate.deflate(blob, level), 8)


def write_zip(entries: list[Entry]) -> bytes:
    """The zip archive of ``entries``, in order."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        name = e.name.encode("utf-8")
        offset = len(out)
        out += _LOCAL.pack(b"PK\x03\x04", 20, _UTF8, e.method, 0, _DOS_DATE, e.crc, len(e.data), e.size, len(name), 0)
        out += name
        out += e.data
        central += _CENTRAL.pack(
            b"PK\x01\x02",
            20,
            20,
            _UTF8,
            e.method,
            0,
            _DOS_DATE,
            e.crc,
            len(e.data),
            e.size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
    start = len(out)
    out += central
    out += _END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0)
    return bytes(out)
