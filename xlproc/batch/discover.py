"""Find the workbooks of a batch: every .xlsx under the inbox, recursively.

Anything else is listed as skipped with a reason (an old .xls, a PDF …), except
what is never a submission: Office lock files (``~$…``), our own temporaries and
hidden files, and the outbox itself when it lies inside the inbox.

A batch never reads what xlproc wrote: folders holding an outbox marker or a batch
manifest (this run's outbox or an earlier one's, under any name) are not entered;
汇总.xlsx and an annotated ``X_审核.xlsx`` / ``X_审核意见.xlsx`` lying beside its
source ``X.xlsx`` or its findings ``X_审核结果.json`` are listed as skipped; our
reports, drafts and findings files are passed over silently. An ``X_审核.xlsx`` on
its own is a department's return after a round and is read.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..io.atomic import TEMP_PREFIX
from ..io.names import safe_component

_REASONS = {
    ".xls": "旧版 .xls 格式，请在 Excel/WPS 中另存为 .xlsx 后重新报送",
    ".et": "WPS 表格格式（.et），请另存为 .xlsx 后重新报送",
    ".xlsm": "含宏的工作簿（.xlsm），请另存为 .xlsx 后重新报送",
    ".ods": "OpenDocument 表格（.ods），请另存为 .xlsx 后重新报送",
}


# Suffixes our annotated workbooks carry; a department returns them after a round.
RETURNED_SUFFIXES = ("_审核意见", "_审核")

# A folder holding one of these was written by xlproc (batch/state.py's manifest, the outbox marker).
OUTBOX_MARKER = ".xlproc-outbox"
OUTBOX_MARKERS = (OUTBOX_MARKER, ".xlproc-manifest.json")
SUMMARY_NAMES = ("汇总.xlsx", "全区数据.xlsx")  # batch/__init__.py's SUMMARY_NAME and DATASET_NAME
# Other files a batch, ``annotate`` or ``report`` writes (never submissions, never listed).
OUTPUT_ENDINGS = ("_审核结果.json", "_自评报告.docx", "_自评报告.pdf")
DRAFT_MARK = "_草稿"
STEM_BYTES = 100  # UTF-8 bytes of an output stem: stem + suffix + "_2" stays far below 255
NOT_REGULAR = "不是普通文件（设备、管道或套接字），已跳过"
LINK_OUTSIDE = "符号链接指向收件目录之外，已跳过"
LINK_BROKEN = "符号链接无法访问（目标不存在或无权限），已跳过"


def check_regular(path: Path, inbox_resolved: Path) -> str | None:
    """Why ``path`` must not be read as a submission, or None for a regular file.

    Symbolic links are resolved and must stay inside the inbox; FIFOs, devices and
    sockets are never opened (a FIFO would block, /dev/zero never ends).
    """
    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if target != inbox_resolved and inbox_resolved not in target.parents:
                return LINK_OUTSIDE
        st = path.stat()
    except (OSError, RuntimeError):
        return LINK_BROKEN
    return None if stat.S_ISREG(st.st_mode) else NOT_REGULAR


@dataclass(frozen=True)
class Source:
    """One workbook to process: its path, its name relative to the inbox, its output stem."""

    path: Path
    name: str  # relative to the inbox, "/"-separated
    stem: str  # unique within the batch; names the output files


@dataclass
class Discovery:
    """The workbooks found under a folder, and the files skipped with a Chinese reason."""

    sources: list[Source] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _ignored(name: str) -> bool:
    return name.startswith(("~$", TEMP_PREFIX, ".")) or name in ("Thumbs.db", "desktop.ini")


def _is_outbox(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in OUTBOX_MARKERS)


def own_output(name: str, siblings: set[str]) -> str | None:
    """Whether file ``name`` is something xlproc wrote: None (no), "" (yes, pass over
    silently) or the Chinese reason to list it as skipped. ``siblings``: the folder's
    file names, lower-cased."""
    lower = name.lower()
    if lower.endswith(OUTPUT_ENDINGS) or (DRAFT_MARK in name and not lower.endswith(".xlsx")):
        return ""
    if not lower.endswith(".xlsx"):
        return None
    if name in SUMMARY_NAMES:
        return "本程序生成的汇总表或全区数据，不是部门报送的工作簿"
    stem = name[: -len(".xlsx")]
    if DRAFT_MARK in stem:
        return "本程序生成的草稿，不是部门报送的工作簿"
    for suffix in RETURNED_SUFFIXES:
        base = stem[: -len(suffix)] if stem.endswith(suffix) and len(stem) > len(suffix) else ""
        if base and (f"{base}.xlsx".lower() in siblings or f"{base}_审核结果.json".lower() in siblings):
            return f"本程序写出的批注工作簿（原工作簿 {base}.xlsx 或其审核结果在同一文件夹），不再重复读取；部门退回的修改稿请单独放入收件目录"
    return None


def discover(inbox: Path, exclude: tuple[Path, ...] = ()) -> Discovery:
    """Walk ``inbox`` in a stable order; ``exclude`` folders (the outbox) are not entered."""
    inbox = Path(inbox)
    inbox_resolved = inbox.resolve()
    excluded = {Path(p).resolve() for p in exclude}
    found: list[tuple[Path, str]] = []
    result = Discovery()
    for root, dirs, files in os.walk(inbox):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and (root_path / d).resolve() not in excluded and not _is_outbox(root_path / d)
        )
        siblings = {f.lower() for f in files}
        for name in sorted(files):
            if _ignored(name):
                continue
            path = root_path / name
            rel = path.relative_to(inbox).as_posix()
            irregular = check_regular(path, inbox_resolved)
            if irregular:
                result.skipped.append((rel, irregular))
                continue
            ours = own_output(name, siblings)
            if ours is not None:
                if ours:
                    result.skipped.append((rel, ours))
                continue
            suffix = path.suffix.lower()
            if suffix == ".xlsx":
                found.append((path, rel))
            else:
                result.skipped.append((rel, _REASONS.get(suffix, "不是 .xlsx 工作簿")))
    found.sort(key=lambda x: x[1])
    result.skipped.sort()
    result.sources = _assign_stems(found)
    return result


def _base_stem(stem: str) -> str:
    """A workbook we annotated and the department sent back (X_审核.xlsx) keeps X as its stem."""
    for suffix in RETURNED_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def _safe_stem(stem: str) -> str:
    """The output stem of a source: our suffix removed, safe as a file name (``io.names``)."""
    return safe_component(_base_stem(stem), "工作簿", STEM_BYTES)


def _assign_stems(found: list[tuple[Path, str]]) -> list[Source]:
    """Output stems unique across the batch (case-insensitively, for Windows).

    Two workbooks named 自评表.xlsx in different sub-folders get the sub-folder path
    in their stem, so their outputs never overwrite each other.
    """
    counts = Counter(_safe_stem(p.stem).lower() for p, _ in found)
    taken: set[str] = set()
    sources = []
    for path, rel in found:
        stem = _safe_stem(path.stem)
        if counts[stem.lower()] > 1:
            stem = _safe_stem(rel[: -len(path.suffix)].replace("/", "_"))
        base, n = stem, 2
        while stem.lower() in taken:
            stem, n = f"{base}_{n}", n + 1
        taken.add(stem.lower())
        sources.append(Source(path, rel, stem))
    return sources
