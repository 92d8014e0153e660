"""SMART goals: what validate_goal accepts and refuses (with which message key), and goal_progress on
hand-worked numbers in both directions."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxdash.errors import InputError
from cxdash.metrics.goals import Goal, goal_progress, target_range, validate_goal
from cxdash.metrics.kpis import HEADLINE_KPIS, KPI_BY_NAME

TEAMS = ("T01", "T02")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("csat_pct", None, "2026q3", 85), Goal("csat_pct", None, "2026Q3", 85.0)),  # label normalised
        (("frt_median_min", "T01", " 2026-07 ", 3), Goal("frt_median_min", "T01", "2026-07", 3.0)),
        (("nps", "T02", "2026-W27", -100), Goal("nps", "T02", "2026-W27", -100.0)),
        (("csat_mean", None, "2026Q4", 5), Goal("csat_mean", None, "2026Q4", 5.0)),
        (("ces_mean", None, "2026Q4", 1), Goal("ces_mean", None, "2026Q4", 1.0)),
        (("revenue", None, "2026Q4", 2_500_000.5), Goal("revenue", None, "2026Q4", 2_500_000.5)),
        (("backlog_open", None, "2026Q4", 0), Goal("backlog_open", None, "2026Q4", 0.0)),
        (("escalation_rate_pct", None, "2026Q4", "4.5"), Goal("escalation_rate_pct", None, "2026Q4", 4.5)),
    ],
)
def test_valid_goals(args, expected):
    assert validate_goal(*args, teams=TEAMS) == expected


def refused(args, key):
    with pytest.raises(InputError) as info:
        validate_goal(*args, teams=TEAMS)
    assert info.value.key == key
    return info.value


@pytest.mark.parametrize("metric", ["csat", "CSAT_PCT", "", "first_response"])
def test_the_metric_must_be_a_kpi(metric):
    error = refused((metric, None, "2026Q3", 50), "goals.unknown_metric")
    assert error.values == {"metric": metric, "metrics": ", ".join(KPI_BY_NAME)}
    assert "csat_pct" in str(error)


@pytest.mark.parametrize("period", ["*", "", "  ", None])
def test_a_goal_has_one_period(period):
    error = refused(("csat_pct", None, period, 85), "goals.no_period")
    assert error.values == {"period": (period or "").strip()}
    assert "2026Q3" in str(error)


@pytest.mark.parametrize("period", ["2026Q5", "2026-13", "Q3", "2026-07-01..2026-07-31", "2027-W53"])
def test_the_period_must_be_a_quarter_month_or_week(period):
    error = refused(("csat_pct", None, period, 85), "goals.bad_period")
    assert error.values["period"] == period
    assert error.values["detail"]  # parse_period's own reason (e.g. 2027 has no ISO week 53)


@pytest.mark.parametrize(
    ("metric", "target", "allowed"),
    [
        ("csat_pct", 100.5, "0–100"),
        ("sla_first_response_pct", -1, "0–100"),
        ("nps", -101, "-100–100"),
        ("nps", 100.01, "-100–100"),
        ("csat_mean", 0.9, "1–5"),
        ("csat_mean", 5.5, "1–5"),
        ("ces_mean", 7.5, "1–7"),
        ("frt_median_min", -0.5, "≥ 0"),
        ("revenue", math.inf, "≥ 0"),
        ("tickets", math.nan, "≥ 0"),
        ("complaint_rate_per_1k_orders", -3, "≥ 0"),
        ("csat_pct", "eighty", "0–100"),
        ("csat_pct", None, "0–100"),
        ("csat_pct", True, "0–100"),
    ],
)
def test_the_target_must_be_a_value_the_kpi_can_take(metric, target, allowed):
    error = refused((metric, None, "2026Q3", target), "goals.out_of_range")
    assert error.values == {
        "metric": metric,
        "target": str(target),
        "allowed": allowed,
        "unit": KPI_BY_NAME[metric].unit,
    }


def test_every_kpi_has_a_range():
    # units: % → 0–100, points (nps) → −100–100, score → the survey scale, all else ≥ 0
    ranges = {spec.name: target_range(spec) for spec in HEADLINE_KPIS}
    assert ranges["csat_pct"] == (0, 100)
    assert ranges["nps"] == (-100, 100)
    assert ranges["csat_mean"] == (1, 5)
    assert ranges["ces_mean"] == (1, 7)
    assert ranges["resolution_p90_h"] == (0, math.inf)
    assert all(low < high for low, high in ranges.values())


@pytest.mark.parametrize("team", ["T03", "", "t01"])
def test_the_team_must_exist(team):
    error = refused(("csat_pct", team, "2026Q3", 85), "goals.unknown_team")
    assert error.values == {"team": team, "teams": "T01, T02"}


def test_the_first_problem_is_reported():
    # metric before period before target before team
    refused(("nope", "T09", "*", -5), "goals.unknown_metric")
    refused(("csat_pct", "T09", "*", -5), "goals.no_period")
    refused(("csat_pct", "T09", "2026Q3", -5), "goals.out_of_range")
    refused(("csat_pct", "T09", "2026Q3", 5), "goals.unknown_team")


def test_goal_knows_its_direction():
    assert Goal("frt_median_min", None, "2026Q3", 3.0).higher_is_better is False
    assert Goal("tickets", None, "2026Q3", 3.0).higher_is_better is None


@pytest.mark.parametrize(
    ("baseline", "current", "target", "higher", "expected"),
    [
        # csat_pct from 80 towards 90: at 84, 4 of the 10 points covered → 40 %; 6 to go
        (80, 84, 90, True, (6, 40.0, False)),
        # at 92: past the target (120 % → 100), achieved; the gap is negative
        (80, 92, 90, True, (-2, 100.0, True)),
        # exactly at the target: achieved (≥)
        (80, 90, 90, True, (0, 100.0, True)),
        # fell from 80 to 75: −5 of 10 → −50 %
        (80, 75, 90, True, (15, -50.0, False)),
        # fell to 60: −200 % → clipped to −100
        (80, 60, 90, True, (30, -100.0, False)),
        # frt_median_min from 12 down to 8 (lower is better): at 10, (10 − 12) / (8 − 12) = 50 %
        (12, 10, 8, False, (-2, 50.0, False)),
        # at 7: 125 % → 100, achieved (≤); 1 minute under the target
        (12, 7, 8, False, (1, 100.0, True)),
        # at 8: achieved exactly
        (12, 8, 8, False, (0, 100.0, True)),
        # worse at 14: (14 − 12) / (8 − 12) = −50 %
        (12, 14, 8, False, (-6, -50.0, False)),
        # no baseline, or a baseline equal to the target: no progress figure
        (None, 84, 90, True, (6, None, False)),
        (90, 84, 90, True, (6, None, False)),
        # a volume (tickets): no better direction → achieved unknown
        (1000, 1100, 1200, None, (100, 50.0, None)),
        # no current value: nothing to say
        (80, None, 90, True, (None, None, None)),
    ],
)
def test_goal_progress(baseline, current, target, higher, expected):
    got = goal_progress(baseline, current, target, higher_is_better=higher)
    assert set(got) == {"gap", "progress_pct", "achieved"}
    assert (got["gap"], got["progress_pct"], got["achieved"]) == pytest.approx(expected)
    assert got["achieved"] is expected[2]


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(finite, finite, finite, st.sampled_from([True, False, None]))
def test_progress_stays_within_bounds(baseline, current, target, higher):
    progress = goal_progress(baseline, current, target, higher_is_better=higher)["progress_pct"]
    assert progress is None or -100 <= progress <= 100
    assert (progress is None) == (baseline == target)
