"""Plant realistic clerk mistakes (and harmless variations) into the clean samples.

Each ``Planted`` case is one workbook: a clean department (samples/inbox 02 and 03,
which pass every rule) with ONE mistake typed in, or one benign variation that must
raise nothing. It records the cell(s) mistyped and whether the mistake is
*detectable* — decided here from the form's own arithmetic, independently of the
rule engine: a change inside the rounding tolerance of every relation the cell is in
(a last-digit slip in an 18-line sum) is planted but not detectable; two income rows
swapped leave every total intact and are not detectable either.

Workbooks are written with ``xlproc.template.fill`` (numbers as numbers, text as the
clerk typed it); ``office=True`` cases are then re-saved by LibreOffice, and ``lo``
cases are edited inside LibreOffice (rows inserted, comments, colours) through
tests/lo_edit.py. Error values (#DIV/0! …) are written into the sheet XML as Excel
stores them.

Everything is deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from xlproc.io.office import resave_xlsx
from xlproc.reading.workbook import read_workbook
from xlproc.rules import run_checks
from xlproc.rules.types import TYPES
from xlproc.submission import Submission
from xlproc.template.fill import fill_workbook

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
LO_EDIT = ROOT / "tests" / "lo_edit.py"
SYSTEM_PYTHON = "/usr/bin/python3"
CENT = Decimal("0.01")

BASES = {"02": "司法局", "03": "柳林镇"}
CLASSES = ["201", "204", "205", "206", "207", "208", "210", "211", "212", "213", "214", "215", "216", "220", "221", "222", "224", "229"]  # fmt: skip
SANGONG_ROWS = ["abroad", "car_purchase", "car_operation", "reception"]

# The form's sum relations (total, parts): what a changed figure can break.
RELATIONS = [
    (
        "budget_income_total",
        [f"budget_income_{r}" for r in ("general", "fund", "soe", "special_account", "other", "carryover")],
    ),
    ("budget_income_total", [f"budget_exp_{c}" for c in CLASSES]),
    ("final_income_total", ["final_income_fiscal", "final_income_other"]),
    ("assets_total", ["cash", "other_receivables", "fixed_assets_net", "other_assets"]),
    ("budget_sangong", [f"sangong_{r}_budget" for r in SANGONG_ROWS]),
]
TOTALS = ["budget_income_total", "final_income_total", "assets_total", "budget_sangong"]
DECLARED_RATIOS = {
    "declared_debt_ratio": ("liabilities_total", "assets_total"),
    "declared_cash_ratio": ("cash", "current_liabilities"),
    "declared_current_ratio": ("current_assets", "current_liabilities"),
    "declared_newness_ratio": ("fixed_assets_net", "fixed_assets_original"),
}
FREE_AMOUNTS = ["new_asset_budget", "direct_funds", "temp_payment_new", "special_funds_spent", "carryover_balance", "poverty_reserved"]  # fmt: skip
ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!"]

Site = Any  # field id, or (table id, row index, column id)


@dataclass
class Planted:
    id: str
    kind: str
    base: str
    values: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    sites: list[Site] = field(default_factory=list)
    detectable: bool = True
    benign: bool = False
    previous: bool = False  # check with last year's workbook (--previous)
    office: bool = False  # re-saved by LibreOffice
    lo_ops: list[dict[str, Any]] = field(default_factory=list)  # edited inside LibreOffice
    errors: dict[str, str] = field(default_factory=dict)  # field id → error value, or a number typed over a formula


@dataclass
class Base:
    key: str
    sub: Submission
    values: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    previous: Submission
    prev_values: dict[str, Any]


def _inputs(sub: Submission) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    values = {fid: fv.value for fid, fv in sub.fields.items() if sub.spec.fields[fid].is_input and fv.value is not None}
    tables = {
        tid: [{k: v for k, v in r.items() if k != "row"} for r in td.rows] for tid, td in sub.tables.items() if td.rows
    }
    return values, tables


def load_bases() -> list[Base]:
    out = []
    for key, name in BASES.items():
        sub = read_workbook(next((SAMPLES / "inbox").glob(f"{key}_*{name}*.xlsx")))
        prev = read_workbook(next((SAMPLES / "previous").glob(f"{key}_*{name}*.xlsx")))
        values, tables = _inputs(sub)
        out.append(Base(key, sub, values, tables, prev, _inputs(prev)[0]))
    return out


# -- helpers --------------------------------------------------------------------------


def _q(v: Decimal, d: int = 2) -> Decimal:
    return v.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)


def _num(b: Base, fid: str) -> Decimal | None:
    v = b.values.get(fid)
    return v if isinstance(v, Decimal) else None


def _tolerance(b: Base, total: str, parts: list[str]) -> Decimal:
    """Half a cent for the total and for every filled part: the relation's rounding slack."""
    filled = sum(1 for p in parts if _num(b, p) is not None)
    return Decimal("0.005") * (filled + 1)


