"""Content-addressed file store: every file under data/files/<aa>/<sha256>, never overwritten.

The same bytes uploaded twice are stored once; a stored file is never replaced or
removed by the portal. Writes go to a temporary name and are renamed into place, so a
crash leaves no half-written file under a real name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, durable: bool = True) -> str:
        """Store ``data`` (once) and return its SHA-256; ``durable``: on disk before returning."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".in-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            # link fails if another request stored the same bytes meanwhile: keep theirs
            with contextlib.suppress(FileExistsError):
                os.link(tmp, target)
        finally:
            os.unlink(tmp)
        return sha

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def count(self) -> int:
        return sum(1 for p in self.root.glob("??/*") if not p.name.startswith("."))
