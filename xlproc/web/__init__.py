"""The web portal (``xlproc serve``): departments upload, reviewers follow the round.

FastAPI + Jinja2, server-rendered; SQLAlchemy 2 with Alembic migrations (SQLite under
``--data`` by default, PostgreSQL via a ``postgresql://`` URL). Every call into the
checking library goes through ``jobs``; the library never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings):
    """The ASGI application for ``settings`` (database migrated to head first)."""
    from .app import build_app

    return build_app(settings)
