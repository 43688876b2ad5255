"""Mutated workbooks: whatever a part or the zip container holds, a file ends as a result
with a Chinese reason (never 处理时发生意外错误), in bounded time, and a workbook handed back
annotated in place still parses wherever the input did.

The mutations are the ones that found the bugs of 2026-12-02 (an encoding declaration
expat cannot use, a broken relationships part beside a far cell, a cell reference that
names no cell in 审核结果, a '>' inside an attribute value, a NUL in a member name, a
folder entry over a file): edits of values, types, references, defined names, formulas
and sheet names inside the parts of the samples and of an annotated sample; flips,
truncation, method / flag / size / name edits of the zip records. Seeded: a failure
names the seed, and the same seed rebuilds the same file.
"""

from __future__ import annotations

import collections
import io
import random
import re
import struct
import time
import zipfile
from pathlib import Path
from xml.parsers import expat

import pytest

from xlproc.pipeline import Pipeline, PipelineOptions, process_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples" / "inbox").rglob("*.xlsx"))

FRAGMENTS = [
    b"<", b">", b"&", b'"', b"'", b"&#0;", b"&#xFFFF;", b'<c r="ZZZ99999"><v>1</v></c>', b"<v>1e309</v>",
    b"<f>SUM(A1:A2)</f>", b"<is><t>x</t></is>", b"]]>", b"<![CDATA[x]]>", b"\x00", b"\xff\xfe", b'<row r="0">',
    b"</row>", b"<c/>", b' t="e"', b' s="99999"', b' r="A1048577"', b'<mergeCell ref="A1:XFD1048576"/>',
    b"&amp;", "\u202e".encode(), b'<?xml version="1.0" encoding="UT-F-8"?>',
]  # fmt: skip
VALUES = [
    b"", b"abc", b"1e400", b"-0", b"NaN", b"99999999999999999999", b"-1", b"0.1.2", b"1,234", "\uff11".encode(),
    b"#REF!", b"_x0001_", b"_xD800_", "\u200b".encode(), b"x" * 5000,
]  # fmt: skip
REFERENCES = [b"", b"A0", b"AAAA1", b"B", b"7", b"XFD1048576", b"A99999", b"a1", b"$C$3"]
NAMES = [b"#REF!", b"", b"Sheet9!$A$1", b"$A$1", b"'x'!$XFD$1048576", b"SUM(1)"]


def _pick(rng: random.Random, pattern: bytes, xml: bytes) -> re.Match[bytes] | None:
    found = list(re.finditer(pattern, xml))
    return rng.choice(found) if found else None


def mutate_part(xml: bytes, rng: random.Random) -> bytes:
    """One edit of an XML part: a span cut or doubled, a fragment inserted, or a value,
    type, reference, defined name, formula or sheet name replaced."""
    if not xml:
        return rng.choice(FRAGMENTS)
    i = rng.randrange(len(xml))
    kind = rng.randrange(10)
    swaps = {
        3: (rb"<v>([^<]*)</v>", VALUES),
        4: (rb' t="([^"]*)"', [b"s", b"e", b"str", b"inlineStr", b"b", b"d", b"zz"]),
        5: (rb' r="([A-Z]*\d*)"', REFERENCES),
        6: (rb"<t[^>]*>([^<]*)</t>", VALUES + FRAGMENTS),
        7: (rb"<definedName[^>]*>([^<]*)</definedName>", NAMES),
        9: (rb'<sheet [^>]*name="([^"]*)"', [b"", b"_form", b"&amp;", b"Sheet1"]),
    }
    if kind == 0:
        return xml[:i] + xml[i + rng.randint(1, 50) :]
    if kind == 1:
        j = min(len(xml), i + rng.randint(1, 200))
        return xml[:j] + xml[i:j] + xml[j:]
    if kind in swaps:
        m = _pick(rng, swaps[kind][0], xml)
        if m is not None:
            return xml[: m.start(1)] + rng.choice(swaps[kind][1]) + xml[m.end(1) :]
    if kind == 8:
        m = _pick(rng, rb'<c r="[A-Z]+\d+"[^>]*>', xml)
        if m is not None:
            formula = rng.choice([b"<f>1/0</f>", b'<f t="shared" si="0"/>', b"<f>" + b"(" * 300 + b"</f>"])
            return xml[: m.end()] + formula + xml[m.end() :]
    return xml[:i] + rng.choice(FRAGMENTS) + xml[i:]


def mutate_workbook(src: bytes, rng: random.Random) -> bytes:
    """One to three part edits, now and then a part dropped; written as a fresh zip."""
    with zipfile.ZipFile(io.BytesIO(src)) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    names = [n for n in parts if n.endswith((".xml", ".rels"))]
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(names)
        parts[name] = mutate_part(parts[name], rng)
    if rng.random() < 0.05:
        del parts[rng.choice(list(parts))]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in infos:
            if info.filename in parts:
                zo.writestr(info.filename, parts[info.filename])
    return out.getvalue()


