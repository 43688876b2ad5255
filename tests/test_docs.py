"""The docs for two readers: a short README for the bureau's IT person, the rest under docs/.

Generated parts (the CLI reference, the compute-op table) are checked for staleness;
``pytest --update-golden`` rewrites them. Docstrings cite only files that exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from script_modules import load_script

from xlproc.form.ops import OPS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def ops_markdown() -> str:
    rows = ["| op | written as | value |", "| --- | --- | --- |"]
    rows += [f"| `{op.name}` | `{op.syntax}` | {op.doc} |" for op in OPS.values()]
    return "\n".join(rows)


def _block(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"<!-- {name} -->") + len(f"<!-- {name} -->")
    return start, text.index(f"<!-- /{name} -->")


def test_cli_reference_is_generated_from_the_app(update_golden):
    module = load_script("make_cli_docs")
    text = module.render()
    if update_golden:
        module.OUT.write_text(text, encoding="utf-8")
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == text, (
        "docs/cli.md is stale: run .venv/bin/python scripts/make_cli_docs.py"
    )
    from xlproc.cli.app import COMMANDS

    for name in COMMANDS:
        assert f"## xlproc {name}" in text


def test_compute_op_table_lists_the_registry(update_golden):
    path = DOCS / "pack-format.md"
    text = path.read_text(encoding="utf-8")
    a, b = _block(text, "ops:table")
    if update_golden:
        text = text[:a] + "\n" + ops_markdown() + "\n" + text[b:]
        path.write_text(text, encoding="utf-8")
        a, b = _block(text, "ops:table")
    assert text[a:b].strip() == ops_markdown(), "docs/pack-format.md ops table is stale: pytest --update-golden"


def test_readme_is_short_and_its_links_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 11 * 1024
    assert "make demo" in readme and "make test" in readme
    for word in ("退出码", "xlproc packs", "pack.yaml", "rules.yaml", "wording"):
        assert word in readme, word
    links = re.findall(r"\]\(([^)#]+)", readme)
    assert links
    for link in links:
        assert (ROOT / link).exists(), link


def test_every_doc_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in sorted(DOCS.glob("*.md")):
        assert f"docs/{path.name}" in readme, path.name


def test_docstrings_cite_only_files_that_exist():
    names = {p.name for p in ROOT.rglob("*") if not {".venv", ".git", "node_modules"} & set(p.parts)}
    path_like = re.compile(r"(?<![\w./<-])((?:[\w.-]+/)+[\w.-]+\.(?:py|yaml|md|docx|json|toml))")
    bare = re.compile(r"(?<![\w/.-])([\w-]+\.(?:py|yaml|md|docx))\b")
    missing = []
    for p in sorted((ROOT / "xlproc").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            doc = ast.get_docstring(node) or ""
            for ref in path_like.findall(doc):
                if not any(c.exists() for c in (ROOT / ref, ROOT / "xlproc" / ref, p.parent / ref)):
                    missing.append(f"{p.relative_to(ROOT)}: {ref}")
            missing += [f"{p.relative_to(ROOT)}: {ref}" for ref in bare.findall(doc) if ref not in names]
    assert not missing, "\n".join(missing)
