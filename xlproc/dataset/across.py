"""Checks across departments: rules the catalogue declares under ``across:``.

They run over the district dataset after every workbook has been checked on its own,
and compare a department with its peers or with its own figures of last year:

``peer_outlier``  a figure (a field, or a ratio of two fields) far from the other
                  departments' on a robust scale: the modified z-score
                  0.6745 × (x − median) / MAD (Iglewicz & Hoaglin); when the MAD is 0,
                  (x − median) / (1.2533 × mean absolute deviation). Needs at least
                  ``min_departments`` departments with the figure. ``log: true``
                  compares logarithms: right for amounts and per-head ratios, whose
                  spread is multiplicative (twice the median is as far as half of it).
``year_change``   a figure that moved by more than ``factor`` times (up or down) from
                  last year, while the note field that should explain it is blank.

Findings are per department, severity ``info`` or ``warning`` (never ``error``: a
department cannot fix its peers), and each names the peer median and the department's
position among them. Loading is standard library + YAML, so batch workers can ask which
fields to locate without importing pandas.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError
from ..form.memo import memo
from ..form.spec import FormSpec
from ..form.yamlfile import load_yaml_text
from .record import decode

TYPES = ("peer_outlier", "year_change")
SEVERITIES = ("info", "warning")
_KEYS = {
    "common": {"id", "severity", "title", "type", "figure", "label", "unit", "note", "min_departments"},
    "peer_outlier": {"threshold", "direction", "log"},
    "year_change": {"factor", "min_base"},
}
_TWO = Decimal("0.01")


class AcrossRuleError(SpecError, ValueError):
    """A malformed ``across:`` rule: names the file, the rule and the reason (Chinese).

    A SpecError like every other pack file's error (the CLI and the portal say it without a
    traceback); still a ValueError for callers that caught it as one."""

    def __init__(self, path: object, rule_id: str, reason: str):
        self.path, self.rule_id, self.reason = str(path), rule_id, reason
        super().__init__(f"{path}: 跨部门规则 {rule_id or '（未命名）'}: {reason}")


@dataclass(frozen=True)
class AcrossRule:
    """One declared check across departments."""

    id: str
    severity: str
    title: str
    type: str
    numerator: str  # the figure: a field, or numerator / denominator (× scale)
    denominator: str = ""
    scale: Decimal = Decimal(1)
    label: str = ""
    unit: str = ""
    note: str = ""  # a field whose text explains the figure
    min_departments: int = 5
    threshold: Decimal = Decimal("3.5")
    direction: str = "both"  # high | low | both
    log: bool = False  # compare logarithms (amounts and ratios spread multiplicatively); needs x > 0
    factor: Decimal = Decimal(2)
    min_base: Decimal = Decimal(0)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.numerator, self.denominator) if f)

    def figure(self, values: dict[str, Any]) -> Decimal | None:
        """The figure from a department's values (None when it cannot be formed)."""
        num = values.get(self.numerator)
        if not isinstance(num, Decimal):
            return None
        if not self.denominator:
            return num * self.scale
        den = values.get(self.denominator)
        if not isinstance(den, Decimal) or den == 0:
            return None
        return num / den * self.scale


def _decimal(node: Any, path: Path, rid: str, key: str) -> Decimal:
    try:
        value = Decimal(str(node))
    except InvalidOperation:
        raise AcrossRuleError(path, rid, f"{key} 应为数字，而不是 {node!r}") from None
    if not value.is_finite() or value < 0:
        raise AcrossRuleError(path, rid, f"{key} 应为非负数字")
    return value


