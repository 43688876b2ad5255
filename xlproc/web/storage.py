"""Content-addressed file store: every file under data/files/<aa>/<sha256>, never overwritten.

The same bytes uploaded twice are stored once; a stored file is never replaced or
removed by the portal. Writes go to a temporary name and are renamed into place, so a
crash leaves no half-written file under a real name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

# read-only on disk; on Windows the read-only flag belongs to the file, and its temporary name
# could then not be removed after linking (the portal never writes a stored file either way)
_MODE = 0o644 if os.name == "nt" else 0o444


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._folders: set[str] = set()  # the <aa> folders known to exist (saves a mkdir per file)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, durable: bool = True) -> str:
        """Store ``data`` (once) and return its SHA-256; ``durable``: on disk before returning.

        The bytes go to a new read-only temporary file in the target's folder, which is then
        hard-linked under its real name: the link fails if the name exists (the same bytes
        stored meanwhile, by another request), and the existing file is kept as it is.
        """
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        folder = sha[:2]
        if folder not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        elif os.path.exists(target):
            return sha
        tmp = target.parent / f".in-{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), _MODE)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, target)
        finally:
            os.unlink(tmp)
        return sha

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def count(self) -> int:
        return sum(1 for p in self.root.glob("??/*") if not p.name.startswith("."))
