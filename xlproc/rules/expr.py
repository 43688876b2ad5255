"""A small, safe expression language for rule logic, compiled once into closures.

Expressions are Python syntax parsed with ``ast`` and checked against a whitelist —
never ``eval``. What may appear:

- field ids of the form spec (``income_total``), ``prev.<field id>`` for last
  year's workbook; numbers and quoted strings;
- ``+ - * /``, unary minus, comparisons ``== != < <= > >=`` (chains allowed),
  ``and or not``;
- functions: ``sum(x, ...)`` / ``sum(table.column)`` / ``sum(grid.column)``,
  ``count(table)`` (rows), ``count(table.column)`` / ``count(grid.column)`` (filled
  cells), ``countif(table.column, "值")``, ``sumif(table.amount, table.column, "值")``,
  ``filled(field)``, ``blank(field)``, ``abs(x)``, ``min(a, b, ...)``, ``max(a, b, ...)``.

Numbers evaluate to interval ``Num`` values (intervals.py); comparisons are
three-valued (True / False / None = rounding could explain either). Each name is
resolved against the spec at compile time, so an unknown field is refused when the
catalogue loads, not when a workbook is checked.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..form.spec import FormSpec
from .intervals import Num, compare, num_max, num_min, num_sum

Fn = Callable[[Any], Any]  # ctx → value

NUM, TEXT, BOOL, ANY = "number", "text", "bool", "any"
FUNCTIONS = ("sum", "count", "countif", "sumif", "filled", "blank", "abs", "min", "max")
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


MAX_EXPR_CHARS = 2000
MAX_EXPR_DEPTH = 40  # nested operations; a rule written by hand needs a handful


def _depth(tree: ast.AST) -> int:
    """Deepest nesting of ``tree``, measured without recursion."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > MAX_EXPR_DEPTH:
            return deepest
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


class ExprError(ValueError):
    """An expression is malformed or names something the spec does not have."""


class Skip(Exception):
    """The rule cannot be evaluated on this workbook (an input unreadable or absent)."""


class Missing(Exception):
    """An optional input the rule needs is blank and the rule asks for a finding."""

    def __init__(self, field_id: str):
        super().__init__(field_id)
        self.field_id = field_id


@dataclass
class Compiled:
    """A compiled expression: the closure, its result kind and what it reads."""

    fn: Fn
    kind: str
    fields: list[str] = field(default_factory=list)  # field ids, in order of appearance
    columns: list[str] = field(default_factory=list)  # "table.column" refs
    prev_fields: list[str] = field(default_factory=list)
    sides: tuple[Compiled, Compiled, str] | None = None  # a single comparison: left, right, op
    text: str = ""


