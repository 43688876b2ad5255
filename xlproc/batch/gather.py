"""What the batch's summary is built from besides the results: the dataset and the roster.

``gather_dataset`` turns the workers' compact records (``FileResult.record``, kept in
the manifests for reused files) into the district ``Dataset`` and runs the checks
across departments over it: no workbook is read a second time.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..errors import XlprocError
from ..pipeline import PipelineOptions, department_key

ROSTER_HEADERS = ("部门名称", "部门", "单位名称", "单位", "预算单位")


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


def read_roster(path: Path) -> list[str]:
    """Department names from a roster: .csv or .xlsx, one per row, in the column headed 部门名称
    (or the first column). Raises ``XlprocError`` naming the file when it cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = [row for row in csv.reader(fh)]
        elif suffix == ".xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                rows = [
                    ["" if v is None else str(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)
                ]
            finally:
                wb.close()
        else:
            raise XlprocError(f"部门名单 {path.name} 应为 .xlsx 或 .csv 文件")
    except OSError as exc:
        raise XlprocError(f"无法读取部门名单 {path}：{exc.strerror or exc}") from None
    except XlprocError:
        raise
    except Exception as exc:  # a corrupt workbook, bad encoding …
        raise XlprocError(f"无法读取部门名单 {path.name}：{type(exc).__name__}: {exc}") from None
    rows = [[c.strip() for c in row] for row in rows if any(c and c.strip() for c in row)]
    if not rows:
        raise XlprocError(f"部门名单 {path.name} 是空的")
    col = 0
    for i, cell in enumerate(rows[0]):
        if cell in ROSTER_HEADERS:
            col = i
            rows = rows[1:]
            break
    names: list[str] = []
    seen: set[str] = set()
    for row in rows:
        name = row[col] if col < len(row) else ""
        if name and department_key(name) not in seen:
            seen.add(department_key(name))
            names.append(name)
    if not names:
        raise XlprocError(f"部门名单 {path.name} 中没有部门名称（第一列或“部门名称”列）")
    return names
