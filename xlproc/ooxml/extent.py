"""How far a worksheet's cells reach, and clipping a sheet that reaches too far.

A reader that builds a sheet's grid allocates rows x columns of its bounding box: one
cell at A1 and one at XFD1048576 ask python-calamine for 17 billion cells, and the
process aborts. ``reaches_far`` is the cheap test run on every sheet (a reference of
two letters or five digits is needed for a box above 26 x 9,999 cells, in any
spelling of the attribute); ``extent``
measures exactly; ``clip`` drops the rows and cells outside a box, in one linear pass
over the bytes (no regular expression with nested quantifiers).
"""

from __future__ import annotations

import re

from .a1 import col_number

# One translate folds every legal spelling of the attribute (quotes, any blank) onto
# ' r="…"'; only an attribute named exactly r (rows, cells) then matches. Letters in
# either case: python-calamine reads "xfd1048576" too.
_FOLD = bytes.maketrans(b"\t\r\n'", b'   "')
_FAST = re.compile(rb' r *= *"(?:[A-Za-z]{2}|[A-Za-z]?\d{5})')
# ``_FAST`` without the fold and without its leading blank: any ``r``, blanks, ``=``,
# blanks, a quote of either kind, then a far reference. Its literal prefix is ``r``
# (``_FAST``'s is a space, the most common byte of a sheet), so it scans about ten
# times faster. ``_FAST`` matches after the fold exactly where ``_MAYBE`` matches
# after a blank; on a sheet within the form the only hit is ``xmlns:r="http…``.
_MAYBE = re.compile(rb"r[ \t\r\n]*=[ \t\r\n]*[\"'](?:[A-Za-z]{2}|[A-Za-z]?\d{5})")
_BLANKS = b" \t\r\n"
_REF = re.compile(rb"\sr\s*=\s*[\"']([A-Za-z]{0,3})(\d{1,10})[\"']")
_ELEMENT = re.compile(rb"<(?:[\w.-]{1,40}:)?(row|c)(?=[\s/>])")


def reaches_far(xml: bytes) -> bool:
    """Whether the sheet may span more than 26 columns or 9,999 rows (then measure it)."""
    m = _MAYBE.search(xml)
    while m is not None:
        at = m.start()
        if at and xml[at - 1] in _BLANKS:  # the attribute r itself: measure as ever
            return _FAST.search(xml.translate(_FOLD)) is not None
        m = _MAYBE.search(xml, at + 1)
    return False


def extent(xml: bytes) -> tuple[int, int]:
    """(last row, last column), 1-based, over every ``r`` attribute of rows and cells."""
    rows = cols = 0
    for letters, digits in _REF.findall(xml):
        r = int(digits)
        if r > rows:
            rows = r
        if letters:
            c = col_number(letters)
            if c > cols:
                cols = c
    return rows, cols


def clip(xml: bytes, max_row: int, max_col: int) -> tuple[bytes, str]:
    """The sheet without rows below ``max_row`` and cells right of ``max_col``.

    Returns the new bytes and the reference of the first cell (or row) dropped.
    """
    out: list[bytes] = []
    pos = search = 0
    first = ""
    while True:
        m = _ELEMENT.search(xml, search)
        if m is None:
            break
        tag_end = xml.find(b">", m.end())
        if tag_end < 0:
            break
        tag = xml[m.start() : tag_end + 1]
        ref = _REF.search(tag)
        drop = False
        if ref is not None:
            row = int(ref.group(2))
            col = col_number(ref.group(1))
            drop = row > max_row or (m.group(1) == b"c" and col > max_col)
        if not drop:
            search = tag_end + 1
            continue
        if not first:
            first = (ref.group(1).decode().upper() or "A") + ref.group(2).decode()
        end = tag_end + 1
        if not tag.endswith(b"/>"):
            name = xml[m.start() + 1 : m.end()]
            close = xml.find(b"</" + name + b">", end)
            end = len(xml) if close < 0 else close + len(name) + 3
        out.append(xml[pos : m.start()])
        pos = search = end
    out.append(xml[pos:])
    return b"".join(out), first
