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
from .across import load_rules, run_across
from .frames import Dataset, FileEntry, build_frames
from .latest import superseded


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
    packs: Iterable[Path | str] = (),
    rules_path: str | None = None,
) -> Dataset:
    """Read, check and gather workbooks (a folder, a file, or several) into a ``Dataset``.

    ``previous``: last year's workbooks (a folder or files), matched by department (and
    year), for the cross-year rules of each file and the year-on-year checks across
    departments. ``packs``: extra form-pack folders (``--pack``); ``rules_path`` replaces
    the packs' rules.yaml. An unreadable workbook is a row of ``meta`` with its reason,
    never an exception.
    """
    from ..pipeline import Pipeline, PipelineOptions
    from ..pipeline.check import previous_keys, rules_file, year_of
    from ..pipeline.task import dataset_record
    from ..reading.package import load_input
    from ..reading.workbook import read_workbook

    options = PipelineOptions(packs=tuple(str(p) for p in packs), rules_path=rules_path, annotate=False, report=False)
    pipe = Pipeline.build(options)
    prev_index: dict[str, Path] = {}
    if previous is not None:
        for p, _name in _workbooks(previous):
            try:
                sub = read_workbook(p, packs=pipe.packs)
            except XlprocError:
                continue
            for key in previous_keys(sub.department, year_of(sub)):
                prev_index.setdefault(key, p)
    entries: list[FileEntry] = []
    times: list[tuple[str, str, float]] = []
    editions: list[Any] = []
    for path, source in _workbooks(paths):
        try:
            data = load_input(path)
            mtime = path.stat().st_mtime
        except (XlprocError, OSError) as exc:
            entries.append(FileEntry(source, ok=False, error=getattr(exc, "reason", None) or str(exc)))
            continue
        sha = hashlib.sha256(data).hexdigest()
        try:
            outcome = pipe.check(data, prev_index or None, source=str(path))
        except XlprocError as exc:
            entries.append(FileEntry(source, sha256=sha, ok=False, error=getattr(exc, "reason", None) or str(exc)))
            continue
        record = dataset_record(outcome, pipe)
        entries.append(
            FileEntry(
                source,
                department=outcome.department,
                sha256=sha,
                record=record,
                findings=tuple(compact_finding(f) for f in outcome.report.findings),
                previous=record.get("previous"),
            )
        )
        times.append((source, f"{department_key(outcome.department)}|{outcome.pack.id}", mtime))
        editions.append(outcome.pack)
    pack = main_pack(editions, pipe.packs)
    rules = load_rules(rules_file(pack, pipe.options.rules_path), pack.spec)
    return assemble(pack.spec, mark_other_rounds(entries, pack), rules, superseded(times))


def main_pack(packs: list[Any], given: tuple[Any, ...] = ()) -> Any:
    """The round's edition: the newest one any readable workbook was filed in (by year, then
    version). Its form gives the frames' columns; a workbook filed on another edition (last
    year's form, say) belongs to another round and is listed, never ranked or summed.
    Without any: the first ``--pack`` given, else the default pack."""
    from ..form.packs import default_pack

    if packs:
        return max(packs, key=lambda p: (p.year, p.version, p.id))
    return given[0] if given else default_pack()


def mark_other_rounds(entries: list[FileEntry], pack: Any) -> list[FileEntry]:
    """``entries`` with those filed on another edition than ``pack`` marked ``other_round``."""
    from dataclasses import replace

    out = []
    for e in entries:
        form = (e.record or {}).get("form")
        if e.ok and form and tuple(form) != (pack.spec.form_id, pack.spec.version):
            why = f"本轮为{pack.year}年度（版本 {pack.spec.version}），该工作簿为版本 {form[1]}，不参与排名和合计"
            e = replace(e, other_round=why)
        out.append(e)
    return out


def assemble(spec: Any, entries: list[FileEntry], rules: tuple = (), replaced: dict[str, str] | None = None) -> Dataset:
    """Frames of ``entries`` with the checks across departments run over them."""
    if replaced:
        from dataclasses import replace

        entries = [replace(e, superseded_by=replaced.get(e.source, "")) for e in entries]
    ds = build_frames(spec, entries)
    ds.across = run_across(rules, ds, spec)
    ds.add_findings(ds.across)
    return ds
