"""The district's roster, one reader for ``xlproc batch --roster`` and the portal's import:
the files a bureau keeps (GBK CSV from Excel, a 序号 column, a header or none) give the
names; a file that cannot be used is a Chinese error naming it."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from xlproc.batch.roster import RosterError, read_roster, roster_names

NAMES = ["示例区统计局", "示例区卫生健康局", "示例区柳林镇人民政府"]


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("名单.csv", ("部门名称\n" + "\n".join(NAMES) + "\n").encode("gb18030")),  # Excel on Chinese Windows
        ("名单.csv", ("\ufeff部门名称\r\n" + "\r\n".join(NAMES) + "\r\n").encode("utf-8")),
        ("名单.csv", ("序号,部门名称\n" + "\n".join(f"{i},{n}" for i, n in enumerate(NAMES, 1))).encode("utf-8")),
        ("名单.csv", ("\n".join(f"{i},{n}" for i, n in enumerate(NAMES, 1))).encode("gb18030")),  # no header
        ("名单.csv", ("单位全称\n" + "\n".join(f"  {n} " for n in NAMES) + f"\n{NAMES[0]}\u3000\n\n").encode("utf-8")),
        ("名单.xlsx", _xlsx([["序号", "部门名称"]] + [[i, n] for i, n in enumerate(NAMES, 1)])),
        ("名单.xlsx", _xlsx([[i, n] for i, n in enumerate(NAMES, 1)])),
        ("名单.xlsx", _xlsx([[None, "单位名称"]] + [[None, n] for n in NAMES])),
    ],
)
def test_the_rosters_a_bureau_keeps_give_the_names(filename: str, data: bytes) -> None:
    assert roster_names(data, filename) == NAMES


@pytest.mark.parametrize(
    ("filename", "data", "words"),
    [
        ("名单.txt", b"x", "应为 .xlsx 或 .csv"),
        ("名单.csv", b"\n\n , \n", "是空的"),
        ("名单.csv", ("部门名称\n" + "长" * 101 + "\n").encode(), "过长"),
        ("名单.xlsx", b"PK\x03\x04 broken", "无法读取"),
        ("名单.xlsx", b"not a zip", "无法读取"),
        ("名单.csv", "部门名称\n".encode(), "没有部门名称"),
    ],
)
def test_a_roster_that_cannot_be_used_is_a_chinese_error_naming_it(filename: str, data: bytes, words: str) -> None:
    with pytest.raises(RosterError) as caught:
        roster_names(data, filename)
    assert words in str(caught.value) and (filename in str(caught.value) or words == "过长"), str(caught.value)


def test_read_roster_reads_the_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(("部门名称\n" + "\n".join(NAMES)).encode("gb18030"))
    assert read_roster(path) == NAMES
    with pytest.raises(RosterError, match="无法读取部门名单"):
        read_roster(tmp_path / "没有.csv")
