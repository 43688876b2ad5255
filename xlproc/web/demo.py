"""A demo round from the sample workbooks: one administrator, one reviewer, the sample departments."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from sqlalchemy import func, select

from . import jobs
from .models import ADMIN, DEPARTMENT, REVIEWER, Round, User
from .portal import Portal
from .security import hash_password
from .service import add_departments, audit, keep_annotated, record_checked, record_upload

FIRST_UNSUBMITTED = "01_"  # the 网信办 sample is left for the visitor to upload


def _password() -> str:
    return secrets.token_urlsafe(9)


def seed_demo(portal: Portal, samples: Path, year: int = 2023) -> list[tuple[str, str, str]] | None:
    """Create the demo round (only in an empty database); return (role, username, password) once."""
    inbox = Path(samples) / "inbox"
    files = sorted(inbox.glob("*.xlsx"))
    with portal.db.session() as db:
        if db.scalar(select(func.count(User.id))):
            return None
        accounts: list[tuple[str, str, str]] = []
        for role, name, label in ((ADMIN, "admin", "管理员"), (REVIEWER, "reviewer", "审核人员")):
            pw = _password()
            db.add(User(username=name, display_name=label, role=role, password_hash=hash_password(pw)))
            accounts.append((role, name, pw))
        round_ = Round(year=year, pack=jobs.pack_for_year(year), title=f"{year}年度部门整体绩效自评（演示）")
        db.add(round_)
        db.flush()
        names = [re.sub(r"^\d+_", "", f.stem) for f in files]
        uploads = []
        for (dept, user, _token), path in zip(add_departments(db, round_, names), files, strict=True):
            pw = _password()
            user.password_hash, user.invite_hash, user.invite_expires = hash_password(pw), None, None
            accounts.append((DEPARTMENT, user.username, pw))
            if not path.name.startswith(FIRST_UNSUBMITTED):
                uploads.append((user, dept, path))
        db.flush()  # the accounts' ids, for the upload rows below
        for user, dept, path in uploads:
            data = path.read_bytes()
            sub_id = record_upload(db, portal.blobs, user, round_, dept.id, path.name, data)
            checked = jobs.check_upload(data, path.name, round_.pack)
            record_checked(db, sub_id, checked, keep_annotated(portal.blobs, checked))
            audit(db, user, "upload", f"submission:{sub_id}", f"{path.name}（演示数据）")
        return accounts
