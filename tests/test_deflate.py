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
    with pytest.raises(deflate.error):
        deflate.inflate(b"\x00garbage" * 10, 100)


def test_annotated_workbook_is_sound_with_either_backend(backend, tmp_path):
    out = annotate_workbook(SAMPLE, run_checks(read_workbook(SAMPLE)), tmp_path / "a.xlsx")
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
    assert read_workbook(out).to_dict()["fields"] == read_workbook(SAMPLE).to_dict()["fields"]
