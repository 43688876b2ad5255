"""The README's rule tables, generated from the catalogue and the type registry."""

from __future__ import annotations

from ..results import SEVERITY_LABELS
from .catalogue import Catalogue
from .types import TYPES


def rule_table(catalogue: Catalogue) -> list[dict[str, str]]:
    """One row per catalogue entry: id, severity, meaning (the rule's title), type, scope."""
    return [
        {"id": i.id, "severity": i.severity, "meaning": i.title, "type": i.type, "scope": i.scope}
        for i in catalogue.infos
    ]


def rule_table_markdown(catalogue: Catalogue) -> str:
    """The rule list as a Markdown table (written into the README's check section)."""
    lines = ["| 规则 id | 级别 | 含义 |", "| --- | --- | --- |"]
    for row in rule_table(catalogue):
        sev = f"{row['severity']}（{SEVERITY_LABELS[row['severity']]}）"
        meaning = row["meaning"] + ("（跨年度）" if row["scope"] == "previous" else "")
        lines.append(f"| `{row['id']}` | {sev} | {meaning} |")
    return "\n".join(lines)


def rule_types_markdown() -> str:
    """The registered rule types with their parameters."""
    lines = ["| 类型 | 参数 | 说明 |", "| --- | --- | --- |"]
    for t in TYPES.values():
        params = ", ".join(f"`{p}`" for p in t.params) or "—"
        lines.append(f"| `{t.name}` | {params} | {t.doc} |")
    return "\n".join(lines)
