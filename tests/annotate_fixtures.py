"""Builders and comparers for the annotate tests (not a test module).

``build_rich_workbook`` makes a workbook with everything a department's file may
carry that an openpyxl load-and-save would lose or alter: an image, a chart, an
Excel-2010 extension-list (x14) data validation, the department's own comments
with custom box sizes, merged cells, defined names, sheet protection and an
``mc:Ignorable`` namespace declaration. ``assert_faithful`` proves that an
annotated copy differs from its source only where the annotation is.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import xlsxwriter
from PIL import Image

X14_DV = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    "<x14:formula1><xm:f>_form!$A$1:$A$2</xm:f></x14:formula1><xm:sqref>B8</xm:sqref>"
    "</x14:dataValidation></x14:dataValidations></ext></extLst>"
)
MC = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
)
SHEET1 = "基本情况"
SHEET2 = "收支预算"


def build_rich_workbook(path: Path) -> Path:
    """Write the rich fixture workbook to ``path``."""
    png = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(png, format="PNG")
    tmp = path.with_suffix(".plain.xlsx")
    wb = xlsxwriter.Workbook(str(tmp))
    ws = wb.add_worksheet(SHEET1)
    ws2 = wb.add_worksheet(SHEET2)
    hidden = wb.add_worksheet("_form")
    hidden.hide()
    label = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1, "num_format": "0.00"})
    text = wb.add_format({"locked": False, "border": 1})
    ws.protect()
    ws.set_column("A:A", 22)
    ws.set_column("B:B", 14)
    ws.write("A1", "部门名称", label)
    ws.write("B1", "示例区网信办", text)
    rows = [("收入合计", 197.06), ("一般公共预算拨款", 197.05), ("其他收入", 0.01)]
    for i, (name, value) in enumerate(rows, start=2):
        ws.write(f"A{i}", name, label)
        ws.write_number(f"B{i}", value, money)
    ws.write("A5", "合计（公式）", label)
    ws.write_formula("B5", "=B3+B4", label, 197.06)
    ws.merge_range("A7:C7", "合并单元格：说明", label)
    ws.write("A8", "是否公开", label)
    ws.write("B8", "是", text)
    ws.write_comment("A2", "部门自己的批注：按决算口径", {"author": "张三", "x_scale": 2, "y_scale": 3})
    ws.write_comment("B3", "部门批注：含上年结转", {"author": "李四", "x_scale": 1.5, "y_scale": 2})
    ws.insert_image("E2", "red.png", {"image_data": png})
    ws.data_validation("B2", {"validate": "decimal", "criteria": ">=", "value": 0, "input_message": "万元，两位小数"})
    hidden.write("A1", "是")
    hidden.write("A2", "否")
    wb.define_name("yesno", "=_form!$A$1:$A$2")
    wb.define_name("F_income_total", f"={SHEET1}!$B$2")
    wb.define_name(f"{SHEET1}!_xlnm.Print_Area", f"={SHEET1}!$A$1:$C$8")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": f"={SHEET1}!$B$3:$B$4"})
    ws.insert_chart("E10", chart)
    ws2.write("A1", "一般公共服务支出", label)
    ws2.write_number("B1", 163.00, money)
    ws2.write("A2", "社会保障和就业支出", label)
    ws2.write_number("B2", 17.08, money)
    wb.close()
    _inject(tmp, path)
    tmp.unlink()
    return path


def _inject(src: Path, dst: Path) -> None:
    """Add the x14 data validation and an mc:Ignorable declaration to sheet1."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                xml = xml.replace("<worksheet ", f"<worksheet {MC} ", 1)
                xml = xml.replace("</worksheet>", X14_DV + "</worksheet>")
                data = xml.encode("utf-8")
            zout.writestr(info, data)


# -- comparing -------------------------------------------------------------------------


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _cell_view(c) -> dict:
    return {
        "value": c.value if not hasattr(c.value, "text") else c.value.text,
        "number_format": c.number_format,
        "font": repr(c.font),
        "border": repr(c.border),
        "alignment": repr(c.alignment),
        "protection": repr(c.protection),
        "fill": repr(c.fill),
    }


