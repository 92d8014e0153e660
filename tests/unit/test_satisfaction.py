"""Satisfaction by period and breakdown on a small hand-built frame; every expected value is worked out by
hand in a comment (intervals also checked against scipy / cxdash.stats)."""

import math

import polars as pl
import pytest
from scipy import stats as sps

from cxdash.metrics.kpis import KpiOptions, headline_kpis
from cxdash.metrics.satisfaction import (
    comment_rows,
    driver_frame,
    driver_performance,
    rows_behind,
    satisfaction_table,
    survey_kpis,
    with_intervals,
)
from cxdash.metrics.scope import Scope, scoped
from cxdash.stats import wilson_interval
from tests.kpi_frames import END, Q3, START, at, kpi_frames

TZ = "UTC"
OPTIONS = KpiOptions()
TICKETS = [
    {"ticket_id": "T1", "customer_id": "c1", "channel": "chat", "category": "billing", "team_id": "T01",
     "first_response_at": at("2026-08-01", 30), "reopen_count": 1},
    {"ticket_id": "T2", "customer_id": "c2", "channel": "phone", "category": "delivery", "team_id": "T02",
     "first_response_at": at("2026-08-01", 90), "escalated": True},
    {"ticket_id": "T3", "customer_id": "c3", "channel": "chat", "category": "billing", "team_id": "T01",
     "first_response_at": at("2026-08-01", 10), "reassign_count": 2},
]  # fmt: skip
ITEMS5 = {"rating_attitude": 5, "rating_speed": 5, "rating_knowledge": 5, "rating_resolution": 5}


def csat(sid, ticket, customer, score, responded="2026-08-02", comment=None, **items):
    return {"survey_id": sid, "kind": "csat", "ticket_id": ticket, "customer_id": customer, "score": score,
            "responded_at": at(responded) if responded else None, "comment": comment, **items}  # fmt: skip


def answer(sid, kind, customer, score, ticket=None, comment=None):
    return {"survey_id": sid, "kind": kind, "ticket_id": ticket, "customer_id": customer, "score": score,
            "responded_at": at("2026-08-03"), "comment": comment}  # fmt: skip


SURVEYS = [
    csat("s1", "T1", "c1", 5, comment="很满意", **ITEMS5),
    csat("s2", "T1", "c1", 4, rating_speed=2),
    csat("s3", "T2", "c2", 2, comment="太慢了"),
    csat("s4", "T3", "c3", 3, comment="  "),
    csat("s5", "T2", "c2", 5),
    csat("s6", "T2", "c2", None, responded=None),  # sent, never answered
    csat("s7", "T1", "c1", 1, responded="2026-05-10"),  # 2026Q2
    answer("n1", "nps", "c1", 10, comment="会推荐"),
    answer("n2", "nps", "c2", 6),
    answer("n3", "nps", "c3", 8),
    answer("n4", "nps", "c4", 9),  # a customer without tickets
    answer("e1", "ces", "c1", 7, ticket="T1"),
    answer("e2", "ces", "c2", 3, ticket="T2"),
]
PEOPLE = (
    ("c1", "consumer", "华东"),
    ("c2", "business", "华南"),
    ("c3", "consumer", "华东"),
    ("c4", "consumer", "华北"),
)
CUSTOMERS = [{"customer_id": c, "segment": s, "region": r} for c, s, r in PEOPLE]


@pytest.fixture(scope="module")
def frames():
    return kpi_frames(tickets=TICKETS, surveys=SURVEYS, customers=CUSTOMERS)


def table(frames, **kwargs):
    kwargs.setdefault("tz", TZ)
    start, end = kwargs.pop("start", START), kwargs.pop("end", END)
    options = kwargs.pop("options", OPTIONS)
    return satisfaction_table(pl.collect_all(survey_kpis(frames, start, end, options, **kwargs)))


def cell(result, kpi, group=None, period=None):
    rows = result.filter(
        (pl.col("kpi") == kpi) & pl.col("group").eq_missing(group) & pl.col("period").eq_missing(period)
    )
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_totals_equal_the_headline_kpis(frames):
    result = table(frames)
    kpis = headline_kpis(frames, Q3, OPTIONS)
    for name in ("csat_pct", "csat_mean", "csat_response_rate_pct", "nps", "ces_mean"):
        row = cell(result, name)
        assert row["value"] == pytest.approx(kpis[name].value), name
        assert row["n"] == kpis[name].n, name