def _detectable(b: Base, fid: str, delta: Decimal) -> bool:
    """Does changing ``fid`` by ``delta`` break one of the sum relations it is in?"""
    tols = [_tolerance(b, t, ps) for t, ps in RELATIONS if fid == t or fid in ps]
    return bool(tols) and abs(delta) > min(tols)


def _relation_cells(b: Base) -> list[str]:
    cells = []
    for t, ps in RELATIONS:
        for f in [t, *ps]:
            v = _num(b, f)
            if v is not None and v != 0 and f not in cells:
                cells.append(f)
    return cells


def _transposed(v: Decimal, rng: random.Random) -> Decimal | None:
    text = f"{v:.2f}"
    spots = [i for i in range(len(text) - 1) if text[i] != text[i + 1] and text[i].isdigit() and text[i + 1].isdigit()]
    spots = [i for i in spots if not (i == 0 and text[1] == "0")]
    if not spots:
        return None
    i = rng.choice(spots)
    chars = list(text)
    chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return Decimal("".join(chars))


def _case(
    b: Base, kind: str, n: int, values: dict[str, Any] | None = None, tables: dict | None = None, **kw: Any
) -> Planted:
    vals = dict(b.values)
    vals.update(values or {})
    tabs = {k: [dict(r) for r in v] for k, v in b.tables.items()}
    tabs.update(tables or {})
    return Planted(f"{b.key}-{kind}-{n}", kind, b.key, vals, tabs, **kw)


# -- mistake kinds: each returns one Planted for (base, rng), or None when the base has no site --


def k_part_changed(b, rng, n):
    _total, parts = rng.choice(RELATIONS)
    sites = [p for p in parts if _num(b, p)]
    fid = rng.choice(sites)
    v = _num(b, fid)
    w = _q(v * (1 + Decimal(rng.choice([-1, 1])) * Decimal(rng.randint(3, 30)) / 100))
    return _case(b, "part_changed", n, {fid: w}, sites=[fid], detectable=_detectable(b, fid, w - v))


def k_total_changed(b, rng, n):
    fid = rng.choice([t for t in TOTALS if _num(b, t)])
    v = _num(b, fid)
    w = _q(v + Decimal(rng.choice([-1, 1])) * max(CENT * rng.randint(5, 90), _q(v * rng.randint(1, 20) / 100)))
    return _case(b, "total_changed", n, {fid: w}, sites=[fid], detectable=_detectable(b, fid, w - v))


def k_digit_transposition(b, rng, n):
    for _ in range(20):
        fid = rng.choice(_relation_cells(b))
        w = _transposed(_num(b, fid), rng)
        if w is not None:
            return _case(
                b, "digit_transposition", n, {fid: w}, sites=[fid], detectable=_detectable(b, fid, w - _num(b, fid))
            )
    return None


def _share_amounts(b: Base) -> list[str]:
    """决算 amounts with a declared 占比: a slip there moves the total and every share."""
    return [
        f"final_exp_{c}_amount" for c in CLASSES if _num(b, f"final_exp_{c}_amount") and _num(b, f"final_exp_{c}_share")
    ]


