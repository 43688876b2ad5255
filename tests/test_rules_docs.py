"""The README lists every rule (id, severity, meaning) and every rule type, generated from
the catalogue; ``pytest --update-golden`` rewrites the README tables."""

from __future__ import annotations

import re
from pathlib import Path

from xlproc.rules import load_catalogue, rule_table, rule_table_markdown, rule_types_markdown
from xlproc.rules.types import TYPES

README = Path(__file__).parent.parent / "README.md"


def _block(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"<!-- {name} -->") + len(f"<!-- {name} -->")
    return start, text.index(f"<!-- /{name} -->")


def test_readme_rule_tables_are_generated_from_the_catalogue(update_golden):
    cat = load_catalogue()
    text = README.read_text(encoding="utf-8")
    wanted = {"rules:table": rule_table_markdown(cat), "rules:types": rule_types_markdown()}
    if update_golden:
        for name, body in wanted.items():
            a, b = _block(text, name)
            text = text[:a] + "\n" + body + "\n" + text[b:]
        README.write_text(text, encoding="utf-8")
    for name, body in wanted.items():
        a, b = _block(text, name)
        assert text[a:b].strip() == body, f"README {name} is stale: run pytest --update-golden"


def test_every_rule_and_type_appears_in_the_readme():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("<!-- section:check -->") : text.index("<!-- /section:check -->")]
    for row in rule_table(load_catalogue()):
        assert re.search(rf"\| `{re.escape(row['id'])}` \| {row['severity']}", section), row["id"]
    for name in TYPES:
        assert f"| `{name}` |" in section, name
    assert "xlproc check" in section
