"""Batch processing of a folder of returned workbooks: ``process_folder``.

Every .xlsx under the inbox becomes, in ``OUTBOX/<部门名称>/``, the annotated workbook,
the report and the findings JSON; the bureau's summary ``OUTBOX/汇总.xlsx`` lists every
department, finding, rule and failed file. Files are independent: one unreadable
workbook is one failed row, never a stopped batch. Re-runs reuse the outputs of
unchanged files (see ``state``); all outputs are written atomically.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import OutputError, XlprocError, os_reason
from ..form.packs import SummaryFigure, default_pack, installed_packs, load_pack
from ..io.atomic import sweep_temporaries
from ..io.lock import outbox_lock
from ..io.safe_read import input_stat
from ..pipeline import (
    FileResult,
    PipelineOptions,
    cached_pipeline,
    department_key,
    pipeline_fingerprint,
    pipeline_versions,
    with_notes,
)
from ..pipeline.check import previous_keys
from .discover import OUTBOX_MARKER, SUMMARY_NAMES, Discovery, Source, discover
from .events import ProgressEvent
from .executors import (
    STATUS_UNCHANGED,
    WorkerConfig,
    WorkerTask,
    chunked,
    default_jobs,
    failed_chunk,
    index_chunk,
    make_executor,
    mark_cached,
    run_chunk,
)
from .state import BatchState

SUMMARY_NAME = SUMMARY_NAMES[0]
DATASET_NAME = "全区数据.xlsx"

__all__ = ["SUMMARY_NAME", "BatchOptions", "BatchResult", "FileResult", "ProgressEvent", "process_folder"]


@dataclass(frozen=True)
class BatchOptions:
    """How to run a batch. ``jobs``: worker processes (None = one per core, 0 = in this process)."""

    jobs: int | None = None
    previous: Path | None = None  # last year's workbooks, for the cross-year rules
    force: bool = False  # re-process files even when unchanged
    scheduler: str | None = None  # Dask scheduler address (tcp://HOST:PORT); None = local
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)
    chunk_size: int | None = None  # files per task; None = chosen from the batch size
    summary: bool = True  # write OUTBOX/汇总.xlsx
    dataset: bool = True  # and OUTBOX/全区数据.xlsx beside it (the district dataset)
    roster: Path | None = None  # departments expected to file (.xlsx / .csv): 未报送 rows in the summary
    # Replaces the per-file task (tests, benchmarks): fn(path, outbox, WorkerTask, sha256) -> FileResult.
    task: Callable[..., FileResult] | None = None


@dataclass
class BatchResult:
    """What a batch did: one FileResult per workbook (sorted by source), skipped files, duplicates."""

    inbox: Path
    outbox: Path
    results: list[FileResult]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # department → sources
    previous_errors: list[tuple[str, str]] = field(default_factory=list)
    superseded: dict[str, str] = field(default_factory=dict)  # earlier workbook → the one that replaces it
    dataset_path: Path | None = None
    dataset: Any = None  # xlproc.dataset.Dataset gathered from the workers' records
    roster: list[str] | None = None  # departments expected to file
    dataset_error: str = ""  # 全区数据.xlsx could not be written (Chinese reason)
    summary_path: Path | None = None
    elapsed_s: float = 0.0
    figures: list[SummaryFigure] = field(default_factory=list)  # the summary columns of the packs used

    @property
    def files(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if not r.ok)

    @property
    def cached(self) -> int:
        return sum(1 for r in self.results if r.cached)

    @property
    def processed(self) -> int:
        return self.files - self.cached

    def _count(self, key: str) -> int:
        return sum(r.counts.get(key, 0) for r in self.results if r.ok)

    @property
    def errors(self) -> int:
        return self._count("error")

    @property
    def warnings(self) -> int:
        return self._count("warning")

    @property
    def open_warnings(self) -> int:
        return self._count("open_warning")

    @property
    def explained(self) -> int:
        return self._count("explained")

    @property
    def workers(self) -> dict[str, int]:
        """Peak RSS (KiB) per worker process that made a result in this run."""
        peaks: dict[str, int] = {}
        for r in self.results:
            if r.worker and not r.cached:
                peaks[r.worker] = max(peaks.get(r.worker, 0), r.peak_rss_kb)
        return peaks

    @property
    def exit_code(self) -> int:
        """0 all clean; 1 a file failed, an error finding exists, a department reported twice
        or 全区数据.xlsx could not be written."""
        return 1 if self.failed or self.errors or self.duplicates or self.dataset_error else 0

    def to_dict(self) -> dict:
        return {
            "inbox": str(self.inbox),
            "outbox": str(self.outbox),
            "summary": str(self.summary_path) if self.summary_path else None,
            "dataset": str(self.dataset_path) if self.dataset_path else None,
            "dataset_error": self.dataset_error,
            "counts": {
                "files": self.files,
                "processed": self.processed,
                "cached": self.cached,
                "failed": self.failed,
                "skipped": len(self.skipped),
                "errors": self.errors,
                "open_warnings": self.open_warnings,
                "explained_warnings": self.explained,
                "duplicate_departments": len(self.duplicates),
            },
            "exit_code": self.exit_code,
            "results": [{k: v for k, v in r.to_dict().items() if k != "record"} for r in self.results],
            "skipped": [{"source": s, "reason": why} for s, why in self.skipped],
            "duplicates": self.duplicates,
            "superseded": self.superseded,
            "across": list(self.dataset.across) if self.dataset is not None else [],
        }


class _Tally:
    def __init__(self, phase: str, total: int, on_progress: Callable[[ProgressEvent], None] | None):
        self.phase, self.total, self.cb = phase, total, on_progress
        self.done = self.failed = self.errors = self.warnings = self.cached = 0

    def add(self, r: FileResult | None = None, current: str = "") -> None:
        if r is not None:
            self.done += 1
            self.failed += not r.ok
            self.cached += r.cached
            self.errors += r.counts.get("error", 0)
            self.warnings += r.counts.get("warning", 0)
        if self.cb is not None:
            self.cb(
                ProgressEvent(
                    self.phase, self.total, self.done, self.failed, self.errors, self.warnings, self.cached, current
                )
            )


def _index_previous(folder: Path, executor, jobs: int, on_progress) -> tuple[dict[str, tuple[str, str]], list]:
    """department_key → (path, sha256) of last year's workbooks; unreadable ones listed."""
    found = discover(folder)
    paths = [str(s.path) for s in found.sources]
    tally = _Tally("previous", len(paths), on_progress)
    index: dict[str, tuple[str, str]] = {}
    problems: list[tuple[str, str]] = []
    tally.add()
    latest: dict[str, int] = {}
    for chunk, out in executor.map_chunks(index_chunk, chunked(paths, jobs)):
        if isinstance(out, BaseException):
            out = [(p, "", "", str(out), None) for p in chunk]
        for path, dept, sha, error, year in out:
            tally.done += 1
            tally.add(None, path)
            if error or not dept:
                problems.append((path, error or "未填部门名称"))
                continue
            # department@year for a workbook of year+1; the bare department for the latest year
            *dated, plain = previous_keys(dept, year)
            for key in dated:
                index.setdefault(key, (path, sha))
            if plain not in index or (year or 0) > latest.get(plain, 0):
                index[plain], latest[plain] = (path, sha), year or 0
    return index, problems


