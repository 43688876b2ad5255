"""``xlproc serve``: the web portal where departments upload and reviewers follow the round."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ...errors import XlprocError
from ..base import app, fails_cleanly, out


@app.command()
@fails_cleanly
def serve(
    data: Annotated[Path, typer.Option("--data", help="数据目录：上传的文件、生成的文件和默认的 SQLite 数据库")],
    db: Annotated[
        str | None, typer.Option("--db", help="数据库地址，如 postgresql://用户@主机/库名（默认为数据目录中的 SQLite）")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="监听端口")] = 8000,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="审核进程数，默认每个 CPU 核一个")] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask 调度器地址（tcp://主机:端口），在集群上审核")
    ] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="单个上传文件的大小上限（MB）")] = 20.0,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="仅通过 HTTPS 发送登录凭据（经 HTTPS 反向代理提供服务时使用）")
    ] = False,
    pack: Annotated[
        list[Path] | None,
        typer.Option("--pack", help="本局自己的表单包文件夹（可多次给出），开启轮次时可选用", metavar="表单包"),
    ] = None,
    demo: Annotated[
        Path | None, typer.Option("--demo", help="用示例目录（如 samples）创建演示轮次和账号（仅首次）")
    ] = None,
) -> None:
    """启动网上报送系统：部门在浏览器中上传工作簿，即时取回批注；财政局在线审核。"""
    try:
        from ...web.serve import run
        from ...web.settings import MIB, Settings
    except ImportError as exc:
        raise XlprocError(f"缺少网上报送系统所需的组件（{exc.name}），请安装：pip install 'xlproc[web]'") from exc
    settings = Settings(
        data=data,
        db_url=db,
        jobs=jobs,
        scheduler=scheduler,
        max_upload=int(max_upload_mb * MIB),
        secure_cookies=secure_cookies,
        packs=tuple(pack or ()),
    )
    run(settings, host, port, demo, say=lambda text: out.print(text, markup=False))