def k_yuan_as_wan(b, rng, n):
    fid = rng.choice(_relation_cells(b) + _share_amounts(b) + [f for f in FREE_AMOUNTS if _num(b, f)])
    v = _num(b, fid)
    return _case(
        b,
        "yuan_as_wan",
        n,
        {fid: v * 10000},
        sites=[fid],
        detectable=_detectable(b, fid, v * 9999) or v * 10000 >= 5 * _num(b, "budget_income_total"),
    )


def k_decimal_dropped(b, rng, n):
    fid = rng.choice([f for f in _relation_cells(b) + _share_amounts(b) if _num(b, f) % 1 != 0])
    v = _num(b, fid)
    shares = fid in _share_amounts(b)
    return _case(b, "decimal_dropped", n, {fid: v * 100}, sites=[fid], detectable=shares or _detectable(b, fid, v * 99))


def k_decimal_shifted(b, rng, n):
    fid = rng.choice(_relation_cells(b) + _share_amounts(b))
    v = _num(b, fid)
    w = v * 10 if rng.random() < 0.5 else _q(v / 10)
    shares = fid in _share_amounts(b) and abs(w - v) >= 1
    return _case(b, "decimal_shifted", n, {fid: w}, sites=[fid], detectable=shares or _detectable(b, fid, w - v))


def k_last_digit(b, rng, n):
    fid = rng.choice(_relation_cells(b))
    v = _num(b, fid)
    delta = CENT * rng.choice([-9, -7, -5, -3, -1, 1, 2, 4, 6, 8, 9])
    w = v + delta if v + delta > 0 else v - delta
    return _case(b, "last_digit", n, {fid: w}, sites=[fid], detectable=_detectable(b, fid, w - v))


def k_over_budget(b, rng, n):
    if rng.random() < 0.5:
        rows = [r for r in SANGONG_ROWS if _num(b, f"sangong_{r}_budget")]
        r = rng.choice(rows)
        fid = f"sangong_{r}_actual"
        w = _num(b, f"sangong_{r}_budget") + CENT * rng.randint(5, 300)
        return _case(b, "over_budget", n, {fid: w}, sites=[fid])
    # 三保: one row's 安排 raised beyond what the budget can hold
    rows = [r for r in ("livelihood", "wage", "operation") if _num(b, f"sanbao_{r}_plan")]
    r = rng.choice(rows)
    fid = f"sanbao_{r}_plan"
    total = sum(_num(b, f"sanbao_{x}_plan") or 0 for x in ("livelihood", "wage", "operation"))
    room = _num(b, "budget_income_total") - total
    w = _num(b, fid) + room + _q(Decimal(rng.randint(5, 200)))
    return _case(b, "over_budget", n, {fid: w}, sites=[fid])


def k_share_ratio(b, rng, n):
    if rng.random() < 0.5:
        rows = [c for c in CLASSES if _num(b, f"final_exp_{c}_share")]
        fid = f"final_exp_{rng.choice(rows)}_share"
        w = _num(b, fid) + Decimal(rng.choice([-1, 1])) * CENT * rng.randint(20, 300)
        return _case(b, "share_ratio", n, {fid: abs(w)}, sites=[fid])
    fid = rng.choice([f for f in DECLARED_RATIOS if _num(b, f)])
    v = _num(b, fid)
    w = _q(v * (1 + Decimal(rng.choice([-1, 1])) * Decimal(rng.randint(3, 25)) / 100))
    return _case(b, "share_ratio", n, {fid: w}, sites=[fid])


def k_register(b, rng, n):
    rows = b.tables.get("projects", [])
    i = rng.randrange(len(rows))
    col = rng.choice(["midyear", "yearend"])
    tabs = {"projects": [dict(r) for r in rows]}
    tabs["projects"][i][col] = None
    return _case(b, "register_contradiction", n, tables=tabs, sites=[("projects", i, col)])


def k_required_blank(b, rng, n):
    spec = b.sub.spec
    fid = rng.choice([f.id for f in spec.fields.values() if f.required and f.is_input and f.id in b.values])
    return _case(b, "required_blank", n, {fid: None}, sites=[fid])


