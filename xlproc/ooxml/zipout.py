"""Write a zip package from members: copied compressed bytes or new bodies.

Members taken over from the input keep their compressed bytes (no inflate, no
deflate: bit-identical and almost free); new or edited bodies are deflated at level
1, or stored when tiny. Local headers carry sizes and CRC (no data descriptors);
zip64 is not written (a caller gets ``OverflowError``).
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

_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_END = struct.Struct("<4sHHHHLLH")


class Member(NamedTuple):
    """One member to write: ``raw`` = (its ZipInfo, compressed bytes) to copy, or ``body``."""

    name: str
    date_time: tuple
    external_attr: int
    body: bytes | None = None
    raw: tuple[zipfile.ZipInfo, bytes] | None = None


def zip_bytes(members: list[Member]) -> bytes:
    """The zip archive of ``members``, in order."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    size = 0
    for m in members:
        if m.raw is not None:
            info, payload = m.raw
            method, crc, usize = info.compress_type, info.CRC, info.file_size
        elif len(m.body) < STORE_BELOW:
            payload, method, crc, usize = m.body, zipfile.ZIP_STORED, deflate.crc32(m.body), len(m.body)
        else:
            payload = deflate.deflate(m.body, COMPRESS_LEVEL)
            method, crc, usize = zipfile.ZIP_DEFLATED, deflate.crc32(m.body), len(m.body)
        csize = len(payload)
        if max(csize, usize, size) >= 0xFFFFFFFF:
            raise OverflowError("zip64 needed")
        fname = m.name.encode("utf-8")
        flags = 0x800 if not fname.isascii() else 0
        dt = m.date_time
        dostime = (dt[3] << 11) | (dt[4] << 5) | (dt[5] // 2)
        dosdate = ((dt[0] - 1980) << 9) | (dt[1] << 5) | dt[2]
        header = _LOCAL.pack(b"PK\x03\x04", 20, flags, method, dostime, dosdate, crc, csize, usize, len(fname), 0)
        chunks.extend((header, fname, payload))
        entry = (b"PK\x01\x02", 20, 20, flags, method, dostime, dosdate, crc, csize, usize, len(fname), 0, 0, 0, 0)
        central.append(_CENTRAL.pack(*entry, m.external_attr, size) + fname)
        size += len(header) + len(fname) + csize
    directory = b"".join(central)
    chunks.append(directory)
    chunks.append(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), size, 0))
    return b"".join(chunks)
