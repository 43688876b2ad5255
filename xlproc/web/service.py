"""Database operations of the portal, independent of HTTP (used by the views and the demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import defer

from . import jobs
from .account import Account
from .models import (
    DEPARTMENT,
    AuditEntry,
    Blob,
    Decision,
    Department,
    Round,
    RoundMember,
    Submission,
    User,
)
from .security import new_token, token_hash
from .status import status_of
from .storage import BlobStore

INVITE_DAYS = 14
NOT_XLSX = "只接受 .xlsx 格式的工作簿（Excel 2007 及以上）。请在 Excel 或 WPS 中“另存为”.xlsx 后重新上传"


def audit(
    db: DB, user: User | Account | None, action: str, target: str = "", detail: str = "", address: str = ""
) -> None:
    """One line of the audit log (written at once, in the session's transaction)."""
    row = {
        "user_id": user.id if user else None,
        "action": action,
        "target": target,
        "detail": detail,
        "address": address,
    }
    db.connection().execute(_AUDIT, row)


# Prepared statements of the upload path (built once, run on the session's connection: the
# ORM's per-statement work would cost more than the query on this path)
_AUDIT = insert(AuditEntry.__table__)
_NEW_SUBMISSION = insert(Submission.__table__)
_CHECKED = update(Submission.__table__).where(Submission.__table__.c.id == bindparam("submission_id"))
_MEMBER_ROUND = (
    select(Round.id, Round.year, Round.pack, Round.title)
    .join(RoundMember, RoundMember.round_id == Round.id)
    .where(Round.id == bindparam("round_id"), RoundMember.department_id == bindparam("department_id"))
)
_PREVIOUS_YEAR = (
    select(Submission.sha256)
    .join(Round, Round.id == Submission.round_id)
    .where(
        Round.year == bindparam("year"),
        Submission.department_id == bindparam("department_id"),
        Submission.status == "ok",
    )
    .order_by(Submission.id.desc())
    .limit(1)
)
_SUBMISSION_PAGE = (
    select(
        Submission.__table__,
        Round.title.label("round_title"),
        Department.name.label("department_name"),
    )
    .join(Round, Round.id == Submission.round_id)
    .join(Department, Department.id == Submission.department_id)
    .where(Submission.id == bindparam("submission_id"))
)
_LATEST_DECISION = (
    select(Decision.__table__)
    .where(Decision.submission_id == bindparam("submission_id"))
    .order_by(Decision.id.desc())
    .limit(1)
)
_BLOB_ROW: dict[str, Any] = {}  # dialect name → INSERT … ON CONFLICT DO NOTHING


def store(db: DB, blobs: BlobStore, data: bytes, durable: bool = True) -> str:
    """Keep ``data`` in the file store and the blobs table (``durable``: fsync before going on)."""
    return register(db, blobs.put(data, durable=durable), len(data))


def register(db: DB, sha: str, size: int) -> str:
    """The blobs-table row of a file already in the store (one INSERT that keeps an existing row)."""
    dialect = db.get_bind().dialect.name
    stmt = _BLOB_ROW.get(dialect)
    if stmt is None and dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        stmt = _BLOB_ROW[dialect] = dialect_insert(Blob.__table__).on_conflict_do_nothing(index_elements=["sha256"])
    if stmt is not None:
        db.connection().execute(stmt, {"sha256": sha, "size": size})
    elif db.get(Blob, sha) is None:
        db.add(Blob(sha256=sha, size=size))
        db.flush()
    return sha


def issue_invite(db: DB, user: User) -> str:
    """A new one-time invitation token for ``user`` (the old one stops working)."""
    token = new_token()
    user.invite_hash = token_hash(token)
    user.invite_expires = datetime.now(UTC) + timedelta(days=INVITE_DAYS)
    return token


def user_by_invite(db: DB, token: str) -> User | None:
    user = db.scalar(select(User).where(User.invite_hash == token_hash(token)))
    if user is None or user.invite_expires is None:
        return None
    expires = user.invite_expires if user.invite_expires.tzinfo else user.invite_expires.replace(tzinfo=UTC)
    return user if expires > datetime.now(UTC) and user.active else None


def add_departments(db: DB, round_: Round, names: list[str]) -> list[tuple[Department, User, str | None]]:
    """Departments of a roster join the round; new ones get an account and an invitation."""
    out = []
    for name in names:
        dept = db.scalar(select(Department).where(Department.name == name))
        if dept is None:
            dept = Department(name=name)
            db.add(dept)
            db.flush()
        if (
            db.scalar(
                select(RoundMember).where(RoundMember.round_id == round_.id, RoundMember.department_id == dept.id)
            )
            is None
        ):
            db.add(RoundMember(round_id=round_.id, department_id=dept.id))
        user = db.scalar(select(User).where(User.role == DEPARTMENT, User.department_id == dept.id))
        token = None
        if user is None:
            user = User(username=name, display_name=name, role=DEPARTMENT, department_id=dept.id)
            db.add(user)
            db.flush()
            token = issue_invite(db, user)
        elif user.password_hash is None:
            token = issue_invite(db, user)
        out.append((dept, user, token))
    db.flush()
    return out


def is_member(db: DB, round_id: int, department_id: int) -> bool:
    q = select(RoundMember.id).where(RoundMember.round_id == round_id, RoundMember.department_id == department_id)
    return db.scalar(q) is not None


def member_round(db: DB, round_id: int, department_id: int | None) -> Any:
    """The round (id, year, pack, title), if the department takes part in it; else None."""
    if department_id is None:
        return None
    return db.connection().execute(_MEMBER_ROUND, {"round_id": round_id, "department_id": department_id}).first()


def rounds_of(db: DB, department_id: int) -> list[Round]:
    q = (
        select(Round)
        .join(RoundMember, RoundMember.round_id == Round.id)
        .where(RoundMember.department_id == department_id)
        .order_by(Round.year.desc(), Round.id.desc())
    )
    return list(db.scalars(q))


def submissions_of(db: DB, round_id: int, department_id: int, light: bool = False) -> list[Submission]:
    """A department's submissions in a round, newest first (``light``: without the findings lists)."""
    q = (
        select(Submission)
        .where(Submission.round_id == round_id, Submission.department_id == department_id)
        .order_by(Submission.id.desc())
    )
    if light:
        q = q.options(defer(Submission.findings, raiseload=True), defer(Submission.notes, raiseload=True))
    return list(db.scalars(q))


def latest_id(db: DB, round_id: int, department_id: int) -> int | None:
    q = select(func.max(Submission.id)).where(
        Submission.round_id == round_id, Submission.department_id == department_id
    )
    return db.scalar(q)


def submission_page_rows(db: DB, submission_id: int) -> tuple[Any, Any]:
    """What a submission's page shows, in two queries: the submission's row (with ``round_title``
    and ``department_name``) and the latest decision on it; (None, None) when there is no such
    submission."""
    conn = db.connection()
    sub = conn.execute(_SUBMISSION_PAGE, {"submission_id": submission_id}).first()
    if sub is None:
        return None, None
    return sub, conn.execute(_LATEST_DECISION, {"submission_id": submission_id}).first()


def latest_decision(db: DB, submission_id: int) -> Decision | None:
    q = select(Decision).where(Decision.submission_id == submission_id).order_by(Decision.id.desc()).limit(1)
    return db.scalar(q)


def decisions_of(db: DB, submission_ids: list[int]) -> dict[int, list[Decision]]:
    out: dict[int, list[Decision]] = {}
    if submission_ids:
        for d in db.scalars(select(Decision).where(Decision.submission_id.in_(submission_ids)).order_by(Decision.id)):
            out.setdefault(d.submission_id, []).append(d)
    return out


def previous_year_workbook(db: DB, blobs: BlobStore, round_: Any, department_id: int) -> bytes | None:
    """Last year's workbook of the department: its newest readable upload in a round of year − 1."""
    sha = db.connection().execute(_PREVIOUS_YEAR, {"year": round_.year - 1, "department_id": department_id}).scalar()
    return blobs.get(sha) if sha is not None else None


def record_upload(
    db: DB,
    blobs: BlobStore,
    user: User | Account,
    round_: Any,
    dept_id: int,
    filename: str,
    data: bytes,
    sha: str = "",
    refused: str = "",
) -> int:
    """Keep the file and a row for it before anything else can go wrong (``sha``: already in the
    store; ``refused``: why the file is not processed, the row then says failed). The row's id."""
    sha = register(db, sha, len(data)) if sha else store(db, blobs, data)
    row = {
        "round_id": round_.id,
        "department_id": dept_id,
        "uploaded_by": user.id,
        "filename": _clip_name(filename, 300) or "未命名.xlsx",
        "sha256": sha,
        "size": len(data),
        "pack": round_.pack,
    }
    if refused:
        row |= {"status": "failed", "error": refused}
    return db.connection().execute(_NEW_SUBMISSION, row).inserted_primary_key[0]


def _clip_name(filename: str, limit: int) -> str:
    """``filename`` in at most ``limit`` characters (the column's width), its suffix kept."""
    if len(filename) <= limit:
        return filename
    stem, dot, suffix = filename.rpartition(".")
    if dot and 0 < len(suffix) <= 8:
        return stem[: limit - len(suffix) - 1] + "." + suffix
    return filename[:limit]


def refuse_reason(filename: str, data: bytes, max_upload: int) -> str:
    """Why a stored file is not processed at all ('' if it is)."""
    if not filename.lower().endswith(".xlsx"):
        return f"文件“{filename}”不是 .xlsx 工作簿：{NOT_XLSX}"
    if len(data) > max_upload:
        return (
            f"文件“{filename}”过大（{len(data) / 1048576:.2f} MB），超过上传上限 {max_upload / 1048576:.2f} MB。"
            "请删除工作簿中的图片或多余工作表后重新上传"
        )
    return ""


def checked_values(checked: jobs.Checked, annotated_sha: str | None = None) -> dict[str, Any]:
    """The submission's columns that record what the check found (``annotated_sha``: its annotated workbook)."""
    values: dict[str, Any] = {"status": checked.status, "error": checked.error, "elapsed_ms": checked.elapsed_ms}
    if checked.status == "ok":
        values |= {
            "file_department": checked.department[:300],
            "counts": checked.counts or {},
            "figures": checked.figures or {},
            "findings": checked.findings or [],
            "notes": checked.notes or [],
        }
        if annotated_sha:
            values |= {"annotated_sha256": annotated_sha, "annotated_name": checked.annotated_name}
    return values


def keep_annotated(blobs: BlobStore, checked: jobs.Checked) -> str:
    """The check's annotated workbook put in the file store, its SHA-256 ('' when there is none).

    Not fsync'd: it can always be made again from the original, which is.
    """
    return blobs.put(checked.annotated, durable=False) if checked.annotated else ""


def record_checked(db: DB, submission_id: int, checked: jobs.Checked, annotated_sha: str = "") -> None:
    """Record what the check found on the submission's row, in one UPDATE (``annotated_sha``: the
    annotated workbook, already in the file store)."""
    if checked.status == "ok" and checked.annotated is not None and annotated_sha:
        register(db, annotated_sha, len(checked.annotated))
    else:
        annotated_sha = ""
    db.connection().execute(_CHECKED, {"submission_id": submission_id, **checked_values(checked, annotated_sha)})


@dataclass
class Row:
    """One department on the reviewer's dashboard."""

    department: Department
    submission: Submission | None
    decision: Decision | None
    status: str
    uploads: int
    packs: tuple[str, ...] = ()  # the bureau's own pack folders (``serve --pack``)

    @property
    def errors(self) -> int:
        return int((self.submission.counts or {}).get("error", 0)) if self.submission else 0

    @property
    def warnings(self) -> int:
        return int((self.submission.counts or {}).get("warning", 0)) if self.submission else 0

    @property
    def open_warnings(self) -> int:
        return int((self.submission.counts or {}).get("open_warning", 0)) if self.submission else 0

    @property
    def score(self) -> str:
        return score_of(self.submission, self.packs)[1]


def report_state(sub: Submission) -> str:
    """What the report of a submission not yet accepted is: 草稿 while mandatory findings
    or unexplained warnings are open (the document itself is marked so), else 待确认."""
    counts = sub.counts or {}
    return "草稿" if counts.get("error", 0) or counts.get("open_warning", 0) else "待确认"


def score_of(sub: Submission | None, packs: tuple[str, ...] = ()) -> tuple[str, str]:
    """(label, value) of the figure the submission's edition ranks by (换算得分 …); value "" when none.

    ``packs``: the bureau's own pack folders, where an edition that is not installed lives."""
    if sub is None:
        return "", ""
    figure_id, label = jobs.rank_figure(sub.pack, packs)
    value = (sub.figures or {}).get(figure_id) if figure_id else None
    return label, "" if value is None else str(value)


def dashboard(db: DB, round_id: int, packs: tuple[str, ...] = ()) -> list[Row]:
    members = list(
        db.scalars(
            select(Department)
            .join(RoundMember, RoundMember.department_id == Department.id)
            .where(RoundMember.round_id == round_id)
            .order_by(Department.name)
        )
    )
    latest_ids = dict(
        db.execute(
            select(Submission.department_id, func.max(Submission.id))
            .where(Submission.round_id == round_id)
            .group_by(Submission.department_id)
        ).all()
    )
    counts = dict(
        db.execute(
            select(Submission.department_id, func.count(Submission.id))
            .where(Submission.round_id == round_id)
            .group_by(Submission.department_id)
        ).all()
    )
    subs = {s.id: s for s in db.scalars(select(Submission).where(Submission.id.in_(list(latest_ids.values()))))}
    decisions = decisions_of(db, list(subs))
    rows = []
    for d in members:
        sub = subs.get(latest_ids.get(d.id, -1))
        dec = decisions.get(sub.id, [None])[-1] if sub else None
        rows.append(Row(d, sub, dec, status_of(sub, dec), counts.get(d.id, 0), packs))
    return rows


SORT_KEYS: dict[str, Any] = {
    "name": lambda r: r.department.name,
    "status": lambda r: r.status,
    "errors": lambda r: r.errors,
    "warnings": lambda r: r.open_warnings,
    "score": lambda r: float(r.score) if r.score else -1.0,
    "uploaded": lambda r: r.submission.uploaded_at.timestamp() if r.submission else 0.0,
}
