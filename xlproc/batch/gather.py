"""What the batch's summary is built from besides the results: the district dataset (the roster: roster.py).

``gather_dataset`` turns the workers' compact records (``FileResult.record``, kept in
the manifests for reused files) into the district ``Dataset`` and runs the checks
across departments over it: no workbook is read a second time.
"""

from __future__ import annotations

from typing import Any

from ..pipeline import PipelineOptions


def gather_dataset(batch: Any, options: PipelineOptions, task: bool = False) -> Any:
    """The ``Dataset`` of a batch (None when no result carries a record, e.g. a stub task).

    The frames use the form of the round's edition, the newest one filed (a batch usually
    holds one); workbooks on another edition are marked and left out of the figures. Last
    year's figures for the year-on-year checks travel in the records.
    """
    if task and not any(r.record for r in batch.results):
        return None
    from ..dataset.across import load_rules
    from ..dataset.api import assemble, mark_other_rounds
    from ..dataset.frames import FileEntry
    from ..form.packs import load_pack
    from ..pipeline.check import rules_file

    # Only the packs and the rule file are needed: no pipeline is built here (the
    # parent of a pooled batch never builds one).
    given = tuple(load_pack(p) for p in options.packs)
    pack = _main_pack(batch, given)
    entries = [
        FileEntry(
            source=r.source,
            department=r.department,
            sha256=r.sha256,
            ok=r.ok,
            error=r.error,
            record=r.record,
            findings=tuple(r.findings),
            superseded_by=batch.superseded.get(r.source, ""),
            previous=(r.record or {}).get("previous"),
        )
        for r in batch.results
    ]
    rules = load_rules(rules_file(pack, options.rules_path), pack.spec)
    return assemble(pack.spec, mark_other_rounds(entries, pack), rules)


def _main_pack(batch: Any, given: tuple[Any, ...]) -> Any:
    from ..dataset.api import main_pack
    from ..form.packs import find_pack

    packs = []
    for r in batch.results:
        if r.ok and r.record:
            pack = find_pack(*r.record["form"], given)
            if pack is not None:
                packs.append(pack)
    return main_pack(packs, given)
