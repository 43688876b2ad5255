"""``xlproc.dataset(paths or folder, previous=None) -> Dataset``: the library entry point.

Reads and checks each workbook once (the same read → check step as ``xlproc check``),
keeps the compact per-file record a batch worker would send, and builds the frames
from those records; then runs the checks across departments declared in the
catalogue. The batch builds the same ``Dataset`` from its workers' records instead
(``from_results``), so no workbook is read twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import XlprocError
from ..pipeline import compact_finding, department_key
from .across import load_rules, locate_fields, previous_fields, run_across
from .frames import Dataset, FileEntry, build_frames
from .latest import superseded
from .record import figures_of, make_record


def _workbooks(paths: Path | str | Iterable[Path | str]) -> list[tuple[Path, str]]:
    """(path, source name) of each workbook: names relative to a given folder, "/"-separated."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[tuple[Path, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                q for q in p.rglob("*.xlsx") if not q.name.startswith(("~$", ".")) and not q.stem.endswith("_审核")
            )
            out += [(q, q.relative_to(p).as_posix()) for q in found]
        else:
            out.append((p, p.name))
    return out


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def dataset(
    paths: Path | str | Iterable[Path | str],
    previous: Path | str | Iterable[Path | str] | None = None,
    *,
    spec_path: str | None = None,
    rules_path: str | None = None,
) -> Dataset:
    """Read, check and gather workbooks (a folder, a file, or several) into a ``Dataset``.

    ``previous``: last year's workbooks (a folder or files), matched by department name,
    for the cross-year rules of each file and the year-on-year checks across departments.
    An unreadable workbook is a row of ``meta`` with its reason, never an exception.
    """
    from ..pipeline import Pipeline, PipelineOptions, check_workbook
    from ..reading.workbook import read_workbook

    pipe = Pipeline.build(PipelineOptions(spec_path=spec_path, rules_path=rules_path, annotate=False, report=False))
    rules = load_rules(Path(pipe.catalogue.path), pipe.spec)
    locate, prev_keep = locate_fields(rules), previous_fields(rules)
    prev_index: dict[str, Any] = {}
    if previous is not None:
        for p, _name in _workbooks(previous):
            try:
                sub = read_workbook(p)
            except XlprocError:
                continue
            prev_index.setdefault(department_key(sub.department), sub)
    entries: list[FileEntry] = []
    times: list[tuple[str, str, float]] = []
    for path, source in _workbooks(paths):
        try:
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            mtime = path.stat().st_mtime
        except OSError as exc:
            entries.append(FileEntry(source, ok=False, error=f"无法读取文件：{exc.strerror or exc}"))
            continue
        try:
            sub, report, _used, _note = check_workbook(path, pipe.catalogue, prev_index or None, data)
        except XlprocError as exc:
            entries.append(FileEntry(source, sha256=sha, ok=False, error=getattr(exc, "reason", None) or str(exc)))
            continue
        prev = prev_index.get(department_key(sub.department))
        entries.append(
            FileEntry(
                source,
                department=sub.department,
                sha256=sha,
                record=make_record(sub, read_at=now_iso(), locate=locate),
                findings=tuple(compact_finding(f) for f in report.findings),
                previous=figures_of(prev, prev_keep) if prev is not None else None,
            )
        )
        times.append((source, sub.department, mtime))
    return assemble(pipe.spec, entries, rules, superseded(times))


def assemble(spec: Any, entries: list[FileEntry], rules: tuple = (), replaced: dict[str, str] | None = None) -> Dataset:
    """Frames of ``entries`` with the checks across departments run over them."""
    if replaced:
        from dataclasses import replace

        entries = [replace(e, superseded_by=replaced.get(e.source, "")) for e in entries]
    ds = build_frames(spec, entries)
    ds.across = run_across(rules, ds, spec)
    ds.add_findings(ds.across)
    return ds