def kleene_and(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def kleene_or(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _cmp_values(a: Any, op: str, b: Any) -> bool | None:
    if isinstance(a, Num) and isinstance(b, Num):
        return compare(a, op, b)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    raise Skip  # ordering text or blanks: not evaluable


class Compiler:
    """Compiles expressions against one form spec; ``blank`` maps field id → policy."""

    def __init__(self, spec: FormSpec):
        self.spec = spec
        self.grids = {b.id: b for s in spec.sheets for b in s.blocks if b.kind == "grid"}

    def compile(self, text: str, blank: Callable[[str], str]) -> Compiled:
        """Parse and compile ``text``; ``blank(field_id)`` gives the blank policy of a field."""
        if len(text) > MAX_EXPR_CHARS:
            raise ExprError(f"表达式过长（{len(text)} 个字符，上限 {MAX_EXPR_CHARS}）")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExprError(f"表达式语法错误：{text[:80]!r}（{exc.msg}）") from None
        except (RecursionError, MemoryError):
            raise ExprError(f"表达式嵌套过深（上限 {MAX_EXPR_DEPTH} 层）：{text[:80]!r}") from None
        if _depth(tree) > MAX_EXPR_DEPTH:
            raise ExprError(f"表达式嵌套过深（上限 {MAX_EXPR_DEPTH} 层）：{text[:80]!r}")
        out = Compiled(fn=lambda ctx: None, kind=ANY, text=text)
        fn, kind = self._node(tree.body, out, blank)
        out.fn, out.kind = fn, kind
        body = tree.body
        if isinstance(body, ast.Compare) and len(body.ops) == 1 and type(body.ops[0]) in _CMP:
            left = self._side(body.left, blank, text)
            right = self._side(body.comparators[0], blank, text)
            out.sides = (left, right, _CMP[type(body.ops[0])])
        return out

    def _side(self, node: ast.AST, blank: Callable[[str], str], text: str) -> Compiled:
        side = Compiled(fn=lambda ctx: None, kind=ANY, text=ast.get_source_segment(text.strip(), node) or "")
        side.fn, side.kind = self._node(node, side, blank)
        return side

    # -- nodes --------------------------------------------------------------------

    def _node(self, node: ast.AST, out: Compiled, blank: Callable[[str], str]) -> tuple[Fn, str]:
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._field(node.id, out, blank)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "prev":
                return self._prev_field(node.attr, out, blank)
            raise ExprError(f"“{ast.unparse(node)}”只能用在 sum/count/countif/sumif 中")
        if isinstance(node, ast.UnaryOp):
            fn, kind = self._node(node.operand, out, blank)
            if isinstance(node.op, ast.USub):
                self._need(kind, NUM, node)
                return (lambda ctx: -fn(ctx)), NUM
            if isinstance(node.op, ast.UAdd):
                self._need(kind, NUM, node)
                return fn, NUM
            if isinstance(node.op, ast.Not):
                return (lambda ctx: _not(fn(ctx))), BOOL
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
            lf, lk = self._node(node.left, out, blank)
            rf, rk = self._node(node.right, out, blank)
            self._need(lk, NUM, node.left)
            self._need(rk, NUM, node.right)
            op = type(node.op)
            if op is ast.Add:
                return (lambda ctx: lf(ctx) + rf(ctx)), NUM
            if op is ast.Sub:
                return (lambda ctx: lf(ctx) - rf(ctx)), NUM
            if op is ast.Mult:
                return (lambda ctx: lf(ctx) * rf(ctx)), NUM
            return (lambda ctx: lf(ctx) / rf(ctx)), NUM
        if isinstance(node, ast.BoolOp):
            fns = [self._node(v, out, blank)[0] for v in node.values]
            if isinstance(node.op, ast.And):
                return (lambda ctx: kleene_and([f(ctx) for f in fns])), BOOL
            return (lambda ctx: kleene_or([f(ctx) for f in fns])), BOOL
        if isinstance(node, ast.Compare):
            return self._compare(node, out, blank)
        if isinstance(node, ast.Call):
            return self._call(node, out, blank)
        raise ExprError(f"不支持的表达式成分：{ast.unparse(node)!r}")

    @staticmethod
    def _need(kind: str, want: str, node: ast.AST) -> None:
        if kind not in (want, ANY):
            raise ExprError(f"“{ast.unparse(node)}”不是数值，不能参与计算")

    @staticmethod
    def _constant(node: ast.Constant) -> tuple[Fn, str]:
        v = node.value
        if isinstance(v, bool) or v is None:
            raise ExprError(f"不支持的常量：{v!r}")
        if isinstance(v, (int, float)):
            try:
                d = Decimal(str(v))
            except InvalidOperation:
                raise ExprError(f"无效的数字：{v!r}") from None
            exp = d.as_tuple().exponent
            num = Num.exact(d, -exp if isinstance(exp, int) and exp < 0 else 0)
            return (lambda ctx: num), NUM
        if isinstance(v, str):
            return (lambda ctx: v), TEXT
        raise ExprError(f"不支持的常量：{v!r}")

    def _kind_of(self, field_id: str) -> str:
        return NUM if self.spec.fields[field_id].is_numeric else TEXT

    def _field(self, name: str, out: Compiled, blank: Callable[[str], str]) -> tuple[Fn, str]:
        if name not in self.spec.fields:
            raise ExprError(f"未知字段 {name!r}")
        if name not in out.fields:
            out.fields.append(name)
        policy = blank(name)
        if self._kind_of(name) == NUM:
            return (lambda ctx: ctx.num(name, policy)), NUM
        return (lambda ctx: ctx.value(name)), TEXT

    def _prev_field(self, name: str, out: Compiled, blank: Callable[[str], str]) -> tuple[Fn, str]:
        if name not in self.spec.fields:
            raise ExprError(f"未知字段 prev.{name}")
        if name not in out.prev_fields:
            out.prev_fields.append(name)
        policy = blank(name)
        if self._kind_of(name) == NUM:
            return (lambda ctx: ctx.prev_num(name, policy)), NUM
        return (lambda ctx: ctx.prev_value(name)), TEXT

    def _compare(self, node: ast.Compare, out: Compiled, blank: Callable[[str], str]) -> tuple[Fn, str]:
        operands = [self._node(node.left, out, blank)]
        operands += [self._node(c, out, blank) for c in node.comparators]
        ops = []
        for op in node.ops:
            if type(op) not in _CMP:
                raise ExprError(f"不支持的比较：{ast.unparse(node)!r}")
            ops.append(_CMP[type(op)])
        for (_, a), (_, b), op in zip(operands, operands[1:], ops, strict=False):
            if op not in ("==", "!=") and TEXT in (a, b):
                raise ExprError(f"文本不能比较大小：{ast.unparse(node)!r}")
        fns = [f for f, _ in operands]
        if len(ops) == 1:
            lf, rf, op0 = fns[0], fns[1], ops[0]
            return (lambda ctx: _cmp_values(lf(ctx), op0, rf(ctx))), BOOL

        def chain(ctx: Any) -> bool | None:
            vals = [f(ctx) for f in fns]
            return kleene_and([_cmp_values(a, op, b) for a, b, op in zip(vals, vals[1:], ops, strict=False)])

        return chain, BOOL

    # -- functions ----------------------------------------------------------------

    def _column_ref(self, node: ast.AST, out: Compiled) -> tuple[str, str, str]:
        """("table"|"grid", id, column) for ``x.y`` naming a table or grid column."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            raise ExprError(f"应为 表格.列 形式：{ast.unparse(node)!r}")
        owner, col = node.value.id, node.attr
        if owner in self.spec.tables:
            try:
                self.spec.tables[owner].column(col)
            except KeyError:
                raise ExprError(f"表格 {owner} 没有列 {col!r}") from None
            ref = f"{owner}.{col}"
            if ref not in out.columns:
                out.columns.append(ref)
            return "table", owner, col
        if owner in self.grids:
            if col not in {c.id for c in self.grids[owner].grid_columns}:
                raise ExprError(f"表 {owner} 没有列 {col!r}")
            for fid in self.grid_fields(owner, col):
                if fid not in out.fields:
                    out.fields.append(fid)
            return "grid", owner, col
        raise ExprError(f"未知表格 {owner!r}")

    def grid_fields(self, grid_id: str, column_id: str) -> list[str]:
        """Field ids of one column of a grid, row by row (the total row excluded)."""
        block = self.grids[grid_id]
        return [block.grid_field(r.id, column_id) for r in block.grid_rows]

    def _call(self, node: ast.Call, out: Compiled, blank: Callable[[str], str]) -> tuple[Fn, str]:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise ExprError(f"未知函数：{ast.unparse(node.func)!r}（可用：{', '.join(FUNCTIONS)}）")
        name, args = node.func.id, node.args
        if name in ("filled", "blank"):
            if len(args) != 1 or not isinstance(args[0], ast.Name) or args[0].id not in self.spec.fields:
                raise ExprError(f"{name}() 的参数应为一个字段")
            fid = args[0].id
            if fid not in out.fields:
                out.fields.append(fid)
            want = name == "filled"
            return (lambda ctx: ctx.filled(fid) is want), BOOL
        if name in ("sum", "count") and len(args) == 1 and isinstance(args[0], ast.Attribute):
            where, owner, col = self._column_ref(args[0], out)
            if where == "grid":
                fids = self.grid_fields(owner, col)
                if name == "sum":
                    return (lambda ctx: num_sum(ctx.num(f, "zero") for f in fids)), NUM
                return (lambda ctx: Num.exact(sum(1 for f in fids if ctx.filled(f)))), NUM
            if name == "sum":
                return (lambda ctx: num_sum(n for n in ctx.column_nums(owner, col) if n is not None)), NUM
            return (lambda ctx: Num.exact(sum(1 for v in ctx.column(owner, col) if v is not None))), NUM
        if name == "count":
            if len(args) != 1 or not isinstance(args[0], ast.Name) or args[0].id not in self.spec.tables:
                raise ExprError("count() 的参数应为表格或 表格.列")
            tid = args[0].id
            return (lambda ctx: Num.exact(ctx.row_count(tid))), NUM
        if name == "countif":
            if len(args) != 2 or not isinstance(args[1], ast.Constant):
                raise ExprError("countif(表格.列, 值) 需要两个参数")
            _, owner, col = self._column_ref(args[0], out)
            want_v = args[1].value
            return (lambda ctx: Num.exact(sum(1 for v in ctx.column(owner, col) if v == want_v))), NUM
        if name == "sumif":
            if len(args) != 3 or not isinstance(args[2], ast.Constant):
                raise ExprError("sumif(表格.金额列, 表格.条件列, 值) 需要三个参数")
            _, owner, col = self._column_ref(args[0], out)
            _, owner2, col2 = self._column_ref(args[1], out)
            if owner2 != owner:
                raise ExprError("sumif 的两列应属于同一表格")
            want_v = args[2].value

            def sumif(ctx: Any) -> Num:
                nums, keys = ctx.column_nums(owner, col), ctx.column(owner, col2)
                return num_sum(n for n, k in zip(nums, keys, strict=True) if k == want_v and n is not None)

            return sumif, NUM
        fns = []
        for a in args:
            f, k = self._node(a, out, blank)
            self._need(k, NUM, a)
            fns.append(f)
        if not fns or (name == "abs" and len(fns) != 1):
            raise ExprError(f"{name}() 的参数个数不对")
        if name == "abs":
            f0 = fns[0]
            return (lambda ctx: abs(f0(ctx))), NUM
        if name == "sum":
            return (lambda ctx: num_sum(f(ctx) for f in fns)), NUM
        pick = num_min if name == "min" else num_max

        def minmax(ctx: Any) -> Num:
            vals = [f(ctx) for f in fns]
            acc = vals[0]
            for v in vals[1:]:
                acc = pick(acc, v)
            return acc

        return minmax, NUM


def _not(v: bool | None) -> bool | None:
    return None if v is None else not v
