"""Report formatting helpers and report.yaml options (the charts: test_report_charts.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlproc.form.spec import SpecError
from xlproc.report.formatting import (
    PARAGRAPH_MARK,
    clean_inline,
    clean_text,
    cn_number,
    fmt_count,
    fmt_date,
    fmt_money,
    fmt_percent,
    fmt_score,
    share_pct,
    yoy_phrase,
)
from xlproc.report.options import ReportOptions, load_report_options

D = Decimal


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (D("163"), 2, "163.00"),
        (D("0.005"), 2, "0.01"),  # half up, not banker's
        (D("2.675"), 2, "2.68"),
        (D("-0.004"), 2, "0.00"),
        (None, 2, "0.00"),
        (D("0.0044"), 4, "0.0044"),
        (D("0.0100"), 4, "0.01"),  # a 4-decimal field prints only the digits it needs
        (D("0.01505"), 4, "0.0151"),
        (D("3861.27"), 2, "3861.27"),
    ],
)
def test_fmt_money(value, decimals, expected):
    assert fmt_money(value, decimals) == expected


def test_percent_score_count_date():
    assert fmt_percent(D("87.4")) == "87.40%"
    assert fmt_percent(D("152.195")) == "152.20%"
    assert fmt_percent(None) == "—"
    assert [fmt_score(D(x), 1) for x in ("4.5", "12.0", "81.50", "0")] == ["4.5", "12", "81.5", "0"]
    assert fmt_score(D("99.995"), 2) == "100"
    assert fmt_count(D("41")) == "41"
    from datetime import date

    assert fmt_date(date(2023, 12, 31)) == "2023年12月31日"
    assert share_pct(D("168.11"), D("0")) is None
    assert cn_number(10) == "十" and cn_number(12) == "十二" and cn_number(21) == "二十一"


@pytest.mark.parametrize(
    ("cur", "prev", "expected"),
    [
        (D("1.79"), D("0.93"), "较上年增加0.86万元"),
        (D("0.93"), D("1.79"), "较上年减少0.86万元"),
        (D("1.794"), D("1.790"), "与上年持平"),  # equal once rounded as printed
        (None, D("0.5"), "较上年减少0.50万元"),
    ],
)
def test_yoy_phrase(cur, prev, expected):
    assert yoy_phrase(cur, prev) == expected


def test_clean_text_paragraphs_and_illegal_characters():
    text = "第一行\r\n\r\n  第二行\x0b带控制符\x00\n\t第三行  "
    assert clean_text(text) == PARAGRAPH_MARK.join(["第一行", "第二行带控制符", "第三行"])
    assert clean_inline("a\n b\x1f") == "a b"
    assert clean_text(None) == ""


def test_report_yaml_packaged_and_errors(tmp_path: Path):
    packaged = load_report_options()
    assert packaged.charts is True and packaged.wording_path.name == "wording.yaml"
    assert any("{year}" in doc["title"] for doc in packaged.basis_documents)
    assert packaged.basis_documents[0]["number"] == "徐政财字〔2023〕73号"  # 文号 from the pack
    bad = tmp_path / "report.yaml"
    bad.write_text("report:\n  charts: 是\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"report\.charts"):
        load_report_options(bad)
    bad.write_text("report:\n  basis_documents: [{issuer: 甲}]\n", encoding="utf-8")
    with pytest.raises(SpecError, match="第1项: 应含 title"):
        load_report_options(bad)
    bad.write_text("report:\n  colour: red\n", encoding="utf-8")
    with pytest.raises(SpecError, match="未知设置 colour"):
        load_report_options(bad)
    good = tmp_path / "ok.yaml"
    good.write_text("report:\n  basis_documents: [《甲》]\n  appendix_title: 附\n", encoding="utf-8")
    assert load_report_options(good) == ReportOptions(
        basis_documents=({"issuer": "", "title": "甲", "number": ""},), appendix_title="附"
    )


amounts = st.decimals(min_value=-100000, max_value=100000, places=6, allow_nan=False, allow_infinity=False)


@given(amounts, amounts)
def test_yoy_phrase_reads_back_as_the_printed_difference(cur, prev):
    phrase = yoy_phrase(cur, prev)
    shown = D(fmt_money(cur)) - D(fmt_money(prev))
    if shown == 0:
        assert phrase == "与上年持平"
    else:
        verb = "增加" if shown > 0 else "减少"
        assert phrase == f"较上年{verb}{fmt_money(abs(shown))}万元"


@given(amounts)
def test_fmt_money_is_half_up_to_two_places(value):
    from decimal import ROUND_HALF_UP

    expected = value.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert D(fmt_money(value)) == expected
    assert fmt_money(value).count(".") == 1 and len(fmt_money(value).split(".")[1]) == 2