def test_csat_by_channel(frames):
    result = table(frames, dimension="channel")
    chat, phone = cell(result, "csat_pct", "chat"), cell(result, "csat_pct", "phone")
    # chat: s1 5, s2 4, s4 3 → 2 of 3 are ≥ 4; phone: s3 2, s5 5 → 1 of 2
    assert (chat["value"], chat["n"], chat["hits"]) == (pytest.approx(200 / 3), 3, 2)
    assert (phone["value"], phone["n"]) == (50.0, 2)
    # Wilson 95% for 2/3: centre (2/3 + z²/6)/(1 + z²/3) = 0.5731, half 0.3654 → 20.8 % to 93.9 %
    assert (chat["low"], chat["high"]) == (pytest.approx(20.77, abs=0.01), pytest.approx(93.85, abs=0.01))
    low, high = wilson_interval(2, 3)
    assert (chat["low"], chat["high"]) == (pytest.approx(100 * low), pytest.approx(100 * high))
    assert chat["small"] and phone["small"]  # n < 30
    mean = cell(result, "csat_mean", "chat")
    # mean of 5, 4, 3 = 4, sd 1; t(0.975, 2) = 4.3027 → 4 ± 4.3027 / √3 = 4 ± 2.4841
    assert (mean["value"], mean["sd"]) == (4.0, 1.0)
    assert mean["low"] == pytest.approx(4 - sps.t.ppf(0.975, 2) / math.sqrt(3))
    assert mean["high"] == pytest.approx(6.4841, abs=1e-4)


def test_response_rate_counts_surveys_sent_in_the_period(frames):
    result = table(frames, dimension="channel")
    # phone: s3, s5, s6 sent in Q3, two answered → 66.7 %; chat: s1, s2, s4 → 100 % (s7 sent in Q3 too,
    # answered in Q2: the rate is about surveys sent in the period)
    assert cell(result, "csat_response_rate_pct", "phone")["value"] == pytest.approx(200 / 3)
    chat = cell(result, "csat_response_rate_pct", "chat")
    assert (chat["value"], chat["n"]) == (100.0, 4)


def test_nps_overall_and_its_interval(frames):
    row = cell(table(frames), "nps")
    # scores 10, 6, 8, 9: promoters 2, detractors 1 of 4 → 25; p = .5, d = .25,
    # var = (.75 − .0625) / 4 = 0.171875 → half = 196.0 × 0.41458 = 81.26 → −56.26 … 100 (clipped)
    assert (row["value"], row["n"], row["promoters"], row["detractors"]) == (25.0, 4, 2, 1)
    assert row["low"] == pytest.approx(25 - 100 * 1.959964 * math.sqrt(0.171875))
    assert row["high"] == 100.0


def test_nps_by_a_ticket_dimension_counts_the_customers_served(frames):
    result = table(frames, dimension="channel")
    # chat served c1 (10) and c3 (8): 1 promoter of 2 → 50; phone served c2 (6) → −100; c4 had no ticket
    assert (cell(result, "nps", "chat")["value"], cell(result, "nps", "chat")["n"]) == (50.0, 2)
    assert cell(result, "nps", "phone")["value"] == -100.0
    assert result.filter(pl.col("kpi") == "nps")["n"].sum() == 3


def test_nps_under_a_team_filter_equals_the_kpi(frames):
    team = scoped(frames, Scope(teams=("T01",)))
    # T01 served c1 (10) and c3 (8) → 50, n 2
    assert cell(table(team), "nps")["value"] == 50.0
    assert headline_kpis(team, Q3, OPTIONS)["nps"].value == 50.0


def test_customer_dimensions_and_tiers(frames):
    by_region = table(frames, dimension="region")
    # 华东: c1 (s1 5, s2 4) and c3 (s4 3) → 2 of 3; 华南: c2 → 1 of 2
    assert cell(by_region, "csat_pct", "华东")["value"] == pytest.approx(200 / 3)
    # NPS by region: 华东 c1 10, c3 8 → 50; 华北 c4 9 → 100
    assert cell(by_region, "nps", "华北")["value"] == 100.0
    tiers = pl.LazyFrame({"customer_id": ["c1", "c2"], "tier": ["vip", "regular"]})
    by_tier = table(frames, dimension="tier", tiers=tiers)
    assert cell(by_tier, "csat_pct", "vip")["value"] == 100.0  # c1: 5, 4
    assert cell(by_tier, "csat_pct", None)["n"] == 1  # c3 has no tier: the unknown group


def test_threshold_changes_every_csat_figure(frames):
    top1 = table(frames, dimension="channel", options=KpiOptions(csat_threshold=5))
    top3 = table(frames, dimension="channel", options=KpiOptions(csat_threshold=3))
    # chat scores 5, 4, 3: top-1 → 1 of 3, top-3 → 3 of 3
    assert cell(top1, "csat_pct", "chat")["value"] == pytest.approx(100 / 3)
    assert cell(top3, "csat_pct", "chat")["value"] == 100.0
    # the items' share ≥ threshold follows too: speed ratings 5 (s1) and 2 (s2) → 1 of 2 at top-1
    speed = cell(table(frames, options=KpiOptions(csat_threshold=5)), "rating_speed")
    assert (speed["value"], speed["n"], speed["hits"]) == (3.5, 2, 1)


def test_trend_by_quarter(frames):
    result = table(frames, period_kind="quarter", start=at("2026-04-01"))
    # Q2: s7 (1) only → 0 %; Q3: 5, 4, 2, 3, 5 → 3 of 5 = 60 %
    assert cell(result, "csat_pct", period="2026Q2")["value"] == 0.0
    assert cell(result, "csat_pct", period="2026Q3")["value"] == 60.0
    # the response rate goes by the sending period: every survey was sent in Q3
    assert result.filter(
        (pl.col("kpi") == "csat_response_rate_pct") & (pl.col("period") == "2026Q2")
    ).is_empty()


