"""A department's pages: its rounds, the blank form, uploading, and every submission of its own."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session as DB
from starlette.datastructures import UploadFile

from .. import jobs
from ..account import Account
from ..models import DEPARTMENT, Department, Round, Submission
from ..portal import ANYONE, DOCX, XLSX, address, checked_form, download, portal, require
from ..service import (
    audit,
    decisions_of,
    keep_annotated,
    member_round,
    previous_year_workbook,
    record_checked,
    record_upload,
    refuse_reason,
    report_state,
    rounds_of,
    store,
    submission_page_rows,
    submissions_of,
)
from ..status import status_of

router = APIRouter()
SEVERITY_LABELS = {"error": "强制性", "warning": "提示性", "info": "提示信息"}


def own_round(db: DB, user: Account, round_id: int) -> Any:
    """A round the department takes part in (404 for any other, whether it exists or not)."""
    round_ = member_round(db, round_id, user.department_id)
    if round_ is None:
        raise HTTPException(404, "未找到该页面或文件")
    return round_


def visible_submission(db: DB, user: Account, submission_id: int) -> Submission:
    """A submission the user may see: a department only its own (404 otherwise, never 403)."""
    sub = db.get(Submission, submission_id)
    if sub is None or (user.role == DEPARTMENT and sub.department_id != user.department_id):
        raise HTTPException(404, "未找到该页面或文件")
    return sub


def grouped(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings grouped by sheet (workbook order of first appearance), severest first within."""
    rank = {"error": 0, "warning": 1, "info": 2}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        groups[f.get("sheet") or "（整个工作簿）"].append(f)
    return [(sheet, sorted(items, key=lambda f: rank.get(f.get("severity"), 3))) for sheet, items in groups.items()]


@router.get("/dept")
def department_home(request: Request):
    p = portal(request)
    with p.db.session() as db:
        user = require(db, request, DEPARTMENT)
        dept = db.get(Department, user.department_id)
        rounds = []
        for r in rounds_of(db, user.department_id):
            subs = submissions_of(db, r.id, user.department_id, light=True)
            decisions = decisions_of(db, [s.id for s in subs])
            latest = subs[0] if subs else None
            decision = decisions.get(latest.id, [None])[-1] if latest else None
            rounds.append(
                {
                    "round": r,
                    "latest": latest,
                    "decision": decision,
                    "status": status_of(latest, decision),
                    "history": subs,
                    "decisions": decisions,
                }
            )
        return p.page(
            request,
            "department.html",
            dept=dept,
            rounds=rounds,
            max_upload_mb=p.settings.max_upload / 1048576,
            max_upload=p.settings.max_upload,
        )


@router.get("/dept/rounds/{round_id}/template")
async def blank_template(request: Request, round_id: int):
    p = portal(request)
    with p.db.session() as db:
        user = require(db, request, DEPARTMENT)
        round_ = own_round(db, user, round_id)
        dept = db.get(Department, user.department_id)
        pack, year, name = round_.pack, round_.year, dept.name
        audit(db, user, "download_template", f"round:{round_id}", "", address(request))
    data = await p.workers.run(jobs.blank_workbook, pack, year, name, p.packs)
    return download(data, f"{year}年度部门整体绩效自评表_{jobs_safe(name)}.xlsx", XLSX)


def jobs_safe(name: str) -> str:
    return "".join(c for c in name if c not in '\\/:*?"<>|\x00').strip()[:80] or "部门"


