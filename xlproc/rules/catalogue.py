"""Load, validate and compile the rule catalogue (a pack's rules.yaml, workbook_templates/<pack>/).

The catalogue is data a finance bureau edits: one entry per rule with a stable id,
a severity, a Chinese title, a type (``check`` for an expression rule, or a
registered type) and its parameters. It is compiled once against the form spec; any
problem — YAML syntax, an unknown key, type, field, function or placeholder — is
refused with ``CatalogueError`` naming the file, the rule id and the reason, before
any workbook is read.

``each`` repeats a rule over rows: ``each: grid:fees`` (the rows of a grid) or a
list of ids; ``{row}`` and ``{row_label}`` are substituted in its parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import os_reason
from ..form.spec import FormSpec, SpecError, default_spec, templates_dir
from ..form.yamlfile import MALFORMED, load_yaml_text
from ..results import SEVERITIES
from . import builtin, claims, copied, declared, formulas, plausibility  # noqa: F401 — registers the built-in rule types
from .expr import Compiler
from .types import TYPES, CheckRule, Rule, RuleInfo

_CJK = re.compile("[\u4e00-\u9fff]")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_COMMON_KEYS = ("id", "severity", "title", "type", "each", "scope")


class CatalogueError(SpecError):
    """The rule catalogue is malformed: names the file, the rule id and the reason."""

    def __init__(self, path: object, rule_id: str, reason: str):
        self.path = str(path)
        self.rule_id = rule_id
        self.reason = reason
        where = f"{self.path}: 规则 {rule_id}" if rule_id else self.path
        super().__init__(f"{where}: {reason}")


@dataclass
class Catalogue:
    """A compiled catalogue: rules for one workbook and cross-year rules, in file order."""

    path: Path
    spec: FormSpec
    title: str
    rules: list[Rule] = field(default_factory=list)
    previous_rules: list[Rule] = field(default_factory=list)
    infos: list[RuleInfo] = field(default_factory=list)  # one per catalogue entry (for docs)

    @property
    def rule_ids(self) -> list[str]:
        return [i.id for i in self.infos if i.scope == "current"]

    @property
    def previous_rule_ids(self) -> list[str]:
        return [i.id for i in self.infos if i.scope == "previous"]


def default_rules_path(spec: FormSpec | None = None) -> Path:
    """The rules.yaml of ``spec``'s pack (its edition), or of the default pack."""
    if spec is not None:
        from ..form.packs import find_pack

        pack = find_pack(spec.form_id, spec.version)
        if pack is not None and pack.spec.source == spec.source:
            return pack.rules_path
        if spec.source is not None and (Path(spec.source).parent / "rules.yaml").is_file():
            return Path(spec.source).parent / "rules.yaml"
    return templates_dir() / "rules.yaml"


def _rows(each: Any, compiler: Compiler, fail) -> list[tuple[str, str]]:
    if isinstance(each, str) and each.startswith("grid:"):
        grid = each[5:]
        if grid not in compiler.grids:
            raise fail(f"each 指向未知的表 {grid!r}")
        return [(r.id, r.label) for r in compiler.grids[grid].grid_rows]
    if isinstance(each, list) and each and all(isinstance(x, (str, int)) for x in each):
        return [(str(x), str(x)) for x in each]
    raise fail("each 应为 grid:<表id> 或 id 列表")


def _substitute(node: Any, row: str, label: str) -> Any:
    if isinstance(node, str):
        return node.replace("{row}", row).replace("{row_label}", label)
    if isinstance(node, list):
        return [_substitute(x, row, label) for x in node]
    if isinstance(node, dict):
        return {_substitute(k, row, label): _substitute(v, row, label) for k, v in node.items()}
    return node


