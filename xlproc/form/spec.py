"""Load and validate the form spec (form.yaml), with its scoring rubric (rubric.py).

The spec is the single description of the workbook: the template writer, the reader,
the rules and the report all address fields by the ids declared here. A malformed
file is refused with its path and the YAML path of the offending node, before any
workbook is touched.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import SpecError as SpecError  # re-exported: callers import it from the spec
from ..ooxml.tablebook import valid_sheet_name
from .ops import OPS, check_op, op_name
from .rubric import Rubric, load_rubric
from .rubric import RubricCategory as RubricCategory
from .yamlfile import YamlContext as _Ctx
from .yamlfile import malformed_in
from .yamlfile import read_yaml as _read_yaml

FIELD_TYPES = ("money", "percent", "count", "number", "text", "longtext", "date", "year", "enum")
NUMERIC_TYPES = ("money", "percent", "count", "number", "year")
DEFAULT_UNITS = {"money": "万元", "percent": "%"}
DEFAULT_DECIMALS = {"money": 2, "percent": 2, "count": 0, "number": 2, "year": 0}


def templates_dir() -> Path:
    """The folder of the default (newest installed) pack: form.yaml, rubric.yaml, rules.yaml …

    A shim kept for callers that predate packs; new code takes a ``FormPack``
    (``xlproc.form.packs``) and uses its paths.
    """
    from .packs import default_pack

    return default_pack().dir


@dataclass(frozen=True)
class FieldSpec:
    """One addressable value of the form (a single cell)."""

    id: str
    label: str
    type: str
    sheet: str
    decimals: int | None = None
    unit: str = ""
    required: bool = True
    hint: str = ""
    enum: str | None = None
    compute: dict[str, Any] | None = None
    fixed: bool = False  # a constant the template writes (e.g. 满分), locked
    fixed_value: Decimal | None = None  # that constant (a rubric grid's fixed column: the category's 满分)

    @property
    def is_input(self) -> bool:
        return self.compute is None and not self.fixed

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a repeating table."""

    id: str
    label: str
    type: str
    decimals: int | None = None
    unit: str = ""
    required: bool = True
    hint: str = ""
    enum: str | None = None

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class TableSpec:
    """A repeating table: the department fills as many rows as it needs."""

    id: str
    label: str
    sheet: str
    rows: int
    columns: tuple[ColumnSpec, ...]

    def column(self, column_id: str) -> ColumnSpec:
        for col in self.columns:
            if col.id == column_id:
                return col
        raise KeyError(column_id)


@dataclass(frozen=True)
class GridRow:
    id: str
    label: str


@dataclass(frozen=True)
class Block:
    """A layout block of a sheet: ``fields``, ``grid`` or ``table``."""

    kind: str
    id: str = ""
    label: str = ""
    fields: tuple[FieldSpec, ...] = ()  # fields blocks and the expanded cells of a grid
    grid_rows: tuple[GridRow, ...] = ()
    grid_columns: tuple[ColumnSpec, ...] = ()
    total: str | None = None  # grid: None, "computed" or "declared"
    total_label: str = ""
    table: TableSpec | None = None

    def grid_field(self, row_id: str, column_id: str) -> str:
        """The field id of one grid cell (``total`` is the total row)."""
        if len(self.grid_columns) == 1:
            return f"{self.id}_{row_id}"
        return f"{self.id}_{row_id}_{column_id}"


@dataclass(frozen=True)
class SheetSpec:
    id: str
    name: str
    title: str
    unit: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class FormSpec:
    """The whole form: sheets in order, every field and table by id, enums, rubric."""

    form_id: str
    version: str
    title: str
    unit: str
    enums: dict[str, tuple[str, ...]]
    sheets: tuple[SheetSpec, ...]
    rubric: Rubric
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    source: Path | None = None
    department_field: str = ""  # the field naming the department (pack.yaml department_field)
    year_field: str = ""  # the field holding the year the form covers (pack.yaml year_field)

    def sheet(self, sheet_id: str) -> SheetSpec:
        for sheet in self.sheets:
            if sheet.id == sheet_id:
                return sheet
        raise KeyError(sheet_id)

    def sheet_name(self, sheet_id: str) -> str:
        return self.sheet(sheet_id).name

    @functools.cached_property
    def shared_labels(self) -> frozenset[str]:
        """Labels more than one field has (several are just 说明): counted once per spec."""
        counts = Counter(f.label for f in self.fields.values())
        return frozenset(label for label, n in counts.items() if n > 1)

    def decimals(self, spec: FieldSpec | ColumnSpec) -> int | None:
        if spec.decimals is not None:
            return spec.decimals
        return DEFAULT_DECIMALS.get(spec.type)


