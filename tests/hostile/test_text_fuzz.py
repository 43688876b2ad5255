"""The XML text helpers run in linear time on any text, and never raise on bad references.

Hypothesis builds texts from XML-ish fragments (unclosed tags, quotes, entities,
prefixes) that once made backtracking patterns quadratic; every example must finish
within the deadline. The explicit cases below are the shapes of known attacks at a
size where a quadratic scan takes minutes and a linear one milliseconds.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlproc.annotate import cells, comments
from xlproc.ooxml import xmltext

FRAGMENTS = [
    "<",
    ">",
    "/>",
    "</",
    '"',
    "'",
    "&",
    ";",
    "#",
    "x",
    "&#",
    "&#x",
    "&#xD800;",
    "&#1114112;",
    "&#99999999999;",
    "&amp;",
    "<comment ",
    "<comment>",
    "</comment>",
    "<x:comment ",
    "<t>",
    "</t>",
    "<t ",
    "<r>",
    "<text>",
    "<author>",
    "<c ",
    "<c>",
    "</c>",
    "<v>",
    "<si>",
    "<rPh>",
    "<!--",
    "-->",
    "<![CDATA[",
    "<?",
    "<shape ",
    'r="A1"',
    ' ref="B2"',
    " ",
    "\n",
    "aaaa",
    "中文",
    "x:",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=400).map("".join)


@settings(deadline=timedelta(milliseconds=250), max_examples=300)
@given(texts)
def test_helpers_on_any_text(text: str) -> None:
    xmltext.unescape(text)
    xmltext.tag_attrs(text)
    xmltext.get_attr(text, "ref")
    list(xmltext.top_level_children(text, 0, len(text)))
    list(xmltext.iter_elements(text, "c"))
    comments.comment_plain_text(text)
    comments.CommentsPart.comments_in(text)
    cells.item_text(text)
    with contextlib.suppress(ValueError):  # a cut tag is refused, in linear time
        xmltext.whole_tag(text)
    out = xmltext.escape(xmltext.unescape(text))
    out.encode("utf-8")  # no lone surrogate survives


def _linear(fn, unit: str, n: int = 20_000) -> float:
    start = time.perf_counter()
    fn(unit * n)
    return time.perf_counter() - start


def test_known_attack_shapes_are_linear() -> None:
    # 20,000 unclosed elements: a quadratic scan would look at 200 million characters
    shapes = [
        (comments.CommentsPart.comments_in, '<comment ref="A1"><text>x'),
        (comments.comment_plain_text, "<t>abc"),
        (cells.item_text, "<rPh>x<t>y"),
        (lambda s: list(xmltext.top_level_children(s, 0, len(s))), "<a b='>"),
        (lambda s: list(xmltext.top_level_children(s, 0, len(s))), "<!--"),
        (xmltext.unescape, "&#12345678901234567890"),
        (lambda s: list(xmltext.iter_elements(s, "c")), "<c r='A1'"),
        (lambda s: xmltext.tag_end(s, 1, len(s)), "<c a='\"' b=\"'\" "),
    ]
    for fn, unit in shapes:
        assert _linear(fn, unit) < 1.0, (fn, unit)


def test_bad_character_references_become_replacement_characters() -> None:
    assert xmltext.unescape("a&#xD800;b&#1114112;c&#0;d&#x41;") == "a\ufffdb\ufffdc\ufffdd" + "A"
    assert xmltext.unescape("&#99999999999999999999;") == "&#99999999999999999999;"


def test_a_tag_cut_inside_an_attribute_value_is_refused() -> None:
    whole = xmltext.whole_tag
    for tag in ('<c r="B2" s="3">', '<c r="B2"/>', '<sheet name="Dept\'s" r:id="rId1"/>', "<c r='B2' s='3'>"):
        assert whole(tag) == tag
        assert xmltext.set_attr(tag, "s", "9").count("s=") == 1
    for cut in ('<c r="B2" note="1>', "<c r='B2' note='1>", '<sheet name="Dept\'s" note="1>'):
        with pytest.raises(ValueError):
            whole(cut)
        with pytest.raises(ValueError):
            xmltext.set_attr(cut, "s", "9")
        with pytest.raises(ValueError):
            xmltext.del_attr(cut, "s")
