"""Point at the mistyped cell: when a relation fails, name the cell whose slip explains it.

After the rules ran, each failed linear relation (a total against its parts, a budget
balance, a 三保 sum against the budget …) is searched for a single-cell repair that
the arithmetic singles out:

- adjacent digits transposed (the difference is then a multiple of 9);
- a figure ×10 / ×100 / ×1000 / ×10000 (or ÷) of the value that fits: a decimal point
  dropped or shifted, 元 typed as 万元;
- a part equal to the difference (left out of the total, or counted twice);
- two adjacent cells swapped;
- for an inequality (三保 over the budget …): the row's value copied from its partner
  cell (安排 typed over 实际);
- any other value, when a failed equality and another failed check read the same cell
  and the value that restores the equality makes both hold (``_solved``).

A repair is kept only when it makes the failed relation hold without breaking any
relation that held, and it is *unambiguous*: one cell (or one swapped pair) explains
the most failed relations. An equality needs one such cell; an inequality needs a
repair that also explains another failed relation (so a genuine overspend is never
blamed on one arbitrary row). The finding then moves onto that cell, its message
saying what was probably typed and still naming the total. Several non-linear
relations failing together (every 占比 when one 决算 amount is mistyped) are searched
the same way over the cells they all read, verified with the real rules. Nothing is
searched when no relation failed, so a clean workbook costs nothing.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from ..form.memo import memo
from ..results import CellRef, Finding
from .context import Context
from .expr import Missing, Skip
from .intervals import Num, Undefined
from .linear import satisfied
from .messages import fmt_decimal

_TEN = Decimal(10)
_SCALES = (1, 2, 3, 4)
Cell = Any  # field id (str) or (table id, column id, row index)


class Patched(Context):
    """A context of the same workbook with some input cells replaced."""

    def __init__(self, base: Context, edits: dict[Cell, Decimal]):
        super().__init__(base.sub, base.spec, base.prev)
        for cell, v in edits.items():
            if isinstance(cell, tuple):
                t, c, i = cell
                nums = list(base.column_nums(t, c))
                vals = list(base.column(t, c))
                col = base.spec.tables[t].column(c)
                nums[i] = self._as_num(v, col)
                vals[i] = v
                self._column_nums[(t, c)] = nums
                self._columns[(t, c)] = vals
            else:
                self._inputs[cell] = self._as_num(v, base.spec.fields[cell])


def _decimals(ctx: Context, cell: Cell) -> int:
    if isinstance(cell, tuple):
        return ctx.spec.decimals(ctx.spec.tables[cell[0]].column(cell[1])) or 0
    return ctx.spec.decimals(ctx.spec.fields[cell]) or 0


def _value(ctx: Context, cell: Cell) -> Decimal | None:
    if isinstance(cell, tuple):
        t, c, i = cell
        try:
            v = ctx.column(t, c)[i]
        except (Skip, IndexError):
            return None
    else:
        fv = ctx.fields.get(cell)
        v = None if fv is None or fv.problem else fv.value
    return v if isinstance(v, Decimal) and v.is_finite() else None


def _fmt(v: Decimal, d: int, unit: str = "") -> str:
    return fmt_decimal(v, d) + unit


def _unit(ctx: Context, cell: Cell) -> str:
    """The unit the form declares for a cell's figure (万元, %, 人 …), printed after it."""
    spec = ctx.spec.tables[cell[0]].column(cell[1]) if isinstance(cell, tuple) else ctx.spec.fields[cell]
    return spec.unit


def _variants(v: Decimal, d: int, unit: str = "") -> list[tuple[Decimal, str]]:
    """Values the clerk may have meant, with the reason (Chinese) each one implies."""
    out: list[tuple[Decimal, str]] = []
    text = _fmt(abs(v), d)
    chars = list(text)
    sign = -1 if v < 0 else 1
    for i in range(len(chars) - 1):
        a, b = chars[i], chars[i + 1]
        if a != b and a.isdigit() and b.isdigit():
            swapped = chars[:]
            swapped[i], swapped[i + 1] = b, a
            if swapped[0] == "0" and len(swapped) > 1 and swapped[1].isdigit():
                continue  # "30.00" → "03.00" is a shifted decimal point, listed below
            w = Decimal("".join(swapped)) * sign
            out.append((w, f"疑为 {_fmt(w, d, unit)} 的相邻数字颠倒"))
    for k in _SCALES:
        factor = _TEN**k
        down = (v / factor).quantize(Decimal(1).scaleb(-d)) if d >= 0 else v / factor
        if down != 0:
            why = "疑将“元”误填为“万元”" if k == 4 else "疑为小数点错位"
            out.append((down, f"是 {_fmt(down, d, unit)} 的 {factor} 倍，{why}"))
        up = v * factor
        out.append((up, f"是 {_fmt(up, d, unit)} 的 1/{factor}，疑为小数点错位"))
    if v != 0 and d > 0:  # small counts equal a difference too often to mean anything
        out.append((Decimal(0), "与相差额相等，疑合计中漏计了该项或该项多填"))
        out.append((v * 2, "与相差额相等，疑该项在合计中重复计算"))
    return out


