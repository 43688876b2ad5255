"""Shared fixtures: the spec, a workbook factory, LibreOffice helpers, golden files.

Hypothesis profiles are chosen with HYPOTHESIS_PROFILE (dev | ci | thorough); CI
uses ``ci``. ``pytest --update-golden`` rewrites golden files instead of comparing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# The tests written against the 2023 edition (most of this folder) use the default pack;
# pin it, so shipping a newer edition does not change what they test. Tests of another
# edition name their pack (tests/packs/), generic ones use the tiny fixture pack.
os.environ.setdefault("XLPROC_DEFAULT_PACK", "zpb-2023")

from xlproc.form.spec import default_spec
from xlproc.io.office import find_soffice, resave_xlsx
from xlproc.template.fill import fill_workbook

TESTS = Path(__file__).parent
ROOT = TESTS.parent
GOLDEN = TESTS / "golden"
SAMPLES = ROOT / "samples"
SYSTEM_PYTHON = "/usr/bin/python3"

settings.register_profile("dev", max_examples=15, deadline=None)
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files instead of comparing")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden") or os.environ.get("XLPROC_UPDATE_GOLDEN"))


@pytest.fixture(scope="session")
def golden(update_golden: bool):
    """``golden(relpath, data)``: compare JSON-able data (or text) with tests/golden/relpath."""

    def check(relpath: str, data: Any) -> None:
        path = GOLDEN / relpath
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        if update_golden or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            if not update_golden:
                pytest.fail(f"golden file {path} did not exist; written — review and commit it")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"differs from golden {path} (run pytest --update-golden to accept)"

    return check


@pytest.fixture(scope="session")
def spec():
    return default_spec()


@pytest.fixture
def make_workbook(tmp_path: Path):
    """``make_workbook(values, tables=None, name="wb.xlsx")`` → a generated, filled workbook."""
    counter = {"n": 0}

    def make(values: dict[str, Any] | None = None, tables: dict | None = None, name: str | None = None) -> Path:
        counter["n"] += 1
        out = tmp_path / (name or f"wb{counter['n']}.xlsx")
        return fill_workbook(out, values or {}, tables)

    return make


@pytest.fixture(scope="session")
def soffice() -> str:
    """LibreOffice's executable; skips when missing unless XLPROC_REQUIRE_LIBREOFFICE=1 (CI)."""
    path = find_soffice()
    if path is None:
        if os.environ.get("XLPROC_REQUIRE_LIBREOFFICE"):
            pytest.fail("LibreOffice is required (XLPROC_REQUIRE_LIBREOFFICE=1) but soffice was not found")
        pytest.skip("LibreOffice (soffice) is not installed")
    return path


@pytest.fixture
def lo_resave(soffice: str, tmp_path: Path):
    """``lo_resave(path)`` → a copy opened and saved by LibreOffice Calc."""

    def resave(path: Path) -> Path:
        outdir = tmp_path / f"lo-{path.stem}"
        return resave_xlsx(path, outdir)

    return resave


@pytest.fixture
def lo_edit(soffice: str, tmp_path: Path):
    """``lo_edit(path, edits)`` → a copy edited in LibreOffice through UNO (see tests/lo_edit.py)."""
    if not (Path(SYSTEM_PYTHON).exists() and _has_uno()):
        if os.environ.get("XLPROC_REQUIRE_LIBREOFFICE"):
            pytest.fail("python3-uno is required for LibreOffice editing tests")
        pytest.skip("python3-uno is not installed")

    def edit(path: Path, edits: list[dict], name: str = "edited.xlsx") -> Path:
        edits_file = tmp_path / f"{name}.json"
        edits_file.write_text(json.dumps(edits, ensure_ascii=False), encoding="utf-8")
        out = tmp_path / name
        subprocess.run(
            [SYSTEM_PYTHON, str(TESTS / "lo_edit.py"), str(path), str(out), str(edits_file)],
            check=True,
            timeout=180,
        )
        return out

    return edit


def _has_uno() -> bool:
    try:
        subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], check=True, capture_output=True, timeout=30)
        return True
    except (subprocess.SubprocessError, OSError):
        return False


@pytest.fixture
def inbox_copy(tmp_path: Path) -> Path:
    """A private copy of samples/inbox (tests may add or break files in it)."""
    dst = tmp_path / "inbox"
    shutil.copytree(SAMPLES / "inbox", dst)
    return dst


def sample(name_part: str) -> Path:
    """The sample workbook in samples/inbox whose file name contains ``name_part``."""
    matches = sorted(p for p in (SAMPLES / "inbox").glob("*.xlsx") if name_part in p.name)
    if not matches:
        raise FileNotFoundError(f"no sample matching {name_part!r} in {SAMPLES / 'inbox'}")
    return matches[0]


def encrypt_workbook(src: Path, dst: Path, password: str = "secret") -> Path:
    """An Excel-encrypted copy of ``src`` (Agile encryption, as Excel's 'Encrypt with password')."""
    import io

    from msoffcrypto.format.ooxml import OOXMLFile

    with open(src, "rb") as fh:
        buf = io.BytesIO()
        OOXMLFile(fh).encrypt(password, buf)
    dst.write_bytes(buf.getvalue())
    return dst
