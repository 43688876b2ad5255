"""The district dataset's .xlsx as plain data: sheets another process writes without pandas.

``export.write_xlsx`` streams the frames into a ``TableBook``. A batch has an idle pool
worker at its end, while this process writes 汇总.xlsx: ``export.xlsx_sheets`` turns the
frames into ``Sheet`` values (rows of str / float / date / None, nothing of pandas), and
the worker runs ``write_sheets``. The workbook is the same: ``TableBook`` writes a
Decimal as the float it is, and a missing marker as an empty cell, either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import OutputError, os_reason
from ..io.atomic import atomic_path
from ..ooxml.tablebook import TableBook

TITLE = "全区部门整体绩效自评数据"


@dataclass
class Sheet:
    """One sheet's header, rows and layout (the keyword arguments of ``TableBook.add_sheet``)."""

    name: str
    heads: list[str]
    rows: list[list[Any]]
    layout: dict[str, Any] = field(default_factory=dict)


def new_book() -> TableBook:
    return TableBook(title=TITLE, author="xlproc", font="宋体", size=10)


_PLAIN = frozenset([str, int, float, bool, date, datetime, type(None)])


def portable_row(row: list[Any]) -> list[Any]:
    """A row whose values are all ``portable``: the row itself when they already are."""
    return row if all(map(_PLAIN.__contains__, map(type, row))) else list(map(portable, row))


def portable(value: Any) -> Any:
    """A cell value as plain Python another process unpickles without pandas: str, int,
    float, bool, date or None (Decimal → float, as ``TableBook`` writes it; pandas'
    missing markers and timestamps → None / datetime)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Decimal:
        return float(value) if value.is_finite() else None
    if isinstance(value, datetime):  # pandas.Timestamp
        return None if value != value else datetime.fromtimestamp(value.timestamp(), value.tzinfo)
    try:
        if value != value:  # NaN, NaT, pandas.NA (whose comparison raises)
            return None
    except TypeError:
        return None
    return str(value)


def write_sheets(sheets: list[Sheet], path: Path) -> Path:
    """Write ``sheets`` to ``path`` atomically; OutputError (Chinese) when the disk refuses."""
    path = Path(path)
    try:
        book = new_book()
        for s in sheets:
            book.add_sheet(s.name, s.heads, s.rows, row_count=len(s.rows), **s.layout)
        with atomic_path(path) as tmp:
            tmp.write_bytes(book.to_bytes())
    except OSError as exc:  # disk full, EFBIG, a file held open on Windows
        raise cannot_write(path, exc) from None
    return path


def cannot_write(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"无法写入 {path}（{os_reason(exc)}），如该文件正在 Excel/WPS 中打开，请关闭后重新运行")
