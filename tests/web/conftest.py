"""Fixtures of the web tests: the portal on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``XLPROC_TEST_PG_URL`` (``.ci/run`` starts a throwaway cluster and
exports it). Without it the PostgreSQL half is skipped on a developer's machine and
FAILS in CI (CI=true), so a missing server can never pass silently.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from xlproc.web.jobs import DEFAULT_PACK
from xlproc.web.models import ADMIN, DEPARTMENT, REVIEWER, Department, Round, RoundMember, User
from xlproc.web.security import CSRF_COOKIE

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "inbox"
PASSWORD = "correct-horse-42"
MAX_UPLOAD = 200 * 1024
# Accounts made by the fixtures carry a cheap argon2 hash (the server verifies any argon2
# hash with the parameters it names); accounts made through the portal get the real cost.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def sample(prefix: str) -> Path:
    return next(p for p in sorted(SAMPLES.glob("*.xlsx")) if p.name.startswith(prefix))


def pg_url() -> str | None:
    url = os.environ.get("XLPROC_TEST_PG_URL")
    if not url:
        if CI:
            pytest.fail("XLPROC_TEST_PG_URL is not set: .ci/run must start PostgreSQL for the web tests")
        pytest.skip("no PostgreSQL server (set XLPROC_TEST_PG_URL; .ci/run starts one)")
    return url


def fresh_pg(url: str) -> str:
    """An empty database: drop everything a previous test created."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:
        if CI:
            pytest.fail(f"PostgreSQL at {url} is not reachable: {exc}")
        pytest.skip(f"PostgreSQL at {url} is not reachable: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str | None:
    """None → SQLite under the data directory; else a clean PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return fresh_pg(pg_url())


@pytest.fixture
def settings(tmp_path, db_url):
    from xlproc.web.settings import Settings

    return Settings(data=tmp_path / "data", db_url=db_url, jobs=0, max_upload=MAX_UPLOAD)


@pytest.fixture
def portal_app(settings):
    from xlproc.web.app import build_app

    return build_app(settings)


@pytest.fixture
def world(portal_app):
    """A round with departments A and B, a reviewer and an administrator (all with PASSWORD)."""
    p = portal_app.state.portal
    pw = PASSWORD_HASH
    ids = {}
    with p.db.session() as db:
        rnd = Round(year=2023, pack=DEFAULT_PACK, title="2023年度部门整体绩效自评")
        db.add(rnd)
        db.flush()
        for key, name in (("a", "中共保定市徐水区委网络安全和信息化委员会办公室"), ("b", "示例区司法局")):
            d = Department(name=name)
            db.add(d)
            db.flush()
            db.add(RoundMember(round_id=rnd.id, department_id=d.id))
            db.add(
                User(username=f"dept_{key}", display_name=name, role=DEPARTMENT, department_id=d.id, password_hash=pw)
            )
            ids[key] = d.id
        db.add(User(username="reviewer", display_name="审核员", role=REVIEWER, password_hash=pw))
        db.add(User(username="admin", display_name="管理员", role=ADMIN, password_hash=pw))
        ids["round"] = rnd.id
    return ids


def new_client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, follow_redirects=True)


def csrf(client) -> str:
    if not client.cookies.get(CSRF_COOKIE):
        client.get("/login")
    return client.cookies.get(CSRF_COOKIE)


def login(client, username: str, password: str = PASSWORD):
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client)})
    assert r.status_code == 200, r.text
    return r


@pytest.fixture
def as_user(portal_app, world):
    """``as_user(username)`` → a TestClient signed in as that user."""
    clients = []

    def make(username: str):
        c = new_client(portal_app)
        c.__enter__()
        clients.append(c)
        login(c, username)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def upload(client, round_id: int, name: str, data: bytes):
    return client.post(
        f"/dept/rounds/{round_id}/upload",
        data={"csrf_token": csrf(client)},
        files={"file": (name, data, "application/octet-stream")},
    )


def submission_id(response) -> int:
    m = re.search(r"/submissions/(\d+)$", str(response.url))
    assert m, f"not a submission page: {response.url}"
    return int(m.group(1))


def visible_text(html: str) -> str:
    """The page's text with tags removed (entities kept as they are)."""
    return re.sub(r"<[^>]+>", " ", html)
