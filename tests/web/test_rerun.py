"""Re-running a whole round refreshes what is stored for each department.

The bureau switches the round to its own copy of the edition with a stricter rule (and
another issuer in the report settings) and re-runs the round: the findings on the pages,
the annotated workbook's 审核结果 sheet, the draft report and the accepted department's
final report all follow the new pack, while the uploaded files stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import time

import docx
import pytest

from xlproc.form.packs import pack_by_id
from xlproc.web import jobs
from xlproc.web.models import AuditEntry, Round, Submission
from xlproc.web.settings import Settings

from .conftest import MAX_UPLOAD, csrf, sample, submission_id, upload, visible_text

RULE = "budget.procurement"
MARK = "【本局复核】"
ISSUER = "示例区财政局（本局修订）"


@pytest.fixture
def bureau_pack(tmp_path):
    """A copy of the round's edition under another id: RULE made mandatory with a new message."""
    src = pack_by_id(jobs.DEFAULT_PACK).dir
    dst = tmp_path / "bureau-pack"
    shutil.copytree(src, dst)
    pack_yaml = (dst / "pack.yaml").read_text(encoding="utf-8")
    (dst / "pack.yaml").write_text(pack_yaml.replace(f"id: {jobs.DEFAULT_PACK}", "id: bureau-rev"), encoding="utf-8")
    rules = (dst / "rules.yaml").read_text(encoding="utf-8")
    head = f"  - id: {RULE}\n    severity: warning\n"
    assert head in rules
    rules = rules.replace(head, f"  - id: {RULE}\n    severity: error\n")
    rules = rules.replace('message: "政府采购预算 {left}万元', f'message: "{MARK}政府采购预算 {{left}}万元')
    assert MARK in rules
    (dst / "rules.yaml").write_text(rules, encoding="utf-8")
    report = (dst / "report.yaml").read_text(encoding="utf-8")
    assert "issuer: 保定市徐水区财政局" in report
    (dst / "report.yaml").write_text(
        report.replace("issuer: 保定市徐水区财政局", f"issuer: {ISSUER}"), encoding="utf-8"
    )
    return dst


@pytest.fixture
def settings(tmp_path, db_url, bureau_pack):
    return Settings(data=tmp_path / "data", db_url=db_url, jobs=0, max_upload=MAX_UPLOAD, packs=(bureau_pack,))


def docx_text(data: bytes) -> str:
    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def run_round(reviewer, rid: int) -> str:
    r = reviewer.post(f"/review/rounds/{rid}/run", data={"csrf_token": csrf(reviewer)})
    job_url = str(r.url)
    deadline = time.monotonic() + 120
    while "下载 汇总.xlsx" not in r.text:
        assert "运行失败" not in r.text, r.text
        assert time.monotonic() < deadline, r.text
        time.sleep(0.3)
        r = reviewer.get(job_url)
    return r.text


def sheet_findings(annotated: bytes) -> list[tuple[str, str, str, str]]:
    """(类别, 工作表, 单元格, 问题说明) of every finding row of the 审核结果 sheet, sorted."""
    rows = jobs.results_sheet(annotated)
    head = rows[1]
    col = {name: head.index(name) for name in ("类别", "工作表", "单元格", "问题说明")}
    return sorted(
        (r[col["类别"]], r[col["工作表"]], r[col["单元格"]], r[col["问题说明"]]) for r in rows[2:] if r[col["问题说明"]]
    )


LABEL = {"error": "强制性", "warning": "提示性", "info": "提示信息"}


def db_findings(sub: Submission) -> list[tuple[str, str, str, str]]:
    return sorted((LABEL[f["severity"]], f["sheet"] or "", f["cell"] or "", f["message"]) for f in sub.findings)


def same_findings(sheet: list[tuple[str, ...]], db: list[tuple[str, ...]]) -> bool:
    """Row for row: same category, sheet and cell; the sheet's text is the finding's message
    (the annotator may add which cells feed a computed one)."""
    return len(sheet) == len(db) and all(
        s[:3] == d[:3] and s[3].startswith(d[3]) for s, d in zip(sheet, db, strict=True)
    )


