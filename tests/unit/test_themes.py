"""Comment themes: the tokeniser on zh / en / mixed / hostile text; the Fightin' Words z worked by hand."""

import math

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from cxdash.metrics import themes
from cxdash.metrics.themes import THEME_SCHEMA, comment_terms, comment_themes, log_odds_z_expr


def terms_of(text):
    return comment_terms(pl.Series([text], dtype=pl.String)).to_list()[0]


def frame(detractors=(), promoters=(), passives=()):
    rows = [(c, "detractor") for c in detractors] + [(c, "promoter") for c in promoters]
    rows += [(c, "passive") for c in passives]
    return pl.DataFrame(rows, schema={"comment": pl.String, "group": pl.String}, orient="row")


# ---- tokeniser -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 等/了/很久/才/有人/回复: 了 才 有人 are stop words; 很久 a domain word (jieba alone: 很 + 久)
        ("等了很久才有人回复", ["等", "很久", "回复"]),
        # 问题/到/现在/还/没/解决: the negation 没 joins the word after it
        ("问题到现在还没解决", ["问题", "没解决"]),
        ("问题一次就解决了,很满意", ["问题", "解决", "满意"]),
        ("客服态度冷淡,很不耐烦", ["客服", "态度", "冷淡", "不耐烦"]),  # 不耐烦 is one word for jieba
        ("退款还是没有处理好,非常失望", ["退款", "没有处理", "好", "失望"]),
        ("排队时间太长了", ["排队", "时间", "太长"]),
        ("回复非常及时", ["回复", "及时"]),
        ("3天了还没有到账", ["天", "没有到账"]),  # the digit goes; 到账 is a domain word
        ("不，满意", ["满意"]),  # punctuation breaks the negation off: a lone negation is dropped
    ],
)
def test_chinese_terms(text, expected):
    assert terms_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My problem is still not solved", ["problem", "not solved"]),
        ("The agent was rude and impatient", ["agent", "rude", "impatient"]),
        ("Agents' replies didn't help", ["agent", "reply", "not help"]),  # plural, possessive, n't
        ("Waited far too long for a reply", ["waited", "long", "reply"]),
        ("Not very helpful", ["not helpful"]),  # an English negation reaches across an intensifier
        ("not, great", ["great"]),
        ("slow slow SLOW", ["slow"]),  # distinct terms: a comment counts once per term
        ("Status: process OK", ["status", "process"]),  # -us / -ss keep their s; ok is a stop word
    ],
)
def test_english_terms(text, expected):
    assert terms_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("客服很好 but the reply was slow", ["客服", "好", "reply", "slow"]),
        ("ＱＵＩＣＫ reply，很满意！", ["quick", "reply", "满意"]),  # full-width forms folded
        ("我的problem没解决", ["problem", "没解决"]),
    ],
)
def test_mixed_terms(text, expected):
    assert terms_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Markup, formulas and template syntax are plain letters here: nothing is run or rendered.
        ("<script>alert('x')</script> 😀!!! 123", ["script", "alert"]),
        ("=cmd|' /C calc'!A0", ["cmd", "calc"]),
        ("{{7*7}} ${jndi:ldap://x}", ["jndi", "ldap"]),
        ("**bold** [link](http://e.com) :red[hi]", ["bold", "link", "http", "com", "red", "hi"]),
        ("😀👍", []),
        ("。。。!!!", []),
        ("   ", []),
        ("", []),
        (None, []),
    ],
)
def test_hostile_and_empty_text(text, expected):
    assert terms_of(text) == expected


def test_comment_terms_keeps_length_order_and_name():
    comments = pl.Series("comment", ["Very quick reply", None, "回复非常及时", "Very quick reply", ""])
    expected = pl.Series(
        "comment",
        [["quick", "reply"], [], ["回复", "及时"], ["quick", "reply"], []],
        dtype=pl.List(pl.String),
    )
    assert_series_equal(comment_terms(comments), expected)


def test_comment_terms_of_all_null_and_empty_series():
    assert comment_terms(pl.Series("c", [None, None])).to_list() == [[], []]
    assert_series_equal(
        comment_terms(pl.Series("c", [], dtype=pl.String)), pl.Series("c", [], pl.List(pl.String))
    )


def test_each_distinct_text_is_segmented_once(monkeypatch):
    calls = []
    real = themes._text_terms
    monkeypatch.setattr(themes, "_text_terms", lambda text: calls.append(text) or real(text))
    comment_themes(frame(detractors=["slow reply"] * 50 + ["rude"] * 50, promoters=["quick reply"] * 50))
    assert sorted(calls) == ["quick reply", "rude", "slow reply"]


