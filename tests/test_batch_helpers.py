"""Stub per-file task for the batch orchestration tests (importable by spawned workers).

A stub "workbook" is a JSON file named *.xlsx: {"department": ..., "errors": n,
"warnings": n, "fail": "message", "crash": true, "sleep": seconds}. The stub writes
only the findings JSON, atomically, where the real pipeline would.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from xlproc.io.atomic import write_bytes
from xlproc.pipeline import FileResult, failed_result, output_paths


def stub_task(path: Path, outbox: Path, task, sha256: str) -> FileResult:
    """Behave like process_file on a stub workbook."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError:
        return failed_result(task.source, "文件已损坏，无法读取", sha256)
    if data.get("crash"):
        os._exit(3)  # a worker dying hard, like a segfault
    if data.get("sleep"):
        time.sleep(data["sleep"])
    if data.get("fail"):
        return failed_result(task.source, data["fail"], sha256)
    dept = data["department"]
    findings = [
        {
            "rule_id": f"stub.e{i}",
            "severity": "error",
            "sheet": "基本情况",
            "cell": f"C{i + 3}",
            "message": f"错误 {i}",
            "explanation": "",
            "explained": False,
        }
        for i in range(data.get("errors", 0))
    ] + [
        {
            "rule_id": "stub.w",
            "severity": "warning",
            "sheet": "三公经费",
            "cell": "D9",
            "message": "提示",
            "explanation": data.get("note", ""),
            "explained": bool(data.get("note")),
        }
        for _ in range(data.get("warnings", 0))
    ]
    counts = {
        "error": data.get("errors", 0),
        "warning": data.get("warnings", 0),
        "info": 0,
        "explained": data.get("warnings", 0) if data.get("note") else 0,
        "open_warning": 0 if data.get("note") else data.get("warnings", 0),
    }
    outs = output_paths(outbox, dept, task.stem)
    write_bytes(
        outs["findings"], json.dumps({"source": task.source, "findings": findings}, ensure_ascii=False).encode()
    )
    return FileResult(
        source=task.source,
        sha256=sha256,
        department=dept,
        counts=counts,
        figures={
            "score_converted": data.get("score"),
            "score_total": data.get("total"),
            "income_total": data.get("income"),
            "sangong_actual": None,
            "sangong_change": None,
            "sanbao_coverage": None,
        },
        findings=findings,
        outputs={"findings": outs["findings"].relative_to(outbox).as_posix()},
        worker=str(os.getpid()),
    )


def write_stub(folder: Path, name: str, **data) -> Path:
    """A stub workbook in ``folder``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def summary_projection(path: Path) -> dict:
    """汇总.xlsx as readable data: every sheet's cells (value, and 'f' marking formulas), the charts."""
    import re
    import zipfile

    import openpyxl

    wb = openpyxl.load_workbook(path)
    sheets = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows():
            cells = []
            for c in row:
                if c.value is None:
                    cells.append(None)
                elif c.data_type == "f":
                    cells.append({"formula": str(c.value)})
                else:
                    cells.append(c.value)
            rows.append(cells)
        sheets[ws.title] = rows
    charts = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(n for n in z.namelist() if n.startswith("xl/charts/chart")):
            xml = z.read(name).decode("utf-8")
            kind = re.findall(r"<c:(barChart|colChart|lineChart|pieChart)>", xml)
            refs = re.findall(r"<c:f>([^<]*)</c:f>", xml)
            charts.append({"kind": kind, "refs": refs})
    return {"sheets": sheets, "charts": charts}


def outbox_projection(outbox: Path) -> dict:
    """The files of an outbox (relative paths) and the summary's projection."""
    files = sorted(
        p.relative_to(outbox).as_posix() for p in outbox.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    return {"files": files, "summary": summary_projection(outbox / "汇总.xlsx")}


def patch_strings(src: Path, dst: Path, replacements: dict[str, str]) -> Path:
    """Copy a workbook, replacing whole cell strings (``<t>old</t>``) in every XML part."""
    import zipfile
    from xml.sax.saxutils import escape

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".xml"):
                text = data.decode("utf-8")
                for old, new in replacements.items():
                    text = text.replace(f">{escape(old)}<", f">{escape(new)}<")
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dst


ENCRYPTED_STANDIN = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    + b"\0" * 504
    + "EncryptionInfo".encode("utf-16-le")
    + b"\0" * 64
    + "EncryptedPackage".encode("utf-16-le")
    + b"\0" * 512
)


