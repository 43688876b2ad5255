"""The check step: workbook bytes and a pack in, a typed ``CheckOutcome`` out.

Read the workbook with the pack of its own edition, read last year's workbook with
*its* own pack and map it onto this edition (``previous:`` of pack.yaml), run the
pack's rule catalogue, and carry over the department's 说明 answers from an earlier
round. No disk writes: the batch task, the CLI and the web layer all start here and
turn the outcome into files with the artifact writers (``artifacts.py``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import XlprocError
from ..form.packs import FormPack, find_pack
from ..io.names import name_key
from ..results import CheckReport
from ..rules.catalogue import Catalogue
from ..submission import Submission

PackRef = FormPack | Path | str
PreviousInput = Submission | bytes | Path | str | Mapping[str, Path | str] | None


@dataclass(frozen=True)
class PreviousYear:
    """Last year's workbook, read with its own pack and mapped onto this edition's field ids."""

    submission: Submission  # mapped: its spec is this edition's, its field ids this edition's
    pack: FormPack  # the pack it was read with
    source: str  # where it came from (a path, or "" when given as a Submission)


@dataclass(frozen=True)
class CheckOutcome:
    """What checking one workbook produced (plain data; writers turn it into files)."""

    source: str  # the name the outputs and messages use (path or upload name)
    data: bytes  # the workbook as received (the annotator edits a copy of it)
    pack: FormPack  # the pack of the workbook's edition
    submission: Submission
    report: CheckReport
    previous: PreviousYear | None = None
    notes: tuple[str, ...] = ()  # Chinese remarks (last year's workbook unreadable …)
    digest: str = ""  # the sha256 of ``data`` when the caller already has it (a batch hashes every input)

    @property
    def department(self) -> str:
        return self.submission.department

    @property
    def sha256(self) -> str:
        return self.digest or hashlib.sha256(self.data).hexdigest()


def department_key(name: str) -> str:
    """How two department names are compared: NFKC (full/half width), whitespace and case ignored."""
    return name_key(name)


def year_of(sub: Submission) -> int | None:
    """The year the workbook covers (the pack's ``year_field``), or None when blank."""
    field_id = sub.spec.year_field
    value = sub.fields[field_id].value if field_id in sub.fields else None
    try:
        return int(value) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def previous_keys(department: str, year: int | None) -> tuple[str, ...]:
    """The keys a previous-year workbook is indexed under: department@year, and the department."""
    key = department_key(department)
    return (f"{key}@{year}", key) if year is not None else (key,)


def lookup_previous(index: Mapping[str, Path | str], sub: Submission) -> Path | str | None:
    """Last year's workbook of ``sub``'s department in a batch's index.

    Year − 1 first, then up to three years back (the identity rule then says the years
    do not follow); never a workbook of the same or a later year. Without a year, the
    department's latest workbook.
    """
    year = year_of(sub)
    key = department_key(sub.department)
    if year is None:
        return index.get(key)
    for earlier in range(year - 1, year - 4, -1):  # last year first; an older one gets the gate rule's note
        if f"{key}@{earlier}" in index:
            return index[f"{key}@{earlier}"]
    return None


def rules_file(pack: FormPack, rules: Path | str | None = None) -> Path:
    """The rule file a workbook of ``pack`` is checked with: ``rules`` (``--rules``) or the pack's."""
    return Path(rules) if rules else pack.rules_path


@functools.lru_cache(maxsize=16)
def _catalogue(pack: FormPack, rules: str) -> Catalogue:
    from ..rules import load_catalogue

    return load_catalogue(rules_file(pack, rules), spec=pack.spec)


def compiled_catalogue(pack: FormPack, rules: Path | str | None = None) -> Catalogue:
    """The pack's rule catalogue (or ``rules``, a replacement file) compiled once per process."""
    return _catalogue(pack, str(Path(rules).resolve()) if rules else "")


def validate_rules(rules: Path | str, packs: Iterable[PackRef] = ()) -> None:
    """Refuse a replacement rule file before any workbook is read.

    It must compile against at least one edition it may be used with (the given packs
    and the installed ones); otherwise the error for the newest of them is raised.
    Files of an edition it does not fit fail one by one, with that edition's error.
    """
    from ..form.packs import installed_packs, load_pack

    candidates = [p if isinstance(p, FormPack) else load_pack(p) for p in packs] or list(reversed(installed_packs()))
    first: Exception | None = None
    for pack in candidates:
        try:
            compiled_catalogue(pack, rules)
            return
        except XlprocError as exc:
            first = first or exc
    if first is not None:
        raise first


def map_previous(prev: Submission, prev_pack: FormPack, pack: FormPack) -> Submission | None:
    """Last year's submission with this edition's field ids, or None when the editions do not chain.

    The same edition needs no map; last year's edition must be the one ``pack.previous``
    names, whose ``fields`` map renames (old → new) or drops (old → null) ids; fields
    this edition does not have are left out (rules reading them are skipped).
    """
    if prev_pack.id == pack.id or (prev_pack.form_id, prev_pack.version) == (pack.form_id, pack.version):
        return prev
    if pack.previous is None or pack.previous.pack_id != prev_pack.id:
        return None
    rename = pack.previous.fields
    fields = {}
    for old, fv in prev.fields.items():
        new = rename.get(old, old)
        if new is not None and new in pack.spec.fields and new not in fields:
            fields[new] = replace(fv, id=new)
    tables = {}
    for old, table in prev.tables.items():
        new = rename.get(old, old)
        if new is not None and new in pack.spec.tables:
            tables[new] = table
    return Submission(prev.source, pack.spec, prev.form_id, prev.form_version, fields, tables, list(prev.problems))


def read_previous(
    previous: PreviousInput, pack: FormPack, packs: Iterable[PackRef] = ()
) -> tuple[PreviousYear | None, str]:
    """Last year's workbook read with its own pack and mapped, and a Chinese note when it could not be used."""
    if previous is None:
        return None, ""
    from ..reading.workbook import read_workbook

    source = ""
    if isinstance(previous, Submission):
        sub = previous
    else:
        data = previous if isinstance(previous, bytes) else None
        path = Path("上年工作簿.xlsx") if data is not None else Path(previous)  # type: ignore[arg-type]
        source = "" if data is not None else str(previous)
        try:
            sub = read_workbook(path, data=data, packs=packs)
        except XlprocError as exc:
            return None, f"上年工作簿无法读取，未做跨年度核对：{getattr(exc, 'reason', exc)}"
    prev_pack = find_pack(sub.form_id, sub.form_version, packs) if sub.spec is not pack.spec else pack
    if prev_pack is None:  # a Submission read with a spec no pack holds: take it as this edition
        return PreviousYear(sub, pack, source), ""
    mapped = map_previous(sub, prev_pack, pack)
    if mapped is None:
        return None, (
            f"上年工作簿为 {prev_pack.edition} 版，本版（{pack.edition}）的表单包未声明与之对应的字段，未做跨年度核对"
        )
    return PreviousYear(mapped, prev_pack, source), ""


def check_workbook(
    data: bytes,
    pack: FormPack | None = None,
    previous: PreviousInput = None,
    *,
    source: str = "工作簿.xlsx",
    packs: Iterable[PackRef] = (),
    rules: Path | str | None = None,
    catalogue: Catalogue | None = None,
) -> CheckOutcome:
    """Check one workbook given as bytes.

    ``pack``: the edition it must be (None: the pack of the workbook's own edition,
    among ``packs`` — ``--pack`` folders — and the installed packs). ``previous``: last
    year's workbook (bytes, a path, a Submission, or a mapping ``department_key`` →
    path looked up once the department is known). ``rules`` replaces the pack's
    rules.yaml; ``catalogue`` is an already compiled one. Raises ``WorkbookError`` when
    the file cannot be read; findings are data.
    """
    from ..annotate import apply_explanations, read_explanations
    from ..reading.workbook import read_workbook
    from ..rules import run_checks

    packs = tuple(packs)
    path = Path(source)
    sub = read_workbook(path, spec=pack.spec if pack is not None else None, data=data, packs=packs)
    if pack is None:
        pack = find_pack(sub.form_id, sub.form_version, packs)
        assert pack is not None  # read_workbook chose it
    if isinstance(previous, Mapping):
        previous = lookup_previous(previous, sub)
    prev, note = read_previous(previous, pack, packs)
    catalogue = catalogue or compiled_catalogue(pack, rules)
    report = run_checks(sub, catalogue, previous=prev.submission if prev else None)
    report.source = source
    explanations = read_explanations(path, data=data)
    if explanations:
        report = apply_explanations(report, explanations)
    return CheckOutcome(source, data, pack, sub, report, prev, (note,) if note else ())


def check_file(
    path: Path | str,
    pack: FormPack | None = None,
    previous: PreviousInput = None,
    *,
    packs: Iterable[PackRef] = (),
    rules: Path | str | None = None,
) -> CheckOutcome:
    """``check_workbook`` of a file on disk (read once; WorkbookError when it cannot be read)."""
    from ..reading.package import load_input

    return check_workbook(load_input(Path(path)), pack, previous, source=str(path), packs=packs, rules=rules)
