"""Text from departments and reviewers (names, comments, 说明) is shown escaped and never becomes
a formula in a workbook the portal writes."""

from __future__ import annotations

import io
import re
import zipfile

from annotate_fixtures import answer_in_results
from sqlalchemy import select

from xlproc.web.models import Department, User

from .conftest import csrf, login, new_client, sample, submission_id, upload

EVIL = "<script>alert(1)</script>{{ 7*7 }}=cmd|' /C calc'!A0"


def formulas(xlsx: bytes) -> list[str]:
    """Every formula in every sheet of a workbook."""
    out = []
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                out += re.findall(r"<f[^>]*>([^<]*)</f>", zf.read(name).decode("utf-8"))
    return out


def assert_escaped(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html


def test_hostile_department_name_comment_and_answers(as_user, world, portal_app, tmp_path):
    admin = as_user("admin")
    rid = world["round"]
    r = admin.post(
        f"/admin/rounds/{rid}/roster",
        data={"csrf_token": csrf(admin)},
        files={"file": ("名单.csv", f"部门名称\n{EVIL}\n".encode())},
    )
    assert_escaped(r.text)
    link = re.search(r"/invite/[\w-]+", r.text).group(0)
    with new_client(portal_app) as c:
        c.post(link, data={"password": "evil-password-1", "confirm": "evil-password-1", "csrf_token": csrf(c)})
    with portal_app.state.portal.db.session() as db:
        evil_id = db.scalar(select(Department.id).where(Department.name == EVIL))
        assert db.scalar(select(User).where(User.username == EVIL)).password_hash
    with new_client(portal_app) as dept:
        login(dept, EVIL, "evil-password-1")
        assert_escaped(dept.get("/dept").text)
        blank = dept.get(f"/dept/rounds/{rid}/template")
        assert blank.status_code == 200
        assert not [f for f in formulas(blank.content) if "cmd" in f]
        with zipfile.ZipFile(io.BytesIO(blank.content)) as zf:
            shared = zf.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in zf.namelist() else ""
            sheets = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))
        assert "=cmd|" in shared + sheets  # the name is there, as text

        r = upload(dept, rid, f"{EVIL}.xlsx", sample("01_").read_bytes())
        sid = submission_id(r)
        assert_escaped(r.text)
        annotated = dept.get(f"/submissions/{sid}/annotated").content
        answers = {"policy.sanbao_within_budget": EVIL, "budget.procurement": '=HYPERLINK("http://x","y")'}
        src = tmp_path / "a.xlsx"
        src.write_bytes(annotated)
        fixed = answer_in_results(src, tmp_path / "b.xlsx", answers).read_bytes()
        r = upload(dept, rid, "再次报送.xlsx", fixed)
        sid2 = submission_id(r)
        assert_escaped(r.text)
        again = dept.get(f"/submissions/{sid2}/annotated").content
        assert not [f for f in formulas(again) if "cmd" in f or "HYPERLINK" in f]

    reviewer = as_user("reviewer")
    assert_escaped(reviewer.get(f"/review/rounds/{rid}").text)
    page = reviewer.get(f"/review/rounds/{rid}/departments/{evil_id}").text
    assert_escaped(page)
    r = reviewer.post(
        f"/review/submissions/{sid2}/decide", data={"action": "return", "comment": EVIL, "csrf_token": csrf(reviewer)}
    )
    assert_escaped(r.text)
    assert_escaped(as_user("admin").get("/admin").text)
    # the round's summary workbook: the name as text, no formula from it
    r = reviewer.post(f"/review/rounds/{rid}/run", data={"csrf_token": csrf(reviewer)})
    import time

    deadline = time.monotonic() + 60
    while "下载 汇总.xlsx" not in r.text:
        assert time.monotonic() < deadline
        time.sleep(0.3)
        r = reviewer.get(str(r.url))
    summary = reviewer.get(str(r.url) + "/summary").content
    assert not [f for f in formulas(summary) if "cmd" in f]
