"""``xlproc copydb``: a portal's SQLite data moved to a real PostgreSQL server.

The SQLite side is filled through the app itself (rounds, accounts, invitations,
uploads with findings, decisions, a round run, the audit log); the copy goes to a fresh
PostgreSQL database; then the portal runs on PostgreSQL with the same --data folder and
a department, a reviewer and the administrator see everything they saw before — and new
rows get new ids.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from xlproc.cli.app import app as cli
from xlproc.web.models import AuditEntry, Base, Submission
from xlproc.web.settings import Settings

from .conftest import MAX_UPLOAD, csrf, fresh_pg, login, new_client, pg_url, sample, submission_id, upload


@pytest.fixture
def db_url():
    """The source is always the embedded SQLite under --data."""
    return None


def table_rows(url: str) -> dict[str, list[dict]]:
    """Every row of every table, ids and all, times in UTC (for comparing both sides)."""
    engine = create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = []
                for row in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings():
                    row = dict(row)
                    for k, v in row.items():
                        if isinstance(v, datetime) and v.tzinfo is not None:  # SQLite gives naive UTC
                            row[k] = v.astimezone(UTC).replace(tzinfo=None)
                    rows.append(row)
                out[table.name] = rows
    finally:
        engine.dispose()
    return out


def fill(as_user, world) -> dict[str, int]:
    rid = world["round"]
    a = as_user("dept_a")
    sid_a = submission_id(upload(a, rid, "01_网信办.xlsx", sample("01_").read_bytes()))
    sid_b = submission_id(upload(as_user("dept_b"), rid, "02_司法局.xlsx", sample("02_").read_bytes()))
    upload(a, rid, "坏文件.xlsx", b"PK\x03\x04 not really a workbook")  # a failed one is kept too
    reviewer = as_user("reviewer")
    token = csrf(reviewer)
    reviewer.post(f"/review/submissions/{sid_b}/decide", data={"action": "accept", "comment": "", "csrf_token": token})
    r = reviewer.post(f"/review/rounds/{rid}/run", data={"csrf_token": token})
    deadline = time.monotonic() + 120
    while "下载 汇总.xlsx" not in r.text:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.3)
        r = reviewer.get(str(r.url))
    admin = as_user("admin")
    admin.post("/admin/rounds", data={"year": "2024", "pack": "zpb-2024", "title": "", "csrf_token": csrf(admin)})
    admin.post("/admin/users", data={"username": "李审核", "role": "reviewer", "csrf_token": csrf(admin)})
    return {"a": sid_a, "b": sid_b}


def test_copy_sqlite_portal_to_postgresql(as_user, world, portal_app, settings, tmp_path):
    target = fresh_pg(pg_url())
    sids = fill(as_user, world)
    source = portal_app.state.portal.settings.database_url
    before = table_rows(source)
    assert all(before[t] for t in ("departments", "users", "rounds", "submissions", "decisions", "jobs", "audit_log"))

    runner = CliRunner()
    result = runner.invoke(cli, ["copydb", "--from", str(settings.data), "--to", target])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "共 10 张表" in out and "两边行数一致" in out and "已重置" in out and "PostgreSQL 序列" in out
    counts = {t: n for n, t in re.findall(r"(\d+) 行  \w+（(\w+)）", out)}
    assert counts == {t: str(len(rows)) for t, rows in before.items()}
    pg = Settings(data=settings.data, db_url=target, jobs=0, max_upload=MAX_UPLOAD).database_url
    assert table_rows(pg) == before  # every row, every column, the same ids

    # a second copy into the now filled database is refused, naming what is there
    again = runner.invoke(cli, ["copydb", "--from", str(settings.data), "--to", target])
    assert again.exit_code == 2 and "不是空的" in again.output and "报送记录" in again.output
    assert table_rows(pg) == before

    # the portal on PostgreSQL, same --data: everyone sees what they saw
    from xlproc.web.app import build_app

    app = build_app(Settings(data=settings.data, db_url=target, jobs=0, max_upload=MAX_UPLOAD))
    with new_client(app) as dept:
        login(dept, "dept_a")
        home = dept.get("/dept").text
        assert "坏文件.xlsx" in home and "有错误" in home
        page = dept.get(f"/submissions/{sids['a']}").text
        assert "住房保障支出占比填写为 4.20%" in page
        annotated = dept.get(f"/submissions/{sids['a']}/annotated")
        assert annotated.status_code == 200 and annotated.content[:2] == b"PK"
        assert dept.get(f"/submissions/{sids['b']}").status_code == 404  # rights hold on the copy
        # new rows get ids after the copied ones (the sequences were reset)
        new_sid = submission_id(upload(dept, world["round"], "再次.xlsx", sample("01_").read_bytes()))
        assert new_sid == max(r["id"] for r in before["submissions"]) + 1
    with new_client(app) as reviewer:
        login(reviewer, "reviewer")
        board = reviewer.get(f"/review/rounds/{world['round']}").text
        assert "已确认" in board and "示例区司法局" in board
        assert reviewer.get(f"/submissions/{sids['b']}/final").status_code == 200
    with new_client(app) as admin:
        login(admin, "admin")
        page = admin.get("/admin").text
        assert "2024年度部门整体绩效自评" in page and "李审核" in page
    with app.state.portal.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == len(before["submissions"]) + 1
        assert db.scalar(select(func.max(AuditEntry.id))) > max(r["id"] for r in before["audit_log"])
    app.state.portal.workers.close()
    app.state.portal.db.engine.dispose()


def test_copy_refuses_a_missing_source_and_the_same_database(tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["copydb", "--from", str(tmp_path / "nothing"), "--to", "sqlite:///x.db"])
    assert r.exit_code == 2 and "不是数据库地址" in r.output
    url = f"sqlite:///{tmp_path / 'a.db'}"
    r = runner.invoke(cli, ["copydb", "--from", url, "--to", url])
    assert r.exit_code == 2 and "同一个" in r.output
