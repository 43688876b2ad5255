"""汇总.xlsx ranks only what passed (issue 13.3): statuses, duplicates, blank forms, roster, totals, print setup."""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xlproc.batch import BatchOptions, process_folder
from xlproc.pipeline import PipelineOptions
from xlproc.template.build import write_template

ROOT = Path(__file__).resolve().parent.parent
INBOX = ROOT / "samples" / "inbox"
COLS = {
    "dept": "部门名称",
    "status": "审核状态",
    "rank": "排名",
    "score": "换算得分",
    "errors": "强制性错误",
    "open": "未说明提示",
    "remark": "备注",
    "source": "源文件",
}


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("summary")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for f in INBOX.glob("*.xlsx"):  # the 2023 edition's samples (inbox/2024 is another edition)
        shutil.copy2(f, inbox / f.name)
    # the 司法局 files again, later: this one counts, the sample is superseded
    shutil.copy(inbox / "02_示例区司法局.xlsx", inbox / "12_司法局重报.xlsx")
    os.utime(inbox / "02_示例区司法局.xlsx", (1_700_000_000, 1_700_000_000))
    write_template(inbox / "20_空白表.xlsx", department="示例区空白局")  # a blank form, only the name
    (inbox / "30_损坏.xlsx").write_bytes(b"PK\x03\x04 broken")
    roster = tmp / "名单.csv"
    # as typed in a roster: a zero-width space copied from a web page, a full-width blank
    names = ["示例区司法局", "示例区统计局\u200b", "示例区教育局", "示例区卫生健康局\u3000"]
    roster.write_text("部门名称\n" + "\n".join(names) + "\n", encoding="utf-8-sig")
    opts = BatchOptions(jobs=0, roster=roster, pipeline=PipelineOptions(report=False))
    batch = process_folder(inbox, tmp / "out", opts)
    return batch.summary_path, batch


def _rows(path: Path) -> list[dict]:
    """汇总's rows keyed by column heading."""
    head, *rows = openpyxl.load_workbook(path)["汇总"].iter_rows(values_only=True)
    return [dict(zip(head, r, strict=True)) for r in rows]


