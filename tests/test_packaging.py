"""`pip install .` gives a real wheel carrying the form spec and templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    [whl] = out.glob("xlproc-*.whl")
    return whl


def test_wheel_contains_templates_and_entry_point(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for part in ("pack.yaml", "form.yaml", "rubric.yaml", "rules.yaml", "report.yaml", "report.docx"):
        assert f"xlproc/workbook_templates/zpb-2023/{part}" in names, part
    for part in (
        "web/migrations/env.py",
        "web/migrations/versions/0001_initial.py",
        "web/templates/base.html",
        "web/static/app.css",
        "web/static/picker.js",
    ):
        assert f"xlproc/{part}" in names, part  # the portal's migrations, pages and assets ship too
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "xlproc = xlproc.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_installed_wheel_runs_outside_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = "import xlproc.form.spec as s; print(s.templates_dir())"
    where = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(site))
    subprocess.run(
        [sys.executable, "-m", "xlproc", "template", "-o", "表.xlsx", "--year", "2024"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [sys.executable, "-m", "xlproc", "extract", "表.xlsx", "--format", "json"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert '"value": "2024"' in out.stdout
