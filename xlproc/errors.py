"""Exceptions meaning "could not run". Findings are data (results.py), never exceptions."""

from __future__ import annotations

import errno


class XlprocError(Exception):
    """Base class: a Chinese message the CLI prints as is (exit code 2)."""


class SpecError(XlprocError):
    """The form spec, rubric or another declarative file is malformed."""


class WorkbookError(XlprocError):
    """A workbook cannot be read: not an xlsx, encrypted, wrong form, sheet missing …"""

    def __init__(self, path: object, message: str, sheet: str = "", cell: str = ""):
        self.path = str(path)
        self.sheet = sheet
        self.cell = cell
        self.reason = message
        where = "".join([f"{self.path}", f"，工作表“{sheet}”" if sheet else "", f"，单元格 {cell}" if cell else ""])
        super().__init__(f"{where}：{message}")


class OutputError(XlprocError):
    """An output file cannot be written."""


# The operating system's reasons, in Chinese: strerror is English on a server with the C
# locale ("Too many levels of symbolic links"), and these are the ones a clerk or an
# administrator meets.
_OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有访问权限",
    errno.EPERM: "没有访问权限",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中的某一级不是文件夹",
    errno.ELOOP: "符号链接循环指向自身",
    errno.ENAMETOOLONG: "文件名或路径过长",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "磁盘是只读的",
    errno.EFBIG: "文件过大",
    errno.EMFILE: "同时打开的文件过多",
    errno.ENFILE: "同时打开的文件过多",
    errno.EBUSY: "文件正被占用",
    errno.EIO: "磁盘读写出错",
    errno.EEXIST: "文件已存在",
}
_SHARING_VIOLATIONS = {32, 33}  # Windows: the file is open in another program (Excel, WPS)


def os_reason(exc: BaseException) -> str:
    """Why an operating-system call failed, in Chinese when the reason is a common one."""
    if getattr(exc, "winerror", None) in _SHARING_VIOLATIONS:
        return "文件正被其他程序（如 Excel 或 WPS）打开"
    code = getattr(exc, "errno", None)
    if code in _OS_REASONS:
        return _OS_REASONS[code]
    return getattr(exc, "strerror", None) or str(exc)
