"""The typed check step and the artifact writers: bytes in, bytes out, no disk."""

from __future__ import annotations

import dataclasses
import io
import json
import typing
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from xlproc.annotate import RESULTS_SHEET, annotate_workbook
from xlproc.errors import WorkbookError
from xlproc.form.packs import find_pack
from xlproc.pipeline import (
    ANNOTATED,
    FINDINGS,
    REPORT,
    WRITERS,
    CheckOutcome,
    check_workbook,
    map_previous,
)
from xlproc.pipeline import check as check_module
from xlproc.reading.workbook import read_workbook

SAMPLES = Path(__file__).parent.parent / "samples"


def _sample(part: str) -> Path:
    return next(p for p in sorted((SAMPLES / "inbox").glob("*.xlsx")) if part in p.name)


def test_outcome_is_a_typed_frozen_dataclass_without_any():
    assert dataclasses.is_dataclass(CheckOutcome) and CheckOutcome.__dataclass_params__.frozen
    hints = typing.get_type_hints(CheckOutcome, vars(check_module))
    assert typing.Any not in hints.values()
    signature = typing.get_type_hints(check_workbook, vars(check_module))
    assert signature["data"] is bytes and signature["return"] is CheckOutcome
    assert typing.Any not in signature.values()


def test_check_bytes_picks_the_pack_and_matches_the_file_reader():
    path = _sample("统计局")
    outcome = check_workbook(path.read_bytes(), source="统计局.xlsx")
    assert outcome.pack is find_pack("xlproc-zpb", "2023.1")
    assert outcome.department == read_workbook(path).department == "示例区统计局"
    assert outcome.report.source == "统计局.xlsx"
    assert outcome.report.counts["error"] >= 1
    assert outcome.previous is None and outcome.notes == ()


def test_artifacts_are_bytes_with_names_and_equal_the_disk_writers(tmp_path):
    path = _sample("统计局")
    outcome = check_workbook(path.read_bytes(), source=str(path))
    assert set(WRITERS) == {"annotated", "report", "findings"}
    annotated = ANNOTATED.write(outcome, "统计局")
    assert annotated.name == "统计局_审核.xlsx" and annotated.media_type.endswith("spreadsheetml.sheet")
    on_disk = annotate_workbook(path, outcome.report, tmp_path / "a.xlsx")
    assert annotated.data == on_disk.read_bytes()
    assert RESULTS_SHEET in openpyxl.load_workbook(io.BytesIO(annotated.data)).sheetnames

    report = REPORT.write(outcome, "统计局")
    # 统计局 has open findings: its report is a draft, and the file name says so
    assert report.name == "统计局_自评报告_草稿.docx"
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.data)).paragraphs)
    assert "示例区统计局" in text

    findings = FINDINGS.write(outcome, "统计局")
    assert findings.name == "统计局_审核结果.json"
    payload = json.loads(findings.data)
    assert payload["file"]["edition"] == "xlproc-zpb 2023.1" and payload["file"]["pack"] == "zpb-2023"
    assert [f["rule_id"] for f in payload["findings"]] == [f.rule_id for f in outcome.report.findings]


def test_checking_annotating_and_reporting_leave_no_reference_cycles():
    """Each file's data is freed as soon as it is done with, not left to the cyclic garbage
    collector: in a worker that collector's passes over thousands of Facts, rows and
    contexts per file cost more than a tenth of a millisecond each."""
    import gc

    paths = sorted((SAMPLES / "inbox").glob("*.xlsx")) + sorted((SAMPLES / "inbox" / "2024").glob("*.xlsx"))
    previous = sorted((SAMPLES / "previous").glob("**/*.xlsx"))  # 2022 for 2023, 2023 for 2024

    def one(path: Path) -> None:
        year = "2022" if path.parent.name == "inbox" else "2023"
        name = path.stem.split("_")[1]
        prev = next((p for p in previous if name in p.name and year in p.name), None)
        outcome = check_workbook(path.read_bytes(), source=str(path), previous=prev)
        ANNOTATED.write(outcome, "x")
        REPORT.write(outcome, "x")
        REPORT.write(outcome, "x", appendix=True)

    for path in paths:  # first use: lazy imports, compiled rules and templates, caches
        one(path)
    gc.collect()
    gc.disable()
    try:
        for path in paths:
            one(path)
        garbage = gc.collect()
    finally:
        gc.enable()
    assert garbage == 0