# ---- Fightin' Words z, by hand -----------------------------------------------------------------------
#
# Detractors: "slow reply", "slow agent", "rude agent"; promoters: "quick reply", "friendly agent".
# Document frequencies y (D, P): slow (2, 0), reply (1, 1), agent (2, 1), rude (1, 0), quick (0, 1),
# friendly (0, 1); n_D = 2+1+2+1 = 6, n_P = 1+1+1+1 = 4. Prior α_w = y_w^D + y_w^P, α_0 = n = 10.
#   δ_w = ln((y^D + α) / (n_D + α_0 − y^D − α)) − ln((y^P + α) / (n_P + α_0 − y^P − α))
#   σ² = 1/(y^D + α) + 1/(y^P + α), z = δ / σ
# slow:  α=2, δ = ln(4/12) − ln(2/12) = ln 2 = 0.693147, σ² = 1/4 + 1/2 = 0.75, z = 0.693147/0.866025
# rude:  α=1, δ = ln(2/14) − ln(1/13) = ln(13/7),   σ² = 1/2 + 1/1 = 1.5,  z = 0.619039/1.224745
# agent: α=3, δ = ln(5/11) − ln(4/10) = ln(25/22), σ² = 1/5 + 1/4 = 0.45, z = 0.127833/0.670820
# reply: α=2, δ = ln(3/13) − ln(3/11) = ln(11/13), σ² = 1/3 + 1/3,        z = −0.167054/0.816497
#        (same count in both groups, but the promoters wrote fewer terms: a higher rate among them)
# quick = friendly: α=1, δ = ln(1/15) − ln(2/12) = ln(0.4), σ² = 1/1 + 1/2 = 1.5, z = −0.916291/1.224745
Z_SLOW = math.log(2) / math.sqrt(0.75)  # 0.800377
Z_RUDE = math.log(13 / 7) / math.sqrt(1.5)  # 0.505443
Z_AGENT = math.log(25 / 22) / math.sqrt(0.45)  # 0.190563
Z_REPLY = math.log(11 / 13) / math.sqrt(2 / 3)  # −0.204599
Z_QUICK = math.log(0.4) / math.sqrt(1.5)  # −0.748148
HAND = frame(
    detractors=["slow reply", "slow agent", "rude agent"], promoters=["quick reply", "friendly agent"]
)


def test_log_odds_z_expr_by_hand():
    counts = pl.DataFrame(
        {
            "term": ["slow", "reply", "agent", "rude", "quick", "friendly"],
            "d": [2, 1, 2, 1, 0, 0],
            "p": [0, 1, 1, 0, 1, 1],
        }
    )
    z = counts.select(log_odds_z_expr(pl.col("d"), pl.col("p")))["d"].to_list()
    assert z == pytest.approx([Z_SLOW, Z_REPLY, Z_AGENT, Z_RUDE, Z_QUICK, Z_QUICK])
    assert z[0] == pytest.approx(0.800377, abs=1e-6)


def test_comment_themes_by_hand():
    expected = pl.DataFrame(
        [
            ("slow", "detractor", 2, 0, 200 / 3, 0.0, Z_SLOW, ["slow agent", "slow reply"]),  # tie: by text
            ("rude", "detractor", 1, 0, 100 / 3, 0.0, Z_RUDE, ["rude agent"]),
            ("agent", "detractor", 2, 1, 200 / 3, 50.0, Z_AGENT, ["rude agent", "slow agent"]),
            ("friendly", "promoter", 0, 1, 0.0, 50.0, Z_QUICK, ["friendly agent"]),  # tie with quick: by term
            ("quick", "promoter", 0, 1, 0.0, 50.0, Z_QUICK, ["quick reply"]),
            ("reply", "promoter", 1, 1, 100 / 3, 50.0, Z_REPLY, ["quick reply"]),  # promoters' examples only
        ],
        schema=THEME_SCHEMA,
        orient="row",
    )
    assert_frame_equal(comment_themes(HAND, min_count=1), expected)


def test_min_count_keeps_terms_in_enough_comments_and_scores_on_the_whole_vocabulary():
    # slow (2), agent (3) and reply (2) reach 2 comments; their z is still computed on all six terms
    out = comment_themes(HAND, min_count=2)
    assert out.select("term", "leaning").rows() == [
        ("slow", "detractor"),
        ("agent", "detractor"),
        ("reply", "promoter"),
    ]
    assert out["z"].to_list() == pytest.approx([Z_SLOW, Z_AGENT, Z_REPLY])
    assert comment_themes(HAND, min_count=4).is_empty()