def parse_rules(root: Any, path: Path, spec: FormSpec) -> tuple[AcrossRule, ...]:
    """The ``across:`` list of a catalogue document, validated against the form spec."""
    nodes = root.get("across") if isinstance(root, dict) else None
    if nodes is None:
        return ()
    if not isinstance(nodes, list):
        raise AcrossRuleError(path, "", "across 应为规则列表")
    rules: list[AcrossRule] = []
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        rid = str(node.get("id", "")) if isinstance(node, dict) else ""
        if not isinstance(node, dict) or not rid:
            raise AcrossRuleError(path, f"across[{i}]", "每条规则应为带 id 的键值映射")
        if rid in seen:
            raise AcrossRuleError(path, rid, "id 重复")
        seen.add(rid)
        rtype = node.get("type")
        if rtype not in TYPES:
            raise AcrossRuleError(path, rid, f"type 应为 {' / '.join(TYPES)} 之一")
        unknown = set(node) - _KEYS["common"] - _KEYS[rtype]
        if unknown:
            raise AcrossRuleError(path, rid, f"未知参数 {', '.join(sorted(map(str, unknown)))}")
        severity = node.get("severity", "warning")
        if severity not in SEVERITIES:
            raise AcrossRuleError(
                path, rid, "跨部门核对的级别只能是 info 或 warning（其他部门的数据不是本部门能改正的）"
            )
        numerator, denominator, scale = _figure(node.get("figure"), path, rid)
        for fid in (numerator, denominator, node.get("note") or ""):
            if fid and fid not in spec.fields:
                raise AcrossRuleError(path, rid, f"表单中没有字段 {fid}")
        for fid in (numerator, denominator):
            if fid and not spec.fields[fid].is_numeric:
                raise AcrossRuleError(path, rid, f"字段 {fid} 不是数字")
        direction = node.get("direction", "both")
        if direction not in ("high", "low", "both"):
            raise AcrossRuleError(path, rid, "direction 应为 high / low / both")
        min_deps = node.get("min_departments", 5)
        if not isinstance(min_deps, int) or min_deps < 3:
            raise AcrossRuleError(path, rid, "min_departments 应为不小于 3 的整数")
        rules.append(
            AcrossRule(
                id=rid,
                severity=severity,
                title=str(node.get("title", "")),
                type=rtype,
                numerator=numerator,
                denominator=denominator,
                scale=scale,
                label=str(node.get("label") or spec.fields[numerator].label),
                unit=str(node.get("unit", spec.fields[numerator].unit if not denominator else "")),
                note=str(node.get("note") or ""),
                min_departments=min_deps,
                threshold=_decimal(node.get("threshold", "3.5"), path, rid, "threshold"),
                direction=direction,
                log=bool(node.get("log", False)),
                factor=_decimal(node.get("factor", 2), path, rid, "factor"),
                min_base=_decimal(node.get("min_base", 0), path, rid, "min_base"),
            )
        )
        if rules[-1].type == "year_change" and rules[-1].factor <= 1:
            raise AcrossRuleError(path, rid, "factor 应大于 1")
    return tuple(rules)


def _figure(node: Any, path: Path, rid: str) -> tuple[str, str, Decimal]:
    if isinstance(node, str):
        return node, "", Decimal(1)
    if isinstance(node, dict) and len(node) == 1:
        ((op, args),) = node.items()
        if op in ("ratio", "ratio_pct") and isinstance(args, list) and len(args) == 2:
            return str(args[0]), str(args[1]), Decimal(100 if op == "ratio_pct" else 1)
    raise AcrossRuleError(path, rid, "figure 应为字段编号，或 {ratio: [分子, 分母]} / {ratio_pct: [分子, 分母]}")