def mutate_container(data: bytes, rng: random.Random) -> bytes:
    """One edit of the zip records or bytes: flips, truncation, junk, a method, flag, size or
    name byte of a local or central record."""
    b = bytearray(data)
    records = [(sig, m.start()) for sig in (b"PK\x03\x04", b"PK\x01\x02") for m in re.finditer(re.escape(sig), data)]
    central = [at for sig, at in records if sig == b"PK\x01\x02"]
    kind = rng.randrange(7) if central else rng.randrange(2)
    if kind == 0:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del b[rng.randrange(len(b)) :]
    elif kind == 2:
        sig, at = rng.choice(records)
        struct.pack_into("<H", b, at + (8 if sig == b"PK\x03\x04" else 10), rng.choice([0, 1, 9, 12, 14, 99]))
    elif kind == 3:
        sig, at = rng.choice(records)
        struct.pack_into("<H", b, at + (6 if sig == b"PK\x03\x04" else 8), rng.choice([1, 8, 0x800, 0x809]))
    elif kind == 4:
        at = rng.choice(central)
        struct.pack_into("<I", b, at + rng.choice([20, 24]), rng.choice([0, 1, 0xFFFFFFFF, 10**9]))
    elif kind == 5:
        at = rng.choice(central)
        n = struct.unpack_from("<H", b, at + 28)[0]
        if n:
            b[at + 46 + rng.randrange(n)] = rng.choice(b"/\\.:\x00\xffA")
    else:
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000)))
        b = bytearray(junk + bytes(b)) if rng.random() < 0.5 else b + junk
    return bytes(b)


def _parses(xml: bytes) -> bool:
    try:
        expat.ParserCreate().Parse(xml, True)
    except Exception:  # any way of not parsing
        return False
    return True


def _references(xml: bytes) -> collections.Counter:
    return collections.Counter(r.upper().replace(b"$", b"") for r in re.findall(rb'<c\b[^>]*?\br="([^"]*)"', xml))


def handed_back_problem(source: bytes, annotated: Path) -> str:
    """What is wrong with an annotated copy: a part that no longer parses (the input's did),
    or a cell written twice that the input had once."""
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(annotated) as zout:
        before = {n: zin.read(n) for n in zin.namelist()}
        for name in zout.namelist():
            if not name.endswith((".xml", ".rels", ".vml")):
                continue
            xml = zout.read(name)
            if not _parses(xml) and (name not in before or _parses(before[name])):
                return f"{name} does not parse"
            if name.startswith("xl/worksheets/") and name in before:
                twins = [r for r, n in _references(xml).items() if n > 1 and _references(before[name])[r] < 2]
                if twins:
                    return f"{name}: cells written twice {twins[:3]}"
    return ""


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.build(PipelineOptions())


@pytest.fixture(scope="module")
def sources(pipeline: Pipeline, tmp_path_factory) -> list[bytes]:
    """The samples, and two of them as we hand them back (审核结果, _审核记录, fills, comments)."""
    out = tmp_path_factory.mktemp("round1")
    annotated = []
    for src in SAMPLES[:2]:
        r = process_file(src, out, pipeline)
        assert r.ok and r.outputs["annotated"].endswith("_审核.xlsx"), r.error
        annotated.append((out / r.outputs["annotated"]).read_bytes())
    return [p.read_bytes() for p in SAMPLES] + annotated


def _run(pipeline: Pipeline, folder: Path, seed: int, data: bytes) -> None:
    path = folder / f"seed{seed}.xlsx"
    path.write_bytes(data)
    t0 = time.perf_counter()
    r = process_file(path, folder / "out", pipeline, data=data)
    elapsed = time.perf_counter() - t0
    assert "意外错误" not in (r.error or ""), (seed, r.error)
    assert r.ok or re.search(r"[\u4e00-\u9fff]", r.error or ""), (seed, r.error)
    assert elapsed < 10, (seed, elapsed)
    if r.ok and r.outputs.get("annotated", "").endswith("_审核.xlsx"):
        assert not handed_back_problem(data, folder / "out" / r.outputs["annotated"]), seed


@pytest.mark.parametrize("block", range(4))
def test_mutated_parts_end_as_results(pipeline: Pipeline, sources: list[bytes], tmp_path: Path, block: int) -> None:
    for seed in range(block * 60, block * 60 + 60):
        rng = random.Random(seed)
        _run(pipeline, tmp_path, seed, mutate_workbook(rng.choice(sources), rng))


@pytest.mark.parametrize("block", range(2))
def test_mutated_containers_end_as_results(
    pipeline: Pipeline, sources: list[bytes], tmp_path: Path, block: int
) -> None:
    for seed in range(block * 60, block * 60 + 60):
        rng = random.Random(f"zip-{seed}")
        data = rng.choice(sources)
        for _ in range(rng.randint(1, 2)):
            data = mutate_container(data, rng)
        _run(pipeline, tmp_path, seed, data)
