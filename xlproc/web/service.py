"""Database operations of the portal, independent of HTTP (used by the views and the demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import defer

from . import jobs
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


def audit(db: DB, user: User | None, action: str, target: str = "", detail: str = "", address: str = "") -> None:
    db.add(AuditEntry(user_id=user.id if user else None, action=action, target=target, detail=detail, address=address))


def store(db: DB, blobs: BlobStore, data: bytes, durable: bool = True) -> str:
    """Keep ``data`` in the file store and the blobs table (``durable``: fsync before going on)."""
    return register(db, blobs.put(data, durable=durable), len(data))


def register(db: DB, sha: str, size: int) -> str:
    """The blobs-table row of a file already in the store."""
    if db.get(Blob, sha) is None:
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


def latest_decision(db: DB, submission_id: int) -> Decision | None:
    q = select(Decision).where(Decision.submission_id == submission_id).order_by(Decision.id.desc()).limit(1)
    return db.scalar(q)


def decisions_of(db: DB, submission_ids: list[int]) -> dict[int, list[Decision]]:
    out: dict[int, list[Decision]] = {}
    if submission_ids:
        for d in db.scalars(select(Decision).where(Decision.submission_id.in_(submission_ids)).order_by(Decision.id)):
            out.setdefault(d.submission_id, []).append(d)
    return out


def previous_year_workbook(db: DB, blobs: BlobStore, round_: Round, department_id: int) -> bytes | None:
    """Last year's workbook of the department: its newest readable upload in a round of year − 1."""
    q = (
        select(Submission)
        .join(Round, Round.id == Submission.round_id)
        .where(Round.year == round_.year - 1, Submission.department_id == department_id, Submission.status == "ok")
        .order_by(Submission.id.desc())
        .limit(1)
    )
    sub = db.scalar(q)
    return blobs.get(sub.sha256) if sub is not None else None


def record_upload(
    db: DB, blobs: BlobStore, user: User, round_: Round, dept_id: int, filename: str, data: bytes, sha: str = ""
) -> Submission:
    """Keep the file and a row for it before anything else can go wrong (``sha``: already in the store)."""
    sha = register(db, sha, len(data)) if sha else store(db, blobs, data)
    sub = Submission(
        round_id=round_.id,
        department_id=dept_id,
        uploaded_by=user.id,
        filename=filename[:300] or "未命名.xlsx",
        sha256=sha,
        size=len(data),
        pack=round_.pack,
    )
    db.add(sub)
    db.flush()
    return sub


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


def apply_checked(db: DB, blobs: BlobStore, sub: Submission, checked: jobs.Checked, annotated_sha: str = "") -> None:
    """Record what the check found (``annotated_sha``: the annotated workbook already in the store)."""
    sub.status = checked.status
    sub.error = checked.error
    sub.elapsed_ms = checked.elapsed_ms
    if checked.status == "ok":
        sub.file_department = checked.department[:300]
        sub.counts = checked.counts or {}
        sub.figures = checked.figures or {}
        sub.findings = checked.findings or []
        sub.notes = checked.notes or []
        if checked.annotated is not None:
            if annotated_sha:
                sub.annotated_sha256 = register(db, annotated_sha, len(checked.annotated))
            else:
                sub.annotated_sha256 = store(db, blobs, checked.annotated, durable=False)  # can be made again
            sub.annotated_name = checked.annotated_name


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
