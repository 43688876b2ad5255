"""The report's wording: the pack's ``wording.yaml``, checked at load, rendered sandboxed.

Every sentence of the narrative report is a Jinja snippet in the pack's wording file;
Python only prepares the data (``facts.py``: values, formatted figures, blank /
unreadable / doubted flags) and numbers the headings. A bureau rewords a sentence,
reorders the sections or adds one by editing YAML.

Body blocks, in order (any block may carry ``when: <Jinja expression>``)::

    - h1: 部门基本情况            # headings, numbered 一、 （一） 1. （1） automatically
    - p: "{{ me }}……{{ f.headcount }}个……"
      needs: [headcount]         # the fields the sentence rests on
      item: 编制情况              # when one is blank: "编制情况未填报。" (or blank: <text> / omit)
    - note: income_note          # the department's own text, verbatim (omitted when blank)
      prefix: "说明："
    - table: tasks               # a table of the form (by id) or of the report, or a chart
    - chart: scores

A snippet's output is split into paragraphs at line breaks. Snippets render in a
sandboxed environment with ``StrictUndefined``; before anything is rendered every tag
is parsed and every variable checked (top-level names, ``f.<field>``, ``grid.<grid>``,
``t.<table>``, ``cat.<category>``) against the form, so a broken tag or an unknown
name is a Chinese error naming the file, the block and the tag — never a silently
shortened report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import XlprocError
from ..form.spec import FormSpec, templates_dir
from ..form.yamlfile import malformed_in, read_yaml
from .facts import MONEY_UNIT, UNFILLED, WORDING_FACT_ATTRS, Fact, GridRow, TableRow
from .formatting import circled, cn_number, fmt_money, fmt_percent, join_cn, round_half_up, share_pct, to_decimal

HEADINGS = ("h1", "h2", "h3", "h4")
OBJECTS = ("table", "chart")
BLOCK_KEYS = {"h1", "h2", "h3", "h4", "p", "note", "table", "chart", "when", "needs", "item", "blank", "prefix"}
# Top-level names every snippet may use (data prepared by context.py, helpers below).
DATA_NAMES = ("f", "grid", "t", "cat", "score", "dept", "year", "prev_year", "me", "draft", "basis", "c")
TABLES = ("scores", "findings")  # tables the report makes; a table of the form is placed by its id
CHARTS = ("scores", "expenditure")


class WordingError(XlprocError):
    """The wording file is malformed: a broken tag, an unknown variable or block."""


# -- helpers the snippets may call --------------------------------------------------------


def _num(x: Any) -> Decimal | None:
    if isinstance(x, Fact):
        return x.num
    return to_decimal(x)


def rate(part: Any, whole: Any) -> Decimal | None:
    """part / whole × 100 (None when either is missing or whole is 0)."""
    return share_pct(_num(part), _num(whole))


def pct(x: Any) -> str:
    """A percentage figure as 87.40% (未填报 when missing)."""
    d = _num(x)
    return UNFILLED if d is None else fmt_percent(d)


def money(x: Any, decimals: int = 2) -> str:
    d = _num(x)
    return UNFILLED if d is None else fmt_money(d, decimals) + MONEY_UNIT


def diff(a: Any, b: Any, decimals: int = 2) -> Decimal | None:
    """a − b on the figures as printed (rounded to ``decimals``)."""
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return None
    return round_half_up(x, decimals) - round_half_up(y, decimals)


def total(items: Any, column: str | None = None) -> Decimal | None:
    """Sum of Facts (or of one column of grid / table rows); None when any is missing."""
    out = Decimal(0)
    for it in items:
        v = getattr(it, column) if column else it
        d = _num(v)
        if d is None:
            return None
        out += d
    return out


def join(items: Any, sep: str = "、") -> str:
    return join_cn([str(i) for i in items if str(i)], sep)


def covered(rows: Any, big: str, small: str) -> bool:
    """Every row has both figures entered and ``row.<big> >= row.<small>`` (e.g. actual ≥ plan)."""
    seen = False
    for r in rows:
        a, b = _num(getattr(r, big)), _num(getattr(r, small))
        if a is None or b is None or a < b:
            return False
        seen = True
    return seen


def over(rows: Any, big: str, small: str) -> list[Any]:
    """The rows whose ``<big>`` exceeds ``<small>`` (both entered)."""
    out = []
    for r in rows:
        a, b = _num(getattr(r, big)), _num(getattr(r, small))
        if a is not None and b is not None and a > b:
            out.append(r)
    return out


HELPERS = {
    "rate": rate,
    "pct": pct,
    "money": money,
    "diff": diff,
    "total": total,
    "join": join,
    "covered": covered,
    "over": over,
    "circled": circled,
    "cn_number": cn_number,
    "abs": abs,
}


# -- the wording file ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """One compiled piece of wording and where it came from (for messages)."""

    where: str
    source: str
    template: Any
    expression: Any = None  # ``when``: a compiled expression

    def test(self, path: Path, ctx: dict[str, Any]) -> bool:
        """Evaluate a ``when`` condition (Facts are true when entered and not empty)."""
        try:
            tmpl = self.expression._template
            context = _context(tmpl, ctx)
            for _ in tmpl.root_render_func(context):
                pass
            return bool(context.vars["result"])
        except TemplateError as exc:
            raise WordingError(
                f"报告措辞 {path}：{self.where} 条件求值失败：{exc}（{self.source.strip()[:60]}）"
            ) from exc
        except (TypeError, ArithmeticError, ValueError, AttributeError) as exc:
            raise WordingError(
                f"报告措辞 {path}：{self.where} 条件求值失败（{type(exc).__name__}: {exc}）（{self.source.strip()[:60]}）"
            ) from exc

    def render(self, path: Path, ctx: dict[str, Any]) -> str:
        if self.template is None:  # plain text: no tag to render (most headings)
            return self.source.removesuffix("\n")  # as Jinja does without keep_trailing_newline
        tmpl = self.template
        try:
            # A shared context: no copy of the data and the globals per sentence (render()
            # would make both); the data dict is never written to by a template.
            return tmpl.environment.concat(tmpl.root_render_func(_context(tmpl, ctx)))  # type: ignore[attr-defined]
        except TemplateError as exc:
            raise WordingError(f"报告措辞 {path}：{self.where} 渲染失败：{exc}（{self.source.strip()[:60]}）") from exc
        except (TypeError, ArithmeticError, ValueError, AttributeError) as exc:
            raise WordingError(
                f"报告措辞 {path}：{self.where} 渲染失败（{type(exc).__name__}: {exc}）。"
                f"比较或计算数字前请先用 needs 或 .ok 判断是否已填报（{self.source.strip()[:60]}）"
            ) from exc

    def render_with(self, path: Path, ctx: dict[str, Any], extra: dict[str, Any]) -> str:
        """Render with ``extra`` names added for this snippet only (a category's ``c``, a
        blank block's ``item`` …). On the report's ``RenderData`` they are set and taken
        off again, so the shared context serves (no merged copy of the data and no
        context of its own per call); any other dict is merged as before."""
        if type(ctx) is not RenderData:
            return self.render(path, {**ctx, **extra})
        saved = {k: ctx[k] for k in extra if k in ctx}
        ctx.update(extra)
        try:
            return self.render(path, ctx)
        finally:
            for k in extra:
                if k in saved:
                    ctx[k] = saved[k]
                else:
                    del ctx[k]


@dataclass(frozen=True)
class BlockDef:
    kind: str  # h1..h4 | p | note | table | chart
    where: str
    text: Snippet | None = None
    when: Snippet | None = None
    needs: tuple[str, ...] = ()
    item: str = ""
    blank: Snippet | None = None
    omit_if_blank: bool = False
    field_id: str = ""  # note
    prefix: Snippet | None = None
    name: str = ""  # table / chart


@dataclass(frozen=True)
class Wording:
    path: Path
    self_name: str
    names: dict[str, str]
    scores: dict[str, str]
    charts: dict[str, dict[str, str]]
    title: tuple[Snippet, ...]
    opening: Snippet
    body: tuple[BlockDef, ...]
    signoff: tuple[Snippet, ...]
    texts: dict[str, Snippet] = field(default_factory=dict)  # result, blank, unreadable, findings …


class RenderData(dict):
    """The data of one report merged with the environment's globals (helpers), once.

    Snippets render with a shared context over it (``Snippet.render``); a plain dict
    passed instead is merged with the globals on each call. Call ``release`` when the
    report is rendered.
    """

    def release(self) -> None:
        """Drop the Jinja context kept for the snippets. It refers back to this dict, a
        reference cycle that would leave the report's data (every Fact and row) to the
        cyclic garbage collector instead of freeing it at once."""
        self.__dict__.pop("context", None)


def _full(env: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    return ctx if type(ctx) is RenderData else {**env.globals, **ctx}


def _context(tmpl: Any, ctx: dict[str, Any]) -> Any:
    """The Jinja context a snippet renders in: shared over the report's data, and one object
    reused for every snippet of a report (its variables cleared), which saves building a
    context per sentence. A template with blocks gets a fresh one, as Jinja makes it."""
    if tmpl.blocks or type(ctx) is not RenderData:  # a one-off dict: a context of its own
        return tmpl.new_context(_full(tmpl.environment, ctx), shared=True)
    context = ctx.__dict__.get("context")
    if context is None or context.environment is not tmpl.environment:
        context = ctx.context = tmpl.new_context(ctx, shared=True)
    else:  # what a render leaves behind: {% set %} / {% macro %} names and the eval state
        if context.vars:
            context.vars.clear()
        if context.exported_vars:
            context.exported_vars.clear()
        eval_ctx = context.eval_ctx
        # a fresh eval state only when a render changed it ({% autoescape %}, a volatile
        # expression); snippets have no name, so an unchanged one is the one Jinja would make
        if eval_ctx.volatile or eval_ctx.autoescape is not tmpl.environment.autoescape or tmpl.name is not None:
            context.eval_ctx = EvalContext(tmpl.environment, tmpl.name)
    return context


def render_data(data: dict[str, Any]) -> RenderData:
    """``data`` with the wording environment's helpers, ready for many snippets."""
    return RenderData({**_ENV_GLOBALS, **data})


class WordingEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with a fast path for the report's own data objects.

    Every ``f.x`` / ``row.x`` / ``c.x`` in a snippet goes through the sandbox's attribute
    check, several isinstance tests each — the larger part of rendering a report. For
    the data types Python prepares (``Fact``, grid and table rows, categories, plain
    dicts of them) the attributes a snippet may read are registered in advance
    (``allow_attributes``): those, and a plain dict's keys, are returned directly;
    anything else (a method, an underscore name, another type) takes the sandbox's full
    check as before. The report's docx template renders in this environment too.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            if attribute in obj:
                return obj[attribute]
        else:
            value = _data_attribute(obj, attribute)
            if value is not _NOT_DATA:
                return value
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if type(argument) is str:  # row["amount"], attrgetter in select filters
            value = _data_attribute(obj, argument)
            if value is not _NOT_DATA:
                return value
        return super().getitem(obj, argument)


_NOT_DATA = object()


def _data_attribute(obj: Any, name: str) -> Any:
    """``obj.name`` when it is a registered data attribute (or a grid row's cell), else ``_NOT_DATA``."""
    cls = type(obj)
    names = _FAST.get(cls)
    if names is None:
        return _NOT_DATA
    if name in names:
        return getattr(obj, name)
    cells = obj.__dict__.get("cells") if cls in _ROWS else None
    if cells is not None and name in cells:
        return cells[name]
    return _NOT_DATA


_FAST: dict[type, frozenset[str]] = {}
_ROWS: set[type] = set()


def allow_attributes(cls: type, names: Any, rows: bool = False) -> None:
    """Let snippets read these (data) attributes of ``cls`` without the per-access check.

    ``rows``: instances hold a ``cells`` dict whose keys are attributes too (grid rows).
    Only plain data and side-effect-free properties may be listed, never a method.
    """
    names = frozenset(names)
    bad = sorted(n for n in names if n.startswith("_") or callable(getattr(cls, n, None)))
    if bad:
        raise ValueError(f"{cls.__name__}: not data attributes: {bad}")
    _FAST[cls] = names
    if rows:
        _ROWS.add(cls)


allow_attributes(Fact, WORDING_FACT_ATTRS)
allow_attributes(GridRow, ("id", "label", "cells"), rows=True)
allow_attributes(TableRow, ("id", "label", "cells", "no"), rows=True)
# ``loop.index`` / ``loop.last`` …: the properties the sandbox would allow anyway (no method)
allow_attributes(
    LoopContext,
    ("index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0", "previtem", "nextitem"),
)


def _env() -> ImmutableSandboxedEnvironment:
    env = WordingEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(HELPERS)
    env.filters.update({"pct": pct, "money": money, "join": join})
    return env


_ENV_GLOBALS = dict(_env().globals)

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


class _Checker:
    """Parse and validate every snippet against the form before anything renders."""

    def __init__(self, path: Path, spec: FormSpec, grids: set[str]):
        self.path, self.spec, self.grids = path, spec, grids
        self.env = _env()
        self.cats = {c.id for c in spec.rubric.categories}

    def fail(self, where: str, what: str) -> WordingError:
        return WordingError(f"报告措辞 {self.path}：{where} {what}")

    def compile(self, source: Any, where: str, extra: tuple[str, ...] = ()) -> Snippet:
        if not isinstance(source, str):
            raise self.fail(where, "应为文本")
        try:
            tree = self.env.parse(source)
        except TemplateSyntaxError as exc:
            tag = self._tag_near(source, exc.lineno)
            raise self.fail(where, f"的模板标签有误：{exc.message}（标签：{tag}）") from exc
        allowed = set(DATA_NAMES) | set(HELPERS) | set(extra) | {"loop", "range", "true", "false", "none"}
        assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        for n in tree.find_all(nodes.Name):
            if n.ctx == "load" and n.name not in allowed and n.name not in assigned:
                raise self.fail(where, f"使用了未知的变量 {n.name}（标签：{self._tag_with(source, n.name)}）")
        for g in tree.find_all(nodes.Getattr):
            if isinstance(g.node, nodes.Name):
                self._check_attr(source, where, g.node.name, g.attr, assigned)
        if not any(mark in source for mark in ("{{", "{%", "{#")):
            return Snippet(where, source, None)
        # compiled from the tree just checked: the source is not parsed a second time
        template = self.env.template_class.from_code(self.env, self.env.compile(tree), self.env.make_globals(None))
        return Snippet(where, source, template)

    def condition(self, source: Any, where: str) -> Snippet:
        """A ``when`` expression: checked like a tag, compiled as an expression."""
        if not isinstance(source, str):
            raise self.fail(where, "应为条件表达式文本")
        checked = self.compile(f"{{{{ ({source}) }}}}", where)
        try:
            expression = self.env.compile_expression(source, undefined_to_none=False)
        except TemplateSyntaxError as exc:
            raise self.fail(where, f"的条件表达式有误：{exc.message}（{source[:60]}）") from exc
        return Snippet(where, source, checked.template, expression)

    def _check_attr(self, source: str, where: str, obj: str, attr: str, assigned: set[str]) -> None:
        if obj in assigned:
            return
        known = {"f": self.spec.fields, "grid": self.grids, "t": self.spec.tables, "cat": self.cats}.get(obj)
        if known is not None and attr not in known:
            what = {"f": "字段", "grid": "表格区域", "t": "明细表", "cat": "考核类别"}[obj]
            raise self.fail(where, f"引用了表中不存在的{what} {obj}.{attr}（标签：{self._tag_with(source, attr)}）")

    def _tag_near(self, source: str, lineno: int | None) -> str:
        """The tag a syntax error is in: on its line, the first tag left open or not parseable alone."""
        lines = source.splitlines() or [source]
        line = lines[min(max((lineno or 1) - 1, 0), len(lines) - 1)]
        openers = [m.start() for m in re.finditer(r"\{[{%#]", line)]
        for i, start in enumerate(openers):
            closer = {"{": "}}", "%": "%}", "#": "#}"}[line[start + 1]]
            end = line.find(closer, start + 2)
            following = openers[i + 1] if i + 1 < len(openers) else len(line)
            if end < 0 or end > following:  # never closed before the next tag opens
                return line[start:following].strip()[:80]
            tag = line[start : end + 2]
            if tag.startswith("{{"):
                try:
                    self.env.parse(tag)
                except TemplateSyntaxError:
                    return tag[:80]
        tags = _TAG.findall(line)
        return (tags[0] if tags else line.strip())[:80]

    @staticmethod
    def _tag_with(source: str, name: str) -> str:
        for tag in _TAG.findall(source):
            if re.search(rf"\b{re.escape(name)}\b", tag):
                return tag[:80]
        return name

    def field_ref(self, ref: Any, where: str) -> str:
        if not isinstance(ref, str) or not (ref in self.spec.fields or ref in self.spec.tables):
            raise self.fail(where, f"引用了表中不存在的字段 {ref!r}")
        return ref


def _mapping(node: Any, key: str, path: Path) -> dict[str, Any]:
    value = node.get(key, {})
    if not isinstance(value, dict):
        raise WordingError(f"报告措辞 {path}：{key} 应为键值映射")
    return value


def _lines(node: Any, key: str, path: Path) -> list[Any]:
    value = node.get(key)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        raise WordingError(f"报告措辞 {path}：缺少 {key}（文本或文本列表）")
    return value


def load_wording(path: Path | None, spec: FormSpec) -> Wording:
    """Load and check a wording file against the form (raises WordingError in Chinese)."""
    path = Path(path) if path else default_wording_path()
    with malformed_in(path):
        return _load_wording(path, spec)


def _load_wording(path: Path, spec: FormSpec) -> Wording:
    try:
        root = read_yaml(path)
    except Exception as exc:  # read_yaml raises SpecError with the path already
        raise WordingError(f"报告措辞 {path}：无法读取（{exc}）") from exc
    node = root.get("wording") if isinstance(root, dict) else None
    if not isinstance(node, dict):
        raise WordingError(f"报告措辞 {path}：应包含 wording 键值映射")
    grids = {b.id for s in spec.sheets for b in s.blocks if b.kind == "grid"}
    ck = _Checker(path, spec, grids)
    names = {k: ck.field_ref(v, f"names.{k}") for k, v in _mapping(node, "names", path).items()}
    for key in ("department", "year"):
        if key not in names:
            raise WordingError(
                f"报告措辞 {path}：names.{key} 未指定（哪个字段是{'部门名称' if key == 'department' else '年度'}）"
            )
    scores = {str(k): str(v) for k, v in _mapping(node, "scores", path).items()}
    if scores.get("grid") not in grids:
        raise WordingError(f"报告措辞 {path}：scores.grid 应为考核得分表格区域的 id（现为 {scores.get('grid')!r}）")
    for key in ("total", "converted"):
        if key in scores:
            ck.field_ref(scores[key], f"scores.{key}")
    charts = {}
    for name, spec_node in _mapping(node, "charts", path).items():
        if name not in CHARTS or not isinstance(spec_node, dict):
            raise WordingError(f"报告措辞 {path}：charts.{name} 未知（可用：{', '.join(CHARTS)}）")
        if "grid" in spec_node and spec_node["grid"] not in grids:
            raise WordingError(f"报告措辞 {path}：charts.{name}.grid 未知的表格区域 {spec_node['grid']!r}")
        if "total" in spec_node:
            ck.field_ref(spec_node["total"], f"charts.{name}.total")
        charts[name] = {str(k): str(v) for k, v in spec_node.items()}
    texts = {}
    for key, source in _mapping(node, "texts", path).items():
        texts[str(key)] = ck.compile(source, f"texts.{key}", ("item", "labels", "cells", "counts"))
    for key in ("result", "note_prefix", "blank", "unreadable", "draft_mark", "findings_summary", "findings_none"):
        if key not in texts:
            raise WordingError(f"报告措辞 {path}：texts.{key} 未指定")
    title = tuple(ck.compile(s, f"title[{i}]") for i, s in enumerate(_lines(node, "title", path)))
    opening = ck.compile(node.get("opening"), "opening")
    signoff = tuple(ck.compile(s, f"signoff[{i}]") for i, s in enumerate(_lines(node, "signoff", path)))
    body_node = node.get("body")
    if not isinstance(body_node, list) or not body_node:
        raise WordingError(f"报告措辞 {path}：body 应为段落列表")
    body = tuple(_block(ck, b, f"body 第{i}项", spec) for i, b in enumerate(body_node, 1))
    return Wording(
        path=path,
        self_name=str(node.get("self_name", "本部门")),
        names=names,
        scores=scores,
        charts=charts,
        title=title,
        opening=opening,
        body=body,
        signoff=signoff,
        texts=texts,
    )


def _block(ck: _Checker, node: Any, where: str, spec: FormSpec) -> BlockDef:
    if not isinstance(node, dict):
        raise ck.fail(where, "应为键值映射（h1/h2/h3/h4/p/note/table/chart）")
    unknown = sorted(set(node) - BLOCK_KEYS)
    if unknown:
        raise ck.fail(where, f"含未知的键 {', '.join(unknown)}")
    kinds = [k for k in (*HEADINGS, "p", "note", *OBJECTS) if k in node]
    if len(kinds) != 1:
        raise ck.fail(where, "应恰好包含 h1/h2/h3/h4/p/note/table/chart 之一")
    kind = kinds[0]
    label = node[kind] if isinstance(node[kind], str) else ""
    where = f"{where}（{kind}: {label[:24]}）"
    when = ck.condition(node["when"], f"{where} when") if "when" in node else None
    if kind in OBJECTS:
        allowed = (*TABLES, *spec.tables) if kind == "table" else CHARTS
        if node[kind] not in allowed:
            raise ck.fail(where, f"未知的{kind} {node[kind]!r}（可用：{', '.join(allowed)}）")
        return BlockDef(kind, where, when=when, name=node[kind])
    if kind == "note":
        fid = ck.field_ref(node["note"], where)
        prefix = ck.compile(node["prefix"], f"{where} prefix") if "prefix" in node else None
        blank_text = ck.compile(node["blank"], f"{where} blank") if isinstance(node.get("blank"), str) else None
        return BlockDef(
            kind, where, when=when, field_id=fid, prefix=prefix, item=str(node.get("item", "")), blank=blank_text
        )
    needs_node = node.get("needs", [])
    if not isinstance(needs_node, list):
        raise ck.fail(where, "needs 应为字段 id 列表")
    needs = tuple(ck.field_ref(n, f"{where} needs") for n in needs_node)
    blank = node.get("blank")
    omit = blank == "omit"
    return BlockDef(
        kind,
        where,
        text=ck.compile(node[kind], where),
        when=when,
        needs=needs,
        item=str(node.get("item", "")),
        blank=None if blank is None or omit else ck.compile(blank, f"{where} blank"),
        omit_if_blank=omit,
    )


def default_wording_path() -> Path:
    """The default pack's wording file."""
    return templates_dir() / "wording.yaml"
