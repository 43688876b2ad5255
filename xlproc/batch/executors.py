"""Run the per-file task over many workbooks: in this process, a local pool, or Dask.

All three run the same top-level function ``run_chunk(tasks, config)`` over chunks of
files (a chunk amortises inter-process traffic; a workbook costs ~25 ms). Workers
have their ``Pipeline`` (spec, compiled rules, parsed report template) once per
process: local workers fork from a fork server that prepared it (``worker_context``),
or build it in the pool's initializer where there is none; Dask workers build it on
first use (``cached_pipeline``).

A worker process that dies (segfault, out of memory) breaks a local pool. The files
that were in flight are then re-run one at a time in a fresh pool, so the file that
kills its worker is identified and reported as failed, and no other file is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import WorkbookError, XlprocError, os_reason
from ..io.safe_read import read_input
from ..pipeline import FileResult, PipelineOptions, cached_pipeline, failed_result, process_file

STATUS_UNCHANGED = "unchanged"  # internal: content hash equals the manifest's; parent reuses
WORKER_CRASHED = "处理该文件时工作进程异常退出（可能是文件损坏或内存不足），其他文件不受影响"
WORKER_MEMORY_MB = 1024  # address space of a worker (RLIMIT_AS); XLPROC_WORKER_MEMORY_MB overrides
FILE_TIMEOUT_S = 120.0  # wall clock per file in a worker; XLPROC_FILE_TIMEOUT overrides
DASK_CONNECT_TIMEOUT_S = 5

_ENVIRON_LOCK = threading.Lock()  # os.environ changed around the fork server's start


def file_timeout() -> float:
    """Seconds one file may take in a worker before it is stopped and failed."""
    try:
        return max(1.0, float(os.environ.get("XLPROC_FILE_TIMEOUT", FILE_TIMEOUT_S)))
    except ValueError:
        return FILE_TIMEOUT_S


def timed_out_message(seconds: float) -> str:
    return f"处理该文件超过 {seconds:.0f} 秒仍未完成，已终止（文件可能异常），其他文件不受影响"


Chunk = list[Any]


@dataclass(frozen=True)
class WorkerTask:
    """One file for a worker: where it is, what to call it, what the manifest knows."""

    path: str
    source: str  # name relative to the inbox
    stem: str  # output file stem
    known_sha256: str = ""  # reuse the earlier outputs if the content still hashes to this


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs, sent once (pool initializer) or with each chunk (Dask)."""

    outbox: str
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)
    previous: dict[str, str] | None = None  # department_key → last year's workbook
    # Replaces ``process_file`` (tests, benchmarks): fn(path, outbox, task, sha256) -> FileResult.
    task: Callable[..., FileResult] | None = None


def _run_one(t: WorkerTask, config: WorkerConfig) -> FileResult:
    path = Path(t.path)
    try:  # a regular file, bounded, not changing while read (see io.safe_read)
        data = read_input(path)
    except WorkbookError as exc:
        return failed_result(t.source, exc.reason)
    except OSError as exc:
        return failed_result(t.source, f"无法读取文件：{os_reason(exc)}")
    sha = hashlib.sha256(data).hexdigest()
    if t.known_sha256 and sha == t.known_sha256:
        return FileResult(source=t.source, sha256=sha, status=STATUS_UNCHANGED)
    if config.task is not None:
        return config.task(path, Path(config.outbox), t, sha)
    pipeline = cached_pipeline(config.pipeline)
    return process_file(
        path,
        Path(config.outbox),
        pipeline,
        previous=config.previous,
        source=t.source,
        stem=t.stem,
        sha256=sha,
        data=data,
    )


_WORKER_CONFIG: WorkerConfig | None = None  # set once per pool worker by its initializer


class FileTimeoutError(XlprocError):
    """One file took longer than ``file_timeout()`` (raised by the worker's alarm)."""


def _alarm(_signum, _frame) -> None:
    raise FileTimeoutError(timed_out_message(file_timeout()))


def _run_timed(t: WorkerTask, config: WorkerConfig) -> FileResult:
    """``_run_one`` under a wall-clock alarm (main thread only; the parent also watches)."""
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return _run_one(t, config)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, file_timeout())
    try:
        return _run_one(t, config)
    except FileTimeoutError as exc:  # raised outside process_file's own handlers
        return failed_result(t.source, str(exc))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_chunk(tasks: list[WorkerTask], config: WorkerConfig | None = None) -> list[FileResult]:
    """Process a chunk of files; one result per file, in order. Never raises per file.

    ``config`` None means the one this pool worker was started with (sent once, not per chunk).
    """
    config = config or _WORKER_CONFIG
    assert config is not None, "run_chunk needs a WorkerConfig"
    return [_run_timed(t, config) for t in tasks]


