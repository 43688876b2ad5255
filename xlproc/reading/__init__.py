"""Bytes → typed ``Submission``: package checks, cell values, defined names."""

from .workbook import read_workbook

__all__ = ["read_workbook"]
