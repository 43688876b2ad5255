"""Rule assertions as linear relations over input cells, for naming the mistyped cell.

``linearize`` turns an expression such as ``income_total == sum(income.amount)``
or ``deposits + receivables <= current <= total_assets`` into comparisons
``Σ cᵢ·xᵢ + k  op  0`` whose terms are *input* cells: computed sums (a grid total, a
``sum_column``, a rubric total) are expanded into their parts, so a total and the
cells it adds up are visible to the culprit search (culprit.py). Anything non-linear
(a ratio, ``prev.``, ``or``, text) makes the whole expression non-linear (None); a
computed field that is not a sum (a count, a ratio) stays an opaque term.

Done once per rule when the catalogue compiles; evaluating a ``Linear`` on a workbook
is a handful of Decimal additions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..form.ops import op_inputs, op_name, rubric_total_terms
from ..form.spec import FormSpec
from .expr import Skip
from .intervals import Num, num_sum

Key = Any  # a field id (str) or (table id, column id) for a whole column
OPS = {ast.Eq: "==", ast.LtE: "<=", ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">"}


class _NonLinear(Exception):
    pass


@dataclass(frozen=True)
class Linear:
    """``Σ terms[k]·value(k) + const  op  0``."""

    terms: dict[Key, Decimal]
    const: Decimal
    op: str

    def value(self, ctx: Any) -> Num:
        """The left-hand side on one workbook, in interval arithmetic (blank inputs are 0)."""
        parts = []
        for key, coef in self.terms.items():
            n = term_value(ctx, key)
            parts.append(n if coef == 1 else (-n if coef == -1 else n * Num.exact(coef)))
        total = num_sum(parts)
        return total + Num.exact(self.const) if self.const else total


def term_value(ctx: Any, key: Key) -> Num:
    if isinstance(key, tuple):
        return num_sum(n for n in ctx.column_nums(*key) if n is not None)
    fv = ctx.fields.get(key)
    spec_field = ctx.spec.fields[key]
    if spec_field.compute is None and fv is not None and fv.value is None and not fv.problem:
        return Num.exact(Decimal(0))
    return ctx.num(key, "zero")


def satisfied(n: Num, op: str, slack: Decimal = Decimal(0)) -> bool:
    """Could ``n op 0`` hold within its rounding interval (widened by ``slack``)?"""
    lo, hi = n.lo - slack, n.hi + slack
    if op == "==":
        return lo <= 0 <= hi
    if op in ("<=", "<"):
        return lo <= 0
    return hi >= 0


def linearize(text: str, spec: FormSpec, grids: dict[str, Any]) -> list[Linear] | None:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
        return _comparisons(tree, spec, grids)
    except (_NonLinear, SyntaxError, KeyError):
        return None


def _comparisons(node: ast.AST, spec: FormSpec, grids: dict[str, Any]) -> list[Linear]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [c for v in node.values for c in _comparisons(v, spec, grids)]
    if not isinstance(node, ast.Compare):
        raise _NonLinear
    sides = [node.left, *node.comparators]
    out = []
    for a, b, op in zip(sides, sides[1:], node.ops, strict=False):
        if type(op) not in OPS:
            raise _NonLinear
        terms: dict[Key, Decimal] = {}
        const = _expr(a, Decimal(1), terms, spec, grids) + _expr(b, Decimal(-1), terms, spec, grids)
        out.append(Linear({k: c for k, c in terms.items() if c != 0}, const, OPS[type(op)]))
    return out


def _add(terms: dict[Key, Decimal], key: Key, coef: Decimal) -> None:
    terms[key] = terms.get(key, Decimal(0)) + coef


def _field(fid: str, coef: Decimal, terms: dict[Key, Decimal], spec: FormSpec) -> None:
    f = spec.fields[fid]
    if not f.is_numeric:
        raise _NonLinear
    c = f.compute or {}
    if "sum" in c:
        for p in c["sum"]:
            _field(p, coef, terms, spec)
    elif isinstance(c.get("difference"), list) and len(c["difference"]) == 2:
        _field(c["difference"][0], coef, terms, spec)
        _field(c["difference"][1], -coef, terms, spec)
    elif "sum_column" in c:
        _add(terms, tuple(c["sum_column"].split(".", 1)), coef)
    elif "rubric_total" in c:
        for sign, part in rubric_total_terms(c, spec):
            _field(part, sign * coef, terms, spec)
    else:
        _add(terms, fid, coef)


def _expr(node: ast.AST, coef: Decimal, terms: dict[Key, Decimal], spec: FormSpec, grids: dict[str, Any]) -> Decimal:
    """Adds ``coef·node`` to ``terms``; returns its constant part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return coef * Decimal(str(node.value))
    if isinstance(node, ast.Name):
        _field(node.id, coef, terms, spec)
        return Decimal(0)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _expr(node.operand, -coef if isinstance(node.op, ast.USub) else coef, terms, spec, grids)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            sign = Decimal(1) if isinstance(node.op, ast.Add) else Decimal(-1)
            return _expr(node.left, coef, terms, spec, grids) + _expr(node.right, sign * coef, terms, spec, grids)
        if isinstance(node.op, ast.Mult):
            for k, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(k, ast.Constant) and isinstance(k.value, (int, float)):
                    return _expr(other, coef * Decimal(str(k.value)), terms, spec, grids)
        raise _NonLinear
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum" and not node.keywords:
        const = Decimal(0)
        for arg in node.args:
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                owner, col = arg.value.id, arg.attr
                if owner in spec.tables:
                    _add(terms, (owner, col), coef)
                elif owner in grids:
                    block = grids[owner]
                    for r in block.grid_rows:
                        _field(block.grid_field(r.id, col), coef, terms, spec)
                else:
                    raise _NonLinear
            else:
                const += _expr(arg, coef, terms, spec, grids)
        return const
    raise _NonLinear


def input_keys(linears: list[Linear], spec: FormSpec) -> frozenset[Key]:
    """The input cells (field ids, table columns) the comparisons read."""
    keys = set()
    for lin in linears:
        for k in lin.terms:
            if isinstance(k, tuple) or spec.fields[k].is_input:
                keys.add(k)
    return frozenset(keys)


def rule_inputs(field_ids: list[str], columns: list[str], spec: FormSpec) -> frozenset[Key]:
    """Every input a rule reads, computed fields expanded to what they are computed from."""
    keys: set[Key] = {tuple(c.split(".", 1)) for c in columns}
    todo = list(field_ids)
    seen: set[str] = set()
    while todo:
        fid = todo.pop()
        if fid in seen or fid not in spec.fields:
            continue
        seen.add(fid)
        f = spec.fields[fid]
        c = f.compute
        if not c:
            keys.add(fid)
            continue
        todo += list(c.get("sum", [])) + list(c.get("ratio_pct", [])) + list(c.get("difference", []))
        for op in ("sum_column", "count_nonblank", "count_if", "count_between", "sum_if", "where"):
            if isinstance(c.get(op), str):
                keys.add(tuple(c[op].split(".", 1)))
        if "count_rows" in c:
            keys.update((c["count_rows"], col.id) for col in spec.tables[c["count_rows"]].columns)
        if op_name(c) in ("rubric_total", "rubric_pct"):
            todo += op_inputs(c, spec)[0]  # the rubric cells (and the total a percentage rests on)
    return frozenset(keys)


__all__ = ["Key", "Linear", "Skip", "input_keys", "linearize", "rule_inputs", "satisfied", "term_value"]