def index_chunk(paths: list[str], config: WorkerConfig | None = None) -> list[tuple[str, str, str, str, int | None]]:
    """(path, department, sha256, error, year) of previous-year workbooks, for the cross-year rules.

    Each is read with the pack of its own edition (among the pipeline's ``--pack`` folders).
    """
    from ..pipeline.check import year_of
    from ..reading.workbook import read_workbook

    config = config or _WORKER_CONFIG
    packs = config.pipeline.packs if config is not None else ()
    out: list[tuple[str, str, str, str, int | None]] = []
    for p in paths:
        try:
            data = read_input(Path(p))
            sha = hashlib.sha256(data).hexdigest()
            sub = read_workbook(Path(p), data=data, packs=packs)
            out.append((p, sub.department, sha, "", year_of(sub)))
        except (XlprocError, OSError) as exc:
            out.append((p, "", "", str(exc), None))
        except Exception as exc:
            out.append((p, "", "", f"{type(exc).__name__}: {exc}", None))
    return out


def _init_worker(config: WorkerConfig) -> None:
    global _WORKER_CONFIG
    # Ctrl-C goes to the whole process group; only the parent decides what to do
    # (it terminates the pool), so a worker never dies half-way through a rename.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_worker()
    _WORKER_CONFIG = config
    if config.task is None:  # a broken pack is reported by ``validate_pipeline``, not here
        with contextlib.suppress(Exception):
            cached_pipeline(config.pipeline)


def validate_pipeline(options: PipelineOptions) -> BaseException | None:
    """Build the pipeline in a worker; the "cannot run" error (picklable), or None.

    The batch's parent asks a worker instead of building a pipeline of its own: the
    worker has built it already (or got it from the fork server), the parent then
    spends no CPU on it.
    """
    try:
        cached_pipeline(options)
    except Exception as exc:
        import pickle

        try:
            return pickle.loads(pickle.dumps(exc))
        except Exception:
            return XlprocError(str(exc))
    return None


def limit_worker(memory_mb: int | None = None) -> None:
    """OS limits for a worker process, so what slips past the budgets fails one file:

    - its address space is capped (``RLIMIT_AS``, default ``WORKER_MEMORY_MB``; a
      MemoryError or a dead worker instead of a machine out of memory);
    - it dies with the main process (Linux ``PR_SET_PDEATHSIG``): a killed batch leaves
      no workers running and writing.
    """
    mb = memory_mb or int(os.environ.get("XLPROC_WORKER_MEMORY_MB", WORKER_MEMORY_MB))
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or soft > want:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    die_with_parent()


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent ends (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        # The process that started this one: the main process (spawn) or the pool's fork
        # server, which itself exits when the main process does.
        expected = os.getppid()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        parent = multiprocessing.parent_process()
        if parent is not None and os.getppid() != expected:
            os._exit(1)  # the parent died before the call: nobody would stop this process
        if parent is not None and parent.pid != expected:
            # Started by the pool's fork server, which outlives the main process as long as
            # any worker does: watch the main process itself and go with it.
            threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True, name="xlproc-watch").start()


def worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: from a fork server that has warmed up, where there is one.

    Not ``fork`` of the caller: the CLI and the web server run threads, and forking a
    process with threads can copy a held lock. The fork server is a fresh,
    single-threaded process; it imports ``xlproc.pipeline.warm`` (libraries, packs,
    compiled rules and report template) once, and each worker forked from it starts
    ready. Where there is no fork server (Windows), workers are spawned and build
    their pipeline themselves.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["xlproc.pipeline.warm"])
        return ctx
    return multiprocessing.get_context("spawn")


def _exit_with(sentinel: int) -> None:
    """Block until the main process has ended (its sentinel becomes ready), then exit at once."""
    from multiprocessing.connection import wait as wait_ready

    wait_ready([sentinel])
    os._exit(1)


def _noop() -> None:
    """Submitted once per worker at start-up so all workers spawn (and build) at once."""


class WorkerCrashedError(Exception):
    """A worker process died while processing exactly this chunk (run alone)."""


