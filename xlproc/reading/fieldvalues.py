"""Building the reader's ``FieldValue`` records quickly.

A workbook has a few hundred fields, and the generated ``__init__`` of a frozen
dataclass sets each attribute through ``object.__setattr__`` (about 4 µs per record
here, ~1 ms per workbook). ``field_value`` makes the same record by filling the new
instance's ``__dict__`` in one step, which is what that ``__init__`` leaves behind
(``FieldValue`` has no ``__post_init__``, no slots and no default factories; the
test ``tests/test_reading.py::test_field_value_is_the_dataclass_record`` checks this
and that the parameters stay those of the dataclass).
"""

from __future__ import annotations

from typing import Any

from ..submission import FieldValue

_new = object.__new__


def field_value(
    id: str,
    label: str,
    sheet: str,
    cell: str,
    value: Any,
    raw: Any = None,
    problem: str = "",
    computed: bool = False,
    formula: str = "",
    typed: Any = None,
) -> FieldValue:
    """``FieldValue(id, label, …)``, equal in every respect, made without its ``__init__``."""
    record = _new(FieldValue)
    record.__dict__.update(
        id=id,
        label=label,
        sheet=sheet,
        cell=cell,
        value=value,
        raw=raw,
        problem=problem,
        computed=computed,
        formula=formula,
        typed=typed,
    )
    return record
