"""The styles part: add fills, fonts, borders and cell formats (xf), reusing equal ones.

An annotated cell keeps everything of its own format (font, border, number format,
protection, alignment): its xf is cloned with only the fill replaced. Entries are
appended, never renumbered, so every other cell's style id stays valid; an equal
entry already present (e.g. from a previous round) is reused instead of added again.
"""

from __future__ import annotations

import re
from typing import ClassVar

from ..ooxml.xmltext import find_element, get_attr, iter_spans, set_attr, set_count
from .package import Package, UnsupportedPackageError

ERROR_FILL_RGB = "FFFFC7CE"  # light red: 强制性 (must fix)
# light orange: 提示性 (explain or confirm). Clearly apart from the template's cream input
# fill, blue formula fill and grey labels and from the error red (tests/test_annotate_colours.py
# measures the colour distances and the text contrast).
WARNING_FILL_RGB = "FFFFB84D"
LEGACY_FILL_RGBS = ("FFFFEB9C",)  # the warning fill of earlier versions: still ours in a later round


def solid_fill(rgb: str) -> str:
    """A solid pattern fill of colour ``rgb`` (ARGB hex)."""
    return f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/><bgColor indexed="64"/></patternFill></fill>'


ERROR_FILL = solid_fill(ERROR_FILL_RGB)
WARNING_FILL = solid_fill(WARNING_FILL_RGB)
OUR_FILLS = (ERROR_FILL, WARNING_FILL)


def normalize(xml: str) -> str:
    """Comparable form of a small style element (prefix-free, whitespace-free)."""
    xml = re.sub(r"<(/?)[\w.-]+:", r"<\1", xml)
    return re.sub(r">\s+<", "><", xml).strip()


class Styles:
    """Editable view of xl/styles.xml (cellXfs, fills, fonts, borders)."""

    _LISTS: ClassVar[dict[str, str]] = {"cellXfs": "xf", "fills": "fill", "fonts": "font", "borders": "border"}

    def __init__(self, pkg: Package, part: str):
        if not part or not pkg.exists(part):
            raise UnsupportedPackageError("no styles part")
        self.pkg = pkg
        self.part = part
        xml = pkg.read_text(part)
        self.prefix = ""
        m = re.search(r"<([\w.-]+:)?styleSheet\b", xml)
        if m and m.group(1):
            self.prefix = m.group(1)
        self.items: dict[str, list[str]] = {}
        self._added: dict[str, list[str]] = {k: [] for k in self._LISTS}
        for container, child in self._LISTS.items():
            self.items[container] = self._children(xml, container, child)
        # exact text → first index: finds our own earlier entries (idempotent rounds)
        # without normalising every entry of a large style table
        self._index: dict[str, dict[str, int]] = {
            k: {v: i for i, v in reversed(list(enumerate(items)))} for k, items in self.items.items()
        }

    def _children(self, xml: str, container: str, child: str) -> list[str]:
        """The entries of ``container`` as text, in order."""
        p = self.prefix
        box = find_element(xml, p + container)
        if box is None or box.empty:
            return []
        end = box.end - len(p + container) - 3
        q = re.escape(p + child)
        # one scan for all entries: <xf .../> or <xf ...>…</xf> (entries never nest)
        opener = re.compile(r"<()" + q + r"(?:\s[^<>]*)?/?>")
        out = [m.group(0) for m in iter_spans(xml[:end], opener, f"</{p}{child}>", box.inner_start)]
        # every entry start must belong to an entry read: else one could not be closed
        if xml.count(f"<{p}{child}", box.inner_start, end) != len(out):
            raise UnsupportedPackageError(f"unterminated <{child}>")
        return out

    def count(self, container: str) -> int:
        """Number of entries in ``container``."""
        return len(self.items[container])

    def get(self, container: str, index: int) -> str:
        """Entry ``index`` of ``container`` ("" if out of range)."""
        items = self.items[container]
        return items[index] if 0 <= index < len(items) else ""

    def find(self, container: str, xml: str) -> int | None:
        """Index of an entry with exactly this text, or None."""
        return self._index[container].get(xml)

    def ensure(self, container: str, xml: str) -> int:
        """Index of an entry equal to ``xml``, appending it if there is none."""
        if self.prefix:
            xml = re.sub(r"<(/?)(?![\w.-]+:)", lambda m: f"<{m.group(1)}{self.prefix}", xml)
        found = self.find(container, xml)
        if found is not None:
            return found
        self.items[container].append(xml)
        self._added[container].append(xml)
        self._index[container][xml] = len(self.items[container]) - 1
        return len(self.items[container]) - 1

    def fill_of(self, xf_index: int) -> str:
        """The <fill> element of cell format ``xf_index``."""
        xf = self.get("cellXfs", xf_index)
        fid = get_attr(xf, "fillId") if xf else None
        return self.get("fills", int(fid)) if fid and fid.isdigit() else ""

    def with_fill(self, xf_index: int, fill_xml: str, apply: str | None = "1") -> int:
        """Index of an xf equal to ``xf_index`` but with fill ``fill_xml``."""
        xf = self.get("cellXfs", xf_index) or self.get("cellXfs", 0)
        if not xf:
            raise UnsupportedPackageError("no cellXfs")
        fid = self.ensure("fills", fill_xml)
        tag_end = xf.index(">") + 1
        tag = set_attr(xf[:tag_end], "fillId", str(fid))
        tag = re.sub(r'\sapplyFill\s*=\s*"[^"]*"', "", tag) if apply is None else set_attr(tag, "applyFill", apply)
        return self.ensure("cellXfs", tag + xf[tag_end:])

    def is_our_fill(self, xf_index: int) -> bool:
        """Whether the cell format shows one of our fills (by colour: another suite
        re-saving the workbook rewrites the fill's other details)."""
        fill = normalize(self.fill_of(xf_index))
        if 'patternType="solid"' not in fill:
            return False
        m = re.search(r'<fgColor\b[^<>]*\srgb="([0-9A-Fa-f]{6,8})"', fill)
        ours = (ERROR_FILL_RGB, WARNING_FILL_RGB, *LEGACY_FILL_RGBS)
        return bool(m) and m.group(1).upper()[-6:] in {rgb[-6:] for rgb in ours}

    def save(self) -> None:
        """Write appended entries back (only if something was added)."""
        if not any(self._added.values()):
            return
        xml = self.pkg.read_text(self.part)
        p = self.prefix
        # fonts, fills, borders before cellXfs in the file; edit from the end backwards
        order = sorted(self._LISTS, key=lambda c: -(xml.find(f"<{p}{c}") if f"<{p}{c}" in xml else -1))
        for container in order:
            added = self._added[container]
            if not added:
                continue
            box = find_element(xml, p + container)
            if box is None:
                raise UnsupportedPackageError(f"no <{container}>")
            if box.empty:
                tag = box.tag[:-2].rstrip() + ">"
                tag = set_attr(tag, "count", str(len(self.items[container]))) if "count" in tag else tag
                xml = xml[: box.start] + tag + "".join(added) + f"</{p}{container}>" + xml[box.end :]
            else:
                close = box.end - len(p + container) - 3
                xml = xml[:close] + "".join(added) + xml[close:]
                xml = set_count(xml, box, container, len(self.items[container]))
            self._added[container] = []
        self.pkg.write_text(self.part, xml)
