"""OLA durations and attainment on hand-written tickets that take every branch, and the targets' parser.

Times are minutes after T0 = 2026-08-01 00:00 UTC; as_of = T0 + 48 h (2880 min). Targets are the
defaults: assign 30 min, first action 240 min, feedback request 1440 min.
"""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cxdash.demo.staffing import demo_setup
from cxdash.errors import InputError
from cxdash.load import TIMESTAMP_COLUMNS, frames_from_tables
from cxdash.metrics.kpis import Window, headline_kpis
from cxdash.metrics.ola import (
    OLA_STAGE_DTYPE,
    OLA_STAGES,
    OlaTargets,
    format_ola_targets,
    ola_attainment,
    ola_durations,
    parse_ola_targets,
)
from cxdash.periods import parse_period
from tests.conftest import SMALL
from tests.kpi_frames import END, START, kpi_frames

T0 = datetime(2026, 8, 1, tzinfo=UTC)
AS_OF = T0 + timedelta(hours=48)
WINDOW = Window(start=START, end=END, as_of=AS_OF, data_as_of=AS_OF + timedelta(days=5))
TARGETS = OlaTargets()


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(ticket_id, team, created=0, resolved=None):
    return {"ticket_id": ticket_id, "team_id": team, "created_at": m(created),
            "resolved_at": None if resolved is None else m(resolved)}  # fmt: skip


TICKETS = [
    ticket("A1", "A", resolved=600),  # resolved at +10 h
    ticket("A2", "A", resolved=480),  # resolved at +8 h
    ticket("A3", "A"),  # never assigned, never resolved
    ticket("B1", "B", created=2870),  # created 10 min before as_of
    ticket("B2", "B", resolved=2820),  # resolved at +47 h
    ticket("B3", "B", resolved=3000),  # resolved at +50 h: after as_of
    {"ticket_id": "X", "team_id": "A", "created_at": datetime(2026, 6, 30, tzinfo=UTC)},  # before Q3
]

EVENTS = {
    "A1": [("registered", 0), ("assigned", 20), ("in_progress", 260), ("resolved", 600)],
    # late assignment; a second assignment and an in_progress before the first assignment are ignored
    "A2": [("registered", 0), ("in_progress", 10), ("assigned", 45), ("assigned", 50), ("in_progress", 345)],
    "A3": [("registered", 0)],
    "B1": [("registered", 2870)],
    # work starts at +50 h, after as_of: ignored
    "B2": [("registered", 0), ("assigned", 10), ("in_progress", 3000)],
    # in progress at the very instant of the assignment: 0 min
    "B3": [("assigned", 5), ("in_progress", 5)],
    "X": [("assigned", 0)],
}


def survey(ticket_id, sent, kind="csat"):
    return {"kind": kind, "ticket_id": ticket_id, "sent_at": m(sent)}


SURVEYS = [
    survey("A1", 660, kind="ces"),  # not csat: ignored
    survey("A1", 2040),  # 1440 min after the resolution at 600
    survey("A1", 2100),  # a later one: the earliest counts
    survey("A2", 420),  # before the resolution: ignored
    survey("A2", 2400),  # 1920 min after 480
    survey("B2", 2940),  # after as_of: ignored
]


@pytest.fixture(scope="module")
def frames():
    events = [
        {"ticket_id": t, "stage": stage, "occurred_at": m(minute), "agent_id": None}
        for t, steps in EVENTS.items()
        for stage, minute in steps
    ]
    return kpi_frames(tickets=TICKETS, surveys=SURVEYS, ticket_events=events)


def expected_durations(rows) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticket_id": [r[0] for r in rows],
            "team_id": [r[0][0] for r in rows],
            "stage": [r[1] for r in rows],
            "start": [m(r[2]) for r in rows],
            "end": [None if r[3] is None else m(r[3]) for r in rows],
            "minutes": [None if r[3] is None else float(r[3] - r[2]) for r in rows],
        },
        schema={
            "ticket_id": pl.String,
            "team_id": pl.String,
            "stage": OLA_STAGE_DTYPE,
            "start": pl.Datetime("us", "UTC"),
            "end": pl.Datetime("us", "UTC"),
            "minutes": pl.Float64,
        },
    )


