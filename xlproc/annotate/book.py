"""Workbook-level edits: the sheet list, the active tab, defined names, calc chain."""

from __future__ import annotations

import re
from typing import NamedTuple

from ..ooxml.xmltext import del_attr, escape, find_element, get_attr, ns_prefix, root_prefix, set_attr, tag_attrs
from .package import (
    CT_WORKSHEET,
    NS_REL,
    REL_CALC_CHAIN,
    REL_STYLES,
    REL_WORKSHEET,
    Package,
    UnsupportedPackageError,
    resolve,
)

_SHEET_SEL = re.compile(r'\stabSelected\s*=\s*"(1|true)"')


class SheetEntry(NamedTuple):  # a tuple: cheap to make, many per workbook
    """One <sheet> of workbook.xml."""

    name: str
    sheet_id: int
    rid: str
    state: str  # visible | hidden | veryHidden
    part: str  # "" for a sheet whose part is missing
    is_worksheet: bool
    start: int  # span of the <sheet> element in workbook.xml
    end: int


def main_part(pkg: Package) -> str:
    """The workbook part of the package (normally "xl/workbook.xml")."""
    rels = pkg.rels("_rels/.rels") if pkg.exists("_rels/.rels") else []
    main = next((r.target for r in rels if r.type.endswith("/officeDocument")), "xl/workbook.xml")
    if not pkg.exists(main):
        raise UnsupportedPackageError("no workbook part")
    return main


