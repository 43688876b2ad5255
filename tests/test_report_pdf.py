"""The report as a PDF through LibreOffice: which faces the fonts of the template become,
and the native charts drawn.

The template asks for 方正小标宋简体 / 仿宋_GB2312 / 黑体 / 楷体_GB2312, which a Linux
machine does not have; office.py gives the conversion profile a replacement table so
each lands on an installed CJK face of its family. ``pdffonts`` reads the embedded
fonts back.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from xlproc.io.office import font_replacements, profile_settings
from xlproc.reading.workbook import read_workbook
from xlproc.report import ReportRenderer, convert_to_pdf
from xlproc.rules import run_checks

SAMPLES = Path(__file__).parent.parent / "samples"
WANGXINBAN = next((SAMPLES / "inbox").glob("01_*.xlsx"))
LATIN_ONLY = re.compile(r"DejaVu|Liberation|Times|Arial|Helvetica|Courier|OpenSymbol|Carlito|Caladea", re.I)
SERIF_CJK = re.compile(r"Serif\s*CJK|SerifCJK|SourceHanSerif|UMing", re.I)
CJK = re.compile(r"CJK|SourceHan|UKai|UMing|WenQuanYi|wqy", re.I)


def pdf_fonts(pdf: Path) -> list[str]:
    """Embedded font names (subset prefix removed) as pdffonts lists them."""
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in out.splitlines()[2:] if line.strip()]
    return [n.split("+", 1)[-1] for n in names]


def test_replacement_table_maps_each_family_to_an_installed_face():
    installed = frozenset({"Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL UKai CN"})
    table = font_replacements(installed)
    assert table["仿宋_GB2312"] == table["方正小标宋简体"] == table["宋体"] == "Noto Serif CJK SC"
    assert table["黑体"] == "Noto Sans CJK SC"
    assert table["楷体_GB2312"] == "AR PL UKai CN"
    assert table["Times New Roman"] == "Noto Serif CJK SC"  # digits never in a Latin-only face
    no_kai = font_replacements(frozenset({"Noto Serif CJK SC"}))
    assert no_kai["楷体_GB2312"] == "Noto Serif CJK SC" and "黑体" not in no_kai  # nothing to map 黑体 to
    xcu = profile_settings({"仿宋_GB2312": "Noto Serif CJK SC"})
    assert "/org.openoffice.Office.Common/Font/Substitution" in xcu and "<value>仿宋_GB2312</value>" in xcu


@pytest.fixture(scope="module")
def report_docx(tmp_path_factory) -> Path:
    sub = read_workbook(WANGXINBAN)
    return ReportRenderer().render(sub, tmp_path_factory.mktemp("pdf") / "网信办.docx", report=run_checks(sub))


@pytest.mark.libreoffice
def test_report_pdf_uses_cjk_faces_of_the_right_family(soffice, report_docx, tmp_path):
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts (poppler-utils) is not installed")
    full = convert_to_pdf(report_docx, tmp_path / "full.pdf")
    fonts = pdf_fonts(full)
    assert fonts, "no fonts embedded"
    # LibreOffice drew both native charts: their titles, category names and labels are text in the PDF
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(full), "-"], capture_output=True, text=True).stdout)
    for drawn in ("各类别自评得分与满分", "4.5/4.5", "本年预算支出构成（按功能分类）", "163.00万元（82.72%）"):
        assert drawn in text, drawn
    assert not [f for f in fonts if LATIN_ONLY.search(f)], fonts
    assert all(CJK.search(f) for f in fonts), fonts
    assert any(SERIF_CJK.search(f) for f in fonts), fonts

    # Title and body alone (with digits: 2023, 〔2023〕73号): every face is a serif CJK one.
    document = docx.Document(str(report_docx))
    body = document.element.body
    paragraphs = [p for p in document.paragraphs]
    keep = {paragraphs[0]._p, paragraphs[1]._p}  # title, opening paragraph
    for child in list(body):
        if child.tag.endswith("}tbl") or (child.tag.endswith("}p") and child not in keep):
            body.remove(child)
    for p in document.sections[0].header.paragraphs:
        p.text = ""
    assert re.search(r"\d", paragraphs[0].text) and re.search(r"\d", paragraphs[1].text)
    small = tmp_path / "title_body.docx"
    document.save(str(small))
    fonts = pdf_fonts(convert_to_pdf(small, tmp_path / "title_body.pdf"))
    assert fonts and all(SERIF_CJK.search(f) for f in fonts), fonts