def assert_faithful(src: Path, out: Path, annotated: set[tuple[str, str]]) -> None:
    """Everything of ``src`` is in ``out`` unchanged except fills/comments of ``annotated``.

    Checks, for every sheet of the source: every cell's value, formula, number format,
    font, border, alignment, protection (and fill, outside annotated cells); merged
    ranges, data validations, protection, images, charts; the department's comments;
    defined names; the raw x14 extension lists; and byte identity of every part the
    annotation has no business touching.
    """
    a = openpyxl.load_workbook(src)
    b = openpyxl.load_workbook(out)
    assert b.sheetnames[: len(a.sheetnames)] == a.sheetnames
    for ws in a.worksheets:
        wb_ws = b[ws.title]
        assert ws.sheet_state == wb_ws.sheet_state
        assert sorted(map(str, ws.merged_cells.ranges)) == sorted(map(str, wb_ws.merged_cells.ranges))
        assert [(d.type, d.formula1, str(d.sqref)) for d in ws.data_validations.dataValidation] == [
            (d.type, d.formula1, str(d.sqref)) for d in wb_ws.data_validations.dataValidation
        ]
        assert repr(ws.protection) == repr(wb_ws.protection)
        assert len(ws._images) == len(wb_ws._images)
        assert len(ws._charts) == len(wb_ws._charts)
        assert {k: v.width for k, v in ws.column_dimensions.items()} == {
            k: v.width for k, v in wb_ws.column_dimensions.items()
        }
        for row in ws.iter_rows():
            for c in row:
                d = wb_ws[c.coordinate]
                va, vb = _cell_view(c), _cell_view(d)
                if (ws.title, c.coordinate) in annotated:
                    va.pop("fill")
                    vb.pop("fill")
                    if c.comment is not None:
                        assert d.comment is not None and d.comment.text.startswith(c.comment.text)
                else:
                    ca, cb = c.comment, d.comment
                    assert (ca.text, ca.author) == (cb.text, cb.author) if ca else cb is None, c.coordinate
                assert va == vb, (ws.title, c.coordinate)
    assert {n: str(v.value) for n, v in a.defined_names.items()} == {
        n: str(v.value) for n, v in b.defined_names.items()
    }
    for ws in a.worksheets:
        assert {n: str(v.value) for n, v in ws.defined_names.items()} == {
            n: str(v.value) for n, v in b[ws.title].defined_names.items()
        }
    pa, pb = parts(src), parts(out)
    for name, data in pa.items():
        assert name in pb, f"part {name} lost"
        if name.endswith((".png", ".jpeg", ".jpg", ".emf")) or "/charts/" in name or "/drawings/drawing" in name:
            assert pb[name] == data, f"{name} changed"
        if name.endswith(".vml"):  # the department's comment boxes keep their size and place
            shapes = re.findall(r"<v:shape\b.*?</v:shape>", data.decode("utf-8"), re.S)
            assert all(shape in pb[name].decode("utf-8") for shape in shapes), f"a comment shape of {name} changed"
        if "sharedStrings" in name or "theme" in name or name.startswith("docProps/"):
            assert pb[name] == data, f"{name} changed"
        if name.startswith("xl/worksheets/sheet"):
            ext_a = re.findall(r"<extLst>.*?</extLst>", data.decode("utf-8"), re.S)
            ext_b = re.findall(r"<extLst>.*?</extLst>", pb[name].decode("utf-8"), re.S)
            assert ext_a == ext_b, f"extension list of {name} changed"
            head_a = re.search(r"<worksheet[^>]*>", data.decode("utf-8")).group(0)
            assert head_a == re.search(r"<worksheet[^>]*>", pb[name].decode("utf-8")).group(0)


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → worksheet part, via workbook.xml and its relationships."""
    p = parts(path)
    wb = p["xl/workbook.xml"].decode("utf-8")
    rels = p["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = {}
    for m in re.finditer(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'Id="([^"]+)"', m.group(0)).group(1)
        target = re.search(r'Target="([^"]+)"', m.group(0)).group(1)
        targets[rid] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    out = {}
    for m in re.finditer(r"<sheet\b[^>]*>", wb):
        name = re.search(r'name="([^"]+)"', m.group(0)).group(1)
        rid = re.search(r'r:id="([^"]+)"', m.group(0)).group(1)
        out[name] = targets[rid]
    return out


def assert_sheet_xml_unchanged(src: Path, out: Path, annotated: set[tuple[str, str]]) -> None:
    """Each source sheet's XML equals the output's once our edits are taken out.

    Taken out: the ``s`` attribute of annotated cells, empty cells we created to
    carry a fill, a ``legacyDrawing`` element we added, and ``tabSelected``.
    Everything else — cell values, formulas, other styles, data validations,
    extension lists, merges, protection, drawings — must be byte-identical.
    """
    pa, pb = parts(src), parts(out)
    sa, sb = sheet_parts(src), sheet_parts(out)
    for name, part in sa.items():
        xa, xb = pa[part].decode("utf-8"), pb[sb[name]].decode("utf-8")
        cells = {c for s, c in annotated if s == name}

        def norm(xml: str, had_legacy: bool, cells=cells) -> str:
            for cell in cells:
                xml = re.sub(
                    r'(<c\b[^>]*\sr="' + cell + r'")([^>]*)>',
                    lambda m: m.group(1) + re.sub(r'\ss="\d+"', "", m.group(2)) + ">",
                    xml,
                )
                xml = re.sub(r'<c r="' + cell + r'"\s*/>', "", xml)
                xml = re.sub(r'<row r="\d+">\s*</row>', "", xml)
            if not had_legacy:
                xml = re.sub(r"<legacyDrawing\b[^>]*/>", "", xml)
            return re.sub(r'\stabSelected="(1|true)"', "", xml)

        had = "<legacyDrawing" in xa
        assert norm(xa, had) == norm(xb, had), f"sheet {name} changed beyond the annotation"


def assert_well_formed(path: Path) -> None:
    """Every XML part of the package parses, and every relationship target exists."""
    from xml.etree import ElementTree

    p = parts(path)
    for name, data in p.items():
        if name.endswith((".xml", ".rels", ".vml")):
            ElementTree.fromstring(data)
        if name.endswith(".rels"):
            base = name.replace("_rels/", "").removesuffix(".rels")
            folder = base.rsplit("/", 1)[0] if "/" in base else ""
            for m in re.finditer(r"<Relationship\b[^>]*>", data.decode("utf-8")):
                if 'TargetMode="External"' in m.group(0):
                    continue
                target = re.search(r'Target="([^"]+)"', m.group(0)).group(1)
                resolved = target.lstrip("/") if target.startswith("/") else _join(folder, target)
                assert resolved in p, f"{name} points at missing {resolved}"
    types = p["[Content_Types].xml"].decode("utf-8")
    for name in p:
        ext = name.rsplit(".", 1)[-1]
        assert f'PartName="/{name}"' in types or f'Extension="{ext}"' in types, f"no content type for {name}"


def _join(folder: str, target: str) -> str:
    out: list[str] = [x for x in folder.split("/") if x]
    for piece in target.split("/"):
        if piece == "..":
            out.pop()
        elif piece and piece != ".":
            out.append(piece)
    return "/".join(out)


def answer_in_results(path: Path, out: Path, answers: dict[str, str], edits: dict | None = None) -> Path:
    """The department fixes values and types 说明 answers (by rule id) into 审核结果, saving with openpyxl."""
    from xlproc.annotate import RESULTS_SHEET

    wb = openpyxl.load_workbook(path)
    for (sheet, cell), value in (edits or {}).items():
        wb[sheet][cell].value = value
    ws = wb[RESULTS_SHEET]
    header = [c.value for c in ws[2]]
    rule_col = header.index("规则编号")
    answer_col = next(i for i, h in enumerate(header) if str(h).startswith("说明"))
    for row in ws.iter_rows(min_row=3):
        if row[rule_col].value in answers:
            row[answer_col].value = answers[row[rule_col].value]
    wb.save(out)
    return out