class Book:
    """workbook.xml of a package, with its sheets resolved to parts."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        main = main_part(pkg)
        self.part = main
        head = pkg.read_text(main)[:2000]
        if "purl.oclc.org/ooxml" in head:
            raise UnsupportedPackageError("Strict Open XML workbook")
        self.prefix = root_prefix(head, "workbook")
        self.reload()

    def reload(self) -> None:
        """Re-read the sheet list and the styles part from workbook.xml."""
        xml = self.pkg.read_text(self.part)
        rels = {r.id: r for r in self.pkg.rels(self.part)}
        self.rel_prefix = ns_prefix(xml, NS_REL)
        p = self.prefix
        # everything about sheets is in <sheets> (and the root tag before it)
        close = xml.find(f"</{p}sheets>")
        head = xml if close < 0 else xml[: close + len(p) + 9]
        # the prefix used on <sheet> elements (may be declared on each element)
        m = re.search(r'xmlns:([\w.-]+)\s*=\s*"' + re.escape(NS_REL) + '"', head)
        rid_attr = f"{m.group(1)}:id" if m else None
        self.sheets: list[SheetEntry] = []
        for m in re.finditer(r"<" + re.escape(p) + r"sheet\b[^<>]*>", head):
            attrs = tag_attrs(m.group(0))
            rid = attrs.get(rid_attr) if rid_attr else None
            rel = rels.get(rid or "")
            part = rel.target if rel and not rel.external else ""
            sid = attrs.get("sheetId", "")
            self.sheets.append(
                SheetEntry(
                    name=attrs.get("name") or "",
                    sheet_id=int(sid) if sid.isdigit() else 0,
                    rid=rid or "",
                    state=attrs.get("state") or "visible",
                    part=part,
                    is_worksheet=bool(rel and rel.type == REL_WORKSHEET),
                    start=m.start(),
                    end=m.end(),
                )
            )
        self.styles_part = next((r.target for r in rels.values() if r.type == REL_STYLES), "")
        self._by_name = {s.name: s for s in reversed(self.sheets)}

    @property
    def xml(self) -> str:
        """The current text of workbook.xml."""
        return self.pkg.read_text(self.part)

    def sheet(self, name: str) -> SheetEntry | None:
        """The entry of sheet ``name``, or None."""
        return self._by_name.get(name)

    def add_sheet(self, name: str, xml: str, state: str = "visible") -> SheetEntry:
        """Append a worksheet ``name`` with content ``xml``; return its entry."""
        part = self.pkg.unused_name("xl/worksheets/sheet{n}.xml")
        self.pkg.write_text(part, xml)
        self.pkg.set_override(part, CT_WORKSHEET)
        rid = self.pkg.add_rel(self.part, REL_WORKSHEET, part)
        sheet_id = max([s.sheet_id for s in self.sheets] + [0]) + 1
        wb = self.xml
        p = self.prefix
        rattr = f'{self.rel_prefix}:id="{rid}"' if self.rel_prefix else f'xmlns:r="{NS_REL}" r:id="{rid}"'
        st = f' state="{state}"' if state != "visible" else ""
        new = f'<{p}sheet name="{escape(name)}" sheetId="{sheet_id}"{st} {rattr}/>'
        close = wb.find(f"</{p}sheets>")
        if close < 0:
            raise UnsupportedPackageError("no </sheets>")
        self.pkg.write_text(self.part, wb[:close] + new + wb[close:])
        # appended at the end: earlier entries keep their positions
        entry = SheetEntry(name, sheet_id, rid, state, part, True, close, close + len(new))
        self.sheets.append(entry)
        self._by_name.setdefault(name, entry)
        return entry

    def set_print_titles(self, entry: SheetEntry, first_row: int, last_row: int) -> None:
        """Repeat rows ``first_row``..``last_row`` (1-based) at the top of every printed page of ``entry``.

        Adds the sheet-local defined name ``_xlnm.Print_Titles`` (removed with the sheet
        by ``remove_sheet``, like any name scoped to it).
        """
        index = self.sheets.index(entry)
        p = self.prefix
        sheet = "'" + entry.name.replace("'", "''") + "'"
        name = (
            f'<{p}definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
            f"{escape(sheet)}!${first_row}:${last_row}</{p}definedName>"
        )
        wb = self.xml
        close = wb.find(f"</{p}definedNames>")
        if close >= 0:
            at = close
            wb = wb[:close] + name + wb[close:]
        else:
            at = max(wb.find(f"</{p}sheets>") + len(f"</{p}sheets>"), 0)
            ext = wb.find(f"</{p}externalReferences>")
            if ext >= 0:
                at = ext + len(f"</{p}externalReferences>")
            wb = wb[:at] + f"<{p}definedNames>{name}</{p}definedNames>" + wb[at:]
        self.pkg.write_text(self.part, wb)
        sheets_end = wb.find(f"</{p}sheets>")
        if sheets_end < 0 or at < sheets_end + len(f"</{p}sheets>"):
            self.reload()  # text inserted where the sheet list is read from: read it again
        # else: the sheet list, its spans, the relationships and the namespace
        # declarations before </sheets> are unchanged (reload would find the same)

    def remove_sheet(self, entry: SheetEntry) -> None:
        """Remove a sheet we added: its part, relationships, names scoped to it."""
        index = self.sheets.index(entry)
        wb = self.xml
        wb = wb[: entry.start] + wb[entry.end :]
        wb = self._shift_local_names(wb, index)
        view = find_element(wb, f"{self.prefix}workbookView")
        if view is not None:
            tag = view.tag
            for attr in ("activeTab", "firstSheet"):
                v = get_attr(tag, attr)
                if v is not None and v.isdigit() and int(v) >= index and int(v) > 0:
                    tag = set_attr(tag, attr, str(int(v) - 1))
            wb = wb[: view.start] + tag + wb[view.start + len(view.tag) :]
        self.pkg.write_text(self.part, wb)
        if entry.part:
            for rel in self.pkg.rels(entry.part):
                if rel.target and not rel.external:
                    self.pkg.remove_part(rel.target)
            self.pkg.remove_part(entry.part)
        self.pkg.remove_rel(self.part, entry.rid)
        self.drop_calc_chain()
        self.reload()

    def _shift_local_names(self, wb: str, index: int) -> str:
        p = re.escape(self.prefix)

        def fix(m: re.Match[str]) -> str:
            tag = m.group(1)
            v = get_attr(tag, "localSheetId")
            if v is None or not v.isdigit():
                return m.group(0)
            if int(v) == index:
                return ""
            if int(v) > index:
                return set_attr(tag, "localSheetId", str(int(v) - 1)) + m.group(2)
            return m.group(0)

        # a defined name holds text only: [^<]* cannot run past the next tag (linear)
        return re.sub(r"(<" + p + r"definedName\b[^<>]*>)([^<]*</" + p + r"definedName>)", fix, wb)

    def drop_calc_chain(self) -> None:
        """Drop the calculation chain (a cache Excel rebuilds) after removing a sheet."""
        for rel in self.pkg.rels(self.part):
            if rel.type == REL_CALC_CHAIN:
                self.pkg.remove_part(rel.target)
                self.pkg.remove_rel(self.part, rel.id)

    def activate(self, entry: SheetEntry) -> list[str]:
        """Make ``entry`` the active tab; unselect other tabs. Return the parts changed."""
        index = self.sheets.index(entry)
        wb = self.xml
        view = find_element(wb, f"{self.prefix}workbookView")
        if view is None:
            # no view to point at our sheet: keep it unselected, or Excel would group it
            # with the first sheet (typing would then go into both)
            if entry.part:
                xml = self.pkg.read_text(entry.part)
                self.pkg.write_text(entry.part, _SHEET_SEL.sub("", xml, count=1))
            return []
        tag = set_attr(view.tag, "activeTab", str(index))
        self.pkg.write_text(self.part, wb[: view.start] + tag + wb[view.start + len(view.tag) :])
        changed = []
        for s in self.sheets:
            if s is entry or not s.part or not s.is_worksheet:
                continue
            head = self.pkg.peek_text(s.part, 1536)
            if "<sheetData" not in head and "</sheetViews>" not in head:
                head = self.pkg.read_text(s.part)
            if not _SHEET_SEL.search(head.split("<sheetData", 1)[0]):
                continue
            xml = self.pkg.read_byte_text(s.part)  # an ASCII edit: every other byte stays
            m = re.search(r"<([\w.-]+:)?sheetView\b[^<>]*>", xml)
            if m and _SHEET_SEL.search(m.group(0)):
                xml = xml[: m.start()] + del_attr(m.group(0), "tabSelected") + xml[m.end() :]
                self.pkg.write_text(s.part, xml, latin1=True)
                changed.append(s.part)
        return changed


def sheet_part_of(pkg: Package, book: Book, name: str) -> str:
    """Worksheet part of sheet ``name`` ("" if none)."""
    entry = book.sheet(name)
    return entry.part if entry and entry.is_worksheet and pkg.exists(entry.part) else ""


__all__ = ["Book", "SheetEntry", "main_part", "resolve", "sheet_part_of"]
