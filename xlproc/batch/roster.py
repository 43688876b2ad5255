"""The district's roster: department names from an .xlsx or .csv file, one per row.

One reader for ``xlproc batch --roster`` and the portal's roster import. A roster is
whatever the bureau keeps: a CSV saved by Excel on Chinese Windows (GBK) or as UTF-8 with
or without a BOM, a workbook with a 序号 column before the names, a header row or none.
The names are taken from the column headed 部门名称 (or one of ``HEADERS``); without such
a header, from the leftmost column that is not only numbers. Blanks are collapsed,
repeats (compared as everywhere else, ``io.names.name_key``) dropped.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

from ..errors import XlprocError, os_reason
from ..io.names import name_key
from ..io.safe_read import read_input
from ..ooxml.guard import PackageRefused, inspect_package

HEADERS = ("部门名称", "部门", "单位名称", "单位", "预算单位", "部门全称", "单位全称", "名称", "name")
MAX_NAME = 100  # characters: a longer "name" is a paragraph pasted into the wrong cell
MAX_ROSTER_BYTES = 4 * 1024 * 1024


class RosterError(XlprocError):
    """The roster cannot be used; the message (Chinese) names the file and the reason."""


def read_roster(path: Path) -> list[str]:
    """The names in the roster file at ``path`` (RosterError when it cannot be used)."""
    path = Path(path)
    try:
        data = read_input(path, MAX_ROSTER_BYTES)
    except OSError as exc:
        raise RosterError(f"无法读取部门名单 {path}：{os_reason(exc)}") from None
    return roster_names(data, path.name)


def roster_names(data: bytes, filename: str) -> list[str]:
    """Department names in file order from the bytes of a roster called ``filename``."""
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(f"部门名单“{filename}”过大（超过 {MAX_ROSTER_BYTES // 2**20} MB）")
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(data, filename)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(data, filename)
    else:
        raise RosterError(f"部门名单“{filename}”应为 .xlsx 或 .csv 文件")
    rows = [[" ".join(str(c).split()) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise RosterError(f"部门名单“{filename}”是空的")
    col, rows = _name_column(rows)
    names: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, 1):
        name = row[col] if col < len(row) else ""
        if not name:
            continue
        if len(name) > MAX_NAME:
            raise RosterError(f"部门名单“{filename}”第 {i} 个名称过长（超过 {MAX_NAME} 字）：{name[:20]}…")
        key = name_key(name)
        if key and key not in seen:
            seen.add(key)
            names.append(name)
    if not names:
        raise RosterError(f"部门名单“{filename}”中没有部门名称（应在“部门名称”列或第一列）")
    return names


def _header(cell: str) -> bool:
    return unicodedata.normalize("NFKC", cell).replace(" ", "").casefold() in HEADERS


def _name_column(rows: list[list[str]]) -> tuple[int, list[list[str]]]:
    """(column of the names, the rows without the header row)."""
    for i, cell in enumerate(rows[0]):
        if _header(cell):
            return i, rows[1:]
    width = max(len(r) for r in rows)
    for col in range(width):
        values = [r[col] for r in rows if col < len(r) and r[col]]
        if values and not all(v.replace(".", "", 1).isdigit() for v in values):  # not a 序号 column
            return col, rows
    return 0, rows


def _csv_rows(data: bytes, filename: str) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte sequence it is given whole
        raise RosterError(f"部门名单“{filename}”的编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV")
    try:
        return list(csv.reader(io.StringIO(text.replace("\0", ""))))
    except csv.Error as exc:
        raise RosterError(f"部门名单“{filename}”不是有效的 CSV（{exc}）") from None


def _xlsx_rows(data: bytes, filename: str) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        inspect_package(data)  # the same budgets as any workbook: a roster is a file from outside too
    except PackageRefused as exc:
        reason = "文件已损坏或不是 .xlsx 工作簿" if str(exc) == "zip" else str(exc)
        raise RosterError(f"部门名单“{filename}”无法读取：{reason}") from None
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        return [["" if c is None else str(c) for c in row] for row in sheet.to_python()]
    except Exception as exc:  # calamine raises its own error types for broken files
        raise RosterError(f"部门名单“{filename}”无法读取（{type(exc).__name__}）") from None
