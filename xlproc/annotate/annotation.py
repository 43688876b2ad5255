"""Annotate a department's workbook with the findings of one check.

Flagged cells get a fill (强制性 light red FFC7CE, 提示性 light orange FFB84D;
提示信息 only a comment) and one comment listing every message on that cell; a
审核结果 sheet lists every finding. The package is edited part by part (see
``package`` and ``xmltext``): every part we do not need to touch is copied as is,
so images, charts, extension-list data validations, defined names, protection and
the department's own comments come back byte for byte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError, XlprocError, os_reason
from ..io.atomic import write_bytes
from ..ooxml.a1 import a1, split_a1
from ..ooxml.xmltext import get_attr
from ..results import SEVERITY_LABELS, CheckReport, Finding, cell_sort_key
from .book import Book
from .comments import CommentsPart, Note
from .package import Package, UnsupportedPackageError
from .previous import strip_previous
from .results_sheet import HEADER_ROW, RESULTS_SHEET, STATE_SHEET, results_sheet_xml, state_sheet_xml
from .sheet import SheetXml
from .styles import ERROR_FILL, WARNING_FILL, Styles

OUT_SUFFIX = "_审核"
FALLBACK_SUFFIX = "_审核意见"
_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class AnnotateResult:
    """Where the annotated workbook went and what it holds."""

    path: Path
    in_place: bool  # False: a separate 审核意见 workbook was written instead
    cells: int = 0  # cells commented
    filled: int = 0  # cells filled
    reason: str = ""  # why the workbook could not be annotated in place


def default_output(src: Path) -> Path:
    """``<stem>_审核.xlsx`` beside ``src`` (``.xlsm`` kept: Excel refuses macros in .xlsx)."""
    src = Path(src)
    suffix = ".xlsm" if src.suffix.lower() == ".xlsm" else ".xlsx"
    return src.with_name(f"{src.stem}{OUT_SUFFIX}{suffix}")


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:  # one stat each; a target that does not exist yet cannot be the input
        return os.path.samefile(a, b)
    except OSError:
        return False


def annotate(src: Path, report: CheckReport, out: Path | None = None, *, data: bytes | None = None) -> AnnotateResult:
    """Write the annotated copy of ``src``; fall back to a 审核意见 workbook if needed.

    ``data``: the bytes of ``src`` when the caller already has them (not read again).
    """
    src = Path(src)
    out = Path(out) if out is not None else default_output(src)
    if _same_file(src, out):
        raise XlprocError(f"输出文件不能与输入文件相同：{out}")
    try:
        body, cells, filled = annotate_bytes(src, report, data=data)
    except (UnsupportedPackageError, ValueError, KeyError, IndexError) as exc:
        # never a half-annotated copy: the department's file stays as it is and the
        # findings go to a workbook of their own (reported via ``in_place``)
        from .fallback import write_review_workbook

        target = out.with_name(f"{src.stem}{FALLBACK_SUFFIX}.xlsx")
        if _same_file(src, target):
            raise XlprocError(f"输出文件不能与输入文件相同：{target}") from exc
        write_review_workbook(target, report, src)
        return AnnotateResult(target, False, reason=f"{type(exc).__name__}: {exc}")
    try:
        write_bytes(out, body)
    except OSError as exc:  # e.g. the target is open in Excel on Windows
        raise OutputError(f"无法写入 {out}：{os_reason(exc)}（文件是否正在被打开？）") from exc
    return AnnotateResult(out, True, cells=cells, filled=filled)


def annotate_workbook(src: Path, report: CheckReport, out: Path | None = None, *, data: bytes | None = None) -> Path:
    """Annotate ``src`` with ``report``; return the written path (see ``annotate``).

    ``data``: the bytes of ``src`` if the caller already read them (a batch does).
    """
    return annotate(src, report, out, data=data).path


@dataclass(frozen=True)
class _Mark:
    """One finding shown on one cell: on its own cell, as a pointer on a computed cell,
    or on an input cell feeding that computed cell."""

    finding: Finding
    role: str = "own"  # own | pointer | input
    where: str = ""  # pointer: the input cells; input: the computed cell's label and address


def _line(m: _Mark) -> str:
    f = m.finding
    head = f"【{SEVERITY_LABELS[f.severity]}】"
    title = f.title.strip()
    if m.role == "pointer":
        text = f"{title or f.message}。本格为自动计算（公式），请核对并修改参与计算的 {m.where}（已标出）"
    else:
        text = f.message if not title or f.message.startswith(title) else f"{title}：{f.message}"
        if m.role == "input":
            text += f"（本格参与计算{m.where}，请核对本格数字）"
    if f.explanation.strip():
        text += f"（部门说明：{f.explanation.strip()}）"
    return head + text


def _lines(marks: list[_Mark]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_line(m) for m in marks))


def _marks(
    report: CheckReport, book: Book, pkg: Package, sheets: dict[str, SheetXml]
) -> dict[str, dict[str, list[_Mark]]]:
    """sheet → cell (merge anchor) → what to show there."""
    groups: dict[str, dict[str, list[_Mark]]] = {}

    def place(sheet: str, cell: str, mark: _Mark) -> bool:
        entry = book.sheet(sheet)
        rc = split_a1(cell)
        if entry is None or not entry.is_worksheet or rc is None or entry.name in (RESULTS_SHEET, STATE_SHEET):
            return False
        if sheet not in sheets:
            sheets[sheet] = SheetXml(pkg, entry.part)
        anchor = sheets[sheet].merge_anchor(a1(*rc))
        groups.setdefault(sheet, {}).setdefault(anchor, []).append(mark)
        return True

    for f in report.findings:
        computed = report.computed.get(f"{f.sheet}!{f.cell}")
        if computed is None or not computed.inputs:
            place(f.sheet, f.cell, _Mark(f))
            continue
        pointed = [
            c
            for c in computed.inputs
            if place(c.sheet, c.cell, _Mark(f, "input", f"{_quote(computed.label)}（{_at(f.sheet, f.cell, c.sheet)}）"))
        ]
        if pointed:
            where = "、".join(_at(c.sheet, c.cell, f.sheet) for c in pointed)
            place(f.sheet, f.cell, _Mark(f, "pointer", where))
        else:
            place(f.sheet, f.cell, _Mark(f))
    return groups


def _quote(label: str) -> str:
    return label if "“" in label else f"“{label}”"


def _at(sheet: str, cell: str, here: str) -> str:
    return cell if sheet == here else f"{sheet}!{cell}"


def annotate_bytes(src: Path, report: CheckReport, *, data: bytes | None = None) -> tuple[bytes, int, int]:
    """The annotated package as bytes, with counts of commented and filled cells."""
    pkg = Package(src, data)
    book = Book(pkg)
    styles = Styles(pkg, book.styles_part)
    strip_previous(pkg, book, styles)

    sheets: dict[str, SheetXml] = {}
    groups = _marks(report, book, pkg, sheets)
    linkable: set[tuple[str, str]] = {
        (f.sheet, f.cell) for f in report.findings if f.sheet in groups and split_a1(f.cell) is not None
    }

    cell_records: list[dict] = []
    merged_records: list[dict] = []
    commented = 0
    for sheet_name, by_cell in groups.items():
        sx = sheets[sheet_name]
        notes = []
        for cell in sorted(by_cell, key=cell_sort_key):
            marks = sorted(by_cell[cell], key=lambda m: (_RANK[m.finding.severity], m.finding.rule_id))
            notes.append(Note(cell, _lines(marks)))
            worst = marks[0].finding.severity
            if worst == "info":
                continue
            orig_s, exists, attr = sx.get_style(cell)
            fill = ERROR_FILL if worst == "error" else WARNING_FILL
            orig_xf = styles.get("cellXfs", orig_s)
            annot_s = styles.with_fill(orig_s, fill)
            sx.set_style(cell, annot_s)
            cell_records.append(
                {
                    "sheet": sheet_name,
                    "cell": cell,
                    "orig_s": orig_s,
                    "orig_attr": attr,
                    "annot_s": annot_s,
                    "orig_xf": orig_xf,
                    "annot_xf": styles.get("cellXfs", annot_s),
                    "orig_fill": styles.fill_of(orig_s),
                    "orig_apply": _apply_fill(orig_xf),
                    "created": not exists,
                }
            )
        merged = CommentsPart(pkg, sx.part).add(notes, sx)
        merged_records += [{"sheet": sheet_name, "cell": c, "text": t} for c, t in merged.items()]
        commented += len(notes)
    for sx in sheets.values():
        sx.save()

    name = _free_sheet_name(book, RESULTS_SHEET)  # a department sheet of that name stays
    results = book.add_sheet(name, results_sheet_xml(report, styles, linkable))
    book.set_print_titles(results, HEADER_ROW, HEADER_ROW)  # the column headings on every printed page
    state = {"version": 1, "results_sheet": name, "cells": cell_records, "merged": merged_records}
    book.add_sheet(STATE_SHEET, state_sheet_xml(state), state="veryHidden")
    styles.save()
    book.activate(results)
    return pkg.to_bytes(), commented, len(cell_records)


def _free_sheet_name(book: Book, name: str) -> str:
    taken = {s.name.lower() for s in book.sheets}
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate, n = f"{name}({n})", n + 1
    return candidate


def _apply_fill(xf: str) -> str | None:
    tag = xf[: xf.index(">") + 1] if xf else ""
    return get_attr(tag, "applyFill") if tag else None
