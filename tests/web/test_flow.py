"""The round trip: upload → findings → annotated workbook → answers → return → fix → accept; the
dashboard; the roster and invitations; the round's summary and archive."""

from __future__ import annotations

import io
import re
import time
import zipfile

import docx
import openpyxl
from annotate_fixtures import answer_in_results
from sqlalchemy import select

from xlproc.web.models import AuditEntry, Decision, User

from .conftest import csrf, login, new_client, sample, submission_id, upload

WARNINGS = {
    "policy.sanbao_within_budget": "“三保”资金含上年结转，已核对无误。",
    "policy.nontax_deviation": "非税收入为零星罚没，计划数为估算。",
    "budget.unit_slip": "交回财政金额按元填报有误，已知悉。",
    "final.exp_over_income": "差额由上年结余弥补。",
    "budget.procurement": "政府采购预算含跨年度项目。",
    "budget.new_assets": "新增资产于次年初入账。",
    "claim.full_marks_with_problems": "所列问题已在相应类别的说明中反映，不影响得分。",
    "claim.no_deduction_with_problems": "合同付款节点问题已于年底前整改。",
    "claim.strict_control_with_rise": "增加原因为公务用车维修，见增减原因。",
}
FIXES = {("决算", "C27"): 4.19, ("项目台账", "F8"): "是", ("项目台账", "G8"): 90}


def fixed_with_answers(annotated: bytes, tmp_path) -> bytes:
    src = tmp_path / "批注.xlsx"
    src.write_bytes(annotated)
    return answer_in_results(src, tmp_path / "改正.xlsx", WARNINGS, FIXES).read_bytes()


def test_round_trip(as_user, world, tmp_path):
    rid, a = world["round"], world["a"]
    dept, reviewer = as_user("dept_a"), as_user("reviewer")

    blank = dept.get(f"/dept/rounds/{rid}/template")
    assert blank.status_code == 200 and "filename*=UTF-8''" in blank.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(blank.content))
    assert "中共保定市徐水区委网络安全和信息化委员会办公室" in [
        c.value for row in wb["基本情况"].iter_rows() for c in row
    ]

    r = upload(dept, rid, "01_网信办.xlsx", sample("01_").read_bytes())
    sid = submission_id(r)
    page = r.text
    assert '强制性问题 <strong class="n-error">2</strong> 项' in page
    for sheet in ("决算", "项目台账", "重大政策落实"):
        assert f"工作表“{sheet}”" in page
    assert "住房保障支出占比填写为 4.20%" in page and ">C27<" in page
    annotated = dept.get(f"/submissions/{sid}/annotated")
    assert annotated.status_code == 200
    ann = openpyxl.load_workbook(io.BytesIO(annotated.content))
    assert "审核结果" in ann.sheetnames and ann["决算"]["C27"].comment is not None
    assert "下载自评报告（草稿）" in page  # open mandatory findings: a draft
    draft = dept.get(f"/submissions/{sid}/report")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(draft.content)).paragraphs)
    assert "中共保定市徐水区委网络安全和信息化委员会办公室" in text
    assert (
        "（草稿）" in draft.headers["content-disposition"]
        or "%EF%BC%88%E8%8D%89%E7%A8%BF" in draft.headers["content-disposition"]
    )

    # the reviewer's dashboard and department page
    dash = reviewer.get(f"/review/rounds/{rid}")
    assert "有错误" in dash.text and "换算得分" in dash.text and ">100.00<" in dash.text  # the pack's ranked figure
    r = reviewer.post(f"/review/submissions/{sid}/decide", data={"action": "accept", "csrf_token": csrf(reviewer)})
    assert r.status_code == 409 and "强制性问题" in r.text
    comment = "请改正住房保障支出占比，并补填项目年末绩效目标。"
    r = reviewer.post(
        f"/review/submissions/{sid}/decide", data={"action": "return", "comment": comment, "csrf_token": csrf(reviewer)}
    )
    assert r.status_code == 200 and comment in r.text
    home = dept.get("/dept").text
    assert comment in home and "财政局退回意见" in home

    # fixed file with answers: no mandatory finding, every warning explained and shown to the reviewer
    r = upload(dept, rid, "01_网信办_改正.xlsx", fixed_with_answers(annotated.content, tmp_path))
    sid2 = submission_id(r)
    assert '强制性问题 <strong class="n-error">0</strong> 项' in r.text
    assert "待说明 0 项" in r.text and "已说明 9 项" in r.text, re.findall(r"待说明 \d+ 项|已说明 \d+ 项", r.text)
    # nothing open: the report awaits the bureau's acceptance, it is not called a draft
    assert "下载自评报告（待确认）" in r.text and "下载自评报告（草稿）" not in r.text
    pending = dept.get(f"/submissions/{sid2}/report")
    assert "%E5%BE%85%E7%A1%AE%E8%AE%A4" in pending.headers["content-disposition"]  # （待确认）
    assert "草稿" not in "\n".join(p.text for p in docx.Document(io.BytesIO(pending.content)).paragraphs)
    page = reviewer.get(f"/review/rounds/{rid}/departments/{a}").text
    assert "部门的说明" in page and WARNINGS["budget.procurement"] in page and "待确认" in page
    assert page.count("/submissions/") >= 2  # both submissions listed
    r = reviewer.post(f"/review/submissions/{sid}/decide", data={"action": "accept", "csrf_token": csrf(reviewer)})
    assert r.status_code == 409  # an earlier submission cannot be decided
    r = reviewer.post(f"/review/submissions/{sid2}/decide", data={"action": "accept", "csrf_token": csrf(reviewer)})
    assert r.status_code == 200 and "已确认" in r.text
    final = dept.get(f"/submissions/{sid2}/final")
    assert final.status_code == 200
    final_doc = docx.Document(io.BytesIO(final.content))
    final_text = "\n".join(p.text for p in final_doc.paragraphs)
    assert "中共保定市" in final_text and "草稿" not in final_text
    assert "草稿" not in (final_doc.core_properties.content_status or "")
    assert "已确认" in reviewer.get(f"/review/rounds/{rid}").text
    # accepted: the pages offer the final report, no longer a report "awaiting acceptance"
    for client, url in ((dept, f"/submissions/{sid2}"), (reviewer, f"/review/rounds/{rid}/departments/{a}")):
        page = client.get(url).text
        assert f"/submissions/{sid2}/final" in page and "自评报告（待确认）" not in page