def load_rules(path: Path, spec: FormSpec) -> tuple[AcrossRule, ...]:
    """The ``across:`` rules of the catalogue file at ``path`` (empty when it has none), once per spec and file."""

    def load() -> tuple[AcrossRule, ...]:
        try:  # the same limits and C parser as every other pack file
            root = load_yaml_text(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise AcrossRuleError(path, "", f"无法读取规则文件：{exc}") from None
        return parse_rules(root, Path(path), spec)

    return memo(spec, ("across_rules", str(path)), load)


def locate_fields(rules: tuple[AcrossRule, ...]) -> tuple[str, ...]:
    """Fields whose cells the per-file records keep (where a finding is shown)."""
    return tuple(dict.fromkeys(r.numerator for r in rules))


def previous_fields(rules: tuple[AcrossRule, ...]) -> tuple[str, ...]:
    """Fields of last year's workbooks the year-on-year rules compare."""
    return tuple(dict.fromkeys(f for r in rules if r.type == "year_change" for f in r.fields))


def _q(value: Decimal) -> str:
    return f"{value.quantize(_TWO, rounding=ROUND_HALF_UP):,}"


def _median_mad(values: list[Decimal]) -> tuple[Decimal, Decimal]:
    """Median and the robust scale (MAD / 0.6745, or 1.2533 × mean absolute deviation when the MAD is 0)."""
    med = Decimal(statistics.median(values))
    dev = [abs(v - med) for v in values]
    mad = Decimal(statistics.median(dev))
    if mad:
        return med, mad / Decimal("0.6745")
    return med, sum(dev, Decimal(0)) / len(dev) * Decimal("1.2533")


def _position(value: Decimal, ordered: list[Decimal]) -> int:
    """1 = the highest; ``ordered``: every department's figure, ascending."""
    return 1 + len(ordered) - bisect.bisect_right(ordered, value)


def run_across(rules: tuple[AcrossRule, ...], dataset: Any, spec: FormSpec) -> list[dict[str, Any]]:
    """Findings (dicts like a batch's compact findings, plus department and source)."""
    if not rules:
        return []
    counted = [e for e in dataset.entries if e.counted]
    kinds = {fid: f.type for fid, f in spec.fields.items()}

    def values_of(record_fields: dict[str, str], wanted: tuple[str, ...]) -> dict[str, Any]:
        return {f: decode(record_fields.get(f), kinds[f]) for f in wanted}

    out: list[dict[str, Any]] = []
    for rule in rules:
        wanted = (*rule.fields, *((rule.note,) if rule.note else ()))
        rows = []
        for e in counted:
            now = values_of(e.record["fields"], wanted)  # type: ignore[index]
            fig = rule.figure(now)
            if rule.type == "year_change":
                before = rule.figure(values_of(e.previous or {}, rule.fields)) if e.previous else None
                if fig is None or before is None or before <= 0 or before < rule.min_base:
                    continue
                rows.append((e, fig / before, fig, before, now))
            elif fig is not None:
                rows.append((e, fig, fig, None, now))
        if len(rows) < rule.min_departments:
            continue
        figures = [r[1] for r in rows]
        med = Decimal(statistics.median(figures))
        if rule.type == "peer_outlier" and rule.log:
            rows = [r for r in rows if r[1] > 0]
            if len(rows) < rule.min_departments:
                continue
            center, scale = _median_mad([r[1].ln() for r in rows])
        elif rule.type == "peer_outlier":
            center, scale = _median_mad(figures)
        ordered = sorted(figures)
        for e, x, fig, before, now in rows:
            note = now.get(rule.note) if rule.note else None
            note = str(note).strip() if note else ""
            pos = _position(x, ordered)
            where = f"全区 {len(rows)} 个部门中由高到低第 {pos} 位"
            if rule.type == "peer_outlier":
                if not scale:
                    continue
                z = ((x.ln() if rule.log else x) - center) / scale
                hit = z > rule.threshold if rule.direction == "high" else z < -rule.threshold
                if rule.direction == "both":
                    hit = abs(z) > rule.threshold
                if not hit:
                    continue
                times = f"，为中位数的 {_q(x / med)} 倍" if med > 0 else ""
                message = (
                    f"{rule.label} {_q(x)}{rule.unit}，全区中位数 {_q(med)}{rule.unit}{times}，"
                    f"{where}（稳健偏离度 {_q(z)}，超过 {_q(rule.threshold)}），请核实"
                )
                operands = {"value": str(x), "median": str(med), "position": pos, "departments": len(rows)}
            else:
                if x <= rule.factor and x >= 1 / rule.factor:
                    continue
                if note:
                    continue  # explained in the form's own note field
                note_label = spec.fields[rule.note].label if rule.note else "说明"
                message = (
                    f"{rule.label}本年 {_q(fig)}{rule.unit}，上年 {_q(before)}{rule.unit}，为上年的 {_q(x)} 倍"
                    f"（超过 {_q(rule.factor)} 倍的变动），未在“{note_label}”中说明原因；"
                    f"全区各部门本年与上年之比的中位数为 {_q(med)}，本部门{where}"
                )
                operands = {"value": str(x), "median": str(med), "position": pos, "departments": len(rows)}
            sheet, cell = ((e.record or {}).get("cells") or {}).get(rule.numerator, ["", ""])
            out.append(
                {
                    "department": e.department,
                    "source": e.source,
                    "rule_id": rule.id,
                    "severity": rule.severity,
                    "sheet": sheet,
                    "cell": cell,
                    "message": message,
                    "explanation": "",
                    "explained": False,
                    "across": True,
                    "operands": operands,
                }
            )
    return out
