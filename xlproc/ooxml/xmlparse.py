"""Feeding expat a part of an untrusted file: every way its bytes fail to parse is an ExpatError.

Besides ``ExpatError``, ``Parse`` raises for the data itself when the XML declaration
names an encoding Python does not know (``LookupError``: ``encoding="UT-F-8"``), a
multi-byte one expat cannot use (``ValueError``: ``encoding="GBK"``) or a codec that
cannot decode (``UnicodeError``). Callers that treat a broken part as broken should not
need to know those; exceptions raised by their own handlers pass through unchanged.
"""

from __future__ import annotations

from typing import Any
from xml.parsers import expat

# Exactly these types, as pyexpat raises them; a handler's KeyError (a LookupError) or
# its own ValueError subclass is not the data's encoding and is re-raised.
_ENCODING_ERRORS = (LookupError, ValueError, UnicodeError, UnicodeDecodeError)


def parse_all(parser: Any, data: bytes) -> None:
    """``parser.Parse(data, True)``, with an unusable encoding declaration raised as ExpatError."""
    try:
        parser.Parse(data, True)
    except _ENCODING_ERRORS as exc:
        if type(exc) not in _ENCODING_ERRORS:
            raise
        error = expat.ExpatError(f"unusable encoding declaration: {exc}")
        error.code, error.lineno, error.offset = None, 1, 0  # the declaration is the first line
        raise error from None