def test_round_rerun_refreshes_stored_outputs(as_user, world, portal_app):
    p = portal_app.state.portal
    rid = world["round"]
    dept_a, dept_b = as_user("dept_a"), as_user("dept_b")
    original = sample("01_").read_bytes()
    sid_a = submission_id(upload(dept_a, rid, "01_网信办.xlsx", original))
    sid_b = submission_id(upload(dept_b, rid, "02_司法局.xlsx", sample("02_").read_bytes()))
    old_annotated = dept_a.get(f"/submissions/{sid_a}/annotated").content
    old_draft = dept_a.get(f"/submissions/{sid_a}/report").content
    assert MARK not in "".join(r[5] for r in jobs.results_sheet(old_annotated)[2:])
    reviewer = as_user("reviewer")
    r = reviewer.post(
        f"/review/submissions/{sid_b}/decide", data={"action": "accept", "comment": "", "csrf_token": csrf(reviewer)}
    )
    assert r.status_code == 200
    old_final = dept_b.get(f"/submissions/{sid_b}/final").content
    assert "保定市徐水区财政局" in docx_text(old_final) and ISSUER not in docx_text(old_final)
    with p.db.session() as db:
        before = {s.id: (s.annotated_sha256, s.report_sha256, s.final_sha256) for s in db.query(Submission)}
        old_counts = dict(db.get(Submission, sid_a).counts)

    # the administrator switches the round to the bureau's pack (only same-edition packs are offered)
    admin = as_user("admin")
    page = admin.get("/admin").text
    assert "本局表单包 bureau-rev" in page and "更换表单包" in page
    r = admin.post(f"/admin/rounds/{rid}/pack", data={"pack": "bureau-rev", "csrf_token": csrf(admin)})
    assert r.status_code == 200
    assert (
        admin.post(f"/admin/rounds/{rid}/pack", data={"pack": "zpb-2024", "csrf_token": csrf(admin)}).status_code == 400
    )
    with p.db.session() as db:
        assert db.get(Round, rid).pack == "bureau-rev"

    text = run_round(reviewer, rid)
    assert "已更新 2 个部门的审核结果、批注工作簿和报告" in text

    with p.db.session() as db:
        sub_a = db.get(Submission, sid_a)
        sub_b = db.get(Submission, sid_b)
        new = {s.id: (s.annotated_sha256, s.report_sha256, s.final_sha256) for s in (sub_a, sub_b)}
        wanted = db_findings(sub_a)
        assert sub_a.pack == "bureau-rev"
        assert sub_a.counts["error"] == old_counts["error"] + 1
        assert sub_a.counts["warning"] == old_counts["warning"] - 1
        assert any(f["rule_id"] == RULE and f["severity"] == "error" and MARK in f["message"] for f in sub_a.findings)
        audit = [e.detail for e in db.query(AuditEntry).filter(AuditEntry.action == "rerun_submission")]
        assert len(audit) == 2 and all("批注工作簿" in d for d in audit)
    assert new[sid_a][0] != before[sid_a][0]  # a new annotated workbook is served …
    assert p.blobs.get(before[sid_a][0])  # … and the old one is still in the store
    assert new[sid_a][1] != before[sid_a][1] and p.blobs.get(before[sid_a][1])  # the draft report likewise
    assert new[sid_b][2] != before[sid_b][2] and p.blobs.get(before[sid_b][2])  # and the final report

    # what the department downloads matches the new findings, cell by cell
    annotated = dept_a.get(f"/submissions/{sid_a}/annotated")
    assert annotated.status_code == 200 and annotated.content != old_annotated
    assert hashlib.sha256(annotated.content).hexdigest() == new[sid_a][0]
    assert same_findings(sheet_findings(annotated.content), wanted)
    assert not same_findings(sheet_findings(old_annotated), wanted)
    cell = next(f["cell"] for f in sub_a.findings if f["rule_id"] == RULE)
    assert [t[:3] for t in sheet_findings(annotated.content) if MARK in t[3]] == [("强制性", "政府采购", cell)]
    page = " ".join(visible_text(dept_a.get(f"/submissions/{sid_a}").text).split())
    assert MARK in page and f"强制性问题 {old_counts['error'] + 1} 项" in page

    draft = dept_a.get(f"/submissions/{sid_a}/report").content
    assert draft != old_draft and MARK in docx_text(draft) and MARK not in docx_text(old_draft)
    final = dept_b.get(f"/submissions/{sid_b}/final").content
    assert ISSUER in docx_text(final)

    # nothing the departments handed in changed
    assert dept_a.get(f"/submissions/{sid_a}/original").content == original
    assert p.blobs.get(hashlib.sha256(original).hexdigest()) == original


def test_bureau_packs_are_checked_at_start(tmp_path, bureau_pack):
    from xlproc.errors import SpecError
    from xlproc.web.app import build_app

    installed = pack_by_id(jobs.DEFAULT_PACK).dir
    clash = tmp_path / "clash"
    shutil.copytree(bureau_pack, clash)  # the same id twice
    broken = tmp_path / "broken"
    shutil.copytree(bureau_pack, broken)
    (broken / "rules.yaml").unlink()
    for packs, words in (
        ((installed,), "已安装的表单包"),
        ((bureau_pack, clash), "已被"),
        ((broken,), "rules.yaml"),
    ):
        with pytest.raises(SpecError, match=words):
            build_app(Settings(data=tmp_path / "data", jobs=0, packs=packs))
    app = build_app(Settings(data=tmp_path / "data", jobs=0, packs=(bureau_pack,)))
    assert "bureau-rev" in jobs.available_packs(app.state.portal.packs)
    assert set(jobs.same_edition_packs("bureau-rev", app.state.portal.packs)) == {"bureau-rev", jobs.DEFAULT_PACK}
