"""Copy the portal's database to another one (the embedded SQLite → PostgreSQL).

Every table of the models is copied row by row through SQLAlchemy, parents before
children, into a target that Alembic has upgraded to the newest schema and that holds
no row yet (a second copy never mixes with the first). Afterwards the row counts of
both sides are compared and PostgreSQL's id sequences are moved past the copied ids,
so the next upload gets a fresh id. The source is only read. Uploaded files stay where
they are (``--data/files``): the portal is then started with the same ``--data`` and
``--db`` naming the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Engine, Integer, Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..errors import XlprocError
from .db import current_revision, make_engine, migrate
from .models import Base

BATCH = 500
TABLE_LABELS = {
    "departments": "部门",
    "users": "账号",
    "sessions": "登录会话",
    "rounds": "报送轮次",
    "round_members": "轮次成员",
    "blobs": "文件登记",
    "submissions": "报送记录",
    "decisions": "审核决定",
    "jobs": "整轮审核任务",
    "audit_log": "操作日志",
}


class CopyError(XlprocError):
    """The copy cannot run or did not come out whole (message in Chinese)."""


@dataclass
class Copied:
    """What was copied: table → rows, in copy order."""

    rows: dict[str, int]
    source: str
    target: str
    sequences: int = 0  # PostgreSQL sequences moved past the copied ids

    def summary(self) -> list[str]:
        lines = [f"已将 {self.source} 的数据复制到 {self.target}："]
        for table, n in self.rows.items():
            lines.append(f"  {n:>8} 行  {TABLE_LABELS.get(table, table)}（{table}）")
        lines.append(f"共 {len(self.rows)} 张表、{sum(self.rows.values())} 行，两边行数一致。")
        if self.sequences:
            lines.append(f"已重置 {self.sequences} 个 PostgreSQL 序列，新记录的编号接在已复制的记录之后。")
        return lines


def database_url(value: str) -> str:
    """A URL as SQLAlchemy takes it: a ``--data`` folder → its SQLite file; psycopg 3 for postgresql://."""
    value = value.strip()
    if "://" not in value:
        folder = Path(value)
        if not (folder / "xlproc.db").is_file():
            raise CopyError(f"“{value}”既不是数据库地址，也不是含 xlproc.db 的数据目录")
        return f"sqlite:///{(folder / 'xlproc.db').resolve()}"
    if value.startswith("postgresql://"):
        return "postgresql+psycopg://" + value.removeprefix("postgresql://")
    return value


def shown(url: str) -> str:
    """A URL fit to print (no password)."""
    return make_url(url).render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://", 1)


def _head() -> str:
    from alembic.script import ScriptDirectory

    from .db import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _engine(url: str, role: str) -> Engine:
    try:
        engine = make_engine(url)
        with engine.connect():
            pass
    except (SQLAlchemyError, ImportError) as exc:
        raise CopyError(f"无法连接{role}数据库 {shown(url)}：{exc}") from exc
    return engine


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def _utc(table: Table) -> Callable[[dict], dict]:
    """Rows of ``table`` with naive times read as UTC (SQLite keeps no zone; the portal writes UTC)."""
    columns = [c.name for c in table.columns if isinstance(c.type, DateTime)]

    def fix(row: dict) -> dict:
        for name in columns:
            value = row.get(name)
            if isinstance(value, datetime) and value.tzinfo is None:
                row[name] = value.replace(tzinfo=UTC)
        return row

    return fix


def _reset_sequences(engine: Engine) -> int:
    """Move each table's id sequence past its largest id (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        return 0
    n = 0
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            for col in table.primary_key.columns:
                if not isinstance(col.type, Integer):
                    continue
                seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name})
                if seq is None:
                    continue
                conn.execute(
                    text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{col.name}") FROM "{table.name}"), 1), '
                        f'(SELECT MAX("{col.name}") FROM "{table.name}") IS NOT NULL)'
                    ),
                    {"s": seq},
                )
                n += 1
    return n


def copy_database(source: str, target: str) -> Copied:
    """Copy every table of ``source`` into ``target`` (both SQLAlchemy URLs, see ``database_url``)."""
    if make_url(source) == make_url(target):
        raise CopyError("源数据库和目标数据库是同一个")
    src, dst = _engine(source, "源"), _engine(target, "目标")
    try:
        head, have = _head(), current_revision(src)
        if have != head:
            raise CopyError(
                f"源数据库 {shown(source)} 的结构版本为 {have or '（空库）'}，本程序为 {head}："
                "请先用本版本的 xlproc serve 打开一次源数据库（启动时自动升级），再复制"
            )
        migrate(dst)  # an empty target gets every table; one at head is left as it is
        tables = Base.metadata.sorted_tables  # parents before children
        filled = {t.name: n for t in tables if (n := _count(dst, t))}
        if filled:
            listed = "、".join(f"{TABLE_LABELS.get(k, k)} {v} 行" for k, v in filled.items())
            raise CopyError(f"目标数据库 {shown(target)} 不是空的（{listed}），为免数据混杂，拒绝复制")
        rows: dict[str, int] = {}
        with src.connect() as read, dst.begin() as write:  # one transaction: all or nothing
            if src.dialect.name == "postgresql":
                read.execution_options(isolation_level="REPEATABLE READ")
            for table in tables:
                fix, n, chunk = _utc(table), 0, []
                order = list(table.primary_key.columns)
                for row in read.execute(select(table).order_by(*order)).mappings():
                    chunk.append(fix(dict(row)))
                    if len(chunk) >= BATCH:
                        write.execute(insert(table), chunk)
                        n, chunk = n + len(chunk), []
                if chunk:
                    write.execute(insert(table), chunk)
                    n += len(chunk)
                rows[table.name] = n
            for table in tables:  # checked before the commit: a mismatch leaves the target empty
                want = int(read.scalar(select(func.count()).select_from(table)) or 0)
                got = int(write.scalar(select(func.count()).select_from(table)) or 0)
                if not want == got == rows[table.name]:
                    raise CopyError(
                        f"复制后核对不符，已撤销：表 {table.name} 源库 {want} 行，复制 {rows[table.name]} 行，"
                        f"目标库 {got} 行（复制时门户是否仍在运行？请先停止 xlproc serve）"
                    )
        return Copied(rows, shown(source), shown(target), _reset_sequences(dst))
    except SQLAlchemyError as exc:
        raise CopyError(f"复制失败（目标数据库未写入任何数据）：{exc}") from exc
    finally:
        src.dispose()
        dst.dispose()
