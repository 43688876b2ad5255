"""The bureau's pages: the round dashboard, a department's submissions, decisions, round outputs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from .. import jobs
from ..models import Decision, Department, Job, Round, Submission, User
from ..portal import STAFF, XLSX, ZIP, Portal, address, checked_form, download, one, portal, require
from ..service import (
    SORT_KEYS,
    audit,
    dashboard,
    decisions_of,
    is_member,
    latest_decision,
    latest_id,
    previous_year_workbook,
    register,
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
        rows = dashboard(db, round_id, p.packs)
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
    final = await p.workers.run(jobs.render_report, data, name, pack, True, p.packs)
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
        todo = RoundWork(pack=round_.pack)
        for row in dashboard(db, round_id, p.packs):
            sub = row.submission
            if sub is None:
                continue
            folder = jobs_safe(row.department.name)
            name = f"{folder}.xlsx"
            data = p.blobs.get(sub.sha256)
            todo.inputs.append((name, data))
            todo.ids[name] = sub.id
            last_year = previous_year_workbook(db, p.blobs, round_, row.department.id)
            if last_year is not None:
                todo.previous.append((f"{folder}_上年.xlsx", last_year))
            if sub.final_sha256 and row.decision is not None and row.decision.action == "accept":
                todo.finals.append((sub.id, folder, data, sub.filename, sub.final_sha256))
        job = Job(round_id=round_id, started_by=user.id, total=len(todo.inputs))
        db.add(job)
        db.flush()
        audit(
            db, user, "run_round", f"round:{round_id}", f"{len(todo.inputs)} 份，表单包 {round_.pack}", address(request)
        )
        job_id = job.id
    task = asyncio.create_task(asyncio.to_thread(_run_job, p, job_id, todo))
    request.app.state.tasks.add(task)
    task.add_done_callback(request.app.state.tasks.discard)
    return RedirectResponse(f"/review/jobs/{job_id}", 303)


@dataclass
class RoundWork:
    """What a round run works on, read from the database before it starts."""

    pack: str
    inputs: list[tuple[str, bytes]] = field(default_factory=list)  # name → the latest upload
    ids: dict[str, int] = field(default_factory=dict)  # name → submission id
    previous: list[tuple[str, bytes]] = field(default_factory=list)  # last year's workbooks
    finals: list[tuple[int, str, bytes, str, str]] = field(default_factory=list)  # accepted: id, folder, data …


def _run_job(p: Portal, job_id: int, todo: RoundWork) -> None:
    """Runs in a thread: ``process_folder`` over the round, progress written to the job row.

    Afterwards every submission it checked gets the new findings AND the new annotated
    workbook and draft report (and, when accepted, a re-rendered final report), so what
    is downloaded matches what the pages show. Earlier outputs stay in the store; the
    department's own files are never touched.
    """

    def progress(done: int, total: int) -> None:
        with p.db.session() as db:
            job = db.get(Job, job_id)
            job.done, job.total = done, total

    try:
        finals = {
            sub_id: p.workers.call(jobs.render_report, data, name, todo.pack, True, p.packs)
            for sub_id, _folder, data, name, _old in todo.finals
        }
        extras = [(f"正式报告/{folder}_自评报告.docx", finals[sub_id]) for sub_id, folder, *_ in todo.finals]
        run = jobs.run_round(
            todo.inputs, extras, todo.pack, p.settings.jobs, p.settings.scheduler, progress, todo.previous, p.packs
        )
        stored = {  # on disk (not fsynced: they can be made again) before the database says so
            name: {kind: (fname, p.blobs.put(body, durable=False), len(body)) for kind, (fname, body) in out.items()}
            for name, out in run.outputs.items()
        }
        final_shas = {sub_id: (p.blobs.put(body, durable=False), len(body)) for sub_id, body in finals.items()}
    except Exception as exc:  # "cannot run" (spec, disk, a dead worker …): the job says so, the server goes on
        log.exception("round run %s failed", job_id)
        with p.db.session() as db:
            job = db.get(Job, job_id)
            job.status, job.message, job.finished_at = "failed", f"运行失败：{exc}", datetime.now(UTC)
        return
    with p.db.session() as db:
        job = db.get(Job, job_id)
        starter = db.get(User, job.started_by)
        refreshed = 0
        for name, result in run.results.items():
            sub = db.get(Submission, todo.ids.get(name, -1))
            if sub is None or result.get("status") != "ok":
                continue
            sub.counts, sub.findings, sub.figures = result["counts"], result["findings"], result["figures"]
            sub.notes, sub.pack = list(result.get("notes") or []), todo.pack
            sub.file_department = str(result.get("department") or sub.file_department)[:300]
            out = stored.get(name, {})
            changes = []
            if "annotated" in out:
                fname, sha, size = out["annotated"]
                changes.append(_changed("批注工作簿", sub.annotated_sha256, sha))
                sub.annotated_sha256, sub.annotated_name = register(db, sha, size), fname
            if "report" in out:
                _fname, sha, size = out["report"]
                changes.append(_changed("报告草稿", sub.report_sha256, sha))
                sub.report_sha256 = register(db, sha, size)
            if sub.id in final_shas:
                sha, size = final_shas[sub.id]
                changes.append(_changed("正式报告", sub.final_sha256, sha))
                sub.final_sha256 = register(db, sha, size)
            audit(
                db,
                starter,
                "rerun_submission",
                f"submission:{sub.id}",
                f"第 {job_id} 次整轮审核：" + "；".join(changes),
            )
            refreshed += 1
        job.summary_sha256 = store(db, p.blobs, run.summary) if run.summary else None
        job.zip_sha256 = store(db, p.blobs, run.archive)
        job.done, job.status, job.finished_at = job.total, "done", datetime.now(UTC)
        failed = sum(1 for r in run.results.values() if r.get("status") != "ok")
        job.message = f"已处理 {len(run.results)} 份工作簿，已更新 {refreshed} 个部门的审核结果、批注工作簿和报告" + (
            f"；其中 {failed} 份无法读取（保留原有结果）" if failed else ""
        )


def _changed(what: str, old: str | None, new: str) -> str:
    """One line of the audit log: which stored file replaced which (by the start of their SHA-256)."""
    if old == new:
        return f"{what}未变（{new[:12]}）"
    return f"{what} {old[:12] if old else '（无）'} → {new[:12]}"


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
