"""The signed-in user as a request sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    """The signed-in user as a request sees it (a plain copy, not a database object)."""

    id: int
    username: str
    display_name: str
    role: str
    department_id: int | None
