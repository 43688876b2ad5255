"""Read one input file safely: a regular file only, bounded, and not changing while read.

A path handed to xlproc may be a FIFO (``read()`` would block for ever), a device or
a link to ``/dev/zero`` (never ends), a file larger than any workbook, or a file a
department is still copying. ``read_input`` opens without blocking, checks the
opened object is a regular file, reads at most ``max_bytes``, and compares size and
modification time before and after: a file that changed is read once more, then
refused.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from ..errors import WorkbookError
from ..ooxml.guard import LIMITS

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _signature(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def _read_once(path: Path, max_bytes: int) -> tuple[bytes, bool]:
    """(content, unchanged while read)."""
    before = os.stat(path)
    fd = os.open(path, _FLAGS)
    try:
        opened = os.fstat(fd)
        if stat.S_ISDIR(opened.st_mode):
            raise WorkbookError(path, "这是一个文件夹，不是文件")
        if not stat.S_ISREG(opened.st_mode):
            raise WorkbookError(path, "不是普通文件（设备、管道或套接字），不予读取")
        if opened.st_size > max_bytes:
            raise WorkbookError(
                path, f"文件过大（{opened.st_size // (1024 * 1024)} MB，上限 {max_bytes // (1024 * 1024)} MB）"
            )
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise WorkbookError(path, f"文件过大（超过 {max_bytes // (1024 * 1024)} MB）")
            chunks.append(chunk)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    same = _signature(before) == _signature(opened) == _signature(after) == _signature(os.stat(path))
    return b"".join(chunks), same and size == after.st_size


def read_input(path: Path, max_bytes: int = LIMITS.max_file_bytes) -> bytes:
    """The bytes of input ``path``; raises ``WorkbookError`` (Chinese) or ``OSError``."""
    path = Path(path)
    for attempt in range(2):
        data, unchanged = _read_once(path, max_bytes)
        if unchanged:
            return data
        if attempt == 0:
            time.sleep(0.2)
    raise WorkbookError(path, "文件在读取过程中被修改（可能仍在复制或保存中），请等文件写完后重新运行")


def input_stat(path: Path) -> tuple[int, int]:
    """(size, mtime_ns) of ``path`` as ``read_input`` compares them; (-1, -1) if unreadable."""
    try:
        return _signature(os.stat(path))
    except OSError:
        return -1, -1
