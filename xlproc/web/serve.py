"""``xlproc serve``: build the app, optionally seed the demo, run Uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .models import ROLE_LABELS
from .settings import Settings


def run(settings: Settings, host: str, port: int, demo: Path | None, say: Callable[[str], None] = print) -> None:
    from .app import build_app

    app = build_app(settings)
    if demo is not None:
        from .demo import seed_demo

        accounts = seed_demo(app.state.portal, demo)
        if accounts is None:
            say("演示数据已存在，沿用上次创建的账号（密码只在首次创建时显示）。")
        else:
            say("已创建演示轮次。以下账号和密码只显示这一次，请记下：")
            for role, username, password in accounts:
                say(f"  {ROLE_LABELS[role]:<6} 用户名：{username}  密码：{password}")
    say(f"数据目录：{Path(settings.data).resolve()}")
    say(f"请在浏览器中打开 http://{host}:{port}/ （按 Ctrl+C 停止）")
    app.state.portal.workers.start()
    serve_app(app, host, port)


def serve_app(app, host: str, port: int) -> None:
    """Run ``app`` under Uvicorn as ``xlproc serve`` does (``benchmarks/serve.py`` too).

    Uvicorn's fast paths are used when installed (the ``web`` extra declares them):
    httptools parses HTTP in C instead of h11, and uvloop runs the event loop on
    libuv (not on Windows, where asyncio's own loop serves).
    """
    import uvicorn

    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="warning", access_log=False)
