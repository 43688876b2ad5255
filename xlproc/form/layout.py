"""Where every field and table of the form sits in the generated template.

The layout is derived from the spec alone (block order, fixed column roles), so the
template writer and the Excel-formula renderer agree on addresses. Reading never
relies on these positions: it follows the defined names written into the workbook,
which move with the cells when a department inserts rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ooxml.a1 import a1 as _a1
from ..ooxml.a1 import col_letters
from .spec import Block, FormSpec, SheetSpec

FIRST_ROW = 4  # rows 1-3: title, unit line, blank
LABEL_COL = 0  # A
VALUE_COL = 1  # B


def col_letter(index: int) -> str:
    """0-based column index → Excel letters (the layout counts from 0; see ``ooxml.a1``)."""
    return col_letters(index + 1)


def a1(row: int, col: int) -> str:
    """0-based row/col → A1 (row is 0-based too)."""
    return _a1(row + 1, col + 1)


@dataclass
class TablePlace:
    """A repeating table: header row and the data rows (0-based, inclusive)."""

    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, int]  # column id → 0-based column index

    def column_range(self, column_id: str) -> str:
        col = self.columns[column_id]
        return f"{a1(self.first_row, col)}:{a1(self.last_row, col)}"


@dataclass
class SheetLayout:
    """Positions of one sheet's blocks: block index → start row, plus cells."""

    sheet: SheetSpec
    block_rows: list[int] = field(default_factory=list)
    last_row: int = 0


@dataclass
class Layout:
    """Field id → (sheet id, row, col) and table id → TablePlace, all 0-based."""

    cells: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    tables: dict[str, TablePlace] = field(default_factory=dict)
    sheets: dict[str, SheetLayout] = field(default_factory=dict)

    def ref(self, field_id: str) -> str:
        _, row, col = self.cells[field_id]
        return a1(row, col)


def _block_height(block: Block) -> int:
    if block.kind == "fields":
        return len(block.fields) + (1 if block.label else 0)
    if block.kind == "grid":
        return 1 + len(block.grid_rows) + (1 if block.total else 0)
    assert block.table is not None
    return 2 + block.table.rows  # label row, header row, data rows


def build_layout(spec: FormSpec) -> Layout:
    """Place every block of every sheet, one blank row between blocks."""
    layout = Layout()
    for sheet in spec.sheets:
        sl = SheetLayout(sheet)
        row = FIRST_ROW - 1
        for block in sheet.blocks:
            sl.block_rows.append(row)
            _place(block, sheet.id, row, layout)
            row += _block_height(block) + 1
        sl.last_row = row
        layout.sheets[sheet.id] = sl
    return layout


def _place(block: Block, sheet_id: str, row: int, layout: Layout) -> None:
    if block.kind == "fields":
        r = row + (1 if block.label else 0)
        for f in block.fields:
            layout.cells[f.id] = (sheet_id, r, VALUE_COL)
            r += 1
    elif block.kind == "grid":
        for ri, grow in enumerate(block.grid_rows):
            for ci, col in enumerate(block.grid_columns):
                layout.cells[block.grid_field(grow.id, col.id)] = (sheet_id, row + 1 + ri, VALUE_COL + ci)
        if block.total:
            total_row = row + 1 + len(block.grid_rows)
            for ci, col in enumerate(block.grid_columns):
                fid = block.grid_field("total", col.id)
                if any(f.id == fid for f in block.fields):
                    layout.cells[fid] = (sheet_id, total_row, VALUE_COL + ci)
    else:
        table = block.table
        assert table is not None
        first = row + 2
        layout.tables[table.id] = TablePlace(
            header_row=row + 1,
            first_row=first,
            last_row=first + table.rows - 1,
            columns={c.id: VALUE_COL + i for i, c in enumerate(table.columns)},
        )
