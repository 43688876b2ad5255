"""The per-file task of a batch: bytes → check step → artifacts → files in the outbox.

A ``Pipeline`` holds what is expensive to prepare and identical for every file: the
extra packs (``--pack``), each edition's compiled rule catalogue and report renderer
(built on first use). A worker process builds one and reuses it for thousands of files,
whatever mix of editions the inbox holds.

``process_file`` never raises for a bad workbook: an unreadable, encrypted or
unknown-edition file, or any unexpected exception, becomes a ``FileResult`` with
status ``failed`` and a Chinese error, so one file cannot stop a batch.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import time
import traceback
from dataclasses import dataclass, field, fields, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import XlprocError, os_reason
from ..form.ops import op_value
from ..form.packs import FormPack, SummaryFigure, default_pack, find_pack, installed_packs, load_pack
from ..io.atomic import write_bytes
from ..io.names import inside, safe_component
from ..rules.catalogue import Catalogue
from ..submission import Submission
from .artifacts import OUTPUT_SUFFIXES, WRITERS, report_renderer
from .check import CheckOutcome, PreviousInput, check_workbook, compiled_catalogue, rules_file, validate_rules

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"

UNNAMED_DEPARTMENT = "未填部门名称"


@dataclass(frozen=True)
class PipelineOptions:
    """What a pipeline is built from. Picklable, so it travels to worker processes."""

    packs: tuple[str, ...] = ()  # extra pack folders (--pack), looked up before the installed ones
    rules_path: str | None = None  # replaces every pack's rules.yaml (--rules)
    report_template: str | None = None  # replaces every pack's report.docx (--template)
    annotate: bool = True  # write the annotated workbook
    report: bool = True  # write the narrative report
    report_findings: bool = False  # add the 审核情况 appendix to the report (off: the published version)


_EXPECTED: frozenset[tuple[str, str]] = frozenset()


def expect_editions(editions: set[tuple[str, str]] | frozenset[tuple[str, str]]) -> None:
    """Tell this process which editions (form id, version) its files are of.

    A batch's fork server samples the inbox (``pipeline.warm``) and says so before its
    workers are forked: a pipeline built afterwards prepares those editions up front
    instead of the default one, which an inbox of last year's edition never uses.
    """
    global _EXPECTED
    _EXPECTED = frozenset(editions)


_SETTLED = False
YOUNG_THRESHOLD = 5000  # see settle_heap


def settle_heap() -> None:
    """Once per process: collect garbage, then move every object that exists into the
    collector's permanent generation (``gc.freeze``).

    Called when the first pipeline is ready, which is when a process has imported and
    prepared what it keeps for good: modules, packs, compiled rules and templates.
    Processing a file allocates many short-lived objects; every few files the
    collector's full pass would otherwise walk all of that long-lived heap again
    (~30 ms each time, about 0.9 ms per file in a run of 150 files). Frozen objects are
    still freed by reference counting; only cycles among them would be kept, and the
    collection just before leaves none.

    The youngest generation is collected after ``YOUNG_THRESHOLD`` new container
    objects instead of Python's 700: a file's own objects (a few thousand, freed by
    reference counting when it is done) then rarely meet a collection at all. Over 300
    files: 545 young collections (0.23 ms of collecting per file) with 700, 3 with
    5000 (0.01 ms per file). Per-file work leaves no reference cycles
    (``tests/test_pipeline_check.py``), so nothing waits longer to be freed.
    """
    global _SETTLED
    if _SETTLED:
        return
    _SETTLED = True
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if young:  # 0: collection switched off by the embedding program; leave it so
        gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)


@dataclass
class Pipeline:
    """Everything a worker prepares once: the packs, their catalogues and renderers."""

    options: PipelineOptions
    packs: tuple[FormPack, ...]
    fingerprint: str

    @classmethod
    def build(cls, options: PipelineOptions | None = None) -> Pipeline:
        """Load the packs; compile the rules and parse the report template of the editions
        to expect: every ``--pack`` given, the editions the process was told of
        (``expect_editions``), or else the default edition.

        A malformed pack, rule file or template is refused here, before any workbook.
        """
        options = options or PipelineOptions()
        packs = tuple(load_pack(p) for p in options.packs)
        pipeline = cls(options, packs, pipeline_fingerprint(options))
        if options.rules_path:
            validate_rules(options.rules_path, packs)
        expected = [pack for e in sorted(_EXPECTED) if (pack := find_pack(*e, packs)) is not None]
        targets = {p.id: p for p in (*packs, *expected)} or {"": packs[0] if packs else default_pack()}
        for pack in targets.values():
            pipeline.prepare(pack, rules=not options.rules_path)
        settle_heap()
        return pipeline

    def prepare(self, pack: FormPack, rules: bool = True) -> None:
        """Compile everything an edition's files need (rules, report template, wording) now,
        not on its first file; a broken file of the pack raises here."""
        if rules:
            self.catalogue(pack)
            from ..dataset.across import load_rules

            load_rules(rules_file(pack, self.options.rules_path), pack.spec)  # the district dataset's, same file
        renderer = self.renderer(pack)
        if renderer is not None:
            renderer.options.wording(pack.spec)

    def catalogue(self, pack: FormPack) -> Catalogue:
        return compiled_catalogue(pack, self.options.rules_path)

    def renderer(self, pack: FormPack) -> Any:
        if not self.options.report:
            return None
        return report_renderer(pack, self.options.report_template)

    def check(self, data: bytes, previous: PreviousInput = None, source: str = "工作簿.xlsx") -> CheckOutcome:
        """The check step with this pipeline's packs and rule overrides."""
        return check_workbook(data, None, previous, source=source, packs=self.packs, rules=self.options.rules_path)