def load_catalogue(path: Path | str | None = None, spec: FormSpec | None = None) -> Catalogue:
    """Load and compile a rule catalogue (default: the rules.yaml of ``spec``'s pack, or of the default pack).

    Raises ``CatalogueError`` (file, rule id, reason) when anything is malformed.
    """
    path = Path(path) if path else default_rules_path(spec)
    spec = spec or default_spec()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(path, "", f"无法读取规则文件（{os_reason(exc)}）") from None
    try:
        root = load_yaml_text(text)  # alias, depth and size limits
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        raise CatalogueError(path, "", f"YAML 语法错误 {where}：{getattr(exc, 'problem', exc)}") from None
    if not isinstance(root, dict) or not isinstance(root.get("rules"), list) or not root["rules"]:
        raise CatalogueError(path, "", "应包含非空的 rules 列表")
    meta = root.get("catalogue") or {}
    compiler = Compiler(spec)
    cat = Catalogue(path=path, spec=spec, title=str(meta.get("title", "")) if isinstance(meta, dict) else "")
    seen: set[str] = set()
    for i, node in enumerate(root["rules"]):
        rid = str(node.get("id", "")) if isinstance(node, dict) else ""
        label = rid or f"rules[{i}]"

        def fail(reason: str, label: str = label) -> CatalogueError:
            return CatalogueError(path, label, reason)

        if not isinstance(node, dict):
            raise fail("应为键值映射")
        if not _ID.match(rid):
            raise fail("缺少 id，或 id 不合规（小写字母、数字、下划线，用点分段，如 budget.balance）")
        if rid in seen:
            raise fail("id 重复")
        seen.add(rid)
        try:
            _compile_entry(cat, node, rid, spec, compiler, fail)
        except MALFORMED as exc:
            # a parameter of the wrong YAML type (a mapping where a field id belongs …) that
            # no check of its type caught: still the rule and the file, never a traceback
            said = str(exc) if _CJK.search(str(exc)) else ""
            raise fail(
                f"参数的写法或类型有误{f'（{said}）' if said else ''}，请对照 docs/rules.md 中该类型的写法"
            ) from None
    return cat


def _compile_entry(cat: Catalogue, node: dict[str, Any], rid: str, spec: FormSpec, compiler: Compiler, fail) -> None:
    severity = node.get("severity")
    if severity not in SEVERITIES:
        raise fail(f"severity 应为 {' / '.join(SEVERITIES)}")
    title = node.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("缺少 title（规则含义，中文）")
    rtype = node.get("type", "check")
    if not isinstance(rtype, str) or rtype not in TYPES:
        raise fail(f"未知规则类型 {rtype!r}（可选：{', '.join(TYPES)}）")
    tdef = TYPES[rtype]
    params = {k: v for k, v in node.items() if k not in _COMMON_KEYS}
    unknown = [k for k in params if k not in tdef.params]
    if unknown:
        raise fail(f"未知参数 {', '.join(map(str, unknown))}（{rtype} 类型可用：{', '.join(tdef.params)}）")
    absent = [k for k in tdef.required if params.get(k) is None]
    if absent:
        raise fail(f"缺少参数 {', '.join(absent)}")
    rows = _rows(node["each"], compiler, fail) if "each" in node else [None]
    built: list[Rule] = []
    for row in rows:
        p = _substitute(params, *row) if row else params
        info = RuleInfo(rid, severity, title.strip(), rtype, gate=bool(p.get("gate", False)))
        rule = tdef.build(info, p, spec, compiler, fail)
        built.append(rule)
    scope = "previous" if any(_reads_previous(r) for r in built) else "current"
    if node.get("scope") not in (None, scope):
        raise fail(f"scope 应为 {scope}（由规则是否引用 prev. 决定）")
    if any(r.info.gate for r in built) and scope != "previous":
        raise fail("gate 只适用于跨年度规则（引用 prev. 的规则）")
    for rule in built:
        rule.info = RuleInfo(rid, severity, title.strip(), rtype, scope, rule.info.gate)
    (cat.previous_rules if scope == "previous" else cat.rules).extend(built)
    cat.infos.append(built[0].info)


def _reads_previous(rule: Rule) -> bool:
    if isinstance(rule, CheckRule):
        return bool(rule.prev_fields)
    if getattr(rule, "reads_previous", False):
        return True
    refs = [getattr(rule, "actual", ""), getattr(rule, "plan", "")]
    return any(isinstance(r, str) and r.startswith("prev.") for r in refs)
