"""The per-file task of a batch: read → check → annotate → report → findings JSON.

A ``Pipeline`` holds what is expensive to prepare and identical for every file: the
form spec, the compiled rule catalogue and the report renderer (its template parsed
once). A worker process builds one and reuses it for thousands of files.

``process_file`` never raises for a bad workbook: an unreadable, encrypted or
wrong-version file, or any unexpected exception, becomes a ``FileResult`` with status
``failed`` and a Chinese error, so one file cannot stop a batch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import traceback
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from . import __version__
from .errors import XlprocError
from .form.spec import FormSpec, load_spec, templates_dir
from .io.atomic import write_bytes
from .io.names import inside, name_key, safe_component

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"

# Output file names inside OUTBOX/<部门名称>/, after the source file's stem.
OUTPUT_SUFFIXES = {
    "annotated": "_审核.xlsx",
    "report": "_自评报告.docx",
    "findings": "_审核结果.json",
}
UNNAMED_DEPARTMENT = "未填部门名称"
_TWO = Decimal("0.01")


@dataclass(frozen=True)
class PipelineOptions:
    """What a pipeline is built from. Picklable, so it travels to worker processes."""

    spec_path: str | None = None  # form.yaml; None → the packaged form
    rules_path: str | None = None  # rule catalogue; None → the packaged catalogue
    report_template: str | None = None  # .docx template; None → the packaged template
    annotate: bool = True  # write the annotated workbook
    report: bool = True  # write the narrative report
    report_findings: bool = False  # add the 审核情况 appendix to the report (off: the published version)


@dataclass
class Pipeline:
    """Everything a worker prepares once: spec, rule catalogue, report renderer."""

    options: PipelineOptions
    spec: FormSpec
    catalogue: Any
    renderer: Any
    fingerprint: str

    @classmethod
    def build(cls, options: PipelineOptions | None = None) -> Pipeline:
        """Load the spec, compile the rules and parse the report template."""
        from .rules import load_catalogue

        options = options or PipelineOptions()
        spec = load_spec(Path(options.spec_path)) if options.spec_path else _default_spec()
        catalogue = load_catalogue(Path(options.rules_path) if options.rules_path else None, spec=spec)
        renderer = None
        if options.report:
            from .report import ReportRenderer

            renderer = ReportRenderer(template=Path(options.report_template) if options.report_template else None)
        return cls(options, spec, catalogue, renderer, pipeline_fingerprint(options))


def _default_spec() -> FormSpec:
    from .form.spec import default_spec

    return default_spec()


def pipeline_versions(options: PipelineOptions) -> dict[str, str]:
    """What shapes the outputs besides the input workbook, each with a short content hash.

    The xlproc version, the options, every declarative file under ``workbook_templates/``
    (form spec, rubric, rule catalogue, report template and settings) and any file named
    in ``options``. Batch manifests record it, so a re-run can tell what changed.
    """
    versions = {"xlproc": __version__, "options": hashlib.sha256(repr(options).encode()).hexdigest()[:12]}
    paths = sorted(p for p in templates_dir().iterdir() if p.is_file())
    paths += [Path(p) for p in (options.spec_path, options.rules_path, options.report_template) if p]
    for p in paths:
        try:
            versions[str(p.name)] = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        except OSError:
            versions[str(p.name)] = "missing"
    return versions


def pipeline_fingerprint(options: PipelineOptions) -> str:
    """One hash of ``pipeline_versions``: outputs made under another fingerprint are remade."""
    return hashlib.sha256(json.dumps(pipeline_versions(options), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FileResult:
    """The outcome of one input file: plain data, picklable, JSON-able via ``to_dict``.

    ``findings`` are compact dicts (rule_id, severity, sheet, cell, message,
    explanation, explained); the full findings are in the JSON output file.
    ``outputs`` maps ``annotated`` / ``report`` / ``findings`` to paths relative to
    the outbox.
    """

    source: str  # path relative to the inbox, "/"-separated (stable across machines)
    sha256: str = ""
    department: str = ""
    status: str = STATUS_OK
    error: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    figures: dict[str, str | None] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    form_version: str = ""
    previous: str = ""  # previous-year workbook used for the cross-year rules
    previous_sha256: str = ""
    notes: tuple[str, ...] = ()  # batch-level remarks (duplicate department …)
    cached: bool = False  # outputs of an earlier run reused, file unchanged
    worker: str = ""  # pid of the process that made it
    peak_rss_kb: int = 0  # that process's peak resident set size so far

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileResult:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["notes"] = tuple(known.get("notes", ()))
        return cls(**known)


def safe_folder_name(name: str) -> str:
    """A department name usable as a folder name on Windows and Linux (``io.names``)."""
    return safe_component(name, UNNAMED_DEPARTMENT)


def output_paths(outbox: Path, department: str, stem: str) -> dict[str, Path]:
    """Where a source's outputs go: OUTBOX/<部门名称>/<stem>_审核.xlsx etc. (never outside OUTBOX)."""
    folder = Path(outbox) / safe_folder_name(department)
    stem = safe_component(stem, "工作簿")
    return {kind: inside(outbox, folder / f"{stem}{suffix}") for kind, suffix in OUTPUT_SUFFIXES.items()}


