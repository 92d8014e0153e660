"""The OLA targets as an editable definition (parsed, stored with its audit record, overlaid on Settings)
and the OLA view on hand-written tickets whose attainment is worked out below.

Times are minutes after T0 = 2026-08-01 00:00 UTC; data_as_of = T0 + 48 h (2880 min), so 2026Q3 is
running and its as_of is data_as_of. Default targets: assign 30, first action 240, feedback request 1440.
"""

import json
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.auth.store import read_audit
from cxdash.config import Settings, settings_from, with_definitions
from cxdash.db.definitions import EDITABLE, parse_definition, read_definitions, save_definitions
from cxdash.db.engine import make_engine
from cxdash.errors import InputError
from cxdash.metrics.ola import DEFAULT_OLA_TARGETS, OLA_STAGE_DTYPE, OLA_STAGES, OlaTargets
from cxdash.periods import DataSpan, custom_period, parse_period
from cxdash.views.ola import ola_view
from tests.kpi_frames import kpi_frames

T0 = datetime(2026, 8, 1, tzinfo=UTC)
DATA_AS_OF = T0 + timedelta(hours=48)
SPAN = DataSpan(first=datetime(2026, 6, 30, tzinfo=UTC), data_as_of=DATA_AS_OF)
Q3 = parse_period("2026Q3")


# --- the definition ---------------------------------------------------------------------------------


def test_the_definition_key_is_the_settings_field():
    assert "ola_targets" in EDITABLE
    assert "ola_targets" in {f.name for f in fields(Settings)}
    assert Settings().ola_targets == (30, 240, 1440)


@pytest.mark.parametrize(
    ("text", "value"),
    [("30, 240, 1440", (30, 240, 1440)), (" 15，60，720 ", (15, 60, 720)), ("1,43200,1", (1, 43_200, 1))],
)
def test_ola_targets_parse_to_a_tuple_of_minutes(text, value):
    assert parse_definition("ola_targets", text) == value


@pytest.mark.parametrize(
    "text", ["", "30, 240", "0, 240, 1440", "30, 240, 43201", "30.5, 240, 1440", "a, b, c"]
)
def test_bad_ola_targets_are_clear_errors(text):
    with pytest.raises(InputError, match="three whole numbers of minutes from 1 to 43200") as info:
        parse_definition("ola_targets", text)
    assert info.value.key == "ola.bad_targets"
    assert info.value.values == {"text": text.strip(), "low": 1, "high": 43_200}


def test_settings_follow_stored_ola_targets_and_ignore_invalid_ones():
    assert with_definitions(Settings(), {"ola_targets": "15, 60, 720"}).ola_targets == (15, 60, 720)
    assert with_definitions(Settings(), {"ola_targets": "15, 60"}).ola_targets == (30, 240, 1440)
    # the stored definition wins over the environment's
    env = settings_from({"CXDASH_OLA_TARGETS": "45, 300, 2880"})
    assert env.ola_targets == (45, 300, 2880)
    assert with_definitions(env, {"ola_targets": "10, 20, 30"}).ola_targets == (10, 20, 30)


def test_a_bad_environment_value_is_refused():
    with pytest.raises(InputError) as info:
        settings_from({"CXDASH_OLA_TARGETS": "30; 240; 1440"})
    assert info.value.key == "ola.bad_targets"


def test_saved_ola_targets_are_stored_and_audited(small_copy):
    engine = make_engine(small_copy)
    changed = save_definitions(engine, {"ola_targets": "20, 120, 720"}, username="admin", client=None)
    assert changed == {"ola_targets": (None, "20, 120, 720")}
    stored = {k: d.value for k, d in read_definitions(engine).items()}
    assert stored == {"ola_targets": "20, 120, 720"}
    assert with_definitions(Settings(), stored).ola_targets == (20, 120, 720)
    with engine.connect() as conn:
        details = [json.loads(r["detail"]) for r in read_audit(conn, action="definitions")]
    assert details == [{"changes": {"ola_targets": {"from": None, "to": "20, 120, 720"}}}]
    with pytest.raises(InputError):
        save_definitions(engine, {"ola_targets": "0, 120, 720"}, username="admin", client=None)
    assert {k: d.value for k, d in read_definitions(engine).items()} == stored  # nothing written
    engine.dispose()


# --- the view ---------------------------------------------------------------------------------------


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(ticket_id, team, *, complaint=True, created=0, resolved=None):
    return {"ticket_id": ticket_id, "team_id": team, "is_complaint": complaint, "created_at": m(created),
            "resolved_at": None if resolved is None else m(resolved)}  # fmt: skip


TICKETS = [
    ticket("C1", "A", resolved=600),  # every stage within its target
    ticket("C2", "A", resolved=480),  # every stage late
    ticket("C3", "B"),  # never assigned: 2880 min old, breached
    ticket("C4", "B", created=2870),  # 10 min old, not assigned yet: not counted
    ticket("N1", "A", complaint=False, resolved=100),  # not a complaint, every stage within target
    ticket("N2", "C", complaint=False),  # not a complaint, of a team without a name; assigned late
    {**ticket("X", "A"), "created_at": datetime(2026, 6, 30, tzinfo=UTC)},  # created before Q3
]
EVENTS = {
    "C1": [("registered", 0), ("assigned", 20), ("in_progress", 260)],
    "C2": [("registered", 0), ("assigned", 45), ("in_progress", 345)],
    "C3": [("registered", 0)],
    "C4": [("registered", 2870)],
    "N1": [("assigned", 10), ("in_progress", 20)],
    "N2": [("assigned", 100)],  # no first action: 2780 min since assigned, breached
    "X": [("assigned", 0)],
}
SURVEYS = [
    {"kind": "csat", "ticket_id": "C1", "sent_at": m(2040)},  # 1440 min after resolution: met
    {"kind": "csat", "ticket_id": "C2", "sent_at": m(2400)},  # 1920 min: breached
    {"kind": "csat", "ticket_id": "N1", "sent_at": m(200)},  # 100 min: met
]


