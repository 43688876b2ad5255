"""Declared runtime dependencies are exactly the third-party modules the package imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# import name → distribution name, where they differ
DISTRIBUTION = {
    "PIL": "pillow",
    "docx": "python-docx",
    "yaml": "pyyaml",
    "python_calamine": "python-calamine",
    "isal": "isal",
    "argon2": "argon2-cffi",
    "distributed": "dask",
}
# front ends and optional features declare theirs as extras
EXTRAS_ONLY = {"web", "dataset"}


def _imports(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        stage = path.relative_to(folder).parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "xlproc":
                    found.setdefault(DISTRIBUTION.get(top, top).lower().replace("_", "-"), set()).add(stage)
    return found


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_runtime_dependencies_are_the_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _names(project["dependencies"])
    extras = set().union(*(_names(v) for v in project["optional-dependencies"].values()))
    used = _imports(ROOT / "xlproc")
    core = {d for d, stages in used.items() if not stages <= EXTRAS_ONLY and d != "dask"}
    assert core - declared == set(), f"imported but not declared: {sorted(core - declared)}"
    assert declared - set(used) == set(), f"declared but never imported: {sorted(declared - set(used))}"
    optional = {d for d, stages in used.items() if stages <= EXTRAS_ONLY} - declared
    assert optional <= extras | {"dask"}, f"imported by an optional feature but in no extra: {optional - extras}"
