"""Raw deflate and CRC-32 for the zip parts xlproc writes and edits.

ISA-L (python-isal) when it is installed: level 1 deflates a worksheet about six times
faster than zlib and decompresses faster too; otherwise the standard library's zlib.
Both produce ordinary deflate streams that every office suite reads.
"""

from __future__ import annotations

import os
import zlib

try:  # an optional speed-up; the output is standard deflate either way
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    _isal = None
if os.environ.get("XLPROC_DEFLATE") == "zlib":  # force the standard library (A/B benchmarks)
    _isal = None

error = zlib.error


def _isal_level(level: int) -> int:
    # zlib levels 1-9 → ISA-L levels 0-3 (1 → 1, 6 → 2, 9 → 3).
    return min(3, max(0, (level + 2) // 3))


def deflate(data: bytes, level: int = 1) -> bytes:
    """Raw deflate (no header), as stored in a zip member."""
    if _isal is not None:
        return _isal.compress(data, _isal_level(level), -15)
    return zlib.compress(data, level, -15)


def inflate(data: bytes, size_hint: int = 0) -> bytes:
    """Inverse of ``deflate``; raises ``deflate.error`` on a broken stream."""
    if _isal is not None:
        try:
            return _isal.decompress(data, -15, max(size_hint, 1))
        except _isal.error as exc:
            raise zlib.error(str(exc)) from None
    return zlib.decompress(data, -15, max(size_hint, 1))


def crc32(data: bytes, value: int = 0) -> int:
    """CRC-32 as zip stores it (``value``: the CRC of what came before)."""
    return _isal.crc32(data, value) if _isal is not None else zlib.crc32(data, value)


CHUNK = 4 * 1024 * 1024


def inflate_chunks(data: bytes, cap: int):
    """Inflate a raw deflate stream in pieces of at most ``CHUNK`` bytes.

    Stops (yielding one byte more than ``cap``) as soon as the output exceeds ``cap``,
    so a bomb never costs more memory than a chunk; raises ``error`` when the stream
    is broken or ends early.
    """
    d = (_isal or zlib).decompressobj(-15)
    produced = 0
    pending = data
    while True:
        try:
            out = d.decompress(pending, CHUNK)
        except Exception as exc:  # isal raises its own error type
            raise zlib.error(str(exc)) from None
        produced += len(out)
        if out:
            yield out
        if produced > cap:
            return
        pending = d.unconsumed_tail
        if d.eof:
            return
        if not pending and not out:
            raise zlib.error("truncated deflate stream")


def backend() -> str:
    """Which implementation is in use ("isal" or "zlib")."""
    return "isal" if _isal is not None else "zlib"


class Deflater:
    """Raw deflate of a stream given in pieces, with the CRC-32 and size a zip member needs.

    Memory holds the compressed output only, so a part of any size is written in pieces.
    """

    def __init__(self, level: int = 1):
        if _isal is not None:
            self._d = _isal.compressobj(_isal_level(level), zlib.DEFLATED, -15)
        else:
            self._d = zlib.compressobj(level, zlib.DEFLATED, -15)
        self.crc = 0
        self.size = 0
        self._out: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.crc = crc32(data, self.crc)
        self.size += len(data)
        out = self._d.compress(data)
        if out:
            self._out.append(out)

    def finish(self) -> bytes:
        """The whole compressed stream (call once, after the last ``write``)."""
        self._out.append(self._d.flush())
        return b"".join(self._out)
