"""Typed, formatted access to a submission's fields for the context builder.

``Values`` wraps a ``Submission`` so the section builders read like the report they
produce: ``v.money("cash")`` is the 万元 text of a field with its own decimals,
``v.num("cash")`` the Decimal (0 when blank), ``v.text("dept_name")`` clean text.
Unknown field ids read as blank, so an older form version degrades to "nothing to
report" instead of crashing the report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..form.spec import Block, FormSpec
from ..submission import Submission
from .formatting import clean_inline, clean_text, fmt_count, fmt_money, fmt_percent, fmt_score, to_decimal


class Values:
    """Read a submission's fields as Decimal / formatted text."""

    def __init__(self, sub: Submission):
        self.sub = sub
        self.spec: FormSpec = sub.spec

    def raw(self, field_id: str) -> Any:
        """The value as read (Decimal / str / date / None); None for unknown ids."""
        fv = self.sub.fields.get(field_id)
        return None if fv is None else fv.value

    def dec(self, field_id: str) -> Decimal | None:
        """The Decimal value, or None when blank / not a number."""
        return to_decimal(self.raw(field_id))

    def num(self, field_id: str) -> Decimal:
        """The Decimal value, 0 when blank."""
        d = self.dec(field_id)
        return Decimal(0) if d is None else d

    def decimals(self, field_id: str, default: int = 2) -> int:
        """The field's decimals from the spec (money 2 unless the field allows 4)."""
        f = self.spec.fields.get(field_id)
        d = self.spec.decimals(f) if f is not None else None
        return default if d is None else d

    def money(self, field_id: str) -> str:
        """万元 text with the field's own decimals."""
        return fmt_money(self.raw(field_id), self.decimals(field_id))

    def pct(self, field_id: str) -> str:
        """Percentage text, e.g. 87.40%."""
        return fmt_percent(self.raw(field_id))

    def count(self, field_id: str) -> str:
        """Whole-number text (blank → 0)."""
        return fmt_count(self.raw(field_id))

    def score(self, field_id: str) -> str:
        """Score text without trailing zeros."""
        return fmt_score(self.raw(field_id), self.decimals(field_id, 2))

    def text(self, field_id: str) -> str:
        """One-line text (enum values, names)."""
        value = self.raw(field_id)
        if isinstance(value, Decimal):
            return fmt_score(value, 4)
        return clean_inline(value)

    def para(self, field_id: str) -> str:
        """Multi-line text: the department's 说明, one paragraph per line."""
        value = self.raw(field_id)
        if isinstance(value, Decimal):
            return fmt_score(value, 4)
        return clean_text(value)

    def yes(self, field_id: str) -> bool:
        """The enum answer is 是."""
        return self.text(field_id) == "是"

    def has(self, field_id: str) -> bool:
        """A non-zero number or non-blank text."""
        value = self.raw(field_id)
        d = to_decimal(value)
        if d is not None:
            return d != 0
        return bool(clean_inline(value))

    def grid(self, grid_id: str) -> Block | None:
        """The spec's grid block (rows and columns) by id."""
        for sheet in self.spec.sheets:
            for block in sheet.blocks:
                if block.kind == "grid" and block.id == grid_id:
                    return block
        return None

    def records(self, table_id: str) -> list[dict[str, Any]]:
        """The table's non-empty rows, in sheet order."""
        table = self.sub.tables.get(table_id)
        if table is None:
            return []
        out = []
        for r in table.rows:
            cells = {k: v for k, v in r.items() if k != "row"}
            if any(_present(v) for v in cells.values()):
                out.append(cells)
        return out


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:  # NaN from pandas
        return False
    return not (isinstance(value, str) and not value.strip())
