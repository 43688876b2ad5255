"""Property: random valid values written into a generated form read back exactly,
also after LibreOffice has opened and re-saved the file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlproc.form.spec import default_spec
from xlproc.reading.workbook import read_workbook
from xlproc.template.fill import fill_workbook

SPEC = default_spec()
ALPHABET = st.sampled_from(list("部门预算绩效网信办保工资运转ABCxyz0123456789<>&\"'{}%=+-@#（），。、 \n"))


def _scaled(decimals: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(0, high).map(lambda n: Decimal(n).scaleb(-decimals) if decimals else Decimal(n))


def _text() -> st.SearchStrategy[str]:
    return st.text(ALPHABET, min_size=1, max_size=40).map(str.strip).filter(bool)


def value_strategy(f) -> st.SearchStrategy:
    d = SPEC.decimals(f)
    if f.type == "money":
        return _scaled(d, 10**7 * 10**d)
    if f.type in ("percent", "number"):
        return _scaled(d, 10**5 * 10**d)
    if f.type == "count":
        return st.integers(0, 100_000).map(Decimal)
    if f.type == "year":
        return st.integers(2000, 2100).map(Decimal)
    if f.type == "date":
        return st.dates(date(2000, 1, 1), date(2100, 12, 31))
    if f.type == "enum":
        return st.sampled_from(SPEC.enums[f.enum])
    return _text()


INPUTS = [f for f in SPEC.fields.values() if f.is_input]


@st.composite
def submissions(draw):
    values = {f.id: draw(st.none() | value_strategy(f)) for f in INPUTS}
    tables = {}
    for tid, t in SPEC.tables.items():
        n = draw(st.integers(0, min(3, t.rows)))
        rows = []
        for _ in range(n):
            row = {c.id: draw(st.none() | value_strategy(c)) for c in t.columns}
            if all(v is None for v in row.values()):
                row[t.columns[0].id] = draw(value_strategy(t.columns[0]))
            rows.append(row)
        tables[tid] = rows
    return values, tables


def assert_read_back(path, values, tables):
    sub = read_workbook(path)
    assert not sub.problems
    for fid, expected in values.items():
        assert sub.value(fid) == expected, (fid, sub.value(fid), expected)
    for tid, rows in tables.items():
        got = [{k: v for k, v in r.items() if k != "row"} for r in sub.tables[tid].rows]
        assert got == rows, tid


@given(data=submissions())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
def test_random_values_read_back_exactly(tmp_path, data):
    values, tables = data
    path = fill_workbook(tmp_path / "p.xlsx", values, tables)
    assert_read_back(path, values, tables)


@pytest.mark.libreoffice
@given(data=submissions())
@settings(max_examples=3, suppress_health_check=list(HealthCheck))
def test_random_values_survive_libreoffice_resave(tmp_path, lo_resave, data):
    values, tables = data
    path = fill_workbook(tmp_path / "p.xlsx", values, tables)
    assert_read_back(lo_resave(path), values, tables)


def _grouped(text: str, sep: str) -> str:
    """1234567.89 → 1{sep}234{sep}567.89"""
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + sep.join(groups) + dot + frac


@given(
    value=st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    sep=st.sampled_from(["", ",", " ", "，"]),
    unit=st.sampled_from(["", "万元", "万", "（万元）", " 万元"]),
    yen=st.booleans(),
    width=st.booleans(),
)
def test_a_figure_as_clerks_decorate_it_reads_as_the_figure(value, sep, unit, yen, width):
    from xlproc.reading.numbers import parse_number_text

    text = _grouped(f"{value:.2f}", sep) + unit
    if yen and value >= 0:
        text = "￥" + text
    if width:  # typed with a Chinese input method: full-width digits and signs
        text = text.translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－"))
    assert parse_number_text(text, "万元") == (value, "")
    if value < 0:  # an accountant's brackets say the same
        assert parse_number_text(f"（{_grouped(f'{-value:.2f}', sep)}）{unit}", "万元") == (value, "")


@given(
    left=st.integers(1, 9999),
    right=st.integers(0, 99).map(str) | st.integers(1000, 99999).map(str),
    joint=st.sampled_from([" ", "　", "  "]),
)
def test_two_numbers_in_one_cell_are_never_one_figure(left, right, joint):
    from xlproc.reading.numbers import parse_number_text

    value, problem = parse_number_text(f"{left}{joint}{right}", "万元")
    assert value is None and "数字中间有空格" in problem
