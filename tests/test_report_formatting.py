"""Report formatting helpers, report.yaml options and the Pillow charts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlproc.form.spec import SpecError
from xlproc.report import charts
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


@pytest.mark.skipif(not charts.charts_available(), reason="no CJK font on this system")
def test_charts_are_pngs_with_real_cjk_glyphs():
    # Distinct characters must rasterise differently: a missing glyph (tofu) is one box for all.
    masks = {ch: charts._glyph(ch, 18)[0].tobytes() for ch in "预算执行"}
    assert len(set(masks.values())) == 4
    rows = [{"label": "预算编制管理", "score": D("12"), "max": D("12"), "kind": "score"}]
    png = charts.scores_chart([*rows, {"label": "存在问题", "score": D("1"), "max": D("10"), "kind": "deduction"}])
    items = [{"label": "一般公共服务支出", "amount": D("163"), "money": "163.00", "share": D("82.72")}]
    for blob in (png, charts.expenditure_chart(items)):
        assert blob[:8] == b"\x89PNG\r\n\x1a\n"
        from io import BytesIO

        from PIL import Image

        img = Image.open(BytesIO(blob))
        assert img.size == (charts.WIDTH, charts.HEIGHT)
        assert len(img.getcolors(256)) > 5  # bars, antialiased text, background


def _decoded(png: bytes):
    """The picture Pillow reads, after checking the chunks' CRCs and the complete zlib stream strictly."""
    import struct
    import zlib
    from io import BytesIO

    from PIL import Image

    pos, idat = 8, b""
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(kind + data)
        idat += data if kind == b"IDAT" else b""
        pos += 12 + n
    obj = zlib.decompressobj()
    raw = obj.decompress(idat)  # checks the Adler-32
    assert obj.eof and not obj.unused_data
    img = Image.open(BytesIO(png))
    img.load()
    assert len(raw) == img.height * (1 + (img.width + 1) // 2) and raw[:: 1 + (img.width + 1) // 2] == bytes(img.height)
    return img


def test_png_encoder_round_trips_pixels_blank_runs_and_cached_strips():
    from PIL import Image, ImageDraw

    img = Image.new("P", (37, 29), 0)  # odd width: the last byte of a 4-bit row is half padding
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 3, 36, 5], fill=charts._BLUE)  # touches the left edge (next to the filter byte)
    draw.rectangle([10, 12, 20, 12], fill=charts._RED)
    draw.point([(36, 28)], fill=charts.RAMP)  # last pixel of the last row
    first = charts._png(img)
    again = charts._png(img)  # second time from the per-process strip cache
    assert first == again
    for png in (first, charts._png(Image.new("P", (5, 3), 0)), charts._png(Image.new("P", (4, 2), charts._MUTED))):
        back = _decoded(png)
        assert back.mode == "P" and back.getpalette()[:3] == [255, 255, 255]
    back = _decoded(first)
    assert back.size == img.size and back.tobytes() == img.tobytes()
    full = Image.new("P", (4, 2), charts._MUTED)
    assert _decoded(charts._png(full)).tobytes() == full.tobytes()


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_adler_combine_matches_zlib(a, b):
    import zlib

    assert charts._adler_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


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
