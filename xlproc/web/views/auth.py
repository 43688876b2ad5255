"""Sign in, sign out, accept an invitation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from ..models import DEPARTMENT, User
from ..portal import address, checked_form, portal
from ..security import SESSION_COOKIE, hash_password, password_problem, verify_password
from ..service import audit, user_by_invite

router = APIRouter()


def _home_for(user: User) -> str:
    return "/dept" if user.role == DEPARTMENT else "/review"


@router.get("/")
def home(request: Request):
    p = portal(request)
    with p.db.session() as db:
        user = p.user_of(db, request)
        return RedirectResponse(_home_for(user) if user else "/login", 303)


@router.get("/login")
def login_page(request: Request):
    return portal(request).page(request, "login.html", username="", error="")


@router.post("/login")
async def login(request: Request):
    p = portal(request)
    form = await checked_form(request, max_files=0)
    username = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")
    addr = address(request)
    wait = p.limiter.blocked(username, addr)
    with p.db.session() as db:
        if wait:
            audit(db, None, "login_blocked", username, f"{wait} 秒后可再试", addr)
            return p.page(request, "login.html", 429, username=username, error=f"登录失败次数过多，请 {wait} 秒后再试")
        from sqlalchemy import select

        user = db.scalar(select(User).where(User.username == username))
        ok = verify_password(user.password_hash if user else None, password) and user is not None and user.active
        if not ok:
            p.limiter.failed(username, addr)
            audit(db, user, "login_failed", username, "", addr)
            return p.page(request, "login.html", 401, username=username, error="用户名或密码不正确")
        p.limiter.succeeded(username)
        token = p.open_session(db, user)
        audit(db, user, "login", username, "", addr)
        resp = RedirectResponse(_home_for(user), 303)
    p.set_cookie(resp, SESSION_COOKIE, token, max_age=p.settings.session_hours * 3600)
    return resp


@router.post("/logout")
async def logout(request: Request):
    p = portal(request)
    await checked_form(request, max_files=0)
    with p.db.session() as db:
        p.close_session(db, request)
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/invite/{token}")
def invite_page(request: Request, token: str):
    p = portal(request)
    with p.db.session() as db:
        user = user_by_invite(db, token)
        if user is None:
            raise HTTPException(404, "邀请链接无效、已使用或已过期，请联系财政局重新发送")
        return p.page(request, "invite.html", invitee=user, token=token, error="")


@router.post("/invite/{token}")
async def accept_invite(request: Request, token: str):
    p = portal(request)
    form = await checked_form(request, max_files=0)
    password, confirm = str(form.get("password") or ""), str(form.get("confirm") or "")
    with p.db.session() as db:
        user = user_by_invite(db, token)
        if user is None:
            raise HTTPException(404, "邀请链接无效、已使用或已过期，请联系财政局重新发送")
        problem = password_problem(password, confirm)
        if problem:
            return p.page(request, "invite.html", 400, invitee=user, token=token, error=problem)
        user.password_hash = hash_password(password)
        user.invite_hash = None  # one time only
        user.invite_expires = None
        audit(db, user, "invite_accepted", user.username, "", address(request))
        session = p.open_session(db, user)
        resp = RedirectResponse(_home_for(user), 303)
    p.set_cookie(resp, SESSION_COOKIE, session, max_age=p.settings.session_hours * 3600)
    return resp
