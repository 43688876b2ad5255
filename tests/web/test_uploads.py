"""Uploads that cannot be checked: a Chinese message naming the problem, and the file kept."""

from __future__ import annotations

import hashlib
import io

import openpyxl
from conftest import encrypt_workbook
from sqlalchemy import select

from xlproc.web.models import AuditEntry, Blob, Submission

from .conftest import MAX_UPLOAD, SAMPLES, sample, submission_id, upload


def _wrong_edition(tmp_path) -> bytes:
    wb = openpyxl.load_workbook(sample("02_"))
    wb["_form"]["B2"] = "2019.1"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _other_edition() -> bytes:
    return next(iter(sorted((SAMPLES / "2024").glob("*.xlsx")))).read_bytes()


def _encrypted(tmp_path) -> bytes:
    return encrypt_workbook(sample("02_"), tmp_path / "加密.xlsx").read_bytes()


CASES = {
    "oversized": ("大文件.xlsx", lambda tmp: sample("02_").read_bytes() + b"\0" * (MAX_UPLOAD + 1), ["过大", "MB"]),
    "not-xlsx": ("自评表.xls", lambda tmp: b"\xd0\xcf\x11\xe0" + b"\0" * 2000, [".xlsx", "另存为"]),
    "text-file": ("说明.txt", lambda tmp: "不是工作簿".encode(), ["不是 .xlsx 工作簿"]),
    "corrupt": ("损坏.xlsx", lambda tmp: sample("02_").read_bytes()[:9000], ["损坏"]),
    "encrypted": ("加密.xlsx", _encrypted, ["打开密码"]),
    "wrong-edition": ("旧版.xlsx", _wrong_edition, ["表单版本不符", "2019.1"]),
    # readable (an installed edition), but not the one this round collects
    "other-edition": ("2024版.xlsx", lambda tmp: _other_edition(), ["表单版本不符", "2024.1", "本轮使用", "2023.1"]),
}


def test_bad_uploads_are_explained_and_kept(as_user, world, portal_app, tmp_path):
    dept, reviewer = as_user("dept_a"), as_user("reviewer")
    for case in sorted(CASES):
        _check_bad_upload(case, dept, reviewer, world, portal_app, tmp_path)


def _check_bad_upload(case, dept, reviewer, world, portal_app, tmp_path):
    name, make, fragments = CASES[case]
    data = make(tmp_path)
    r = upload(dept, world["round"], name, data)
    assert r.status_code == 200
    sid = submission_id(r)
    assert "文件未能审核" in r.text
    for frag in fragments:
        assert frag in r.text, (case, frag)
    assert "下载批注工作簿" not in r.text
    p = portal_app.state.portal
    sha = hashlib.sha256(data).hexdigest()
    assert p.blobs.path(sha).read_bytes() == data  # the file handed in, byte for byte
    with p.db.session() as db:
        sub = db.get(Submission, sid)
        assert (sub.status, sub.sha256, sub.filename, sub.size) == ("failed", sha, name, len(data))
        assert db.get(Blob, sha).size == len(data)
        assert db.scalar(
            select(AuditEntry).where(AuditEntry.action == "upload", AuditEntry.target == f"submission:{sid}")
        )
    assert dept.get(f"/submissions/{sid}/original").content == data
    assert dept.get(f"/submissions/{sid}/annotated").status_code == 404
    # it shows in the history, and the reviewer sees 有错误
    assert "无法读取" in dept.get("/dept").text
    assert "有错误" in reviewer.get(f"/review/rounds/{world['round']}/departments/{world['a']}").text


def test_same_file_twice_is_stored_once_and_never_overwritten(as_user, world, portal_app):
    dept = as_user("dept_a")
    data = sample("01_").read_bytes()
    first, second = submission_id(upload(dept, world["round"], "a.xlsx", data)), None
    path = portal_app.state.portal.blobs.path(hashlib.sha256(data).hexdigest())
    stat = path.stat()
    second = submission_id(upload(dept, world["round"], "a.xlsx", data))
    assert second != first and path.stat().st_ino == stat.st_ino and path.stat().st_mtime == stat.st_mtime
    assert path.stat().st_mode & 0o222 == 0  # read-only on disk


HOSTILE_NAMES = {
    "../../etc/passwd.xlsx": "passwd.xlsx",
    "C:\\Users\\张三\\Desktop\\自评表.xlsx": "自评表.xlsx",  # an old browser sends the whole path
    '"><script>alert(1)</script>.xlsx': "script.xlsx",
    "表\u202egnp.xlsx": "表gnp.xlsx",  # a right-to-left override would show it as 表xslx.png
    ".xlsx": "文件.xlsx",
    "CON.xlsx": "_CON.xlsx",  # a device name Windows will not save
    "自评表 (1).XLSX": "自评表 (1).XLSX",
    "a" * 300 + ".xlsx": "a" * 150 + ".xlsx",
}


def test_a_download_is_saved_under_a_name_windows_accepts(as_user, world):
    from urllib.parse import unquote

    dept = as_user("dept_a")
    data = sample("02_").read_bytes()
    for sent, saved in HOSTILE_NAMES.items():
        sid = submission_id(upload(dept, world["round"], sent, data))
        disposition = dept.get(f"/submissions/{sid}/original").headers["content-disposition"]
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == saved, sent
        assert disposition.split('filename="')[1].split('"')[0].isascii()


def test_a_page_never_shows_a_name_with_its_text_direction_turned(as_user, world):
    dept = as_user("dept_a")
    sid = submission_id(upload(dept, world["round"], "表\u202egnp.xlsx", sample("02_").read_bytes()))
    for page in (dept.get(f"/submissions/{sid}").text, dept.get("/dept").text):
        assert "表gnp.xlsx" in page and "\u202e" not in page