def pipeline_versions(options: PipelineOptions) -> dict[str, str]:
    """What shapes the outputs besides the input workbook, each with a short content hash.

    The xlproc version, the options, every file of every installed and given pack, and
    the override files. Batch manifests record it, so a re-run can tell what changed.
    """
    versions = {"xlproc": __version__, "options": hashlib.sha256(repr(options).encode()).hexdigest()[:12]}
    paths: list[tuple[str, Path]] = []
    for pack in (*installed_packs(), *(load_pack(p) for p in options.packs)):
        paths += [(f"{pack.id}/{p.name}", p) for p in pack.files()]
    paths += [(Path(p).name, Path(p)) for p in (options.rules_path, options.report_template) if p]
    for name, p in paths:
        try:
            versions[name] = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        except OSError:
            versions[name] = "missing"
    return versions


def pipeline_fingerprint(options: PipelineOptions) -> str:
    """One hash of ``pipeline_versions``: outputs made under another fingerprint are remade."""
    return hashlib.sha256(json.dumps(pipeline_versions(options), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FileResult:
    """The outcome of one input file: plain data, picklable, JSON-able via ``to_dict``.

    ``findings`` are compact dicts (rule_id, severity, sheet, cell, message,
    explanation, explained); the full findings are in the JSON output file.
    ``figures`` are the pack's summary figures (pack.yaml ``summary``) as exact
    decimal strings; ``outputs`` maps ``annotated`` / ``report`` / ``findings`` to
    paths relative to the outbox.
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
    pack: str = ""  # id of the pack the workbook was checked with
    previous: str = ""  # previous-year workbook used for the cross-year rules
    previous_sha256: str = ""
    notes: tuple[str, ...] = ()  # batch-level remarks (duplicate department …)
    cached: bool = False  # outputs of an earlier run reused, file unchanged
    worker: str = ""  # pid of the process that made it
    peak_rss_kb: int = 0  # that process's peak resident set size so far
    record: dict[str, Any] | None = None  # the district dataset's compact record (xlproc.dataset.record)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy. Built by hand: ``dataclasses.asdict`` deep-copies every
        finding and dataset value, which cost the batch's parent ~3 ms per file."""
        d: dict[str, Any] = {}
        for name in _RESULT_FIELDS:
            value = getattr(self, name)
            if type(value) is dict:
                value = dict(value)
            elif type(value) is list:
                value = [dict(x) if type(x) is dict else x for x in value]
            d[name] = value
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileResult:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["notes"] = tuple(known.get("notes", ()))
        return cls(**known)


_RESULT_FIELDS = tuple(f.name for f in fields(FileResult))


def safe_folder_name(name: str) -> str:
    """A department name usable as a folder name on Windows and Linux (``io.names``)."""
    return safe_component(name, UNNAMED_DEPARTMENT)


def output_paths(outbox: Path, department: str, stem: str) -> dict[str, Path]:
    """Where a source's outputs go: OUTBOX/<部门名称>/<stem>_审核.xlsx etc. (never outside OUTBOX)."""
    folder = inside(outbox, Path(outbox) / safe_folder_name(department))  # a symlinked folder cannot lead out
    stem = safe_component(stem, "工作簿")
    return {kind: folder / f"{stem}{suffix}" for kind, suffix in OUTPUT_SUFFIXES.items()}


def _q(value: Any, decimals: int) -> str | None:
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    try:
        return str(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return None


def figure_value(figure: SummaryFigure, sub: Submission, inputs: tuple[dict, dict] | None = None) -> Decimal | None:
    """One summary figure of a submission, exact (a field's value or a compute op over fields).

    ``inputs``: the submission's field values and table rows (``_op_inputs``), when the
    caller computes several figures of one submission.
    """
    if figure.field is not None:
        fv = sub.fields.get(figure.field)
        return fv.value if fv is not None and isinstance(fv.value, Decimal) else None
    values, frames = inputs or _op_inputs(sub)
    return op_value(figure.compute or {}, sub.spec, values, frames, None)


def _op_inputs(sub: Submission) -> tuple[dict[str, Any], dict[str, Any]]:
    return {fid: fv.value for fid, fv in sub.fields.items()}, {tid: t.rows for tid, t in sub.tables.items()}


def key_figures(sub: Submission, pack: FormPack) -> dict[str, str | None]:
    """The pack's summary figures (pack.yaml ``summary``) as exact decimal strings."""
    inputs = _op_inputs(sub) if any(f.field is None for f in pack.summary) else None
    return {f.id: _q(figure_value(f, sub, inputs), f.decimals) for f in pack.summary}


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
    previous: PreviousInput = None,
    *,
    source: str | None = None,
    stem: str | None = None,
    sha256: str | None = None,
    data: bytes | None = None,
) -> FileResult:
    """Process one workbook into OUTBOX/<部门名称>/: annotated workbook, report, findings JSON.

    ``previous`` is last year's workbook for the cross-year rules (see ``check_workbook``).
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
        return failed_result(source, f"无法读取文件：{os_reason(exc)}")
    try:
        outcome = pipeline.check(data, previous, str(path))
        outcome.report.source = source
        outcome = replace(outcome, source=source, digest=sha)
        department = outcome.department
        folder = output_paths(outbox, department or path.stem, stem)["findings"].parent
        safe_stem = safe_component(stem, "工作簿")
        written: dict[str, Path] = {}
        wanted = [
            ("annotated", {}, pipeline.options.annotate),
            (
                "report",
                {"renderer": pipeline.renderer(outcome.pack), "appendix": pipeline.options.report_findings},
                pipeline.options.report,
            ),
            ("findings", {}, True),
        ]
        for kind, extra, enabled in wanted:
            if enabled:
                artifact = WRITERS[kind].write(outcome, safe_stem, **extra)
                if Path(artifact.name).name != artifact.name:  # one file name in the checked folder
                    raise ValueError(f"artifact name {artifact.name!r} is not a file name")
                # an existing file there is replaced, never written through (a symlink stays a link)
                written[kind] = write_bytes(folder / artifact.name, artifact.data)
        rel = {k: _relative(p, Path(outbox)) for k, p in written.items()}
        prev = outcome.previous
        pid, rss = process_stats()
        return FileResult(
            source=source,
            sha256=sha,
            department=department,
            counts=dict(outcome.report.counts),
            figures=key_figures(outcome.submission, outcome.pack),
            findings=[compact_finding(f) for f in outcome.report.findings],
            outputs=rel,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            form_version=outcome.submission.form_version,
            pack=outcome.pack.id,
            previous=prev.source if prev is not None else "",
            notes=outcome.notes,
            worker=pid,
            peak_rss_kb=rss,
            record=dataset_record(outcome, pipeline),
        )
    except Exception as exc:  # a bad workbook, a bug or a pathological file: never stops the batch
        if isinstance(exc, OSError):  # an output that cannot be written (XlprocError is no OSError)
            name = Path(exc.filename).name if getattr(exc, "filename", None) else ""
            reason = f"无法写入输出文件{name and f' {name}'}（{os_reason(exc)}），如该文件正在 Excel/WPS 中打开，请关闭后重新运行"
        else:
            reason = failure_reason(exc)
        return failed_result(source, reason, sha, (time.perf_counter() - t0) * 1000)


def failure_reason(exc: Exception) -> str:
    """Why a workbook could not be processed, in Chinese: an ``XlprocError``'s reason with the
    sheet and cell it names, or an unexpected exception with where it was raised."""
    if isinstance(exc, XlprocError):
        reason = getattr(exc, "reason", None) or str(exc)
        sheet, cell = getattr(exc, "sheet", ""), getattr(exc, "cell", "")
        where = "，".join(x for x in (f"工作表“{sheet}”" if sheet else "", f"单元格 {cell}" if cell else "") if x)
        return f"{reason}（{where}）" if where else reason
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    at = f"（{Path(last[0].filename).name}:{last[0].lineno}）" if last else ""
    return f"处理时发生意外错误：{type(exc).__name__}: {exc}{at}"


def dataset_record(outcome: CheckOutcome, pipeline: Pipeline) -> dict[str, Any]:
    """The compact record the batch gathers into the district dataset (no second read).

    Holds last year's figures that the year-on-year checks across departments compare,
    from the previous workbook this check already read (mapped to this edition's ids).
    """
    from datetime import UTC, datetime

    from ..dataset.across import load_rules, locate_fields, previous_fields
    from ..dataset.record import figures_of, make_record

    rules = load_rules(rules_file(outcome.pack, pipeline.options.rules_path), outcome.pack.spec)
    record = make_record(
        outcome.submission, read_at=datetime.now(UTC).isoformat(timespec="seconds"), locate=locate_fields(rules)
    )
    keep = previous_fields(rules)
    if outcome.previous is not None and keep:
        record["previous"] = figures_of(outcome.previous.submission, keep)
    return record


@functools.lru_cache(maxsize=4)
def cached_pipeline(options: PipelineOptions) -> Pipeline:
    """One Pipeline per process and options (what worker processes use)."""
    return Pipeline.build(options)


def with_notes(result: FileResult, *notes: str) -> FileResult:
    """A copy of ``result`` with batch-level remarks appended."""
    return replace(result, notes=tuple(result.notes) + tuple(n for n in notes if n not in result.notes))
