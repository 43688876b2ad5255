"""The administrator's pages: rounds, the roster, reviewer accounts, invitations, the audit log."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.datastructures import UploadFile

from ...batch.roster import MAX_ROSTER_BYTES, RosterError, roster_names
from .. import jobs
from ..models import ADMIN, DEPARTMENT, REVIEWER, AuditEntry, Department, Round, User
from ..portal import address, checked_form, one, portal, require
from ..service import add_departments, audit, issue_invite

router = APIRouter()


def _admin_page(request: Request, db, status_code: int = 200, **extra):
    p = portal(request)
    rounds = list(db.scalars(select(Round).order_by(Round.year.desc(), Round.id.desc())))
    users = list(db.scalars(select(User).order_by(User.role, User.username)))
    depts = {d.id: d.name for d in db.scalars(select(Department))}
    log = list(db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(100)))
    names = {u.id: u.username for u in users}
    ctx = {
        "rounds": rounds,
        "users": users,
        "depts": depts,
        "log": log,
        "names": names,
        "packs": jobs.available_packs(p.packs),
        "switchable": {r.id: jobs.same_edition_packs(r.pack, p.packs) for r in rounds},
    }
    ctx.update(extra)
    return p.page(request, "admin.html", status_code, **ctx)


@router.get("/admin")
def admin_home(request: Request):
    with portal(request).db.session() as db:
        require(db, request, ADMIN)
        return _admin_page(request, db, error="")


@router.post("/admin/rounds")
async def create_round(request: Request):
    p = portal(request)
    form = await checked_form(request, max_files=0)
    with p.db.session() as db:
        user = require(db, request, ADMIN)
        year = str(form.get("year") or "").strip()
        pack = str(form.get("pack") or "")
        if not (year.isdigit() and 2000 <= int(year) <= 2100) or pack not in jobs.available_packs(p.packs):
            return _admin_page(request, db, 400, error="请填写正确的年度（如 2023）并选择表式")
        title = str(form.get("title") or "").strip()[:200] or f"{year}年度部门整体绩效自评"
        round_ = Round(year=int(year), pack=pack, title=title)
        db.add(round_)
        db.flush()
        audit(db, user, "create_round", f"round:{round_.id}", title, address(request))
    return RedirectResponse("/admin", 303)


@router.post("/admin/rounds/{round_id}/pack")
async def change_pack(request: Request, round_id: int):
    """Switch a round to another pack of the same edition (the bureau's revised rules or wording).

    Uploads are not re-checked here: a reviewer's “重新审核本轮” re-checks every department's
    latest workbook with the new pack and refreshes its stored outputs.
    """
    p = portal(request)
    form = await checked_form(request, max_files=0)
    with p.db.session() as db:
        user = require(db, request, ADMIN)
        round_ = one(db, Round, id=round_id)
        pack = str(form.get("pack") or "")
        if pack not in jobs.same_edition_packs(round_.pack, p.packs):
            return _admin_page(request, db, 400, error="只能换用同一表单版本的表单包（已上传的工作簿须仍然适用）")
        if pack != round_.pack:
            audit(db, user, "change_pack", f"round:{round_id}", f"{round_.pack} → {pack}", address(request))
            round_.pack = pack
    return RedirectResponse("/admin", 303)


@router.post("/admin/rounds/{round_id}/roster")
async def import_roster(request: Request, round_id: int):
    p = portal(request)
    form = await checked_form(request)
    file = form.get("file")
    with p.db.session() as db:
        user = require(db, request, ADMIN)
        round_ = one(db, Round, id=round_id)
        if not isinstance(file, UploadFile) or not file.filename:
            return _admin_page(request, db, 400, error="请选择名单文件（.xlsx 或 .csv）")
        data = await file.read(MAX_ROSTER_BYTES + 1)  # one byte more: a larger file is refused by name
        try:
            names = roster_names(data, file.filename)
        except RosterError as exc:
            return _admin_page(request, db, 400, error=str(exc))
        added = add_departments(db, round_, names)
        audit(db, user, "import_roster", f"round:{round_id}", f"{len(names)} 个部门", address(request))
        base = str(request.base_url).rstrip("/")
        links = [(d.name, u.username, f"{base}/invite/{t}" if t else "") for d, u, t in added]
        return p.page(request, "invites.html", round=round_, links=links)


@router.post("/admin/users")
async def create_user(request: Request):
    p = portal(request)
    form = await checked_form(request, max_files=0)
    with p.db.session() as db:
        admin = require(db, request, ADMIN)
        username = str(form.get("username") or "").strip()[:200]
        role = str(form.get("role") or REVIEWER)
        if not username or role not in (ADMIN, REVIEWER):
            return _admin_page(request, db, 400, error="请填写用户名并选择角色")
        if db.scalar(select(User).where(User.username == username)) is not None:
            return _admin_page(request, db, 400, error=f"用户名“{username}”已存在")
        user = User(username=username, display_name=str(form.get("display_name") or username)[:200], role=role)
        db.add(user)
        db.flush()
        token = issue_invite(db, user)
        audit(db, admin, "create_user", f"user:{user.id}", role, address(request))
        base = str(request.base_url).rstrip("/")
        return p.page(
            request, "invites.html", round=None, links=[(user.display_name, username, f"{base}/invite/{token}")]
        )


@router.post("/admin/users/{user_id}/invite")
async def reinvite(request: Request, user_id: int):
    p = portal(request)
    await checked_form(request, max_files=0)
    with p.db.session() as db:
        admin = require(db, request, ADMIN)
        user = one(db, User, id=user_id)
        if user.id == admin.id:
            raise HTTPException(400, "不能为自己重发邀请")
        token = issue_invite(db, user)
        user.password_hash = None  # the old password stops working: this is also a reset
        audit(db, admin, "reinvite", f"user:{user.id}", "", address(request))
        base = str(request.base_url).rstrip("/")
        name = user.display_name or user.username
        dept = db.get(Department, user.department_id).name if user.role == DEPARTMENT and user.department_id else name
        return p.page(request, "invites.html", round=None, links=[(dept, user.username, f"{base}/invite/{token}")])
