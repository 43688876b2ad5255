"""The scoring rubric (rubric.yaml): categories of the 考核实施办法 and their 满分.

The finance bureau edits the file; the template writes the 满分 into the 考核得分
sheet and the reader and rules compute 合计 and 换算得分 from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .yamlfile import YamlContext, malformed_in, read_yaml

RUBRIC_KINDS = ("score", "bonus", "deduction")


@dataclass(frozen=True)
class RubricCategory:
    id: str
    name: str
    max: Decimal
    kind: str


@dataclass(frozen=True)
class Rubric:
    id: str
    title: str
    categories: tuple[RubricCategory, ...]


def load_rubric(path: Path) -> Rubric:
    """Load the bureau-edited scoring rubric (SpecError naming the file when malformed)."""
    with malformed_in(path):
        return _load_rubric(path)


def _load_rubric(path: Path) -> Rubric:
    ctx = YamlContext(path)
    root = ctx.mapping(read_yaml(path), "(根)")
    node = ctx.mapping(root.get("rubric"), "rubric")
    cats = []
    seen = set()
    for i, c in enumerate(ctx.seq(node.get("categories"), "rubric.categories")):
        where = f"rubric.categories[{i}]"
        c = ctx.mapping(c, where)
        kind = ctx.text(c, "kind", where, "score")
        if kind not in RUBRIC_KINDS:
            raise ctx.fail(f"{where}.kind", f"应为 {' / '.join(RUBRIC_KINDS)}")
        try:
            max_ = Decimal(str(c.get("max")))
        except InvalidOperation as exc:
            raise ctx.fail(f"{where}.max", "满分应为数字") from exc
        if not max_.is_finite() or max_ < 0:
            raise ctx.fail(f"{where}.max", "满分应为非负数字")
        cid = ctx.ident(c, "id", where)
        if cid in seen:
            raise ctx.fail(f"{where}.id", f"类别 id 重复：{cid}")
        seen.add(cid)
        cats.append(RubricCategory(cid, ctx.text(c, "name", where), max_, kind))
    return Rubric(ctx.text(node, "id", "rubric"), str(node.get("title", "")), tuple(cats))
