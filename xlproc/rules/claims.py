"""The ``text_claim`` rule type: what the department wrote, checked against its figures.

A 说明 text can claim what the figures deny: 扣分0 beside 部分指标未完成, “三公”经费
从严控制 beside a rise, 足额上缴 beside a shortfall, 无新增资产 beside a new-asset
budget, 不存在政府采购 beside signed contracts. A ``text_claim`` rule names the free-text
fields (or table columns) to read, a ``pattern`` (a regular expression; ``unless``
excludes texts that merely deny, such as 无), and a ``when`` condition on the figures
in the rule language of ``check``; when the figures certainly satisfy ``when`` and a
text matches, the finding is shown at the text's cell, quoting what matched.

Message placeholders: ``{label}`` (the text's label), ``{match}`` (the words that
matched) and any ``{<field id>}`` / ``{<field id>.label}`` as in ``check``.
"""

from __future__ import annotations

import re
from typing import Any

from ..form.spec import FormSpec
from ..results import CellRef, Finding
from .builtin import field_list
from .context import Context
from .expr import Compiled, Compiler, ExprError, Missing, Skip
from .intervals import Undefined
from .messages import checked_message, field_placeholder_ok, render
from .types import Rule, RuleInfo, _shown, blank_policy, register

_NAMES = ("label", "match")
_MAX_TEXT = 20_000  # characters of one text searched (a pasted essay costs no more than this)


class TextClaimRule(Rule):
    def __init__(
        self,
        info: RuleInfo,
        texts: list[str],
        pattern: re.Pattern[str],
        unless: re.Pattern[str] | None,
        when: Compiled | None,
        message: str,
    ):
        self.info = info
        self.texts = texts
        self.pattern = pattern
        self.unless = unless
        self.when = when
        self.message = message
        self.fields = list(when.fields) if when is not None else []

    def run(self, ctx: Context, out: list[Finding]) -> None:
        if self.when is not None:
            try:
                if self.when.fn(ctx) is not True:
                    return
            except (Skip, Undefined, Missing):
                return
        for ref, label, cell, text in self._texts(ctx):
            text = text[:_MAX_TEXT]
            if self.unless is not None and self.unless.search(text):
                continue
            m = self.pattern.search(text)
            if m is None:
                continue
            matched = " ".join(m.group(0).split())[:40]
            out.append(self._finding(ctx, ref, label, cell, matched))

    def _texts(self, ctx: Context) -> list[tuple[str, str, CellRef, str]]:
        found = []
        for ref in self.texts:
            if "." in ref:
                table_id, column = ref.split(".", 1)
                td = ctx.sub.tables.get(table_id)
                if td is None:
                    continue
                col_label = td.spec.column(column).label
                for n, row in enumerate(td.rows, 1):
                    value = row.get(column)
                    if isinstance(value, str) and value.strip():
                        label = f"{td.spec.label}第{n}项{col_label}"
                        found.append((ref, label, CellRef(td.sheet, td.cell(row["row"], column)), value))
            else:
                fv = ctx.fields.get(ref)
                if fv is not None and isinstance(fv.value, str) and fv.value.strip():
                    found.append((ref, _label(ctx, ref), CellRef(fv.sheet, fv.cell), fv.value))
        return found

    def _finding(self, ctx: Context, ref: str, label: str, cell: CellRef, matched: str) -> Finding:
        names = {"label": label, "match": matched}

        def lookup(name: str) -> str:
            if name in names:
                return names[name]
            if name.endswith(".label"):
                return ctx.spec.fields[name[:-6]].label
            return _shown(ctx, name) or "（空）"

        cells = [cell] + [ctx.cell_of(f) for f in self.fields if f in ctx.fields]
        labels = [label] + [ctx.spec.fields[f].label for f in self.fields if f in ctx.spec.fields]
        operands: dict[str, Any] = {"text": ref, "match": matched}
        for fid in self.fields:
            operands[fid] = _shown(ctx, fid)
        return self.finding(ctx, render(self.message, lookup), cells, labels, actual=matched, operands=operands)


def _label(ctx: Context, field_id: str) -> str:
    """The field's label, with its sheet when other fields share it (several are just 说明)."""
    fs = ctx.spec.fields[field_id]
    return f"{ctx.fields[field_id].sheet}·{fs.label}" if fs.label in ctx.spec.shared_labels else fs.label


def _regex(value: Any, key: str, fail) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(f"{key} 应为非空的正则表达式文本")
    try:
        return re.compile(value)
    except re.error as exc:
        raise fail(f"{key} 不是有效的正则表达式：{exc}") from None


@register(
    "text_claim",
    params=("text", "pattern", "unless", "when", "blank", "message"),
    required=("text", "pattern", "message"),
    doc="文字说明与数字不符：when 条件对数字成立时，text 所列说明文字（字段或 表格.列）中出现 pattern（正则）"
    "即提示（unless 匹配的文字除外），消息中 {match} 为匹配到的文字",
)
def build_text_claim(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    texts = field_list(spec, params["text"], "text", fail)
    if not texts:
        raise fail("text 应列出至少一个文字字段")
    for ref in texts:
        if "." in ref:
            table_id, column = ref.split(".", 1)
            ctype = spec.tables[table_id].column(column).type
        else:
            ctype = spec.fields[ref].type
        if ctype not in ("text", "longtext"):
            raise fail(f"text 中的 {ref!r} 不是文字栏（类型 {ctype}）")
    pattern = _regex(params["pattern"], "pattern", fail)
    unless = _regex(params.get("unless"), "unless", fail)
    policy = blank_policy(params.get("blank"), spec, fail)
    try:
        when = compiler.compile(str(params["when"]), policy) if params.get("when") is not None else None
    except ExprError as exc:
        raise fail(str(exc)) from None
    message = checked_message(
        params["message"],
        lambda n: n in _NAMES or field_placeholder_ok(n, spec.fields, ()),
        fail,
        f"（可用：{', '.join(_NAMES)}、字段 id）",
    )
    assert pattern is not None
    return TextClaimRule(info, texts, pattern, unless, when, message)
