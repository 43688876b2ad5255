"""Part names of an Open Packaging (OPC) package: relationships parts and their targets.

Shared by the annotator (xlsx packages) and the report's chart frames (docx packages).
"""

from __future__ import annotations

import functools
import posixpath


def rels_name(part: str) -> str:
    """The relationships part of ``part`` ("xl/workbook.xml" → "xl/_rels/workbook.xml.rels")."""
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def source_of(rels_part: str) -> str:
    """The part a relationships part belongs to ("xl/_rels/workbook.xml.rels" → "xl/workbook.xml",
    "_rels/.rels" → "": the package itself)."""
    folder, _, name = rels_part.rpartition("/")
    owner = posixpath.dirname(folder) if folder.endswith("_rels") else folder
    base = name.removesuffix(".rels")
    return f"{owner}/{base}" if owner else base


@functools.lru_cache(maxsize=4096)  # the same few targets in every workbook of a batch
def resolve(source_part: str, target: str) -> str:
    """Resolve a relationship target relative to its source part into a part name."""
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    base = posixpath.dirname(source_part)
    return posixpath.normpath(posixpath.join(base, target)).lstrip("/")


@functools.lru_cache(maxsize=4096)
def relative(source_part: str, part: str) -> str:
    """Target text for ``part`` as seen from ``source_part`` (both package-relative)."""
    base = [p for p in posixpath.dirname(source_part).split("/") if p]
    target = [p for p in part.split("/") if p]
    common = 0
    while common < min(len(base), len(target) - 1) and base[common] == target[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + target[common:])
