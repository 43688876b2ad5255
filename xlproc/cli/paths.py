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


# Suffixes of files: a folder option given one of these is a mistake, not a folder name.
FILE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".docx", ".doc", ".pdf", ".json", ".csv", ".txt", ".zip")


def output_folder(output: Path) -> Path:
    """A ``-o`` that must be a folder: refused in Chinese when it names a file."""
    if output.exists() and not output.is_dir():
        raise XlprocError(f"输出位置“{output}”是一个文件，本命令需要一个输出目录（文件夹）")
    if output.suffix.lower() in FILE_SUFFIXES:
        raise XlprocError(
            f"输出位置“{output}”看起来是一个文件名，本命令的 -o 是输出目录（文件夹），"
            "汇总表等文件写在该目录里；请给出文件夹名"
        )
    return output
