"""docs/rules.md lists every rule of every installed pack (id, severity, meaning) and every
rule type, generated from the catalogues; ``pytest --update-golden`` rewrites the tables."""

from __future__ import annotations

import re
from pathlib import Path

from xlproc.form.packs import installed_packs
from xlproc.rules import load_catalogue, rule_table, rule_table_markdown, rule_types_markdown
from xlproc.rules.types import TYPES

RULES_DOC = Path(__file__).parent.parent / "docs" / "rules.md"


def _block(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"<!-- {name} -->") + len(f"<!-- {name} -->")
    return start, text.index(f"<!-- /{name} -->")


def _catalogues():
    return [(pack, load_catalogue(pack.rules_path, spec=pack.spec)) for pack in installed_packs()]


def packs_markdown() -> str:
    parts = []
    for pack, cat in reversed(_catalogues()):  # newest edition first
        parts.append(f"### {pack.title}（`{pack.id}`，{pack.edition}）\n\n{rule_table_markdown(cat)}")
    return "\n\n".join(parts)


def test_rule_tables_are_generated_from_the_catalogues(update_golden):
    text = RULES_DOC.read_text(encoding="utf-8")
    wanted = {"rules:packs": packs_markdown(), "rules:types": rule_types_markdown()}
    if update_golden:
        for name, body in wanted.items():
            a, b = _block(text, name)
            text = text[:a] + "\n" + body + "\n" + text[b:]
        RULES_DOC.write_text(text, encoding="utf-8")
    for name, body in wanted.items():
        a, b = _block(text, name)
        assert text[a:b].strip() == body, f"docs/rules.md {name} is stale: run pytest --update-golden"


def test_every_rule_of_every_pack_and_every_type_is_documented():
    text = RULES_DOC.read_text(encoding="utf-8")
    for pack, cat in _catalogues():
        start = text.index(f"（`{pack.id}`，")
        section = text[start : text.index("<!-- /rules:packs -->")]
        for row in rule_table(cat):
            assert re.search(rf"\| `{re.escape(row['id'])}` \| {row['severity']}", section), (pack.id, row["id"])
    for name in TYPES:
        assert f"| `{name}` |" in text, name
    readme = (RULES_DOC.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/rules.md" in readme
