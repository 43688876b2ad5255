"""Form packs: one folder per edition of the form (pack.yaml, form.yaml, rubric.yaml, rules.yaml …).

A pack holds everything specific to one edition: the spec and rubric, the rule
catalogue, the report template and settings, the report wording, which field names
the department, which figures the batch summary shows, and ``previous:`` — last
year's edition and how its field ids map onto this one's, so a previous-year workbook
is read with its own pack and then renamed for the cross-year rules.

Shipped packs live in ``workbook_templates/<pack-id>/``; a bureau passes its own with
``--pack DIR``. A workbook names its edition (form id + version) in its hidden
``_form`` sheet; ``find_pack`` picks the pack for it. See docs/pack-format.md.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .ops import OPS, check_op, op_name
from .spec import FormSpec, load_spec
from .yamlfile import YamlContext, malformed_in, read_yaml

PACK_FILE = "pack.yaml"
SUMMARY_KINDS = {"score": 2, "amount": 2, "percent": 2, "count": 0}  # kind → default decimals
SUMMARY_OPS = ("sum", "difference", "ratio_pct")  # ops over fields a summary figure may use


@dataclass(frozen=True)
class SummaryFigure:
    """One column of the batch summary: a field's value or a compute op over fields."""

    id: str
    label: str
    kind: str
    decimals: int
    field: str | None = None
    compute: Mapping[str, Any] | None = None
    rank: bool = False  # departments are ranked by this figure


@dataclass(frozen=True)
class PreviousEdition:
    """Last year's edition: its pack id and the field map old id → new id (None: dropped)."""

    pack_id: str
    field_map: tuple[tuple[str, str | None], ...] = ()

    @property
    def fields(self) -> dict[str, str | None]:
        return dict(self.field_map)


@dataclass(frozen=True, eq=False)
class FormPack:
    """Everything specific to one edition of the form (identity-hashed: one object per folder)."""

    dir: Path
    id: str
    form_id: str
    version: str
    title: str
    year: int
    spec: FormSpec
    department_field: str
    year_field: str = ""
    summary: tuple[SummaryFigure, ...] = ()
    roster: tuple[str, ...] = ()  # departments expected to file (汇总 lists who has not), pack.yaml ``roster``
    previous: PreviousEdition | None = None

    @property
    def rubric(self) -> Any:
        return self.spec.rubric

    @property
    def rank_figure(self) -> SummaryFigure | None:
        """The summary figure departments are ranked by: the one marked ``rank: true``, else the first."""
        return next((f for f in self.summary if f.rank), self.summary[0] if self.summary else None)

    @property
    def edition(self) -> str:
        """How a user names the edition: ``xlproc-zpb 2023.1``."""
        return f"{self.form_id} {self.version}"

    @property
    def rules_path(self) -> Path:
        return self.dir / "rules.yaml"

    @property
    def report_template(self) -> Path:
        return self.dir / "report.docx"

    @property
    def report_yaml(self) -> Path:
        return self.dir / "report.yaml"

    @property
    def wording(self) -> Path:
        """The narrative wording of the report (may be absent in older packs)."""
        return self.dir / "wording.yaml"

    def files(self) -> list[Path]:
        """The pack's files (what shapes its outputs; hashed into batch manifests)."""
        return sorted(p for p in self.dir.iterdir() if p.is_file() and not p.name.startswith("."))


@functools.lru_cache(maxsize=1)
def packs_root() -> Path:
    """The folder of the shipped packs.

    Inside an installed wheel it is packaged as ``xlproc/workbook_templates``; in a
    source checkout it is the repository's top-level ``workbook_templates``.
    """
    package_root = Path(__file__).resolve().parent.parent
    packaged = package_root / "workbook_templates"
    return packaged if packaged.is_dir() else package_root.parent / "workbook_templates"


