"""Read a filled workbook into a typed ``Submission``.

Cells are found through the defined names the template wrote (``F_<field>``,
``T_<table>``), which Excel, WPS and LibreOffice move along when rows are inserted;
values come from python-calamine (fast, no styles). Computed cells are recomputed
from the inputs, never taken from the file's cache; an input it depends on that
could not be read makes it unknown (None with a problem), never 0.

One scan of each sheet's XML (sheetscan.py) adds what calamine does not expose:
error values (a cell problem naming the error), formulas (a computed cell typed
over, an input cell holding the department's own formula — read by its cached value
and listed in ``Submission.formulas``) and percent number formats (a percent field
showing 98.6% is 98.6, not 0.986).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine as calamine

from ..errors import WorkbookError
from ..form.layout import col_letter
from ..form.memo import memo
from ..form.ops import compute_value
from ..form.packs import FormPack, editions_text, find_pack, installed_packs, load_pack
from ..form.spec import FieldSpec, FormSpec, TableSpec
from ..submission import (
    FORMULA_CLEARED,
    FORMULA_KEPT,
    FORMULA_OWN,
    FORMULA_TYPED,
    CellProblem,
    FieldValue,
    FormulaCell,
    Submission,
    TableData,
)
from ..template.build import META_SHEET, field_name, table_name
from .errorvalues import clean_code, error_message
from .fieldvalues import field_value
from .numbers import parse_cell, showable
from .package import NameRef, Package, grid_source, open_package, parse_ref
from .parts import Parts
from .sanitize import readable_copy
from .sheetscan import SheetScan

_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError)
_NO_RESULT = "单元格中的公式（={formula}）没有保存计算结果（文件未经 Excel 或 WPS 重新计算），请打开后保存，或直接填写"


def _open_book(pkg: Package, data: bytes) -> Any:
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine's own errors: encrypted parts, broken XML …
        raise WorkbookError(pkg.path, f"文件已损坏，无法读取（{exc}）") from None


@dataclass
class _Sheets:
    """Lazily loaded sheet grids (list of rows, from A1) and sheet scans."""

    book: Any
    pkg: Package
    cache: dict[str, list[list[Any]]]
    parts: Parts
    cleaned: bool = False
    scans: dict[str, SheetScan] = field(default_factory=dict)

    def use_readable_copy(self) -> None:
        """Switch to a copy of the package calamine can read (sanitize.py); once."""
        self.cleaned = True
        layout = [self.parts.sheet_part(s) for s in self.pkg.sheets]
        members = [p for p in layout if p] + [self.parts.shared_strings_part()]
        try:
            copy = readable_copy(self.pkg.read_data or self.pkg.data, members)
        except _ZIP_ERRORS:  # the guard passed the package: a trick it does not know yet
            raise WorkbookError(self.pkg.path, "文件已损坏，无法读取工作表内容（压缩包的目录与内容不一致）") from None
        self.book = _open_book(self.pkg, copy)
        self.cache.clear()

    def grid(self, name: str) -> list[list[Any]]:
        if name not in self.cache:
            try:
                self.cache[name] = self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception as exc:  # calamine raises its own error types
                if self.cleaned:
                    raise WorkbookError(self.pkg.path, f"无法读取工作表内容（{exc}）", sheet=name) from None
                self.use_readable_copy()
                return self.grid(name)
        return self.cache[name]

    def scan(self, name: str) -> SheetScan:
        hit = self.scans.get(name)
        if hit is None:
            hit = self.scans[name] = self.parts.scan(name)
        return hit

    def value(self, name: str, row: int, col: int) -> Any:
        return _cell(self.grid(name), row, col)

    def row_values(self, name: str, row: int, first_col: int, width: int) -> list[Any]:
        """``width`` cells of one row from ``first_col`` (0-based), blanks as None."""
        grid = self.grid(name)
        cells = grid[row][first_col : first_col + width] if row < len(grid) else []
        out = [None if v == "" else v for v in cells]
        return out + [None] * (width - len(out))


def _cell(grid: list[list[Any]], row: int, col: int) -> Any:
    """The value at 0-based (row, col) of a sheet's grid; None for an empty or absent cell."""
    if row < len(grid) and col < len(grid[row]):
        v = grid[row][col]
        return None if v == "" else v
    return None