@router.post("/dept/rounds/{round_id}/upload")
async def upload(request: Request, round_id: int):
    p = portal(request)
    form = await checked_form(request)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        with p.db.session() as db:
            require(db, request, DEPARTMENT)
        raise HTTPException(400, "请选择要上传的 .xlsx 工作簿")
    data = await file.read()
    filename = file.filename.replace("\\", "/").rsplit("/", 1)[-1]

    def admit() -> tuple[Account, Round, str, bytes | None]:  # who may upload where, before a byte is written
        with p.db.session() as db:
            user = require(db, request, DEPARTMENT)
            round_ = own_round(db, user, round_id)
            refused = refuse_reason(filename, data, p.settings.max_upload)
            previous = None if refused else previous_year_workbook(db, p.blobs, round_, user.department_id)
            return user, round_, refused, previous

    def keep(user: Account, round_: Round, refused: str) -> int:  # the file on disk (fsync), then its row
        sha = p.blobs.put(data)  # outside a database session
        with p.db.session() as db:  # user and round_ are plain rows, not tied to a session
            sub_id = record_upload(db, p.blobs, user, round_, user.department_id, filename, data, sha, refused)
            audit(db, user, "upload", f"submission:{sub_id}", f"{filename}（文件 SHA-256：{sha}）", address(request))
        return sub_id

    def record(sub_id: int, checked: jobs.Checked) -> None:
        sha = keep_annotated(p.blobs, checked)  # on disk outside the database session
        with p.db.session() as db:
            record_checked(db, sub_id, checked, sha)

    def handle() -> int:
        user, round_, refused, previous = admit()
        # the check starts in the worker pool while this thread keeps the file: a worker's
        # crash cannot touch the kept file, and no result is recorded before the upload is
        pending = (
            None if refused else p.workers.submit(jobs.check_upload, data, filename, round_.pack, previous, p.packs)
        )
        try:
            sub_id = keep(user, round_, refused)
        except BaseException:
            if pending is not None:
                pending.cancel()
            raise
        if pending is not None:
            try:
                checked = pending.result()
            except jobs.WorkerCrashed:  # the file is kept; the pool is replaced for the next upload
                checked = jobs.Checked("failed", error=f"文件“{filename}”：{jobs.CRASHED}")
            record(sub_id, checked)
        return sub_id

    # keeping, checking (in the worker pool) and recording in one of the portal's upload threads:
    # the event loop stays free, and the steps run to the end even if the browser goes away
    sub_id = await asyncio.get_running_loop().run_in_executor(p.upload_threads, handle)
    return RedirectResponse(f"/submissions/{sub_id}", 303)


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: int):
    p = portal(request)
    with p.db.session() as db:
        user = require(db, request, *ANYONE)
        sub, decision = submission_page_rows(db, submission_id)
        if sub is None or (user.role == DEPARTMENT and sub.department_id != user.department_id):
            raise HTTPException(404, "未找到该页面或文件")  # as visible_submission: never 403
    return p.page(
        request,
        "submission.html",
        sub=sub,
        round=SimpleNamespace(id=sub.round_id, title=sub.round_title),
        dept=SimpleNamespace(id=sub.department_id, name=sub.department_name),
        decision=decision,
        status=status_of(sub, decision),
        groups=grouped(sub.findings or []),
        severity=SEVERITY_LABELS,
    )


@router.get("/submissions/{submission_id}/{kind}")
async def submission_file(request: Request, submission_id: int, kind: str):
    p = portal(request)
    if kind not in ("original", "annotated", "report", "final"):
        raise HTTPException(404, "未找到该页面或文件")
    with p.db.session() as db:
        user = require(db, request, *ANYONE)
        sub = visible_submission(db, user, submission_id)
        dept = db.get(Department, sub.department_id)
        audit(db, user, f"download_{kind}", f"submission:{sub.id}", "", address(request))
        stem = jobs_safe(dept.name)
        if kind == "original":
            return download(p.blobs.get(sub.sha256), sub.filename, XLSX)
        if kind == "annotated":
            if not sub.annotated_sha256:
                raise HTTPException(404, "该次报送没有批注工作簿（文件未能读取）")
            return download(p.blobs.get(sub.annotated_sha256), sub.annotated_name or f"{stem}_审核.xlsx", XLSX)
        if kind == "final":
            if not sub.final_sha256:
                raise HTTPException(404, "该次报送尚未经财政局确认，没有正式报告")
            return download(p.blobs.get(sub.final_sha256), f"{stem}_自评报告.docx", DOCX)
        if sub.status != "ok":
            raise HTTPException(404, "该次报送的文件未能读取，无法生成报告")
        cached, data_sha, name, pack = sub.report_sha256, sub.sha256, sub.filename, sub.pack
        report_name = f"{stem}_自评报告（{report_state(sub)}）.docx"
    if cached:
        return download(p.blobs.get(cached), report_name, DOCX)
    body = await p.workers.run(jobs.render_report, p.blobs.get(data_sha), name, pack, False, p.packs)
    with p.db.session() as db:
        row = db.get(Submission, submission_id)
        row.report_sha256 = store(db, p.blobs, body)
    return download(body, report_name, DOCX)
