"""read_workbook: typed values with their cells, tables, recomputed totals, text in numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from xlproc.reading.workbook import read_workbook

PROJECTS = [
    {
        "name": "甲项目",
        "amount": Decimal("53.70"),
        "pre_eval": "是",
        "midyear": "≥50%",
        "yearend": "是",
        "self_score": Decimal("100"),
        "key_eval": "否",
    },
    {
        "name": "乙项目",
        "amount": Decimal("13.58"),
        "pre_eval": "是",
        "midyear": "<30%",
        "yearend": "是",
        "self_score": Decimal("96"),
        "key_eval": "否",
    },
    {},  # a blank row in the middle: dropped
    {"name": "丙项目", "amount": Decimal("5"), "pre_eval": "否", "midyear": "未开展", "key_eval": "是"},
]


def test_values_are_typed_and_located(make_workbook):
    path = make_workbook(
        {
            "dept_name": "中共某区委网信办",
            "year": 2023,
            "org_level": "正科级",
            "staff_quota": 7,
            "budget_income_general": Decimal("197.05"),
            "budget_income_other": Decimal("0.01"),
            "nontax_plan": Decimal("0.01"),
            "fill_date": date(2024, 1, 15),
            "declared_cash_ratio": Decimal("152.20"),
            "problems_found": "第一行\n第二行 <b>&</b>",
        },
        {"nontax": [{"item": "利息收入", "plan": Decimal("0.01"), "actual": Decimal("0.0044")}]},
    )
    sub = read_workbook(path)
    assert sub.department == "中共某区委网信办"
    assert sub.value("year") == 2023 and sub.value("staff_quota") == 7
    assert sub.value("budget_income_general") == Decimal("197.05")
    assert str(sub.value("declared_cash_ratio")) == "152.2"
    assert sub.value("fill_date") == date(2024, 1, 15)
    assert sub.value("problems_found") == "第一行\n第二行 <b>&</b>"
    assert sub.value("dept_code") is None
    f = sub["budget_income_general"]
    assert (f.sheet, f.cell) == ("收支预算", "B5")
    nontax = sub.tables["nontax"]
    assert nontax.rows == [{"item": "利息收入", "plan": Decimal("0.01"), "actual": Decimal("0.0044"), "row": 22}]
    assert nontax.cell(22, "actual") == "D22"
    assert list(nontax.frame.columns) == ["item", "plan", "actual", "row"]
    assert sub.value("nontax_actual_total") == Decimal("0.0044")
    assert not sub.problems


def test_computed_fields_are_recomputed_not_read_from_cache(make_workbook):
    # xlsxwriter writes no meaningful cached values: every total below comes from the reader.
    values = {
        "sanbao_wage_plan": Decimal("141.92"),
        "sanbao_operation_plan": Decimal("93.42"),
        "liabilities_total": Decimal("0.79"),
        "assets_total": Decimal("23.80"),
        "score_policy_score": Decimal("4.5"),
        "score_budgeting_score": Decimal("12"),
        "score_problems_score": Decimal("1"),
        "score_innovation_score": Decimal("2"),
        "score_debt_applicable": "否",
    }
    sub = read_workbook(make_workbook(values, {"projects": PROJECTS}))
    assert sub.value("sanbao_total_plan") == Decimal("235.34")
    assert sub.value("debt_ratio") == Decimal("3.32")
    assert sub.value("score_total") == Decimal("17.5")  # 4.5 + 12 + 2 (bonus) − 1 (deduction)
    # base = 81.5 − 2 (债务管理 不适用); bonus and deduction kinds never in the base
    assert sub.value("score_converted") == (Decimal("17.5") / Decimal("79.5") * 100).quantize(Decimal("0.01"))
    got = {
        k: sub.value(k)
        for k in (
            "project_count",
            "pre_eval_count",
            "monitored_count",
            "monitor_ge50_count",
            "monitor_lt30_count",
            "monitor_none_count",
            "achieved_count",
            "achieved_amount",
            "not_achieved_count",
            "self_eval_count",
            "self_eval_full_count",
            "self_eval_95_count",
            "self_eval_90_95_count",
            "self_eval_lt90_count",
            "key_eval_count",
        )
    }
    assert got == {
        "project_count": 3,
        "pre_eval_count": 2,
        "monitored_count": 3,
        "monitor_ge50_count": 1,
        "monitor_lt30_count": 1,
        "monitor_none_count": 1,
        "achieved_count": 2,
        "achieved_amount": Decimal("67.28"),
        "not_achieved_count": 0,
        "self_eval_count": 2,
        "self_eval_full_count": 1,
        "self_eval_95_count": 2,
        "self_eval_90_95_count": 0,
        "self_eval_lt90_count": 0,
        "key_eval_count": 1,
    }
    assert [r["row"] for r in sub.tables["projects"].rows] == [6, 7, 9]  # blank row 8 dropped, rows kept
    assert sub["score_total"].computed and sub["score_total"].cell == "B16"


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("budget_income_general", "1,234.50", Decimal("1234.50")),
        ("budget_income_general", "１２３．４５", Decimal("123.45")),
        ("budget_income_general", " 12万元 ", Decimal("12")),
        ("budget_income_general", "197.06", Decimal("197.06")),
        ("budget_income_general", "612.40万", Decimal("612.40")),  # 万 for 万元
        ("budget_income_general", "612.40（万元）", Decimal("612.40")),
        ("budget_income_general", "￥612.40", Decimal("612.40")),
        ("budget_income_general", "（12.50）", Decimal("-12.50")),  # an accountant's negative
        ("budget_income_general", "\u221212.5", Decimal("-12.5")),  # the minus sign Word writes
        ("budget_income_general", "-1,234.50", Decimal("-1234.50")),
        ("budget_income_general", ".5", Decimal("0.5")),
        ("budget_income_general", "1 234.50", Decimal("1234.50")),  # a space as thousands separator
        ("staff_quota", "7个", Decimal("7")),
        ("declared_debt_ratio", "3.32%", Decimal("3.32")),
        ("staff_quota", "７", Decimal("7")),
        ("year", "2023年", Decimal("2023")),
        ("fill_date", "2024年1月5日", date(2024, 1, 5)),
        ("fill_date", "2024/01/05", date(2024, 1, 5)),
        ("fill_date", "2024年1月5号", date(2024, 1, 5)),
        ("fill_date", "20240105", date(2024, 1, 5)),
        ("fill_date", 20240105, date(2024, 1, 5)),  # typed as a number
        ("fill_date", "二〇二四年一月五日", date(2024, 1, 5)),
        ("fill_date", "二〇二三年十二月三十一日", date(2023, 12, 31)),
        ("special_funds_has", "否。", "否"),
        ("org_level", "正科级 ", "正科级"),
    ],
)
def test_text_parsed_with_certainty(make_workbook, field, raw, expected):
    sub = read_workbook(make_workbook({field: raw}))
    assert sub.value(field) == expected
    assert not sub.problems


@pytest.mark.parametrize(
    ("field", "raw", "reason"),
    [
        ("staff_quota", "约10", "不是可以确定的数字（是约数）"),
        ("budget_income_general", "612左右", "不是可以确定的数字（是约数）"),
        ("budget_income_general", "—", "数额为零请填 0，没有此项请留空"),
        ("budget_income_general", "无", "数额为零请填 0，没有此项请留空"),
        ("budget_income_general", "/", "数额为零请填 0，没有此项请留空"),
        ("budget_income_general", "3860元", "单位是元"),
        ("budget_income_general", "3.86亿", "单位是亿元"),
        ("budget_income_general", "386千元", "单位是千元"),
        ("budget_income_general", "612,4", "小数点请用“.”"),
        ("staff_quota", "十二", "请用阿拉伯数字填写"),
        ("budget_income_general", "(12.50", "不是可以确定的数字"),
        ("budget_income_general", "612 4", "数字中间有空格"),  # not a thousands group: which figure?
        ("budget_income_general", "12.3.4", "不是可以确定的数字"),
        ("staff_quota", "7.5", "不是整数"),
        ("fill_date", "去年年底", "不是有效日期"),
        ("fill_date", "2024年1月", "只写到月份"),
        ("fill_date", "20241305", "不是有效日期"),
        ("fill_date", "二〇二四年二月三十日", "不是有效日期"),
        ("org_level", "处级", "不在可选项"),
    ],
)
def test_uncertain_text_is_a_problem_never_zero(make_workbook, field, raw, reason):
    sub = read_workbook(make_workbook({field: raw}))
    fv = sub[field]
    assert fv.value is None and fv.raw == raw and reason in fv.problem
    [p] = sub.problems
    assert (p.sheet, p.cell, p.field_id, p.raw) == (fv.sheet, fv.cell, field, raw)


def test_text_in_a_table_number_cell_is_located(make_workbook):
    sub = read_workbook(make_workbook({}, {"projects": [{"name": "甲", "amount": "约5万"}]}))
    [p] = sub.problems
    assert (p.sheet, p.cell, p.field_id) == ("项目台账", "C6", "projects.amount")
    assert sub.tables["projects"].rows[0]["amount"] is None


def _calamine_copy_matches(path, data, monkeypatch):
    """grid_source's copy against the original: stored, the same members but the document
    properties and theme, each part equal or cut as ``_for_calamine`` says, and the workbook
    read from it equal to the one read from the original package."""
    import io
    import re
    import zipfile
    from pathlib import Path

    from xlproc.reading import package

    pkg = package.open_package(path, data)
    source = package.grid_source(pkg)
    cut = 0
    with zipfile.ZipFile(io.BytesIO(data)) as a, zipfile.ZipFile(io.BytesIO(source)) as b:
        assert b.testzip() is None
        kept = [i.filename for i in a.infolist() if not i.filename.startswith(("docProps/", "xl/theme/"))]
        assert [i.filename for i in b.infolist()] == kept and len(kept) < len(a.infolist())
        assert {i.compress_type for i in b.infolist()} == {zipfile.ZIP_STORED}
        for name in kept:
            old, new = a.read(name), b.read(name)
            if new == old:
                continue
            cut += 1
            if old.rstrip().endswith(b"</worksheet>"):  # the sheet up to its cell table, then its end tag
                head = old[: old.index(b"</sheetData>") + len(b"</sheetData>")]
                assert new == head + b"</worksheet>" and b"<c " in head
            else:  # the workbook part, without its defined names
                assert name == "xl/workbook.xml" and b"<definedNames>" in old
                assert new == re.sub(rb"<definedNames>.*</definedNames>", b"", old, flags=re.S)
    assert cut > 1  # the defined names and at least one sheet's validations were left out
    fast = read_workbook(Path(path.name), data=data)
    monkeypatch.setattr(package, "STORED_COPY_BYTES", 0)  # the original package, deflated parts
    assert package.grid_source(package.open_package(path, data)) is data
    plain = read_workbook(Path(path.name), data=data)
    monkeypatch.undo()
    assert fast == plain and fast.fields and fast.tables


def test_calamine_reads_the_guards_parts_stored_with_the_same_result(monkeypatch):
    # grid_source hands calamine a stored copy of what the guard inflated, without the
    # parts it never takes a value from; a workbook reads exactly as from the original
    from conftest import SAMPLES

    for path in [*sorted((SAMPLES / "inbox").glob("*.xlsx"))[:3], *sorted((SAMPLES / "inbox" / "2024").glob("*.xlsx"))]:
        _calamine_copy_matches(path, path.read_bytes(), monkeypatch)


def test_calamine_copy_of_a_libreoffice_resave_reads_the_same(lo_resave, monkeypatch):
    from conftest import SAMPLES

    resaved = lo_resave(sorted((SAMPLES / "inbox").glob("*.xlsx"))[1])
    _calamine_copy_matches(resaved, resaved.read_bytes(), monkeypatch)


def test_calamine_copy_cuts_only_the_plain_layout():
    from xlproc.reading.package import _for_calamine

    sheet = b'<?xml version="1.0"?><worksheet xmlns="m"><sheetData><row r="1"/></sheetData><mergeCells/></worksheet>'
    assert (
        _for_calamine(sheet)
        == b'<?xml version="1.0"?><worksheet xmlns="m"><sheetData><row r="1"/></sheetData></worksheet>'
    )
    unchanged = [
        b'<x:worksheet xmlns:x="m"><x:sheetData><x:row r="1"/></x:sheetData><x:mergeCells/></x:worksheet>',  # prefixed
        b'<worksheet xmlns="m"><sheetData/><dataValidations/></worksheet>',  # no cell table to keep
        b"<worksheet><sheetData></sheetData><x></sheetData></x></worksheet>",  # the end tag twice
        b"<worksheet><sheetData></sheetData><mergeCells/></worksheet><!-- trailing -->",  # not the root end last
        b"<workbook><definedNames><definedName/></definedNames><definedNames></definedNames></workbook>",
        b"<workbook><sheets/></workbook>",
        b"<sst><si><t>&lt;/sheetData&gt;</t></si></sst>",  # any other part
    ]
    for xml in unchanged:
        assert _for_calamine(xml) is xml
    book = b"<workbook><sheets/><definedNames><definedName name='a'>S!$A$1</definedName></definedNames></workbook>"
    assert _for_calamine(book) == b"<workbook><sheets/></workbook>"


def test_field_value_is_the_dataclass_record():
    # the reader builds FieldValue records without the dataclass's __init__
    # (reading/fieldvalues.py): same parameters and defaults, equal records
    import dataclasses
    import inspect
    import pickle

    from xlproc.reading.fieldvalues import field_value
    from xlproc.submission import FieldValue

    assert not hasattr(FieldValue, "__post_init__") and not hasattr(FieldValue, "__slots__")
    assert all(f.default_factory is dataclasses.MISSING for f in dataclasses.fields(FieldValue))
    ours = inspect.signature(field_value).parameters
    theirs = inspect.signature(FieldValue).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]
    args = ("f1", "标签", "基本情况", "C5", Decimal("1.50"))
    for kwargs in ({}, {"raw": "x", "problem": "不是数字"}, {"computed": True, "formula": "kept", "typed": 3}):
        made, plain = field_value(*args, **kwargs), FieldValue(*args, **kwargs)
        assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain)
        assert vars(made) == vars(plain) and pickle.loads(pickle.dumps(made)) == plain
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.value = None  # type: ignore[misc]


@pytest.mark.parametrize(("field", "typed"), [("budget_income_general", "约" * 3000), ("fill_date", "某日" * 2000)])
def test_a_message_quotes_only_the_start_of_a_long_cell(make_workbook, field, typed):
    sub = read_workbook(make_workbook({field: typed}))
    (problem,) = [p for p in sub.problems if p.field_id == field]
    assert typed[:40] + "…" in problem.message and len(problem.message) < 120