def _open_sheets(pkg: Package, parts: Parts) -> _Sheets:
    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(grid_source(pkg)))
        return _Sheets(book, pkg, {}, parts)
    except Exception:  # calamine's own errors: a bad character reference in the shared strings …
        sheets = _Sheets(None, pkg, {}, parts)
        sheets.use_readable_copy()  # raises WorkbookError when the copy is unreadable too
        return sheets


def read_edition(path: Path, data: bytes | None = None) -> tuple[str, str]:
    """The form id and version a workbook names, read as ``read_workbook`` reads them
    (through the package guard); WorkbookError when it cannot be read."""
    pkg = open_package(Path(path), data)
    return _edition(pkg, _open_sheets(pkg, Parts(pkg)), "自评表")


def _edition(pkg: Package, sheets: _Sheets, title: str) -> tuple[str, str]:
    """The form id and version the workbook names in its hidden ``_form`` sheet."""
    if META_SHEET not in pkg.sheets:
        raise WorkbookError(pkg.path, f"不是本系统下发的{title}（缺少表单标识）。请使用 xlproc template 生成的模板填报")
    return str(sheets.value(META_SHEET, 0, 1) or ""), str(sheets.value(META_SHEET, 1, 1) or "")


def _choose_spec(pkg: Package, sheets: _Sheets, packs: Iterable[FormPack | Path | str]) -> FormSpec:
    """The spec of the workbook's own edition, among ``packs`` and the installed packs."""
    form_id, version = _edition(pkg, sheets, "自评表")
    pack = find_pack(form_id, version, packs)
    if pack is None:
        installed = editions_text(packs)
        known = [p if isinstance(p, FormPack) else load_pack(p) for p in packs] + list(installed_packs())
        if any(p.form_id == form_id for p in known):
            message = f"表单版本不符：该文件为 {version or '未知'} 版，本系统已安装的版本为 {installed}"
        else:
            message = f"表单类型不符：该文件是“{form_id or '未知'}”，本系统已安装的表单为 {installed}"
        raise WorkbookError(
            pkg.path, message + "。请使用财政局下发的新模板重新填报，或用 --pack 指定该版本的表单包", sheet=META_SHEET
        )
    return pack.spec


def _check_form(pkg: Package, sheets: _Sheets, spec: FormSpec) -> tuple[str, str]:
    form_id, version = _edition(pkg, sheets, spec.title)
    if form_id != spec.form_id:
        raise WorkbookError(
            pkg.path, f"表单类型不符：该文件是“{form_id or '未知'}”，应为“{spec.form_id}”", sheet=META_SHEET
        )
    if version != spec.version:
        raise WorkbookError(
            pkg.path,
            f"表单版本不符：该文件为 {version or '未知'} 版，当前要求 {spec.version} 版，请使用新模板重新填报",
            sheet=META_SHEET,
        )
    for sheet in spec.sheets:
        if sheet.name not in pkg.sheets:
            raise WorkbookError(pkg.path, f"缺少工作表“{sheet.name}”（可能被删除或改名），请使用原模板填报")
    return form_id, version


def _resolve(pkg: Package, name: str, label: str, sheet_name: str) -> NameRef:
    raw = pkg.names.get(name)
    if raw is None:
        raise WorkbookError(
            pkg.path, f"找不到“{label}”的位置（定义名称 {name} 缺失），请使用原模板填报", sheet=sheet_name
        )
    ref = parse_ref(raw)
    if ref is None:
        raise WorkbookError(pkg.path, f"“{label}”所在的单元格已被删除（{name} = {raw}）", sheet=sheet_name)
    if ref.sheet != sheet_name:
        raise WorkbookError(pkg.path, f"“{label}”被移到了工作表“{ref.sheet}”，应在“{sheet_name}”", sheet=sheet_name)
    return ref


