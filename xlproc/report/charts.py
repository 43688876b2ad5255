"""The report's two charts, drawn with Pillow: expenditure composition and scores.

Why Pillow rather than matplotlib: a batch renders hundreds of reports and targets a
few milliseconds per report; matplotlib costs tens of milliseconds per figure (and
its import alone ~0.5 s per worker), while two horizontal bar charts drawn with
ImageDraw and a cached FreeType font take ~1 ms together (see benchmarks/report.py).
Where that time goes, and what is cached per process because of it: rasterising
glyphs (each character once), the scores chart's fixed parts (title, legend,
labels, 满分 bars: the rubric is fixed) and deflating the PNG: pictures are 16-colour
4-bit PNGs whose blank rows and repeated strips are deflated once (``_png``), and the
rest with ISA-L when it is installed (``ooxml.deflate.deflate_piece``).
The CJK font is looked up once per process among the fonts the system has (Noto CJK,
WenQuanYi, or whatever fontconfig picks for Chinese); without one the charts are
skipped rather than drawn with missing glyphs.

Every chart has a fixed canvas size so it fills the picture frame the template gives
it without distortion; bars and type scale with the number of rows.
"""

from __future__ import annotations

import functools
import itertools
import shutil
import struct
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..ooxml.deflate import adler32, crc32, deflate_piece
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

# 16-colour palette image, written as a 4-bit PNG: indices 0..RAMP are a ramp from
# white (0) to the ink colour (RAMP), so antialiased glyphs pasted on the white
# background blend to the right grey (Pillow blends palette *indices* under a mask;
# 12 grey levels are plenty for antialiasing). Solid colours sit above the ramp.
# Four bits per pixel halve the bytes zlib has to scan, and white is index 0, so a
# blank row is all zero bytes (see ``_png``).
RAMP = 11
_WHITE, _INKRGB = (255, 255, 255), (40, 40, 40)
_BLUE, _PALE, _RED, _MUTED = 12, 13, 14, 15
_SOLIDS = ((46, 105, 170), (226, 233, 242), (196, 62, 52), (110, 110, 110))


def _palette() -> list[int]:
    pal: list[int] = []
    for i in range(RAMP + 1):
        t = i / RAMP
        pal += [round(w + (k - w) * t) for w, k in zip(_WHITE, _INKRGB, strict=True)]
    for rgb in _SOLIDS:
        pal += list(rgb)
    return pal


_PALETTE = _palette()
_PALETTE_BYTES = bytes(_PALETTE)
assert len(_PALETTE_BYTES) == 16 * 3


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


@functools.lru_cache(maxsize=256)
def _line(text: str, size: int) -> tuple[Image.Image | None, int, float]:
    """A whole line's mask (built from cached glyphs), its top offset from the baseline, its width.

    Category and class labels repeat in every report, so most lines come from here;
    lines with new figures are assembled from cached glyphs with the imaging core's
    ``paste`` (``Image.paste`` re-validates its arguments on each of the ~15 calls).
    """
    ascent, descent = _font(size).getmetrics()
    glyphs = [_glyph(ch, size) for ch in text]
    width = sum(g[3] for g in glyphs)
    if width <= 0:
        return None, 0, 0.0
    mask = Image.new("L", (int(width) + size, ascent + descent + size // 2), 0)
    core = mask.im
    x = 0.0
    for glyph, left, top, advance in glyphs:
        if glyph is not None:
            x0, y0 = int(x) + left, ascent + top
            core.paste(glyph.im, (x0, y0, x0 + glyph.width, y0 + glyph.height), glyph.im)
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
    y0 = int(y + (ascent - descent) / 2) + top
    img.im.paste(RAMP, (int(x), y0, int(x) + mask.width, y0 + mask.height), mask.im)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc32(kind + data))


_ADLER_MOD = 65521
_FILTER_PAD = 2  # two white pixels left of the picture = one zero byte = PNG filter "None"
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # a last, empty deflate block (fixed Huffman, end-of-block only)
_MAX_CACHED_PIECE = 32 * 1024  # a band of ~60 rows; bounds the cache to ~8 MB


def _deflate_piece(data: bytes) -> tuple[bytes, int]:
    """``data`` as self-contained raw deflate blocks ending byte-aligned, and its Adler-32.

    A full flush ends the piece on a byte boundary without referring back to earlier
    data, so pieces compressed separately concatenate into one valid deflate stream.
    """
    return deflate_piece(data), adler32(data)


_cached_piece = functools.lru_cache(maxsize=256)(_deflate_piece)


@functools.lru_cache(maxsize=1024)
def _zeros_piece(n: int) -> tuple[bytes, int]:
    """The deflated piece for ``n`` zero bytes (blank rows), once per length."""
    return _deflate_piece(bytes(n))


def _adler_combine(first: int, second: int, second_len: int) -> int:
    """Adler-32 of A+B from Adler-32 of A, of B and the length of B."""
    a1, b1 = first & 0xFFFF, first >> 16
    a2, b2 = second & 0xFFFF, second >> 16
    low = (a1 + a2 - 1) % _ADLER_MOD
    high = (b1 + b2 + second_len * (a1 - 1)) % _ADLER_MOD
    return high << 16 | low


def _png(img: Image.Image) -> bytes:
    """Encode the 16-colour palette image as a 4-bit PNG, deflating only what is new.

    Deflate costs about the same per byte whether the bytes are white or not, and
    most of a chart is white or the same from report to report. The picture is
    pasted two pixels right into a zero frame, so packed 4 bits a pixel each row
    starts with a zero byte: the PNG filter byte (None) comes for free and the
    packed frame *is* the scanline stream. That stream is cut at the edges of blank
    rows; every run of blank rows and every run of drawn rows becomes a separately
    deflated, self-contained piece (``_deflate_piece``), cached per process — blank
    runs by length, drawn runs by content (titles, legends, labels and common bars
    repeat across reports) — and the pieces are concatenated; the zlib Adler-32 is
    combined from the pieces'.
    """
    width, height = img.size
    frame = Image.new("P", (width + _FILTER_PAD, height), 0)
    frame.paste(img, (_FILTER_PAD, 0))
    data = frame.tobytes("raw", "P;4")
    stride = (width + _FILTER_PAD + 1) // 2
    drawn = np.frombuffer(data, dtype=np.uint8).reshape(height, stride).any(axis=1)
    edges = [0, *(np.flatnonzero(drawn[1:] != drawn[:-1]) + 1).tolist(), height]
    parts = [b"\x78\x01"]  # zlib header: deflate, 32K window, no dictionary
    adler = 1
    for start, end in itertools.pairwise(edges):
        n = (end - start) * stride
        if not drawn[start]:
            piece, piece_adler = _zeros_piece(n)
        elif n <= _MAX_CACHED_PIECE:
            piece, piece_adler = _cached_piece(data[start * stride : end * stride])
        else:
            piece, piece_adler = _deflate_piece(data[start * stride : end * stride])
        parts.append(piece)
        adler = _adler_combine(adler, piece_adler, n)
    parts.append(_FINAL_EMPTY_BLOCK)
    parts.append(struct.pack(">I", adler))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 4, 3, 0, 0, 0))
        + _chunk(b"PLTE", _PALETTE_BYTES)
        + _chunk(b"IDAT", b"".join(parts))
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