def _version_key(version: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", version))


def _figure(ctx: YamlContext, node: Any, where: str, spec: FormSpec) -> SummaryFigure:
    node = ctx.mapping(node, where)
    kind = ctx.text(node, "kind", where, "amount")
    if kind not in SUMMARY_KINDS:
        raise ctx.fail(f"{where}.kind", f"应为 {' / '.join(SUMMARY_KINDS)}")
    decimals = node.get("decimals", SUMMARY_KINDS[kind])
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        raise ctx.fail(f"{where}.decimals", "应为 0 到 6 的整数")
    field_id, compute = node.get("field"), node.get("compute")
    if (field_id is None) == (compute is None):
        raise ctx.fail(where, "应恰有 field 或 compute 之一")
    if field_id is not None:
        if not isinstance(field_id, str) or field_id not in spec.fields:
            raise ctx.fail(f"{where}.field", f"form.yaml 中没有字段 {field_id!r}")
    else:
        compute = ctx.mapping(compute, f"{where}.compute")
        name = op_name(compute)
        if name not in SUMMARY_OPS:
            raise ctx.fail(f"{where}.compute", f"应恰有一个运算（可选：{', '.join(SUMMARY_OPS)}）")
        problem = check_op(compute, spec)
        if problem:
            raise ctx.fail(f"{where}.compute", problem)
    return SummaryFigure(
        id=ctx.text(node, "id", where),
        label=ctx.text(node, "label", where),
        kind=kind,
        decimals=decimals,
        field=field_id,
        compute=compute,
        rank=bool(node.get("rank", False)),
    )


def _previous(ctx: YamlContext, node: Any, spec: FormSpec) -> PreviousEdition | None:
    if node is None:
        return None
    node = ctx.mapping(node, "previous")
    pack_id = ctx.text(node, "pack", "previous")
    raw = node.get("fields") or {}
    raw = ctx.mapping(raw, "previous.fields") if raw else {}
    pairs: list[tuple[str, str | None]] = []
    for old, new in raw.items():
        if new is not None and (not isinstance(new, str) or new not in spec.fields):
            raise ctx.fail(f"previous.fields.{old}", f"本版 form.yaml 中没有字段 {new!r}")
        pairs.append((str(old), None if new is None else str(new)))
    return PreviousEdition(pack_id, tuple(pairs))


@functools.lru_cache(maxsize=32)
def _load_pack_cached(directory: Path, stamp: tuple[float, ...]) -> FormPack:
    with malformed_in(directory / PACK_FILE):  # form.yaml and rubric.yaml name themselves
        return _load_pack(directory)


def _load_pack(directory: Path) -> FormPack:
    path = directory / PACK_FILE
    ctx = YamlContext(path)
    root = ctx.mapping(read_yaml(path), "(根)")
    head = ctx.mapping(root.get("pack"), "pack")
    spec = load_spec(directory / "form.yaml")
    form_id, version = ctx.text(head, "form", "pack"), ctx.text(head, "version", "pack")
    if (form_id, version) != (spec.form_id, spec.version):
        raise ctx.fail("pack", f"表单标识 {form_id} {version} 与 form.yaml 的 {spec.form_id} {spec.version} 不一致")
    year = head.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 < year < 2200:
        raise ctx.fail("pack.year", "应为四位年份")
    department = ctx.text(root, "department_field", "(根)")
    if department not in spec.fields:
        raise ctx.fail("department_field", f"form.yaml 中没有字段 {department!r}")
    year_field = str(root.get("year_field") or "")
    if year_field and year_field not in spec.fields:
        raise ctx.fail("year_field", f"form.yaml 中没有字段 {year_field!r}")
    summary_raw = root.get("summary") or []
    if not isinstance(summary_raw, list):
        raise ctx.fail("summary", "应为列表")
    summary = tuple(_figure(ctx, f, f"summary[{i}]", spec) for i, f in enumerate(summary_raw))
    ids = [f.id for f in summary]
    if len(set(ids)) != len(ids):
        raise ctx.fail("summary", "汇总指标 id 重复")
    if sum(f.rank for f in summary) > 1:
        raise ctx.fail("summary", "只能有一个指标标记 rank: true")
    roster_raw = root.get("roster") or []
    if not isinstance(roster_raw, list) or not all(isinstance(n, str) and n.strip() for n in roster_raw):
        raise ctx.fail("roster", "应为部门名称的列表")
    for name in ("rules.yaml", "report.docx", "report.yaml"):
        if not (directory / name).is_file():
            raise SpecError(f"{directory}: 表单包缺少文件 {name}")
    return FormPack(
        dir=directory,
        id=ctx.text(head, "id", "pack"),
        form_id=form_id,
        version=version,
        title=str(head.get("title", "") or spec.title),
        year=year,
        spec=replace(spec, department_field=department, year_field=year_field),
        department_field=department,
        year_field=year_field,
        summary=summary,
        roster=tuple(n.strip() for n in roster_raw),
        previous=_previous(ctx, root.get("previous"), spec),
    )


def load_pack(directory: Path | str) -> FormPack:
    """Load and validate a pack folder; SpecError (file + YAML path, in Chinese) when malformed.

    Loaded once per process per folder (reloaded when one of its YAML files changes).
    """
    directory = Path(directory).resolve()
    if not (directory / PACK_FILE).is_file():
        raise SpecError(f"{directory}: 不是表单包（缺少 {PACK_FILE}）")
    stamp = tuple(_mtime(directory / n) for n in (PACK_FILE, "form.yaml", "rubric.yaml"))
    return _load_pack_cached(directory, stamp)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


_INSTALLED: dict[str, tuple[int, tuple[FormPack, ...]]] = {}


def installed_packs() -> tuple[FormPack, ...]:
    """The shipped packs (``workbook_templates/<pack-id>/``), oldest edition first.

    Listed once per process and again when a pack folder is added or removed (the
    folder's mtime); every workbook looks its edition up here, so this must be cheap.
    """
    root = packs_root()
    try:
        stamp = root.stat().st_mtime_ns
    except OSError:
        return ()
    hit = _INSTALLED.get(str(root))
    if hit is not None and hit[0] == stamp:
        return hit[1]
    dirs = sorted(p.parent for p in root.glob(f"*/{PACK_FILE}"))
    packs = tuple(sorted((load_pack(d) for d in dirs), key=lambda p: (p.year, _version_key(p.version))))
    _INSTALLED[str(root)] = (stamp, packs)
    return packs


DEFAULT_PACK_ENV = "XLPROC_DEFAULT_PACK"


def default_pack() -> FormPack:
    """The default edition: the newest installed pack, or the one ``XLPROC_DEFAULT_PACK`` names.

    It is what ``xlproc template`` writes without ``--pack`` (a bureau still collecting
    last year's forms may pin it); reading never depends on it.
    """
    packs = installed_packs()
    if not packs:
        raise SpecError(f"{packs_root()}: 没有安装任何表单包")
    wanted = os.environ.get(DEFAULT_PACK_ENV, "").strip()
    if wanted:
        for pack in packs:
            if pack.id == wanted:
                return pack
        raise SpecError(f"环境变量 {DEFAULT_PACK_ENV}={wanted}：没有这个表单包（已安装：{editions_text()}）")
    return packs[-1]


def find_pack(form_id: str, version: str, extra: Iterable[FormPack | Path | str] = ()) -> FormPack | None:
    """The pack of one edition: among ``extra`` (``--pack`` folders) first, then the installed ones."""
    for pack in _candidates(extra):
        if pack.form_id == form_id and pack.version == version:
            return pack
    return None


def pack_by_id(pack_id: str, extra: Iterable[FormPack | Path | str] = ()) -> FormPack | None:
    """A pack by its id (``previous.pack`` names last year's this way)."""
    for pack in _candidates(extra):
        if pack.id == pack_id:
            return pack
    return None


def _candidates(extra: Iterable[FormPack | Path | str]) -> list[FormPack]:
    given = [p if isinstance(p, FormPack) else load_pack(p) for p in extra]
    return [*given, *installed_packs()]


def editions_text(extra: Iterable[FormPack | Path | str] = ()) -> str:
    """The editions a workbook may be, for error messages: ``xlproc-zpb 2023.1（zpb-2023）、…``."""
    seen: dict[str, str] = {}
    for pack in _candidates(extra):
        seen.setdefault(pack.edition, f"{pack.edition}（{pack.id}）")
    return "、".join(seen.values()) or "（无）"


__all__ = [
    "OPS",
    "FormPack",
    "PreviousEdition",
    "SummaryFigure",
    "default_pack",
    "editions_text",
    "find_pack",
    "installed_packs",
    "load_pack",
    "pack_by_id",
    "packs_root",
]
