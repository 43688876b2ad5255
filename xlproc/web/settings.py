"""Where the portal keeps its data and how it runs (built from ``xlproc serve`` options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    data: Path  # --data: uploaded files, outputs, the SQLite database
    db_url: str | None = None  # --db: None → sqlite under data/
    max_upload: int = 20 * MIB  # larger files are stored but not processed
    max_request: int = 100 * MIB  # larger requests are refused outright (413)
    jobs: int | None = None  # worker processes; None → one per core, 0 → in a thread
    scheduler: str | None = None  # Dask scheduler address: process there instead
    secure_cookies: bool = False  # set when served over HTTPS (behind a reverse proxy)
    login_attempts: int = 5  # failed logins allowed per account and address …
    login_window_s: int = 300  # … within this many seconds
    session_hours: int = 12
    packs: tuple[Path, ...] = ()  # --pack: the bureau's own form pack folders, offered for rounds

    @property
    def pack_dirs(self) -> tuple[str, ...]:
        """The bureau's pack folders as the worker functions take them (absolute paths)."""
        return tuple(str(Path(d).resolve()) for d in self.packs)

    @property
    def database_url(self) -> str:
        url = self.db_url or f"sqlite:///{(Path(self.data) / 'xlproc.db').resolve()}"
        if url.startswith("postgresql://"):  # psycopg 3 is the driver we ship
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def blobs(self) -> Path:
        return Path(self.data) / "files"
