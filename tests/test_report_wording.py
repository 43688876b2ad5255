"""A pack's wording.yaml is checked before any report is rendered (xlproc/report/wording.py).

Each case edits one line of the 2023 pack's wording: a table block naming no table is
refused, listing the tables it may name (the report's own and the form's, by id); a broken
tag or an unknown field is a Chinese error naming the file, the block and the tag.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xlproc.form.packs import pack_by_id
from xlproc.report.wording import WordingError, load_wording

PACK = pack_by_id("zpb-2023")


def _wording(tmp_path: Path, old: str, new: str) -> Path:
    text = PACK.wording.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path = tmp_path / "wording.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_table_of_the_form_is_placed_by_its_id(tmp_path):
    path = _wording(tmp_path, "    - table: goals\n", "    - table: projects\n")
    tables = [b.name for b in load_wording(path, PACK.spec).body if b.kind == "table"]
    assert "projects" in tables and "goals" not in tables


def test_a_table_block_naming_no_table_lists_the_tables_it_may_name(tmp_path):
    path = _wording(tmp_path, "    - table: goals\n", "    - table: nosuch\n")
    with pytest.raises(WordingError) as err:
        load_wording(path, PACK.spec)
    message = str(err.value)
    assert str(path) in message and "table: nosuch" in message and "未知的table 'nosuch'" in message
    may = message.split("可用：", 1)[1]
    for name in ("scores", "findings", *PACK.spec.tables):
        assert name in may, name


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        ('"{{ me }}核定编制{{ f.staff_quota 个。"', ["模板标签有误", "（标签：{{ f.staff_quota 个。"]),
        ('"{{ me }}核定编制{{ f.staff_quota + }}个。"', ["模板标签有误", "（标签：{{ f.staff_quota + }}）"]),
        ('"{{ me }}共有{{ f.no_such_field }}人。"', ["不存在的字段 f.no_such_field", "{{ f.no_such_field }}"]),
    ],
    ids=["unclosed-tag", "bad-expression", "unknown-field"],
)
def test_a_bad_sentence_is_refused_naming_file_block_and_tag(tmp_path, sentence, words):
    anchor = "    - note: basic_note\n"
    path = _wording(tmp_path, anchor, f"    - p: {sentence}\n" + anchor)
    with pytest.raises(WordingError) as err:
        load_wording(path, PACK.spec)
    message = str(err.value)
    assert message.startswith(f"报告措辞 {path}：body 第") and "（p: " in message
    for word in words:
        assert word in message, message


def test_a_name_set_in_one_sentence_does_not_reach_the_next(tmp_path):
    """Snippets share one Jinja context per report for speed: what one sets must be gone
    for the next, as with a context per sentence."""
    from xlproc.reading.workbook import read_workbook
    from xlproc.report.context import build_context
    from xlproc.report.options import default_options

    anchor = "    - note: basic_note\n"
    first = "    - p: '{% set me = \"改名后\" %}甲：{{ me }}'\n"
    second = "    - p: '乙：{{ me }}'\n"
    path = _wording(tmp_path, anchor, first + second + anchor)
    wording = load_wording(path, PACK.spec)
    sample = next(p for p in sorted((Path(__file__).parent.parent / "samples" / "inbox").glob("*.xlsx")))
    sub = read_workbook(sample)
    texts = [b["text"] for b in build_context(sub, None, default_options(), wording=wording)["blocks"]]
    assert "甲：改名后" in texts
    assert f"乙：{wording.self_name}" in texts
