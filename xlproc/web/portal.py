"""What every request needs: the database, the file store, the workers, the signed-in user,
CSRF checks and page rendering."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session as DB
from starlette.datastructures import FormData

from ..io.names import safe_component
from ..reading.numbers import INVISIBLE_CHARS
from . import jobs
from .account import Account
from .db import Database
from .jobs import Workers, rank_figure
from .labels import action_label, target_label
from .models import ADMIN, DEPARTMENT, REVIEWER, ROLE_LABELS, Session, User
from .security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, LoginLimiter, new_token, same_token, token_hash
from .service import report_state, score_of
from .settings import Settings
from .status import STATUS_CLASS
from .storage import BlobStore

TEMPLATES = Path(__file__).parent / "templates"


def _local(dt: datetime | None) -> str:
    """A time as the bureau reads it (China Standard Time, UTC+8)."""
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt.astimezone(UTC) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


_SIGNED_IN = (
    select(User.id, User.username, User.display_name, User.role, User.department_id, User.active, Session.expires_at)
    .join(Session, Session.user_id == User.id)
    .where(Session.token_hash == bindparam("key"))
)


class Portal:
    """The application's state (one per app)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.packs = settings.pack_dirs
        jobs.bureau_packs(self.packs)  # a malformed or clashing pack stops the start, in Chinese
        Path(settings.data).mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.database_url)
        self.blobs = BlobStore(settings.blobs)
        self.workers = Workers(settings.jobs, settings.scheduler)
        self._uploads: ThreadPoolExecutor | None = None
        self._uploads_lock = threading.Lock()
        self.limiter = LoginLimiter(settings.login_attempts, settings.login_window_s)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            auto_reload=False,  # the templates ship with the package: no file status checked per page
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_shown,
        )
        self.env.filters["local"] = _local
        self.env.filters["action"] = action_label
        self.env.filters["target"] = target_label
        self.env.globals.update(ROLE_LABELS=ROLE_LABELS, STATUS_CLASS=STATUS_CLASS, CSRF_FIELD=CSRF_FIELD)
        self.env.globals.update(
            score_of=lambda sub: score_of(sub, self.packs),
            report_state=report_state,
            score_label=lambda pack: rank_figure(pack, self.packs)[1] or "自评得分",
        )

    # --- pages ------------------------------------------------------------------

    @property
    def upload_threads(self) -> ThreadPoolExecutor:
        """The threads uploads are kept, checked and recorded in (not the pool that serves pages);
        made on first use, again after ``close_uploads``.

        Two per check the workers run at once: while one upload is being checked, the next is
        being stored and recorded, so no worker waits. More uploads wait their turn, first come
        first served. With many threads every upload in a burst would share the processor with
        all the others and each would take longer; in turn, the first are done soonest and no
        upload waits much longer than another (measured in docs/web.md, "The upload path").
        """
        with self._uploads_lock:
            if self._uploads is None:
                self._uploads = ThreadPoolExecutor(
                    max_workers=2 * self.workers.width, thread_name_prefix="xlproc-upload"
                )
            return self._uploads

    def close_uploads(self) -> None:
        """Wait for the uploads in progress (the server is stopping)."""
        with self._uploads_lock:
            uploads, self._uploads = self._uploads, None
        if uploads is not None:
            uploads.shutdown(wait=True)

    def page(self, request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None) or new_token()
        html = self.env.get_template(name).render(
            request=request, user=getattr(request.state, "user", None), csrf=token, **ctx
        )
        resp = HTMLResponse(html, status_code=status_code)
        if request.cookies.get(CSRF_COOKIE) != token:
            self.set_cookie(resp, CSRF_COOKIE, token, max_age=None, samesite="strict")
        return resp

    def set_cookie(self, resp: Response, name: str, value: str, max_age: int | None, samesite: str = "lax") -> None:
        resp.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite=samesite,
            secure=self.settings.secure_cookies,
            path="/",
        )

    # --- sessions ---------------------------------------------------------------

    def open_session(self, db: DB, user: User) -> str:
        token = new_token()
        expires = datetime.now(UTC) + timedelta(hours=self.settings.session_hours)
        db.add(Session(token_hash=token_hash(token), user_id=user.id, expires_at=expires))
        return token

    def user_of(self, db: DB, request: Request) -> Account | None:
        """The signed-in account of the request's session cookie (None: none, expired or inactive).

        One prepared Core query on the session's connection: every page asks this.
        """
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        key = token_hash(token)
        found = db.connection().execute(_SIGNED_IN, {"key": key}).first()
        if found is None:
            return None
        expires = found.expires_at if found.expires_at.tzinfo else found.expires_at.replace(tzinfo=UTC)
        if expires < datetime.now(UTC):
            db.execute(delete(Session).where(Session.token_hash == key))
            return None
        if not found.active:
            return None
        return Account(found.id, found.username, found.display_name, found.role, found.department_id)

    def close_session(self, db: DB, request: Request) -> None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            row = db.get(Session, token_hash(token))
            if row is not None:
                db.delete(row)


