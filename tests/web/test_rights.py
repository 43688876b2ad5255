"""Each role's pages, and what each role may not reach: by any URL, a department sees only its own."""

from __future__ import annotations

from sqlalchemy import func, select

from xlproc.web.jobs import DEFAULT_PACK
from xlproc.web.models import Submission

from .conftest import csrf, new_client, sample, submission_id, upload


def test_anonymous_is_sent_to_login(portal_app, world):
    with new_client(portal_app) as c:
        for url in ("/", "/dept", "/review", "/admin", "/submissions/1", f"/review/rounds/{world['round']}"):
            r = c.get(url)
            assert r.status_code == 200 and str(r.url).endswith("/login"), url
            assert "登录" in r.text


def test_each_role_sees_its_pages(as_user, world):
    rid = world["round"]
    dept = as_user("dept_a")
    r = dept.get("/dept")
    assert r.status_code == 200 and "下载空白填报表" in r.text and "中共保定市徐水区委网络安全" in r.text
    for url in ("/review", f"/review/rounds/{rid}", "/admin", f"/review/rounds/{rid}/departments/{world['a']}"):
        assert dept.get(url).status_code == 403, url

    reviewer = as_user("reviewer")
    r = reviewer.get(f"/review/rounds/{rid}")
    assert r.status_code == 200 and r.text.count("未报送") >= 3  # two rows + the filter badge
    assert reviewer.get("/admin").status_code == 403
    assert reviewer.get("/dept").status_code == 403

    admin = as_user("admin")
    r = admin.get("/admin")
    assert r.status_code == 200 and "报送轮次" in r.text and "操作日志" in r.text
    assert admin.get(f"/review/rounds/{rid}").status_code == 200


def test_department_cannot_reach_another_departments_files(as_user, world, portal_app):
    rid = world["round"]
    a, b = as_user("dept_a"), as_user("dept_b")
    r = upload(a, rid, "网信办.xlsx", sample("01_").read_bytes())
    sid = submission_id(r)
    assert a.get(f"/submissions/{sid}").status_code == 200
    assert a.get(f"/submissions/{sid}/annotated").status_code == 200
    for suffix in ("", "/original", "/annotated", "/report", "/final", "/nonsense"):
        r = b.get(f"/submissions/{sid}{suffix}")
        assert r.status_code == 404, suffix
        assert "中共保定市" not in r.text and "未找到" in r.text
    # a submission id that does not exist looks exactly the same
    assert b.get(f"/submissions/{sid + 999}").text == b.get(f"/submissions/{sid}").text
    # B's upload can never land in a round it is not part of, nor under A's name
    with portal_app.state.portal.db.session() as db:
        before = db.scalar(select(func.count(Submission.id)))
    assert upload(b, rid + 1, "x.xlsx", b"PK").status_code == 404
    assert b.get(f"/dept/rounds/{rid + 1}/template").status_code == 404
    with portal_app.state.portal.db.session() as db:
        assert db.scalar(select(func.count(Submission.id))) == before
    # the reviewer reaches it
    reviewer = as_user("reviewer")
    assert reviewer.get(f"/submissions/{sid}").status_code == 200


CSRF_FORMS = [
    ("/login", {"username": "admin", "password": "correct-horse-42"}),
    ("/logout", {}),
    ("/admin/rounds", {"year": "2024", "pack": DEFAULT_PACK}),
    ("/admin/users", {"username": "neu", "role": "reviewer"}),
    ("/admin/users/1/invite", {}),
    ("/review/submissions/1/decide", {"action": "return", "comment": "请修改"}),
    ("/review/rounds/1/run", {}),
    ("/invite/whatever", {"password": "x" * 12, "confirm": "x" * 12}),
]


def test_csrf_missing_or_wrong_is_403(as_user):
    admin = as_user("admin")
    good = csrf(admin)
    for url, fields in CSRF_FORMS:
        for token in (None, "", "wrong" + good[5:]):
            data = dict(fields)
            if token is not None:
                data["csrf_token"] = token
            r = admin.post(url, data=data)
            assert r.status_code == 403, (url, token)
            assert "安全校验失败" in r.text
    assert admin.get("/admin").status_code == 200  # still signed in: the forged logout did nothing
    assert "neu" not in admin.get("/admin").text  # the forged account was not made


def test_upload_without_csrf_is_refused_and_not_stored(as_user, world, portal_app):
    dept = as_user("dept_a")
    data = sample("01_").read_bytes()
    r = dept.post(f"/dept/rounds/{world['round']}/upload", files={"file": ("a.xlsx", data)}, data={"csrf_token": "x"})
    assert r.status_code == 403
    with portal_app.state.portal.db.session() as db:
        assert db.scalar(select(func.count(Submission.id))) == 0


def test_cookies_are_httponly_and_samesite(portal_app, world):
    with new_client(portal_app) as c:
        r = c.get("/login")
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        r = c.post(
            "/login",
            data={"username": "reviewer", "password": "correct-horse-42", "csrf_token": csrf(c)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        session = r.headers["set-cookie"].lower()
        assert "xlproc_session=" in session and "httponly" in session and "samesite=lax" in session
        assert "content-security-policy" in {k.lower() for k in c.get("/login").headers}


def test_login_is_rate_limited(portal_app, world):
    with new_client(portal_app) as c:
        for _ in range(5):
            r = c.post("/login", data={"username": "reviewer", "password": "nope", "csrf_token": csrf(c)})
            assert r.status_code == 401 and "用户名或密码不正确" in r.text
        r = c.post("/login", data={"username": "reviewer", "password": "correct-horse-42", "csrf_token": csrf(c)})
        assert r.status_code == 429 and "登录失败次数过多" in r.text
        assert str(c.get("/review").url).endswith("/login")  # not signed in


def test_malformed_addresses_and_server_errors_get_chinese_pages(as_user, portal_app, monkeypatch):
    dept = as_user("dept_a")
    for url in ("/submissions/abc", "/submissions/1.5/annotated", "/review/rounds/x", "/review/jobs/-/zip"):
        r = dept.get(url)
        assert r.status_code in (403, 404), url
        assert r.headers["content-type"].startswith("text/html"), url  # not FastAPI's English JSON
        assert "未找到该页面或文件" in r.text or "无权访问" in r.text, url
        assert "detail" not in r.text and "Input should be" not in r.text
    from fastapi.testclient import TestClient

    from xlproc.web.views import department

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(department, "rounds_of", broken)
    with TestClient(portal_app, raise_server_exceptions=False, cookies=dept.cookies) as c:
        r = c.get("/dept")
    assert r.status_code == 500 and "服务器出错" in r.text and "文件不会丢失" in r.text
    assert "disk on fire" not in r.text and "Internal Server Error" not in r.text
