"""Idempotence: remember what each output folder was made from.

Every department folder of the outbox holds a manifest (``.xlproc-manifest.json``)
with, per source workbook, its sha256, size and mtime, the pipeline fingerprint
(xlproc version + form spec + rubric + rule catalogue + report template), the
previous-year workbook's hash, and the result. A re-run reuses a file's result when
all of these still match and its outputs exist: unchanged size and mtime skip even the
hashing; a changed mtime with the same content is detected by the worker's hash.

Manifests are written by the parent process only (never by workers), atomically,
right after each result arrives, so a killed run loses at most the files in flight.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError, os_reason
from ..io.atomic import write_bytes
from ..pipeline import FileResult
from .discover import Source

MANIFEST_NAME = ".xlproc-manifest.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Reuse:
    """What the state knows about a source: a result to reuse outright, or a hash to compare."""

    result: FileResult | None = None  # unchanged by size+mtime: reuse without reading
    known_sha256: str = ""  # reusable if the content hashes to this


class BatchState:
    """The manifests of an outbox, loaded once, updated as results arrive."""

    def __init__(self, outbox: Path, fingerprint: str, versions: dict[str, str] | None = None):
        self.outbox = Path(outbox)
        self.fingerprint = fingerprint
        self.versions = versions or {}
        self._folders: dict[str, dict[str, dict[str, Any]]] = {}  # folder → source → entry
        self._where: dict[str, str] = {}  # source → folder

    @classmethod
    def load(cls, outbox: Path, fingerprint: str, versions: dict[str, str] | None = None) -> BatchState:
        """Read every department folder's manifest; unreadable manifests are ignored."""
        state = cls(outbox, fingerprint, versions)
        if not state.outbox.is_dir():
            return state
        for manifest in sorted(state.outbox.glob(f"*/{MANIFEST_NAME}")):
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                entries = data["entries"] if data.get("format") == MANIFEST_FORMAT else {}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
            folder = manifest.parent.name
            state._folders[folder] = dict(entries)
            for source in entries:
                state._where[source] = folder
        return state

    def entry(self, source: str) -> dict[str, Any] | None:
        folder = self._where.get(source)
        return self._folders[folder][source] if folder is not None else None

    def reuse(self, src: Source, previous_sha256: str = "") -> Reuse:
        """Decide whether ``src`` needs processing (see the module docstring)."""
        e = self.entry(src.name)
        if e is None or e.get("fingerprint") != self.fingerprint or e.get("previous_sha256", "") != previous_sha256:
            return Reuse()
        result = e.get("result") or {}
        outputs = result.get("outputs") or {}
        if not outputs or not all((self.outbox / rel).is_file() for rel in outputs.values()):
            return Reuse()
        try:
            st = src.path.stat()
        except OSError:
            return Reuse()
        if st.st_size == e.get("size") and st.st_mtime_ns == e.get("mtime_ns"):
            return Reuse(result=FileResult.from_dict(result))
        return Reuse(known_sha256=e.get("sha256", ""))

    def cached_result(self, source: str) -> FileResult | None:
        e = self.entry(source)
        return FileResult.from_dict(e["result"]) if e and e.get("result") else None

    def record(
        self, src: Source, result: FileResult, previous_sha256: str = "", stat: tuple[int, int] | None = None
    ) -> None:
        """Remember a successful result (and forget a failed one); rewrite the manifest(s).

        ``stat``: (size, mtime_ns) taken before the worker read the file. Recording the
        file's stat now instead would pair a file replaced meanwhile with the old
        content's hash and results, and the next run would reuse them.
        """
        old_folder = self._where.pop(src.name, None)
        old_entry = self._folders.get(old_folder, {}).pop(src.name, None) if old_folder else None
        touched = {old_folder} if old_folder else set()
        if result.ok and result.outputs:
            folder = Path(result.outputs["findings"]).parts[0]
            if stat is not None:
                size, mtime = stat
            else:
                try:
                    st = src.path.stat()
                    size, mtime = st.st_size, st.st_mtime_ns
                except OSError:
                    size, mtime = -1, -1
            stored = result.to_dict()
            stored.update(cached=False, notes=[])
            self._folders.setdefault(folder, {})[src.name] = {
                "sha256": result.sha256,
                "size": size,
                "mtime_ns": mtime,
                "fingerprint": self.fingerprint,
                "previous_sha256": previous_sha256,
                "result": stored,
            }
            self._where[src.name] = folder
            touched.add(folder)
            if old_entry and old_folder != folder:
                self._remove_outputs(old_entry, keep=set(result.outputs.values()))
        for folder in touched:
            self._write(folder)

    def _remove_outputs(self, entry: dict[str, Any], keep: set[str]) -> None:
        """Outputs of a source whose department changed are stale: remove them."""
        for rel in (entry.get("result") or {}).get("outputs", {}).values():
            if rel not in keep:
                with contextlib.suppress(OSError):
                    (self.outbox / rel).unlink()

    def _write(self, folder: str) -> None:
        entries = self._folders.get(folder, {})
        target = self.outbox / folder / MANIFEST_NAME
        if not entries:
            with contextlib.suppress(OSError):
                target.unlink()
            return
        data = {
            "format": MANIFEST_FORMAT,
            "fingerprint": self.fingerprint,
            "versions": self.versions,
            "entries": entries,
        }
        try:
            write_bytes(target, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        except OSError as exc:
            raise OutputError(f"无法写入 {target}：{os_reason(exc)}") from exc
