"""Texts from data shown as text: Markdown and Plotly escaping round-trip to what was written; the
CSV export neutralises every formula form."""

import html
import re

import polars as pl
import pytest

from cxdash.plain_text import WORD_JOINER, markdown_plain, plotly_plain
from cxdash.reports.export import csv_bytes, neutralise_formulas

PAYLOADS = [
    "![x](http://evil.test/p.png)",
    "[x](http://evil.test)",
    "[x](javascript:alert(1))",
    ":red[x]",
    ":material/home: x",
    ":material_home: :smile:",
    "$$x$$",
    "$x$ and $y$",
    "<img src=x onerror=alert(1)>",
    '<a href="http://evil">x</a>',
    "**b** _i_ ~~s~~ `c`",
    "# h\n- item\n1. one\n> quote",
    "www.evil.test a@evil.test http://evil.test",
    "普通 团队名 A&B",
]


def markdown_visible(escaped: str) -> str:
    """What CommonMark shows for a text where every special is backslash-escaped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped).replace(WORD_JOINER, "")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_plain_round_trips_and_leaves_no_construct(payload):
    escaped = markdown_plain(payload)
    assert markdown_visible(escaped) == payload
    unescaped = re.sub(r"\\.", "", escaped)  # what is left unescaped has no Markdown punctuation
    assert not set(unescaped) & set("![]()<>:$*_`~#-|")
    assert ":material/" not in escaped
    parsed = escaped.replace("\\", "")  # the text nodes after parsing, where GFM and Streamlit look again
    assert not re.search(r":[\w+-]+:", parsed)  # no emoji or icon shortcode
    assert not re.search(r"https?://|www\.|\w@\w", parsed, re.IGNORECASE)  # no bare link


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plotly_plain_round_trips_and_has_no_tag(payload):
    escaped = plotly_plain(payload)
    assert html.unescape(escaped) == payload
    assert "<" not in escaped and ">" not in escaped


def test_plain_texts_accept_non_strings():
    assert markdown_plain(3) == "3"
    assert plotly_plain(None) == "None"


FORMULAS = [
    ("=1+1", "'=1+1"),
    ("+1", "'+1"),
    ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ('  =HYPERLINK("x")', '\'  =HYPERLINK("x")'),
    ("\n=1", "'\n=1"),
    (" \n +1", "' \n +1"),
    ("\u3000=1", "'\u3000=1"),
    ("＝1+1", "'＝1+1"),
    ("＋1", "'＋1"),
    ("－1", "'－1"),
    ("＠SUM(A1)", "'＠SUM(A1)"),
    ("  ＝1", "'  ＝1"),
    ("a=b", "a=b"),
    ("正常", "正常"),
    ("x -1", "x -1"),
    ("", ""),
    (None, None),
]


@pytest.mark.parametrize(("cell", "expected"), FORMULAS)
def test_formula_variants_are_neutralised(cell, expected):
    frame = pl.DataFrame({"text": [cell], "n": [-1.5]}, schema={"text": pl.String, "n": pl.Float64})
    safe = neutralise_formulas(frame)
    assert safe["text"].to_list() == [expected]
    assert safe.schema["n"] == pl.Float64 and safe["n"].to_list() == [-1.5]


def test_negative_numbers_stay_numbers_in_the_csv():
    data = csv_bytes(pl.DataFrame({"name": ["－1", "ok"], "delta": [-2, 3], "rate": [-0.5, 1.0]}))
    assert data.decode("utf-8-sig").splitlines() == ["name,delta,rate", "'－1,-2,-0.5", "ok,3,1.0"]