def k_text_in_number(b, rng, n):
    spec = b.sub.spec
    fid = rng.choice(
        [f.id for f in spec.fields.values() if f.is_input and f.type in ("money", "count") and f.id in b.values]
    )
    v = b.values[fid]
    text = rng.choice([f"约{v}", f"{v}左右", "待定", f"{v}？", "见附件", "—", "/", "无", f"{v},5"])
    return _case(b, "text_in_number", n, {fid: text}, sites=[fid])


def k_adjacent_swap(b, rng, n):
    choice = rng.randrange(3)
    if choice == 0:
        rows = [
            r for r in SANGONG_ROWS if (_num(b, f"sangong_{r}_budget") or 0) > (_num(b, f"sangong_{r}_actual") or 0)
        ]
        if rows:
            r = rng.choice(rows)
            a, c = f"sangong_{r}_budget", f"sangong_{r}_actual"
            return _case(b, "adjacent_swap", n, {a: b.values[c], c: b.values[a]}, sites=[a, c])
    if choice == 1:
        rows = [c for c in CLASSES if _num(b, f"final_exp_{c}_share") and _num(b, f"final_exp_{c}_amount")]
        c = rng.choice(rows)
        a, s = f"final_exp_{c}_amount", f"final_exp_{c}_share"
        if b.values[a] != b.values[s]:
            return _case(b, "adjacent_swap", n, {a: b.values[s], s: b.values[a]}, sites=[a, s])
    # two income rows swapped: every total still holds, nothing can tell
    pairs = [("budget_income_general", "budget_income_fund"), ("budget_income_other", "budget_income_carryover")]
    a, c = rng.choice(pairs)
    if b.values.get(a) == b.values.get(c):
        return None
    return _case(b, "adjacent_swap", n, {a: b.values.get(c), c: b.values.get(a)}, sites=[a, c], detectable=False)


def k_score(b, rng, n):
    cats = [c for c in b.sub.spec.rubric.categories if c.kind == "score"]
    cat = rng.choice(cats)
    fid = f"score_{cat.id}_score"
    w = cat.max + Decimal(rng.choice(["0.5", "1", "2.5", "10"])) if rng.random() < 0.7 else Decimal("-1")
    return _case(b, "score", n, {fid: w}, sites=[fid])


def k_invalid_choice(b, rng, n):
    spec = b.sub.spec
    fid = rng.choice([f.id for f in spec.fields.values() if f.type == "enum" and f.is_input and f.id in b.values])
    return _case(b, "invalid_choice", n, {fid: rng.choice(["有", "是的", "√", "不适用（无）", "待定"])}, sites=[fid])


def k_invalid_date(b, rng, n):
    fid = rng.choice(["fill_date", "report_date", "invoice_writeoff_date"])
    return _case(
        b, "invalid_date", n, {fid: rng.choice(["2023-02-30", "2023年13月5日", "去年年底", "2023.12.32"])}, sites=[fid]
    )


def k_negative(b, rng, n):
    fid = rng.choice(FREE_AMOUNTS)
    v = _num(b, fid) or Decimal(rng.randint(1, 50))
    typed = rng.choice(
        [-abs(v), f"（{abs(v):.2f}）", f"\u2212{abs(v):.2f}"]
    )  # as typed, an accountant's brackets, Word's minus
    return _case(b, "negative_amount", n, {fid: typed}, sites=[fid])


def k_excess_decimals(b, rng, n):
    fid = rng.choice([f for f in FREE_AMOUNTS + _relation_cells(b) if _num(b, f)])
    w = _num(b, fid) + Decimal(rng.randint(1, 4)) / 1000
    return _case(b, "excess_decimals", n, {fid: w}, sites=[fid])


def k_error_value(b, rng, n):
    spec = b.sub.spec
    fid = rng.choice(
        [
            f.id
            for f in spec.fields.values()
            if f.is_input and f.type in ("money", "count", "percent") and f.id in b.values
        ]
    )
    return _case(b, "error_value", n, {fid: None}, sites=[fid], errors={fid: rng.choice(ERRORS)})


