"""annotate: the package-level fast paths (bytes given, stored small parts, byte-exact sheets).

The batch already holds each workbook's bytes, so ``annotate_workbook`` and
``read_explanations`` take them instead of reading the file again; worksheets are
edited as their raw bytes, so what we do not touch stays byte for byte (a byte-order
mark included); tiny edited parts are stored rather than deflated.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from annotate_fixtures import assert_faithful, assert_well_formed, build_rich_workbook, parts
from test_annotate import ANNOTATED, _report

from xlproc.annotate import RESULTS_SHEET, annotate_workbook, read_explanations
from xlproc.ooxml.zipout import STORE_BELOW


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    return build_rich_workbook(tmp_path / "rich.xlsx")


def test_given_bytes_are_used_instead_of_the_file(rich: Path, tmp_path: Path) -> None:
    data = rich.read_bytes()
    from_file = annotate_workbook(rich, _report(), tmp_path / "from_file.xlsx")
    # the path names the workbook (default output, messages) but is never read
    ghost = tmp_path / "elsewhere" / "rich.xlsx"
    from_bytes = annotate_workbook(ghost, _report(), tmp_path / "from_bytes.xlsx", data=data)
    assert parts(from_bytes) == parts(from_file)
    assert annotate_workbook(ghost, _report(), data=data) == tmp_path / "elsewhere" / "rich_审核.xlsx"
    assert not ghost.exists()

    wb = openpyxl.load_workbook(from_file)
    wb[RESULTS_SHEET]["H3"] = "已核对"
    wb.save(tmp_path / "answered.xlsx")
    answered = (tmp_path / "answered.xlsx").read_bytes()
    expected = read_explanations(tmp_path / "answered.xlsx")
    assert expected and read_explanations(ghost, data=answered) == expected
    assert read_explanations(ghost, data=data) == {}  # never annotated: nothing to read


def test_small_edited_parts_are_stored_and_the_zip_is_sound(rich: Path) -> None:
    out = annotate_workbook(rich, _report())
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        infos = {i.filename: i for i in z.infolist()}
    with zipfile.ZipFile(rich) as z:
        original = {i.filename: i for i in z.infolist()}
    before, after = parts(rich), parts(out)
    edited = {n for n in after if n not in before or after[n] != before[n]}
    assert {"xl/comments1.xml", "xl/worksheets/_rels/sheet2.xml.rels"} <= edited
    for name, info in infos.items():
        if name not in edited:  # copied as it was, compression and all
            assert (info.compress_type, info.compress_size) == (
                original[name].compress_type,
                original[name].compress_size,
            ), name
        elif info.file_size < STORE_BELOW:
            assert info.compress_type == zipfile.ZIP_STORED, name
        else:
            assert info.compress_type == zipfile.ZIP_DEFLATED, name
    assert any(infos[n].compress_type == zipfile.ZIP_DEFLATED for n in edited)


def test_worksheet_bytes_outside_the_edits_are_kept_exactly(rich: Path, tmp_path: Path) -> None:
    """A sheet with a byte-order mark and Chinese text: only our ASCII edits differ."""
    bom = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(rich) as zin, zipfile.ZipFile(bom, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = b"\xef\xbb\xbf" + data.replace(
                    b"<worksheet ", "<!--部门：网信办-->".encode() + b"<worksheet ", 1
                )
            zout.writestr(info, data)
    out = annotate_workbook(bom, _report())
    before = parts(bom)["xl/worksheets/sheet1.xml"]
    after = parts(out)["xl/worksheets/sheet1.xml"]
    assert after.startswith(b"\xef\xbb\xbf<?xml")

    # remove what annotation adds or changes (style ids, created cells, legacyDrawing,
    # the tab no longer selected)
    # and the two sides must be the same bytes, Chinese text and all
    def strip(xml: bytes) -> bytes:
        xml = re.sub(rb'\s(s|tabSelected)="\d+"', b"", xml)
        xml = re.sub(rb'<c r="[A-Z]+\d+"/>', b"", xml)
        return re.sub(rb"<legacyDrawing\b[^>]*/>", b"", xml)

    assert strip(after) == strip(before)
    assert "<!--部门：网信办-->".encode() in after
    assert_faithful(bom, out, ANNOTATED)
    assert_well_formed(out)


@pytest.mark.parametrize("names", [True, False])
def test_print_titles_keep_the_sheet_list_a_fresh_read_gives(rich: Path, names: bool) -> None:
    # set_print_titles re-reads workbook.xml's sheet list only when it inserted text
    # before </sheets>; after it, the book must know what a fresh read of the part finds
    from xlproc.annotate.book import Book
    from xlproc.annotate.package import Package

    pkg = Package(rich)
    book = Book(pkg)
    if not names:
        xml = book.xml
        pkg.write_text(book.part, re.sub(r"<definedNames>.*?</definedNames>", "", xml, flags=re.S))
        book.reload()
    assert ("<definedNames>" in book.xml) is names
    entry = book.add_sheet("审核结果", '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
    book.set_print_titles(entry, 2, 2)
    assert re.search(r'<definedName name="_xlnm.Print_Titles" localSheetId="(\d+)">', book.xml)[1] == str(
        book.sheets.index(entry)
    )
    fresh = Book(pkg)
    assert (book.sheets, book.styles_part, book.rel_prefix) == (fresh.sheets, fresh.styles_part, fresh.rel_prefix)
    assert [book.xml[s.start : s.end] for s in book.sheets] == [fresh.xml[s.start : s.end] for s in fresh.sheets]
