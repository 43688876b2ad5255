"""annotate with LibreOffice: re-saved inputs, and LibreOffice opening our output.

LibreOffice is our stand-in for "another office suite": it rewrites every part
(shared strings, style table, comment authors, VML), so these tests prove the
annotation neither depends on our own XML conventions nor produces XML another
suite rejects.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import openpyxl
import pytest
from annotate_fixtures import (
    SHEET1,
    SHEET2,
    assert_faithful,
    assert_sheet_xml_unchanged,
    build_rich_workbook,
    parts,
    sheet_parts,
)
from test_annotate import ANNOTATED, _report, projection

from xlproc.annotate import RESULTS_SHEET, annotate_workbook, read_explanations
from xlproc.io.office import convert
from xlproc.results import CheckReport

pytestmark = pytest.mark.libreoffice


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    return build_rich_workbook(tmp_path / "rich.xlsx")


def test_libreoffice_opens_the_annotation_and_keeps_comments(rich: Path, tmp_path: Path, lo_resave) -> None:
    out = annotate_workbook(rich, _report())
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    pdf = convert(out, "pdf", tmp_path / "pdf")
    assert pdf.stat().st_size > 1000
    back = lo_resave(out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    view = projection(back)
    assert view["sheets"][:4] == [SHEET1, SHEET2, "_form", RESULTS_SHEET]
    for sheet, cell in ANNOTATED:
        comment = view["cells"][f"{sheet}!{cell}"]["comment"]
        assert "xlproc审核:" in comment, (sheet, cell)
    assert view["cells"][f"{SHEET1}!B2"]["fill"] == "FFFFC7CE"
    assert view["cells"][f"{SHEET1}!A2"]["comment"] == "部门自己的批注：按决算口径"
    links = [r["link"] for r in view["results"][1:]]
    assert f"'{SHEET1}'!B2" in links
    ws = openpyxl.load_workbook(out)[RESULTS_SHEET]
    assert ws.protection.sheet and not ws["H3"].protection.locked and ws["F3"].protection.locked
    # LibreOffice keeps the 说明 column unlocked (it stores the empty cells as the column style)
    assert openpyxl.load_workbook(back)[RESULTS_SHEET].protection.sheet
    p = parts(back)
    sheet = p[sheet_parts(back)[RESULTS_SHEET]].decode()
    style = int(re.search(r'<col\b[^>]*max="8"[^>]*style="(\d+)"', sheet).group(1))
    xfs = re.findall(
        r"<xf\b[^>]*?(?:/>|>.*?</xf>)",
        re.search(r"<cellXfs.*?</cellXfs>", p["xl/styles.xml"].decode(), re.S).group(0),
        re.S,
    )
    assert re.search(r'locked="(0|false)"', xfs[style])


def test_fidelity_on_a_workbook_resaved_by_libreoffice(rich: Path, lo_resave) -> None:
    resaved = lo_resave(rich)
    out = annotate_workbook(resaved, _report())
    assert_faithful(resaved, out, ANNOTATED)
    assert_sheet_xml_unchanged(resaved, out, ANNOTATED)


def test_second_round_after_libreoffice(rich: Path, tmp_path: Path, lo_resave) -> None:
    """LibreOffice drops comment authors and renumbers styles: marks still go away."""
    first = annotate_workbook(rich, _report(), tmp_path / "r1.xlsx")
    resaved = lo_resave(first)
    fewer = CheckReport("r1.xlsx", findings=[_report().findings[4]])
    second = annotate_workbook(resaved, fewer, tmp_path / "r2.xlsx")
    view = projection(second)
    assert set(view["cells"]) == {f"{SHEET1}!A2", f"{SHEET1}!B3", f"{SHEET2}!B1"}
    assert view["cells"][f"{SHEET1}!B3"] == {"fill": "FFFFF2CC", "comment": "部门批注：含上年结转", "author": " "}
    assert view["sheets"].count(RESULTS_SHEET) == 1
    assert read_explanations(second) == {}
