"""The content-addressed file store: every file once, read-only, never overwritten, no leftovers."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor

from xlproc.web.storage import BlobStore


def test_a_file_is_stored_once_read_only_under_its_hash(tmp_path):
    store = BlobStore(tmp_path / "files")
    data = b"PK\x03\x04 a workbook"
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    path = store.path(sha)
    assert path.read_bytes() == data and store.get(sha) == data
    if os.name != "nt":
        assert not stat.S_IMODE(path.stat().st_mode) & 0o222, "stored files are read-only"
    inode = path.stat().st_ino
    assert store.put(data) == sha and store.put(data, durable=False) == sha
    assert path.stat().st_ino == inode, "a second put of the same bytes leaves the stored file alone"
    assert store.count() == 1
    assert [p.name for p in path.parent.iterdir()] == [sha], "no temporary file is left behind"


def test_an_existing_file_is_never_replaced(tmp_path):
    """Even a fresh store (another process) keeps the file it finds under the name."""
    root = tmp_path / "files"
    data = b"the bytes handed in"
    sha = BlobStore(root).put(data)
    path = BlobStore(root).path(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"kept as found")  # stands for the file another request stored first
    assert BlobStore(root).put(data) == sha
    assert path.read_bytes() == b"kept as found"
    assert sorted(p.name for p in path.parent.iterdir()) == [sha]


def test_the_same_bytes_from_many_threads_make_one_file(tmp_path):
    store = BlobStore(tmp_path / "files")
    payloads = [bytes([i % 5]) * 5000 for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        shas = list(pool.map(store.put, payloads))
    assert len(set(shas)) == 5 and store.count() == 5
    for sha, data in zip(shas, payloads, strict=True):
        assert store.get(sha) == data
    assert not [p for p in (tmp_path / "files").rglob(".in-*")]
