"""``xlproc copydb``: move the portal's data from the embedded SQLite to PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer

from ...errors import XlprocError
from ..base import app, fails_cleanly, out


@app.command()
@fails_cleanly
def copydb(
    source: Annotated[
        str,
        typer.Option("--from", help="源数据库：sqlite:///数据目录/xlproc.db，或直接写数据目录（--data）"),
    ],
    target: Annotated[
        str,
        typer.Option("--to", help="目标数据库，如 postgresql://用户:密码@主机/库名（须为空库；自动建表）"),
    ],
) -> None:
    """把网上报送系统的数据库整体复制到另一个数据库（如从内置 SQLite 换到 PostgreSQL）。

    逐表逐行复制全部数据；目标库须为空（自动升级到最新结构）；复制后核对各表行数，并重置 PostgreSQL 序列。

    源库只读不改。复制前请先停止 xlproc serve。上传的文件仍在原数据目录的 files/ 中，之后用同一个 --data 加上 --db 目标地址启动即可。
    """
    try:
        from ...web.dbcopy import copy_database, database_url
    except ImportError as exc:
        raise XlprocError(f"缺少网上报送系统所需的组件（{exc.name}），请安装：pip install 'xlproc[web]'") from exc
    copied = copy_database(database_url(source), database_url(target))
    for line in copied.summary():
        out.print(line, markup=False)
