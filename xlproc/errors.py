"""Exceptions meaning "could not run". Findings are data (results.py), never exceptions."""

from __future__ import annotations


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