def test_ola_durations(frames):
    expected = expected_durations(
        [
            ("A1", "assign", 0, 20),
            ("A1", "first_action", 20, 260),
            ("A1", "feedback_request", 600, 2040),
            ("A2", "assign", 0, 45),
            ("A2", "first_action", 45, 345),
            ("A2", "feedback_request", 480, 2400),
            ("A3", "assign", 0, None),  # never assigned; no first action or feedback request: not started
            ("B1", "assign", 2870, None),
            ("B2", "assign", 0, 10),
            ("B2", "first_action", 10, None),  # work starts after as_of
            ("B2", "feedback_request", 2820, None),  # the survey is sent after as_of
            ("B3", "assign", 0, 5),
            ("B3", "first_action", 5, 5),  # resolved after as_of: no feedback request stage yet
        ]
    )
    got = ola_durations(frames, WINDOW, as_of=AS_OF).collect().sort("ticket_id", "stage")
    assert_frame_equal(got, expected)


def attainment(rows, by=("stage",)) -> pl.DataFrame:
    keys = {name: [r[i] for r in rows] for i, name in enumerate(by)}
    values = ("met", "breached", "n", "attainment_pct", "median_min")
    data = {**keys, **{name: [r[len(by) + i] for r in rows] for i, name in enumerate(values)}}
    schema = {
        **{name: (OLA_STAGE_DTYPE if name == "stage" else pl.String) for name in by},
        "met": pl.Int64,
        "breached": pl.Int64,
        "n": pl.Int64,
        "attainment_pct": pl.Float64,
        "median_min": pl.Float64,
    }
    return pl.DataFrame(data, schema=schema)


def test_ola_attainment_by_stage(frames):
    # assign (30): met A1 (20), B2 (10), B3 (5); breached A2 (45, late) and A3 (never assigned, 2880 min
    # old); B1 excluded (not assigned, 10 min old) → 3 / 5 = 60 %; median of ended 5, 10, 20, 45 = 15.
    # first_action (240): met A1 (240 = target), B3 (0); breached A2 (300) and B2 (not started, 2870
    # min since assigned) → 2 / 4 = 50 %; median of 0, 240, 300 = 240.
    # feedback_request (1440): met A1 (1440); breached A2 (1920); B2 excluded (60 min since resolved)
    # → 1 / 2 = 50 %; median of 1440, 1920 = 1680.
    expected = attainment(
        [
            ("assign", 3, 2, 5, 60.0, 15.0),
            ("first_action", 2, 2, 4, 50.0, 240.0),
            ("feedback_request", 1, 1, 2, 50.0, 1680.0),
        ]
    )
    durations = ola_durations(frames, WINDOW, as_of=AS_OF)
    assert_frame_equal(ola_attainment(durations, TARGETS, as_of=AS_OF).collect(), expected)


def test_ola_attainment_per_team(frames):
    expected = attainment(
        [
            # A: assign A1 met, A2 and A3 breached; median 20, 45 → 32.5
            ("A", "assign", 1, 2, 3, 100 / 3, 32.5),
            ("A", "first_action", 1, 1, 2, 50.0, 270.0),  # 240 met, 300 late
            ("A", "feedback_request", 1, 1, 2, 50.0, 1680.0),
            # B: B1 excluded, B2 (10) and B3 (5) met; median 7.5
            ("B", "assign", 2, 0, 2, 100.0, 7.5),
            ("B", "first_action", 1, 1, 2, 50.0, 0.0),  # B3 met in 0; B2 overdue; only B3 ended
            ("B", "feedback_request", 0, 0, 0, None, None),  # only B2, still inside its target
        ],
        by=("team_id", "stage"),
    )
    durations = ola_durations(frames, WINDOW, as_of=AS_OF)
    got = ola_attainment(durations, TARGETS, as_of=AS_OF, by=("team_id", "stage")).collect()
    assert_frame_equal(got, expected)


def test_ola_attainment_follows_the_targets(frames):
    # assign 60: A2 (45) is met now → met A1, A2, B2, B3, breached A3 → 80 %;
    # first_action 300: A2 (300 = target) met, B2 overdue (2870) → 3 / 4;
    # feedback_request 2000: A2 (1920) met → 2 / 2
    durations = ola_durations(frames, WINDOW, as_of=AS_OF)
    got = ola_attainment(durations, OlaTargets(60, 300, 2000), as_of=AS_OF).collect()
    assert got["attainment_pct"].to_list() == [80.0, 75.0, 100.0]
    assert got["n"].to_list() == [5, 4, 2]


