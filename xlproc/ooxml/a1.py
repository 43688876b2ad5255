"""A1 cell references: the one place that converts between "AB12" and numbers.

Everything here is 1-based (row 1, column 1 = "A1"), as in the file format; the form
layout's 0-based helpers (``form.layout``) delegate here. References outside a sheet
(beyond XFD1048576) are not references.
"""

from __future__ import annotations

import functools
import re

MAX_ROW, MAX_COL = 1_048_576, 16_384
_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def col_number(letters: str | bytes) -> int:
    """1-based column number of "AB" (0 for no letters)."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii", "replace")
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


@functools.lru_cache(maxsize=4096)
def col_letters(col: int) -> str:
    """Letters of a 1-based column number (28 → "AB")."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """A1 reference of a 1-based (row, column)."""
    return f"{col_letters(col)}{row}"


def split_a1(ref: str) -> tuple[int, int] | None:
    """(row, column), 1-based, of a single-cell reference such as "$B$3"; None otherwise."""
    m = _A1.match((ref or "").strip())
    if not m:
        return None
    row, col = int(m.group(2)), col_number(m.group(1))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        return None
    return row, col


def cell_sort_key(cell: str) -> tuple[int, int]:
    """Row-major order of an A1 reference ("B10" after "B9"); anything else last."""
    rc = split_a1(cell)
    return rc if rc is not None else (10**9, 10**9)