def _read_cell(scan: SheetScan, cell: str, raw: Any, f: Any, allowed: tuple[str, ...], decimals: int | None):
    """(value, problem, raw) of one input cell, with what the sheet scan knows about it."""
    code = scan.errors.get(cell)
    if code is not None:
        code = clean_code(code)
        return None, error_message(code, f.is_numeric), code
    formula = scan.formulas.get(cell)
    if formula is not None and raw is None:
        shown = formula[:60] + ("…" if len(formula) > 60 else "") if formula else "…"
        return None, _NO_RESULT.format(formula=shown), None
    percent = f.type == "percent" and cell in scan.styles
    value, problem = parse_cell(raw, f.type, f.unit, allowed, decimals, percent)
    return value, problem, raw


def _marked_rows(scan: SheetScan, letters: set[str], first: int, last: int) -> set[int]:
    """Rows of a table range holding a cell the sheet scan noted (formula, error, percent style)."""
    rows = set()
    for marks in (scan.errors, scan.formulas, scan.styles):
        for cell in marks:
            digits = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            if cell[: len(cell) - len(digits)] in letters and first <= int(digits) <= last:
                rows.add(int(digits))
    return rows


def _read_table(
    pkg: Package, sheets: _Sheets, spec: FormSpec, table: TableSpec, problems: list, formulas: list
) -> TableData:
    sheet_name = spec.sheet_name(table.sheet)
    ref = _resolve(pkg, table_name(table.id), table.label, sheet_name)
    first_col = ref.col
    letters = {c.id: col_letter(first_col + i) for i, c in enumerate(table.columns)}
    records = []
    width = len(table.columns)
    last = min(ref.row2, len(sheets.grid(sheet_name)))  # a range declared beyond the sheet holds nothing there
    scan = sheets.scan(sheet_name)
    marked = _marked_rows(scan, set(letters.values()), ref.row1, last)
    columns = [(c, letters[c.id], spec.enums.get(c.enum or "", ()), spec.decimals(c)) for c in table.columns]
    for row in range(ref.row1, last + 1):
        raws = sheets.row_values(sheet_name, row - 1, first_col, width)
        blank = all(r is None or (isinstance(r, str) and not r.strip()) for r in raws)
        if blank and row not in marked:
            continue  # an empty template row (an error value reads as blank: it is not)
        rec: dict[str, Any] = {}
        for (col, letter, allowed, decimals), raw in zip(columns, raws, strict=True):
            if row in marked:
                cell = f"{letter}{row}"
                label = f"{table.label}第{row}行{col.label}"
                value, problem, raw = _read_cell(scan, cell, raw, col, allowed, decimals)
                if cell in scan.formulas and not problem:
                    formulas.append(
                        FormulaCell(sheet_name, cell, label, f"{table.id}.{col.id}", scan.formulas[cell], value)
                    )
            else:
                value, problem = parse_cell(raw, col.type, col.unit, allowed, decimals)
            rec[col.id] = value
            if problem:
                cell = f"{letter}{row}"
                problems.append(
                    CellProblem(
                        sheet_name,
                        cell,
                        f"{table.label}第{row}行{col.label}",
                        showable(raw),
                        problem,
                        f"{table.id}.{col.id}",
                    )
                )
        rec["row"] = row
        records.append(rec)
    _check_below_table(sheets, sheet_name, table, ref, problems)
    return TableData(table, sheet_name, records, letters)


def _check_below_table(sheets: _Sheets, sheet_name: str, table: TableSpec, ref: NameRef, problems: list) -> None:
    """Rows typed just below a table's named range would be lost silently: report them.

    A department that adds rows under the last template row (instead of inserting rows
    inside the table) leaves them outside ``T_<table>``. Scanning stops at the first
    empty row or at the next block's label in the 序号 column.
    """
    width = len(table.columns)
    for row in range(ref.row2 + 1, ref.row2 + 51):
        label = sheets.value(sheet_name, row - 1, ref.col - 1) if ref.col > 0 else None
        if isinstance(label, str) and label.strip():
            return
        raws = sheets.row_values(sheet_name, row - 1, ref.col, width)
        filled = [i for i, r in enumerate(raws) if r is not None and not (isinstance(r, str) and not r.strip())]
        if not filled:
            return
        cell = f"{col_letter(ref.col + filled[0])}{row}"
        message = "填在表格范围之外，未被读取。请在表格内部插入行后填写（或把内容移入表格的空行）"
        problems.append(CellProblem(sheet_name, cell, f"{table.label}第{row}行", raws[filled[0]], message, table.id))


