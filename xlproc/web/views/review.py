"""The bureau's pages: the round dashboard, a department's submissions, decisions, round outputs."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from .. import jobs
from ..models import Decision, Department, Job, Round, Submission
from ..portal import STAFF, XLSX, ZIP, Portal, address, checked_form, download, one, portal, require
from ..service import (
    SORT_KEYS,
    audit,
    dashboard,
    decisions_of,
    is_member,
    latest_decision,
    latest_id,
    store,
    submissions_of,
)
from ..status import HAS_ERRORS, STATUSES, status_of
from .department import SEVERITY_LABELS, grouped, jobs_safe

router = APIRouter()
log = logging.getLogger("xlproc.web")
MAX_COMMENT = 2000


@router.get("/review")
def rounds_page(request: Request):
    p = portal(request)
    with p.db.session() as db:
        require(db, request, *STAFF)
        rounds = list(db.scalars(select(Round).order_by(Round.year.desc(), Round.id.desc())))
        if len(rounds) == 1:
            return RedirectResponse(f"/review/rounds/{rounds[0].id}", 303)
        return p.page(request, "rounds.html", rounds=rounds)


@router.get("/review/rounds/{round_id}")
def dashboard_page(
    request: Request, round_id: int, sort: str = "name", order: str = "asc", status: str = "", q: str = ""
):
    p = portal(request)
    with p.db.session() as db:
        require(db, request, *STAFF)
        round_ = one(db, Round, id=round_id)
        rows = dashboard(db, round_id)
        totals = {s: sum(1 for r in rows if r.status == s) for s in STATUSES}
        if status in STATUSES:
            rows = [r for r in rows if r.status == status]
        if q.strip():
            rows = [r for r in rows if q.strip().casefold() in r.department.name.casefold()]
        key = SORT_KEYS.get(sort, SORT_KEYS["name"])
        rows.sort(key=key, reverse=order == "desc")
        job = db.scalar(select(Job).where(Job.round_id == round_id).order_by(Job.id.desc()).limit(1))
        return p.page(
            request,
            "dashboard.html",
            round=round_,
            rows=rows,
            totals=totals,
            statuses=STATUSES,
            sort=sort if sort in SORT_KEYS else "name",
            order="desc" if order == "desc" else "asc",
            status_filter=status if status in STATUSES else "",
            q=q,
            job=job,
        )


@router.get("/review/rounds/{round_id}/departments/{department_id}")
def department_page(request: Request, round_id: int, department_id: int):
    p = portal(request)
    with p.db.session() as db:
        require(db, request, *STAFF)
        round_ = one(db, Round, id=round_id)
        dept = one(db, Department, id=department_id)
        if not is_member(db, round_id, department_id):
            raise HTTPException(404, "未找到该页面或文件")
        subs = submissions_of(db, round_id, department_id, light=True)
        decisions = decisions_of(db, [s.id for s in subs])
        latest = db.get(Submission, subs[0].id, populate_existing=True) if subs else None
        decision = decisions.get(latest.id, [None])[-1] if latest else None
        answers = [f for f in (latest.findings or []) if f.get("explanation")] if latest else []
        return p.page(
            request,
            "review_department.html",
            round=round_,
            dept=dept,
            subs=subs,
            latest=latest,
            decisions=decisions,
            decision=decision,
            status=status_of(latest, decision),
            groups=grouped(latest.findings or []) if latest else [],
            severity=SEVERITY_LABELS,
            answers=answers,
        )


@router.post("/review/submissions/{submission_id}/decide")
async def decide(request: Request, submission_id: int):
    p = portal(request)
    form = await checked_form(request, max_files=0)
    action = str(form.get("action") or "")
    comment = str(form.get("comment") or "").strip()[:MAX_COMMENT]
    if action not in ("accept", "return"):
        raise HTTPException(400, "未知的操作")
    with p.db.session() as db:
        user = require(db, request, *STAFF)
        sub = one(db, Submission, id=submission_id)
        back = f"/review/rounds/{sub.round_id}/departments/{sub.department_id}"
        if latest_id(db, sub.round_id, sub.department_id) != sub.id:
            raise HTTPException(409, "该部门已重新报送，请对最新一次报送作出决定")
        if action == "return" and not comment:
            raise HTTPException(400, "退回时请填写退回意见，部门将看到这段文字")
        if action == "accept" and status_of(sub, latest_decision(db, sub.id)) == HAS_ERRORS:
            raise HTTPException(409, "该次报送仍有强制性问题或文件未能读取，不能确认；请退回部门修改")
        data, name, pack = p.blobs.get(sub.sha256), sub.filename, sub.pack
        if action == "return":
            db.add(Decision(submission_id=sub.id, reviewer_id=user.id, action="return", comment=comment))
            audit(db, user, "return", f"submission:{sub.id}", comment, address(request))
            return RedirectResponse(back, 303)
    final = await p.workers.run(jobs.render_report, data, name, pack, True)
    with p.db.session() as db:
        user = require(db, request, *STAFF)
        sub = db.get(Submission, submission_id)
        sub.final_sha256 = store(db, p.blobs, final)
        db.add(Decision(submission_id=sub.id, reviewer_id=user.id, action="accept", comment=comment))
        audit(db, user, "accept", f"submission:{sub.id}", comment, address(request))
    return RedirectResponse(back, 303)


@router.post("/review/rounds/{round_id}/run")
async def start_run(request: Request, round_id: int):
    p = portal(request)
    await checked_form(request, max_files=0)
    with p.db.session() as db:
        user = require(db, request, *STAFF)
        round_ = one(db, Round, id=round_id)
        running = db.scalar(select(Job).where(Job.round_id == round_id, Job.status == "running"))
        if running is not None:
            return RedirectResponse(f"/review/jobs/{running.id}", 303)
        inputs, extras, ids = [], [], {}
        for row in dashboard(db, round_id):
            sub = row.submission
            if sub is None:
                continue
            name = f"{jobs_safe(row.department.name)}.xlsx"
            inputs.append((name, p.blobs.get(sub.sha256)))
            ids[name] = sub.id
            if sub.final_sha256 and row.decision is not None and row.decision.action == "accept":
                folder = jobs_safe(row.department.name)
                extras.append((f"正式报告/{folder}_自评报告.docx", p.blobs.get(sub.final_sha256)))
        job = Job(round_id=round_id, started_by=user.id, total=len(inputs))
        db.add(job)
        db.flush()
        audit(db, user, "run_round", f"round:{round_id}", f"{len(inputs)} 份", address(request))
        job_id, pack = job.id, round_.pack
    task = asyncio.create_task(asyncio.to_thread(_run_job, p, job_id, inputs, extras, ids, pack))
    request.app.state.tasks.add(task)
    task.add_done_callback(request.app.state.tasks.discard)
    return RedirectResponse(f"/review/jobs/{job_id}", 303)


def _run_job(p: Portal, job_id: int, inputs, extras, ids: dict[str, int], pack: str) -> None:
    """Runs in a thread: ``process_folder`` over the round, progress written to the job row."""

    def progress(done: int, total: int) -> None:
        with p.db.session() as db:
            job = db.get(Job, job_id)
            job.done, job.total = done, total

    try:
        run = jobs.run_round(inputs, extras, pack, p.settings.jobs, p.settings.scheduler, progress)
    except Exception as exc:  # "cannot run" (spec, disk …): the job says so, the server goes on
        log.exception("round run %s failed", job_id)
        with p.db.session() as db:
            job = db.get(Job, job_id)
            job.status, job.message, job.finished_at = "failed", f"运行失败：{exc}", datetime.now(UTC)
        return
    with p.db.session() as db:
        for name, result in run.results.items():
            sub = db.get(Submission, ids.get(name, -1))
            if sub is not None and result.get("status") == "ok":
                sub.counts, sub.findings, sub.figures = result["counts"], result["findings"], result["figures"]
        job = db.get(Job, job_id)
        job.summary_sha256 = store(db, p.blobs, run.summary) if run.summary else None
        job.zip_sha256 = store(db, p.blobs, run.archive)
        job.done, job.status, job.finished_at = job.total, "done", datetime.now(UTC)
        failed = sum(1 for r in run.results.values() if r.get("status") != "ok")
        job.message = f"已处理 {len(run.results)} 份工作簿" + (f"，其中 {failed} 份无法读取" if failed else "")


@router.get("/review/jobs/{job_id}")
def job_page(request: Request, job_id: int):
    p = portal(request)
    with p.db.session() as db:
        require(db, request, *STAFF)
        job = one(db, Job, id=job_id)
        round_ = db.get(Round, job.round_id)
        return p.page(request, "job.html", job=job, round=round_)


@router.get("/review/jobs/{job_id}/{kind}")
def job_file(request: Request, job_id: int, kind: str):
    p = portal(request)
    with p.db.session() as db:
        user = require(db, request, *STAFF)
        job = one(db, Job, id=job_id)
        round_ = db.get(Round, job.round_id)
        sha = {"summary": job.summary_sha256, "zip": job.zip_sha256}.get(kind)
        if not sha:
            raise HTTPException(404, "未找到该文件（汇总尚未完成）")
        audit(db, user, f"download_{kind}", f"job:{job_id}", "", address(request))
        if kind == "summary":
            return download(p.blobs.get(sha), f"{round_.year}年度_汇总.xlsx", XLSX)
        return download(p.blobs.get(sha), f"{round_.year}年度_全部输出.zip", ZIP)