def test_every_stage_shows_without_tickets(frames):
    empty = Window(start=END, end=END + timedelta(days=90), as_of=AS_OF, data_as_of=AS_OF)
    durations = ola_durations(frames, empty, as_of=AS_OF)
    assert durations.collect().height == 0
    expected = attainment([(stage, 0, 0, 0, None, None) for stage in OLA_STAGES])
    assert_frame_equal(ola_attainment(durations, TARGETS, as_of=AS_OF).collect(), expected)


def test_an_earlier_as_of_sees_less(frames):
    # at T0 + 30 min only A1 (20), B2 (10) and B3 (5) are assigned; A2 and A3 are 30 min old (not over
    # 30): excluded; B1 does not exist yet. First actions: A1 since 20 (10 min), B2 since 10 (20 min),
    # B3 done in 0 → 1 met, the others inside 240. Nothing resolved yet.
    early = T0 + timedelta(minutes=30)
    got = ola_attainment(ola_durations(frames, WINDOW, as_of=early), TARGETS, as_of=early).collect()
    assert got.select("met", "breached").rows() == [(3, 0), (1, 0), (0, 0)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30, 240, 1440", OlaTargets(30, 240, 1440)),
        ("15，120，720", OlaTargets(15, 120, 720)),  # Chinese commas
        (" 1,43200 , 60 ", OlaTargets(1, 43_200, 60)),
        ("３０, ２４０, １４４０", OlaTargets(30, 240, 1440)),  # full-width digits
    ],
)
def test_parse_ola_targets(text, expected):
    assert parse_ola_targets(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "30, 240", "30, 240, 1440, 5", "0, 240, 1440", "30, 240, 43201", "30.5, 240, 1440", "-1, 240, 1440",
     "a, b, c", "30,, 1440", "30 240 1440"],
)  # fmt: skip
def test_parse_ola_targets_refuses(text):
    with pytest.raises(InputError, match="three whole numbers of minutes from 1 to 43200") as info:
        parse_ola_targets(text)
    assert info.value.key == "ola.bad_targets"
    assert info.value.values == {"text": text, "low": 1, "high": 43_200}


@given(st.tuples(*[st.integers(1, 43_200)] * 3))
def test_format_then_parse_is_the_identity(minutes):
    targets = OlaTargets(*minutes)
    assert parse_ola_targets(format_ola_targets(targets)) == targets


def test_defaults_format():
    assert format_ola_targets(OlaTargets()) == "30, 240, 1440"
    assert OlaTargets().by_stage() == {"assign": 30, "first_action": 240, "feedback_request": 1440}


# --- the small demo ---------------------------------------------------------------------------------


def test_demo_ola_reconciles_with_the_headline_kpis(small_frames):
    data_as_of = max(
        small_frames[table][column].max()
        for table, column in TIMESTAMP_COLUMNS
        if table in small_frames and small_frames[table][column].max() is not None
    )
    window = Window.of(parse_period("2026Q3"), tz=SMALL.tz, data_as_of=data_as_of)
    frames = frames_from_tables(small_frames, demo_setup(SMALL.tz, SMALL.locale))
    durations = ola_durations(frames, window, as_of=window.data_as_of).collect()
    kpis = headline_kpis(frames, window)
    started = durations.group_by("stage").agg(pl.col("ticket_id").n_unique().alias("tickets"))
    started = dict(started.select(pl.col("stage").cast(pl.String), "tickets").rows())
    # every ticket created in the period starts the assign stage; every resolved one the feedback
    # request (at data_as_of every resolution is known: the one-touch KPI's N)
    assert started["assign"] == kpis["tickets"].value == durations.filter(pl.col("stage") == "assign").height
    assert started["feedback_request"] == kpis["one_touch_pct"].n
    assert 0 < started["first_action"] <= started["assign"]
    by_stage = ola_attainment(durations.lazy(), TARGETS, as_of=window.data_as_of).collect()
    by_team = ola_attainment(durations.lazy(), TARGETS, as_of=window.data_as_of, by=("team_id", "stage"))
    per_stage = by_team.group_by("stage").agg(pl.col("met", "breached", "n").sum()).sort("stage").collect()
    assert_frame_equal(per_stage, by_stage.select("stage", "met", "breached", "n"))
    assert (by_stage["n"] > 0).all()
