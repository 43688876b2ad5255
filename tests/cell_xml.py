"""Write cells into a generated workbook's sheet XML, as Excel or WPS would store them.

Tests need what the project's writer never produces: error values (``t="e"``),
formulas with cached results, typed-over formulas, invalid character references.
``put_cells`` replaces the ``<c>`` elements of the given cells (keeping each cell's
style) in a copy of the package; every other byte stays as it was.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from xlproc.reading.package import open_package
from xlproc.reading.parts import Parts


def sheet_part(path: Path, sheet: str) -> str:
    return Parts(open_package(path)).sheet_part(sheet)


def _cell_re(cell: str) -> re.Pattern[str]:
    return re.compile(r'<c r="' + cell + r'"([^>]*?)(/>|>.*?</c>)', re.S)


def put_cells(
    src: Path, dst: Path, edits: dict[str, dict[str, str]], replace: dict[str, tuple[str, str]] | None = None
) -> Path:
    """``edits``: sheet → {cell: '<t attr or "">|<inner xml>'}, e.g. {"B5": 'e|<v>#DIV/0!</v>'}.

    ``replace``: member → (old text, new text), a plain substitution in any part.
    """
    parts = {sheet_part(src, sheet): cells for sheet, cells in edits.items()}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in parts:
                xml = data.decode("utf-8")
                for cell, spec in parts[info.filename].items():
                    t, inner = spec.split("|", 1)
                    m = _cell_re(cell).search(xml)
                    assert m, f"{cell} not in {info.filename}"
                    style = re.search(r'\ss="\d+"', m.group(1))
                    attrs = (style.group(0) if style else "") + (f' t="{t}"' if t else "")
                    xml = xml[: m.start()] + f'<c r="{cell}"{attrs}>{inner}</c>' + xml[m.end() :]
                data = xml.encode("utf-8")
            if replace and info.filename in replace:
                old, new = replace[info.filename]
                assert old.encode() in data, f"{old!r} not in {info.filename}"
                data = data.replace(old.encode(), new.encode())
            zout.writestr(info, data)
    return dst
