"""The rule catalogue and the cross-check engine (``xlproc check``).

Public API::

    load_catalogue(path=None, spec=None) -> Catalogue     # compile once, raises CatalogueError
    run_checks(sub, catalogue=None, previous=None) -> CheckReport
    check_previous(sub, previous, catalogue=None) -> list[Finding]
    rule_table(catalogue) -> list[dict]                    # id, severity, meaning (README)

Modules: intervals (rounding-aware numbers), expr (the safe expression language),
context (a submission as intervals), types/builtin (rule types), catalogue (loading),
engine (running), messages (Chinese templates), docs (README table).
"""

from __future__ import annotations

from .catalogue import Catalogue, CatalogueError, load_catalogue
from .docs import rule_table, rule_table_markdown, rule_types_markdown
from .engine import check_previous, default_catalogue, run_checks

__all__ = [
    "Catalogue",
    "CatalogueError",
    "check_previous",
    "default_catalogue",
    "load_catalogue",
    "rule_table",
    "rule_table_markdown",
    "rule_types_markdown",
    "run_checks",
]