_SCORES_TOP, _SCORES_LABEL_W, _SCORES_VALUE_W = 96, 210, 140


@functools.lru_cache(maxsize=8)
def _scores_base(title: str, categories: tuple[tuple[str, Decimal], ...]) -> Image.Image:
    """What the scores chart shows for every department: title, legend, labels, 满分 bars.

    The rubric is fixed, so this is drawn once per process; each report copies it and
    adds its own 得分 bars and values.
    """
    img, draw = _canvas(title)
    x = WIDTH // 2 - 104
    for colour, text in ((_BLUE, "得分"), (_PALE, "满分")):
        draw.rectangle([x, 58, x + 22, 76], fill=colour, outline=_MUTED if colour == _PALE else None)
        _text(img, (x + 30, 67), text, 20)
        x += 112
    row_h, size = _layout(len(categories), _SCORES_TOP)
    biggest = max((m for _, m in categories), default=Decimal(0)) or Decimal(1)
    span = WIDTH - _SCORES_LABEL_W - _SCORES_VALUE_W - 30
    for k, (label, most) in enumerate(categories):
        y = _SCORES_TOP + k * row_h
        _text(img, (_SCORES_LABEL_W - 12, y + row_h // 2), label, size, "rm")
        full = _SCORES_LABEL_W + max(int(span * float(most / biggest)), 2)
        draw.rectangle(
            [_SCORES_LABEL_W, int(y + row_h * 0.14), full, int(y + row_h * 0.86)], fill=_PALE, outline=_MUTED
        )
    return img


def scores_chart(rows: list[dict[str, Any]], title: str = "各类别自评得分与满分") -> bytes:
    """Per scored category: a pale bar for 满分, a solid bar for 得分.

    Only categories that have a 满分 to be measured against belong here: bonus and
    deduction items are left to the table (the context passes ``kind == "score"`` rows).
    """
    rows = [r for r in rows if r.get("kind", "score") == "score" and r.get("score") is not None]
    img = _scores_base(title, tuple((r["label"], r["max"]) for r in rows)).copy()
    draw = ImageDraw.Draw(img)
    label_w = _SCORES_LABEL_W
    row_h, size = _layout(len(rows), _SCORES_TOP)
    biggest = max((r["max"] for r in rows), default=Decimal(0)) or Decimal(1)
    span = WIDTH - label_w - _SCORES_VALUE_W - 30
    for k, r in enumerate(rows):
        y = _SCORES_TOP + k * row_h
        full = label_w + max(int(span * float(r["max"] / biggest)), 2)
        score = max(min(r["score"], r["max"]), Decimal(0))
        got = int(span * float(score / biggest))
        if got:
            draw.rectangle([label_w, int(y + row_h * 0.3), label_w + got, int(y + row_h * 0.7)], fill=_BLUE)
        _text(img, (full + 10, y + row_h // 2), f"{fmt_score(r['score'], 1)} / {fmt_score(r['max'], 1)}", size)
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
