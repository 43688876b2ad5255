"""Atomic output: write to a temporary file beside the target, then rename.

A crash, Ctrl-C or kill while writing leaves either the old file or no file, never a
half-written one. Temporary names start with ``.~xlproc-`` so a batch can sweep
leftovers of a killed run. Files get the usual permissions (0666 less the umask).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError, os_reason

TEMP_PREFIX = ".~xlproc-"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _create_temp(target: Path) -> tuple[int, Path]:
    """Create a new, empty temporary file in the target's folder; return (fd, path)."""
    try:
        made = False
        while True:
            tmp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}{target.suffix}"
            try:
                return os.open(tmp, _FLAGS, 0o666), tmp
            except FileExistsError:
                continue
            except FileNotFoundError:  # the folder is new: made once (not asked before every write)
                if made:
                    raise
                target.parent.mkdir(parents=True, exist_ok=True)
                made = True
    except OSError as exc:
        raise OutputError(f"无法写入 {target}：{os_reason(exc)}") from exc


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto target."""
    target = Path(target)
    fd, tmp = _create_temp(target)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    target = Path(target)
    fd, tmp = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def sweep_temporaries(folder: Path) -> int:
    """Remove temporaries left by a killed run under ``folder``; return how many."""
    n = 0
    for p in Path(folder).rglob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n
