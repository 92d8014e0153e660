"""The handling workflow on hand-written event histories; every expected figure is worked out in a comment.

Times are hours after T0; `as_of` is T0 + 48 h unless a test says otherwise.
"""

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.domain import EVENT_STAGES
from cxdash.load import table_schema
from cxdash.metrics.workflow import (
    STAGE_DTYPE,
    WORKFLOW_STAGES,
    repeats_and_skips,
    stage_durations,
    stage_reach,
    stage_time_summary,
    stalled_now,
)
from tests.kpi_frames import frame

T0 = datetime(2026, 8, 3, tzinfo=UTC)
AS_OF_48 = T0 + timedelta(hours=48)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def events(history: dict[str, list[tuple[str, float]]]) -> pl.LazyFrame:
    """ticket_events rows from {ticket: [(stage, hour), …]}, written newest first so that nothing
    depends on the input order."""
    rows = [
        {"ticket_id": ticket, "occurred_at": h(hour), "stage": stage, "agent_id": None}
        for ticket, steps in history.items()
        for stage, hour in steps
    ]
    schema = table_schema("ticket_events", ["ticket_id", "occurred_at", "stage", "agent_id"])
    return pl.DataFrame(rows[::-1], schema=schema).lazy()


def tickets(*ids: str, **columns: list) -> pl.LazyFrame:
    rows = [{"ticket_id": i, "created_at": T0} for i in ids]
    for name, values in columns.items():
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    return frame("tickets", rows).lazy()


HISTORY = {
    # the whole workflow, waiting for the customer once, closed after feedback
    "T1": [
        ("registered", 0), ("assigned", 1), ("in_progress", 3), ("pending_customer", 5),
        ("resolved", 9), ("feedback", 10), ("closed", 12),
    ],
    # resolved by the bot: never assigned, never in progress; still resolved (not closed) at as_of
    "T2": [("registered", 0), ("resolved", 0.5)],
    # reopened once: resolved → reopened → in_progress → resolved → feedback
    "T3": [
        ("registered", 0), ("assigned", 2), ("in_progress", 4), ("resolved", 8), ("reopened", 20),
        ("in_progress", 21), ("resolved", 30), ("feedback", 31),
    ],
    # as_of falls in the middle: work starts at 60 h, after as_of (48 h)
    "T4": [("registered", 0), ("assigned", 1), ("in_progress", 60)],
    # not among the tickets asked about
    "T5": [("registered", 0), ("assigned", 1)],
}  # fmt: skip


def spells(rows: list[tuple]) -> pl.DataFrame:
    """Expected stage_durations rows from (ticket, stage, entered h, left h or None, hours, completed)."""
    return pl.DataFrame(
        {
            "ticket_id": [r[0] for r in rows],
            "stage": [r[1] for r in rows],
            "entered_at": [h(r[2]) for r in rows],
            "left_at": [None if r[3] is None else h(r[3]) for r in rows],
            "hours": [float(r[4]) for r in rows],
            "completed": [r[5] for r in rows],
        },
        schema={
            "ticket_id": pl.String,
            "stage": STAGE_DTYPE,
            "entered_at": pl.Datetime("us", "UTC"),
            "left_at": pl.Datetime("us", "UTC"),
            "hours": pl.Float64,
            "completed": pl.Boolean,
        },
    )


def durations(history, ids, as_of=AS_OF_48) -> pl.DataFrame:
    return stage_durations(events(history), tickets(*ids), as_of=as_of).collect().sort("ticket_id", "stage")


def test_workflow_stages_lead_the_event_vocabulary():
    # the Enum of events sorts stages in workflow order only because they come first in it
    assert EVENT_STAGES[: len(WORKFLOW_STAGES)] == WORKFLOW_STAGES


def test_stage_durations_first_pass():
    expected = spells(
        [
            # T1: each stage until the next; feedback until the close at 12 h
            ("T1", "registered", 0, 1, 1, True),
            ("T1", "assigned", 1, 3, 2, True),
            ("T1", "in_progress", 3, 5, 2, True),
            ("T1", "pending_customer", 5, 9, 4, True),
            ("T1", "resolved", 9, 10, 1, True),
            ("T1", "feedback", 10, 12, 2, True),
            # T2: registered → resolved skips the missing stages; resolved not left by as_of: 48 − 0.5
            ("T2", "registered", 0, 0.5, 0.5, True),
            ("T2", "resolved", 0.5, None, 47.5, False),
            # T3: first pass only; resolved lasts until the reopen (8 → 20 h); the second
            # in_progress/resolved and the feedback at 31 h belong to the second pass
            ("T3", "registered", 0, 2, 2, True),
            ("T3", "assigned", 2, 4, 2, True),
            ("T3", "in_progress", 4, 8, 4, True),
            ("T3", "resolved", 8, 20, 12, True),
            # T4: the in_progress event after as_of does not exist yet: still assigned, 48 − 1 = 47 h
            ("T4", "registered", 0, 1, 1, True),
            ("T4", "assigned", 1, None, 47, False),
        ]
    )
    assert_frame_equal(durations(HISTORY, ["T1", "T2", "T3", "T4"]), expected)


