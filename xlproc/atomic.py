"""Atomic output: write to a temporary file beside the target, then rename.

A crash, Ctrl-C or kill while writing leaves either the old file or no file, never a
half-written one. Temporary names start with ``.~xlproc-`` so a batch can sweep
leftovers of a killed run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

TEMP_PREFIX = ".~xlproc-"


def _default_mode() -> int:
    # mkstemp creates 0600 files; outputs should get the usual permissions (0666 & ~umask).
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _default_mode()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto target."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
    except OSError as exc:
        raise OutputError(f"无法写入 {target}：{exc.strerror or exc}") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, _MODE)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_bytes(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def sweep_temporaries(folder: Path) -> int:
    """Remove temporaries left by a killed run under ``folder``; return how many."""
    n = 0
    for p in Path(folder).rglob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n
