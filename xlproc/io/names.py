"""Department and source names made safe as file and folder names (Windows and Linux).

A department name comes from the workbook: it may hold ``../..``, ``a/b``, ``CON``,
control characters, a right-to-left override or 240 bytes of text. ``safe_component``
turns any text into one path component that means the same on both systems;
``name_key`` is how two names are compared (full- and half-width forms, spaces and
case do not make two departments).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

MAX_COMPONENT_BYTES = 120  # UTF-8 bytes; leaves room for suffixes within 255-byte limits
_SEPARATORS = re.compile(r'[\\/:*?"<>|]+')
# Cc (controls), Cf (format: bidi overrides and isolates, zero-width), Cs/Co/Cn (surrogates, private, unassigned)
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{d}{i}" for d in ("COM", "LPT") for i in "123456789¹²³"
}


def _clean(text: str, nfkc: bool = True) -> str:
    text = unicodedata.normalize("NFKC", text or "") if nfkc else (text or "")
    return "".join(ch for ch in text if unicodedata.category(ch) not in _DROP_CATEGORIES)


def safe_component(name: str, fallback: str, max_bytes: int = MAX_COMPONENT_BYTES, nfkc: bool = True) -> str:
    """One file/folder name component for ``name``: NFKC, no controls or bidi marks,
    separators replaced by "_", no "."/".." or reserved device names, at most
    ``max_bytes`` UTF-8 bytes (cut on a character boundary); ``fallback`` if nothing is left.
    ``nfkc=False`` keeps the characters as typed (a download keeps its （草稿）).
    """
    text = _SEPARATORS.sub("_", _clean(name, nfkc))
    text = " ".join(text.split())  # any run of blanks → one space
    text = text.strip(" ._")
    if text.split(".")[0].strip().upper() in _RESERVED:
        text = "_" + text
    raw = text.encode("utf-8")
    if len(raw) > max_bytes:
        text = raw[:max_bytes].decode("utf-8", errors="ignore").rstrip(" .")
    if not text or set(text) <= {".", "_"}:
        return fallback
    return text


def name_key(name: str) -> str:
    """How two department names are compared: NFKC (full/half width), blanks, case ignored."""
    return "".join(_clean(name).split()).casefold()


@functools.lru_cache(maxsize=32)
def _resolved(root: str) -> Path:
    return Path(root).resolve()


def inside(root: Path, path: Path) -> Path:
    """``path`` if it resolves inside ``root``; raises ``ValueError`` otherwise.

    ``root`` (an outbox, locked for the batch) is resolved once per process; ``path`` each time.
    """
    resolved = Path(path).resolve()
    base = _resolved(str(root))
    if resolved != base and base not in resolved.parents:
        raise ValueError(f"{path} is outside {root}")
    return path