class InProcessExecutor:
    """Everything in the calling process (``--jobs 0``): simplest to debug and profile."""

    def __init__(self, config: WorkerConfig):
        self.config = config

    def start(self, sample: list[str] | None = None) -> None:
        pass

    def set_config(self, config: WorkerConfig) -> None:
        self.config = config

    def validate(self, options: PipelineOptions) -> None:
        """Raise the "cannot run" error of a pipeline with these options (built here)."""
        cached_pipeline(options)

    def map_chunks(self, fn: Callable, chunks: list[Chunk]) -> Iterator[tuple[Chunk, Any]]:
        for chunk in chunks:
            try:
                yield chunk, fn(chunk, self.config)
            except Exception as exc:
                yield chunk, exc

    def can_aside(self) -> bool:
        """No second process to run a task beside this one."""
        return False

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class LocalPoolExecutor:
    """A pool of long-lived worker processes on this machine."""

    def __init__(self, config: WorkerConfig, jobs: int):
        self.config = config
        self.jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=worker_context(),
                initializer=_init_worker,
                initargs=(self.config,),
            )
        return self._pool

    def _restart(self) -> None:
        self._kill()
        self._pool = None

    def start(self, sample: list[str] | None = None) -> None:
        """Get workers going while the parent prepares: the fork server starts warming up
        (workers fork from it in milliseconds once it is ready), or, spawning, every
        worker is started now and builds its pipeline.

        ``sample``: the inbox's files; the fork server prepares the editions of a few of
        them (``pipeline.sample``, ``pipeline.warm``). A fork server already running keeps what it prepared.
        """
        ctx = worker_context()
        if ctx.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            from ..pipeline.sample import SAMPLE_ENV, sample_inbox

            with _ENVIRON_LOCK:  # the server is started with this process's environment
                os.environ[SAMPLE_ENV] = sample_inbox(sample or [])
                try:
                    forkserver.ensure_running()  # returns at once; the server warms up on its own
                finally:
                    del os.environ[SAMPLE_ENV]
            return
        pool = self._start()
        for _ in range(self.jobs):
            pool.submit(_noop)

    def validate(self, options: PipelineOptions) -> None:
        """Raise the "cannot run" error of a pipeline with these options, as a worker finds it."""
        try:
            error = self._start().submit(validate_pipeline, options).result(timeout=file_timeout() + 60)
        except (BrokenProcessPool, FutureTimeout):
            self._restart()
            cached_pipeline(options)  # the worker died or hangs: find the error here
            return
        if error is not None:
            raise error

    def set_config(self, config: WorkerConfig) -> None:
        """Workers get the config once, at start: a new config means a fresh pool."""
        if config != self.config:
            self.config = config
            if self._pool is not None:
                self.close()

    def map_chunks(self, fn: Callable, chunks: list[Chunk]) -> Iterator[tuple[Chunk, Any]]:
        pending = deque(chunks)
        suspects: deque[Chunk] = deque()  # items of chunks in flight when a worker died
        inflight: dict[Any, tuple[Chunk, bool]] = {}
        deadlines: dict[Any, float] = {}
        limit = self.jobs * 3
        per_file = file_timeout() + 5  # the worker's own alarm fires first when it can
        while pending or suspects or inflight:
            pool = self._start()
            now = time.monotonic()
            if suspects:
                if not inflight:
                    chunk = suspects.popleft()
                    fut = pool.submit(fn, chunk)
                    inflight[fut] = (chunk, True)
                    deadlines[fut] = now + per_file * len(chunk)
            else:
                while pending and len(inflight) < limit:
                    chunk = pending.popleft()
                    fut = pool.submit(fn, chunk)
                    inflight[fut] = (chunk, False)
                    # queued behind up to ``limit`` chunks on ``jobs`` workers
                    deadlines[fut] = now + per_file * len(chunk) * (limit // self.jobs + 1)
            wait_s = max(0.1, min(deadlines[f] for f in inflight) - time.monotonic())
            done, _ = wait(list(inflight), timeout=wait_s, return_when=FIRST_COMPLETED)
            if not done and time.monotonic() >= min(deadlines[f] for f in inflight):
                # a worker stuck past any reasonable time (in native code the alarm
                # cannot interrupt): stop the pool; a lone file is failed, others re-run alone
                for fut, (chunk, isolated) in list(inflight.items()):
                    if isolated and time.monotonic() >= deadlines[fut]:
                        yield chunk, WorkerCrashedError(timed_out_message(per_file - 5))
                    else:
                        suspects.extend([item] for item in chunk)
                inflight.clear()
                deadlines.clear()
                self._restart()
                continue
            broken = False
            for fut in done:
                chunk, isolated = inflight.pop(fut)
                deadlines.pop(fut, None)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken = True
                    if isolated:
                        yield chunk, WorkerCrashedError(WORKER_CRASHED)
                    else:
                        suspects.extend([item] for item in chunk)
                    continue
                except Exception as exc:
                    yield chunk, exc
                    continue
                yield chunk, result
            if broken:
                for chunk, _isolated in inflight.values():
                    suspects.extend([item] for item in chunk)
                inflight.clear()
                deadlines.clear()
                self._restart()

    def can_aside(self) -> bool:
        """Whether a pool is running whose idle workers can take a task (``aside``)."""
        return self._pool is not None

    def aside(self, fn: Callable, *args: Any) -> Any:
        """``fn(*args)`` in a worker of the running pool: a Future, or None when the pool
        is gone or broken (the caller then runs it itself)."""
        if self._pool is None:
            return None
        try:
            return self._pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):
            return None

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor has no public "terminate": stop the workers ourselves so an
        # interrupted batch returns at once (their outputs are atomic, temporaries swept).
        procs = list(getattr(pool, "_processes", {}).values())
        for p in procs:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in procs:
            with contextlib.suppress(Exception):
                p.join(5)
        # A worker stopped while writing its result leaves half a message in the result
        # pipe, and the pool's manager thread would wait for the rest for ever (seen: a
        # batch hanging after Ctrl-C). With the workers gone, the parent holds the only
        # write end left: closing it ends that read (EOF) and lets the thread finish.
        with contextlib.suppress(Exception):
            pool._result_queue._writer.close()  # type: ignore[attr-defined]
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        self._kill()