def k_year_left(b, rng, n):
    return _case(b, "year_left_at_last_year", n, {"year": b.values["year"] - 1}, sites=["year"])


def k_date_wrong_year(b, rng, n):
    fid, shift = rng.choice([("report_date", 1), ("fill_date", -1), ("fill_date", 2), ("invoice_writeoff_date", -1)])
    d: date = b.values[fid]
    return _case(b, "date_wrong_year", n, {fid: d.replace(year=d.year + shift)}, sites=[fid])


def _copy_column(b: Base, kind: str, n: int, source: dict[str, Any], previous: bool) -> Planted:
    grid = "sangong" if n % 2 == 0 else "other_fees"
    rows = SANGONG_ROWS if grid == "sangong" else ["meeting", "training"]
    changes, sites, informative = {}, [], 0
    for r in rows:
        mine = f"{grid}_{r}_actual"
        theirs = source.get(f"{grid}_{r}_actual" if previous else f"{grid}_{r}_prev_actual")
        if theirs is None:
            continue
        if theirs != 0:
            informative += 1
        if theirs != b.values.get(mine):
            changes[mine] = theirs
            sites.append(mine)
    return _case(b, kind, n, changes, sites=sites, previous=previous, detectable=bool(sites) and informative >= 2)


def k_copied_within(b, rng, n):
    return _copy_column(b, "copied_column_within", n, b.values, previous=False)


def k_copied_previous(b, rng, n):
    return _copy_column(b, "copied_column_from_last_year", n, b.prev_values, previous=True)


def k_copied_sheet(b, rng, n):
    spec = b.sub.spec
    ids = [f.id for f in spec.fields.values() if f.sheet == "final" and f.is_input and f.is_numeric]
    changes = {f: b.prev_values.get(f) for f in ids if b.prev_values.get(f) != b.values.get(f)}
    nonzero = sum(1 for f in ids if b.prev_values.get(f))
    return _case(
        b, "copied_sheet_from_last_year", n, changes, sites=list(changes), previous=True, detectable=nonzero >= 2
    )


def k_same_fact(b, rng, n):
    fid = rng.choice(["vehicle_count", "vehicle_actual"])
    v = b.values[fid]
    return _case(
        b, "same_fact_differs", n, {fid: v + rng.choice([1, 2]) if v < 3 or rng.random() < 0.5 else v - 1}, sites=[fid]
    )


def k_list_count(b, rng, n):
    if rng.random() < 0.6:
        v = b.values["internal_org_count"]
        return _case(
            b, "list_count", n, {"internal_org_count": v + rng.choice([-1, 1, 2])}, sites=["internal_org_count"]
        )
    names = b.values["internal_org_names"].split("、")
    return _case(b, "list_count", n, {"internal_org_names": "、".join(names[:-1])}, sites=["internal_org_names"])


def k_sangong_fees(b, rng, n):
    extra = (_num(b, "other_fees_meeting_budget") or 0) + (_num(b, "other_fees_training_budget") or 0)
    if rng.random() < 0.5:
        return _case(
            b,
            "sangong_includes_fees",
            n,
            {"budget_sangong": _num(b, "budget_sangong") + extra},
            sites=["budget_sangong"],
        )
    r = rng.choice([x for x in SANGONG_ROWS if _num(b, f"sangong_{x}_budget")])
    fid = f"sangong_{r}_budget"
    return _case(b, "sangong_includes_fees", n, {fid: _num(b, fid) + extra}, sites=[fid])


def k_fees_over_budget(b, rng, n):
    r = rng.choice(["meeting", "training"])
    fid = f"other_fees_{r}_actual"
    return _case(
        b, "fees_over_budget", n, {fid: _num(b, f"other_fees_{r}_budget") + CENT * rng.randint(5, 150)}, sites=[fid]
    )


