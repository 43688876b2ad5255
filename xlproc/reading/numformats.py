"""Which cell styles show a number as a percentage (styles.xml ``cellXfs``).

Excel stores 98.6% as 0.986 and shows it through the cell's number format: built-in
formats 9 (``0%``) and 10 (``0.00%``), or any custom format code with a ``%`` outside
quotes and not escaped. Only the style indices are returned; sheetscan.py finds the
cells that use them.
"""

from __future__ import annotations

import contextlib
import functools
from xml.parsers import expat

from ..ooxml.xmlparse import parse_all

_BUILTIN_PERCENT = frozenset({9, 10})


def is_percent_code(code: str) -> bool:
    """True when a number format code multiplies by 100: an unquoted, unescaped ``%``."""
    quoted = False
    escaped = False
    bracket = False
    for ch in code:
        if escaped:
            escaped = False
        elif quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            bracket = True
        elif ch == "]":
            bracket = False
        elif ch == "%" and not bracket:
            return True
    return False


class _Stop(Exception):
    pass


@functools.lru_cache(maxsize=32)
def percent_styles(styles_xml: bytes) -> frozenset[int]:
    """Indices of the ``cellXfs`` entries whose number format is a percentage.

    Cached by content: workbooks from one template share this part byte for byte.
    """
    if b"%" not in styles_xml and b'"9"' not in styles_xml and b'"10"' not in styles_xml:
        return frozenset()
    codes: dict[int, str] = {}
    xf_formats: list[int] = []
    depth = {"cellXfs": False, "xf_depth": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "numFmt":
            fid = attrs.get("numFmtId", "")
            if fid.isdigit() and len(fid) < 9:
                codes[int(fid)] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            depth["cellXfs"] = True
        elif local == "xf" and depth["cellXfs"]:
            fid = attrs.get("numFmtId", "0")
            xf_formats.append(int(fid) if fid.isdigit() and len(fid) < 9 else 0)

    def end(name: str) -> None:
        if name.rpartition(":")[2] == "cellXfs":
            depth["cellXfs"] = False

    def no_dtd(*_args: object) -> None:
        raise _Stop

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = no_dtd
    with contextlib.suppress(expat.ExpatError, _Stop):  # a broken styles part: the formats read so far stand
        parse_all(parser, styles_xml)
    percent = {fid for fid, code in codes.items() if is_percent_code(code)}
    builtin = _BUILTIN_PERCENT - codes.keys()  # a file may redefine a built-in id
    return frozenset(i for i, fid in enumerate(xf_formats) if fid in builtin or fid in percent)
