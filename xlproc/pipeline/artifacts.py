"""Per-file artifacts as bytes: the annotated workbook, the report, the findings JSON.

Each writer has a kind, a file-name suffix and a media type, and turns a
``CheckOutcome`` into an ``Artifact`` (bytes + file name) without touching the disk,
so the batch task writes them into the outbox and a web handler streams them back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..form.memo import memo
from .check import CheckOutcome

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JSON = "application/json"


@dataclass(frozen=True)
class Artifact:
    """One output file: its kind, file name, media type and content."""

    kind: str
    name: str
    media_type: str
    data: bytes
    note: str = ""  # e.g. why the workbook could not be annotated in place


@dataclass(frozen=True)
class ArtifactWriter:
    """How one kind of artifact is made: ``write(outcome, stem, **options) -> Artifact``."""

    kind: str
    suffix: str  # appended to the source's stem: 部门_审核.xlsx
    media_type: str
    label: str  # what a user calls it
    make: Callable[..., Artifact]

    def write(self, outcome: CheckOutcome, stem: str | None = None, **options: Any) -> Artifact:
        return self.make(self, outcome, stem or Path(outcome.source).stem, **options)

    def name(self, stem: str) -> str:
        return f"{stem}{self.suffix}"


def _annotated(writer: ArtifactWriter, outcome: CheckOutcome, stem: str) -> Artifact:
    """The department's own workbook with fills, comments and a 审核结果 sheet.

    A package the part-level editor cannot edit safely gets a separate 审核意见 workbook
    instead (never a half-annotated copy); ``note`` says why.
    """
    from ..annotate import FALLBACK_SUFFIX, annotate_bytes
    from ..annotate.fallback import review_workbook_bytes
    from ..annotate.package import UnsupportedPackageError

    try:
        body, _cells, _filled = annotate_bytes(Path(outcome.source), outcome.report, data=outcome.data)
    except (UnsupportedPackageError, ValueError, KeyError, IndexError) as exc:
        body = review_workbook_bytes(outcome.report, Path(outcome.source).name)
        return Artifact(writer.kind, f"{stem}{FALLBACK_SUFFIX}.xlsx", XLSX, body, f"{type(exc).__name__}: {exc}")
    return Artifact(writer.kind, writer.name(stem), XLSX, body)


def _report(
    writer: ArtifactWriter, outcome: CheckOutcome, stem: str, *, renderer: Any = None, appendix: bool = False
) -> Artifact:
    """The narrative report (.docx) rendered with the pack's template (or ``renderer``).

    The check decides draft or final: with open findings the report is a draft — marked
    on every page, doubted figures 待核实, findings appended — and its file name gets ``_草稿``
    before the suffix.
    """
    from ..report import draft_path

    renderer = renderer or report_renderer(outcome.pack)
    body = renderer.render_docx(outcome.submission, report=outcome.report, appendix=appendix)
    return Artifact(writer.kind, draft_path(Path(writer.name(stem)), outcome.report).name, DOCX, body)


def findings_payload(outcome: CheckOutcome) -> dict[str, Any]:
    """The findings JSON document: the file, its edition, and the report."""
    return {
        "file": {
            "source": outcome.source,
            "sha256": outcome.sha256,
            "department": outcome.department,
            "pack": outcome.pack.id,
            "edition": outcome.pack.edition,
        },
        **outcome.report.to_dict(),
    }


# Without ``indent`` the json module encodes in C (three times faster than its indenting
# encoder, which is pure Python); the layout below is written around it.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def findings_json(payload: dict[str, Any]) -> bytes:
    """The findings document as UTF-8 JSON a person can still read: one top-level key per
    line and one finding per line (each encoded whole by the C encoder)."""
    lines = []
    for key, value in payload.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            text = "[\n  " + ",\n  ".join(_ENCODE(x) for x in value) + "\n ]"
        else:
            text = _ENCODE(value)
        lines.append(f" {_ENCODE(key)}: {text}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def _findings(writer: ArtifactWriter, outcome: CheckOutcome, stem: str) -> Artifact:
    return Artifact(writer.kind, writer.name(stem), JSON, findings_json(findings_payload(outcome)))


ANNOTATED = ArtifactWriter("annotated", "_审核.xlsx", XLSX, "批注工作簿", _annotated)
REPORT = ArtifactWriter("report", "_自评报告.docx", DOCX, "自评报告", _report)
FINDINGS = ArtifactWriter("findings", "_审核结果.json", JSON, "审核结果", _findings)
WRITERS: dict[str, ArtifactWriter] = {w.kind: w for w in (ANNOTATED, REPORT, FINDINGS)}
OUTPUT_SUFFIXES = {kind: w.suffix for kind, w in WRITERS.items()}


def report_renderer(pack: Any, template: Path | str | None = None) -> Any:
    """The report renderer of a pack (its report.docx and report.yaml), built once per pack and template."""

    def build() -> Any:
        from ..report import ReportRenderer
        from ..report.options import load_report_options

        return ReportRenderer(
            template=Path(template) if template else pack.report_template,
            options=load_report_options(pack.report_yaml),
        )

    return memo(pack, ("report_renderer", str(template or "")), build)