def _q(value: Any, places: Decimal = _TWO) -> str | None:
    if not isinstance(value, Decimal):
        return None
    try:
        return str(value.quantize(places, rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return None


def key_figures(sub: Any) -> dict[str, str | None]:
    """The figures the bureau's summary shows, as exact decimal strings (2 places)."""

    def val(field_id: str) -> Any:
        fv = sub.fields.get(field_id)
        return fv.value if fv is not None else None

    actual, prev = val("sangong_total_actual"), val("sangong_total_prev_actual")
    plan, spent = val("sanbao_total_plan"), val("sanbao_total_actual")
    change = actual - prev if isinstance(actual, Decimal) and isinstance(prev, Decimal) else None
    coverage = None
    if isinstance(plan, Decimal) and isinstance(spent, Decimal) and plan != 0:
        coverage = spent / plan * 100
    return {
        "score_total": _q(val("score_total"), Decimal("0.1")),
        "score_converted": _q(val("score_converted")),
        "income_total": _q(val("budget_income_total")),
        "sangong_actual": _q(actual),
        "sangong_prev": _q(prev),
        "sangong_change": _q(change),
        "sanbao_plan": _q(plan),
        "sanbao_actual": _q(spent),
        "sanbao_coverage": _q(coverage),
    }


def compact_finding(f: Any) -> dict[str, Any]:
    """The few keys of a finding the summary needs (keeps worker → parent traffic small)."""
    return {
        "rule_id": f.rule_id,
        "severity": f.severity,
        "sheet": f.sheet,
        "cell": f.cell,
        "message": f.message,
        "explanation": f.explanation,
        "explained": f.explained,
    }


def department_key(name: str) -> str:
    """How two department names are compared: NFKC (full/half width), whitespace and case ignored."""
    return name_key(name)


def check_file(path: Path, pipeline: Pipeline, previous: Any = None) -> tuple[Any, Any]:
    """``check_workbook`` with the pipeline's compiled catalogue; returns (submission, report)."""
    sub, report, _prev, _note = check_workbook(Path(path), pipeline.catalogue, previous)
    return sub, report


def check_workbook(
    path: Path, catalogue: Any, previous: Any = None, data: bytes | None = None
) -> tuple[Any, Any, str, str]:
    """Read a workbook, run the rule catalogue, carry over the department's 说明 answers.

    ``previous`` is last year's workbook: a path, a Submission, or a mapping from
    ``department_key`` to path (a batch's index; looked up once the department is known).
    A workbook the department returns after an earlier round carries its answers in
    the 审核结果 sheet; they are attached to the matching findings so explained
    warnings are not raised again. Returns (submission, report, previous workbook used,
    Chinese note when last year's workbook could not be read). Raises ``WorkbookError``
    when the file itself cannot be read.
    """
    from .annotate import apply_explanations, read_explanations
    from .reading.workbook import read_workbook
    from .rules import run_checks

    sub = read_workbook(path, data=data)
    if isinstance(previous, Mapping):
        previous = previous.get(department_key(sub.department))
    prev_sub, note = _read_previous(previous)
    report = run_checks(sub, catalogue, previous=prev_sub)
    explanations = read_explanations(path, data=data)
    if explanations:
        report = apply_explanations(report, explanations)
    used = str(previous) if isinstance(previous, (str, Path)) and prev_sub is not None else ""
    return sub, report, used, note


def _read_previous(previous: Any) -> tuple[Any, str]:
    """Last year's submission (or None) and a Chinese note when it could not be read."""
    if previous is None or not isinstance(previous, (str, Path)):
        return previous, ""
    from .reading.workbook import read_workbook

    try:
        return read_workbook(Path(previous)), ""
    except XlprocError as exc:
        return None, f"上年工作簿无法读取，未做跨年度核对：{getattr(exc, 'reason', exc)}"


def process_stats() -> tuple[str, int]:
    """This process's pid and peak resident set size in KiB.

    Linux: VmHWM of /proc/self/status. ``getrusage``'s ru_maxrss survives exec, so in a
    spawned worker it would include the parent's size at fork time.
    """
    import os

    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return str(os.getpid()), int(line.split()[1])
    except OSError:
        pass
    import psutil

    info = psutil.Process().memory_info()
    return str(os.getpid()), int(getattr(info, "peak_wset", info.rss)) // 1024


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, "/"-separated (resolving only when the cheap way fails)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.resolve().relative_to(root.resolve()).as_posix()


def failed_result(source: str, error: str, sha256: str = "", elapsed_ms: float = 0.0) -> FileResult:
    """A FileResult for a file that could not be processed."""
    pid, rss = process_stats()
    return FileResult(
        source=source,
        sha256=sha256,
        status=STATUS_FAILED,
        error=error,
        elapsed_ms=elapsed_ms,
        worker=pid,
        peak_rss_kb=rss,
    )


def process_file(
    path: Path,
    outbox: Path,
    pipeline: Pipeline,
    previous: Any = None,
    *,
    source: str | None = None,
    stem: str | None = None,
    sha256: str | None = None,
    data: bytes | None = None,
) -> FileResult:
    """Process one workbook into OUTBOX/<部门名称>/: annotated workbook, report, findings JSON.

    ``previous`` is last year's workbook for the cross-year rules (see ``check_file``).
    ``source`` is the name recorded in the result (default: the path), ``stem`` the
    output file stem (default: the source's stem), ``sha256`` the input's hash when the
    caller already has it, ``data`` the file's content likewise. Never raises for a bad
    workbook: returns a failed result.
    """
    t0 = time.perf_counter()
    path = Path(path)
    source = source or str(path)
    stem = stem or path.stem
    try:
        # Read once: the hash, the reader, the 说明 answers and the annotator share the bytes.
        if data is None:
            data = path.read_bytes()
        sha = sha256 or hashlib.sha256(data).hexdigest()
    except OSError as exc:
        return failed_result(source, f"无法读取文件：{exc.strerror or exc}")
    try:
        sub, report, prev_used, prev_note = check_workbook(path, pipeline.catalogue, previous, data)
        department = sub.department
        outputs = output_paths(outbox, department or path.stem, stem)
        report.source = source
        written: dict[str, Path] = {}
        # annotate and render write atomically themselves; annotate may fall back to a
        # separate 审核意见 workbook, so its returned path is what we record.
        if pipeline.options.annotate:
            from .annotate import annotate_workbook

            written["annotated"] = Path(annotate_workbook(path, report, outputs["annotated"], data=data))
        if pipeline.options.report and pipeline.renderer is not None:
            appendix = report if pipeline.options.report_findings else None
            written["report"] = Path(pipeline.renderer.render(sub, outputs["report"], report=appendix))
        payload = {"file": {"source": source, "sha256": sha, "department": department}, **report.to_dict()}
        data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
        written["findings"] = write_bytes(outputs["findings"], data)
        rel = {k: _relative(p, Path(outbox)) for k, p in written.items()}
        pid, rss = process_stats()
        return FileResult(
            source=source,
            sha256=sha,
            department=department,
            counts=dict(report.counts),
            figures=key_figures(sub),
            findings=[compact_finding(f) for f in report.findings],
            outputs=rel,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            form_version=getattr(sub, "form_version", ""),
            previous=prev_used,
            notes=(prev_note,) if prev_note else (),
            worker=pid,
            peak_rss_kb=rss,
        )
    except XlprocError as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        sheet, cell = getattr(exc, "sheet", ""), getattr(exc, "cell", "")
        where = "，".join(x for x in (f"工作表“{sheet}”" if sheet else "", f"单元格 {cell}" if cell else "") if x)
        if where:
            reason = f"{reason}（{where}）"
        return failed_result(source, reason, sha, (time.perf_counter() - t0) * 1000)
    except OSError as exc:  # an output that cannot be written (open in Excel/WPS on Windows, disk full …)
        name = Path(exc.filename).name if getattr(exc, "filename", None) else ""
        return failed_result(
            source,
            f"无法写入输出文件{name and f' {name}'}（{exc.strerror or exc}），如该文件正在 Excel/WPS 中打开，请关闭后重新运行",
            sha,
            (time.perf_counter() - t0) * 1000,
        )
    except Exception as exc:  # a bug or a pathological file must not stop the batch
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        at = f"（{Path(last[0].filename).name}:{last[0].lineno}）" if last else ""
        return failed_result(
            source, f"处理时发生意外错误：{type(exc).__name__}: {exc}{at}", sha, (time.perf_counter() - t0) * 1000
        )


@functools.lru_cache(maxsize=4)
def cached_pipeline(options: PipelineOptions) -> Pipeline:
    """One Pipeline per process and options (what worker processes use)."""
    return Pipeline.build(options)


def with_notes(result: FileResult, *notes: str) -> FileResult:
    """A copy of ``result`` with batch-level remarks appended."""
    return replace(result, notes=tuple(result.notes) + tuple(n for n in notes if n not in result.notes))