def k_part_exceeds_whole(b, rng, n):
    rows = b.tables["projects"]
    i = rng.randrange(len(rows))
    total = sum((_num(b, f"budget_exp_{c}") or 0) for c in CLASSES)
    tabs = {"projects": [dict(r) for r in rows]}
    tabs["projects"][i]["amount"] = _q(total * Decimal(rng.choice(["1.3", "2", "3.5"])))
    return _case(b, "part_exceeds_whole", n, tables=tabs, sites=[("projects", i, "amount")])


COMPUTED = ["sangong_total_actual", "sangong_total_budget", "budget_exp_total", "final_exp_total_amount", "sanbao_total_plan", "nontax_actual_total", "debt_ratio", "cash_ratio", "project_count", "achieved_count", "monitored_count", "score_total", "score_converted"]  # fmt: skip


def k_typed_over(b, rng, n):
    """A computed cell (total, ratio, register count) whose formula was replaced by a typed number."""
    fid = rng.choice([f for f in COMPUTED if isinstance(b.sub.fields[f].value, Decimal)])
    v = b.sub.fields[fid].value
    d = b.sub.spec.decimals(b.sub.spec.fields[fid]) or 0
    if rng.random() < 0.3:
        typed = _q(v, d)  # the right figure, but the form's formula is gone
    else:
        typed = _q(v + max(Decimal(1).scaleb(-d) * rng.randint(3, 50), _q(abs(v) * rng.randint(2, 20) / 100, d)), d)
    return _case(b, "typed_over_formula", n, sites=[fid], errors={fid: f"{typed}"})


KINDS = {
    "part_changed": k_part_changed,
    "total_changed": k_total_changed,
    "digit_transposition": k_digit_transposition,
    "yuan_as_wan": k_yuan_as_wan,
    "decimal_dropped": k_decimal_dropped,
    "decimal_shifted": k_decimal_shifted,
    "last_digit": k_last_digit,
    "over_budget": k_over_budget,
    "share_ratio": k_share_ratio,
    "register_contradiction": k_register,
    "required_blank": k_required_blank,
    "text_in_number": k_text_in_number,
    "adjacent_swap": k_adjacent_swap,
    "score": k_score,
    "invalid_choice": k_invalid_choice,
    "invalid_date": k_invalid_date,
    "negative_amount": k_negative,
    "excess_decimals": k_excess_decimals,
    "error_value": k_error_value,
    "year_left_at_last_year": k_year_left,
    "date_wrong_year": k_date_wrong_year,
    "copied_column_within": k_copied_within,
    "copied_column_from_last_year": k_copied_previous,
    "copied_sheet_from_last_year": k_copied_sheet,
    "same_fact_differs": k_same_fact,
    "list_count": k_list_count,
    "sangong_includes_fees": k_sangong_fees,
    "fees_over_budget": k_fees_over_budget,
    "part_exceeds_whole": k_part_exceeds_whole,
}
if "formula_typed_over" in TYPES:  # the reader sees formulas replaced by typed numbers
    KINDS["typed_over_formula"] = k_typed_over
OFFICE_KINDS = (
    "digit_transposition",
    "text_in_number",
    "yuan_as_wan",
    "required_blank",
    "invalid_choice",
    "over_budget",
)


# -- benign variants: must raise nothing ----------------------------------------------


def _unrounded(b: Base, rng: random.Random, fid: str) -> Decimal:
    """The figure before it was rounded to what the department typed."""
    v = _num(b, fid) or Decimal(0)
    return v + Decimal(rng.randint(-499, 499)) / 100000


