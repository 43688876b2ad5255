"""Figures copied instead of updated (form.yaml ``relations.fresh``).

``copied`` with ``source: previous`` compares this year's workbook with last year's
(``--previous``): a whole sheet of figures identical to last year's sheet (a 决算
sheet not updated), or a grid column equal, row by row, to last year's column (this
year's 三公 本年实际 = last year's 本年实际). ``source: within`` compares two columns of
this year's grid (本年实际 typed as a copy of 上年实际). Only figures that carry
information count: a column of zeros or blanks is never "copied".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..form.spec import FormSpec
from ..results import CellRef, Finding
from .builtin import message_template
from .context import Context
from .expr import Compiler
from .messages import fmt_value, render
from .relations import Fresh, relations_of
from .types import Rule, RuleInfo, register

_NAMES = ("what", "count", "cells", "values")


def _figures(ctx: Context, refs: list[str]) -> list[tuple[str, CellRef, Decimal | None]]:
    """(ref, cell, value) of fields; value None when blank or unreadable."""
    out = []
    for fid in refs:
        fv = ctx.fields.get(fid)
        if fv is None:
            continue
        v = fv.value if isinstance(fv.value, Decimal) and fv.value.is_finite() and not fv.problem else None
        out.append((fid, CellRef(fv.sheet, fv.cell), v))
    return out


def _table_figures(ctx: Context, tables: list[tuple[str, str]]) -> list[tuple[str, CellRef, Decimal | None]]:
    out = []
    for tid, cid in tables:
        td = ctx.sub.tables.get(tid)
        if td is None:
            continue
        for n, r in enumerate(td.rows):
            v = r.get(cid)
            out.append(
                (
                    f"{tid}.{cid}[{n}]",
                    CellRef(td.sheet, td.cell(int(r["row"]), cid)),
                    v if isinstance(v, Decimal) and v.is_finite() else None,
                )
            )
    return out


class CopiedRule(Rule):
    def __init__(
        self,
        info: RuleInfo,
        source: str,
        groups: list[tuple[str, list[str], list[str], list[tuple[str, str]]]],
        message: str,
        min_figures: int,
    ):
        self.info = info
        self.source = source
        self.reads_previous = source == "previous"
        self.groups = groups  # (what, this-year refs, compared refs, table columns)
        self.message = message
        self.min_figures = min_figures

    def run(self, ctx: Context, out: list[Finding]) -> None:
        other = ctx.prev if self.reads_previous else ctx
        if other is None:
            return
        for what, refs, against, tables in self.groups:
            mine = _figures(ctx, refs) + _table_figures(ctx, tables)
            theirs = _figures(other, against) + _table_figures(other, tables)
            if len(mine) != len(theirs) or not mine:
                continue
            informative = 0
            same = True
            for (_, _, a), (_, _, b) in zip(mine, theirs, strict=True):
                if a is None and b is None:
                    continue
                if a is None or b is None or a != b:
                    same = False
                    break
                if a != 0:
                    informative += 1
            if not same or informative < self.min_figures:
                continue
            cells = [c for _, c, v in mine if v is not None and v != 0]
            names = {
                "what": what,
                "count": str(informative),
                "cells": "、".join(c.cell for c in cells[:8]) + ("等" if len(cells) > 8 else ""),
                "values": "、".join([fmt_value(v) for _, _, v in mine if v is not None and v != 0][:8]),
            }
            msg = render(self.message, names.__getitem__)
            out.append(self.finding(ctx, msg, cells, [what], operands={"cells": [str(c) for c in cells]}))


@register(
    "copied",
    params=("source", "min_figures", "message"),
    required=("source", "message"),
    doc="照抄未更新：表单 relations.fresh 声明的整张表或整列数字与上年自评表（source: previous）或本表另一列（source: within）完全相同",
)
def build_copied(info: RuleInfo, params: dict[str, Any], spec: FormSpec, compiler: Compiler, fail) -> Rule:
    source = params["source"]
    if source not in ("previous", "within"):
        raise fail("source 应为 previous 或 within")
    min_figures = params.get("min_figures", 2)
    if not isinstance(min_figures, int) or min_figures < 1:
        raise fail("min_figures 应为正整数")
    groups = []
    for f in relations_of(spec).fresh:
        if (source == "within") != f.within:
            continue
        groups.append(_group(spec, compiler, f))
    return CopiedRule(info, source, groups, message_template(params, _NAMES, fail, ""), min_figures)


def _group(spec: FormSpec, compiler: Compiler, f: Fresh) -> tuple[str, list[str], list[str], list[tuple[str, str]]]:
    if f.sheet:
        sheet = spec.sheet(f.sheet)
        refs = [x.id for x in spec.fields.values() if x.sheet == f.sheet and x.is_input and x.is_numeric]
        tables = [(t.id, c.id) for t in spec.tables.values() if t.sheet == f.sheet for c in t.columns if c.is_numeric]
        return f"“{sheet.name}”表", refs, refs, tables
    block = compiler.grids[f.grid]
    col = next(c for c in block.grid_columns if c.id == f.column)
    prev_col = next(c for c in block.grid_columns if c.id == f.prev_column)
    refs = compiler.grid_fields(f.grid, f.column)
    against = compiler.grid_fields(f.grid, f.prev_column)
    what = f"{block.label}“{col.label}”列" + (f"与“{prev_col.label}”列" if f.within else "")
    return what, refs, against, []