def test_stage_durations_follow_time_when_records_disagree_with_the_workflow():
    history = {
        # work started (1 h) before the formal assignment (2 h): time order, so no negative spell
        "A": [("registered", 0), ("in_progress", 1), ("assigned", 2), ("resolved", 5)],
        # registered and assigned at the same instant: workflow order breaks the tie (0 h registered)
        "B": [("registered", 0), ("assigned", 0), ("in_progress", 4), ("closed", 6)],
        # closed at the instant of resolution: the resolved spell lasts 0 h
        "C": [("registered", 0), ("resolved", 3), ("closed", 3)],
    }
    expected = spells(
        [
            ("A", "registered", 0, 1, 1, True),
            ("A", "assigned", 2, 5, 3, True),
            ("A", "in_progress", 1, 2, 1, True),
            ("A", "resolved", 5, None, 43, False),
            ("B", "registered", 0, 0, 0, True),
            ("B", "assigned", 0, 4, 4, True),
            ("B", "in_progress", 4, 6, 2, True),  # closed unresolved: in progress until the close
            ("C", "registered", 0, 3, 3, True),
            ("C", "resolved", 3, 3, 0, True),
        ]
    )
    assert_frame_equal(durations(history, ["A", "B", "C"]), expected)


def test_stage_durations_of_no_tickets():
    result = stage_durations(events(HISTORY), tickets(), as_of=AS_OF_48).collect()
    assert result.height == 0
    assert result.schema["stage"] == STAGE_DTYPE


def test_stage_time_summary_matches_numpy_linear_percentiles():
    registered_h = [1, 2, 4, 7, 10]  # median 4; p90 at 0.9 × 4 = 3.6 → 7 + 0.6 × (10 − 7) = 8.8
    assigned_h = [3, 5]  # median 4; p90 at 0.9 × 1 → 3 + 0.9 × 2 = 4.8 (the other three never left)
    history = {}
    for i, r in enumerate(registered_h):
        steps = [("registered", 0), ("assigned", r)]
        if i < len(assigned_h):
            steps.append(("in_progress", r + assigned_h[i]))
        history[f"S{i}"] = steps
    summary = stage_time_summary(
        stage_durations(events(history), tickets(*history), as_of=AS_OF_48)
    ).collect()
    assert summary["stage"].to_list() == list(WORKFLOW_STAGES)
    assert summary["tickets"].to_list() == [5, 2, 0, 0, 0, 0]  # in_progress spells are still open
    for row, hours in ((0, registered_h), (1, assigned_h)):
        assert summary["median_h"][row] == pytest.approx(np.percentile(hours, 50))
        assert summary["p90_h"][row] == pytest.approx(np.percentile(hours, 90))
    assert summary["median_h"][0] == pytest.approx(4.0)
    assert summary["p90_h"][0] == pytest.approx(8.8)
    assert summary["p90_h"][1] == pytest.approx(4.8)
    assert summary["median_h"][2:].null_count() == 4


def test_stage_reach_counts_tickets_not_events():
    # n = 4 (T7 has no events; T5 is not asked about). T3's two in_progress events count once.
    reach = stage_reach(events(HISTORY), tickets("T1", "T2", "T3", "T7")).collect()
    expected = pl.DataFrame(
        {
            "stage": list(WORKFLOW_STAGES),
            "tickets": [3, 2, 2, 1, 3, 2],  # registered T1-3; assigned T1,T3; … feedback T1,T3
            "share_pct": [75.0, 50.0, 50.0, 25.0, 75.0, 50.0],
            "n": [4] * 6,
        },
        schema={"stage": STAGE_DTYPE, "tickets": pl.Int64, "share_pct": pl.Float64, "n": pl.Int64},
    )
    assert_frame_equal(reach, expected)


def test_stage_reach_as_of_and_no_tickets():
    # by 9.5 h nobody has given feedback yet (T1 at 10 h, T3 at 31 h)
    reach = stage_reach(events(HISTORY), tickets("T1", "T3"), as_of=h(9.5)).collect()
    assert reach["tickets"].to_list() == [2, 2, 2, 1, 2, 0]
    empty = stage_reach(events(HISTORY), tickets()).collect()
    assert empty["tickets"].to_list() == [0] * 6
    assert empty["share_pct"].null_count() == 6


REWORK = {
    **HISTORY,
    # assigned twice (a reassignment): a repeat, no skip
    "T8": [("registered", 0), ("assigned", 1), ("assigned", 2), ("in_progress", 3), ("resolved", 4)],
    # resolved without ever being in progress: a skip
    "T9": [("registered", 0), ("assigned", 1), ("resolved", 2)],
    # no `registered` event: a gap in the data, not a skip (registration is created_at)
    "T10": [("assigned", 1), ("in_progress", 2), ("resolved", 3)],
}


