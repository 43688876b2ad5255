"""The relations a form declares (form.yaml ``relations:``), validated against its spec.

A form pack states facts about its own fields that the engine checks generically,
so every pack gets them without a rule written per field (rules.yaml only says which
kinds to check and how to word them):

``signed``      money / count / percent inputs that may be negative (every other one must be ≥ 0)
``part_of``     ``{part, whole, kind}``: a part (field or ``table.column``: each row) never
                exceeds its whole; ``kind`` groups them (``part`` for 其中 relations,
                ``bound`` for plausibility bounds such as a project within the budget)
``pairs``       ``{plan, actual, limit}``: ``limit: ceiling`` (actual ≤ plan, a budget) or
                ``floor`` (actual ≥ plan, a reserved share); ``grid`` + ``plan``/``actual``
                columns declares every row of a grid at once
``same_fact``   ``{fields: [a, b]}``: one fact typed in two places must agree; the
                finding sits on the second field (the copy)
``year``        ``{field, dates: {date_field: [lo, hi]}}``: each date falls in 年度 + lo … 年度 + hi
``list_count``  ``{count, list}``: a typed count equals the number of names listed
``fresh``       what must change from last year's workbook: ``{sheet}`` (a whole sheet of
                figures) or ``{grid, column, prev_column}`` (a column against last
                year's column, or against another column of this year's grid)

Loaded once per spec (it reads ``spec.source``); a malformed section raises
``SpecError`` naming the file and the node, like the rest of form.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..form.memo import memo
from ..form.spec import FormSpec
from ..form.yamlfile import read_yaml

LIST_SEPARATORS = "、，,；;\n/／"


@dataclass(frozen=True)
class PartOf:
    part: str  # field id or table.column
    whole: str
    kind: str = "part"


@dataclass(frozen=True)
class Pair:
    plan: str
    actual: str
    limit: str = "ceiling"  # ceiling: actual ≤ plan; floor: actual ≥ plan


@dataclass(frozen=True)
class Fresh:
    sheet: str = ""
    grid: str = ""
    column: str = ""
    prev_column: str = ""
    within: bool = False  # compare with another column of this year's grid (no --previous needed)


@dataclass
class Relations:
    signed: frozenset[str] = frozenset()
    part_of: list[PartOf] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    same_fact: list[tuple[str, str]] = field(default_factory=list)
    year_field: str = ""
    year_dates: dict[str, tuple[int, int]] = field(default_factory=dict)
    list_count: list[tuple[str, str]] = field(default_factory=list)
    fresh: list[Fresh] = field(default_factory=list)


def relations_of(spec: FormSpec) -> Relations:
    """The declared relations of ``spec`` (empty when its form.yaml declares none), once per spec."""
    return memo(spec, "relations", lambda: _load(spec))


def _load(spec: FormSpec) -> Relations:
    if spec.source is None or not Path(spec.source).is_file():
        return Relations()
    root = read_yaml(Path(spec.source))
    node = root.get("relations") if isinstance(root, dict) else None
    if node is None:
        return Relations()
    where = f"{spec.source}: relations"

    def fail(path: str, reason: str) -> SpecError:
        return SpecError(f"{where}.{path}: {reason}")

    if not isinstance(node, dict):
        raise fail("", "应为键值映射")
    grids = {b.id: b for s in spec.sheets for b in s.blocks if b.kind == "grid"}

    def ref(value: Any, path: str, numeric: bool = True) -> str:
        if not isinstance(value, str):
            raise fail(path, f"应为字段 id 或 表格.列：{value!r}")
        if "." in value:
            t, c = value.split(".", 1)
            if t not in spec.tables or c not in {col.id for col in spec.tables[t].columns}:
                raise fail(path, f"未知的表格列 {value!r}")
            col = spec.tables[t].column(c)
            if numeric and not col.is_numeric:
                raise fail(path, f"{value} 不是数值列")
            return value
        if value not in spec.fields:
            raise fail(path, f"未知字段 {value!r}")
        if numeric and not spec.fields[value].is_numeric:
            raise fail(path, f"{value} 不是数值字段")
        return value

    def seq(key: str) -> list[Any]:
        v = node.get(key, [])
        if not isinstance(v, list):
            raise fail(key, "应为列表")
        return v

    rel = Relations()
    rel.signed = frozenset(ref(x, f"signed[{i}]") for i, x in enumerate(seq("signed")))
    for i, p in enumerate(seq("part_of")):
        if not isinstance(p, dict):
            raise fail(f"part_of[{i}]", "应为 {part, whole} 映射")
        rel.part_of.append(
            PartOf(
                ref(p.get("part"), f"part_of[{i}].part"),
                ref(p.get("whole"), f"part_of[{i}].whole"),
                str(p.get("kind", "part")),
            )
        )
    for i, p in enumerate(seq("pairs")):
        path = f"pairs[{i}]"
        if not isinstance(p, dict):
            raise fail(path, "应为 {plan, actual} 映射")
        limit = p.get("limit", "ceiling")
        if limit not in ("ceiling", "floor"):
            raise fail(f"{path}.limit", "应为 ceiling 或 floor")
        if "grid" in p:
            g = grids.get(p["grid"])
            if g is None:
                raise fail(f"{path}.grid", f"未知的表 {p['grid']!r}")
            cols = {c.id for c in g.grid_columns}
            if p.get("plan") not in cols or p.get("actual") not in cols:
                raise fail(path, f"plan / actual 应为表 {g.id} 的列（{', '.join(sorted(cols))}）")
            for r in g.grid_rows:
                rel.pairs.append(Pair(g.grid_field(r.id, p["plan"]), g.grid_field(r.id, p["actual"]), limit))
        else:
            rel.pairs.append(Pair(ref(p.get("plan"), f"{path}.plan"), ref(p.get("actual"), f"{path}.actual"), limit))
    for i, p in enumerate(seq("same_fact")):
        fs = p.get("fields") if isinstance(p, dict) else None
        if not isinstance(fs, list) or len(fs) != 2:
            raise fail(f"same_fact[{i}].fields", "应为两个字段")
        a, b = (ref(x, f"same_fact[{i}].fields", numeric=False) for x in fs)
        rel.same_fact.append((a, b))
    year = node.get("year")
    if year is not None:
        if not isinstance(year, dict):
            raise fail("year", "应为 {field, dates} 映射")
        rel.year_field = ref(year.get("field"), "year.field")
        dates = year.get("dates") or {}
        if not isinstance(dates, dict):
            raise fail("year.dates", "应为 日期字段: [最小偏移, 最大偏移] 映射")
        for fid, span in dates.items():
            ref(fid, f"year.dates.{fid}", numeric=False)
            if spec.fields[fid].type != "date":
                raise fail(f"year.dates.{fid}", "应为日期字段")
            if not (isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) for x in span)):
                raise fail(f"year.dates.{fid}", "应为 [最小偏移, 最大偏移] 两个整数")
            rel.year_dates[fid] = (min(span), max(span))
    for i, p in enumerate(seq("list_count")):
        if not isinstance(p, dict):
            raise fail(f"list_count[{i}]", "应为 {count, list} 映射")
        rel.list_count.append(
            (ref(p.get("count"), f"list_count[{i}].count"), ref(p.get("list"), f"list_count[{i}].list", numeric=False))
        )
    for i, p in enumerate(seq("fresh")):
        path = f"fresh[{i}]"
        if not isinstance(p, dict):
            raise fail(path, "应为映射")
        if "sheet" in p:
            if p["sheet"] not in {s.id for s in spec.sheets}:
                raise fail(f"{path}.sheet", f"未知工作表 {p['sheet']!r}")
            rel.fresh.append(Fresh(sheet=p["sheet"]))
            continue
        g = grids.get(p.get("grid"))
        if g is None:
            raise fail(f"{path}.grid", f"未知的表 {p.get('grid')!r}")
        cols = {c.id for c in g.grid_columns}
        col, prev_col = p.get("column"), p.get("prev_column", p.get("column"))
        if col not in cols or prev_col not in cols:
            raise fail(path, f"column / prev_column 应为表 {g.id} 的列")
        rel.fresh.append(Fresh(grid=g.id, column=col, prev_column=prev_col, within=bool(p.get("within", False))))
    return rel


def split_list(text: str) -> list[str]:
    """Names listed in one cell, split on 、，,；; / and line breaks (blanks dropped)."""
    out = [text]
    for sep in LIST_SEPARATORS:
        out = [piece for chunk in out for piece in chunk.split(sep)]
    return [p.strip() for p in out if p.strip()]
