"""SMART goals as the Overview and the deck show them (views.goals) on small hand-built frames: which
goals apply to a period and scope, their baseline and current value within the goal's own scope, the
progress worked out by hand, and the baseline and periods of the admin's goal form."""

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope, scoped
from cxdash.periods import DataSpan, parse_period
from cxdash.views.goals import (
    GOAL_SCHEMA,
    Baseline,
    baseline_for,
    baseline_period,
    goal_period_choices,
    goal_rows,
)
from tests.kpi_frames import at, kpi_frames

TZ = "UTC"
SPAN = DataSpan(first=at("2026-04-01"), data_as_of=at("2026-10-15"))  # 2026Q4 is running
OPTIONS = KpiOptions()
EVERYTHING = Scope()


def tickets(team: str, day: str, count: int, *, complaint: bool = False) -> list[dict]:
    return [{"team_id": team, "created_at": at(day), "is_complaint": complaint} for _ in range(count)]


def csat(day: str, *scores: int) -> list[dict]:
    return [{"kind": "csat", "sent_at": at(day), "responded_at": at(day), "score": s} for s in scores]


def goal(metric: str, team: str | None, period: str, target: float) -> dict:
    return {"metric": metric, "team_id": team, "period": period, "target": target}


# Tickets: T01 4 in Q2, 6 in Q3, 1 in Q4 so far; T02 2 in Q2 (one a complaint), 3 in Q3 (none).
# CSAT (relationship surveys, company only): Q2 scores 5, 3 → 50 %; Q3 5, 5, 4, 2 → 75 %.
TICKETS = [
    *tickets("T01", "2026-05-10", 4),
    *tickets("T01", "2026-08-10", 6),
    *tickets("T01", "2026-10-05", 1),
    *tickets("T02", "2026-05-10", 1),
    *tickets("T02", "2026-05-11", 1, complaint=True),
    *tickets("T02", "2026-08-10", 3),
]
SURVEYS = [*csat("2026-05-20", 5, 3), *csat("2026-08-20", 5, 5, 4, 2)]
GOALS = [
    goal("csat_pct", None, "*", 85.0),  # a standing target, not a goal
    goal("tickets", "T02", "2026Q3", 2.0),
    goal("csat_pct", None, "2026Q3", 90.0),
    goal("tickets", "T01", "2026Q3", 8.0),
    goal("tickets", "T01", "2026Q2", 5.0),  # another period
    goal("complaints", "T02", "2026Q3", 0.0),
    goal("tickets", None, "2026-08", 3.0),  # a month: not a goal of the quarter
]
TEAMS = [{"team_id": "T01", "name": "Phone"}, {"team_id": "T02", "name": "Chat"}]


def frames(goals=GOALS):
    return kpi_frames(tickets=TICKETS, surveys=SURVEYS, teams=TEAMS, kpi_targets=goals)


def rows(period="2026Q3", scope=EVERYTHING, data=None) -> pl.DataFrame:
    return goal_rows(data or frames(), parse_period(period), span=SPAN, tz=TZ, scope=scope, options=OPTIONS)


COLUMNS = ["metric", "team_id", "baseline", "current", "target", "gap", "progress_pct", "achieved"]


def test_the_goals_of_the_period_with_baseline_current_and_progress():
    got = rows()
    expected = pl.DataFrame(
        [
            # company CSAT from 50 % towards 90 %: at 75 %, 25 of the 40 points covered → 62.5 %
            ("csat_pct", None, 50.0, 75.0, 90.0, 15.0, 62.5, False),
            # T01 tickets from 4 towards 8: at 6 → 50 %; a volume has no better direction
            ("tickets", "T01", 4.0, 6.0, 8.0, 2.0, 50.0, None),
            # T02 tickets: the baseline (2) is the target → no progress figure; 3 is 1 over it
            ("tickets", "T02", 2.0, 3.0, 2.0, -1.0, None, None),
            # T02 complaints from 1 down to 0: at 0 → 100 %, achieved (lower is better)
            ("complaints", "T02", 1.0, 0.0, 0.0, 0.0, 100.0, True),
        ],
        schema={c: GOAL_SCHEMA[c] for c in COLUMNS},
        orient="row",
    )
    assert_frame_equal(got.select(COLUMNS), expected)
    assert got["team_name"].to_list() == [None, "Phone", "Chat", "Chat"]
    assert got["baseline_period"].unique().to_list() == ["2026Q2"]
    assert got["period"].unique().to_list() == ["2026Q3"]
    assert got["n"].to_list() == [4, 6, 3, 0]  # CSAT responses, tickets, tickets, complaints
    assert got["baseline_n"].to_list() == [2, 4, 2, 1]
    assert got["unit"].to_list() == ["%", "count", "count", "count"]
    assert got["running"].to_list() == [False] * 4
    assert got["measured"].all()
    assert got.schema == pl.Schema(GOAL_SCHEMA)


def test_a_team_filter_keeps_the_company_goals_and_that_teams_goals():
    got = rows(scope=Scope(teams=("T02",)))
    assert got.select("metric", "team_id").rows() == [
        ("csat_pct", None),
        ("tickets", "T02"),
        ("complaints", "T02"),
    ]
    # measured on the goal's own scope, whatever else is chosen
    assert got["current"].to_list() == [75.0, 3.0, 0.0]
    channel = rows(scope=Scope(channels=("email",)))  # no ticket is an e-mail: the goals still count
    assert channel["current"].to_list() == rows()["current"].to_list()