def test_top_limits_each_leaning_and_ties_go_by_term():
    out = comment_themes(HAND, min_count=1, top=1)
    assert out.select("term", "leaning").rows() == [("slow", "detractor"), ("friendly", "promoter")]


def test_examples_are_limited_distinct_shortest_first_and_from_the_leaning_group():
    comments = frame(
        detractors=["slow", "very slow reply", "slow!!", "slow!!", "slow agent", "so slow"],
        promoters=["not slow at all, great", "great", "great", "great"],
    )
    out = comment_themes(comments, min_count=1, examples=3)
    assert out.filter(pl.col("term") == "slow")["examples"].to_list() == [["slow", "slow!!", "so slow"]]
    assert out.filter(pl.col("term") == "great")["examples"].to_list() == [
        ["great", "not slow at all, great"]
    ]
    assert comment_themes(comments, min_count=1, examples=0)["examples"].to_list() == [[]] * out.height


def test_passives_null_and_blank_comments_are_ignored():
    noisy = pl.concat(
        [HAND, frame(detractors=[None, "  "], promoters=[""], passives=["slow slow", "quick", None])]
    )
    assert_frame_equal(comment_themes(noisy, min_count=1), comment_themes(HAND, min_count=1))


def test_other_column_names_and_categorical_groups():
    renamed = HAND.select(pl.col("comment").alias("text"), pl.col("group").cast(pl.Categorical).alias("nps"))
    out = comment_themes(renamed, group="nps", text="text", min_count=1)
    assert_frame_equal(out, comment_themes(HAND, min_count=1))


@pytest.mark.parametrize(
    "comments",
    [
        pl.DataFrame(),
        frame(),
        frame(detractors=["slow reply", "rude"]),  # no promoter
        frame(promoters=["quick reply"], passives=["ok"]),  # no detractor
        frame(detractors=[None, " "], promoters=["quick"]),  # detractors without a comment
        frame(detractors=["slow"], promoters=["slow"]),  # one term is the whole vocabulary: nothing separates
        frame(detractors=["!!!"], promoters=["😀"]),  # comments without any term
    ],
)
def test_empty_or_one_sided_inputs_give_an_empty_frame(comments):
    out = comment_themes(comments, min_count=1)
    assert out.is_empty()
    assert out.schema == pl.Schema(THEME_SCHEMA)


# ---- demo-like comments ----------------------------------------------------------------------------

DETRACTOR_COMMENTS = {
    "问题到现在还没解决": 6,
    "退款还是没有处理好,非常失望": 3,
    "等了很久才有人回复": 5,
    "排队时间太长了": 4,
    "客服态度冷淡,很不耐烦": 4,
    "My problem is still not solved": 3,
    "Waited far too long for a reply": 3,
    "The agent was rude and impatient": 3,
}
PROMOTER_COMMENTS = {
    "问题一次就解决了,很满意": 6,
    "回复非常及时": 5,
    "客服态度很好,耐心细致": 4,
    "Very quick reply": 4,
    "Friendly and patient agent": 3,
}


def test_demo_like_comments_give_the_expected_themes():
    comments = frame(
        detractors=[c for c, n in DETRACTOR_COMMENTS.items() for _ in range(n)],
        promoters=[c for c, n in PROMOTER_COMMENTS.items() for _ in range(n)],
        passives=["还行吧"] * 5,
    )
    out = comment_themes(comments)
    detractor = set(out.filter(pl.col("leaning") == "detractor")["term"])
    promoter = set(out.filter(pl.col("leaning") == "promoter")["term"])
    assert detractor & {"没解决", "not solved"}  # resolution
    assert detractor & {"很久", "排队", "太长", "waited", "long"}  # waiting for a reply
    assert detractor & {"冷淡", "不耐烦", "rude", "impatient"}  # attitude
    assert {"满意", "及时", "quick", "friendly"} <= promoter
    # 解决 alone comes from "问题一次就解决了": the negation keeps it out of the detractors' themes
    assert "解决" in promoter
    assert out.height == 20
    # detractor rows first, then promoter rows, each by |z| descending
    assert out["leaning"].to_list() == ["detractor"] * 10 + ["promoter"] * 10
    assert out["z"].head(10).is_sorted(descending=True)
    assert out["z"].tail(10).is_sorted()
    assert out["z"].head(10).min() > 0 > out["z"].tail(10).max()