def test_trend_nps_under_a_ticket_filter_uses_the_customers_served_in_each_period(frames):
    team = scoped(frames, Scope(teams=("T02",)))
    result = table(team, period_kind="quarter", start=at("2026-04-01"))
    # T02 served c2 in Q3 only → Q3 NPS −100 (c2: 6)
    assert cell(result, "nps", period="2026Q3")["value"] == -100.0
    assert result.filter((pl.col("kpi") == "nps") & (pl.col("period") == "2026Q2")).is_empty()


def test_intervals_are_null_without_enough_rows():
    tiny = pl.DataFrame(
        {"period": [None], "group": [None], "kpi": ["csat_mean"], "value": [4.0], "n": [1], "hits": [None],
         "sd": [None], "promoters": [None], "detractors": [None]},
        schema={"period": pl.String, "group": pl.String, "kpi": pl.String, "value": pl.Float64, "n": pl.Int64,
                "hits": pl.Int64, "sd": pl.Float64, "promoters": pl.Int64, "detractors": pl.Int64},
    )  # fmt: skip
    row = with_intervals(tiny).row(0, named=True)
    assert (row["low"], row["high"], row["small"]) == (None, None, True)


def test_rows_behind_a_cell_are_the_rows_it_counts(frames):
    chat = rows_behind(frames, START, END, kpi="csat_pct", dimension="channel", group="chat", tz=TZ).collect()
    assert sorted(chat["survey_id"]) == ["s1", "s2", "s4"]
    assert set(chat["team_id"]) == {"T01"}
    nps = rows_behind(frames, START, END, kpi="nps", dimension="channel", group="chat", tz=TZ).collect()
    assert sorted(nps["survey_id"]) == ["n1", "n3"]
    sent = rows_behind(frames, START, END, kpi="csat_response_rate_pct", dimension="channel", group="phone",
                       tz=TZ).collect()  # fmt: skip
    assert sorted(sent["survey_id"]) == ["s3", "s5", "s6"]
    q2 = rows_behind(frames, at("2026-04-01"), END, kpi="csat_pct", period_kind="quarter", period="2026Q2",
                     tz=TZ).collect()  # fmt: skip
    assert q2["survey_id"].to_list() == ["s7"]


def test_comments_groups_and_weakest_items(frames):
    rows = comment_rows(frames, START, END, OPTIONS, kind="csat").collect()
    # s4's comment is blank: left out; s1 (5) satisfied, s3 (2) not
    assert dict(zip(rows["survey_id"], rows["group"], strict=True)) == {"s1": "promoter", "s3": "detractor"}
    s1 = rows.filter(pl.col("survey_id") == "s1")["weakest"][0].to_list()
    assert sorted(s1) == sorted(["rating_attitude", "rating_speed", "rating_knowledge", "rating_resolution"])
    low = comment_rows(frames, START, END, OPTIONS, kind="csat", scores=[1, 2]).collect()
    assert low["survey_id"].to_list() == ["s3"]
    nps = comment_rows(frames, START, END, OPTIONS, kind="nps").collect()
    assert nps.select("survey_id", "group").rows() == [("n1", "promoter")]
    assert comment_rows(frames, START, END, OPTIONS, kind="csat", weakest="rating_speed").collect()[
        "survey_id"
    ].to_list() == ["s1"]


def test_driver_frame_and_performance(frames):
    rows = driver_frame(frames, START, END, OPTIONS).collect().sort("ticket_id", "score")
    # five csat responses in Q3 with a score: s1, s2 (T1), s3, s5 (T2), s4 (T3)
    assert rows.height == 5
    t1 = rows.filter(pl.col("ticket_id") == "T1").row(0, named=True)
    # T1 answered after 30 min = 0.5 h → log(1.5); normal priority target 60 min: met; reopened once
    assert t1["log_first_response_h"] == pytest.approx(math.log(1.5))
    assert (t1["frt_met"], t1["reopened"], t1["reassigned"], t1["escalated"]) == (True, True, False, False)
    performance = driver_performance(rows)
    # frt met: T1 ×2 (30 min), T3 (10 min) yes; T2 ×2 (90 min) no → 3 of 5 = 60 %
    assert performance["log_first_response_h"] == pytest.approx(60.0)
    # reopened: T1's two rows → 3 of 5 without → 60 %; escalated: T2's two → 60 %; reassigned: T3 → 80 %
    assert (performance["reopened"], performance["escalated"], performance["reassigned"]) == (
        pytest.approx(60.0), pytest.approx(60.0), pytest.approx(80.0),
    )  # fmt: skip
    # attitude rated only on s1 (5) → (5 − 1) / 4 = 100 %; speed 5 and 2 → mean 3.5 → 62.5 %
    assert performance["rating_attitude"] == 100.0
    assert performance["rating_speed"] == 62.5
    assert performance["channel"] is None