def test_only_departments_that_passed_are_ranked(summary) -> None:
    path, _batch = summary
    rows = _rows(path)
    by_source = {r[COLS["source"]]: r for r in rows if r[COLS["source"]]}
    for r in rows[:-1]:
        status, rank = r[COLS["status"]], r[COLS["rank"]]
        assert (rank is not None) == (status == "通过"), r
        if r[COLS["errors"]]:
            assert status in ("有错误", "未填报") and rank is None
    ranked = [r for r in rows if r[COLS["rank"]] is not None]
    assert [r[COLS["rank"]] for r in ranked] == list(range(1, len(ranked) + 1))
    scores = [r[COLS["score"]] for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert by_source["12_司法局重报.xlsx"][COLS["status"]] == "通过"
    assert by_source["12_司法局重报.xlsx"][COLS["rank"]] == 1
    assert by_source["02_示例区司法局.xlsx"][COLS["status"]] == "已被替代"
    assert "12_司法局重报.xlsx" in by_source["02_示例区司法局.xlsx"][COLS["remark"]]
    assert by_source["20_空白表.xlsx"][COLS["status"]] == "未填报"
    assert by_source["30_损坏.xlsx"][COLS["status"]] == "无法读取"
    to_explain = [r for r in rows[:-1] if r[COLS["open"]] and not r[COLS["errors"]]]
    assert to_explain and all(r[COLS["status"]] == "待说明" and r[COLS["rank"]] is None for r in to_explain)
    missing = [r for r in rows if r[COLS["status"]] == "未报送"]
    assert [r[COLS["dept"]] for r in missing] == ["示例区教育局"]
    # order: ranked, then 待说明, 有错误, 未填报, 无法读取, 已被替代, 未报送, then the totals row
    order = ["通过", "待说明", "有错误", "未填报", "无法读取", "已被替代", "未报送"]
    statuses = [r[COLS["status"]] for r in rows[:-1]]
    assert statuses == sorted(statuses, key=order.index)


def test_district_totals_row_counts_each_department_once(summary) -> None:
    path, batch = summary
    rows = _rows(path)
    total = rows[-1]
    counted = batch.dataset.fields
    assert total[COLS["dept"]] == f"全区合计（{len(counted)} 个部门）" == "全区合计（8 个部门）"
    income = sum((v for v in counted["budget_income_total"] if v is not None), Decimal(0))
    assert total["收入合计（万元）"] == float(income)
    # the superseded duplicate is not in the total: 7 samples + the blank form, 司法局 once
    sifa = Decimal("627.60")
    assert list(counted["department"]).count("示例区司法局") == 1
    assert income == Decimal("10850.58") and sifa in set(counted["budget_income_total"])


def test_statuses_are_highlighted_and_every_sheet_prints(summary) -> None:
    path, _batch = summary
    wb = openpyxl.load_workbook(path)
    ws = wb["汇总"]
    fills = {}
    status_col = [c.value for c in ws[1]].index(COLS["status"])
    for row in ws.iter_rows(min_row=2):
        cell = row[status_col]
        if cell.value:
            fills.setdefault(cell.value, cell.fill.fgColor.rgb)
    assert len(set(fills.values())) == len(fills) >= 6  # one distinct fill per status
    assert fills["通过"] == "FFC6EFCE" and fills["有错误"] == "FFFFC7CE"
    assert ws.conditional_formatting  # a status typed over recolours
    for name in wb.sheetnames:
        sheet = wb[name]
        if name == "得分图":
            continue
        assert sheet.page_setup.paperSize == 9, name
        # fitToWidth absent means 1 (the OOXML default): one page wide
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and (sheet.page_setup.fitToWidth or 1) == 1, name
        assert sheet.page_setup.fitToHeight == 0, name
        assert "第 &P 页 / 共 &N 页" in sheet.oddFooter.center.text, name
        assert "部门整体绩效自评审核汇总" in sheet.oddHeader.center.text, name
        if name != "全区合计":
            assert sheet.print_title_rows == "$1:$1", name
    assert ws.page_setup.orientation == "landscape"
    assert wb["全区合计"].page_setup.orientation == "portrait"


def test_chart_is_sorted_with_an_axis_that_shows_the_spread(summary) -> None:
    import re
    import zipfile

    path, _batch = summary
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    refs = re.findall(r"<c:f>([^<]*)</c:f>", chart)
    ranked = [r for r in _rows(path) if r[COLS["rank"]] is not None]
    n = 1 + len(ranked)
    assert refs == ([f"汇总!$B$2:$B${n}", f"汇总!$F$2:$F${n}"] if n > 2 else ["汇总!$B$2", "汇总!$F$2"])
    low = min(r[COLS["score"]] for r in ranked)
    axis_min = float(re.search(r'<c:min val="([\d.]+)"/>', chart).group(1))
    assert 0 < axis_min <= low and low - axis_min <= 10


def test_template_and_results_sheet_print_setup(tmp_path: Path) -> None:
    from xlproc.annotate import annotate_workbook
    from xlproc.pipeline import check_file

    tpl = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(tpl)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        assert ws.page_setup.paperSize == 9 and (ws.page_setup.fitToWidth or 1) == 1, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0, ws.title
        assert "第 &P 页 / 共 &N 页" in ws.oddFooter.center.text, ws.title
    assert wb["收支预算"].print_title_rows == "$1:$2"
    assert wb["基本情况"].page_setup.orientation == "landscape"  # label, input, unit, hint: wide
    src = INBOX / "02_示例区司法局.xlsx"
    out = annotate_workbook(src, check_file(src).report, tmp_path / "a.xlsx")
    ws = openpyxl.load_workbook(out)["审核结果"]
    assert ws.print_title_rows == "$2:$2"
    assert (ws.page_setup.orientation, ws.page_setup.fitToWidth) == ("landscape", 1)
    assert ws.oddHeader.center.text == "审核结果" and "第 &P 页" in ws.oddFooter.center.text


@pytest.mark.libreoffice
def test_summary_prints_in_few_pages(soffice: str, summary, tmp_path: Path) -> None:
    path, _batch = summary
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "汇总.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    # one page wide everywhere: pages grow only with rows (≥ 20 rows fit an A4 landscape page)
    wb = openpyxl.load_workbook(path)
    assert pages <= len(wb.sheetnames) + sum(ws.max_row for ws in wb.worksheets) // 20
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "部门整体绩效自评审核汇总" in first and "全区合计（8 个部门）" in first and "第 1 页 / 共" in first


def test_roster_declared_in_the_pack(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "workbook_templates" / "zpb-2023", pack)
    text = (pack / "pack.yaml").read_text(encoding="utf-8").replace("id: zpb-2023", "id: zpb-2023-local", 1)
    (pack / "pack.yaml").write_text(text + "\nroster: [示例区司法局, 示例区审计局]\n", encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(INBOX / "02_示例区司法局.xlsx", inbox)
    opts = BatchOptions(jobs=0, pipeline=PipelineOptions(packs=(str(pack),), report=False, annotate=False))
    batch = process_folder(inbox, tmp_path / "out", opts)
    rows = _rows(batch.summary_path)
    assert [(r[COLS["dept"]], r[COLS["status"]]) for r in rows[:-1]] == [
        ("示例区司法局", "通过"),
        ("示例区审计局", "未报送"),
    ]