class DaskExecutor:
    """The same chunks on a Dask distributed cluster (``--scheduler tcp://HOST:PORT``).

    Workers must see the inbox and outbox at the same paths (a shared file system) and
    have xlproc installed. Each worker process builds its Pipeline on first use.
    """

    def __init__(self, config: WorkerConfig, scheduler: str):
        try:
            from distributed import Client
        except ImportError as exc:
            raise XlprocError("使用 --scheduler 需要安装 dask[distributed]：pip install 'xlproc[dask]'") from exc
        self.config = config
        try:
            self.client = Client(scheduler, set_as_default=False, timeout=f"{DASK_CONNECT_TIMEOUT_S}s")
        except Exception:  # OSError, TimeoutError, a malformed address …
            raise XlprocError(
                f"无法连接 Dask 调度器 {scheduler}（{DASK_CONNECT_TIMEOUT_S} 秒内无响应或地址无效），"
                "请检查地址和调度器是否已启动；不加 --scheduler 则在本机处理"
            ) from None
        self._futures: list[Any] = []

    def start(self, sample: list[str] | None = None) -> None:
        pass

    def validate(self, options: PipelineOptions) -> None:
        """Raise the "cannot run" error of a pipeline with these options (built here: the
        cluster's workers build theirs on first use)."""
        cached_pipeline(options)

    def set_config(self, config: WorkerConfig) -> None:
        self.config = config

    def map_chunks(self, fn: Callable, chunks: list[Chunk]) -> Iterator[tuple[Chunk, Any]]:
        from distributed import as_completed

        # The config (with the previous-year index) goes to each worker once, not per chunk.
        config = self.client.scatter(self.config, broadcast=True)
        futures = {self.client.submit(fn, chunk, config, pure=False): chunk for chunk in chunks}
        self._futures = list(futures)
        for fut in as_completed(futures, loop=self.client.loop):
            chunk = futures[fut]
            try:
                yield chunk, fut.result()
            except Exception as exc:  # KilledWorker, a lost connection …
                yield chunk, exc
            fut.release()

    def can_aside(self) -> bool:
        """The cluster's workers may not see this machine's disk: the tail is written here."""
        return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel(self._futures)
        self.close()


def make_executor(config: WorkerConfig, jobs: int, scheduler: str | None = None):
    """The executor for the options: Dask when a scheduler is given, else pool or in-process."""
    if scheduler:
        return DaskExecutor(config, scheduler)
    if jobs <= 0:
        return InProcessExecutor(config)
    return LocalPoolExecutor(config, jobs)


def default_jobs() -> int:
    """One worker per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def chunked(items: list[Any], jobs: int, size: int | None = None) -> list[Chunk]:
    """Split work into chunks: big enough to amortise IPC, small enough to balance load.

    Without a fixed ``size`` the chunks shrink as the work runs out (guided
    scheduling): up to 16 files while much is left, single files at the end, so no
    worker sits idle while another finishes a long last chunk.
    """
    if size is not None:
        return [items[i : i + size] for i in range(0, len(items), size)]
    out: list[Chunk] = []
    i, workers = 0, max(1, jobs)
    while i < len(items):
        step = max(1, min(16, (len(items) - i) // (workers * 8)))
        out.append(items[i : i + step])
        i += step
    return out


def failed_chunk(chunk: list[WorkerTask], error: BaseException) -> list[FileResult]:
    """Results for every file of a chunk whose execution failed as a whole."""
    message = (
        str(error) if isinstance(error, WorkerCrashedError) else f"处理时发生意外错误：{type(error).__name__}: {error}"
    )
    return [failed_result(t.source, message) for t in chunk]


def mark_cached(result: FileResult) -> FileResult:
    """A reused result, flagged as such."""
    return replace(result, cached=True)