def portal(request: Request) -> Portal:
    return request.app.state.portal


def address(request: Request) -> str:
    return request.client.host if request.client else ""


class LoginRequired(Exception):
    """No signed-in user: the handler redirects to the login page."""


def require(db: DB, request: Request, *roles: str) -> Account:
    """The signed-in user, who must have one of ``roles`` (403 otherwise)."""
    user = portal(request).user_of(db, request)
    if user is None:
        raise LoginRequired()
    request.state.user = user  # for the page header: error pages render after the session is gone
    if roles and user.role not in roles:
        raise HTTPException(403, "您的账号无权访问此页面")
    return user


STAFF = (ADMIN, REVIEWER)
ANYONE = (ADMIN, REVIEWER, DEPARTMENT)


async def checked_form(request: Request, max_files: int = 1) -> FormData:
    """The POSTed form, after its CSRF token was checked against the cookie (403 otherwise)."""
    limit = portal(request).settings.max_request
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"上传内容过大，超过服务器上限 {limit / 1048576:.0f} MB")
    form = await request.form(max_files=max_files, max_fields=50)
    if not same_token(str(form.get(CSRF_FIELD) or ""), request.cookies.get(CSRF_COOKIE)):
        raise HTTPException(403, "页面已过期或请求来源不明（安全校验失败），请刷新页面后重试")
    return form


# The format characters the reader drops from cells (bidi overrides and isolates, zero-width,
# BOM …), and the Arabic letter mark: "表\u202egnp.xlsx" would show as 表xslx.png on a page.
_HIDDEN = re.compile(f"[{INVISIBLE_CHARS}\u061c]")


def _shown(value: Any) -> Any:
    """Every value a page prints (Jinja's ``finalize``): text without hidden format
    characters, so an uploaded name or a department's text cannot turn the page's text
    direction around. Other values as they are (autoescape still applies)."""
    if isinstance(value, str) and _HIDDEN.search(value):
        cleaned = _HIDDEN.sub("", value)
        return type(value)(cleaned) if hasattr(value, "__html__") else cleaned  # markup stays markup
    return value


def download_name(filename: str) -> str:
    """The name a download is saved under: the stored name (an upload's, as the browser
    sent it) made safe to save on Windows — no folders, no characters Windows refuses,
    no bidi marks that show "表<U+202E>gnp.xlsx" as "表xslx.png", at most 150 bytes before
    the suffix — with its suffix kept."""
    stem, dot, suffix = Path(filename.replace("\\", "/")).name.rpartition(".")
    if not dot or not suffix.isascii() or not suffix.isalnum() or len(suffix) > 8:
        stem, suffix = f"{stem}{dot}{suffix}", ""
    stem = safe_component(stem, "文件", max_bytes=150, nfkc=False)  # 全角（草稿） stays as written
    return f"{stem}.{suffix}" if suffix else stem


def download(data: bytes, filename: str, media_type: str) -> Response:
    """A file download with its Chinese name (RFC 6266 filename*), see ``download_name``."""
    filename = download_name(filename)
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename)
    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=media_type, headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP = "application/zip"


def one(db: DB, model: Any, **where: Any) -> Any:
    """The row matching ``where`` or a 404."""
    q = select(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    row = db.scalar(q)
    if row is None:
        raise HTTPException(404, "未找到该页面或文件")
    return row
