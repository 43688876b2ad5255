"""Generator of hostile workbooks, built from a real sample by rewriting its package.

Each case is (file name, bytes, expectation). ``Expect.refused`` cases must fail with
a Chinese message containing ``words``; ``Expect.handled`` cases may succeed or fail,
but never with a traceback, a hang, or a process above the memory limit. The zip
writer here is deliberately raw: it can lie about sizes and CRCs, repeat names and
write any member name, which ``zipfile`` refuses to do.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "samples" / "inbox" / "02_示例区司法局.xlsx"
GOOD_DEPARTMENT = "示例区司法局"
FINDINGS = ROOT / "samples" / "inbox" / "01_中共保定市徐水区委网络安全和信息化委员会办公室.xlsx"


@dataclass(frozen=True)
class Case:
    name: str  # file name in the inbox
    data: bytes
    refused: bool  # must fail with a message containing ``words``
    words: str = ""
    kind: str = ""


@dataclass
class RawMember:
    name: str
    body: bytes
    declared_size: int | None = None  # lie about the inflated size
    crc: int | None = None  # lie about the CRC
    stored: bool = False
    central_name: str | None = None  # lie about the name in the central directory


def read_members(path: Path) -> list[RawMember]:
    with zipfile.ZipFile(path) as zf:
        return [RawMember(i.filename, zf.read(i)) for i in zf.infolist()]


def write_zip(members: list[RawMember]) -> bytes:
    """A zip of ``members`` as given (zip64 end records when there are more than 65,535)."""
    out = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        if m.stored:
            payload, method = m.body, 0
        else:
            c = zlib.compressobj(1, zlib.DEFLATED, -15)
            payload, method = c.compress(m.body) + c.flush(), 8
        crc = zlib.crc32(m.body) if m.crc is None else m.crc
        size = len(m.body) if m.declared_size is None else m.declared_size
        offset = len(out)
        out += struct.pack(
            "<4sHHHHHLLLHH", b"PK\x03\x04", 20, 0x800, method, 0, 0x21, crc, len(payload), size, len(name), 0
        )
        out += name + payload
        central += struct.pack(
            "<4sHHHHHHLLLHHHHHLL",
            b"PK\x01\x02",
            20,
            20,
            0x800,
            method,
            0,
            0x21,
            crc,
            len(payload),
            size,
            len(name if m.central_name is None else m.central_name.encode("utf-8")),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name if m.central_name is None else m.central_name.encode("utf-8")
    start = len(out)
    out += central
    n = len(members)
    if n > 0xFFFF:
        z64 = len(out)
        out += struct.pack("<4sQHHLLQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(central), start)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, z64, 1)
        out += struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(central), start, 0)
    else:
        out += struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, n, n, len(central), start, 0)
    return bytes(out)


def edit(src: Path, changes: dict, extra: list[RawMember] | None = None, **overrides) -> bytes:
    """Members of ``src`` with ``changes`` (name → bytes or fn(bytes) → bytes or None to drop)."""
    members = []
    for m in read_members(src):
        if m.name in changes:
            change = changes[m.name]
            if change is None:
                continue
            m.body = change(m.body) if callable(change) else change
        if m.name in overrides:
            for k, v in overrides[m.name].items():
                setattr(m, k, v)
        members.append(m)
    return write_zip(members + list(extra or []))


def _in_sheet_data(extra: bytes):
    return lambda xml: xml.replace(b"</sheetData>", extra + b"</sheetData>")


def _department(name: str):
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")
    return lambda xml: xml.replace(GOOD_DEPARTMENT.encode(), escaped)


def _declared(encoding: str):
    """The part with its XML declaration naming ``encoding`` (added when it has none)."""
    decl = b'<?xml version="1.0" encoding="%s" standalone="yes"?>' % encoding.encode()
    return lambda xml: re.sub(rb"^<\?xml[^>]*\?>", decl, xml) if xml.startswith(b"<?xml") else decl + xml


def _strict(xml: bytes) -> bytes:
    return xml.replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    )


def _table_to_the_end(xml: bytes) -> bytes:
    text = xml.decode()
    m = re.search(r'<definedName name="T_[^"]*">([^<]*)</definedName>', text)
    assert m, "the sample declares its tables as T_ names"
    far = re.sub(r"\$[A-Z]+\$(\d+)</definedName>", "$XFD$1048576</definedName>", m.group(0))
    return text.replace(m.group(0), far).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&x;</workbook>'
)
COMMENTS_REL = (
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rIdC1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" '
    b'Target="../comments1.xml"/></Relationships>'
)


def redos_comments() -> bytes:
    unit = b'<comment ref="B5" authorId="0"><text><r><t>x'
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<authors><author>a</author></authors><commentList>" + unit * 40_000 + b"</commentList></comments>"
    )


def build(folder: Path) -> list[Case]:
    """Write every hostile workbook into ``folder``; return the cases."""
    cases: list[Case] = []

    def add(name: str, data: bytes, refused: bool, words: str = "", kind: str = "") -> None:
        cases.append(Case(name, data, refused, words, kind or name))

    sheet = "xl/worksheets/sheet2.xml"
    # -- bombs by part -------------------------------------------------------------------
    add("bomb_worksheet.xlsx", edit(GOOD, {sheet: lambda x: x + b" " * (129 * MiB)}), True, "解压后过大", "bomb")
    add(
        "bomb_styles_lying_size.xlsx",
        edit(GOOD, {"xl/styles.xml": lambda x: x + b" " * (40 * MiB)}, **{"xl/styles.xml": {"declared_size": 6656}}),
        True,
        "超过记录的大小",
        "bomb",
    )
    add(
        "bomb_sharedstrings_ratio.xlsx",
        edit(GOOD, {"xl/sharedStrings.xml": lambda x: x + b"<!-- " + b"a" * (20 * MiB) + b" -->"}),
        True,
        "压缩比异常",
        "bomb",
    )
    add(
        "bomb_unread_part.xlsx",
        edit(GOOD, {}, [RawMember("xl/media/unused.bin", b"\0" * (60 * MiB), declared_size=100)]),
        True,
        "超过记录的大小",
        "bomb",
    )
    add(
        "bomb_total.xlsx",
        # 30 parts of 9 MiB declared, each under the ratio limit: only the total is too much
        edit(
            GOOD,
            {},
            [
                RawMember(f"xl/media/p{i}.bin", os.urandom(48 * 1024), declared_size=9 * MiB, stored=True)
                for i in range(30)
            ],
        ),
        True,
        "总大小",
        "bomb",
    )
    # -- huge dimensions -------------------------------------------------------------------
    add(
        "far_cell_XFD1048576.xlsx",
        edit(GOOD, {sheet: _in_sheet_data(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')}),
        False,
        kind="dimension",
    )
    add(
        "far_cell_odd_spelling.xlsx",
        edit(GOOD, {sheet: _in_sheet_data(b"<row r='1048576'><c\nr = 'xfd1048576'><v>1</v></c></row>")}),
        False,
        kind="dimension",
    )
    add("table_range_beyond_sheet.xlsx", edit(GOOD, {"xl/workbook.xml": _table_to_the_end}), False, kind="dimension")
    # A far cell and relationships that do not parse: which sheet to clip cannot be known.
    far_row = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    rels = "xl/_rels/workbook.xml.rels"
    add(
        "far_cell_broken_rels.xlsx",
        edit(
            GOOD, {sheet: _in_sheet_data(far_row), rels: lambda x: x.replace(b"<Relationship ", b"<Relationship <", 1)}
        ),
        True,
        "工作表关系部件",
        "dimension",
    )
    add(
        "far_cell_deep_rels.xlsx",
        edit(
            GOOD,
            {
                sheet: _in_sheet_data(far_row),
                rels: lambda x: x.replace(b"</Relationships>", b"<x>" * 5000 + b"</x>" * 5000 + b"</Relationships>"),
            },
        ),
        True,
        "嵌套过深",
        "dimension",
    )
    add(
        "lying_dimension.xlsx",
        edit(GOOD, {sheet: lambda x: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', x)}),
        False,
        kind="dimension",
    )
    add(
        "many_rows.xlsx",
        edit(
            GOOD,
            {
                sheet: _in_sheet_data(
                    b"".join(b'<row r="%d"><c r="B%d"><v>1</v></c></row>' % (r, r) for r in range(30, 9030))
                )
            },
        ),
        False,
        kind="dimension",
    )
    # -- members that are not what the central directory says ---------------------------------
    add(
        "folder_entry_hiding_a_sheet.xlsx",
        edit(GOOD, {}, **{sheet: {"central_name": sheet[:-1] + "/"}}),
        True,
        "不一致",
        "names",
    )
    add("nul_in_member_name.xlsx", edit(GOOD, {}, [RawMember("xl/\x00evil.xml", b"<x/>")]), True, "空字符", "names")
    add(
        "folder_entry_with_data.xlsx",
        edit(GOOD, {}, [RawMember("xl/media/", b"data hidden in a folder")]),
        True,
        "文件夹却含有数据",
        "names",
    )
    # -- encoding declarations expat cannot use (unknown, multi-byte, not a text codec) ---------
    for part, short in (
        ("xl/workbook.xml", "workbook"),
        ("xl/_rels/workbook.xml.rels", "rels"),
        (sheet, "sheet"),
        ("xl/styles.xml", "styles"),
    ):
        for enc in ("UT-F-8", "GBK", "rot13"):
            # workbook.xml names the sheets and cells: refused naming the part; the others are read
            refused = short == "workbook"
            add(f"encoding_{short}_{enc}.xlsx", edit(GOOD, {part: _declared(enc)}), refused, part * refused, "encoding")
    add(
        "far_cell_rels_encoding.xlsx",
        edit(GOOD, {sheet: _in_sheet_data(far_row), rels: _declared("UT-F-8")}),
        True,
        "工作表关系部件",
        "dimension",
    )
    # -- deep XML ----------------------------------------------------------------------------
    add(
        "deep_xml_worksheet.xlsx",
        edit(GOOD, {sheet: _in_sheet_data(b"<x>" * 200_000 + b"</x>" * 200_000)}),
        False,
        kind="deep",
    )
    add(
        "deep_xml_workbook.xlsx",
        edit(
            GOOD,
            {"xl/workbook.xml": lambda x: x.replace(b"</workbook>", b"<x>" * 5000 + b"</x>" * 5000 + b"</workbook>")},
        ),
        True,
        "嵌套过深",
        "deep",
    )
    # -- entity tricks -------------------------------------------------------------------------
    add("billion_laughs.xlsx", edit(GOOD, {"xl/sharedStrings.xml": BILLION_LAUGHS}), True, "DTD", "entity")
    add("external_entity.xlsx", edit(GOOD, {"xl/workbook.xml": EXTERNAL_ENTITY}), True, "DTD", "entity")
    # -- ReDoS-shaped text ---------------------------------------------------------------------
    add(
        "redos_comments.xlsx",
        edit(
            FINDINGS,
            {},
            [RawMember("xl/comments1.xml", redos_comments())]
            + [RawMember(f"xl/worksheets/_rels/sheet{i}.xml.rels", COMMENTS_REL) for i in range(2, 16)],
        ),
        False,
        kind="redos",
    )
    add(
        "redos_shared_strings.xlsx",
        edit(
            GOOD,
            {
                "xl/sharedStrings.xml": lambda x: x.replace(
                    b"</sst>", b"<si><t>" + b"&lt;t &amp;#" * 30_000 + b"</t></si></sst>"
                )
            },
        ),
        False,
        kind="redos",
    )
    # -- bad character references, extreme numbers ----------------------------------------------
    bad_refs = b"&#xD800;&#1114112;&#99999999999999999999;&#0;&#x1F;"
    add(
        "bad_character_references.xlsx",
        edit(
            GOOD,
            {
                "xl/sharedStrings.xml": lambda x: x.replace(
                    GOOD_DEPARTMENT.encode(), GOOD_DEPARTMENT.encode() + bad_refs, 1
                )
            },
        ),
        False,
        kind="charref",
    )
    huge = b"1" + b"0" * 40
    add(
        "extreme_numbers.xlsx",
        edit(
            GOOD,
            {
                sheet: lambda x: re.sub(
                    rb"<v>(\d+(?:\.\d+)?)</v>",
                    lambda m: b"<v>1E+308</v>" if len(m.group(1)) > 3 else b"<v>" + huge + b"</v>",
                    x,
                )
            },
        ),
        False,
        kind="numbers",
    )
    # -- zip member tricks --------------------------------------------------------------------------
    add("member_dotdot.xlsx", edit(GOOD, {}, [RawMember("../../evil.xml", b"<x/>")]), True, "成员名", "zip")
    add("member_absolute.xlsx", edit(GOOD, {}, [RawMember("/etc/evil.xml", b"<x/>")]), True, "绝对路径", "zip")
    add("member_backslash.xlsx", edit(GOOD, {}, [RawMember("xl\\evil.xml", b"<x/>")]), True, "反斜杠", "zip")
    add("member_duplicate.xlsx", edit(GOOD, {}, [RawMember("xl/styles.xml", b"<x/>")]), True, "重复", "zip")
    add("member_duplicate_case.xlsx", edit(GOOD, {}, [RawMember("XL/Styles.xml", b"<x/>")]), True, "重复", "zip")
    add("member_bad_crc.xlsx", edit(GOOD, {}, **{"docProps/app.xml": {"crc": 0x12345678}}), True, "校验失败", "zip")
    add(
        "members_70000.xlsx",
        edit(GOOD, {}, [RawMember(f"x/{i}", b"", stored=True) for i in range(70_000)]),
        True,
        "成员过多",
        "zip",
    )
    # -- macro packages -------------------------------------------------------------------------------
    add(
        "macro_vba.xlsx",
        edit(GOOD, {}, [RawMember("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 512)]),
        True,
        "宏",
        "macro",
    )
    add(
        "macro_content_type.xlsx",
        edit(
            GOOD,
            {
                "[Content_Types].xml": lambda x: x.replace(
                    b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                )
            },
        ),
        True,
        "宏",
        "macro",
    )
    add(
        "macro_sheet.xlsx",
        edit(GOOD, {}, [RawMember("xl/macrosheets/sheet1.xml", b"<xm:macrosheet/>")]),
        True,
        "宏",
        "macro",
    )
    add("strict_ooxml.xlsx", edit(GOOD, {"xl/workbook.xml": _strict}), True, "Strict", "strict")
    # -- hostile department names -------------------------------------------------------------------------
    for i, dept in enumerate(
        [
            "../..",
            "CON",
            "a/b\\c",
            "示例\u202e局\u200b",
            "示例区司法局".translate({ord("区"): "區"}) + "\x07",
            "长" * 120,
        ]
    ):
        add(f"dept_name_{i}.xlsx", edit(GOOD, {"xl/sharedStrings.xml": _department(dept)}), False, kind="names")
    add(
        "dept_twin_halfwidth.xlsx",
        edit(GOOD, {"xl/sharedStrings.xml": _department("示例区AB局(2)")}),
        False,
        kind="twins",
    )
    add(
        "dept_twin_fullwidth.xlsx",
        edit(GOOD, {"xl/sharedStrings.xml": _department("示例区ＡＢ局（２）")}),
        False,
        kind="twins",
    )
    long_name = "很长的文件名" * 13 + ".xlsx"  # 240 UTF-8 bytes
    add(long_name, GOOD.read_bytes(), False, kind="names")
    add("CON.xlsx", GOOD.read_bytes(), False, kind="names")
    for case in cases:
        (folder / case.name).write_bytes(case.data)
    return cases
