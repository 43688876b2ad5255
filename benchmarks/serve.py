"""Benchmark the web portal: a local server and a bounded upload client, 127.0.0.1 only.

    .venv/bin/python benchmarks/serve.py [--uploads 500] [--concurrency 20] [--jobs 2]

Starts ``xlproc serve``'s application under Uvicorn in a subprocess (its own data
directory under a temporary folder, SQLite, a process pool of ``--jobs`` workers),
signs in the seven sample departments, and sends ``--uploads`` uploads of the sample
workbooks, ``--concurrency`` at a time. Every upload is a distinct file (the sample
with a numbered zip comment), so the store must keep one file per upload. Each upload
is timed from the start of the POST to the findings page received (the redirect
followed). The client stops after the last upload or after ``--timeout`` seconds.

Prints p50 / p95 / max upload→findings time, uploads per second, errors, stored
original files and submission rows against uploads, and side by side the baseline:
the same workbooks through the worker's own task (``jobs.check_upload``: check and
annotate, in memory) in this process without HTTP (ms/file),
with the ratio web p50 / library median. Targets on 2 cores: p95 ≤ 300 ms, ≥ 40/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))
PASSWORD = "benchmark-password-1"


def serve(data: Path, port: int, jobs: int) -> None:
    """The server side (run in a subprocess): seed the round, then serve on 127.0.0.1 as ``xlproc serve`` does."""
    from xlproc.web.app import build_app
    from xlproc.web.jobs import pack_for_year
    from xlproc.web.models import DEPARTMENT, Round, User
    from xlproc.web.security import hash_password
    from xlproc.web.serve import serve_app
    from xlproc.web.service import add_departments
    from xlproc.web.settings import Settings

    app = build_app(Settings(data=data, jobs=jobs))
    portal = app.state.portal
    with portal.db.session() as db:
        rnd = Round(year=2023, pack=pack_for_year(2023), title="基准测试")  # the samples' edition
        db.add(rnd)
        db.flush()
        pw = hash_password(PASSWORD)
        names = [re.sub(r"^\d+_", "", p.stem) for p in SAMPLES]
        for _dept, user, _token in add_departments(db, rnd, names):
            user.password_hash, user.invite_hash = pw, None
        assert all(u.role == DEPARTMENT for u in db.query(User))
    portal.workers.start()
    serve_app(app, "127.0.0.1", port)


def variants(n: int) -> list[tuple[str, bytes, int]]:
    """n distinct uploads: (department index, bytes, expected mandatory count) round-robin over the samples."""
    out = []
    for i in range(n):
        k = i % len(SAMPLES)
        buf = io.BytesIO(SAMPLES[k].read_bytes())
        with zipfile.ZipFile(buf, "a") as zf:
            zf.comment = f"benchmark upload {i}".encode()
        out.append((k, buf.getvalue(), i))
    return out


async def client(base: str, uploads: int, concurrency: int, timeout: float, server_pid: int) -> dict:
    """Sign in each sample department, then upload ``uploads`` files, ``concurrency`` at a time.

    aiohttp: this client shares the server's two cores, and costs about a third of what
    httpx costs per upload (the CPU it takes is printed beside the server's).
    """
    import aiohttp

    sessions = []
    for p in SAMPLES:
        s = aiohttp.ClientSession(  # unsafe: keep cookies of an IP address (127.0.0.1)
            base, timeout=aiohttp.ClientTimeout(total=60), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        async with s.get("/login") as r:
            await r.read()
        name = re.sub(r"^\d+_", "", p.stem)
        form = {"username": name, "password": PASSWORD, "csrf_token": csrf(s)}
        async with s.post("/login", data=form) as r:
            await r.read()
            assert r.status == 200 and r.url.path == "/dept", r.url
        sessions.append(s)
    queue: asyncio.Queue = asyncio.Queue()
    for k, data, i in variants(uploads):  # encoded before the clock starts, as a browser would hold them
        queue.put_nowait((k, multipart(csrf(sessions[k]), f"upload_{i}.xlsx", data), i))
    times: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + timeout

    async def worker() -> None:
        while not queue.empty() and time.monotonic() < deadline:
            k, (body, content_type), i = queue.get_nowait()
            s = sessions[k]
            t = time.perf_counter()
            try:
                headers = {"Content-Type": content_type}
                async with s.post("/dept/rounds/1/upload", data=body, headers=headers) as r:  # 303 → findings page
                    text = await r.text()
                    elapsed = (time.perf_counter() - t) * 1000
                    if r.status != 200 or "/submissions/" not in r.url.path or "强制性问题" not in text:
                        errors.append(f"upload {i}: HTTP {r.status} {r.url.path}")
                    else:
                        times.append(elapsed)
            except Exception as exc:  # a refused connection, a timeout …
                errors.append(f"upload {i}: {type(exc).__name__}: {exc}")

    # CPU from here on: the sign-ins above (argon2, on purpose slow) are not uploads
    cpu0, own0 = cpu_times(server_pid), time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    cpu1, own1 = cpu_times(server_pid), time.process_time()
    for s in sessions:
        await s.close()
    return {
        "times": times,
        "errors": errors,
        "wall": wall,
        "sent": len(times) + len(errors),
        "cpu": [b - a for a, b in zip(cpu0, cpu1, strict=True)],
        "client_cpu": own1 - own0,
    }


def multipart(token: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """The upload form as a browser sends it: (body, content type)."""
    boundary = f"----xlproc-bench-{os.urandom(8).hex()}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def csrf(session) -> str:
    """The CSRF cookie the portal set (the form field must repeat it)."""
    return next(c.value for c in session.cookie_jar if c.key == "xlproc_csrf")


def baseline(n: int) -> float:
    """Median ms per workbook of the upload's library work alone (``jobs.check_upload``, no HTTP)."""
    from xlproc.web import jobs

    pack = jobs.pack_for_year(2023)
    datas = [p.read_bytes() for p in SAMPLES]
    for data in datas:  # warm: the pipeline is built on first use
        jobs.check_upload(data, "x.xlsx", pack)
    times = []
    for i in range(n):
        t = time.perf_counter()
        jobs.check_upload(datas[i % len(datas)], f"upload_{i}.xlsx", pack)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def cpu_times(pid: int) -> tuple[float, float, float]:
    """CPU seconds (user + system) of the server process and of its worker processes, and the
    server's system part alone (threads handing over the GIL and sockets show there)."""
    import psutil

    proc = psutil.Process(pid)
    main = sum(proc.cpu_times()[:2])
    system = proc.cpu_times().system
    workers = 0.0
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            workers += sum(child.cpu_times()[:2])
    return main, workers, system


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count_stored(data: Path) -> tuple[int, int, int]:
    """(submission rows, rows with status ok, distinct original files on disk)."""
    import sqlite3

    with sqlite3.connect(data / "xlproc.db") as db:
        rows = db.execute("SELECT COUNT(*), SUM(status = 'ok') FROM submissions").fetchone()
        shas = [r[0] for r in db.execute("SELECT DISTINCT sha256 FROM submissions")]
    on_disk = sum(1 for s in shas if (data / "files" / s[:2] / s).is_file())
    return rows[0], rows[1] or 0, on_disk


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uploads", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=300.0, help="the client stops after this many seconds")
    ap.add_argument("--serve", nargs=2, metavar=("DATA", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), args.jobs)
        return 0
    with tempfile.TemporaryDirectory(prefix="xlproc-bench-serve-") as tmp:
        data, port = Path(tmp) / "data", free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                os.environ.get("XLPROC_BENCH_SERVER", __file__),
                "--serve",
                str(data),
                str(port),
                "--jobs",
                str(args.jobs),
            ],
            cwd=ROOT,
        )
        try:
            import httpx

            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.TransportError:
                    if server.poll() is not None:
                        print("server exited", file=sys.stderr)
                        return 2
                    time.sleep(0.1)
            result = asyncio.run(client(base, args.uploads, args.concurrency, args.timeout, server.pid))
        finally:
            server.terminate()
            server.wait(30)
        rows, ok, stored = count_stored(data)
    times = sorted(result["times"])
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] if times else float("nan")  # noqa: E731
    base_ms = baseline(min(70, args.uploads))
    rate = len(times) / result["wall"] if result["wall"] else 0.0
    print(
        f"uploads: {result['sent']} sent of {args.uploads}, {args.concurrency} at a time, {args.jobs} worker processes"
    )
    print(f"upload→findings: p50 {p(0.50):.0f} ms, p95 {p(0.95):.0f} ms, max {p(1.0):.0f} ms")
    print(f"throughput: {rate:.1f} uploads/s over {result['wall']:.1f} s")
    print(f"errors: {len(result['errors'])}")
    for e in result["errors"][:5]:
        print(f"  {e}")
    n, cpu = max(1, len(times)), result["cpu"]
    print(
        f"CPU per upload: server process {cpu[0] / n * 1000:.1f} ms (system {cpu[2] / n * 1000:.1f} ms), "
        f"worker processes {cpu[1] / n * 1000:.1f} ms, benchmark client {result['client_cpu'] / n * 1000:.1f} ms "
        f"(uploads only, sign-ins excluded; independent of other load on the machine)"
    )
    print(f"stored: {rows} submissions ({ok} checked), {stored} original files on disk, for {result['sent']} uploads")
    print(
        f"baseline (the worker's check_upload in this process, no HTTP): {base_ms:.1f} ms/file; "
        f"web p50 / baseline: {p(0.5) / base_ms:.2f}x"
    )
    print(
        f"targets (2 cores): p95 ≤ 300 ms {'met' if p(0.95) <= 300 else 'MISSED'}, ≥ 40 uploads/s {'met' if rate >= 40 else 'MISSED'}"
    )
    lost = result["sent"] - stored
    return 1 if result["errors"] or lost or rows != result["sent"] else 0


if __name__ == "__main__":
    sys.exit(main())
