"""annotate: fills, comments, the 审核结果 sheet, fidelity, rounds, explanations.

These tests use a hand-built report on a rich fixture workbook (image, chart,
x14 data validation, department comments …), so they need neither the reader nor
the rule catalogue; tests/test_annotate_e2e.py runs the real pipeline.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path
from xml.parsers import expat

import openpyxl
import pytest
from annotate_fixtures import (
    SHEET1,
    SHEET2,
    X14_DV,
    answer_in_results,
    assert_faithful,
    assert_sheet_xml_unchanged,
    assert_well_formed,
    build_rich_workbook,
    parts,
)

from xlproc.annotate import (
    AUTHOR,
    RESULTS_SHEET,
    STATE_SHEET,
    WARNING_FILL_RGB,
    annotate,
    annotate_workbook,
    apply_explanations,
    read_explanations,
)
from xlproc.errors import XlprocError
from xlproc.results import CheckReport, Finding


def _report(source: str = "rich.xlsx") -> CheckReport:
    findings = [
        Finding("sum.income", "error", SHEET1, "B2", "收入合计 197.06 ≠ 各项之和 197.16，相差 0.10 万元"),
        Finding("dev.income", "warning", SHEET1, "B2", "收入合计较上年增长 35.20%，请说明原因"),
        Finding("dev.other", "warning", SHEET1, "B3", "一般公共预算拨款与批复数不一致，请说明"),
        Finding("note.merged", "warning", SHEET1, "B7", "合并区域内的单元格"),
        Finding("info.exp", "info", SHEET2, "B1", "一般公共服务支出占 82.72%"),
        Finding("req.blank", "warning", SHEET2, "D9", "请填写：说明"),
        Finding("form.whole", "warning", "", "", "工作簿缺少填报日期"),
    ]
    return CheckReport(source, findings=findings, sheet_order=(SHEET1, SHEET2))


ANNOTATED = {(SHEET1, "B2"), (SHEET1, "B3"), (SHEET1, "A7"), (SHEET2, "B1"), (SHEET2, "D9")}


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    return build_rich_workbook(tmp_path / "rich.xlsx")


def projection(path: Path) -> dict:
    """A readable view of what the annotation shows: fills, comments, 审核结果 rows."""
    wb = openpyxl.load_workbook(path)
    cells = {}
    for ws in wb.worksheets:
        if ws.title == RESULTS_SHEET:
            continue
        for row in ws.iter_rows():
            for c in row:
                fill = c.fill.fgColor.rgb if c.fill and c.fill.fill_type == "solid" else None
                if c.comment is not None or fill in ("FFFFC7CE", WARNING_FILL_RGB):
                    cells[f"{ws.title}!{c.coordinate}"] = {
                        "fill": fill,
                        "comment": c.comment.text if c.comment else None,
                        "author": c.comment.author if c.comment else None,
                    }
    ws = wb[RESULTS_SHEET]
    rows = []
    for row in ws.iter_rows(min_row=2):
        values = [c.value for c in row]
        link = row[4].hyperlink.location if row[4].hyperlink is not None else None
        rows.append({"values": values, "link": link})
    return {
        "sheets": wb.sheetnames,
        "states": {ws.title: ws.sheet_state for ws in wb.worksheets},
        "active": wb.active.title,
        "summary": ws["A1"].value,
        "cells": cells,
        "results": rows,
    }


def test_annotation_marks_every_flagged_cell(rich: Path, tmp_path: Path, golden) -> None:
    out = annotate_workbook(rich, _report())
    assert out == tmp_path / "rich_审核.xlsx"
    view = projection(out)
    golden("annotate/rich.json", view)
    # one comment per flagged cell listing all its messages, fill by the worst severity
    b2 = view["cells"][f"{SHEET1}!B2"]
    assert b2["fill"] == "FFFFC7CE" and b2["author"] == AUTHOR
    assert "收入合计 197.06" in b2["comment"] and "增长 35.20%" in b2["comment"]
    assert view["cells"][f"{SHEET1}!A7"]["fill"] == WARNING_FILL_RGB  # merged: on the anchor
    assert view["cells"][f"{SHEET2}!B1"]["fill"] == "FFFFF2CC"  # info: comment only, own fill kept
    assert view["cells"][f"{SHEET2}!D9"]["fill"] == WARNING_FILL_RGB  # absent cell created
    # the department's comment on B3 keeps its text and author; ours is appended
    b3 = view["cells"][f"{SHEET1}!B3"]
    assert b3["author"] == "李四" and b3["comment"].startswith("部门批注：含上年结转\nxlproc审核:")
    # 审核结果: one row per finding, links to the cells, none for the workbook-level one
    rows = view["results"][1:]
    assert len(rows) == len(_report().findings)
    links = {(r["values"][8], r["link"]) for r in rows}
    assert ("sum.income", f"'{SHEET1}'!B2") in links and ("form.whole", None) in links
    assert view["active"] == RESULTS_SHEET and view["states"][STATE_SHEET] == "veryHidden"


def test_everything_else_is_unchanged(rich: Path) -> None:
    out = annotate_workbook(rich, _report())
    assert_faithful(rich, out, ANNOTATED)
    assert_sheet_xml_unchanged(rich, out, ANNOTATED)
    assert_well_formed(out)
    pa, pb = parts(rich), parts(out)
    touched = {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/styles.xml", "xl/workbook.xml"}
    touched |= {"[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/comments1.xml", "xl/drawings/vmlDrawing1.vml"}
    touched |= {"xl/worksheets/_rels/sheet2.xml.rels"}
    for name, data in pa.items():
        if name not in touched:
            assert pb[name] == data, f"{name} should be copied byte for byte"
    assert X14_DV in pb["xl/worksheets/sheet1.xml"].decode("utf-8")
    # the styles table only grows: every existing entry keeps its index
    sa, sb = pa["xl/styles.xml"].decode(), pb["xl/styles.xml"].decode()
    for tag in ("cellXfs", "fills", "fonts", "borders"):
        inner_a = re.search(f"<{tag}[^>]*>(.*)</{tag}>", sa, re.S).group(1)
        inner_b = re.search(f"<{tag}[^>]*>(.*)</{tag}>", sb, re.S).group(1)
        assert inner_b.startswith(inner_a)


def test_openpyxl_round_trip_would_lose_content(rich: Path, tmp_path: Path) -> None:
    """Why we edit XML: an openpyxl load+save drops the x14 validation (the alternative)."""
    wb = openpyxl.load_workbook(rich)
    wb.save(tmp_path / "openpyxl.xlsx")
    assert "x14:dataValidation" not in parts(tmp_path / "openpyxl.xlsx")["xl/worksheets/sheet1.xml"].decode()
    assert "x14:dataValidation" in parts(annotate_workbook(rich, _report()))["xl/worksheets/sheet1.xml"].decode()


def test_input_bytes_unchanged_and_output_not_over_input(rich: Path, tmp_path: Path) -> None:
    digest = hashlib.sha256(rich.read_bytes()).hexdigest()
    out = annotate_workbook(rich, _report())
    read_explanations(out)
    read_explanations(rich)
    again = annotate_workbook(out, _report(), tmp_path / "round2.xlsx")
    assert hashlib.sha256(rich.read_bytes()).hexdigest() == digest
    with pytest.raises(XlprocError):
        annotate_workbook(rich, _report(), rich)
    with pytest.raises(XlprocError):
        annotate_workbook(again, _report(), again)
    assert not list(tmp_path.glob(".~xlproc-*"))


def test_second_round_replaces_the_first(rich: Path, tmp_path: Path) -> None:
    first = annotate_workbook(rich, _report(), tmp_path / "r1.xlsx")
    # idempotent: the same findings again give the same package
    same = annotate_workbook(first, _report(), tmp_path / "r1b.xlsx")
    assert parts(same) == parts(first)
    # fewer findings: the old marks go, the department's things come back exactly
    fewer = CheckReport("r1.xlsx", findings=[_report().findings[4]], sheet_order=(SHEET1, SHEET2))
    second = annotate_workbook(first, fewer, tmp_path / "r2.xlsx")
    view = projection(second)
    assert set(view["cells"]) == {f"{SHEET1}!A2", f"{SHEET1}!B3", f"{SHEET2}!B1"}
    assert view["cells"][f"{SHEET1}!B3"]["comment"] == "部门批注：含上年结转"
    assert view["sheets"].count(RESULTS_SHEET) == 1 and len(view["results"]) == 2
    assert_faithful(rich, second, {(SHEET2, "B1")})
    assert_sheet_xml_unchanged(rich, second, {(SHEET2, "B1")})
    assert_well_formed(second)
    # no findings at all: the department's sheets are back to the original bytes
    clean = annotate_workbook(first, CheckReport("r1.xlsx"), tmp_path / "r3.xlsx")
    pa, pc = parts(rich), parts(clean)
    for name in ("xl/worksheets/sheet2.xml", "xl/comments1.xml", "xl/drawings/vmlDrawing1.vml"):
        assert pc[name] == pa[name], name
    assert "xl/worksheets/_rels/sheet2.xml.rels" not in pc
    assert projection(clean)["summary"] == "审核结果：未发现问题。"


def _answer(path: Path, answers: dict[str, str], out: Path) -> Path:
    return answer_in_results(path, out, answers)


def _odd_references(src: Path, out: Path) -> Path:
    """Every sheet with its cell references spelled as another writer may (b5, $B$5) and stray
    cells whose r names no cell (a column alone, a row alone, beyond the sheet)."""
    stray = "".join(f'<c r="{r}" t="inlineStr"><is><t>x</t></is></c>' for r in ("B", "7", "XFE1", "A0", "A1048577"))

    def respell(xml: str) -> str:
        n = iter(range(10**6))
        xml = re.sub(
            r'(<c\b[^>]*?\br=")([A-Z]+)(\d+)"',
            lambda m: (
                m.group(1) + (m.group(2).lower() + m.group(3) if next(n) % 2 else f"${m.group(2)}${m.group(3)}") + '"'
            ),
            xml,
        )
        return re.sub(r"(<row\b[^>]*>)", lambda m: m.group(1) + stray, xml, count=1)

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = respell(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    return out


def test_explanations_are_read_whatever_the_references_look_like(rich: Path, tmp_path: Path) -> None:
    first = annotate_workbook(rich, _report(), tmp_path / "r1.xlsx")
    answered = _answer(first, {"dev.income": "新增网络安全专项，已报批"}, tmp_path / "answered.xlsx")
    expected = {("dev.income", SHEET1, "B2"): "新增网络安全专项，已报批"}
    assert read_explanations(answered) == expected
    odd = _odd_references(answered, tmp_path / "odd.xlsx")
    assert "$" in zipfile.ZipFile(odd).read("xl/worksheets/sheet1.xml").decode()
    assert read_explanations(odd) == expected


def test_a_cell_spelled_otherwise_is_never_written_twice(rich: Path, tmp_path: Path) -> None:
    """A second <c r="B2"> beside the department's <c r="$B$2"> makes Excel repair the file
    and drop one of them: such a sheet is not annotated in place."""
    odd = _odd_references(rich, tmp_path / "odd.xlsx")
    before = odd.read_bytes()
    result = annotate(odd, _report(), tmp_path / "r1.xlsx")
    with zipfile.ZipFile(result.path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                refs = re.findall(r'<c\b[^>]*?\br="([^"]*)"', z.read(name).decode())
                cells = [r.upper().replace("$", "") for r in refs if re.fullmatch(r"\$?[A-Za-z]+\$?\d+", r)]
                assert len(cells) == len(set(cells)), (name, sorted(c for c in cells if cells.count(c) > 1))
    assert not result.in_place and "written as" in result.reason
    assert odd.read_bytes() == before  # the department's file as it was


def test_a_tag_with_gt_in_an_attribute_value_is_never_cut(rich: Path, tmp_path: Path) -> None:
    """``<c r="B2" s="3" note="1>0">`` is well-formed; an editor that ends the tag at its
    first ``>`` would write ``<c r="B2" s="3" note="1 s="9">0">``. Such a part is not
    edited in place, and what comes back parses."""
    src = tmp_path / "gt.xlsx"
    with zipfile.ZipFile(rich) as zin, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'(<c r="B2")', rb'\1 note="1>0"', data)
                assert n == 1
            zout.writestr(info, data)
    result = annotate(src, _report(), tmp_path / "out.xlsx")
    assert not result.in_place and "attribute" in result.reason
    with zipfile.ZipFile(result.path) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                expat.ParserCreate().Parse(z.read(name), True)


def test_explanations_are_kept_and_warnings_become_explained(rich: Path, tmp_path: Path) -> None:
    first = annotate_workbook(rich, _report(), tmp_path / "r1.xlsx")
    answered = _answer(
        first, {"dev.income": "新增网络安全专项，已报批", "sum.income": "已核对"}, tmp_path / "answered.xlsx"
    )
    answers = read_explanations(answered)
    assert answers == {
        ("dev.income", SHEET1, "B2"): "新增网络安全专项，已报批",
        ("sum.income", SHEET1, "B2"): "已核对",
    }
    report = apply_explanations(_report(), answers)
    by_rule = {f.rule_id: f for f in report.findings}
    assert by_rule["dev.income"].explained
    assert by_rule["sum.income"].explanation == "已核对" and not by_rule["sum.income"].explained
    assert report.counts["explained"] == 1 and report.counts["open_warning"] == 4
    second = annotate_workbook(answered, report, tmp_path / "r2.xlsx")
    rows = {r["values"][8]: r["values"] for r in projection(second)["results"][1:]}
    assert rows["dev.income"][6:8] == ["已说明", "新增网络安全专项，已报批"]
    assert rows["sum.income"][6:8] == ["须修改", "已核对"]
    assert read_explanations(second) == answers
    # the openpyxl save renumbered the styles: our fills are still removed, not stacked
    view = projection(second)
    assert view["sheets"].count(RESULTS_SHEET) == 1
    assert sum(1 for c in view["cells"].values() if c["comment"] and c["comment"].count("xlproc审核:") > 1) == 0


def test_answers_follow_a_moved_cell_and_vanish_with_their_finding() -> None:
    report = CheckReport(
        "x.xlsx",
        findings=[
            Finding("t.row", "warning", SHEET2, "B6", "表格行有问题"),
            Finding("t.twice", "warning", SHEET2, "C5", "a"),
            Finding("t.twice", "warning", SHEET2, "C9", "b"),
        ],
    )
    answers = {
        ("t.row", SHEET2, "B5"): "行已插入，原 B5",
        ("t.twice", SHEET2, "C4"): "不确定是哪一个",
        ("gone", SHEET1, "A1"): "已不存在",
    }
    out = apply_explanations(report, answers)
    got = {(f.rule_id, f.cell): f.explanation for f in out.findings}
    assert got == {("t.row", "B6"): "行已插入，原 B5", ("t.twice", "C5"): "", ("t.twice", "C9"): ""}


def test_unsupported_package_gets_a_separate_review_workbook(rich: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd.xlsx"
    with zipfile.ZipFile(rich) as zin, zipfile.ZipFile(odd, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":  # rows without r: cannot locate cells
                data = re.sub(rb'<row r="\d+"', b"<row", data)
            zout.writestr(info, data)
    before = odd.read_bytes()
    result = annotate(odd, _report())
    assert not result.in_place and result.path == tmp_path / "odd_审核意见.xlsx"
    assert odd.read_bytes() == before and not (tmp_path / "odd_审核.xlsx").exists()
    ws = openpyxl.load_workbook(result.path)[RESULTS_SHEET]
    assert "无法在保留全部内容的前提下直接批注" in ws["A1"].value
    assert sorted(c.value for c in ws["C"][2:]) == sorted(f.rule_id for f in _report().findings)


def test_not_a_workbook_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(XlprocError):
        annotate_workbook(bad, _report())


def test_copy_of_output_can_be_annotated_in_another_folder(rich: Path, tmp_path: Path) -> None:
    first = annotate_workbook(rich, _report())
    (tmp_path / "back").mkdir()
    moved = shutil.copy(first, tmp_path / "back" / "部门退回.xlsx")
    out = annotate_workbook(Path(moved), _report())
    assert out.name == "部门退回_审核.xlsx" and projection(out)["sheets"].count(RESULTS_SHEET) == 1


def test_department_sheet_named_like_ours_is_kept(tmp_path: Path) -> None:
    src = tmp_path / "own.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = SHEET1
    wb.active["B2"] = 1
    own = wb.create_sheet(RESULTS_SHEET)
    own["A1"] = "部门自己的审核结果"
    wb.save(src)
    report = CheckReport("own.xlsx", findings=[Finding("r1", "warning", SHEET1, "B2", "请说明")])
    first = annotate_workbook(src, report, tmp_path / "r1.xlsx")
    answered = openpyxl.load_workbook(first)
    assert answered.sheetnames == [SHEET1, RESULTS_SHEET, f"{RESULTS_SHEET}(2)", STATE_SHEET]
    answered[f"{RESULTS_SHEET}(2)"]["H3"] = "已说明原因"
    answered.save(tmp_path / "answered.xlsx")
    assert read_explanations(tmp_path / "answered.xlsx") == {("r1", SHEET1, "B2"): "已说明原因"}
    second = annotate_workbook(tmp_path / "answered.xlsx", report, tmp_path / "r2.xlsx")
    names = openpyxl.load_workbook(second).sheetnames
    assert names == [SHEET1, RESULTS_SHEET, f"{RESULTS_SHEET}(2)", STATE_SHEET]
    assert openpyxl.load_workbook(second)[RESULTS_SHEET]["A1"].value == "部门自己的审核结果"


def test_plain_text_department_comment_is_merged_and_restored(tmp_path: Path) -> None:
    src = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = SHEET1
    wb.active["B2"] = 5
    wb.active["B2"].comment = openpyxl.comments.Comment("按上年口径", "王五")
    wb.save(src)
    assert re.search(r"<text><t>", parts(src)["xl/comments/comment1.xml"].decode())
    report = CheckReport("plain.xlsx", findings=[Finding("r1", "error", SHEET1, "B2", "数值有误")])
    first = annotate_workbook(src, report, tmp_path / "r1.xlsx")
    comment = openpyxl.load_workbook(first)[SHEET1]["B2"].comment
    assert (comment.text, comment.author) == ("按上年口径\nxlproc审核:\n【强制性】数值有误", "王五")
    clean = annotate_workbook(first, CheckReport("plain.xlsx"), tmp_path / "r2.xlsx")
    assert parts(clean)["xl/comments/comment1.xml"] == parts(src)["xl/comments/comment1.xml"]
