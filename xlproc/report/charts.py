"""The report's two charts, drawn with Pillow: expenditure composition and scores.

Why Pillow rather than matplotlib: a batch renders hundreds of reports and targets a
few milliseconds per report; matplotlib costs tens of milliseconds per figure (and
its import alone ~0.5 s per worker), while two horizontal bar charts drawn with
ImageDraw and a cached FreeType font take ~2-4 ms together (see benchmarks/report.py).
The CJK font is looked up once per process among the fonts the system has (Noto CJK,
WenQuanYi, or whatever fontconfig picks for Chinese); without one the charts are
skipped rather than drawn with missing glyphs.

Every chart has a fixed canvas size so it fills the picture frame the template gives
it without distortion; bars and type scale with the number of rows.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .formatting import fmt_money, fmt_percent, fmt_score

WIDTH, HEIGHT = 1600, 900  # 16:9, matches the picture frames of report.docx
_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
)
_INK, _GRID, _MUTED = (40, 40, 40), (215, 215, 215), (110, 110, 110)
_BLUE, _PALE, _RED = (46, 105, 170), (226, 233, 242), (196, 62, 52)


@functools.lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """A TrueType/OpenType font with Chinese glyphs, found once per process."""
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            found = subprocess.run(
                [fc_match, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and Path(found).exists():
            return found
    return None


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    path = cjk_font_path()
    if path is None:
        raise RuntimeError("no CJK font")
    return ImageFont.truetype(path, size)


def charts_available() -> bool:
    """True when a CJK font exists, so labels render as characters rather than boxes."""
    return cjk_font_path() is not None


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    # Level 1: the charts are flat colours, so fast compression is already small.
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _canvas(title: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    draw.text((WIDTH // 2, 28), title, font=_font(40), fill=_INK, anchor="mt")
    return img, draw


def _layout(n: int, top: int) -> tuple[int, int]:
    """Row height and font size for n rows below ``top``."""
    row_h = max(1, min(90, (HEIGHT - top - 30) // max(n, 1)))
    return row_h, max(14, min(30, int(row_h * 0.55)))


def expenditure_chart(items: list[dict[str, Any]], title: str = "预算支出构成（按功能分类）") -> bytes:
    """Horizontal bars, largest class first, labelled with 万元 and share."""
    img, draw = _canvas(title)
    rows = sorted(items, key=lambda i: i["amount"], reverse=True)
    top, label_w, value_w = 110, 400, 380
    row_h, size = _layout(len(rows), top)
    font = _font(size)
    biggest = max((i["amount"] for i in rows), default=Decimal(0)) or Decimal(1)
    span = WIDTH - label_w - value_w - 40
    for k, item in enumerate(rows):
        y = top + k * row_h
        mid = y + row_h // 2
        draw.text((label_w - 16, mid), item["label"], font=font, fill=_INK, anchor="rm")
        length = int(span * float(item["amount"] / biggest))
        draw.rectangle([label_w, y + row_h * 0.18, label_w + max(length, 2), y + row_h * 0.82], fill=_BLUE)
        share = item.get("share")
        text = f"{item.get('money') or fmt_money(item['amount'])}万元" + (
            f"（{fmt_percent(share)}）" if share is not None else ""
        )
        draw.text((label_w + max(length, 2) + 12, mid), text, font=font, fill=_INK, anchor="lm")
    draw.line([label_w, top - 6, label_w, top + row_h * len(rows) + 6], fill=_MUTED, width=2)
    return _png(img)


def scores_chart(rows: list[dict[str, Any]], title: str = "各类别得分与满分") -> bytes:
    """Per category: a pale bar for 满分, a solid bar for 得分 (red for 扣分)."""
    img, draw = _canvas(title)
    top, label_w, value_w = 150, 300, 220
    legend = _font(26)
    x = WIDTH // 2 - 260
    for colour, text, outline in ((_BLUE, "得分", None), (_PALE, "满分", _MUTED), (_RED, "扣分", None)):
        draw.rectangle([x, 88, x + 34, 114], fill=colour, outline=outline)
        draw.text((x + 44, 101), text, font=legend, fill=_INK, anchor="lm")
        x += 180
    row_h, size = _layout(len(rows), top)
    font = _font(size)
    biggest = max((r["max"] for r in rows), default=Decimal(0)) or Decimal(1)
    span = WIDTH - label_w - value_w - 40
    for k, r in enumerate(rows):
        y = top + k * row_h
        mid = y + row_h // 2
        draw.text((label_w - 16, mid), r["label"], font=font, fill=_INK, anchor="rm")
        full = int(span * float(r["max"] / biggest))
        draw.rectangle([label_w, y + row_h * 0.15, label_w + max(full, 2), y + row_h * 0.85], fill=_PALE, outline=_MUTED)
        score = max(min(r["score"], r["max"]), Decimal(0)) if r["max"] else Decimal(0)
        got = int(span * float(score / biggest))
        if got:
            colour = _RED if r["kind"] == "deduction" else _BLUE
            draw.rectangle([label_w, y + row_h * 0.28, label_w + got, y + row_h * 0.72], fill=colour)
        verb = "扣" if r["kind"] == "deduction" else ""
        text = f"{verb}{fmt_score(r['score'], 1)} / {fmt_score(r['max'], 1)}"
        draw.text((label_w + max(full, 2) + 12, mid), text, font=font, fill=_INK, anchor="lm")
        draw.line([label_w, y + row_h, label_w + span, y + row_h], fill=_GRID, width=1)
    return _png(img)


def render_charts(charts: dict[str, Any]) -> dict[str, bytes]:
    """PNG bytes per chart name for the charts the context switches on."""
    if not charts_available():
        return {}
    out = {}
    if charts.get("expenditure"):
        out["expenditure"] = expenditure_chart(charts["expenditure_data"])
    if charts.get("scores"):
        out["scores"] = scores_chart(charts["scores_data"])
    return out
