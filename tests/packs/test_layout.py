"""Edition-specific tests are grouped per pack: ``tests/packs/<pack id with _>/``.

Every shipped pack has its folder of tests and every such folder names a shipped pack;
an id that only one edition has is named only by that edition's tests (the generic
tests run on the tiny fixture pack, or on the 2023 edition pinned in tests/conftest.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from xlproc.form.packs import default_pack, installed_packs, packs_root

TESTS = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
FIXTURE_PACKS = {"tiny"}  # pack folders used as test data, not tests of an edition
# test modules that name edition-only ids on purpose: the scan for edition ids in xlproc/
# proves on one that it looks at the 2024 edition too
NAMES_IDS_ON_PURPOSE = {TESTS / "test_edition_free.py"}


def _folder(pack_id: str) -> Path:
    return HERE / pack_id.replace("-", "_")


def test_every_shipped_pack_has_its_test_folder_and_no_other():
    shipped = {p.id for p in installed_packs() if p.dir.parent == packs_root()}
    folders = {p.name for p in HERE.iterdir() if p.is_dir() and p.name not in FIXTURE_PACKS | {"__pycache__"}}
    assert folders == {pid.replace("-", "_") for pid in shipped}
    for pid in shipped:
        assert (_folder(pid) / "__init__.py").is_file(), f"{_folder(pid)} must be a package (unique module names)"
        assert list(_folder(pid).glob("test_*.py")), f"no tests for the shipped pack {pid}"


def test_edition_tests_run_with_the_2023_edition_pinned():
    # tests/conftest.py pins the default pack for every folder below it, this one included
    assert os.environ["XLPROC_DEFAULT_PACK"] == "zpb-2023"
    assert default_pack().id == "zpb-2023"


def test_ids_of_one_edition_only_are_named_only_by_its_tests():
    packs = [p for p in installed_packs() if p.dir.parent == packs_root()]
    fields = {p.id: set(p.spec.fields) for p in packs}
    misplaced = []
    for pack in packs:
        if pack.id == "zpb-2023":  # the pinned edition the older generic tests are written against
            continue
        own = fields[pack.id] - set().union(*(f for pid, f in fields.items() if pid != pack.id))
        assert own, f"{pack.id} has no ids of its own to look for"
        for path in sorted(TESTS.rglob("*.py")):
            if path.is_relative_to(_folder(pack.id)) or path in NAMES_IDS_ON_PURPOSE:
                continue
            named = own & set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path.read_text(encoding="utf-8")))
            if named:
                misplaced.append(f"{path.relative_to(TESTS)} names {sorted(named)} of {pack.id}")
    assert not misplaced, "move these tests to their pack's folder:\n" + "\n".join(misplaced)
