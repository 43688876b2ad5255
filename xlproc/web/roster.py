"""A roster of department names from an .xlsx or .csv file (one name per row)."""

from __future__ import annotations

import csv
import io

HEADER_WORDS = ("部门", "单位", "名称", "name")
MAX_NAME = 100


class RosterError(ValueError):
    """The roster could not be read (a Chinese message for the administrator)."""


def read_roster(data: bytes, filename: str) -> list[str]:
    """Department names in file order, blanks and repeats dropped, a header row skipped."""
    name = filename.lower()
    if name.endswith(".csv"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        raise RosterError(f"名单文件“{filename}”须为 .xlsx 或 .csv 格式")
    names: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        cell = next((str(c).strip() for c in row if str(c).strip()), "")
        if not cell or (i == 0 and any(w in cell.lower() for w in HEADER_WORDS) and len(cell) <= 6):
            continue
        cell = " ".join(cell.split())
        if len(cell) > MAX_NAME:
            raise RosterError(f"名单第 {i + 1} 行的部门名称过长（超过 {MAX_NAME} 字）")
        key = "".join(cell.split()).casefold()
        if key not in seen:
            seen.add(key)
            names.append(cell)
    if not names:
        raise RosterError(f"名单文件“{filename}”中没有部门名称")
    return names


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterError("名单文件的编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV")
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = wb.get_sheet_by_index(0)
        return [["" if c is None else str(c) for c in row] for row in sheet.to_python()]
    except Exception as exc:  # calamine raises its own errors for broken files
        raise RosterError(f"名单工作簿无法读取：{exc}") from exc