def benign_cases(b: Base, rng: random.Random, n: int) -> list[Planted]:
    out = []
    # totals off by a cent from the sum of rounded parts (each part was rounded)
    for fid in ("final_income_total", "assets_total"):
        out.append(_case(b, "benign_rounding_total", n, {fid: _num(b, fid) + CENT * rng.choice([-1, 1])}, benign=True))
    # declared ratios and shares computed by another system from unrounded figures
    vals = {}
    for fid, (a, d) in DECLARED_RATIOS.items():
        if _num(b, fid) is not None and _num(b, d):
            vals[fid] = _q(_unrounded(b, rng, a) / _unrounded(b, rng, d) * 100)
    out.append(_case(b, "benign_rounding_ratio", n, vals, benign=True))
    amounts = {c: _unrounded(b, rng, f"final_exp_{c}_amount") for c in CLASSES if _num(b, f"final_exp_{c}_amount")}
    total = sum(amounts.values())
    shares = {
        f"final_exp_{c}_share": _q(a / total * 100) for c, a in amounts.items() if f"final_exp_{c}_share" in b.values
    }
    out.append(_case(b, "benign_rounding_share", n, shares, benign=True))
    # numbers typed as text: separators, full-width digits, a trailing unit
    money = [f for f in _relation_cells(b) if _num(b, f)]
    fid = rng.choice(money)
    v = _num(b, fid)
    out.append(_case(b, "benign_text_separators", n, {fid: f"{v:,.2f}"}, benign=True))
    full = str.maketrans("0123456789.", "０１２３４５６７８９．")
    fid2 = rng.choice(money)
    out.append(_case(b, "benign_fullwidth_digits", n, {fid2: f"{_num(b, fid2):.2f}".translate(full)}, benign=True))
    fid3 = rng.choice(money)
    v3 = _num(b, fid3)
    suffixed = rng.choice([f"{v3:.2f}万元", f"{v3:.2f}万", f"{v3:.2f}（万元）", f"￥{v3:.2f}", f"{v3:.2f} 万元"])
    out.append(_case(b, "benign_unit_suffix", n, {fid3: suffixed}, benign=True))
    # a blank row left inside a table
    rows = b.tables.get("projects", [])
    if len(rows) < b.sub.spec.tables["projects"].rows:
        i = rng.randrange(1, len(rows) + 1)
        out.append(_case(b, "benign_blank_table_row", n, tables={"projects": [*rows[:i], {}, *rows[i:]]}, benign=True))
    return out


def office_benign(b: Base) -> list[Planted]:
    """Variations made inside LibreOffice (slow: a few per corpus)."""
    sub = b.sub
    fv = sub.fields["staff_actual"]
    goals = sub.tables.get("goals")
    first_goal_row = int(goals.rows[0]["row"]) if goals and goals.rows else 6
    return [
        _case(b, "benign_libreoffice_resave", 0, benign=True, office=True),
        _case(
            b,
            "benign_comment_colour",
            0,
            benign=True,
            lo_ops=[
                {"op": "comment", "sheet": fv.sheet, "cell": fv.cell, "text": "按2023年底人数填报"},
                {"op": "colour", "sheet": fv.sheet, "cell": fv.cell, "rgb": "FFFF00"},
            ],
        ),
        _case(
            b,
            "benign_inserted_rows",
            0,
            benign=True,
            lo_ops=[
                {
                    "op": "insert_rows",
                    "sheet": goals.sheet if goals else "绩效目标",
                    "row": first_goal_row + 1,
                    "count": 2,
                }
            ],
        ),
    ]