def _column(ctx: _Ctx, node: Any, where: str, enums: dict[str, Any]) -> ColumnSpec:
    node = ctx.mapping(node, where)
    typ = ctx.text(node, "type", where)
    if typ not in FIELD_TYPES:
        raise ctx.fail(f"{where}.type", f"未知类型 {typ!r}（可选：{', '.join(FIELD_TYPES)}）")
    enum = node.get("enum")
    if typ == "enum" and enum not in enums:
        raise ctx.fail(f"{where}.enum", f"未定义的枚举 {enum!r}")
    decimals = node.get("decimals")
    if decimals is not None and (not isinstance(decimals, int) or not 0 <= decimals <= 6):
        raise ctx.fail(f"{where}.decimals", "应为 0 到 6 的整数")
    return ColumnSpec(
        id=ctx.ident(node, "id", where),
        label=ctx.text(node, "label", where),
        type=typ,
        decimals=decimals,
        unit=str(node.get("unit", DEFAULT_UNITS.get(typ, ""))),
        required=bool(node.get("required", True)),
        hint=str(node.get("hint", "")),
        enum=enum,
    )


def _sheet_name(ctx: _Ctx, node: dict[str, Any], where: str, before: list[SheetSpec]) -> str:
    """A name Excel and WPS accept for the sheet, not taken (Excel ignores case), not one of
    the names the system keeps for itself (those starting with ``_``: ``_form`` …)."""
    name = ctx.text(node, "name", where)
    if name.casefold() == "history":
        raise ctx.fail(f"{where}.name", "工作表名“History”是 Excel 保留的名称，请换一个")
    if not valid_sheet_name(name):
        raise ctx.fail(
            f"{where}.name", f"工作表名“{name[:40]}”不可用：应为 1–31 个字符，不含 [ ] : * ? / \\，首尾不是单引号"
        )
    if name.startswith("_"):
        raise ctx.fail(f"{where}.name", f"工作表名“{name}”以下划线开头，这类名称留给系统使用（如 _form）")
    if any(s.name.casefold() == name.casefold() for s in before):
        raise ctx.fail(f"{where}.name", f"工作表名“{name}”重复")
    return name


def _field(ctx: _Ctx, node: Any, where: str, sheet: str, enums: dict[str, Any]) -> FieldSpec:
    col = _column(ctx, node, where, enums)
    compute = node.get("compute")
    if compute is not None:
        compute = ctx.mapping(compute, f"{where}.compute")
        if op_name(compute) is None:
            raise ctx.fail(f"{where}.compute", f"应恰有一个运算（可选：{', '.join(OPS)}）")
    return FieldSpec(
        id=col.id,
        label=col.label,
        type=col.type,
        sheet=sheet,
        decimals=col.decimals,
        unit=col.unit,
        required=col.required if compute is None else False,
        hint=col.hint,
        enum=col.enum,
        compute=compute,
        fixed=bool(node.get("fixed", False)),
    )


def _grid(ctx: _Ctx, node: dict[str, Any], where: str, sheet: str, enums: dict, rubric: Rubric) -> Block:
    if node.get("rows_from") == "rubric":
        rows = tuple(GridRow(c.id, c.name) for c in rubric.categories)
    else:
        rows = tuple(
            GridRow(
                ctx.ident(ctx.mapping(r, f"{where}.rows[{i}]"), "id", f"{where}.rows[{i}]", part=True),
                str(r.get("label", "")),
            )
            for i, r in enumerate(ctx.seq(node.get("rows"), f"{where}.rows"))
        )
    columns_raw = ctx.seq(node.get("columns"), f"{where}.columns")
    columns = tuple(_column(ctx, c, f"{where}.columns[{i}]", enums) for i, c in enumerate(columns_raw))
    total = node.get("total")
    if total not in (None, "computed", "declared"):
        raise ctx.fail(f"{where}.total", "应为 computed 或 declared")
    grid_id = ctx.ident(node, "id", where)
    label = str(node.get("label", ""))
    prefix = str(node.get("label_prefix", ""))
    block = Block(kind="grid", id=grid_id, label=label, grid_rows=rows, grid_columns=columns, total=total)
    total_label = str(node.get("total_label", f"{label.replace('（按功能分类）', '')}合计"))
    cells: list[FieldSpec] = []
    multi = len(columns) > 1
    maxima = {c.id: c.max for c in rubric.categories} if node.get("rows_from") == "rubric" else {}
    for row in rows:
        for i, col in enumerate(columns):
            fixed = bool(columns_raw[i].get("fixed", False))
            cells.append(
                FieldSpec(
                    id=block.grid_field(row.id, col.id),
                    label=f"{prefix}{row.label}{col.label if multi else ''}",
                    type=col.type,
                    sheet=sheet,
                    decimals=col.decimals,
                    unit=col.unit,
                    required=col.required and not fixed,
                    hint=col.hint,
                    enum=col.enum,
                    fixed=fixed,
                    fixed_value=maxima.get(row.id) if fixed else None,
                )
            )
    if total:
        for i, col in enumerate(columns):
            if not col.is_numeric or columns_raw[i].get("total") is False:
                continue
            parts = [block.grid_field(r.id, col.id) for r in rows]
            cells.append(
                FieldSpec(
                    id=block.grid_field("total", col.id),
                    label=f"{prefix}{total_label}{col.label if multi else ''}",
                    type=col.type,
                    sheet=sheet,
                    decimals=col.decimals,
                    unit=col.unit,
                    required=total == "declared",
                    hint="按批复或报表填写合计数，系统将与各项之和核对" if total == "declared" else "",
                    compute={"sum": parts} if total == "computed" else None,
                )
            )
    return Block(
        kind="grid",
        id=grid_id,
        label=label,
        fields=tuple(cells),
        grid_rows=rows,
        grid_columns=columns,
        total=total,
        total_label=total_label,
    )