def test_dashboard_sorts_and_filters(as_user, world):
    rid = world["round"]
    upload(as_user("dept_a"), rid, "a.xlsx", sample("01_").read_bytes())
    reviewer = as_user("reviewer")
    names = ("中共保定市徐水区委网络安全和信息化委员会办公室", "示例区司法局")

    def order(html: str) -> list[str]:
        body = html.split("<tbody>")[1]
        return [n for n in re.findall(r"departments/\d+\">([^<]+)</a>", body) if n in names]

    assert order(reviewer.get(f"/review/rounds/{rid}?sort=errors&order=desc").text) == list(names)
    assert order(reviewer.get(f"/review/rounds/{rid}?sort=errors&order=asc").text) == list(reversed(names))
    assert order(reviewer.get(f"/review/rounds/{rid}?status=未报送").text) == ["示例区司法局"]
    assert order(reviewer.get(f"/review/rounds/{rid}?status=有错误").text) == [names[0]]
    assert order(reviewer.get(f"/review/rounds/{rid}?q=司法").text) == ["示例区司法局"]


def test_roster_creates_accounts_with_one_time_invitations(as_user, world, portal_app, tmp_path):
    admin = as_user("admin")
    rid = world["round"]
    csv_bytes = "部门名称\n示例区统计局\n示例区卫生健康局\n示例区统计局\n".encode("gb18030")
    r = admin.post(
        f"/admin/rounds/{rid}/roster", data={"csrf_token": csrf(admin)}, files={"file": ("名单.csv", csv_bytes)}
    )
    assert r.status_code == 200
    links = re.findall(r"http://testserver/invite/[\w-]+", r.text)
    assert len(links) == 2 and "示例区统计局" in r.text
    wb = openpyxl.Workbook()
    wb.active.append(["单位名称"])
    wb.active.append(["示例区柳林镇人民政府"])
    wb.active.append(["示例区司法局"])  # already has an account with a password: no new link
    buf = io.BytesIO()
    wb.save(buf)
    r = admin.post(
        f"/admin/rounds/{rid}/roster", data={"csrf_token": csrf(admin)}, files={"file": ("名单.xlsx", buf.getvalue())}
    )
    assert len(re.findall(r"/invite/[\w-]+", r.text)) == 1 and "已有账号" in r.text

    with new_client(portal_app) as c:
        path = links[0].removeprefix("http://testserver")
        assert "设置密码" in c.get(path).text
        bad = c.post(path, data={"password": "short", "confirm": "short", "csrf_token": csrf(c)})
        assert bad.status_code == 400 and "至少 10 位" in bad.text
        ok = c.post(path, data={"password": "统计局-密码-2024", "confirm": "统计局-密码-2024", "csrf_token": csrf(c)})
        assert ok.status_code == 200 and str(ok.url).endswith("/dept") and "示例区统计局" in ok.text
        assert c.get(path).status_code == 404  # one time only
    with portal_app.state.portal.db.session() as db:
        user = db.scalar(select(User).where(User.username == "示例区统计局"))
        assert user.password_hash.startswith("$argon2id$") and user.invite_hash is None
    with new_client(portal_app) as c:
        login(c, "示例区统计局", "统计局-密码-2024")
        assert "示例区统计局" in c.get("/dept").text


def test_round_run_writes_summary_and_archive(as_user, world, portal_app):
    rid = world["round"]
    upload(as_user("dept_a"), rid, "a.xlsx", sample("01_").read_bytes())
    upload(as_user("dept_b"), rid, "b.xlsx", sample("02_").read_bytes())
    reviewer = as_user("reviewer")
    r = reviewer.post(f"/review/rounds/{rid}/run", data={"csrf_token": csrf(reviewer)})
    job_url = str(r.url)
    assert "/review/jobs/" in job_url and "重新审核本轮" in r.text
    deadline = time.monotonic() + 60
    while "下载 汇总.xlsx" not in r.text:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.3)
        r = reviewer.get(job_url)
    assert "已处理 2 份工作簿" in r.text and '<strong id="done">2</strong> / 2' in r.text
    summary = reviewer.get(job_url + "/summary")
    wb = openpyxl.load_workbook(io.BytesIO(summary.content))
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert "示例区司法局" in cells and "中共保定市徐水区委网络安全和信息化委员会办公室" in cells
    names = zipfile.ZipFile(io.BytesIO(reviewer.get(job_url + "/zip").content)).namelist()
    assert "汇总.xlsx" in names
    assert any(n.startswith("示例区司法局/") and n.endswith("_审核.xlsx") for n in names)
    assert any("_自评报告" in n and n.endswith(".docx") for n in names)  # drafts may carry a 草稿 mark
    assert as_user("dept_a").get(job_url + "/zip").status_code == 403
    with portal_app.state.portal.db.session() as db:
        actions = set(db.scalars(select(AuditEntry.action)))
        assert {"upload", "run_round", "download_summary", "download_zip", "login"} <= actions
        assert db.scalar(select(Decision)) is None
