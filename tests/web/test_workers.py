"""Checking runs outside the event loop: in a process pool, or on a Dask cluster with --scheduler."""

from __future__ import annotations

import asyncio
import gc
import os

from xlproc.web import jobs

from .conftest import sample


def _check_twice(workers: jobs.Workers) -> list[jobs.Checked]:
    async def go():
        data = sample("01_").read_bytes()
        return await asyncio.gather(
            workers.run(jobs.check_upload, data, "a.xlsx", jobs.DEFAULT_PACK),
            workers.run(jobs.check_upload, data[:5000], "b.xlsx", jobs.DEFAULT_PACK),
        )

    try:
        return asyncio.run(go())
    finally:
        workers.close()


def _assert_results(results: list[jobs.Checked]) -> None:
    good, bad = results
    assert good.status == "ok" and good.counts["error"] == 2 and good.annotated[:2] == b"PK"
    assert good.department == "中共保定市徐水区委网络安全和信息化委员会办公室"
    assert bad.status == "failed" and "损坏" in bad.error


def test_process_pool_runs_checks_in_other_processes():
    pids = set()
    workers = jobs.Workers(jobs=1)
    workers.start()
    pids.update(f.result() for f in [workers._executor.submit(os.getpid)])
    assert os.getpid() not in pids
    # warmed before the first upload: the heap it built is frozen out of the garbage collector
    assert workers.call(gc.get_freeze_count) > 10000
    _assert_results(_check_twice(workers))


def test_dask_scheduler_runs_checks_on_the_cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        workers = jobs.Workers(scheduler=cluster.scheduler_address)
        _assert_results(_check_twice(workers))


def _die() -> None:
    os._exit(3)  # what a worker killed by the OS (memory limit, OOM killer) looks like to the pool


def _address_space_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_AS)[0]


def test_a_dead_worker_is_replaced_and_reported():
    import resource

    import pytest

    workers = jobs.Workers(jobs=1)

    async def go():
        limit = await workers.run(_address_space_limit)
        assert limit != resource.RLIM_INFINITY and limit <= 1024 * 1024 * 1024  # batch's worker limits apply
        with pytest.raises(jobs.WorkerCrashed):
            await workers.run(_die)
        return await workers.run(jobs.check_upload, sample("02_").read_bytes(), "b.xlsx", jobs.DEFAULT_PACK)

    try:
        assert asyncio.run(go()).status == "ok"  # a fresh pool took over
    finally:
        workers.close()


def test_an_upload_is_checked_as_the_batch_checks_a_file(tmp_path):
    """The portal's in-memory check gives what ``xlproc batch``'s task writes for the same file:
    department, counts, figures, findings, notes, the annotated workbook byte for byte — and
    the same Chinese reason for a file that cannot be read."""
    from xlproc.pipeline import PipelineOptions, cached_pipeline, process_file

    pipeline = cached_pipeline(PipelineOptions(report=False))
    bad = sample("02_").read_bytes()[:5000]  # a cut-off upload
    for name, data in (("01_网信办.xlsx", sample("01_").read_bytes()), ("03_坏文件.xlsx", bad)):
        src = tmp_path / name
        src.write_bytes(data)
        batch = process_file(src, tmp_path / "out", pipeline, source=name, data=data)
        upload = jobs.check_upload(data, name, jobs.DEFAULT_PACK)
        if not batch.ok:
            assert upload.status == "failed" and upload.error == batch.error and batch.error
            continue
        assert upload.status == "ok"
        assert (upload.department, upload.counts, upload.figures) == (batch.department, batch.counts, batch.figures)
        assert upload.findings == list(batch.findings) and upload.notes == list(batch.notes)
        annotated = tmp_path / "out" / batch.outputs["annotated"]
        assert upload.annotated_name == annotated.name
        assert upload.annotated == annotated.read_bytes()
    assert not batch.ok, "the damaged package must be one that cannot be read"


def test_a_pool_broken_before_a_file_is_submitted_takes_the_file_on_a_fresh_pool():
    """A worker died between two uploads, and nobody has waited on the broken pool yet: the next
    upload is not marked failed for it, it is checked on a fresh pool."""
    from concurrent.futures.process import BrokenProcessPool

    import pytest

    workers = jobs.Workers(jobs=1)
    try:
        broken = workers.start()
        with pytest.raises(BrokenProcessPool):
            broken.submit(_die).result()  # broken behind the Workers' back
        pending = workers.submit(jobs.check_upload, sample("02_").read_bytes(), "b.xlsx", jobs.DEFAULT_PACK)
        assert pending.executor is not broken
        assert pending.result().status == "ok"
        with pytest.raises(jobs.WorkerCrashed):  # a worker dying on the file itself is reported
            workers.submit(_die).result()
        assert workers.call(os.getpid) != os.getpid()  # and replaced again
    finally:
        workers.close()


def test_two_upload_threads_per_check_running_at_once(settings):
    """Uploads wait their turn for a small number of threads (docs/web.md, "The upload path")."""
    from dataclasses import replace

    from xlproc.web.portal import Portal

    for jobs_, width in ((1, 1), (3, 3), (0, 4)):
        portal = Portal(replace(settings, jobs=jobs_))
        try:
            assert portal.workers.width == width
            assert portal.upload_threads._max_workers == 2 * width
        finally:
            portal.close_uploads()