def load_spec(path: Path | None = None, rubric_path: Path | None = None) -> FormSpec:
    """Load and validate form.yaml (and its rubric). Raises SpecError when malformed."""
    path = Path(path) if path else templates_dir() / "form.yaml"
    rubric = load_rubric(Path(rubric_path) if rubric_path else path.parent / "rubric.yaml")
    with malformed_in(path):
        return _load_spec(path, rubric)


def _load_spec(path: Path, rubric: Rubric) -> FormSpec:
    ctx = _Ctx(path)
    root = ctx.mapping(_read_yaml(path), "(根)")
    form = ctx.mapping(root.get("form"), "form")
    enums_raw = ctx.mapping(root.get("enums", {}), "enums")
    for key in enums_raw:  # each list becomes the defined name L_<key>
        ctx.ident_value(str(key), f"enums.{key}")
    enums = {k: tuple(str(v) for v in ctx.seq(vals, f"enums.{k}")) for k, vals in enums_raw.items()}
    sheets: list[SheetSpec] = []
    fields: dict[str, FieldSpec] = {}
    tables: dict[str, TableSpec] = {}

    def add_field(f: FieldSpec, where: str) -> None:
        if f.id in fields or f.id in tables:
            raise ctx.fail(where, f"字段 id 重复：{f.id}")
        fields[f.id] = f

    for si, s in enumerate(ctx.seq(root.get("sheets"), "sheets")):
        swhere = f"sheets[{si}]"
        s = ctx.mapping(s, swhere)
        sid = ctx.ident(s, "id", swhere)
        blocks = []
        for bi, b in enumerate(ctx.seq(s.get("blocks"), f"{swhere}.blocks")):
            bwhere = f"{swhere}.blocks[{bi}]"
            b = ctx.mapping(b, bwhere)
            kind = b.get("kind")
            if kind == "fields":
                fs = tuple(
                    _field(ctx, f, f"{bwhere}.fields[{i}]", sid, enums)
                    for i, f in enumerate(ctx.seq(b.get("fields"), f"{bwhere}.fields"))
                )
                for i, f in enumerate(fs):
                    add_field(f, f"{bwhere}.fields[{i}]")
                blocks.append(Block(kind="fields", label=str(b.get("label", "")), fields=fs))
            elif kind == "grid":
                block = _grid(ctx, b, bwhere, sid, enums, rubric)
                for f in block.fields:
                    add_field(f, bwhere)
                blocks.append(block)
            elif kind == "table":
                tid = ctx.ident(b, "id", bwhere)
                cols = tuple(
                    _column(ctx, c, f"{bwhere}.columns[{i}]", enums)
                    for i, c in enumerate(ctx.seq(b.get("columns"), f"{bwhere}.columns"))
                )
                rows = b.get("rows", 10)
                if not isinstance(rows, int) or rows < 1:
                    raise ctx.fail(f"{bwhere}.rows", "应为正整数")
                if tid in tables or tid in fields:
                    raise ctx.fail(bwhere, f"表格 id 重复：{tid}")
                table = TableSpec(tid, str(b.get("label", "")), sid, rows, cols)
                tables[tid] = table
                blocks.append(Block(kind="table", id=tid, label=table.label, table=table))
            else:
                raise ctx.fail(f"{bwhere}.kind", f"未知块类型 {kind!r}（可选：fields, grid, table）")
        name = _sheet_name(ctx, s, swhere, sheets)
        sheets.append(SheetSpec(sid, name, str(s.get("title", "")), str(s.get("unit", "")), tuple(blocks)))
    spec = FormSpec(
        form_id=ctx.text(form, "id", "form"),
        version=ctx.text(form, "version", "form"),
        title=str(form.get("title", "")),
        unit=str(form.get("unit", "万元")),
        enums=enums,
        sheets=tuple(sheets),
        rubric=rubric,
        fields=fields,
        tables=tables,
        source=path,
    )
    _check_references(ctx, spec)
    return spec


def _check_references(ctx: _Ctx, spec: FormSpec) -> None:
    """Every compute op must name fields / table columns that exist (ops.py checks each op)."""
    for f in spec.fields.values():
        if f.compute:
            problem = check_op(f.compute, spec)
            if problem:
                raise ctx.fail(f"字段 {f.id}.compute", problem)


def default_spec() -> FormSpec:
    """The spec of the default (newest installed) pack. A shim: new code takes a ``FormPack``."""
    from .packs import default_pack

    return default_pack().spec