def test_repeats_and_skips():
    # n = 7 (T7 without events); repeats T3 (reopened) and T8 (assigned twice) = 2 → 28.57 %;
    # skips T2 (resolved, never assigned nor in progress) and T9 (never in progress) = 2 → 28.57 %
    ids = ("T1", "T2", "T3", "T7", "T8", "T9", "T10")
    result = repeats_and_skips(events(REWORK), tickets(*ids), as_of=AS_OF_48).collect()
    assert result.row(0, named=True) == {
        "n": 7,
        "repeats": 2,
        "repeats_pct": pytest.approx(200 / 7),
        "skips": 2,
        "skips_pct": pytest.approx(200 / 7),
    }


def test_repeats_up_to_as_of_and_no_tickets():
    # at 10 h T3 has not been reopened yet (20 h): only T8 repeats
    result = repeats_and_skips(events(REWORK), tickets("T3", "T8"), as_of=h(10)).collect()
    assert result.select("n", "repeats", "skips").row(0) == (2, 1, 0)
    empty = repeats_and_skips(events(REWORK), tickets(), as_of=AS_OF_48).collect()
    assert empty.row(0) == (0, 0, None, 0, None)


AS_OF_10 = h(10)
STALLED_HISTORY = {
    "S1": [("registered", 0), ("assigned", 1), ("in_progress", 2), ("resolved", 50)],
    "S2": [("registered", 0), ("resolved", 5)],
    "S3": [("registered", 12)],
    "S5": [("registered", 0), ("in_progress", 1), ("closed", 8)],
    "S6": [("registered", 0), ("in_progress", 1), ("in_progress", 3)],
    "S7": [("registered", 0), ("in_progress", 1), ("pending_customer", 2), ("in_progress", 6)],
    "S8": [("registered", 0), ("resolved", 3), ("reopened", 7)],
}
STALLED_TICKETS = tickets(
    "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8",
    created_at=[h(0), h(0), h(12), h(4), h(0), h(0), h(0), h(0)],
    resolved_at=[h(50), h(5), None, None, None, None, None, h(30)],
    closed_at=[None, None, None, None, h(8), None, None, None],
    team_id=["A", "A", "A", "B", "A", "B", "A", "B"],
)  # fmt: skip


def test_stalled_now_at_an_instant_in_the_middle():
    # Open at 10 h: S1 (resolved only at 50 h), S4, S6, S7, S8 (its latest resolution is at 30 h).
    # Not S2 (resolved at 5 h), S3 (created at 12 h), S5 (closed unresolved at 8 h).
    result = stalled_now(events(STALLED_HISTORY), STALLED_TICKETS, as_of=AS_OF_10).collect()
    expected = pl.DataFrame(
        {
            "ticket_id": ["S4", "S6", "S1", "S7", "S8"],
            "stage": ["registered", "in_progress", "in_progress", "in_progress", "reopened"],
            # S4: no event yet: registered since created (4 h); S6: in progress since its first of two
            # in_progress events (1 h); S1: resolution at 50 h ignored, in progress since 2 h;
            # S7: back in progress at 6 h after waiting for the customer; S8: reopened at 7 h
            "entered_at": [h(4), h(1), h(2), h(6), h(7)],
            "hours_in_stage": [6.0, 9.0, 8.0, 4.0, 3.0],
            "created_at": [h(4), h(0), h(0), h(0), h(0)],
            "team_id": ["B", "B", "A", "A", "B"],
        },
        schema_overrides={"stage": STAGE_DTYPE},
    )
    assert_frame_equal(result.select(expected.columns), expected)
    assert result.columns[:4] == ["ticket_id", "stage", "entered_at", "hours_in_stage"]
    assert {"priority", "category", "root_cause", "severity", "customer_id", "agent_id"} <= set(
        result.columns
    )


def test_stalled_now_keeps_the_longest_per_stage():
    result = stalled_now(events(STALLED_HISTORY), STALLED_TICKETS, as_of=AS_OF_10, limit=2).collect()
    # in_progress: S6 (9 h) and S1 (8 h) of three; the other stages have one each
    assert result["ticket_id"].to_list() == ["S4", "S6", "S1", "S8"]


def test_stalled_now_passes_through_only_the_columns_there_are():
    bare = STALLED_TICKETS.select("ticket_id", "created_at", "resolved_at", "closed_at")
    result = stalled_now(events(STALLED_HISTORY), bare, as_of=AS_OF_10).collect()
    assert result.columns == ["ticket_id", "stage", "entered_at", "hours_in_stage", "created_at"]


def test_stalled_now_with_nothing_open():
    result = stalled_now(events(STALLED_HISTORY), STALLED_TICKETS, as_of=h(-1)).collect()
    assert result.height == 0
