"""Bad input: a clear Chinese message naming the file (and sheet/cell), exit code 2,
no traceback, and the input file untouched."""

from __future__ import annotations

import hashlib
import os
import zipfile

import docx
import openpyxl
import pytest
from conftest import encrypt_workbook
from typer.testing import CliRunner

from xlproc.cli.app import app
from xlproc.errors import WorkbookError
from xlproc.io.office import convert
from xlproc.reading.workbook import read_workbook

runner = CliRunner()


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expect(path, *fragments, sheet=None):
    before = _digest(path)
    with pytest.raises(WorkbookError) as exc:
        read_workbook(path)
    msg = str(exc.value)
    assert str(path) in msg
    for frag in fragments:
        assert frag in msg
    if sheet:
        assert exc.value.sheet == sheet and f"工作表“{sheet}”" in msg
    result = runner.invoke(app, ["extract", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and fragments[0] in result.output
    assert _digest(path) == before


def _edit(src, dst, fn):
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dst)
    return dst


def test_random_bytes(tmp_path):
    p = tmp_path / "随机.xlsx"
    p.write_bytes(os.urandom(4096))
    _expect(p, "不是 Excel 工作簿")


def test_empty_file(tmp_path):
    p = tmp_path / "空.xlsx"
    p.write_bytes(b"")
    _expect(p, "文件为空")


def test_truncated_zip(make_workbook, tmp_path):
    data = make_workbook({"dept_name": "某局"}).read_bytes()
    p = tmp_path / "截断.xlsx"
    p.write_bytes(data[: len(data) // 2])
    _expect(p, "文件已损坏或不完整")


def test_word_document(tmp_path):
    p = tmp_path / "报告.xlsx"
    d = docx.Document()
    d.add_paragraph("这是一份 Word 文档")
    d.save(p)
    _expect(p, "这是 Word 文档")


def test_encrypted_workbook(make_workbook, tmp_path):
    p = encrypt_workbook(make_workbook({"dept_name": "某局"}), tmp_path / "加密.xlsx")
    _expect(p, "设置了打开密码")


@pytest.mark.libreoffice
def test_old_xls_format(make_workbook, tmp_path, soffice):
    p = convert(make_workbook({"dept_name": "某局"}), "xls", tmp_path / "xls")
    _expect(p, "Excel 97-2003", ".xls")


def test_workbook_of_another_form(tmp_path):
    p = tmp_path / "别的表.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "部门名称"
    wb.save(p)
    _expect(p, "不是本系统下发的")


def test_another_version(make_workbook, tmp_path):
    p = _edit(make_workbook(), tmp_path / "旧版.xlsx", lambda wb: wb["_form"].__setitem__("B2", "2022.1"))
    _expect(p, "表单版本不符", "2022.1", sheet="_form")


def test_another_form_id(make_workbook, tmp_path):
    p = _edit(make_workbook(), tmp_path / "他表.xlsx", lambda wb: wb["_form"].__setitem__("B1", "other-form"))
    _expect(p, "表单类型不符", "other-form")


def test_required_sheet_deleted(make_workbook, tmp_path):
    p = _edit(make_workbook(), tmp_path / "删表.xlsx", lambda wb: wb.remove(wb["决算"]))
    _expect(p, "缺少工作表“决算”")


def test_required_sheet_renamed(make_workbook, tmp_path):
    def rename(wb):
        wb["财务报告"].title = "财务报告（2022）"

    p = _edit(make_workbook(), tmp_path / "改名.xlsx", rename)
    _expect(p, "缺少工作表“财务报告”", "改名")


def test_deleted_field_cell(make_workbook, tmp_path):
    def break_name(wb):
        wb.defined_names["F_staff_quota"].attr_text = "#REF!"

    p = _edit(make_workbook(), tmp_path / "删行.xlsx", break_name)
    _expect(p, "“编制数”所在的单元格已被删除", sheet="基本情况")


def test_not_a_zip_member_layout(tmp_path):
    p = tmp_path / "压缩包.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _expect(p, "缺少工作簿内容")


def test_missing_file(tmp_path):
    result = runner.invoke(app, ["extract", str(tmp_path / "没有.xlsx")])
    assert result.exit_code == 2 and "文件不存在" in result.output
