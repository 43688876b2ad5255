"""Every call from the portal into the checking library, and the pool that runs them.

Functions here run in worker processes (or on a Dask cluster): they take and return
plain data (bytes, dicts), never database objects, so they pickle. The web layer calls
nothing else of ``xlproc`` — when the library's interfaces change, this is the one
module to adapt.
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

RESULTS_SHEET_NAME = "审核结果"


def _default_pack_id() -> str:
    from ..form.packs import default_pack

    return default_pack().id


DEFAULT_PACK = _default_pack_id()


Extra = tuple[str, ...]  # the bureau's own pack folders (``xlproc serve --pack DIR``)


def bureau_packs(dirs: Extra) -> tuple[Any, ...]:
    """Load and check the bureau's pack folders (SpecError in Chinese when one is malformed).

    Their ids must differ from the installed packs' ids and from each other: a round
    names its pack by id.
    """
    from ..errors import SpecError
    from ..form.packs import installed_packs, load_pack

    packs = tuple(load_pack(d) for d in dirs)
    taken = {p.id: str(p.dir) for p in installed_packs()}
    for pack in packs:
        if str(pack.dir) == taken.get(pack.id):
            raise SpecError(f"{pack.dir}: 这是已安装的表单包“{pack.id}”，开启轮次时本来就可选用，不必用 --pack 给出")
        if pack.id in taken:
            raise SpecError(
                f"{pack.dir}: 表单包 id“{pack.id}”已被 {taken[pack.id]} 使用，请在 pack.yaml 中改用另一个 id"
            )
        taken[pack.id] = str(pack.dir)
    return packs


def available_packs(extra: Extra = ()) -> dict[str, str]:
    """Form packs a round can use: id → label (the bureau's own first, then the installed editions, newest first)."""
    from ..form.packs import installed_packs

    own = {p.id: f"{p.title}（{p.edition}，本局表单包 {p.id}）" for p in bureau_packs(extra)}
    return own | {p.id: f"{p.title}（{p.edition}）" for p in reversed(installed_packs())}


def same_edition_packs(pack_id: str, extra: Extra = ()) -> dict[str, str]:
    """The packs a round using ``pack_id`` may switch to: same form and version, so its uploads stay valid."""
    from ..form.packs import installed_packs

    try:
        current = _pack(pack_id, extra)
    except ValueError:  # the round's pack is no longer there: nothing to compare with
        return {}

    same = {p.id for p in (*bureau_packs(extra), *installed_packs()) if p.edition == current.edition}
    return {k: v for k, v in available_packs(extra).items() if k in same}


def pack_for_year(year: int) -> str:
    """The installed edition for an assessment year (the default edition when none is)."""
    from ..form.packs import installed_packs

    for pack in reversed(installed_packs()):  # newest version of that year first
        if pack.year == year:
            return pack.id
    return DEFAULT_PACK


def rank_figure(pack_id: str, extra: Extra = ()) -> tuple[str, str]:
    """(id, label) of the summary figure an edition ranks departments by (pack.yaml ``summary``,
    as 汇总 ranks them); ("", "") for an edition that is not installed nor given."""
    from ..form.packs import pack_by_id

    pack = pack_by_id(pack_id, extra)
    figure = pack.rank_figure if pack is not None else None
    return (figure.id, figure.label) if figure is not None else ("", "")


def _pack(pack_id: str, extra: Extra = ()):
    from ..form.packs import pack_by_id

    pack = pack_by_id(pack_id, extra)
    if pack is None:
        raise ValueError(f"表式 {pack_id} 未安装")
    return pack


def pipeline_options(pack_id: str, *, report: bool = False, extra: Extra = ()):
    """The options that check a round's workbooks with its pack (found first, before the installed ones)."""
    from ..pipeline import PipelineOptions

    if pack_id == DEFAULT_PACK:  # bureau pack ids never shadow an installed one (bureau_packs)
        return PipelineOptions(report=report)
    return PipelineOptions(packs=(str(_pack(pack_id, extra).dir),), report=report)


def _pipeline(pack_id: str, *, report: bool = False, extra: Extra = ()):
    from ..pipeline import cached_pipeline

    return cached_pipeline(pipeline_options(pack_id, report=report, extra=extra))


def limit_worker() -> None:
    """The OS limits ``xlproc batch`` gives its workers (address space, die with the server)."""
    from ..batch.executors import limit_worker as batch_limits

    batch_limits()


def warm_up() -> int:
    """Ready a worker before the first upload arrives: the upload check's pipeline, and what
    ``xlproc batch`` workers are given (every installed edition's rules, report template and
    wording); then the heap is frozen, so the garbage collections of each upload
    no longer walk it (about 1–1.5 ms of a ~15 ms upload check)."""
    from ..pipeline.warm import warm

    _pipeline(DEFAULT_PACK)
    warm()  # ends with gc.freeze()
    return os.getpid()


def _safe_name(name: str) -> str:
    from ..pipeline import safe_folder_name

    return safe_folder_name(Path(name).stem) + ".xlsx"


@dataclass
class Checked:
    """What one upload became: findings as plain data and the annotated workbook's bytes."""

    status: str  # ok | failed
    error: str = ""
    department: str = ""
    counts: dict[str, int] | None = None
    figures: dict[str, Any] | None = None
    findings: list[dict[str, Any]] | None = None
    notes: list[str] | None = None
    annotated: bytes | None = None
    annotated_name: str = ""
    elapsed_ms: float = 0.0


def check_upload(data: bytes, filename: str, pack: str, previous: bytes | None = None, extra: Extra = ()) -> Checked:
    """Check and annotate one uploaded workbook as ``xlproc batch`` does one file, in memory.

    The check step and the annotated-workbook writer of ``xlproc.pipeline`` take and
    give bytes: nothing is written to disk here (the portal stores what it keeps).
    """
    from ..io.names import safe_component
    from ..pipeline import ANNOTATED, compact_finding, failure_reason, key_figures

    t0 = time.perf_counter()
    pipeline = _pipeline(pack, extra=extra)
    try:
        outcome = pipeline.check(data, previous, source=filename)
        if outcome.pack.id != pack:  # another installed edition: readable, but not this round's form
            expected = _pack(pack, extra)
            return Checked(
                "failed",
                error=(
                    f"表单版本不符：本轮使用 {expected.edition} 版表式，文件“{filename}”为 {outcome.pack.edition} 版。"
                    "请下载本轮的空白填报表重新填报后上传"
                ),
                elapsed_ms=(time.perf_counter() - t0) * 1000,
            )
        stem = safe_component(Path(_safe_name(filename)).stem, "工作簿")  # as the batch names it
        annotated = ANNOTATED.write(outcome, stem) if pipeline.options.annotate else None
    except Exception as exc:  # a bad workbook or a bug: the upload is marked failed, the server goes on
        return Checked("failed", error=failure_reason(exc), elapsed_ms=(time.perf_counter() - t0) * 1000)
    return Checked(
        "ok",
        department=outcome.department,
        counts=dict(outcome.report.counts),
        figures=key_figures(outcome.submission, outcome.pack),
        findings=[compact_finding(f) for f in outcome.report.findings],
        notes=list(outcome.notes),
        annotated=annotated.data if annotated else None,
        annotated_name=annotated.name if annotated else "",
        elapsed_ms=(time.perf_counter() - t0) * 1000,
    )


def render_report(data: bytes, filename: str, pack: str, final: bool = False, extra: Extra = ()) -> bytes:
    """The narrative report (.docx) of a workbook: the draft, or the final one on acceptance.

    The draft is rendered with the check's findings (the renderer marks a report with
    open findings as a draft); the final one, made when the bureau accepts, without.
    """
    pipeline = _pipeline(pack, report=True, extra=extra)
    outcome = pipeline.check(data, source=_safe_name(filename))
    renderer = pipeline.renderer(outcome.pack)
    return renderer.render_docx(outcome.submission, None if final else outcome.report)


def blank_workbook(pack: str, year: int, department: str, extra: Extra = ()) -> bytes:
    """The blank form with the year and the department's name filled in."""
    from ..template import write_template

    with tempfile.TemporaryDirectory(prefix="xlproc-web-") as tmp:
        path = write_template(Path(tmp) / "form.xlsx", year=year, department=department, spec=_pack(pack, extra).spec)
        return path.read_bytes()


def results_sheet(data: bytes) -> list[list[str]]:
    """The 审核结果 sheet of a workbook as rows of text (for tests and the reader check)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    if RESULTS_SHEET_NAME not in wb.sheet_names:
        return []
    return [[str(c) for c in row] for row in wb.get_sheet_by_name(RESULTS_SHEET_NAME).to_python()]


@dataclass
class RoundRun:
    """The outputs of a whole round run through ``xlproc batch``'s ``process_folder``."""

    results: dict[str, dict[str, Any]]  # input name → FileResult as a dict
    outputs: dict[str, dict[str, tuple[str, bytes]]]  # input name → annotated / report → (file name, bytes)
    summary: bytes
    archive: bytes


def run_round(
    inputs: list[tuple[str, bytes]],
    extras: list[tuple[str, bytes]],
    pack: str,
    jobs: int | None,
    scheduler: str | None,
    on_progress: Callable[[int, int], None] | None = None,
    previous: list[tuple[str, bytes]] | None = None,
    extra: Extra = (),
) -> RoundRun:
    """Run ``process_folder`` over the round's latest workbooks (name → bytes) with the round's pack.

    ``previous`` are last year's workbooks of the departments (the cross-year rules, as
    on upload); ``extras`` are files added to the archive as they are (the final
    reports). Runs in a thread of the server; ``process_folder`` starts its own pool or
    uses Dask. Each file's annotated workbook and report come back as bytes, to be stored.
    """
    from ..batch import SUMMARY_NAME, BatchOptions, process_folder

    with tempfile.TemporaryDirectory(prefix="xlproc-round-") as tmp:
        inbox, outbox, last_year = Path(tmp) / "inbox", Path(tmp) / "outbox", Path(tmp) / "previous"
        inbox.mkdir()
        for name, data in inputs:
            (inbox / name).write_bytes(data)
        if previous:
            last_year.mkdir()
            for name, data in previous:
                (last_year / name).write_bytes(data)

        def progress(event: Any) -> None:
            if on_progress is not None and getattr(event, "phase", "process") == "process":
                on_progress(int(getattr(event, "done", 0)), int(getattr(event, "total", 0)))

        options = BatchOptions(
            jobs=jobs,
            scheduler=scheduler,
            previous=last_year if previous else None,
            pipeline=pipeline_options(pack, report=True, extra=extra),
        )
        batch = process_folder(inbox, outbox, options, on_progress=progress)
        outputs: dict[str, dict[str, tuple[str, bytes]]] = {}
        for r in batch.results:
            for kind in ("annotated", "report"):
                rel = r.outputs.get(kind)
                if rel and (outbox / rel).is_file():
                    outputs.setdefault(r.source, {})[kind] = (Path(rel).name, (outbox / rel).read_bytes())
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(outbox.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    zf.write(path, path.relative_to(outbox).as_posix())
            for name, data in extras:
                zf.writestr(name, data)
        summary = (outbox / SUMMARY_NAME).read_bytes() if (outbox / SUMMARY_NAME).exists() else b""
        return RoundRun({r.source: r.to_dict() for r in batch.results}, outputs, summary, buf.getvalue())


class WorkerCrashed(Exception):
    """The process checking a file died (it is replaced; the file is kept and marked failed)."""


CRASHED = "处理该文件时审核进程异常退出（可能超出了内存或时间限制）。文件已保存，请检查后重新上传，或联系财政局"


@dataclass
class Pending:
    """A function started in the workers' pool and not yet waited for."""

    workers: Workers
    executor: Executor
    future: Future

    def result(self) -> Any:
        """Its value; the process running it died → ``WorkerCrashed`` (and the pool is replaced)."""
        try:
            return self.future.result()
        except BrokenProcessPool as exc:
            raise self.workers._replace(self.executor, exc) from exc

    def cancel(self) -> None:
        self.future.cancel()


class Workers:
    """Runs the functions above outside the event loop: a process pool, or a Dask cluster."""

    def __init__(self, jobs: int | None = None, scheduler: str | None = None):
        self.jobs, self.scheduler = jobs, scheduler
        self._executor: Executor | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    def start(self) -> Executor:
        """The running executor (started on first use; upload threads may ask at the same time)."""
        with self._lock:
            if self._executor is None:
                self._start()
            assert self._executor is not None
            return self._executor

    def _start(self) -> None:
        if self.scheduler:
            from distributed import Client

            self._client = Client(self.scheduler)
            self._executor = self._client.get_executor()
        elif self.jobs == 0:
            self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="xlproc-check")
        else:
            n = self.jobs or os.cpu_count() or 1
            # spawn: the server process has threads; forking it could copy a held lock
            self._executor = ProcessPoolExecutor(
                max_workers=n, mp_context=get_context("spawn"), initializer=limit_worker
            )
            for f in [self._executor.submit(warm_up) for _ in range(n)]:
                f.result()

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args)`` in the pool; a worker that died (a file past the memory limit …) → WorkerCrashed.

        A dead worker breaks a process pool for every task in it: the pool is replaced, so
        the next upload is checked as usual.
        """
        executor = self.start()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, partial(fn, *args, **kwargs))
        except BrokenProcessPool as exc:
            raise self._replace(executor, exc) from exc

    @property
    def width(self) -> int:
        """How many checks run at once: the pool's processes (threads with ``jobs=0``); a Dask
        cluster's size is not known before it is reached, so its width is a generous guess."""
        if self.scheduler:
            return 16
        if self.jobs == 0:
            return 4
        return self.jobs or os.cpu_count() or 1

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Pending:
        """Start ``fn(*args)`` in the pool; ``Pending.result()`` waits for it (from a thread that is
        not the event loop: an upload, a round run). The caller may go on meanwhile.

        A pool broken by an earlier task is replaced and the task sent once more; if that pool
        is broken too, ``result()`` raises ``WorkerCrashed``, as for a worker dying on the task.
        """
        for _attempt in range(2):
            executor = self.start()
            try:
                return Pending(self, executor, executor.submit(fn, *args, **kwargs))
            except BrokenProcessPool as exc:
                crashed = self._replace(executor, exc)
        failed: Future = Future()
        failed.set_exception(crashed)
        return Pending(self, executor, failed)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args)`` in the pool, waited for from a thread that is not the event loop."""
        return self.submit(fn, *args, **kwargs).result()

    def _replace(self, executor: Executor, exc: BaseException) -> WorkerCrashed:
        with self._lock:
            if self._executor is executor:  # the first to notice replaces it
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
        return WorkerCrashed(str(exc))

    def close(self) -> None:
        if self._executor is not None:
            if self._client is not None:
                self._executor.shutdown(wait=True)  # Dask's executor has no cancel_futures
            else:
                self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._client is not None:
            self._client.close()
            self._client = None