def generate(per_kind: int = 4, seed: int = 2024, office: int = 1) -> list[Planted]:
    """Every kind ``per_kind`` times per clean base, the benign variants, and ``office``
    LibreOffice-re-saved cases per office kind (plus the LibreOffice benign variants)."""
    cases: list[Planted] = []
    for b in load_bases():
        for kind, make in KINDS.items():
            rng = random.Random(f"{seed}-{b.key}-{kind}")
            made = 0
            for n in range(per_kind * 3):
                if made == per_kind:
                    break
                p = make(b, rng, n)
                if p is not None:
                    cases.append(p)
                    made += 1
        rng = random.Random(f"{seed}-{b.key}-benign")
        for n in range(max(1, per_kind // 2)):
            cases += benign_cases(b, rng, n)
        if office:
            for kind in OFFICE_KINDS:
                rng = random.Random(f"{seed}-{b.key}-{kind}-office")
                for n in range(office):
                    p = KINDS[kind](b, rng, 100 + n)
                    if p is not None:
                        p.office = True
                        p.id += "-office"
                        cases.append(p)
            cases += office_benign(b)
    return cases


# -- writing and checking -----------------------------------------------------------------


def _write_cells(path: Path, sub: Submission, cells: dict[str, str]) -> None:
    """Rewrite cells in the sheet XML: ``#…`` as an error result of a formula (t="e"), as
    Excel stores #DIV/0!; anything else as a typed number replacing the cell's formula."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet_files = _sheet_files(parts)
    for fid, value in cells.items():
        fv = sub.fields[fid]
        name = sheet_files[fv.sheet]
        xml = parts[name].decode("utf-8")
        pattern = re.compile(rf'<c r="{fv.cell}"([^>]*?)(/>|>.*?</c>)', re.S)
        m = pattern.search(xml)
        if m is None:
            continue
        attrs = re.sub(r'\s+t="[^"]*"', "", m.group(1))
        if value.startswith("#"):
            cell = f'<c r="{fv.cell}"{attrs} t="e"><f>1/0</f><v>{value}</v></c>'
        else:
            cell = f'<c r="{fv.cell}"{attrs}><v>{value}</v></c>'
        parts[name] = pattern.sub(lambda _m, c=cell: c, xml, count=1).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


def _sheet_files(parts: dict[str, bytes]) -> dict[str, str]:
    wb = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb):
        t = targets[rid].lstrip("/")
        out[name] = t if t.startswith("xl/") else f"xl/{t}"
    return out


def materialize(p: Planted, folder: Path, base_sub: Submission) -> Path:
    """Write the case's workbook into ``folder`` (through LibreOffice when the case says so)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{p.id}.xlsx"
    values = {k: v for k, v in p.values.items() if v is not None}
    fill_workbook(path, values, p.tables, spec=base_sub.spec)  # the base's own edition, whatever the default
    if p.errors:
        _write_cells(path, base_sub, p.errors)
    if p.office:
        out = resave_xlsx(path, folder / f"{p.id}-lo")
        shutil.move(out, path)
    if p.lo_ops:
        ops_file = folder / f"{p.id}.json"
        ops_file.write_text(json.dumps(p.lo_ops, ensure_ascii=False), encoding="utf-8")
        edited = folder / f"{p.id}-edited.xlsx"
        subprocess.run([SYSTEM_PYTHON, str(LO_EDIT), str(path), str(edited), str(ops_file)], check=True, timeout=300)
        shutil.move(edited, path)
    return path


@dataclass
class Outcome:
    case: Planted
    found: bool
    at_cell: bool
    new_findings: list[str]


def _site_cells(sub: Submission, sites: list[Site]) -> set[tuple[str, str]]:
    out = set()
    for s in sites:
        if isinstance(s, tuple):
            tid, i, col = s
            td = sub.tables[tid]
            rows = [r for r in td.rows]
            if i < len(rows):
                out.add((td.sheet, td.cell(int(rows[i]["row"]), col)))
        else:
            fv = sub.fields[s]
            out.add((fv.sheet, fv.cell))
    return out


_BASELINE: dict[tuple[str, bool], set[tuple[str, str, str]]] = {}


def evaluate(p: Planted, path: Path, bases: dict[str, Base]) -> Outcome:
    b = bases[p.base]
    prev = b.previous if p.previous else None
    key = (p.base, p.previous)
    if key not in _BASELINE:
        report = run_checks(b.sub, previous=prev)
        _BASELINE[key] = {(f.rule_id, f.sheet, f.cell) for f in report.findings}
    sub = read_workbook(path)
    report = run_checks(sub, previous=prev)
    new = [f for f in report.findings if (f.rule_id, f.sheet, f.cell) not in _BASELINE[key]]
    cells = _site_cells(b.sub, p.sites)
    at_cell = any((f.sheet, f.cell) in cells for f in new)
    return Outcome(p, bool(new), at_cell, [f"{f.rule_id}@{f.sheet}!{f.cell}: {f.message}" for f in new])
