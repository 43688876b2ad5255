"""Both deflate back ends (ISA-L and zlib) write zips that zipfile and office suites read."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import pytest

from xlproc.annotate import annotate_workbook
from xlproc.ooxml import deflate
from xlproc.reading.workbook import read_workbook
from xlproc.rules import run_checks

SAMPLE = next((Path(__file__).parent.parent / "samples" / "inbox").glob("01_*.xlsx"))


@pytest.fixture(params=["isal", "zlib"])
def backend(request, monkeypatch):
    if request.param == "isal":
        if deflate._isal is None:
            pytest.skip("python-isal not installed")
    else:
        monkeypatch.setattr(deflate, "_isal", None)
    return request.param


def test_round_trip_and_standard_streams(backend):
    data = ("<row r='1'><c r='A1' t='s'><v>0</v></c></row>" * 2000).encode()
    packed = deflate.deflate(data, 1)
    assert deflate.backend() == backend
    assert zlib.decompress(packed, -15) == data  # plain zlib reads it
    assert deflate.inflate(packed, len(data)) == data
    assert deflate.crc32(data) == zlib.crc32(data)
    assert deflate.adler32(data) == zlib.adler32(data) and deflate.adler32(data, 7) == zlib.adler32(data, 7)
    with pytest.raises(deflate.error):
        deflate.inflate(b"\x00garbage" * 10, 100)


def test_annotated_workbook_is_sound_with_either_backend(backend, tmp_path):
    out = annotate_workbook(SAMPLE, run_checks(read_workbook(SAMPLE)), tmp_path / "a.xlsx")
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
    assert read_workbook(out).to_dict()["fields"] == read_workbook(SAMPLE).to_dict()["fields"]


def test_pieces_deflated_apart_make_one_stream(backend):
    # The chart encoder deflates runs of rows separately and concatenates them (then a last
    # empty block): each piece must end byte-aligned and refer to nothing before it.
    pieces = [b"\x00" * 4000, bytes(range(256)) * 40, b"\x11\x22" * 3000, b"", b"\x07"]
    stream = b"".join(deflate.deflate_piece(p) for p in pieces) + b"\x03\x00"
    obj = zlib.decompressobj(-15)
    assert obj.decompress(stream) == b"".join(pieces)
    assert obj.eof and not obj.unused_data


def test_chart_pngs_decode_to_the_same_pixels_with_either_backend(backend):
    from io import BytesIO

    from PIL import Image, ImageDraw

    from xlproc.report import charts

    img = Image.new("P", (301, 97), 0)
    img.putpalette(charts._PALETTE)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 10, 300, 30], fill=charts._BLUE)
    draw.rectangle([40, 50, 41 + len(backend) * 7, 60], fill=charts._RED)  # a band not in the strip cache
    back = Image.open(BytesIO(charts._png(img)))
    back.load()
    assert back.tobytes() == img.tobytes()
