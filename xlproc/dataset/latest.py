"""A department that filed twice counts once: its latest workbook.

Standard library only (the batch parent uses it before any frame is built).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..io.names import name_key as department_key  # one comparison everywhere (NFKC, blanks, zero-width, case)


def superseded(items: Iterable[tuple[str, str, float]]) -> dict[str, str]:
    """Earlier workbook → the one that replaces it, for departments with several.

    ``items``: (source, department, when) of every readable workbook; ``when`` is the
    file's modification time. The latest counts; on a tie the later source name.
    """
    groups: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for source, department, when in items:
        if department:
            groups[department_key(department)].append((when, source))
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort()
        kept = members[-1][1]
        for _when, source in members[:-1]:
            out[source] = kept
    return out