def _pipeline_state() -> tuple[int, int, bool]:
    """In a pool worker: (pipelines already built, editions with a compiled wording, gc frozen)."""
    import gc

    from xlproc.form.memo import remembered
    from xlproc.form.packs import installed_packs
    from xlproc.pipeline import cached_pipeline

    wordings = sum(1 for pack in installed_packs() for key in remembered(pack.spec) if key[:1] == ("wording",))
    return cached_pipeline.cache_info().currsize, wordings, gc.get_freeze_count() > 0


def test_workers_fork_ready_from_the_warmed_fork_server() -> None:
    """A worker of the batch's pool starts with a pipeline and an edition's wording already
    built by the fork server (xlproc.pipeline.warm), its heap frozen. Which editions depends on
    the batch that started this process's fork server: see the test below, in fresh processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from xlproc.batch.executors import worker_context
    from xlproc.form.packs import installed_packs

    ctx = worker_context()
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server on this platform: workers build their own pipeline")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        built, wordings, frozen = pool.submit(_pipeline_state).result(timeout=120)
    assert built >= 1 and 1 <= wordings <= len(installed_packs()) and frozen


def _half_sent_result() -> None:
    """In a pool worker: write the start of a result message (a length header and a few
    bytes of a larger body) into the result pipe, then stall, as a worker stopped in the
    middle of sending its result leaves it."""
    import gc
    import struct
    from multiprocessing.queues import SimpleQueue

    queue = next(o for o in gc.get_objects() if isinstance(o, SimpleQueue))  # the pool's result queue
    os.write(queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 10)
    time.sleep(120)


def test_abort_returns_when_a_worker_is_stopped_half_way_through_sending_its_result(tmp_path: Path) -> None:
    """Ctrl-C stops the pool while a worker may be writing its result: the pool's manager
    thread must not wait for the rest of that message for ever (a batch once hung so)."""
    import threading

    from xlproc.batch.executors import LocalPoolExecutor, WorkerConfig

    executor = LocalPoolExecutor(WorkerConfig(str(tmp_path)), 1)
    future = executor._start().submit(_half_sent_result)
    time.sleep(2)  # the manager thread is now reading a message that will not be finished
    assert not future.done()
    stopper = threading.Thread(target=executor.abort, daemon=True)
    stopper.start()
    stopper.join(30)
    assert not stopper.is_alive(), "abort hung waiting for a half-sent result"


_SAMPLED_SERVER = """
import json, sys
from xlproc.batch.executors import LocalPoolExecutor, WorkerConfig

def prepared():
    from xlproc.form.memo import remembered
    from xlproc.form.packs import installed_packs
    return sorted({p.version for p in installed_packs() for key in remembered(p.spec) if key[:1] == ("wording",)})

if __name__ == "__main__":
    executor = LocalPoolExecutor(WorkerConfig(sys.argv[1]), 1)
    executor.start(sys.argv[2:])
    print(json.dumps(executor._start().submit(prepared).result(timeout=120)))
    executor.close()
"""


@pytest.mark.parametrize(
    ("inbox", "editions"),
    [
        ("2023", ["2023.1"]),  # last year's edition only: the newest one is not prepared
        ("mixed", ["2023.1", "2024.1"]),
        ("unreadable", ["2024.1"]),  # nothing recognised: the default edition, as before
    ],
)
def test_the_fork_server_prepares_the_editions_of_the_inbox(tmp_path: Path, inbox: str, editions: list[str]) -> None:
    """A batch's fork server prepares the editions a sample of the inbox holds
    (xlproc.pipeline.sample), in a fresh process so that its own fork server starts."""
    import multiprocessing
    import subprocess
    import sys

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server on this platform")
    samples = Path(__file__).resolve().parent.parent / "samples" / "inbox"
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    files = {
        "2023": sorted(samples.glob("*.xlsx")),
        "mixed": [*sorted(samples.glob("*.xlsx"))[:3], *sorted((samples / "2024").glob("*.xlsx"))],
        "unreadable": [bad],
    }[inbox]
    script = tmp_path / "server.py"
    script.write_text(_SAMPLED_SERVER, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "XLPROC_DEFAULT_PACK": "zpb-2024"},  # the newest edition is the default, as installed
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == editions


def test_an_inbox_sample_is_spread_over_the_inbox() -> None:
    from xlproc.pipeline.sample import SAMPLE_SIZE, sample_inbox

    paths = [f"dir:{i:03d}.xlsx" for i in range(100)]  # a colon (os.pathsep) in a name is no separator
    picked = json.loads(sample_inbox(paths))
    assert len(picked) == SAMPLE_SIZE and picked[0] == "dir:000.xlsx" and picked[-1] == "dir:099.xlsx"
    assert len(set(picked)) == SAMPLE_SIZE
    assert json.loads(sample_inbox(paths[:3])) == paths[:3] and sample_inbox([]) == ""
