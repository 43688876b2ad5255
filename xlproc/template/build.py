"""Write the blank fill-in workbook (xlsxwriter) from the form spec.

Every input cell is unlocked and carries a data validation with an input message;
labels, constants and formulas are locked under sheet protection without a password.
Each field gets a defined name ``F_<id>``, each table's data range ``T_<id>``, each
dropdown list ``L_<enum>`` (lists live on the hidden ``_form`` sheet, which also holds
the form id and version), so the reader finds values even after rows are inserted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from ..form.layout import VALUE_COL, Layout, build_layout, col_letter
from ..form.ops import op_formula
from ..form.spec import Block, ColumnSpec, FieldSpec, FormSpec, SheetSpec, default_spec
from ..io.atomic import atomic_path
from ..io.print_setup import setup_print

META_SHEET = "_form"
INSTRUCTIONS_SHEET = "填表说明"
PROTECT_OPTIONS = {
    "format_cells": True,
    "format_columns": True,
    "format_rows": True,
    "insert_rows": True,
    "objects": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}
NUMBER_FORMATS = {"count": "0", "year": "0", "date": "yyyy-mm-dd"}
INPUT_FILL = "#FFF9E6"
FORMULA_FILL = "#E8F1FB"
LABEL_FILL = "#F2F2F2"


def field_name(field_id: str) -> str:
    return f"F_{field_id}"


def table_name(table_id: str) -> str:
    return f"T_{table_id}"


def list_name(enum: str) -> str:
    return f"L_{enum}"


def _number_format(spec: FormSpec, f: FieldSpec | ColumnSpec) -> str | None:
    if f.type in NUMBER_FORMATS:
        return NUMBER_FORMATS[f.type]
    decimals = spec.decimals(f)
    if decimals is None:
        return None
    zeros = "0" * decimals
    if f.type == "money":
        return f"#,##0.{zeros}" if decimals else "#,##0"
    return f"0.{zeros}" if decimals else "0"


def _validation(spec: FormSpec, f: FieldSpec | ColumnSpec, cell: str) -> dict[str, Any]:
    """The data validation (with its input message) for one input cell."""
    decimals = spec.decimals(f)
    unit = f"单位：{f.unit}。" if f.unit else ""
    if f.type in ("money", "percent", "number"):
        v = {
            "validate": "custom",
            "value": f"=AND(ISNUMBER({cell}),{cell}>=0,ROUND({cell},{decimals})={cell})",
            "error_message": f"请输入不小于0的数字，最多保留{decimals}位小数。",
        }
        rule = f"{unit}数字，最多{decimals}位小数。"
    elif f.type == "count":
        v = {"validate": "integer", "criteria": ">=", "value": 0, "error_message": "请输入不小于0的整数。"}
        rule = f"{unit}整数。"
    elif f.type == "year":
        v = {
            "validate": "integer",
            "criteria": "between",
            "minimum": 2000,
            "maximum": 2100,
            "error_message": "请输入四位数年度，如2023。",
        }
        rule = "四位数年度。"
    elif f.type == "date":
        v = {
            "validate": "date",
            "criteria": "between",
            "minimum": date(2000, 1, 1),
            "maximum": date(2100, 12, 31),
            "error_message": "请输入日期，如2023-12-31。",
        }
        rule = "日期，格式如2023-12-31。"
    elif f.type == "enum":
        v = {"validate": "list", "source": f"={list_name(f.enum or '')}", "error_message": "请从下拉列表中选择。"}
        rule = "请从下拉列表中选择。"
    else:
        limit = 10000 if f.type == "longtext" else 500
        v = {"validate": "length", "criteria": "<=", "value": limit, "error_message": f"文字不超过{limit}字。"}
        rule = "文字。"
    optional = "" if f.required else "（选填）"
    v.update(
        input_title=f.label[:32],
        input_message=(f"{f.hint}。{rule}{optional}" if f.hint else f"{rule}{optional}")[:255],
        error_title="输入有误",
        error_type="stop",
        ignore_blank=True,
    )
    return v


class _Writer:
    """Holds the workbook, cached formats and the layout while sheets are written."""

    def __init__(self, wb: xlsxwriter.Workbook, spec: FormSpec, layout: Layout):
        self.wb, self.spec, self.layout = wb, spec, layout
        self._formats: dict[tuple, Any] = {}

    def fmt(self, **props: Any):
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "border": 1}
            base.update(props)
            self._formats[key] = self.wb.add_format(base)
        return self._formats[key]

    def label_fmt(self, bold: bool = False):
        return self.fmt(bg_color=LABEL_FILL, text_wrap=True, bold=bold)

    def input_fmt(self, f: FieldSpec | ColumnSpec):
        props: dict[str, Any] = {"locked": False, "bg_color": INPUT_FILL}
        num = _number_format(self.spec, f)
        if num:
            props["num_format"] = num
        if f.type in ("text", "longtext"):
            props["text_wrap"] = True
            props["align"] = "left"
        return self.fmt(**props)

    def computed_fmt(self, f: FieldSpec):
        props: dict[str, Any] = {"bg_color": FORMULA_FILL}
        num = _number_format(self.spec, f)
        if num:
            props["num_format"] = num
        return self.fmt(**props)

    def write_input(
        self, ws, row: int, col: int, f: FieldSpec | ColumnSpec, value: Any = None, validate: bool = True
    ) -> None:
        cell = f"{col_letter(col)}{row + 1}"
        fmt = self.input_fmt(f)
        if value is None or value == "":
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            # Always text, even "=…" or "1,234.50": what the department typed.
            ws.write_string(row, col, value, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (int, float, Decimal)):
            ws.write_number(row, col, float(value), fmt)
        elif isinstance(value, (date, datetime)):
            ws.write_datetime(row, col, value, self.fmt(locked=False, bg_color=INPUT_FILL, num_format="yyyy-mm-dd"))
        else:
            raise TypeError(f"cannot write {type(value).__name__} into {cell}")
        if validate:
            ws.data_validation(row, col, row, col, _validation(self.spec, f, cell))

    def write_field_value(self, ws, sheet: SheetSpec, f: FieldSpec, prefill: dict[str, Any]) -> None:
        _, row, col = self.layout.cells[f.id]
        if f.compute:
            ws.write_formula(row, col, op_formula(f.compute, self.spec, self.layout), self.computed_fmt(f), "")
        elif f.fixed:
            if f.fixed_value is None:
                ws.write_blank(row, col, None, self.computed_fmt(f))
            else:
                ws.write_number(row, col, float(f.fixed_value), self.computed_fmt(f))
        else:
            self.write_input(ws, row, col, f, prefill.get(f.id))
        self.wb.define_name(field_name(f.id), f"='{sheet.name}'!${col_letter(col)}${row + 1}")


def _write_fields_block(w: _Writer, ws, sheet: SheetSpec, block: Block, row: int, prefill: dict) -> None:
    if block.label:
        ws.merge_range(row, 0, row, 3, block.label, w.fmt(bold=True, bg_color=LABEL_FILL))
    for f in block.fields:
        _, r, _ = w.layout.cells[f.id]
        ws.write_string(r, 0, f.label, w.label_fmt())
        w.write_field_value(ws, sheet, f, prefill)
        if f.type == "longtext":
            ws.set_row(r, 60)
        ws.write_string(r, 2, f.unit, w.fmt(bg_color=LABEL_FILL, align="center"))
        note = "自动计算" if f.compute else f.hint
        ws.write_string(r, 3, note, w.fmt(bg_color=LABEL_FILL, font_color="#666666", text_wrap=True, font_size=9))


def _write_grid(w: _Writer, ws, sheet: SheetSpec, block: Block, row: int, prefill: dict) -> None:
    unit = sheet.unit
    head = block.label or "项目"
    ws.write_string(row, 0, head + (f"（{unit}）" if unit else ""), w.label_fmt(bold=True))
    for ci, col in enumerate(block.grid_columns):
        ws.write_string(row, VALUE_COL + ci, col.label, w.label_fmt(bold=True))
    fields = {f.id: f for f in block.fields}
    for ri, grow in enumerate(block.grid_rows):
        ws.write_string(row + 1 + ri, 0, grow.label, w.label_fmt())
    if block.total:
        ws.write_string(row + 1 + len(block.grid_rows), 0, block.total_label, w.label_fmt(bold=True))
        for ci, col in enumerate(block.grid_columns):
            if block.grid_field("total", col.id) not in fields:
                ws.write_blank(row + 1 + len(block.grid_rows), VALUE_COL + ci, None, w.label_fmt())
    for f in block.fields:
        w.write_field_value(ws, sheet, f, prefill)


def _write_table(w: _Writer, ws, sheet: SheetSpec, block: Block, rows: list[dict[str, Any]]) -> None:
    table = block.table
    assert table is not None
    place = w.layout.tables[table.id]
    last_col = VALUE_COL + len(table.columns) - 1
    title = f"{block.label}（可按需插入行，空行不计）"
    ws.merge_range(
        place.header_row - 1, 0, place.header_row - 1, max(last_col, 3), title, w.fmt(bold=True, bg_color=LABEL_FILL)
    )
    ws.write_string(place.header_row, 0, "序号", w.label_fmt(bold=True))
    for col in table.columns:
        ws.write_string(place.header_row, place.columns[col.id], col.label, w.label_fmt(bold=True))
    for i in range(table.rows):
        r = place.first_row + i
        values = rows[i] if i < len(rows) else {}
        ws.write_number(r, 0, i + 1, w.fmt(bg_color=LABEL_FILL, align="center"))
        for col in table.columns:
            w.write_input(ws, r, place.columns[col.id], col, values.get(col.id), validate=False)
    for col in table.columns:
        # One validation per column; its formula is relative to the range's top-left cell.
        c = place.columns[col.id]
        top = f"{col_letter(c)}{place.first_row + 1}"
        ws.data_validation(place.first_row, c, place.last_row, c, _validation(w.spec, col, top))
    rng = f"${col_letter(VALUE_COL)}${place.first_row + 1}:${col_letter(last_col)}${place.last_row + 1}"
    w.wb.define_name(table_name(table.id), f"='{sheet.name}'!{rng}")


def _write_sheet(w: _Writer, sheet: SheetSpec, prefill: dict, tables: dict) -> None:
    ws = w.wb.add_worksheet(sheet.name)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 7, 18)
    ws.set_column(3, 3, 30)
    ws.merge_range(0, 0, 0, 4, sheet.title or sheet.name, w.fmt(bold=True, font_size=14, border=0))
    ws.set_row(0, 24)
    if sheet.unit:
        ws.write_string(1, 0, f"金额单位：{sheet.unit}", w.fmt(border=0, font_color="#666666"))
    sl = w.layout.sheets[sheet.id]
    for block, row in zip(sheet.blocks, sl.block_rows, strict=True):
        if block.kind == "fields":
            _write_fields_block(w, ws, sheet, block, row, prefill)
        elif block.kind == "grid":
            _write_grid(w, ws, sheet, block, row, prefill)
        else:
            _write_table(w, ws, sheet, block, tables.get(block.id, []))
    ws.freeze_panes(3, 1)
    ws.protect("", PROTECT_OPTIONS)
    # Printed: A4, one page wide (landscape when the sheet's grids/tables are wide), the
    # title and unit rows repeated, the form's title in the header, page numbers below.
    last_col = max(
        [3]
        + [len(b.grid_columns) for b in sheet.blocks if b.kind == "grid"]
        + [len(b.table.columns) for b in sheet.blocks if b.kind == "table" and b.table is not None]
    )
    widths = [34, 18, 18, 30, 18, 18, 18, 18]
    width = sum(widths[: last_col + 1]) + 18 * max(0, last_col + 1 - len(widths))
    setup_print(ws, f"{w.spec.title}：{sheet.name}", header_rows=(0, 1), width=width)


def _write_meta(w: _Writer) -> None:
    ws = w.wb.add_worksheet(META_SHEET)
    spec = w.spec
    rows = [("form_id", spec.form_id), ("form_version", spec.version), ("rubric", spec.rubric.id)]
    for r, (k, v) in enumerate(rows):
        ws.write_string(r, 0, k)
        ws.write_string(r, 1, v)
    for ci, (enum, values) in enumerate(spec.enums.items()):
        col = 3 + ci
        for r, value in enumerate(values):
            ws.write_string(r, col, value)
        letter = col_letter(col)
        w.wb.define_name(list_name(enum), f"='{META_SHEET}'!${letter}$1:${letter}${len(values)}")
    ws.hide()
    ws.protect("", {})


def _write_instructions(w: _Writer, year: int | None, department: str | None) -> None:
    from .instructions import instruction_lines

    ws = w.wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 110)
    lines = instruction_lines(w.spec, year=year, department=department)
    ws.write_string(0, 0, lines[0], w.fmt(bold=True, font_size=16, border=0))
    text = w.fmt(text_wrap=True, border=0)
    for r, line in enumerate(lines[1:], start=2):
        ws.write_string(r, 0, line, text)
    ws.write_string(len(lines) + 2, 0, "示例：黄色单元格为填报项", w.fmt(bg_color=INPUT_FILL))
    ws.write_string(len(lines) + 3, 0, "示例：蓝色单元格为自动计算项（勿填）", w.fmt(bg_color=FORMULA_FILL))
    ws.protect("", PROTECT_OPTIONS)
    setup_print(ws, f"{w.spec.title}：{INSTRUCTIONS_SHEET}", header_rows=None, landscape=False)
    ws.activate()


def write_template(
    path: Path,
    year: int | None = None,
    department: str | None = None,
    spec: FormSpec | None = None,
    values: dict[str, Any] | None = None,
    tables: dict[str, list[dict[str, Any]]] | None = None,
    created: datetime | None = None,
) -> Path:
    """Write the form to ``path`` (atomically) and return the path.

    Blank by default; ``values`` (field id → value) and ``tables`` (table id → rows of
    column id → value) pre-fill inputs — used by ``fill.fill_workbook`` for samples and
    tests. Strings are always written as text, exactly as a department would type them.
    """
    spec = spec or default_spec()
    layout = build_layout(spec)
    tables = dict(tables or {})
    for tid, rows in tables.items():
        if tid not in spec.tables:
            raise KeyError(f"unknown table {tid!r}")
        if len(rows) > spec.tables[tid].rows:
            raise ValueError(f"table {tid!r} has {spec.tables[tid].rows} rows in the template, got {len(rows)}")
    prefill: dict[str, Any] = {}
    for fid, value in (values or {}).items():
        f = spec.fields.get(fid)
        if f is None or not f.is_input:
            raise KeyError(f"not an input field: {fid!r}")
        prefill[fid] = value
    if year is not None and spec.year_field:
        prefill[spec.year_field] = int(year)
    if department and spec.department_field:
        prefill[spec.department_field] = department
    path = Path(path)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False, "in_memory": True}
        )
        props = {"title": spec.title, "subject": f"{spec.form_id} {spec.version}", "author": "xlproc"}
        if created is not None:
            props["created"] = created
        wb.set_properties(props)
        w = _Writer(wb, spec, layout)
        _write_instructions(w, year, department)
        for sheet in spec.sheets:
            _write_sheet(w, sheet, prefill, tables)
        _write_meta(w)
        wb.close()
    return path