def _may_fit(v: Decimal, d: int, lhs: Num, coef: Decimal, slack: Decimal) -> bool:
    """Cheap gate before listing variants: could any slip of ``v`` restore ``lhs == 0``?"""
    target = v - lhs.mid / coef
    tol = (lhs.hi - lhs.lo) / 2 / abs(coef) + slack
    if abs(target) <= tol or abs(target - 2 * v) <= tol:
        return True
    if target != 0 and v != 0:
        ratio = abs(v / target)
        for k in _SCALES:
            f = _TEN**k
            if f / 2 < ratio < f * 2 or 1 / (f * 2) < ratio < 2 / f:
                return True
    try:
        shown = _fmt(abs(target), d)
    except ArithmeticError:
        return False
    return sorted(shown) == sorted(_fmt(abs(v), d))


def _cells_of(ctx: Context, key: Any) -> list[Cell]:
    if isinstance(key, tuple):
        try:
            n = len(ctx.column(*key))
        except Skip:
            return []
        return [(key[0], key[1], i) for i in range(n)]
    return [key] if ctx.spec.fields[key].is_input else []


def _ref(ctx: Context, cell: Cell) -> tuple[CellRef, str]:
    if isinstance(cell, tuple):
        t, c, i = cell
        td = ctx.sub.tables[t]
        row = int(td.rows[i]["row"])
        return CellRef(td.sheet, td.cell(row, c)), f"{td.spec.label}第{i + 1}项{td.spec.column(c).label}"
    fv = ctx.fields[cell]
    return CellRef(fv.sheet, fv.cell), fv.label


def _neighbours(ctx: Context) -> dict[Cell, list[Cell]]:
    """Numeric input fields next to each other on a sheet (same row or column, one apart).

    Worked out once per form from the first workbook's cells; each use re-checks the
    pair is still adjacent in this workbook (rows may have been inserted between).
    """
    return memo(ctx.spec, "neighbours", lambda: _layout(ctx))


