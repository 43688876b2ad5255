"""The FastAPI application: routes, static files, security headers, Chinese error pages."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .db import migrate
from .jobs import CRASHED, WorkerCrashed
from .portal import LoginRequired, Portal
from .settings import Settings
from .views import admin, auth, department, review

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # every script and stylesheet is ours: nothing inline, nothing from elsewhere
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}
ERROR_TITLES = {400: "请求有误", 403: "无权访问", 404: "未找到", 409: "无法执行", 413: "文件过大", 429: "请求过多"}


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every response (a plain ASGI middleware: no extra task per request)."""

    def __init__(self, app):
        self.app = app
        self.extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = {
                    **message,
                    "headers": [*message.get("headers", []), *(h for h in self.extra if h[0] not in present)],
                }
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def build_app(settings: Settings) -> FastAPI:
    portal = Portal(settings)
    migrate(portal.db.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        for task in list(app.state.tasks):
            await task
        portal.close_uploads()
        portal.workers.close()
        portal.db.engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal
    app.state.tasks = set()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, department, review, admin):
        app.include_router(module.router)

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(WorkerCrashed)
    async def crashed(request: Request, exc: WorkerCrashed):
        return portal.page(request, "error.html", 500, title="处理失败", message=CRASHED)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        return RedirectResponse("/login", 303)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else "未找到该页面或文件"
        if exc.status_code == 404 and isinstance(exc.detail, str) and exc.detail not in ("Not Found",):
            message = exc.detail
        if exc.status_code == 405:
            message = "不支持该请求方式"
        title = ERROR_TITLES.get(exc.status_code, "出错了")
        return portal.page(request, "error.html", exc.status_code, title=title, message=message)

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, exc: RequestValidationError):
        # /submissions/abc and the like: an address that cannot exist (not FastAPI's English JSON)
        return portal.page(request, "error.html", 404, title="未找到", message="未找到该页面或文件")

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        logging.getLogger("xlproc.web").error("unhandled error on %s", request.url.path, exc_info=exc)
        message = "服务器处理该请求时出错，已记入服务器日志。您上传的文件不会丢失；请稍后重试，或联系财政局"
        return portal.page(request, "error.html", 500, title="服务器出错", message=message)

    return app