def test_a_company_goal_is_not_measured_on_frames_of_some_teams_only():
    # a team lead's frames (or frames already narrowed by a ticket filter) hold only their teams' data
    lead = scoped(frames(), Scope(teams=("T01",)))
    got = rows(scope=Scope(teams=("T01",)), data=lead)
    assert got.select("metric", "team_id", "measured", "current", "progress_pct").rows() == [
        ("csat_pct", None, False, None, None),
        ("tickets", "T01", True, 6.0, 50.0),
    ]


def test_a_running_period_says_so_and_starts_from_the_quarter_before():
    got = rows("2026Q4", data=frames([goal("tickets", "T01", "2026Q4", 10.0)]))
    assert got.select("running", "baseline_period", "baseline", "current", "progress_pct").row(0) == (
        True, "2026Q3", 6.0, 1.0, -100.0,  # 1 so far against a baseline of 6: (1 − 6) / (10 − 6) → clipped
    )  # fmt: skip


def test_duplicate_rows_of_a_goal_count_once_the_last_wins():
    got = rows(data=frames([goal("tickets", "T01", "2026Q3", 7.0), goal("tickets", "T01", "2026Q3", 8.0)]))
    assert got.select("target", "progress_pct").rows() == [(8.0, 50.0)]


@pytest.mark.parametrize("period", ["2026Q1", "2026-09"])
def test_no_goals_no_rows(period):
    got = rows(period)
    assert got.is_empty() and got.schema == pl.Schema(GOAL_SCHEMA)


def test_a_custom_period_has_no_goals():
    from cxdash.periods import custom_period

    got = goal_rows(
        frames(), custom_period(date(2026, 7, 1), date(2026, 9, 30)), span=SPAN, tz=TZ, scope=Scope(),
        options=OPTIONS,
    )  # fmt: skip
    assert got.is_empty()


def test_a_month_goal_is_shown_for_its_month():
    got = rows("2026-08")
    # company tickets: July 0, August 9 (6 of T01, 3 of T02); baseline 0 → target 3: past it → 100 %
    assert got.select(
        "metric", "team_id", "baseline_period", "baseline", "current", "progress_pct"
    ).rows() == [("tickets", None, "2026-07", 0.0, 9.0, 100.0)]


@pytest.mark.parametrize(
    ("proposed", "baseline"),
    [
        ("2026Q3", "2026Q2"),  # the quarter before, complete
        ("2026Q4", "2026Q3"),  # the running quarter: the one before is complete
        ("2027Q1", "2026Q3"),  # the future: the quarter before (2026Q4) is running → last complete
        ("2028Q2", "2026Q3"),
        ("2026-11", "2026-09"),  # October is running
        ("2026-10", "2026-09"),
        ("2026-W45", "2026-W41"),  # data_as_of is Thursday of W42
    ],
)
def test_the_baseline_period(proposed, baseline):
    assert baseline_period(parse_period(proposed), span=SPAN, tz=TZ).label == baseline


@pytest.mark.parametrize(
    ("metric", "team", "proposed", "expected"),
    [
        ("csat_pct", None, "2026Q4", Baseline("csat_pct", None, "2026Q3", 75.0, 4, "%")),
        ("tickets", "T01", "2027Q1", Baseline("tickets", "T01", "2026Q3", 6.0, 6, "count")),
        ("tickets", "T02", "2026Q3", Baseline("tickets", "T02", "2026Q2", 2.0, 2, "count")),
        ("tickets", None, "2026Q3", Baseline("tickets", None, "2026Q2", 6.0, 6, "count")),
        # before the data: no value (not a count of 0)
        ("tickets", "T01", "2026Q1", Baseline("tickets", "T01", "2025Q4", None, 0, "count")),
        # a team does not own sign-ups: null with the reason
        (
            "conversion_rate_pct", "T01", "2026Q4",
            Baseline("conversion_rate_pct", "T01", "2026Q3", None, 0, "%", "undefined_under_ticket_filter"),
        ),
    ],
)  # fmt: skip
def test_baseline_for(metric, team, proposed, expected):
    got = baseline_for(frames(), metric, team, parse_period(proposed), span=SPAN, tz=TZ, options=OPTIONS)
    assert got == expected


def test_the_periods_a_goal_may_be_set_for():
    quarters, default = goal_period_choices("quarter", SPAN, TZ, today=date(2030, 1, 1))
    assert [p.label for p in quarters] == [
        "2026Q2", "2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4",
    ]  # fmt: skip
    assert default.label == "2027Q1"  # the first quarter after the data
    months, default = goal_period_choices("month", SPAN, TZ, today=date(2030, 1, 1))
    assert months[0].label == "2026-04" and months[-1].label == "2027-04" and default.label == "2026-11"
    # no data yet: from today's quarter
    quarters, default = goal_period_choices("quarter", None, TZ, today=date(2026, 2, 3))
    assert [p.label for p in quarters][:2] == ["2026Q1", "2026Q2"] and default.label == "2026Q2"
    assert len(quarters) == 5


def test_rows_are_json_ready():
    import json

    assert json.loads(json.dumps(rows().to_dicts())) == rows().to_dicts()