def test_the_first_pipeline_freezes_the_long_lived_heap_once():
    """A fresh process: building the first pipeline leaves what it prepared out of the
    collector's full passes (gc.freeze) and collects the young generation less often; a
    second one does not collect and freeze again."""
    import subprocess
    import sys

    script = (
        "import gc\n"
        "from xlproc.pipeline import Pipeline, PipelineOptions\n"
        "assert gc.get_freeze_count() == 0\n"
        "Pipeline.build(PipelineOptions(report=False))\n"
        "frozen = gc.get_freeze_count()\n"
        "assert gc.get_threshold()[0] == 5000, gc.get_threshold()\n"
        "Pipeline.build(PipelineOptions())\n"
        "print(frozen, gc.get_freeze_count())\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    first, second = map(int, run.stdout.split())
    assert first > 10_000 and second <= first  # frozen objects that died leave the count


def test_unannotatable_package_gives_a_separate_review_workbook(monkeypatch):
    path = _sample("统计局")
    outcome = check_workbook(path.read_bytes(), source=str(path))

    def refuse(*args, **kwargs):
        raise ValueError("rows without r attributes")

    monkeypatch.setattr("xlproc.annotate.annotate_bytes", refuse)
    artifact = ANNOTATED.write(outcome, "统计局")
    assert artifact.name == "统计局_审核意见.xlsx" and "rows without r" in artifact.note
    wb = openpyxl.load_workbook(io.BytesIO(artifact.data))
    assert wb.sheetnames == [RESULTS_SHEET]
    assert path.name in wb[RESULTS_SHEET]["A1"].value


def test_previous_year_given_as_bytes_or_path():
    current, previous = _sample("司法局"), SAMPLES / "previous" / "02_示例区司法局_2022.xlsx"
    by_path = check_workbook(current.read_bytes(), previous=previous, source="a.xlsx")
    by_bytes = check_workbook(current.read_bytes(), previous=previous.read_bytes(), source="a.xlsx")
    assert by_path.previous is not None and by_path.previous.source == str(previous)
    assert by_bytes.previous is not None
    assert by_path.report.rules_run == by_bytes.report.rules_run
    alone = check_workbook(current.read_bytes(), source="a.xlsx")
    assert set(by_path.report.rules_run) > set(alone.report.rules_run)  # the cross-year rules ran
    broken = check_workbook(current.read_bytes(), previous=b"not a workbook", source="a.xlsx")
    assert broken.previous is None and "上年工作簿无法读取" in broken.notes[0]


def test_unreadable_bytes_raise_workbook_error_naming_the_source():
    with pytest.raises(WorkbookError, match=r"坏\.xlsx"):
        check_workbook(b"PK\x03\x04 truncated", source="坏.xlsx")


def test_map_previous_same_edition_is_identity():
    sub = read_workbook(_sample("司法局"))
    pack = find_pack(sub.form_id, sub.form_version)
    assert map_previous(sub, pack, pack) is sub


def test_findings_artifact_is_valid_zip_free_json():
    outcome = check_workbook(_sample("司法局").read_bytes(), source="司法局.xlsx")
    data = FINDINGS.write(outcome).data
    assert not zipfile.is_zipfile(io.BytesIO(data))
    assert json.loads(data)["file"]["department"] == "示例区司法局"


def test_findings_json_is_the_payload_one_finding_a_line():
    """The C-encoded layout reads back as the payload itself, text with quotes, newlines and
    markup included, and a person scanning the file sees one finding per line."""
    from xlproc.pipeline.artifacts import findings_json, findings_payload

    outcome = check_workbook(_sample("统计局").read_bytes(), source="统计局.xlsx")
    payload = findings_payload(outcome)
    assert payload["findings"], "the sample carries findings"
    payload["findings"][0]["message"] += '"引号" \\ 反斜杠\n换行 <b>&amp;'
    data = findings_json(payload)
    assert json.loads(data) == payload
    lines = data.decode("utf-8").splitlines()
    assert sum(line.startswith('  {"rule_id": ') for line in lines) == len(payload["findings"])
    assert lines[0] == "{" and lines[-1] == "}" and len(lines) == len(payload) + 2 + len(payload["findings"]) + 1
    assert json.loads(findings_json({"findings": [], "rules_run": []})) == {"findings": [], "rules_run": []}
