"""A real browser (Playwright driving Debian's Chromium) through the whole round trip.

A department signs in, drops the 网信办 sample on the upload box, sees its findings,
downloads the annotated workbook and opens it with the reader; a reviewer returns it;
the department (now with JavaScript off) uploads the fixed workbook with its 说明
answers; the reviewer accepts. Every page is screenshotted into the test's tmp dir
(and copied to $XLPROC_WEB_SHOTS when set) to be looked at.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from annotate_fixtures import answer_in_results

from xlproc.reading.workbook import read_workbook
from xlproc.web import jobs
from xlproc.web.models import DEPARTMENT, REVIEWER, Department, Round, RoundMember, User

from .conftest import CI, PASSWORD, PASSWORD_HASH, sample
from .test_flow import FIXES, WARNINGS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("XLPROC_TEST_CHROMIUM", "/usr/bin/chromium")
DEPT = "中共保定市徐水区委网络安全和信息化委员会办公室"
ARGS = [
    "--headless",
    "--lang=zh-CN",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]


@contextmanager
def serving(app):
    """``app`` served by Uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(30)
        sock.close()


def keep_shots(shots: Path) -> None:
    """Copy the screenshots to $XLPROC_WEB_SHOTS when set (to be looked at)."""
    target = os.environ.get("XLPROC_WEB_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)


@pytest.fixture
def server(tmp_path):
    """The portal with one round, the 网信办 department and a reviewer, with its process pool."""
    from xlproc.web.app import build_app
    from xlproc.web.settings import Settings

    app = build_app(Settings(data=tmp_path / "data", jobs=1))
    with app.state.portal.db.session() as db:
        rnd = Round(year=2023, pack=jobs.DEFAULT_PACK, title="2023年度部门整体绩效自评")
        dept = Department(name=DEPT)
        db.add_all([rnd, dept])
        db.flush()
        db.add(RoundMember(round_id=rnd.id, department_id=dept.id))
        db.add(
            User(username="wxb", display_name=DEPT, role=DEPARTMENT, department_id=dept.id, password_hash=PASSWORD_HASH)
        )
        db.add(User(username="reviewer", display_name="审核员 李", role=REVIEWER, password_hash=PASSWORD_HASH))
    with serving(app) as url:
        yield url


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if CI:
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_browser_round_trip(server, browser, tmp_path):
    shots = tmp_path / "shots"
    shots.mkdir()

    def shot(page, name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    def login(page, username: str) -> None:
        page.goto(server + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")

    # --- the department: drop the 网信办 sample on the upload box
    dept_ctx = browser.new_context(accept_downloads=True, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = dept_ctx.new_page()
    page.goto(server + "/login")
    shot(page, "01-login")
    login(page, "wxb")
    page.wait_for_url("**/dept")
    assert DEPT in page.inner_text("h1")
    shot(page, "02-department-home")
    data = sample("01_").read_bytes()
    with page.expect_navigation(url="**/submissions/*"):
        page.evaluate(
            """([b64, name]) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                const dt = new DataTransfer();
                dt.items.add(new File([bytes], name));
                document.querySelector(".drop").dispatchEvent(
                    new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
            }""",
            [base64.b64encode(data).decode(), "01_网信办.xlsx"],
        )
    page.wait_for_selector("table.findings")
    summary = page.inner_text("p.summary")
    assert "强制性问题 2 项" in summary and f"提示性问题 {len(WARNINGS)} 项" in summary
    sheets = page.locator("section.sheet h3").all_inner_texts()
    assert any("决算" in s for s in sheets) and any("项目台账" in s for s in sheets)
    assert "住房保障支出占比填写为 4.20%" in page.inner_text("main")
    shot(page, "03-findings")
    with page.expect_download() as dl:
        page.click("text=下载批注工作簿")
    annotated = tmp_path / dl.value.suggested_filename
    dl.value.save_as(annotated)
    assert annotated.name.endswith("_审核.xlsx")
    sub = read_workbook(annotated)  # the reader opens what the browser downloaded
    assert sub.department == DEPT
    assert any("C27" in " ".join(row) for row in jobs.results_sheet(annotated.read_bytes()))

    # --- the reviewer returns it
    rev_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    rpage = rev_ctx.new_page()
    login(rpage, "reviewer")
    rpage.wait_for_url("**/review/rounds/*")
    assert "有错误" in rpage.inner_text("table.dashboard")
    shot(rpage, "04-dashboard")
    rpage.click(f"text={DEPT}")
    rpage.wait_for_selector("form.decide")
    shot(rpage, "05-review-department")
    comment = "住房保障支出占比计算有误，项目台账第3个项目未填年末是否实现绩效目标，请改正后重新报送。"
    rpage.fill("textarea[name=comment]", comment)
    rpage.click("button[value=return]")
    rpage.wait_for_selector("div.returned")
    assert comment in rpage.inner_text("div.returned")
    shot(rpage, "06-returned")

    # --- the department, JavaScript off, sees the comment and uploads the fixed workbook
    nojs = browser.new_context(java_script_enabled=False, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page2 = nojs.new_page()
    login(page2, "wxb")
    page2.wait_for_url("**/dept")
    assert comment in page2.inner_text("div.returned")
    shot(page2, "07-department-returned")
    fixed = answer_in_results(annotated, tmp_path / "01_网信办_改正.xlsx", WARNINGS, FIXES)
    page2.set_input_files("input[type=file]", str(fixed))
    page2.click("form.upload button[type=submit]")
    page2.wait_for_url("**/submissions/*")
    summary = page2.inner_text("p.summary")
    assert "强制性问题 0 项" in summary and f"已说明 {len(WARNINGS)} 项" in summary and "待说明 0 项" in summary
    shot(page2, "08-fixed-upload")

    # --- the reviewer sees the answers and accepts
    rpage.reload()
    assert "待确认" in rpage.inner_text("h1")
    assert WARNINGS["budget.procurement"] in rpage.inner_text("main")
    shot(rpage, "09-review-answers")
    rpage.click("button[value=accept]")
    rpage.wait_for_selector("div.accepted")
    assert "已确认" in rpage.inner_text("h1")
    shot(rpage, "10-accepted")
    rpage.goto(server + "/review")
    assert "已确认" in rpage.inner_text("table.dashboard")
    shot(rpage, "11-dashboard-final")
    page.goto(server + "/dept")
    assert "下载正式自评报告" in page.inner_text("main")
    shot(page, "12-department-accepted")

    for ctx in (dept_ctx, rev_ctx, nojs):
        ctx.close()
    keep_shots(shots)
    assert len(list(shots.glob("*.png"))) == 12


def test_file_chooser_speaks_chinese_with_and_without_javascript(server, browser, tmp_path):
    """The upload box's file button and its line are Chinese whatever the browser's language,
    work with JavaScript off, and can be reached and opened from the keyboard."""
    shots = tmp_path / "shots"
    shots.mkdir()
    wb = tmp_path / "01_网信办.xlsx"
    wb.write_bytes(sample("01_").read_bytes())
    for js in (True, False):
        ctx = browser.new_context(java_script_enabled=js, locale="zh-CN", viewport={"width": 1366, "height": 768})
        page = ctx.new_page()
        page.goto(server + "/login")
        page.fill("input[name=username]", "wxb")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/dept")
        drop = page.locator("form.upload .drop")
        text = drop.inner_text()
        assert "选择文件" in text and "未选择文件" in text
        assert "Choose" not in text and "No file" not in text
        assert page.locator("form.upload .chosen").inner_text() == "未选择文件"
        name = "js-on" if js else "js-off"
        page.screenshot(path=str(shots / f"upload-{name}.png"))
        # the native control is out of sight: only our label shows (its box is 1 px)
        box = page.locator("form.upload input[type=file]").bounding_box()
        assert box["width"] <= 1 and box["height"] <= 1
        # keyboard: Tab reaches the input, the label shows the focus, Space opens the chooser
        page.focus("a.button")  # 下载空白填报表, the control just before it
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.type") == "file"
        outline = page.evaluate("getComputedStyle(document.querySelector('form.upload .picker label')).outlineStyle")
        assert outline == "solid"
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        fc = None
        for attempt in range(3):  # a busy machine may drop a key press's activation: try again
            try:
                with page.expect_file_chooser(timeout=5000) as fc:
                    page.keyboard.press("Space")
                break
            except PlaywrightTimeout:
                assert page.evaluate("document.activeElement.type") == "file"
                if attempt == 2:
                    raise
        fc.value.set_files(str(wb))
        chosen = page.locator("form.upload .chosen").inner_text()
        assert (f"已选择：{wb.name}" in chosen) if js else (chosen == "已选择文件")
        page.screenshot(path=str(shots / f"upload-{name}-chosen.png"))
        # and the mouse: clicking the Chinese label opens the same chooser
        with page.expect_file_chooser():
            page.click("form.upload label:has-text('选择文件')")
        with page.expect_navigation(url="**/submissions/*"):
            page.click("form.upload button[type=submit]")
        assert "强制性问题" in page.inner_text("p.summary")
        ctx.close()
    keep_shots(shots)


# What may stay in Latin letters on a page: the product's and the form's names, file types and
# units, a cell address, a file's hash. Invitation links (<code>) and user names are data.
LATIN_OK = re.compile(r"^(xlproc|xlproc-zpb|zpb-\d{4}|xlsx|csv|zip|KB|MB|SHA-256|[A-Z]{1,3}\d+|[0-9a-f]{6,64})$")
VISIBLE_TEXT = """() => { document.querySelectorAll("code").forEach(e => e.remove());
    return document.body.innerText; }"""  # run after the screenshot
WIDTH, HEIGHT = 1366, 768


@pytest.fixture
def demo_server(tmp_path):
    """The portal with ``make serve``'s demo round (7 sample departments, 6 of them uploaded)."""
    from xlproc.web.app import build_app
    from xlproc.web.demo import seed_demo
    from xlproc.web.settings import Settings

    app = build_app(Settings(data=tmp_path / "data", jobs=1))
    accounts = {username: pw for _role, username, pw in seed_demo(app.state.portal, ROOT / "samples")}
    with serving(app) as url:
        yield url, accounts


def test_every_page_as_each_role_at_1366(demo_server, browser, tmp_path):
    """Every page a clerk, a reviewer and an administrator meet, at 1366×768: Chinese only (no
    English word), nothing wider than the window; each one screenshotted to be looked at."""
    server, accounts = demo_server
    shots = tmp_path / "shots"
    shots.mkdir()
    seen: dict[str, list[str]] = {}

    def look(page, name: str) -> None:
        page.wait_for_load_state()
        page.screenshot(path=str(shots / f"walk-{name}.png"), full_page=True)
        keep_shots(shots)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{name}: page is {width}px wide"
        text = page.evaluate(VISIBLE_TEXT)
        words = re.findall(r"[A-Za-z0-9][A-Za-z0-9_\-]*", text)
        latin = [w for w in words if re.search("[A-Za-z]", w) and not LATIN_OK.match(w) and w not in accounts]
        seen[name] = latin
        for bad in ("None", "nan", "null", "undefined", "Traceback"):
            assert bad not in text.split(), f"{name}: {bad!r} on the page"

    def context(js: bool = True):
        return browser.new_context(
            locale="zh-CN", viewport={"width": WIDTH, "height": HEIGHT}, java_script_enabled=js, accept_downloads=True
        )

    def sign_in(page, username: str) -> None:
        page.goto(server + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", accounts[username])
        page.click("button[type=submit]")
        page.wait_for_load_state()

    anon = context().new_page()
    anon.goto(server + "/login")
    look(anon, "anon-login")
    anon.goto(server + "/no/such/page")
    look(anon, "anon-404")
    anon.goto(server + "/login")
    anon.fill("input[name=username]", "reviewer")
    anon.fill("input[name=password]", "wrong-password")
    anon.click("button[type=submit]")
    look(anon, "anon-login-failed")

    # a department (卫生健康局: warnings to explain), JavaScript on
    dept = context().new_page()
    dept_user = next(u for u in accounts if "卫生健康局" in u)
    sign_in(dept, dept_user)
    look(dept, "dept-home")
    dept.click("text=查看")
    look(dept, "dept-submission")
    dept.goto(server + "/submissions/abc")
    look(dept, "dept-bad-url")
    dept.goto(server + "/review")
    look(dept, "dept-403")
    dept.goto(server + "/dept")
    bad = tmp_path / "损坏的工作簿.xlsx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    dept.set_input_files("form.upload input[type=file]", str(bad))
    with dept.expect_navigation(url="**/submissions/*"):
        dept.click("form.upload button[type=submit]")
    look(dept, "dept-failed-upload")

    # the reviewer: dashboard, a department with mandatory findings, the round re-run
    rev = context().new_page()
    sign_in(rev, "reviewer")
    look(rev, "review-dashboard")
    rev.click("text=示例区市场监督管理局")
    look(rev, "review-department")
    rev.goto(server + "/review")
    rev.click("text=重新审核本轮并生成汇总")
    look(rev, "review-job-running")
    rev.wait_for_selector("text=下载 汇总.xlsx", timeout=120_000)
    look(rev, "review-job-done")
    rev.goto(server + "/review")
    look(rev, "review-dashboard-after-run")

    # the administrator: rounds, accounts, roster import, invitations, the audit log
    adm = context().new_page()
    sign_in(adm, "admin")
    adm.goto(server + "/admin")
    look(adm, "admin-home")
    adm.fill("input[name=year]", "2024")
    adm.select_option("select[name=pack]", "zpb-2024")
    adm.click("text=开启新一轮")
    roster = tmp_path / "名单.csv"
    roster.write_text("部门名称\n示例区教育局\n示例区卫生健康局\n", encoding="utf-8")
    adm.locator("form[action$='/roster'] input[type=file]").first.set_input_files(str(roster))
    adm.locator("form[action$='/roster'] button[type=submit]").first.click()
    link = adm.inner_text("code.link")
    look(adm, "admin-invites")
    adm.goto(server + "/review")
    look(adm, "admin-rounds")
    adm.goto(server + "/admin")
    look(adm, "admin-home-after")
    invitee = context(js=False).new_page()
    invitee.goto(link)
    look(invitee, "invite")

    keep_shots(shots)
    english = {name: words for name, words in seen.items() if words}
    assert not english, f"English on the pages: {english}"
