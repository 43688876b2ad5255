"""The hostile corpus, through the real CLI in subprocesses under an OS memory limit.

Every case asserts: the exit code, a Chinese message without a traceback, bounded
time (a timeout) and memory (RLIMIT_AS 1 GiB on the CLI, inherited by its workers),
the input unchanged, nothing written outside the output folder, no macro or corrupt
member handed back, and the rest of the batch unaffected.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import psutil
import pytest

from .corpus import GOOD, build

XLPROC = [sys.executable, "-m", "xlproc"]
MEMORY_LIMIT = 1 << 30
CJK = re.compile(r"[\u4e00-\u9fff]")


def _limits(fsize: int | None = None):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails with EFBIG instead of killing
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return apply


def run_cli(*args: str, timeout: float = 120, fsize: int | None = None, env: dict | None = None):
    start = time.monotonic()
    proc = subprocess.run(
        [*XLPROC, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limits(fsize),
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    return proc, time.monotonic() - start


def snapshot(root: Path, skip: Path) -> dict[str, str]:
    """Every file under ``root`` except under ``skip``: relative path → sha256 (or link/kind)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            continue
        for name in files:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "special"
    return out


def no_traceback(*texts: str) -> None:
    for t in texts:
        assert "Traceback" not in t and 'File "' not in t, t[-2000:]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile")
    inbox = root / "inbox"
    inbox.mkdir()
    cases = build(inbox)
    shutil.copy(GOOD, inbox / "00_good.xlsx")
    (root / "outside.xlsx").write_bytes(GOOD.read_bytes())
    os.symlink(root / "outside.xlsx", inbox / "link_outside.xlsx")
    os.symlink("/dev/zero", inbox / "link_dev_zero.xlsx")
    os.mkfifo(inbox / "fifo.xlsx")
    outbox = root / "out"
    before = snapshot(root, outbox)
    proc, elapsed = run_cli("batch", str(inbox), "-o", str(outbox), "--jobs", "2", "--format", "json", timeout=240)
    return {
        "root": root,
        "inbox": inbox,
        "outbox": outbox,
        "cases": cases,
        "proc": proc,
        "elapsed": elapsed,
        "before": before,
        "result": json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else None,
    }


def test_batch_over_the_corpus_exits_one_without_traceback(corpus) -> None:
    proc = corpus["proc"]
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert corpus["result"] is not None
    assert corpus["elapsed"] < 200


def test_every_case_fails_alone_with_a_chinese_reason(corpus) -> None:
    results = {r["source"]: r for r in corpus["result"]["results"]}
    assert results["00_good.xlsx"]["status"] == "ok"  # the rest of the batch is unaffected
    for case in corpus["cases"]:
        r = results[case.name]
        error = r.get("error") or ""
        assert "Traceback" not in error
        assert "意外错误" not in error, (case.name, error)  # every refusal says what is wrong with the file
        if case.refused:
            assert r["status"] == "failed", case.name
            assert case.words in error and CJK.search(error), (case.name, error)
            assert not r.get("outputs"), case.name  # nothing handed back
        elif r["status"] == "failed":
            assert CJK.search(error), (case.name, error)
        if not case.refused and case.kind in ("dimension", "deep", "redos", "names", "twins", "encoding"):
            assert r["status"] == "ok", (case.name, error)


def test_workers_stay_small(corpus) -> None:
    for r in corpus["result"]["results"]:
        assert 0 < r["peak_rss_kb"] < 1024 * 1024, r["source"]


def test_special_files_are_skipped_with_a_line(corpus) -> None:
    skipped = dict((s["source"], s["reason"]) for s in corpus["result"]["skipped"])
    assert "普通文件" in skipped["fifo.xlsx"]
    assert "之外" in skipped["link_outside.xlsx"]
    assert "之外" in skipped["link_dev_zero.xlsx"]


def test_inputs_unchanged_and_nothing_outside_the_outbox(corpus) -> None:
    assert snapshot(corpus["root"], corpus["outbox"]) == corpus["before"]


def test_outputs_are_safe_names_inside_the_outbox(corpus) -> None:
    outbox = corpus["outbox"].resolve()
    for p in outbox.rglob("*"):
        assert outbox in p.resolve().parents
        for part in p.relative_to(outbox).parts:
            assert len(part.encode("utf-8")) <= 200, part
            assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in part), part
            assert part.split(".")[0].upper() not in ("CON", "PRN", "AUX", "NUL", "COM1", "LPT1"), part
            assert "/" not in part and "\\" not in part and part not in (".", "..")


def test_width_variants_are_one_department(corpus) -> None:
    groups = [sorted(v) for v in corpus["result"]["duplicates"].values()]
    assert ["dept_twin_fullwidth.xlsx", "dept_twin_halfwidth.xlsx"] in groups


