"""Fill a generated template with values: samples, tests and benchmarks.

``fill_workbook`` writes the project's own form with the given inputs already typed
in, exactly as a department would leave it (numbers as numbers, anything passed as
a string as text). It is the ``make_workbook`` of the test suite.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ..form.spec import FormSpec
from .build import write_template

FIXED_CREATED = datetime(2024, 1, 1)


def fill_workbook(
    out: Path,
    values: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]] | None = None,
    spec: FormSpec | None = None,
) -> Path:
    """Write the form to ``out`` with ``values`` (field id → value) and table rows filled in."""
    # A fixed creation time keeps regenerated samples byte-identical when their data is.
    return write_template(out, spec=spec, values=values, tables=tables, created=FIXED_CREATED)
