"""A slow workbook does not hold other users: checking runs outside the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from xlproc.web import jobs

from .conftest import PASSWORD, sample


def test_slow_check_does_not_block_other_requests(portal_app, world, monkeypatch):
    release = threading.Event()
    real = jobs.check_upload

    def slow_check(*args, **kwargs):
        release.wait(20)  # a pathological file: held until the other request has been served
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "check_upload", slow_check)

    async def scenario():
        transport = httpx.ASGITransport(app=portal_app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=True) as a,
            httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=True) as b,
        ):
            for client, user in ((a, "dept_a"), (b, "dept_b")):
                await client.get("/login")
                token = client.cookies["xlproc_csrf"]
                r = await client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
                assert r.url.path == "/dept"
            upload = asyncio.create_task(
                a.post(
                    f"/dept/rounds/{world['round']}/upload",
                    data={"csrf_token": a.cookies["xlproc_csrf"]},
                    files={"file": ("slow.xlsx", sample("01_").read_bytes())},
                )
            )
            await asyncio.sleep(0.5)
            assert not upload.done()  # still being checked
            t = time.perf_counter()
            other = await b.get("/dept")
            served_in = time.perf_counter() - t
            assert other.status_code == 200 and "示例区司法局" in other.text
            assert not upload.done()  # the other department was served while the slow one waited
            release.set()
            done = await upload
            assert done.status_code == 200 and "强制性问题" in done.text
            return served_in

    assert asyncio.run(scenario()) < 10