# Up to this many cells the district dataset goes to a pool worker as plain data (about
# 30 MB pickled); a larger one is written here, after the summary, as before.
ASIDE_MAX_CELLS = 2_000_000


def _write_summaries(batch: BatchResult, options: BatchOptions, roster: Any, executor: Any) -> None:
    """汇总.xlsx, and 全区数据.xlsx beside it.

    They are the batch's tail: after the last workbook, with every worker idle. With a
    pool, a worker writes the dataset's workbook (``dataset.sheets``: plain rows, no
    pandas to import there) while this process writes the summary. Should the worker
    fail (it crashed, or its memory cap), the dataset is written here after all.
    """
    from .gather import gather_dataset
    from .summary import write_summary

    batch.dataset = gather_dataset(batch, options.pipeline, task=options.task is not None)
    batch.roster = roster or _pack_roster(batch.results, options.pipeline.packs)
    aside = None
    path = batch.outbox / DATASET_NAME
    if options.dataset and batch.dataset is not None and executor.can_aside():
        from ..dataset.export import cell_count, xlsx_sheets
        from ..dataset.sheets import write_sheets

        if cell_count(batch.dataset) <= ASIDE_MAX_CELLS:
            aside = executor.aside(write_sheets, xlsx_sheets(batch.dataset), path)
    try:
        batch.summary_path = write_summary(batch.outbox / SUMMARY_NAME, batch)
    except Exception:  # the summary cannot be written (a full disk …): let the worker finish or
        if aside is not None:  # clean up its temporary before the pool is stopped
            with contextlib.suppress(Exception):
                aside.result()
        raise
    if not options.dataset or batch.dataset is None:
        return
    try:
        written = _aside_result(aside) if aside is not None else None
        if written is not None:
            batch.dataset_path = written
            return
        from ..dataset.export import write_dataset

        batch.dataset_path = write_dataset(batch.dataset, path)
    except OutputError as exc:  # the summary and every file's outputs stand; say what is missing
        batch.dataset_error = str(exc)