def _layout(ctx: Context) -> dict[Cell, list[Cell]]:
    pos: dict[tuple[str, int, int], str] = {}
    for fid, f in ctx.spec.fields.items():
        fv = ctx.fields.get(fid)
        if f.is_input and f.is_numeric and fv is not None:
            col, row = _split(fv.cell)
            if row:
                pos[(fv.sheet, col, row)] = fid
    near: dict[str, list[str]] = {}
    for (sheet, col, row), fid in pos.items():
        around = [pos.get((sheet, col + dc, row + dr)) for dc, dr in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        near[fid] = [n for n in around if n]
    return near


def _adjacent(ctx: Context, a: str, b: str) -> bool:
    fa, fb = ctx.fields[a], ctx.fields[b]
    (ca, ra), (cb, rb) = _split(fa.cell), _split(fb.cell)
    return fa.sheet == fb.sheet and abs(ca - cb) + abs(ra - rb) == 1


def _split(a1: str) -> tuple[int, int]:
    col = 0
    i = 0
    while i < len(a1) and a1[i].isalpha():
        col = col * 26 + ord(a1[i].upper()) - 64
        i += 1
    return col, int(a1[i:]) if a1[i:].isdigit() else 0


def _fails(rule: Any, ctx: Context) -> bool:
    try:
        if rule.when is not None and rule.when.fn(ctx) is not True:
            return False
        return rule.assertion.fn(ctx) is False
    except (Skip, Undefined, Missing):
        return False


def _shift(n: Num, delta: Decimal) -> Num:
    return Num(n.mid + delta, n.lo + delta, n.hi + delta)


def _components(failed: list[tuple[Any, Finding]]) -> list[list[tuple[Any, Finding]]]:
    """Failed relations grouped by the input cells they share (one slip breaks a group)."""
    groups: list[tuple[set, list]] = []
    for rule, finding in failed:
        keys = set(rule.inputs)
        joined = [g for g in groups if g[0] & keys]
        for g in joined:
            groups.remove(g)
            keys |= g[0]
        members = [m for g in joined for m in g[1]] + [(rule, finding)]
        groups.append((keys, members))
    return [g[1] for g in groups]


def _search(ctx: Context, group: list[tuple[Any, Finding]]) -> dict[frozenset, tuple]:
    """Single-cell (or swapped-pair) repairs under which every failed comparison of the
    group could hold (arithmetic only; verified afterwards on a patched workbook).

    Returns {cells: (edits, reason, shown cell, rank)}, the best-ranked repair per set
    of cells (a signature before a weak guess, then the smallest remaining difference).
    """
    comparisons = []  # (linear, lhs, inputs of its rule)
    for rule, _ in group:
        for lin in rule.linear:
            try:
                lhs = lin.value(ctx)
            except (Skip, Missing, Undefined):
                return {}
            if not satisfied(lhs, lin.op):
                comparisons.append((lin, lhs, rule.inputs))
    if not comparisons:
        return {}
    found: dict[frozenset, tuple] = {}
    order = 0

    def fits(edits: dict[Cell, Decimal], slack: Decimal, exact: bool = False) -> Decimal | None:
        """Worst remaining difference when every comparison could hold, else None."""
        worst = Decimal(0)
        for lin, lhs, inputs in comparisons:
            delta = Decimal(0)
            direct = False
            for cell, w in edits.items():
                key = cell[:2] if isinstance(cell, tuple) else cell
                coef = lin.terms.get(key)
                if coef is not None:
                    delta += coef * (w - _value(ctx, cell))
                    direct = True
                elif key in inputs:
                    direct = None  # hidden in a computed term (a ratio): only the real check can tell
                    break
            if direct is None:
                continue
            if not direct:
                return None
            moved = _shift(lhs, delta)
            if lin.op == "==" and abs(moved.mid) > (slack / 2 if exact else slack if slack < 1 else 0):
                return None  # a slip restores the figures exactly, not just within rounding
            if not satisfied(moved, lin.op, slack):
                return None
            worst = max(worst, abs(moved.mid))
        return worst

    def keep(edits: dict[Cell, Decimal], why: str, shown: Cell, slack: Decimal, weak: int = 0) -> None:
        nonlocal order
        residual = fits(edits, slack, exact=weak == 1)  # "equals the difference" must be exact
        if residual is None:
            return
        order += 1
        rank = (weak, residual, order)
        key = frozenset(edits)
        if key not in found or rank < found[key][3]:
            found[key] = (edits, why, shown, rank)

    lin0, lhs0 = comparisons[0][0], comparisons[0][1]
    equality = all(lin.op == "==" for lin, _, _ in comparisons)
    neighbours: dict[Cell, list[Cell]] | None = None
    # one slip must sit in every failed comparison of the group (directly or inside a ratio)
    shared = frozenset.intersection(*(inputs for _, _, inputs in comparisons))
    for key in lin0.terms:
        if key not in shared:
            continue
        for cell in _cells_of(ctx, key):
            v = _value(ctx, cell)
            if v is None:
                continue
            d = _decimals(ctx, cell)
            slack = Decimal(1).scaleb(-d)
            if equality and not _may_fit(v, d, lhs0, lin0.terms[key], slack):
                options: list[tuple[Decimal, str]] = []
            else:
                options = _variants(v, d, _unit(ctx, cell))
            for w, why in options:
                weak = 1 if w == 0 or w == v * 2 else 0
                if weak and not equality:
                    continue
                keep({cell: w}, why, cell, slack, weak)
            if isinstance(cell, tuple):
                continue
            if neighbours is None:
                neighbours = _neighbours(ctx)
            for other in neighbours.get(cell, ()):
                u = _value(ctx, other)
                if u is None or u == v or not _adjacent(ctx, cell, other):
                    continue
                coef, coef2 = lin0.terms[key], lin0.terms.get(other, Decimal(0))
                swap_fits = satisfied(_shift(lhs0, coef * (u - v) + coef2 * (v - u)), lin0.op, slack)
                copy_fits = not equality and satisfied(_shift(lhs0, coef * (u - v)), lin0.op, slack)
                if not (swap_fits or copy_fits):
                    continue
                other_ref, other_label = _ref(ctx, other)
                if swap_fits:
                    keep({cell: u, other: v}, f"与相邻的“{other_label}”（{other_ref.cell}）疑似填反", cell, slack)
                if copy_fits:
                    shown = _fmt(u, d, _unit(ctx, other))
                    keep({cell: u}, f"超出部分集中在此项（“{other_label}”为 {shown}）", cell, slack, 2)
    return found


def locate_culprits(ctx: Context, catalogue: Any, findings: list[Finding]) -> None:
    """Move each failed relation's finding onto the cell that explains it (in place)."""
    if not ctx.failed:
        return
    failed = [(r, f) for r, f in ctx.failed if r.linear]
    replace: dict[int, Finding] = {}
    index = None
    failing = {r for r, _ in ctx.failed}
    for group in _components(failed):
        equality = any(lin.op == "==" for r, _ in group for lin in r.linear)
        if len(group) < 2 and not equality:
            continue  # an inequality alone never singles out one row
        found = _search(ctx, group)
        if not found:
            continue
        if index is None:
            index = _touching(catalogue)
        winners = []
        for cells, (edits, why, shown, rank) in found.items():
            patched = Patched(ctx, edits)
            if any(_fails(r, patched) for r, _ in group):
                continue
            touched = set()
            for cell in edits:
                touched.update(index.get(cell[:2] if isinstance(cell, tuple) else cell, ()))
            if any(_fails(r, patched) for r in touched if r not in failing):
                continue  # the repair would break a relation that holds
            winners.append((rank[0], len(cells), cells, why, shown, edits))
        if not winners:
            continue
        best = min(w[:2] for w in winners)  # a signature first, then the fewest cells
        top = [w for w in winners if w[:2] == best]
        if len(top) != 1:
            continue  # two different cells would explain it: keep pointing at the total
        _weak, _n, _cells, why, shown, edits = top[0]
        for _, finding in group:
            replace[id(finding)] = _moved(ctx, finding, shown, why, edits)
    _ratio_groups(ctx, catalogue, replace, failing)
    _solved(ctx, catalogue, replace, failing)
    if replace:
        findings[:] = [replace.get(id(f), f) for f in findings]


_MAX_RATIO_CELLS = 40


def _ratio_groups(ctx: Context, catalogue: Any, replace: dict[int, Finding], failing: set) -> None:
    """Several non-linear relations (占比 = 金额 ÷ 合计) failing together: one amount mistyped
    moves the total and every share with it. Try the slips of each amount they all read."""
    nonlinear = [(r, f) for r, f in ctx.failed if not r.linear and r.inputs and id(f) not in replace]
    for group in _components(nonlinear):
        if len(group) < 2:
            continue
        shared = frozenset.intersection(*(r.inputs for r, _ in group))
        cells = [c for key in sorted(shared, key=str) for c in _cells_of(ctx, key)]
        if not cells or len(cells) > _MAX_RATIO_CELLS:
            continue
        index = _touching(catalogue)
        winners: dict[Cell, tuple[str, dict[Cell, Decimal]]] = {}
        for cell in cells:
            v = _value(ctx, cell)
            if v is None:
                continue
            d = _decimals(ctx, cell)
            key = cell[:2] if isinstance(cell, tuple) else cell
            for w, why in _variants(v, d, _unit(ctx, cell)):
                if w == 0 or w == v * 2:
                    continue
                patched = Patched(ctx, {cell: w})
                if any(_fails(r, patched) for r, _ in group):
                    continue
                if any(_fails(r, patched) for r in index.get(key, ()) if r not in failing):
                    continue
                winners[cell] = (why, {cell: w})
                break
            if len(winners) > 1:
                break  # ambiguous: keep the findings where they are
        if len(winners) != 1:
            continue
        cell, (why, edits) = next(iter(winners.items()))
        patched = Patched(ctx, edits)
        for rule, finding in ctx.failed:  # the group, and what else the same slip broke
            if id(finding) not in replace and not _fails(rule, patched):
                replace[id(finding)] = _moved(ctx, finding, cell, why, edits)


_MAX_SOLVE_CELLS = 60


def _solved(ctx: Context, catalogue: Any, replace: dict[int, Finding], failing: set) -> None:
    """A figure changed to any other value leaves no signature, but it often breaks more
    than one check: a total against its parts *and* a ratio, a range or a second sum that
    read the same cell. For each failed equality, the one value that makes it hold exactly
    is solved for in every input that another failed check also reads. A cell qualifies
    when that value makes the equality and every failed check reading the cell hold and
    breaks no check that held; the culprit is the one cell that so explains the most
    failed checks (a tie names none). A failed equality with no second failed check on any
    of its cells stays on the total: any part could be the slip."""
    pending = [(r, f) for r, f in ctx.failed if id(f) not in replace]
    if len(pending) < 2:
        return
    index = _touching(catalogue)
    for rule, finding in pending:
        if id(finding) in replace:
            continue
        others = [(r, f) for r, f in pending if r is not rule and id(f) not in replace]
        evidence = set().union(*(r.inputs for r, _ in others)) if others else set()
        found: dict[Cell, tuple[Decimal, list[tuple[Any, Finding]]]] = {}
        for lin in rule.linear or ():
            if lin.op != "==":
                continue
            try:
                lhs = lin.value(ctx)
            except (Skip, Missing, Undefined):
                continue
            if satisfied(lhs, lin.op):
                continue
            candidates = [
                (key, coef, c)
                for key, coef in lin.terms.items()
                if key in evidence and coef
                for c in _cells_of(ctx, key)
            ]
            if len(candidates) > _MAX_SOLVE_CELLS:
                continue  # a long table column: each try re-checks the table (bounded cost per workbook)
            for key, coef, cell in candidates:
                if cell not in found:
                    _solve(ctx, rule, others, index, failing, found, cell, key, lhs.mid / coef)
        if not found:
            continue
        most = max(len(fixed) for _, fixed in found.values())
        best = [cell for cell, (_, fixed) in found.items() if len(fixed) == most]
        if len(best) != 1:
            continue  # two cells explain as much: keep pointing at the total
        cell = best[0]
        w, fixed = found[cell]
        shown = _fmt(w, _decimals(ctx, cell), _unit(ctx, cell))
        why = f"与另外 {len(fixed)} 项核对同时指向此格：填为 {shown} 时各项均相符"
        for _, f in [(rule, finding), *fixed]:
            if id(f) not in replace:
                replace[id(f)] = _moved(ctx, f, cell, why, {cell: w})


def _solve(
    ctx: Context,
    rule: Any,
    others: list[tuple[Any, Finding]],
    index: dict[Any, list[Any]],
    failing: set,
    found: dict[Cell, tuple[Decimal, list[tuple[Any, Finding]]]],
    cell: Cell,
    key: Any,
    shift: Decimal,
) -> None:
    """Try the value ``v - shift`` in ``cell`` (see ``_solved``); record the failed checks it fixes."""
    v = _value(ctx, cell)
    if v is None:
        return
    try:
        w = (v - shift).quantize(Decimal(1).scaleb(-_decimals(ctx, cell)))
    except ArithmeticError:
        return
    if w == v or (w < 0 <= v):
        return
    patched = Patched(ctx, {cell: w})
    if _fails(rule, patched):
        return
    reading = [(r, f) for r, f in others if key in r.inputs]
    if any(_fails(r, patched) for r, _ in reading):
        return  # a check on this very cell still fails: not the slip (or not the only one)
    if any(_fails(r, patched) for r in index.get(key, ()) if r not in failing):
        return  # the value would break a check that holds
    fixed = [(r, f) for r, f in others if not _fails(r, patched)]
    if reading:
        found[cell] = (w, fixed)


def _moved(ctx: Context, finding: Finding, cell: Cell, why: str, edits: dict[Cell, Decimal]) -> Finding:
    ref, label = _ref(ctx, cell)
    v = _value(ctx, cell)
    d = _decimals(ctx, cell)
    typed = _fmt(v, d, _unit(ctx, cell)) if v is not None else "（空）"
    message = f"“{label}”填写为 {typed}，{why}。{finding.message}"
    others = [_ref(ctx, c)[0] for c in edits if c != cell]
    cells = (ref, *others, *(c for c in finding.cells if c != ref and c not in others))
    operands = dict(finding.operands)
    operands["culprit"] = str(ref)
    operands["suggested"] = {str(_ref(ctx, c)[0]): _fmt(w, _decimals(ctx, c)) for c, w in edits.items()}
    return dataclasses.replace(finding, sheet=ref.sheet, cell=ref.cell, message=message, cells=cells, operands=operands)


def _touching(catalogue: Any) -> dict[Any, list[Any]]:
    """Input key (field id or (table, column)) → the expression rules that read it."""
    cached = getattr(catalogue, "_touching_index", None)
    if cached is not None:
        return cached
    index: dict[Any, list[Any]] = {}
    for rule in catalogue.rules:
        for key in getattr(rule, "inputs", ()):
            index.setdefault(key, []).append(rule)
    catalogue._touching_index = index
    return index


__all__ = ["Patched", "locate_culprits"]