def test_nothing_handed_back_carries_a_macro_or_a_corrupt_member(corpus) -> None:
    annotated = list(corpus["outbox"].rglob("*_审核.xlsx"))
    assert annotated
    for path in annotated:
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
        assert len(names) == len(set(names))
        assert not any("vbaproject" in n.lower() or ".." in n or n.startswith("/") or "\\" in n for n in names)


def test_check_names_the_file_and_reason(corpus) -> None:
    inbox = corpus["inbox"]
    picks = ["bomb_styles_lying_size.xlsx", "macro_vba.xlsx", "member_dotdot.xlsx", "far_cell_XFD1048576.xlsx"]
    proc, _ = run_cli("check", *(str(inbox / p) for p in picks), timeout=120)
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode == 2
    text = proc.stdout + proc.stderr
    for p, words in zip(picks[:3], ["超过记录的大小", "宏", "成员名"], strict=True):
        assert p in text and words in text, text[-3000:]


def test_annotate_crafted_comments_is_fast(corpus, tmp_path: Path) -> None:
    out = tmp_path / "a.xlsx"
    proc, elapsed = run_cli("annotate", str(corpus["inbox"] / "redos_comments.xlsx"), "-o", str(out), timeout=120)
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert out.exists() and elapsed < 60


# -- filesystem and process faults ------------------------------------------------------------


@pytest.fixture
def small_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(GOOD, inbox / "a.xlsx")
    return inbox


def test_failing_write_makes_the_batch_exit_non_zero(small_inbox: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "out"
    # the summary (~17 KB) still fits, the annotated workbook (~45 KB) does not
    proc, _ = run_cli("batch", str(small_inbox), "-o", str(outbox), "--jobs", "1", fsize=24 * 1024)
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode != 0
    assert CJK.search(proc.stdout + proc.stderr) and "a.xlsx" in proc.stdout + proc.stderr
    for p in outbox.rglob("*"):  # nothing half-written
        assert not p.name.startswith(".~xlproc-"), p
        if p.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(p) as zf:
                assert zf.testzip() is None


def test_tiny_disk_if_mountable(small_inbox: Path, tmp_path: Path) -> None:
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True).returncode
    ):
        pytest.skip("cannot mount a tmpfs here (the RLIMIT_FSIZE test covers write failures)")
    try:
        proc, _ = run_cli("batch", str(small_inbox), "-o", str(mnt / "out"), "--jobs", "1")
        no_traceback(proc.stdout, proc.stderr)
        assert proc.returncode != 0
        assert not list(mnt.rglob(".~xlproc-*"))
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.mark.parametrize("jobs", ["0", "1000"])
def test_jobs_zero_and_huge(small_inbox: Path, tmp_path: Path, jobs: str) -> None:
    proc, _ = run_cli("batch", str(small_inbox), "-o", str(tmp_path / f"out{jobs}"), "--jobs", jobs, "--format", "json")
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["counts"]["failed"] == 0
    assert len({r["worker"] for r in result["results"]}) <= max(1, os.cpu_count() or 1)


def test_negative_jobs_is_a_usage_error(small_inbox: Path, tmp_path: Path) -> None:
    proc, _ = run_cli("batch", str(small_inbox), "-o", str(tmp_path / "out"), "--jobs", "-3")
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode == 2 and "--jobs" in proc.stdout + proc.stderr


def test_unreachable_scheduler_fails_fast_in_chinese(small_inbox: Path, tmp_path: Path) -> None:
    proc, elapsed = run_cli("batch", str(small_inbox), "-o", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9")
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode == 2
    assert "Dask" in proc.stdout + proc.stderr and "无法连接" in proc.stdout + proc.stderr
    assert elapsed < 30


def test_second_batch_on_the_same_outbox_is_refused(small_inbox: Path, tmp_path: Path) -> None:
    from xlproc.io.lock import outbox_lock

    outbox = tmp_path / "out"
    outbox.mkdir()
    with outbox_lock(outbox):
        proc, _ = run_cli("batch", str(small_inbox), "-o", str(outbox))
    no_traceback(proc.stdout, proc.stderr)
    assert proc.returncode == 2 and "另一个批量处理" in proc.stdout + proc.stderr
    assert not (outbox / "汇总.xlsx").exists()


def test_workers_end_when_the_main_process_is_killed(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(30):
        shutil.copy(GOOD, inbox / f"{i:02d}.xlsx")
    proc = subprocess.Popen(
        [*XLPROC, "batch", str(inbox), "-o", str(tmp_path / "out"), "--jobs", "2", "--format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_limits(),
    )
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [c for c in parent.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
            time.sleep(0.2)
        assert workers, "the batch started no workers"
        proc.kill()
        proc.wait(10)
        _gone, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, [p.pid for p in alive]
    finally:
        with contextlib.suppress(Exception):
            proc.kill()