def _aside_result(aside: Any) -> Path | None:
    """What the worker wrote; its OutputError (the disk refused) raised; None when it failed otherwise."""
    try:
        return aside.result()
    except OutputError:
        raise
    except Exception:  # a crash (BrokenProcessPool), MemoryError under its cap …
        return None


def _flag_duplicates(results: dict[str, FileResult], sources: dict[str, Source]) -> tuple[dict, dict[str, str]]:
    """Departments that filed more than once: the latest workbook counts, earlier ones are superseded.

    One department's workbooks of two editions are not duplicates. Returns (department →
    its workbooks, superseded source → the source that replaces it).
    """
    from ..dataset.latest import superseded

    def mtime(name: str) -> float:
        try:
            return sources[name].path.stat().st_mtime
        except (KeyError, OSError):
            return 0.0

    items = [
        (name, f"{department_key(r.department)}|{r.pack}", mtime(name))
        for name, r in sorted(results.items())
        if r.ok and r.department
    ]
    replaced = superseded(items)
    groups: dict[str, list[str]] = defaultdict(list)
    for name, key, _when in items:
        groups[key].append(name)
    duplicates = {}
    for names in groups.values():
        if len(names) < 2:
            continue
        dept = results[names[0]].department
        duplicates[dept] = names
        kept = next(n for n in names if n not in replaced)
        earlier = "、".join(n for n in names if n != kept)
        results[kept] = with_notes(
            results[kept], f"重复报送：部门“{dept}”共有 {len(names)} 份工作簿，以最新的本文件为准，{earlier} 已被替代"
        )
        for name in names:
            if name != kept:
                results[name] = with_notes(
                    results[name], f"已被替代：部门“{dept}”另有较新的工作簿 {kept}，以该文件为准，本文件不计入汇总"
                )
    return duplicates, replaced


def _pack_roster(results: list[FileResult], extra: tuple[str, ...] = ()) -> list[str] | None:
    """The departments the packs used list in pack.yaml ``roster`` (None when none does)."""
    names: list[str] = []
    for pack in _packs_used(results, extra):
        names += [n for n in pack.roster if n not in names]
    return names or None


def _mark_outbox(outbox: Path) -> None:
    """A marker telling later batches this folder is an outbox (never read as an inbox)."""
    marker = outbox / OUTBOX_MARKER
    if not marker.exists():
        try:
            marker.write_text("xlproc 批量处理的输出目录：其中的文件不会被当作报送文件读取。\n", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"无法写入输出目录 {outbox}：{os_reason(exc)}") from exc


def _packs_used(results: list[FileResult], extra: tuple[str, ...] = ()) -> list[Any]:
    """The packs the results were checked with, newest edition first (the default pack if none)."""
    used = {r.pack for r in results if r.ok and r.pack}
    packs = [p for p in (*(load_pack(d) for d in extra), *installed_packs()) if p.id in used]
    return sorted({p.id: p for p in packs}.values(), key=lambda p: p.year, reverse=True) or [default_pack()]


def summary_figures(results: list[FileResult], extra: tuple[str, ...] = ()) -> list[SummaryFigure]:
    """The summary figures of the packs the results were checked with (newest edition's first).

    Figures with the same id are one column (the newest edition's label); without any
    checked file, the default pack's.
    """
    figures: dict[str, SummaryFigure] = {}
    for pack in _packs_used(results, extra):
        for f in pack.summary:
            figures.setdefault(f.id, f)
    return list(figures.values())


def process_folder(
    inbox: Path,
    outbox: Path,
    options: BatchOptions | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
) -> BatchResult:
    """Process every workbook under ``inbox`` into ``outbox``; write the summary; return the result.

    Raises ``XlprocError`` only when the batch cannot run at all (inbox missing, outbox
    not writable, invalid form spec / rules / template). Bad workbooks are results.
    """
    options = options or BatchOptions()
    t0 = time.perf_counter()
    if options.jobs is not None and options.jobs < 0:
        raise XlprocError(f"--jobs 必须是 0 或正整数（0 表示不另起进程），收到 {options.jobs}")
    inbox, outbox = Path(inbox), Path(outbox)
    if not inbox.is_dir():
        raise XlprocError(f"收件目录不存在或不是文件夹：{inbox}")
    if outbox.resolve() == inbox.resolve():
        raise XlprocError("输出目录不能与收件目录相同，请另选一个文件夹（可以放在收件目录里面）")
    if options.previous is not None and not Path(options.previous).is_dir():
        raise XlprocError(f"上年工作簿目录不存在或不是文件夹：{options.previous}")
    try:
        outbox.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出目录 {outbox}：{os_reason(exc)}") from exc
    with outbox_lock(outbox):  # a second batch on the same outbox stops here, with a message
        return _process(inbox, outbox, options, on_progress, t0)