# field, sheet name, enum values, allowed decimals, (field ids, table columns) a computed field reads
_FieldPlan = tuple[FieldSpec, str, tuple[str, ...], int | None, tuple[tuple[str, ...], tuple[str, ...]]]
_POSITIONS_KEPT = 64  # workbook layouts (workbook.xml contents) whose field positions are kept, per spec


def _compute_inputs(f: FieldSpec, spec: FormSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields and table columns a computed field's value depends on: every reference
    its compute op names (a field id, a ``table.column``, or a ``grid.column`` — all the
    grid's cells of that column)."""
    grids = {b.id: b for sheet in spec.sheets for b in sheet.blocks if b.kind == "grid"}
    fields: list[str] = []
    columns: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, str):
            head, _, tail = node.partition(".")
            if node in spec.fields and node != f.id:
                fields.append(node)
            elif tail and head in spec.tables:
                columns.append(node)
            elif tail and head in grids:
                block = grids[head]
                fields.extend(block.grid_field(r.id, tail) for r in block.grid_rows)
        elif isinstance(node, (list, tuple)):
            for x in node:
                visit(x)

    for key, node in (f.compute or {}).items():
        if key not in ("equals", "excluded_if"):
            visit(node)
    return tuple(x for x in dict.fromkeys(fields) if x in spec.fields), tuple(dict.fromkeys(columns))


def _plan(spec: FormSpec) -> list[_FieldPlan]:
    """Per-spec constants of the field loop, computed once per spec."""

    def build() -> list[_FieldPlan]:
        return [
            (
                f,
                spec.sheet_name(f.sheet),
                spec.enums.get(f.enum or "", ()),
                spec.decimals(f),
                _compute_inputs(f, spec) if f.compute else ((), ()),
            )
            for f in spec.fields.values()
        ]

    return memo(spec, "read_plan", build)


def _field_refs(pkg: Package, spec: FormSpec, plan: list[_FieldPlan]) -> dict[str, NameRef]:
    """Field id → NameRef; kept per spec and workbook.xml content (a batch of one template resolves once)."""
    positions: dict[tuple, dict[str, NameRef]] = memo(spec, "field_positions", dict)
    refs = positions.get(pkg.key)
    if refs is None:
        refs = {f.id: _resolve(pkg, field_name(f.id), f.label, sheet_name) for f, sheet_name, *_ in plan}
        if len(positions) >= _POSITIONS_KEPT:
            positions.clear()
        positions[pkg.key] = refs
    return refs


def read_workbook(
    path: Path,
    spec: FormSpec | None = None,
    data: bytes | None = None,
    *,
    packs: Iterable[FormPack | Path | str] = (),
) -> Submission:
    """Read a filled workbook. Raises WorkbookError (Chinese message) when it cannot be read.

    Without ``spec`` the workbook is read with the pack of its own edition (form id and
    version in its ``_form`` sheet), looked up among ``packs`` (``--pack`` folders)
    and the installed packs; with ``spec`` it must be that edition.
    ``data`` is the file's content when the caller already has it (a batch hashes it).

    Problems with individual cells (text in a number cell, a value not in a dropdown)
    do not raise: they are kept on the Submission for the checks to report.
    """
    pkg = open_package(Path(path), data)
    parts = Parts(pkg)
    sheets = _open_sheets(pkg, parts)
    if spec is None:
        spec = _choose_spec(pkg, sheets, packs)
    form_id, version = _check_form(pkg, sheets, spec)

    problems: list[CellProblem] = [
        CellProblem(sheet, cell, "表单范围之外", None, "此处及更远处的内容远超表单范围，未被读取", "")
        for sheet, cell in pkg.clipped.items()
    ]
    formulas: list[FormulaCell] = []
    tables = {tid: _read_table(pkg, sheets, spec, t, problems, formulas) for tid, t in spec.tables.items()}
    frames = {tid: t.rows for tid, t in tables.items()}
    fields: dict[str, FieldValue] = {}
    values: dict[str, Any] = {}
    computed = []
    plan = _plan(spec)
    refs = _field_refs(pkg, spec, plan)
    current, grid, scan, marked = None, [], SheetScan(), False
    for f, sheet_name, allowed, decimals, inputs in plan:
        ref = refs[f.id]
        if f.compute:
            computed.append((f, sheet_name, ref, allowed, decimals, inputs))
            continue
        if sheet_name != current:  # fields come sheet by sheet: its grid and scan once per run
            current, grid, scan = sheet_name, sheets.grid(sheet_name), sheets.scan(sheet_name)
            marked = bool(scan.errors or scan.formulas or scan.styles)
        raw = _cell(grid, ref.row1 - 1, ref.col)
        formula = ""
        if marked:
            value, problem, raw = _read_cell(scan, ref.cell, raw, f, allowed, decimals)
            if ref.cell in scan.formulas and not f.fixed:
                formula = FORMULA_OWN
                if not problem:
                    formulas.append(FormulaCell(sheet_name, ref.cell, f.label, f.id, scan.formulas[ref.cell], value))
        else:
            value, problem = parse_cell(raw, f.type, f.unit, allowed, decimals)
        if problem:
            problems.append(CellProblem(sheet_name, ref.cell, f.label, showable(raw), problem, f.id))
        values[f.id] = value
        fields[f.id] = field_value(
            f.id,
            f.label,
            sheet_name,
            ref.cell,
            value,
            raw=showable(raw) if problem else None,
            problem=problem,
            formula=formula,
        )
    unknown = {fid for fid, fv in fields.items() if fv.problem}
    unknown |= {p.field_id for p in problems}
    for f, sheet_name, ref, allowed, decimals, (in_fields, in_columns) in computed:
        # spec order is dependency order (a rubric total before the percentage built on it)
        unreadable = [x for x in (*in_fields, *in_columns) if x in unknown]
        problem = ""
        if unreadable:
            value = None
            unknown.add(f.id)
            problem = (
                "无法计算：所依据的单元格无法识别（" + "、".join(_where(spec, fields, x) for x in unreadable[:5]) + "）"
            )
        else:
            value = compute_value(f, spec, values, frames)
        values[f.id] = value
        formula, typed = _formula_state(sheets, sheet_name, ref, f, allowed, decimals)
        fields[f.id] = field_value(
            f.id, f.label, sheet_name, ref.cell, value, problem=problem, computed=True, formula=formula, typed=typed
        )
    ordered = {fid: fields[fid] for fid in spec.fields}
    problems.sort(key=lambda p: (p.sheet, p.cell))
    formulas.sort(key=lambda c: (c.sheet, c.cell))
    return Submission(
        pkg.path, spec, form_id, version, ordered, tables, problems, formulas=formulas, scans=dict(parts.scans)
    )


def _where(spec: FormSpec, fields: dict[str, FieldValue], ref: str) -> str:
    if ref in fields:
        fv = fields[ref]
        return f"{fv.label} {fv.cell}"
    table_id, column_id = ref.split(".", 1)
    table = spec.tables[table_id]
    return f"{table.label}“{table.column(column_id).label}”列"


def _formula_state(
    sheets: _Sheets, sheet_name: str, ref: NameRef, f: FieldSpec, allowed: tuple[str, ...], decimals: int | None
) -> tuple[str, Any]:
    """Whether a computed cell still holds its formula; the constant typed over it if not."""
    if not sheets.parts.sheet_part(sheet_name):
        return "", None  # the sheet's XML could not be located: nothing is claimed
    scan = sheets.scan(sheet_name)
    if ref.cell in scan.formulas:
        return FORMULA_KEPT, None
    raw = sheets.value(sheet_name, ref.row1 - 1, ref.col)
    if ref.cell in scan.errors:
        return FORMULA_TYPED, clean_code(scan.errors[ref.cell])
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return FORMULA_CLEARED, None
    value, problem = parse_cell(raw, f.type, f.unit, allowed, decimals, f.type == "percent" and ref.cell in scan.styles)
    return FORMULA_TYPED, value if not problem else showable(raw)
