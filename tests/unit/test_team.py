"""Team performance metrics on small hand-built frames; every expected value is worked out by hand in a
comment (Wilson intervals also checked against cxdash.stats and scipy)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats as sps

from cxdash.metrics import kpis
from cxdash.metrics.kpis import KpiOptions, Window, headline_kpis
from cxdash.metrics.scope import Scope, scoped
from cxdash.metrics.team import (
    SCORECARD_N,
    backlog_at,
    breaching_now,
    bucket_labels,
    fair_csat,
    period_expr,
    replay_breaches,
    scorecards,
    sla_replay,
    sla_trend,
    workload_heatmap,
)
from cxdash.stats import wilson_interval
from tests.kpi_frames import END, START, at, kpi_frames

# data_as_of = the end of Q3, so a ticket created just before it can still be inside its targets.
WINDOW = Window(start=START, end=END, as_of=END, data_as_of=END)
OPTIONS = KpiOptions()
# SLA targets of tests/kpi_frames (minutes): urgent 15 / 240, high 30 / 600, normal 60 / 1440; low none.


def ticket(tid, team, agent, priority, created, fr=None, res=None, **extra):
    """A ticket created at `created` answered `fr` and resolved `res` minutes later (None: not yet)."""
    created_at = at(created)
    return {
        "ticket_id": tid, "team_id": team, "agent_id": agent, "priority": priority, "created_at": created_at,
        "first_response_at": None if fr is None else created_at + timedelta(minutes=fr),
        "resolved_at": None if res is None else created_at + timedelta(minutes=res), **extra,
    }  # fmt: skip


def csat(ticket_id, score, responded="2026-08-10"):
    return {"kind": "csat", "ticket_id": ticket_id, "score": score, "responded_at": at(responded)}


SCORE_TICKETS = [
    # T01: FR 30 ≤ 60 met, resolution 600 ≤ 1440 met, one touch.
    ticket("t1", "T01", "a1", "normal", "2026-08-01", fr=30, res=600, agent_replies=1),
    # T01: FR 45 > 30 breached, resolution 480 ≤ 600 met; reopened, 2 replies, escalated.
    ticket("t2", "T01", "a1", "high", "2026-08-01", fr=45, res=480, reopen_count=1, agent_replies=2,
           escalated=True),
    # T01: FR 10 ≤ 15 met; unresolved at data_as_of, 2 months > 240 min: resolution breached.
    ticket("t3", "T01", "a2", "urgent", "2026-08-02", fr=10),
    # T01: 30 min old at data_as_of, inside both targets (60, 1440): excluded from both SLAs.
    ticket("t4", "T01", "a2", "normal", "2026-09-30T23:30"),
    # T02: FR 120 > 60 breached, resolution 1500 > 1440 breached; no reply: one touch.
    ticket("t5", "T02", "b1", "normal", "2026-08-03", fr=120, res=1500, agent_replies=0),
    # T02: priority low has no policy: in every figure but the SLAs.
    ticket("t6", "T02", "b1", "low", "2026-08-03", fr=5, res=60),
    # Created before Q3: only its csat response (in Q3) counts, for b2 / T02.
    ticket("t7", "T02", "b2", "normal", "2026-06-30", fr=5, res=60),
]  # fmt: skip
SCORE_SURVEYS = [
    csat("t1", 5),
    csat("t2", 3),
    csat("t3", 4),
    csat("t5", 2),
    csat("t6", 5),
    csat("t7", 4),
    csat("t1", 1, responded="2026-06-01"),  # responded before Q3: out
]


@pytest.fixture(scope="module")
def score_frames():
    return kpi_frames(tickets=SCORE_TICKETS, surveys=SCORE_SURVEYS)


def rows(frame: pl.LazyFrame, key: str) -> dict:
    return {row[key]: row for row in frame.collect().iter_rows(named=True)}


# (figure, T01, T02), worked out from the comments of SCORE_TICKETS:
TEAM_EXPECTED = [
    ("tickets", 4, 2),  # t1–t4; t5, t6 (t7 was created in Q2)
    ("resolved", 2, 2),  # t1, t2; t5, t6
    ("frt_median_min", 30.0, 62.5),  # {10, 30, 45}; {5, 120}: (5 + 120) / 2
    ("frt_p90_min", 42.0, 108.5),  # rank 0.9 × 2 = 1.8: 30 + 0.8 × 15; rank 0.9: 5 + 0.9 × 115
    ("frt_n", 3, 2),
    ("resolution_median_h", 9.0, 13.0),  # {8, 10}; {1, 25}
    ("resolution_p90_h", 9.8, 22.6),  # 8 + 0.9 × 2; 1 + 0.9 × 24
    ("sla_first_response_met", 2, 0),  # t1, t3 met, t2 breached, t4 excluded; t5 breached, t6 no policy
    ("sla_first_response_n", 3, 1),
    ("sla_first_response_pct", 200 / 3, 0.0),
    ("sla_resolution_met", 2, 0),  # t1, t2 met, t3 breached, t4 excluded; t5 breached
    ("sla_resolution_n", 3, 1),
    ("sla_resolution_pct", 200 / 3, 0.0),
    ("csat_hits", 2, 2),  # 5, 3, 4; 2, 5, 4 (t7's response counts for T02)
    ("csat_n", 3, 3),
    ("csat_pct", 200 / 3, 200 / 3),
    ("reopened", 1, 0),  # t2 of the resolved t1, t2
    ("reopen_rate_pct", 50.0, 0.0),
    ("one_touch", 1, 2),  # t1 (1 reply), not t2 (2); t5 (0), t6 (1)
    ("one_touch_pct", 50.0, 100.0),
    ("escalated", 1, 0),
    ("escalation_rate_pct", 25.0, 0.0),
]


@pytest.mark.parametrize(("column", "t01", "t02"), TEAM_EXPECTED)
def test_team_scorecards(score_frames, column, t01, t02):
    cards = rows(scorecards(score_frames, WINDOW, OPTIONS, by="team_id"), "team_id")
    assert list(cards) == ["T01", "T02"]
    assert cards["T01"][column] == pytest.approx(t01)
    assert cards["T02"][column] == pytest.approx(t02)


def test_agent_scorecards_follow_each_ticket_and_response(score_frames):
    cards = rows(scorecards(score_frames, WINDOW, OPTIONS, by="agent_id"), "agent_id")
    assert list(cards) == ["a1", "a2", "b1", "b2"]
    a1, a2, b2 = cards["a1"], cards["a2"], cards["b2"]
    assert (a1["tickets"], a1["frt_median_min"], a1["csat_pct"]) == (2, 37.5, 50.0)  # (30 + 45) / 2; 5, 3
    # a2 resolved nothing: resolution, reopen and one-touch have N = 0 and no value.
    assert (a2["resolved"], a2["resolution_median_h"], a2["reopen_rate_pct"], a2["one_touch_pct"]) == (
        0, None, None, None,
    )  # fmt: skip
    assert (a2["sla_first_response_pct"], a2["sla_first_response_n"]) == (100.0, 1)  # t3 met, t4 excluded
    # b2 has a response (on t7, created in Q2) but no ticket of the period.
    assert (b2["tickets"], b2["csat_n"], b2["csat_pct"], b2["frt_median_min"]) == (0, 1, 100.0, None)


@pytest.mark.parametrize("by", ["team_id", "agent_id"])
def test_scorecard_counts_add_up_to_the_company(score_frames, by):
    totals = scorecards(score_frames, WINDOW, OPTIONS, by=by).collect().sum()
    company = headline_kpis(score_frames, WINDOW, OPTIONS)
    assert totals["tickets"][0] == company["tickets"].n == 6
    assert totals["resolved"][0] == company["reopen_rate_pct"].n == 4
    assert totals["frt_n"][0] == company["frt_median_min"].n == 5
    assert totals["sla_first_response_n"][0] == company["sla_first_response_pct"].n == 4
    assert totals["sla_resolution_n"][0] == company["sla_resolution_pct"].n == 4
    assert totals["csat_n"][0] == company["csat_pct"].n == 6
    assert 100 * totals["csat_hits"][0] / totals["csat_n"][0] == pytest.approx(company["csat_pct"].value)


@pytest.mark.parametrize("clock", ["calendar", "business"])
@pytest.mark.parametrize("team", ["T01", "T02"])
def test_a_teams_scorecard_is_its_headline_kpis(score_frames, clock, team):
    options = KpiOptions(clock=clock)
    card = rows(scorecards(score_frames, WINDOW, options, by="team_id"), "team_id")[team]
    headline = headline_kpis(scoped(score_frames, Scope(teams=(team,))), WINDOW, options)
    for figure, n_column in SCORECARD_N.items():
        if figure in headline:
            assert card[figure] == pytest.approx(headline[figure].value, nan_ok=True), figure
            assert card[n_column] == headline[figure].n, figure


def test_scorecards_of_nothing_are_empty():
    assert scorecards(kpi_frames(), WINDOW, OPTIONS, by="agent_id").collect().height == 0


# Case mix: cell E = (billing, chat, normal), cell H = (delivery, phone, urgent).
E = {"category": "billing", "channel": "chat", "priority": "normal"}
H = {"category": "delivery", "channel": "phone", "priority": "urgent"}
MIX = [
    ("x", E, [5, 5, 4]),  # only easy tickets: 3 of 3 satisfied
    ("y", H, [1, 2, 4, 2]),  # only hard tickets: 1 of 4
    ("z", E, [2]),  # z: one easy ticket (not satisfied) …
    ("z", H, [5, 4]),  # … and two hard ones (both satisfied)
    (None, H, [1, 1]),  # unassigned tickets count in the company's cell rates: 0 of 2
]
# Cell rates: E = 3 of x + 0 of z = 3 / 4 = 75 %; H = 1 (y) + 2 (z) + 0 (unassigned) = 3 / 8 = 37.5 %.
# Expected: x 75; y 37.5 (hard tickets only: well under the company's 7 / 12 = 58.3 %);
# z (75 + 37.5 + 37.5) / 3 = 50.
MIX_EXPECTED = {  # agent: (n, hits, csat_pct, expected_pct, diff_pct)
    "x": (3, 3, 100.0, 75.0, 25.0),
    "y": (4, 1, 25.0, 37.5, -12.5),
    "z": (3, 2, 200 / 3, 50.0, 50 / 3),
}


def mix_frames(mix=MIX):
    tickets, surveys = [], []
    for agent, cell, scores in mix:
        for score in scores:
            tid = f"m{len(tickets)}"
            tickets.append({"ticket_id": tid, "agent_id": agent, "created_at": at("2026-08-01"), **cell})
            surveys.append(csat(tid, score))
    return kpi_frames(tickets=tickets, surveys=surveys)


@pytest.fixture(scope="module")
def fair():
    return rows(fair_csat(mix_frames(), WINDOW, OPTIONS, min_responses=4), "agent_id")


@pytest.mark.parametrize(("agent", "expected"), MIX_EXPECTED.items())
def test_fair_csat_expects_the_company_rate_of_the_agents_case_mix(fair, agent, expected):
    row = fair[agent]
    got = (row["n"], row["hits"], row["csat_pct"], row["expected_pct"], row["diff_pct"])
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("agent", MIX_EXPECTED)
def test_fair_csat_wilson_interval_matches_stats_and_scipy(fair, agent):
    row = fair[agent]
    low, high = wilson_interval(row["hits"], row["n"])
    scipy_ci = sps.binomtest(row["hits"], row["n"]).proportion_ci(method="wilson")
    assert (row["low"], row["high"]) == pytest.approx((100 * low, 100 * high))
    assert (row["low"], row["high"]) == pytest.approx((100 * scipy_ci.low, 100 * scipy_ci.high), rel=1e-6)
    assert row["diff_low"] == pytest.approx(row["low"] - row["expected_pct"])
    assert row["diff_high"] == pytest.approx(row["high"] - row["expected_pct"])


def test_wilson_interval_by_hand():
    # 0 of 40 against a cell rate of 50 %: high = (z² / n) / (1 + z² / n) = 0.0960365 / 1.0960365.
    frames = mix_frames([("p", E, [1] * 40), ("q", E, [5] * 40)])
    fair = rows(fair_csat(frames, WINDOW, OPTIONS), "agent_id")
    assert (fair["p"]["low"], fair["p"]["high"]) == pytest.approx((0.0, 8.7622), abs=1e-4)
    assert (fair["q"]["low"], fair["q"]["high"]) == pytest.approx((91.2378, 100.0), abs=1e-4)
    # 8.76 − 50 < 0: significantly below; 91.24 − 50 > 0: above; 40 ≥ 30 responses: both ranked.
    flags = {a: (r["significant_below"], r["significant_above"], r["rank"]) for a, r in fair.items()}
    assert flags == {"p": (True, False, 2), "q": (False, True, 1)}


@pytest.mark.parametrize(
    ("min_responses", "small", "ranks"),
    [
        (3, [], {"x": 1, "z": 2, "y": 3}),  # all ranked by difference: +25, +16.7, −12.5
        (4, ["x", "z"], {"x": None, "y": 1, "z": None}),  # 3 responses are too few: not ranked
        (30, ["x", "y", "z"], {"x": None, "y": None, "z": None}),  # the default: nobody ranked
    ],
)
def test_fair_csat_flags_small_samples_instead_of_ranking(min_responses, small, ranks):
    fair = fair_csat(mix_frames(), WINDOW, OPTIONS, min_responses=min_responses).collect()
    assert sorted(fair.filter(pl.col("small"))["agent_id"].to_list()) == small
    assert dict(zip(fair["agent_id"], fair["rank"], strict=True)) == ranks
    assert fair["agent_id"][0] == min(ranks, key=lambda a: (ranks[a] is None, ranks[a] or 0, a))
    # The difference of y (−12.5) is not significant on 4 responses: Wilson 4.6 %–69.9 % spans 37.5 %.
    assert not fair.filter(pl.col("agent_id") == "y")["significant_below"][0]


def test_fair_csat_ties_share_a_rank():
    frames = mix_frames([("u", E, [5, 1]), ("v", E, [1, 5]), ("w", H, [5, 5])])
    fair = fair_csat(frames, WINDOW, OPTIONS, min_responses=1).collect()
    # u, v: 50 − 50 = 0; w: 100 − 100 = 0: all tie at rank 1.
    assert fair["rank"].to_list() == [1, 1, 1]


def test_sla_trend_by_month_and_team(score_frames):
    trend = sla_trend(score_frames, START, END, OPTIONS, data_as_of=END, period_kind="month", tz="UTC",
                      by=("team_id",)).collect()  # fmt: skip
    expected = pl.DataFrame(
        {
            "period": ["2026-08", "2026-08", "2026-09"],
            "team_id": ["T01", "T02", "T01"],
            # 08: t1 met, t2 breached, t3 met | t5 breached (t6 has no policy); 09: t4 inside its target.
            "sla_first_response_met": [2, 0, 0],
            "sla_first_response_n": [3, 1, 0],
            "sla_first_response_pct": [200 / 3, 0.0, None],
            # 08: t1, t2 met, t3 breached | t5 breached; 09: t4 inside its target.
            "sla_resolution_met": [2, 0, 0],
            "sla_resolution_n": [3, 1, 0],
            "sla_resolution_pct": [200 / 3, 0.0, None],
        }
    )
    assert_frame_equal(trend, expected)


def test_sla_trend_default_groups_are_team_and_priority(score_frames):
    trend = sla_trend(score_frames, START, END, OPTIONS, data_as_of=END, period_kind="quarter", tz="UTC")
    got = trend.select("period", "team_id", pl.col("priority").cast(pl.String), "sla_first_response_pct")
    assert got.collect().rows() == [
        ("2026Q3", "T01", "urgent", 100.0),  # t3
        ("2026Q3", "T01", "high", 0.0),  # t2
        ("2026Q3", "T01", "normal", 100.0),  # t1 met, t4 excluded
        ("2026Q3", "T02", "normal", 0.0),  # t5
    ]


@pytest.mark.parametrize(
    ("instant", "kind", "tz", "label"),
    [
        ("2026-08-01", "week", "UTC", "2026-W31"),  # a Saturday of ISO week 31
        ("2026-01-01", "week", "UTC", "2026-W01"),  # a Thursday: week 1 of 2026
        ("2027-01-01", "week", "UTC", "2026-W53"),  # a Friday: still the last week of 2026
        ("2026-09-30T16:30", "month", "Asia/Shanghai", "2026-10"),  # 00:30 on 1 October in Shanghai
        ("2026-09-30T16:30", "quarter", "Asia/Shanghai", "2026Q4"),
    ],
)
def test_period_labels(instant, kind, tz, label):
    frame = pl.DataFrame({"t": [at(instant)]})
    assert frame.select(period_expr("t", kind, tz))["t"][0] == label


T = "2026-08-01"  # the backlog instant, 00:00 UTC
BACKLOG_TICKETS = [
    {"ticket_id": "b1", "created_at": at("2026-07-25")},  # open, exactly 7 days old: gt_7d
    {"ticket_id": "b2", "created_at": at("2026-07-31"), "resolved_at": at(T)},  # resolved at t: not open
    {"ticket_id": "b3", "created_at": at("2026-07-31T12:00"), "closed_at": at(T) + timedelta(seconds=1)},
    {"ticket_id": "b4", "created_at": at(T)},  # created at t (≤): open, age 0: lt_1d
    {"ticket_id": "b5", "created_at": at("2026-07-30"), "resolved_at": at("2026-08-05")},  # 48 h: d1_3
    {"ticket_id": "b6", "created_at": at("2026-07-29"), "closed_at": at("2026-07-31"), "team_id": "T02"},
    {"ticket_id": "b7", "created_at": at("2026-07-28"), "team_id": "T02"},  # 96 h: d3_7
    {"ticket_id": "b8", "created_at": at(T) + timedelta(seconds=1)},  # created after t: not open
    {"ticket_id": "b9", "created_at": at("2026-07-31")},  # exactly 24 h: d1_3
]
# b3: 12 h old, closed one second after t: still open at t (lt_1d); b6: closed unresolved before t: out.


def test_backlog_at_an_instant_by_team_and_age():
    frames = kpi_frames(tickets=BACKLOG_TICKETS)
    backlog = backlog_at(frames, [at(T), at("2026-07-01")]).collect()
    at_t = backlog.filter(pl.col("instant") == at(T))
    assert at_t.select("team_id", pl.col("bucket").cast(pl.String), "tickets").rows() == [
        ("T01", "lt_1d", 2),  # b3, b4
        ("T01", "d1_3", 2),  # b5, b9
        ("T01", "d3_7", 0),
        ("T01", "gt_7d", 1),  # b1
        ("T02", "lt_1d", 0),
        ("T02", "d1_3", 0),
        ("T02", "d3_7", 1),  # b7
        ("T02", "gt_7d", 0),
    ]
    as_of_t = Window(start=at("2026-07-01"), end=at(T), as_of=at(T), data_as_of=at(T))
    assert at_t["tickets"].sum() == kpis.backlog_open(frames, as_of_t, OPTIONS).collect()["n"][0] == 6
    # Before any ticket: every team and bucket, all 0.
    before = backlog.filter(pl.col("instant") == at("2026-07-01"))
    assert (before.height, before["tickets"].sum()) == (8, 0)


def test_backlog_of_nothing_is_empty():
    assert backlog_at(kpi_frames(), [at(T)]).collect().height == 0


@pytest.mark.parametrize(
    ("buckets_h", "labels"),
    [
        ((24, 72, 168), ("lt_1d", "d1_3", "d3_7", "gt_7d")),
        ((12, 24), ("lt_12h", "h12_24", "gt_1d")),
        ((48,), ("lt_2d", "gt_2d")),
    ],
)
def test_bucket_labels(buckets_h, labels):
    assert bucket_labels(buckets_h) == labels


def test_bucket_bounds_must_increase():
    with pytest.raises(ValueError, match="increasing"):
        bucket_labels((72, 24))


AS_OF = at("2026-08-01T12:00")
BREACH_TICKETS = [
    # 30 min old, no reply: first response 60 − 30 = 30 left; resolution 1440 − 30 = 1410 (not soon).
    ticket("n1", "T01", "a1", "normal", "2026-08-01T11:30"),
    # Answered; resolution 240 − 60 = 180 left (not soon).
    ticket("n2", "T01", "a1", "urgent", "2026-08-01T11:00", fr=5),
    # 600 min old, no reply: first response 30 − 600 = −570; resolution 600 − 600 = 0 (due now).
    ticket("n3", "T02", "b1", "high", "2026-08-01T02:00"),
    # Created at as_of: first response 60 left, on the edge of the 60-minute horizon.
    ticket("n4", "T01", "a2", "normal", "2026-08-01T12:00"),
    ticket("n5", "T01", "a2", "low", "2026-08-01"),  # no policy: never listed
    ticket("n6", "T01", "a2", "normal", "2026-08-01", fr=5, res=660),  # resolved at 11:00: not open
    # 1380 min old, answered only after as_of: first response 60 − 1380 = −1320; resolution 60 left.
    ticket("n7", "T02", "b1", "normal", "2026-07-31T13:00", fr=1440),
    ticket("n8", "T01", "a1", "normal", "2026-08-01T13:00"),  # created after as_of
    # Closed without a resolution before as_of: not open.
    ticket("n9", "T01", "a1", "urgent", "2026-08-01T09:00", closed_at=at("2026-08-01T10:00")),
]
BREACHING = [  # (ticket, target, minutes_left), most overdue first
    ("n7", "first_response", -1320.0),
    ("n3", "first_response", -570.0),
    ("n3", "resolution", 0.0),
    ("n1", "first_response", 30.0),
    ("n4", "first_response", 60.0),
    ("n7", "resolution", 60.0),
]


@pytest.mark.parametrize(
    ("within_min", "limit", "expected"),
    [
        (60, 50, BREACHING),
        (0, 50, BREACHING[:3]),  # breached, or due right now
        (60, 2, BREACHING[:2]),
    ],
)
def test_breaching_now(within_min, limit, expected):
    frames = kpi_frames(tickets=BREACH_TICKETS)
    got = breaching_now(frames, AS_OF, OPTIONS, within_min=within_min, limit=limit).collect()
    assert got.select("ticket_id", "target", "minutes_left").rows() == expected
    assert got.columns == [
        "ticket_id", "team_id", "agent_id", "priority", "created_at", "target", "minutes_left",
    ]  # fmt: skip


SHANGHAI_Q3_START = at("2026-06-30T16:00")  # 1 July 00:00 in Shanghai (UTC+8)
WORKLOAD_TICKETS = [
    # 16:30 UTC on Wednesday 1 July is 00:30 on Thursday 2 July in Shanghai; resolved 09:15 Thursday.
    {"created_at": at("2026-07-01T16:30"), "resolved_at": at("2026-07-02T01:15")},
    {"created_at": at("2026-06-30T16:30")},  # 00:30 on Wednesday 1 July in Shanghai
    # Created before the period (23:59 on 30 June in Shanghai); resolved 10:00 on Sunday 5 July.
    {"created_at": at("2026-06-30T15:59"), "resolved_at": at("2026-07-05T02:00")},
    {"created_at": at("2026-07-06T01:00")},  # 09:00 on Monday 6 July
]


def test_workload_heatmap_in_the_display_zone():
    frames = kpi_frames(tickets=WORKLOAD_TICKETS)
    heat = workload_heatmap(frames, SHANGHAI_Q3_START, END, tz="Asia/Shanghai").collect()
    assert heat.height == 168
    busy = heat.filter((pl.col("arrivals") > 0) | (pl.col("handled") > 0))
    assert busy.rows() == [  # (weekday, hour, arrivals, handled)
        (1, 9, 1, 0),
        (3, 0, 1, 0),
        (4, 0, 1, 0),
        (4, 9, 0, 1),
        (7, 10, 0, 1),
    ]


def test_workload_heatmap_of_nothing_has_every_cell_at_zero():
    heat = workload_heatmap(kpi_frames(), START, END, tz="UTC").collect()
    assert (heat.height, heat["arrivals"].sum(), heat["handled"].sum()) == (168, 0, 0)
    assert heat.select(pl.col("weekday").n_unique(), pl.col("hour").max()).row(0) == (7, 23)


# Proposed targets (first response, resolution) in minutes; urgent is not given and keeps 15 / 240.
PROPOSAL = {"normal": (45, 1200), "high": (90, 600), "low": (120, 2880)}
REPLAY_TICKETS = [
    # FR 50: met under 60, breached under 45 (a new breach); resolution 1000: met under 1440 and 1200.
    ticket("r1", "T01", "a1", "normal", "2026-08-01", fr=50, res=1000),
    # No reply, 60 min old at data_as_of: breached under 30, still inside the proposed 90: excluded.
    # Resolution: 60 < 600 both: excluded both times.
    ticket("r2", "T01", "a1", "high", "2026-09-30T23:00"),
    # FR 60: breached under 30, met under 90 (a new meet); resolution 500 ≤ 600 met both.
    ticket("r3", "T01", "a2", "high", "2026-08-01", fr=60, res=500),
    # FR 30 met both; resolution 1300: met under 1440, breached under 1200 (a new breach).
    ticket("r4", "T02", "b1", "normal", "2026-08-02", fr=30, res=1300),
    # Low has no policy today (excluded); proposed FR 100 ≤ 120 met, resolution 3000 > 2880 breached.
    ticket("r5", "T01", "a2", "low", "2026-08-03", fr=100, res=3000),
]
REPLAY_EXPECTED = pl.DataFrame(
    {
        "team_id": ["T01", "T01", "T02", "T02"],
        "target": ["first_response", "resolution", "first_response", "resolution"],
        # T01 FR now: r1 met, r2, r3 breached, r5 excluded; proposed: r3, r5 met, r1 breached, r2 excl.
        # T01 resolution now: r1, r3 met (r2, r5 excluded); proposed: r1, r3 met, r5 breached.
        "current_met": [1, 2, 1, 1],
        "current_n": [3, 2, 1, 1],
        "current_pct": [100 / 3, 100.0, 100.0, 100.0],
        "proposed_met": [2, 2, 1, 0],
        "proposed_n": [3, 3, 1, 1],
        "proposed_pct": [200 / 3, 200 / 3, 100.0, 0.0],
        "new_breaches": [1, 0, 0, 1],  # r1 | — | — | r4 (r5 was excluded, not met)
        "new_meets": [1, 0, 0, 0],  # r3 (r5 was excluded, not breached)
    }
)


@pytest.fixture(scope="module")
def replay_frames():
    return kpi_frames(tickets=REPLAY_TICKETS)


def test_sla_replay_against_proposed_targets(replay_frames):
    assert_frame_equal(
        sla_replay(replay_frames, WINDOW, OPTIONS, targets=PROPOSAL).collect(), REPLAY_EXPECTED
    )


def test_replay_breaches_lists_the_tickets_that_change(replay_frames):
    changed = replay_breaches(replay_frames, WINDOW, OPTIONS, targets=PROPOSAL).collect()
    assert changed.select("ticket_id", "target", "current", "proposed").rows() == [
        ("r1", "first_response", "met", "breached"),  # new breaches first
        ("r4", "resolution", "met", "breached"),
        ("r3", "first_response", "breached", "met"),  # then new meets
        ("r5", "first_response", "excluded", "met"),  # then the rest, by target and creation
        ("r2", "first_response", "breached", "excluded"),
        ("r5", "resolution", "excluded", "breached"),
    ]
    assert changed.filter(pl.col("ticket_id") == "r1").select(
        "counted_min", "current_target_min", "proposed_target_min"
    ).row(0) == (50.0, 60.0, 45.0)
    assert replay_breaches(replay_frames, WINDOW, OPTIONS, targets=PROPOSAL, limit=2).collect().height == 2


@pytest.mark.parametrize("clock", ["calendar", "business"])
def test_replaying_the_current_targets_changes_nothing_and_equals_the_kpis(score_frames, clock):
    options = KpiOptions(clock=clock)
    current = {"urgent": (15, 240), "high": (30, 600), "normal": (60, 1440)}
    replay = sla_replay(score_frames, WINDOW, options, targets=current, by=()).collect()
    kpi = headline_kpis(score_frames, WINDOW, options)
    for target, name in (("first_response", "sla_first_response_pct"), ("resolution", "sla_resolution_pct")):
        row = replay.filter(pl.col("target") == target).row(0, named=True)
        assert row["current_pct"] == row["proposed_pct"] == pytest.approx(kpi[name].value)
        assert row["current_n"] == row["proposed_n"] == kpi[name].n
        assert row["new_breaches"] == row["new_meets"] == 0
    assert replay_breaches(score_frames, WINDOW, options, targets=current).collect().height == 0


def test_replay_refuses_an_unknown_priority(replay_frames):
    with pytest.raises(ValueError, match="critical"):
        sla_replay(replay_frames, WINDOW, OPTIONS, targets={"critical": (5, 60)})


def test_backlog_instants_in_another_zone_are_the_same_moments_in_utc():
    shanghai_8am = datetime(2026, 8, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai"))  # 00:00 UTC
    frames = kpi_frames(tickets=[{"created_at": at("2026-07-31")}])
    backlog = backlog_at(frames, [shanghai_8am]).collect()
    assert backlog.filter(pl.col("tickets") > 0).select("instant", "bucket").row(0) == (at(T), "d1_3")
