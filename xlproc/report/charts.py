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
import shutil
import struct
import subprocess
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .formatting import fmt_money, fmt_percent, fmt_score

WIDTH, HEIGHT = 960, 540  # 16:9, matches the picture frames of report.docx
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

# Palette image: indices 0..RAMP are a ramp from white (0) to the ink colour (RAMP),
# so antialiased glyphs pasted on the white background blend to the right grey
# (Pillow blends palette *indices* under a mask). Solid colours sit above the ramp.
# A palette PNG needs no per-row filtering and is ~10x faster to encode than RGB.
RAMP = 239
_WHITE, _INKRGB = (255, 255, 255), (40, 40, 40)
_BLUE, _PALE, _RED, _GRID, _MUTED = 240, 241, 242, 243, 244
_SOLIDS = ((46, 105, 170), (226, 233, 242), (196, 62, 52), (215, 215, 215), (110, 110, 110))


def _palette() -> list[int]:
    pal: list[int] = []
    for i in range(RAMP + 1):
        t = i / RAMP
        pal += [round(w + (k - w) * t) for w, k in zip(_WHITE, _INKRGB, strict=True)]
    for rgb in _SOLIDS:
        pal += list(rgb)
    return pal + [255, 255, 255] * (256 - len(pal) // 3)


_PALETTE = _palette()
_PALETTE_BYTES = bytes(_PALETTE)


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


@functools.lru_cache(maxsize=4096)
def _glyph(ch: str, size: int) -> tuple[Image.Image | None, int, int, float]:
    """One character's antialiased mask, its offset from the baseline origin, its advance.

    Rasterising CJK outlines costs ~0.3 ms per string; the labels repeat from report
    to report, so each character is rasterised once per process and pasted after.
    """
    font = _font(size)
    left, top, right, bottom = font.getbbox(ch, anchor="ls")
    advance = font.getlength(ch)
    if right <= left or bottom <= top:
        return None, 0, 0, advance
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), ch, font=font, fill=255, anchor="ls")
    return mask, left, top, advance


@functools.lru_cache(maxsize=2048)
def _line(text: str, size: int) -> tuple[Image.Image | None, int, float]:
    """A whole line's mask (built from cached glyphs), its top offset from the baseline, its width.

    Category and class labels repeat in every report, so most lines come from here.
    """
    ascent, descent = _font(size).getmetrics()
    width = sum(_glyph(ch, size)[3] for ch in text)
    if width <= 0:
        return None, 0, 0.0
    mask = Image.new("L", (int(width) + size, ascent + descent + size // 2), 0)
    x = 0.0
    for ch in text:
        glyph, left, top, advance = _glyph(ch, size)
        if glyph is not None:
            mask.paste(glyph, (int(x) + left, ascent + top), glyph)
        x += advance
    return mask, -ascent, width


def _text(img: Image.Image, xy: tuple[float, float], text: str, size: int, anchor: str = "lm") -> None:
    """Paste ``text`` in ink; anchor l/m/r horizontally, always centred on y."""
    mask, top, width = _line(text, size)
    if mask is None:
        return
    x, y = xy
    if anchor[0] == "r":
        x -= width
    elif anchor[0] == "m":
        x -= width / 2
    ascent, descent = _font(size).getmetrics()
    baseline = int(y + (ascent - descent) / 2)
    img.paste(RAMP, (int(x), baseline + top, int(x) + mask.width, baseline + top + mask.height), mask)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(img: Image.Image) -> bytes:
    """Encode the palette image as PNG directly: filter 0 rows, zlib run-length strategy.

    Half the time of Pillow's encoder for these flat images (~1.2 ms vs ~2.7 ms),
    and a file of the same size.
    """
    width, height = img.size
    raw = img.tobytes()
    rows = b"".join(b"\x00" + raw[y * width : (y + 1) * width] for y in range(height))
    comp = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    idat = comp.compress(rows) + comp.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
        + _chunk(b"PLTE", _PALETTE_BYTES)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _canvas(title: str, title_y: int = 30) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("P", (WIDTH, HEIGHT), 0)
    img.putpalette(_PALETTE)
    _text(img, (WIDTH / 2, title_y), title, 28, "mm")
    return img, ImageDraw.Draw(img)


def _layout(n: int, top: int) -> tuple[int, int]:
    """Row height and font size for n rows below ``top``."""
    row_h = max(1, min(64, (HEIGHT - top - 20) // max(n, 1)))
    return row_h, max(11, min(22, int(row_h * 0.5)))


def expenditure_chart(items: list[dict[str, Any]], title: str = "本年预算支出构成（按功能分类）") -> bytes:
    """Horizontal bars, largest class first, labelled with 万元 and share."""
    rows = sorted(items, key=lambda i: i["amount"], reverse=True)
    top, label_w, value_w = 76, 270, 250
    row_h, size = _layout(len(rows), top)
    top += (HEIGHT - top - 20 - row_h * len(rows)) // 2  # few classes: centre title and bars together
    img, draw = _canvas(title, top - 46)
    biggest = max((i["amount"] for i in rows), default=Decimal(0)) or Decimal(1)
    span = WIDTH - label_w - value_w - 30
    for k, item in enumerate(rows):
        y = top + k * row_h
        mid = y + row_h // 2
        _text(img, (label_w - 12, mid), item["label"], size, "rm")
        end = label_w + max(int(span * float(item["amount"] / biggest)), 2)
        draw.rectangle([label_w, int(y + row_h * 0.18), end, int(y + row_h * 0.82)], fill=_BLUE)
        share = item.get("share")
        text = f"{item.get('money') or fmt_money(item['amount'])}万元"
        if share is not None:
            text += f"（{fmt_percent(share)}）"
        _text(img, (end + 10, mid), text, size)
    draw.line([label_w, top - 4, label_w, top + row_h * len(rows) + 4], fill=_MUTED, width=2)
    return _png(img)


def scores_chart(rows: list[dict[str, Any]], title: str = "各类别自评得分与满分") -> bytes:
    """Per category: a pale bar for 满分, a solid bar for 得分 (red for 扣分)."""
    img, draw = _canvas(title)
    top, label_w, value_w = 96, 210, 140
    x = WIDTH // 2 - 160
    for colour, text in ((_BLUE, "得分"), (_PALE, "满分"), (_RED, "扣分")):
        draw.rectangle([x, 58, x + 22, 76], fill=colour, outline=_MUTED if colour == _PALE else None)
        _text(img, (x + 30, 67), text, 20)
        x += 112
    row_h, size = _layout(len(rows), top)
    biggest = max((r["max"] for r in rows), default=Decimal(0)) or Decimal(1)
    span = WIDTH - label_w - value_w - 30
    for k, r in enumerate(rows):
        y = top + k * row_h
        mid = y + row_h // 2
        _text(img, (label_w - 12, mid), r["label"], size, "rm")
        full = label_w + max(int(span * float(r["max"] / biggest)), 2)
        draw.rectangle([label_w, int(y + row_h * 0.14), full, int(y + row_h * 0.86)], fill=_PALE, outline=_MUTED)
        score = max(min(r["score"], r["max"]), Decimal(0))
        got = int(span * float(score / biggest))
        if got:
            colour = _RED if r["kind"] == "deduction" else _BLUE
            draw.rectangle([label_w, int(y + row_h * 0.3), label_w + got, int(y + row_h * 0.7)], fill=colour)
        verb = "扣" if r["kind"] == "deduction" else ""
        _text(img, (full + 10, mid), f"{verb}{fmt_score(r['score'], 1)} / {fmt_score(r['max'], 1)}", size)
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
