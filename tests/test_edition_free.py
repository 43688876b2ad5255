"""Nothing in the package names an id of a particular edition: form-specific names live in packs.

Every field, table and grid id of the shipped packs' form.yaml is searched for, as a whole
identifier, in every source file of ``xlproc/`` (Python, Jinja/HTML templates, scripts),
docstrings and comments included: an example in a docstring that uses a real field id
reads as if the code depended on it. f-strings that assemble an id from pieces
(``f"score_{cat.id}_score"``) are caught too. The compute ops' names are vocabulary of the
pack format and must not be anybody's field id either.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from xlproc.form.ops import OPS
from xlproc.form.packs import installed_packs, packs_root

PACKAGE = Path(__file__).resolve().parent.parent / "xlproc"
SOURCE_SUFFIXES = {".py", ".html", ".js", ".css", ".mako"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Ids of the shipped packs that are also ordinary words of the code. Each is allowed
# because the code uses the word for its own generic meaning, never as the pack's id:
GENERIC_WORDS = {
    # a variable/parameter for the form's year all over the package; the year *field* is
    # named by pack.yaml ``year_field``
    "year",
    # the vocabulary of the pack format: rubric.yaml ``kind: score`` (vs bonus/deduction)
    # and pack.yaml summary ``kind: score``; the rubric grid of the district form is also
    # called ``score``, which the code reaches only through the pack (wording.yaml scores.grid)
    "score",
    # English prose ("phone numbers typed into a text cell")
    "phone",
}


def edition_ids() -> dict[str, str]:
    """Field, table and grid ids of every shipped pack → where one of them defines it."""
    ids: dict[str, str] = {}
    for pack in installed_packs():
        if pack.dir.parent != packs_root():
            continue
        where = f"{pack.id}/form.yaml"
        for fid in pack.spec.fields:
            ids.setdefault(fid, f"{where} field")
        for tid in pack.spec.tables:
            ids.setdefault(tid, f"{where} table")
        for sheet in pack.spec.sheets:
            for block in sheet.blocks:
                if block.kind == "grid" and block.id:
                    ids.setdefault(block.id, f"{where} grid")
    return ids


def _assembled(node: ast.JoinedStr) -> re.Pattern[str] | None:
    """A pattern for the ids an f-string can produce, when its literal parts look like id pieces."""
    literals = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if not any(re.search(r"[A-Za-z]{2,}_|_[A-Za-z]{2,}", text) for text in literals):
        return None  # "{a}_{b}", "dec{n}", "{n}s": not a piece of any particular id
    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else "[A-Za-z0-9_]+" for v in node.values]
    return re.compile("".join(parts))


def edition_names_in(text: str, suffix: str, ids: dict[str, str]) -> list[tuple[int, str]]:
    """(line, id) of every edition id a source text names (generic words allowed)."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in IDENTIFIER.finditer(line):
            if m.group() in ids and m.group() not in GENERIC_WORDS:
                found.append((n, m.group()))
    if suffix == ".py":
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.JoinedStr) and (pattern := _assembled(node)):
                found += [(node.lineno, f"{fid} (assembled)") for fid in ids if pattern.fullmatch(fid)]
    return found


def test_shipped_packs_give_hundreds_of_ids_to_look_for():
    ids = edition_ids()
    assert len(ids) > 200
    assert {"score_total", "score_converted", "budget_income_total", "goals", "sangong"} <= set(ids)
    # the 2024 edition's own ids are looked for too
    assert {"budget_execution_rate", "actual_exp_total"} & set(ids)


@pytest.mark.parametrize(
    ("suffix", "source", "expected"),
    [
        (".html", '{% if sub.figures.get("score_total") %}{{ sub.figures["score_total"] }}{% endif %}', 2),
        (".py", 'value = figures["score_converted"]\n', 1),
        (".py", "total = sub.fields.score_total.value  # attribute access\n", 1),
        (".py", '"""Docstring: ``budget_income_total == sum(budget_income.amount)``."""\n', 2),
        (".py", "for year in range(3):\n    pass  # year is a generic word\n", 0),
        (".py", 'name = f"{grid}_{row}_{column}" + f"dec{n}"\n', 0),
        (".py", "score_totals = scoreboard  # longer identifiers are other words\n", 0),
    ],
)
def test_the_scan_finds_whole_ids_in_code_and_templates(suffix, source, expected):
    assert len(edition_names_in(source, suffix, edition_ids())) == expected


def test_the_scan_finds_ids_assembled_in_f_strings():
    hits = edition_names_in('ids = [f"score_{cat.id}_score" for cat in cats]\n', ".py", edition_ids())
    assert "score_policy_score (assembled)" in {name for _line, name in hits}


def test_package_source_names_no_id_of_a_shipped_edition():
    ids = edition_ids()
    files = sorted(p for p in PACKAGE.rglob("*") if p.suffix in SOURCE_SUFFIXES)
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".py" for p in files)
    bad = []
    for path in files:
        for line, name in edition_names_in(path.read_text(encoding="utf-8"), path.suffix, ids):
            fid = name.split(" ")[0]
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {name} ({ids[fid]})")
    assert not bad, "edition-specific ids in the package (move them into the pack):\n" + "\n".join(bad)


def test_compute_op_names_are_not_field_ids():
    ids = edition_ids()
    for pack in installed_packs():
        ids.update({fid: f"{pack.id} field" for fid in pack.spec.fields})
    clash = sorted(set(OPS) & set(ids))
    assert not clash, f"compute ops named like a pack's id: {clash} (name an op for what it computes)"
    assert {"rubric_total", "rubric_pct"} <= set(OPS)