def _process(
    inbox: Path,
    outbox: Path,
    options: BatchOptions,
    on_progress: Callable[[ProgressEvent], None] | None,
    t0: float,
) -> BatchResult:
    roster = None
    if options.roster is not None:
        from .roster import read_roster

        roster = read_roster(Path(options.roster))  # a bad roster stops the batch before any file
    sweep_temporaries(outbox)
    _mark_outbox(outbox)
    found: Discovery = discover(inbox, exclude=(outbox,))
    jobs = default_jobs() if options.jobs is None else min(options.jobs, default_jobs())  # never above the cores
    jobs = min(jobs, max(1, len(found.sources))) if jobs > 0 else 0
    config = WorkerConfig(str(outbox.resolve()), options.pipeline, None, options.task)
    executor = make_executor(config, jobs, options.scheduler)
    results: dict[str, FileResult] = {}
    previous_errors: list[tuple[str, str]] = []
    try:
        if options.task is None:
            versions = pipeline_versions(options.pipeline)
            fingerprint = pipeline_fingerprint(options.pipeline)
        else:
            versions = {"task": f"{options.task.__module__}.{options.task.__qualname__}"}
            fingerprint = versions["task"]
        prev_index: dict[str, tuple[str, str]] = {}
        if options.previous is not None:
            prev_index, previous_errors = _index_previous(Path(options.previous), executor, max(jobs, 1), on_progress)
            executor.set_config(replace(config, previous={k: p for k, (p, _sha) in prev_index.items()}))

        def prev_sha(department: str) -> str:
            return prev_index.get(department_key(department), ("", ""))[1]

        state = BatchState.load(outbox, fingerprint, versions)
        by_name: dict[str, Source] = {s.name: s for s in found.sources}
        todo: list[WorkerTask] = []
        stats: dict[str, tuple[int, int]] = {}
        tally = _Tally("process", len(found.sources), on_progress)
        for src in found.sources:
            known = ""
            if not options.force:
                entry = state.entry(src.name) or {}
                dept = (entry.get("result") or {}).get("department", "")
                reuse = state.reuse(src, prev_sha(dept))
                if reuse.result is not None:
                    results[src.name] = mark_cached(reuse.result)
                    tally.add(results[src.name], src.name)
                    continue
                known = reuse.known_sha256
            stats[src.name] = input_stat(src.path)  # before any worker reads it: what the manifest records
            todo.append(WorkerTask(str(src.path), src.name, src.stem, known))
        if todo:
            executor.start([t.path for t in todo])  # workers start (or the fork server warms up) meanwhile
        if todo and options.summary:
            # What the end of the batch needs (pandas, xlsxwriter), imported while the workers
            # warm up rather than after the last file, when nothing else would run beside it.
            from ..dataset import export  # noqa: F401
            from . import gather, summary  # noqa: F401
        if options.task is None:  # invalid spec / rules / template: fail before any file
            if todo:
                executor.validate(options.pipeline)  # a worker builds it anyway: ask it
            else:
                cached_pipeline(options.pipeline)
        tally.add()
        for chunk, out in executor.map_chunks(run_chunk, chunked(todo, max(jobs, 1), options.chunk_size)):
            if isinstance(out, BaseException):
                out = failed_chunk(chunk, out)
            for r in out:
                src = by_name[r.source]
                if r.status == STATUS_UNCHANGED:
                    earlier = state.cached_result(src.name)
                    r = mark_cached(earlier) if earlier is not None else r
                    state.record(src, replace(r, cached=False), prev_sha(r.department), stats.get(src.name))
                else:
                    r = replace(r, previous_sha256=prev_sha(r.department) if r.previous else "")
                    state.record(src, r, prev_sha(r.department), stats.get(src.name))
                results[src.name] = r
                tally.add(r, src.name)
        by_source = {s.name: s for s in found.sources}
        duplicates, replaced = _flag_duplicates(results, by_source)
        ordered = [results[s.name] for s in found.sources if s.name in results]
        batch = BatchResult(
            inbox=inbox,
            outbox=outbox,
            results=ordered,
            skipped=found.skipped,
            duplicates=duplicates,
            previous_errors=previous_errors,
            figures=summary_figures(ordered, options.pipeline.packs),
            superseded=replaced,
        )
        if options.summary:
            _write_summaries(batch, options, roster, executor)
    except BaseException:  # Ctrl-C, or "cannot run": stop the workers at once
        executor.abort()
        raise
    finally:
        executor.close()
    batch.elapsed_s = time.perf_counter() - t0
    return batch
