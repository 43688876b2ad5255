"""A readable copy of a package whose text python-calamine refuses.

Calamine gives up on a whole sheet for one bad character reference (``&#0;``,
``&#xD800;``, ``&#x110000;``), a raw control byte, or an error code newer than it
knows (``#SPILL!``, ``#GETTING_DATA`` …). Such a workbook is still a department's
work: the reader retries on a copy in which each bad reference or byte becomes
U+FFFD (which the parsers then report as a cell problem at its cell) and each
unknown error code becomes ``#N/A`` (the sheet scan keeps the real code from the
original part). Every pattern is a single character class or a bounded run:
linear in the part's size. Only this failure path pays for the copy.
"""

from __future__ import annotations

import io
import re
import zipfile

from .errorvalues import CALAMINE_CODES
from .sheetscan import error_value_spans

_CHAR_REF = re.compile(rb"&#([xX][0-9A-Fa-f]{1,16}|[0-9]{1,16});")
_LONG_REF = re.compile(rb"&#[xX]?[0-9A-Fa-f]{17}[0-9A-Fa-f]*;?")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_REPLACEMENT = b"&#xFFFD;"


def _valid(cp: int) -> bool:
    return cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


def _ref(m: re.Match[bytes]) -> bytes:
    body = m.group(1)
    cp = int(body[1:], 16) if body[:1] in (b"x", b"X") else int(body)
    return m.group(0) if _valid(cp) else _REPLACEMENT


def clean_text_part(xml: bytes) -> bytes:
    """Bad character references and raw control bytes → U+FFFD."""
    if b"&#" in xml:
        xml = _LONG_REF.sub(_REPLACEMENT, xml)
        xml = _CHAR_REF.sub(_ref, xml)
    return _CONTROL.sub("\ufffd".encode(), xml)


def clean_error_codes(xml: bytes) -> bytes:
    """Error codes calamine does not know → ``#N/A`` (same cell, same kind of value)."""
    if xml.find(b'"e"') < 0 and xml.find(b"'e'") < 0:
        return xml
    out: list[bytes] = []
    pos = 0
    for start, end, code in error_value_spans(xml):
        if code in CALAMINE_CODES or start < pos:
            continue
        out += [xml[pos:start], b"#N/A"]
        pos = end
    return b"".join(out) + xml[pos:] if out else xml


def readable_copy(data: bytes, parts: list[str]) -> bytes:
    """The package with ``parts`` cleaned (the others copied as they are)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    wanted = set(parts)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename in wanted:
                body = clean_error_codes(clean_text_part(body))
            dst.writestr(info.filename, body)
    return buf.getvalue()
