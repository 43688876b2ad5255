"""Findings as plain data (standard library only).

A ``Finding`` is one problem a rule found in one workbook; a ``CheckReport`` holds a
workbook's findings, sorted by sheet and cell, with counts and ``to_dict()``. Nothing
here knows about Excel libraries, so annotate, report and batch can all consume it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .ooxml.a1 import cell_sort_key as a1_sort_key

SEVERITIES = ("error", "warning", "info")
SEVERITY_LABELS = {"error": "强制性", "warning": "提示性", "info": "提示信息"}

cell_sort_key = a1_sort_key  # re-exported: findings are ordered by cell


def jsonable(value: Any) -> Any:
    """Decimal → str (exact), dates → ISO, containers recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class CellRef:
    """A cell of the workbook: sheet name (as shown in Excel) and A1 address."""

    sheet: str
    cell: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass(frozen=True)
class Finding:
    """One problem found by one rule.

    ``cells`` lists every input cell involved, the first being where the finding is
    shown (annotated, hyperlinked). ``expected`` / ``actual`` and ``operands`` are
    JSON-able (Decimals kept as strings so no precision is lost).
    """

    rule_id: str
    severity: str
    sheet: str
    cell: str
    message: str
    cells: tuple[CellRef, ...] = ()
    fields: tuple[str, ...] = ()  # field labels involved
    expected: Any = None
    actual: Any = None
    operands: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""  # the department's 说明 answer (kept across rounds)
    title: str = ""  # the rule's Chinese title (what the clerk reads; the id stays for machines)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def explained(self) -> bool:
        """A warning the department has answered. Errors cannot be explained away."""
        return self.severity != "error" and bool(self.explanation.strip())

    @property
    def sort_key(self) -> tuple:
        return (self.sheet, cell_sort_key(self.cell), self.rule_id, self.message)

    def to_dict(self) -> dict[str, Any]:
        # Built by hand rather than with dataclasses.asdict: a batch serialises every finding.
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
            "cells": [str(c) for c in self.cells],
            "fields": list(self.fields),
            "expected": jsonable(self.expected),
            "actual": jsonable(self.actual),
            "operands": jsonable(self.operands),
            "explanation": self.explanation,
            "explained": self.explained,
        }


@dataclass(frozen=True)
class ComputedCell:
    """A computed (locked formula) cell a finding points at, and the input cells feeding it."""

    label: str
    inputs: tuple[CellRef, ...]


@dataclass
class CheckReport:
    """All findings of one workbook, in stable order (sheet order of the form, then cell)."""

    source: str
    form_id: str = ""
    form_version: str = ""
    department: str = ""
    findings: list[Finding] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)
    sheet_order: tuple[str, ...] = ()
    # "sheet!cell" of each computed cell a finding points at → its label and input cells
    computed: dict[str, ComputedCell] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sort()

    def sort(self) -> None:
        order = {name: i for i, name in enumerate(self.sheet_order)}
        self.findings.sort(key=lambda f: (order.get(f.sheet, len(order)), *f.sort_key))

    @property
    def counts(self) -> dict[str, int]:
        c = {"error": 0, "warning": 0, "info": 0, "explained": 0, "open_warning": 0}
        for f in self.findings:
            c[f.severity] += 1
            if f.severity == "warning":
                c["explained" if f.explained else "open_warning"] += 1
        return c

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def flatten(self) -> list[tuple[str, str]]:
        """(rule id, cell) pairs — what tests assert on."""
        return [(f.rule_id, f.cell) for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "form_id": self.form_id,
            "form_version": self.form_version,
            "department": self.department,
            "counts": self.counts,
            "rules_run": list(self.rules_run),
            "findings": [f.to_dict() for f in self.findings],
        }
