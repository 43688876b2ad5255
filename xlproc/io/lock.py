"""One batch per output folder at a time: an advisory lock file in the outbox.

Two batches writing the same outbox would interleave manifests and outputs. The
lock is an OS lock on ``OUTBOX/.xlproc-batch.lock`` (``flock`` on POSIX, ``msvcrt``
on Windows): it is released when the process ends however it ends, so a killed
batch never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import XlprocError, os_reason

LOCK_NAME = ".xlproc-batch.lock"


@contextlib.contextmanager
def outbox_lock(outbox: Path) -> Iterator[None]:
    """Hold the outbox's lock; raise ``XlprocError`` (Chinese) if another batch holds it."""
    path = Path(outbox) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise XlprocError(f"无法在输出目录 {outbox} 中创建锁文件（{os_reason(exc)}）") from None
    try:
        try:
            _lock(fd)
        except OSError:
            holder = _read_holder(fd)
            raise XlprocError(
                f"输出目录 {outbox} 正被另一个批量处理{holder}使用，请等它结束后再运行（或换一个输出目录）"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _read_holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip() or "0")
        if pid:
            return f"（进程 {pid}）"
    return ""


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