@pytest.fixture(scope="module")
def frames():
    events = [
        {"ticket_id": t, "stage": stage, "occurred_at": m(minute), "agent_id": None}
        for t, steps in EVENTS.items()
        for stage, minute in steps
    ]
    teams = [{"team_id": "A", "name": "Alpha"}, {"team_id": "B", "name": "Beta"}]
    return kpi_frames(tickets=TICKETS, surveys=SURVEYS, ticket_events=events, teams=teams)


VALUES = ("target_min", "met", "breached", "n", "attainment_pct", "median_min")
SCHEMA = {
    "team_id": pl.String,
    "team_name": pl.String,
    "stage": OLA_STAGE_DTYPE,
    "target_min": pl.Int64,
    "met": pl.Int64,
    "breached": pl.Int64,
    "n": pl.Int64,
    "attainment_pct": pl.Float64,
    "median_min": pl.Float64,
}


def table(rows, *, teams: bool) -> pl.DataFrame:
    keys = ("team_id", "team_name", "stage") if teams else ("stage",)
    return pl.DataFrame(rows, schema={k: SCHEMA[k] for k in (*keys, *VALUES)}, orient="row")


def view(frames, *, complaints_only, period=Q3, targets=DEFAULT_OLA_TARGETS):
    return ola_view(frames, period, span=SPAN, tz="UTC", targets=targets, complaints_only=complaints_only)


def test_complaints_only(frames):
    got = view(frames, complaints_only=True)
    # assign: C1 met (20); C2 late (45), C3 never assigned → breached; C4 inside → 1 / 3; median 20, 45
    # first action: C1 240 = target met, C2 300 late; feedback: C1 1440 met, C2 1920 late
    assert_frame_equal(
        got.by_stage,
        table(
            [
                ("assign", 30, 1, 2, 3, 100 / 3, 32.5),
                ("first_action", 240, 1, 1, 2, 50.0, 270.0),
                ("feedback_request", 1440, 1, 1, 2, 50.0, 1680.0),
            ],
            teams=False,
        ),
    )
    assert_frame_equal(
        got.by_team,
        table(
            [
                ("A", "Alpha", "assign", 30, 1, 1, 2, 50.0, 32.5),
                ("A", "Alpha", "first_action", 240, 1, 1, 2, 50.0, 270.0),
                ("A", "Alpha", "feedback_request", 1440, 1, 1, 2, 50.0, 1680.0),
                ("B", "Beta", "assign", 30, 0, 1, 1, 0.0, None),  # C3 breached, C4 not counted
                ("B", "Beta", "first_action", 240, 0, 0, 0, None, None),
                ("B", "Beta", "feedback_request", 1440, 0, 0, 0, None, None),
            ],
            teams=True,
        ),
    )


def test_every_ticket(frames):
    got = view(frames, complaints_only=False)
    # assign adds N1 met (10), N2 late (100): 2 / 5, median of 10, 20, 45, 100; first action adds N1 met
    # (10) and N2 breached (not started, 2780 min since assigned); feedback adds N1 met (100)
    assert_frame_equal(
        got.by_stage,
        table(
            [
                ("assign", 30, 2, 3, 5, 40.0, 32.5),
                ("first_action", 240, 2, 2, 4, 50.0, 240.0),
                ("feedback_request", 1440, 2, 1, 3, 200 / 3, 1440.0),
            ],
            teams=False,
        ),
    )
    team_c = got.by_team.filter(pl.col("team_id") == "C")
    assert team_c["team_name"].to_list() == [None, None, None]  # no name in teams: left empty
    assert team_c.select("met", "breached", "n").rows() == [(0, 1, 1), (0, 1, 1), (0, 0, 0)]
    assert got.by_team["team_id"].to_list() == ["A"] * 3 + ["B"] * 3 + ["C"] * 3
    per_stage = got.by_team.group_by("stage").agg(pl.col("met", "breached", "n").sum()).sort("stage")
    assert_frame_equal(per_stage, got.by_stage.select("stage", "met", "breached", "n"))


def test_the_targets_in_force_decide(frames):
    got = view(frames, complaints_only=True, targets=OlaTargets(60, 300, 2000))
    # assign 60: C2 (45) met now → 2 / 3; first action 300: C2 (300) met; feedback 2000: C2 (1920) met
    assert got.by_stage["target_min"].to_list() == [60, 300, 2000]
    assert got.by_stage.select("met", "breached").rows() == [(2, 1), (2, 0), (2, 0)]
    assert set(got.by_team["target_min"]) == {60, 300, 2000}


def test_a_past_period_is_seen_as_of_its_end(frames):
    # 1 Aug only: as_of = T0 + 1440 min. C4 (created at 2870) is not in the period. The surveys come
    # after as_of: C1 (resolved at 600, 840 min) and C2 (at 480, 960 min) are inside 1440, not counted.
    got = view(frames, complaints_only=True, period=custom_period(date(2026, 8, 1), date(2026, 8, 1)))
    assert got.by_stage.select("met", "breached", "n").rows() == [(1, 2, 3), (1, 1, 2), (0, 0, 0)]


def test_no_tickets_still_shows_every_stage(frames):
    got = view(frames, complaints_only=True, period=parse_period("2026Q1"))
    assert got.by_stage["stage"].cast(pl.String).to_list() == list(OLA_STAGES)
    assert got.by_stage["n"].to_list() == [0, 0, 0]
    assert got.by_team.is_empty() and got.by_team.columns == list(SCHEMA)
