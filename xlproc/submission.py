"""The typed submission: what a filled workbook says, independent of Excel.

``read_workbook`` (reading/workbook.py) produces it; rules, report and batch consume it.
Numbers are ``Decimal``, dates ``datetime.date``, text ``str``, blanks ``None``.
Every value keeps its sheet and cell so findings can point back at it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .form.spec import FormSpec, TableSpec
from .results import jsonable

if TYPE_CHECKING:  # pandas costs ~55 MB per batch worker; imported only when a frame is used
    import pandas as pd

Value = Decimal | str | date | None


@dataclass(frozen=True)
class CellProblem:
    """A cell whose content could not be read with certainty (text in a number cell …)."""

    sheet: str
    cell: str
    label: str
    raw: Any
    message: str
    field_id: str = ""  # a field id, or "table.column" for a table cell

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


@dataclass(frozen=True)
class FormulaCell:
    """An input cell holding the department's own formula: read by its cached value only."""

    sheet: str
    cell: str
    label: str
    field_id: str  # a field id, or "table.column" for a table cell
    formula: str  # as stored, without "=" ("" for a cell sharing another cell's formula)
    value: Any  # the value read (the formula's result as last computed by the office suite)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


# FieldValue.formula: what the sheet holds in the field's cell, when the sheet XML was scanned.
FORMULA_KEPT = "kept"  # a computed cell still holds a formula
FORMULA_TYPED = "typed"  # a computed cell holds a typed constant instead (see ``typed``)
FORMULA_CLEARED = "cleared"  # a computed cell was emptied
FORMULA_OWN = "own"  # an input cell holds the department's own formula


@dataclass(frozen=True)
class FieldValue:
    """One field of the form as read (or, for ``computed``, as recomputed).

    ``value`` is None for a blank cell and for one that could not be read, which then
    has its ``problem`` (never 0). A computed field is None with a ``problem`` when an
    input it depends on could not be read.
    """

    id: str
    label: str
    sheet: str
    cell: str
    value: Value
    raw: Any = None
    problem: str = ""
    computed: bool = False
    formula: str = ""  # "", or one of FORMULA_* above
    typed: Any = None  # FORMULA_TYPED: the constant in the cell (Decimal when it reads as a number)

    @property
    def is_blank(self) -> bool:
        return self.value is None and not self.problem

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "id": self.id,
                "label": self.label,
                "sheet": self.sheet,
                "cell": self.cell,
                "value": self.value,
                "computed": self.computed,
                **({"raw": self.raw, "problem": self.problem} if self.problem else {}),
                **({"formula": self.formula} if self.formula and self.formula != FORMULA_KEPT else {}),
                **({"typed": self.typed} if self.formula == FORMULA_TYPED else {}),
            }
        )


@dataclass
class TableData:
    """A repeating table: one row per non-empty Excel row.

    ``rows`` are plain dicts (column id → Decimal / str / date / None, plus ``row``,
    the Excel row number); ``frame`` is the same as a pandas DataFrame, built on first
    use. Column letters are in ``columns`` so every value can be located.
    """

    spec: TableSpec
    sheet: str
    rows: list[dict[str, Any]]
    columns: dict[str, str]  # column id → column letter

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=[*(c.id for c in self.spec.columns), "row"], dtype=object)

    def cell(self, row: int, column_id: str) -> str:
        return f"{self.columns[column_id]}{row}"

    def column(self, column_id: str) -> list[Any]:
        return [r.get(column_id) for r in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"sheet": self.sheet, "columns": self.columns, "rows": self.records()})


@dataclass
class Submission:
    """A department's workbook, read."""

    source: Path
    spec: FormSpec
    form_id: str
    form_version: str
    fields: dict[str, FieldValue]
    tables: dict[str, TableData]
    problems: list[CellProblem] = field(default_factory=list)
    formulas: list[FormulaCell] = field(default_factory=list)  # input cells with the department's formula
    scans: dict[str, Any] = field(default_factory=dict, repr=False)  # sheet → reading.sheetscan.SheetScan

    def value(self, field_id: str) -> Value:
        return self.fields[field_id].value

    def __getitem__(self, field_id: str) -> FieldValue:
        return self.fields[field_id]

    @property
    def department(self) -> str:
        name = self.fields.get(self.spec.department_field)
        return str(name.value).strip() if name is not None and name.value else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "form_id": self.form_id,
            "form_version": self.form_version,
            "fields": [f.to_dict() for f in self.fields.values()],
            "tables": {k: t.to_dict() for k, t in self.tables.items()},
            "problems": [p.to_dict() for p in self.problems],
            "formulas": [f.to_dict() for f in self.formulas],
        }
