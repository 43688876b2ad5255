"""Unit-level guarantees behind the corpus: zip64 writing, changing inputs, the manifest,
names, sheet clipping, the package guard's own limits."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from xlproc.batch import BatchOptions, process_folder
from xlproc.errors import WorkbookError
from xlproc.io import safe_read
from xlproc.io.names import name_key, safe_component
from xlproc.ooxml import extent, zipout
from xlproc.ooxml.guard import Limits, PackageRefused, inspect_package, member_count

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_batch_helpers import stub_task, write_stub


def _read_back(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return {i.filename: zf.read(i) for i in zf.infolist()}


def test_zip_writer_writes_zip64_for_many_members() -> None:
    members = [zipout.Member(f"m/{i}.xml", (2024, 1, 1, 0, 0, 0), 0, body=b"<x/>") for i in range(70_000)]
    data = zipout.zip_bytes(members)
    back = _read_back(data)
    assert len(back) == 70_000 and back["m/69999.xml"] == b"<x/>"
    assert member_count(data) == 70_000


@pytest.mark.parametrize(
    ("zip64_limit", "sha256"),
    [
        (zipout.ZIP64_LIMIT, "49ff4c47321441be8e67871e83a35c400a76f60c30152eb9475f15a2bd10cbd6"),
        (1000, "6a2fccd64e968044f3e9500aff24a5885d7ea623dfae54dea5aef3acc1386ca7"),  # first member zip64
    ],
)
def test_zip_writer_bytes_do_not_change(zip64_limit: int, sha256: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the writer's bytes as first written (before the fast path for members without
    # zip64): stored members only, so the deflate backend does not matter
    import hashlib

    monkeypatch.setattr(zipout, "ZIP64_LIMIT", zip64_limit)
    members = [
        zipout.Member("[Content_Types].xml", (2024, 5, 6, 7, 8, 9), 0o644 << 16, body=b"<Types/>" * 200),
        zipout.Member("xl/审核结果.xml", (1979, 1, 1, 0, 0, 0), 0, body=b"<a/>"),
        zipout.Member("docProps/app.xml", (2024, 1, 1, 0, 0, 0), 0, body=b""),
    ]
    data = zipout.zip_bytes(members)
    assert hashlib.sha256(data).hexdigest() == sha256
    assert _read_back(data)["xl/审核结果.xml"] == b"<a/>"


def test_zip_writer_writes_zip64_sizes_and_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipout, "ZIP64_LIMIT", 3000)  # as if every size and offset were above 4 GiB
    big = b"<row>" + b"x" * 5000 + b"</row>"
    members = [
        zipout.Member("a.xml", (2024, 1, 1, 0, 0, 0), 0, body=big),
        zipout.make_entry("b.png", b"\x89PNG" + os.urandom(4000)),
        zipout.Member("c.xml", (2024, 1, 1, 0, 0, 0), 0, body=big),
    ]
    back = _read_back(zipout.zip_bytes(members))
    assert back["a.xml"] == big and back["c.xml"] == big and len(back["b.png"]) == 4004


def test_input_changing_while_read_is_retried_then_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK" + b"0" * 100)
    real_open = os.open
    calls = {"n": 0}

    def open_while_copying(p, flags, *args):
        calls["n"] += 1
        with open(path, "ab") as fh:  # a department still copying the file
            fh.write(b"1")
        return real_open(p, flags, *args)

    monkeypatch.setattr(safe_read.os, "open", open_while_copying)
    monkeypatch.setattr(safe_read.time, "sleep", lambda _s: None)
    with pytest.raises(WorkbookError, match="被修改"):
        safe_read.read_input(path)
    assert calls["n"] == 2  # read twice: once more after the first change


def test_input_larger_than_the_budget_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"0" * 5000)
    with pytest.raises(WorkbookError, match="过大"):
        safe_read.read_input(path, max_bytes=4096)


def test_file_replaced_after_the_read_is_not_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "out"
    path = write_stub(inbox, "a.xlsx", department="甲部门", score="90")

    def replacing_task(p, out, task, sha):
        result = stub_task(p, out, task, sha)
        write_stub(inbox, "a.xlsx", department="乙部门", score="70", pad="x" * 50)  # replaced meanwhile
        return result

    first = process_folder(inbox, outbox, BatchOptions(jobs=0, task=replacing_task))
    assert first.results[0].department == "甲部门"
    second = process_folder(inbox, outbox, BatchOptions(jobs=0, task=stub_task))
    assert not second.results[0].cached
    assert second.results[0].department == "乙部门"
    assert path.exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../..", "未填"),
        ("CON", "_CON"),
        ("lpt1.txt", "_lpt1.txt"),
        ("a/b\\c", "a_b_c"),
        ("示例\u202e局\u200b", "示例局"),
        ("ＡＢ局（２）", "AB局(2)"),
        ("  名称. ", "名称"),
    ],
)
def test_safe_component(name: str, expected: str) -> None:
    assert safe_component(name, "未填") == expected


def test_safe_component_caps_bytes_on_a_character_boundary() -> None:
    out = safe_component("长" * 200, "x")
    assert len(out.encode("utf-8")) <= 120 and out == "长" * 40


def test_width_variants_share_a_key() -> None:
    assert name_key("示例区ＡＢ局（２）") == name_key("示例区AB局(2)") == name_key(" 示例区ab局 (2)")


def test_clip_drops_far_rows_and_cells_only() -> None:
    xml = (
        b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>'
        b'<row r="1048576"><c r="B1048576"><v>3</v></c></row></sheetData>'
    )
    assert extent.reaches_far(xml) and extent.extent(xml) == (1048576, 16384)
    clipped, first = extent.clip(xml, 100, 26)
    assert clipped == b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    assert first == "XFD1"


def _reaches_far_by_fold(xml: bytes) -> bool:
    """The plain definition: fold every spelling onto ' r="…"', then search."""
    return extent._FAST.search(xml.translate(extent._FOLD)) is not None


# pieces of r attributes in every legal spelling, near misses (xmlns:r, ref=, other
# names ending in r) and the bytes between them
_PIECES = st.sampled_from(
    [
        b" ",
        b"\t",
        b"\r\n",
        b"\n",
        b"r",
        b"=",
        b'"',
        b"'",
        b"A",
        b"xfd",
        b"Z",
        b"1",
        b"99999",
        b"123456",
        b"xmlns:",
        b"http",
        b"<c",
        b"<row",
        b"ref",
        b"hdr",
        b"/>",
        b">",
    ]
)


@given(st.lists(_PIECES, max_size=40).map(b"".join))
@example(b'<worksheet xmlns:r="http://x"><c r="XFD1"/>')
@example(b"<c\tr = 'ab1'/>")
@example(b'<c\nr\r\n=\n"12345"/>')
@example(b'<a xmlns:r="ht"/><c hr="AB1"/>')
def test_reaches_far_is_the_folded_search(xml: bytes) -> None:
    # the guard's prefilter (``_MAYBE``) never misses what the fold and ``_FAST`` find
    assert extent.reaches_far(xml) is _reaches_far_by_fold(xml)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
@pytest.mark.parametrize("mark", ["<!DOCTYPE x>", '<!ENTITY x "y">'])
def test_guard_refuses_dtd_marks_in_any_part_and_encoding(mark: str, encoding: str) -> None:
    body = ("<a>" + "感叹号！" * 50 + mark + "</a>").encode(encoding)
    member = zipout.Member("xl/theme/theme1.xml", (2024, 1, 1, 0, 0, 0), 0, body=body)
    with pytest.raises(PackageRefused, match="DTD"):
        inspect_package(zipout.zip_bytes([member]))
    plain = body.replace(mark.encode(encoding), "<b>!</b>".encode(encoding))  # a "!" alone is fine
    inspect_package(zipout.zip_bytes([zipout.Member("xl/theme/theme1.xml", (2024, 1, 1, 0, 0, 0), 0, body=plain)]))


@pytest.mark.parametrize("kept", [True, False])
def test_far_sheets_are_measured_whether_the_guard_kept_them_or_not(kept: bool, monkeypatch) -> None:
    # a kept sheet is measured when the reader asks (Inspected.reaches_far); a part too
    # large to keep is measured while it streams through (Inspected.far): either way the
    # reader clips it; a theme's r="50000" is measured by neither path's clipping
    from xlproc.ooxml import guard
    from xlproc.reading.package import open_package

    from .corpus import GOOD, _in_sheet_data, edit

    sheet = "xl/worksheets/sheet2.xml"
    data = edit(GOOD, {sheet: _in_sheet_data(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')})
    if not kept:
        monkeypatch.setattr(guard, "KEEP_PART_BYTES", 0)
    guard._cached.cache_clear()  # results are cached by content
    inspected = inspect_package(data)
    assert (sheet in inspected.bodies) is kept and (sheet in inspected.far) is not kept
    assert inspected.reaches_far(sheet)
    assert ("xl/theme/theme1.xml" in inspected.far) is not kept  # streamed parts are all measured
    pkg = open_package(Path("far.xlsx"), data)
    assert [c[-7:] for c in pkg.clipped.values()] == ["1048576"] and pkg.read_data is not pkg.data
    monkeypatch.undo()
    guard._cached.cache_clear()
    plain = inspect_package(GOOD.read_bytes())
    assert plain.reaches_far("xl/theme/theme1.xml") and not plain.reaches_far(sheet)
    assert not open_package(GOOD, GOOD.read_bytes()).clipped


def test_guard_limits_are_configurable() -> None:
    data = zipout.zip_bytes([zipout.Member("a.xml", (2024, 1, 1, 0, 0, 0), 0, body=b"<a/>" * 2000)])
    inspect_package(data)
    with pytest.raises(PackageRefused, match="解压后过大"):
        inspect_package(data, Limits(max_part_bytes=1000))


def test_an_unusable_encoding_declaration_is_a_parse_error_and_handler_errors_pass() -> None:
    from xml.parsers import expat

    from xlproc.ooxml.xmlparse import parse_all

    for enc in ("UT-F-8", "GBK", "utf-32", "rot13", "idna"):
        with pytest.raises(expat.ExpatError) as caught:
            parse_all(expat.ParserCreate(), f'<?xml version="1.0" encoding="{enc}"?><a/>'.encode())
        assert caught.value.lineno == 1, enc
    parse_all(expat.ParserCreate(), b'<?xml version="1.0" encoding="cp1252"?><a>\xe9</a>')  # a codec expat can use

    class Own(ValueError):
        pass

    for error in (KeyError("x"), Own("mine")):

        def start(_name: str, _attrs: dict, error: Exception = error) -> None:
            raise error

        parser = expat.ParserCreate()
        parser.StartElementHandler = start
        with pytest.raises(type(error)):
            parse_all(parser, b"<a/>")


def test_operating_system_reasons_are_said_in_chinese(tmp_path: Path) -> None:
    import errno

    from xlproc.errors import os_reason
    from xlproc.reading.workbook import read_workbook

    assert os_reason(OSError(errno.ELOOP, "Too many levels of symbolic links")) == "符号链接循环指向自身"
    assert os_reason(PermissionError(errno.EACCES, "Permission denied")) == "没有访问权限"
    assert os_reason(OSError(errno.ENOSPC, "No space left on device")) == "磁盘空间不足"

    class Sharing(PermissionError):  # what Windows raises for a file Excel holds open
        winerror = 32

    assert "Excel" in os_reason(Sharing(errno.EACCES, "The process cannot access the file"))
    assert os_reason(OSError(errno.EPIPE, "Broken pipe")) == "Broken pipe"  # a rare one: as the system says it
    loop = tmp_path / "a.xlsx"
    loop.symlink_to(tmp_path / "b.xlsx")
    (tmp_path / "b.xlsx").symlink_to(loop)
    with pytest.raises(WorkbookError, match="符号链接循环"):
        read_workbook(loop)
    with pytest.raises(WorkbookError, match="这是一个文件夹"):
        read_workbook(tmp_path)
