"""Where a command writes: the ``-o`` option checked against what the command makes.

``-o`` may name a file (its suffix must be one the command writes, else a Chinese
error before any work is done) or an existing folder (the default file name goes
into it). Without ``-o`` the default name is used beside the input (or in the
current folder for commands without an input).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import XlprocError


def is_folder(path: Path) -> bool:
    """An existing folder, or a path the user ended with a separator (``out/``)."""
    text = str(path)
    return path.is_dir() or text.endswith((os.sep, "/"))


def output_file(output: Path | None, default: Path, suffixes: tuple[str, ...], what: str) -> Path:
    """The file to write: ``output`` checked against ``suffixes``, or ``default``.

    ``default`` is the full default path; when ``output`` is a folder its name is
    used inside that folder. ``what`` names the kind of file in the message
    (e.g. "Excel 工作簿"). Suffixes compare case-insensitively.
    """
    if output is None:
        return default
    if is_folder(output):
        if output.exists() and not output.is_dir():
            raise XlprocError(f"输出位置“{output}”不是文件夹")
        return output / default.name
    suffix = output.suffix.lower()
    if suffix not in suffixes:
        allowed = " 或 ".join(suffixes)
        if not output.suffix:
            raise XlprocError(f"输出文件“{output}”缺少扩展名：本命令生成 {what}，文件名应以 {allowed} 结尾")
        raise XlprocError(
            f"输出文件“{output}”的扩展名不对：本命令生成 {what}，文件名应以 {allowed} 结尾，不能是“{output.suffix}”"
        )
    if output.exists() and output.is_dir():  # pragma: no cover - caught by is_folder
        raise XlprocError(f"输出位置“{output}”是文件夹")
    return output
