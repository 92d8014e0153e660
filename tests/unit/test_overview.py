"""Cards, targets and data-quality counts of the Overview, on hand-built data."""

from datetime import UTC, datetime

import polars as pl
import pytest

from cxdash.metrics.compare import (
    ComparedPeriods,
    PeriodResult,
    change_p_value,
    compare,
    resolve_targets,
    target_status,
)
from cxdash.metrics.kpis import KPI_BY_NAME, KpiValue, Window
from cxdash.periods import DataSpan, parse_period
from cxdash.views.overview import data_quality, kpi_cards
from tests.kpi_frames import Q3, at, kpi_frames


@pytest.mark.parametrize(
    ("value", "target", "higher", "status"),
    [
        (86.0, 85.0, True, "green"),
        (85.0, 85.0, True, "green"),
        (81.0, 85.0, True, "amber"),  # 4 short, within 5 % of 85 (4.25)
        (80.0, 85.0, True, "red"),
        (14.0, 15.0, False, "green"),
        (15.7, 15.0, False, "amber"),
        (16.0, 15.0, False, "red"),
        (None, 15.0, False, None),
        (3.0, None, True, None),
        (100.0, 50.0, None, None),
    ],
)
def test_target_status(value, target, higher, status):
    assert target_status(value, target, higher) == status


TARGETS = pl.DataFrame(
    {
        "metric": ["csat_pct", "csat_pct", "csat_pct", "frt_median_min", "frt_median_min", "nps"],
        "team_id": [None, None, "T04", None, "T02", None],
        "period": ["*", "2026Q3", "*", "*", "*", "2026Q1"],
        "target": [85.0, 87.0, 75.0, 15.0, 3.0, 40.0],
    }
)


def test_targets_prefer_team_then_period():
    assert resolve_targets(TARGETS, period_label="2026Q2", teams=()) == {
        "csat_pct": 85.0,
        "frt_median_min": 15.0,
    }
    assert resolve_targets(TARGETS, period_label="2026Q3", teams=())["csat_pct"] == 87.0
    assert resolve_targets(TARGETS, period_label="2026Q3", teams=("T04",))["csat_pct"] == 75.0
    assert resolve_targets(TARGETS, period_label="2026Q3", teams=("T02",))["frt_median_min"] == 3.0
    # two teams: company targets
    assert resolve_targets(TARGETS, period_label="2026Q2", teams=("T02", "T04"))["frt_median_min"] == 15.0


def result(kpis: dict[str, KpiValue], days: float = 92, *, running: bool = False) -> PeriodResult:
    start = datetime(2026, 7, 1, tzinfo=UTC)
    as_of = datetime.fromtimestamp(start.timestamp() + days * 86400, UTC)
    end = datetime.fromtimestamp(start.timestamp() + 92 * 86400, UTC)
    window = Window(start=start, end=end, as_of=as_of, data_as_of=as_of if running else end)
    full = {name: KpiValue(None, 0) for name in KPI_BY_NAME}
    return PeriodResult(period=parse_period("2026Q3"), window=window, kpis={**full, **kpis})


def test_cards_compare_with_the_right_test():
    now = result({"csat_pct": KpiValue(80.0, 1000), "tickets": KpiValue(130.0, 130)})
    before = result({"csat_pct": KpiValue(70.0, 1000), "tickets": KpiValue(100.0, 100)})
    compared = ComparedPeriods(current=now, previous=before, last_year=None, extra={})
    cards = {c.name: c for c in kpi_cards(compared, {"csat_pct": 85.0}, ticket_filtered=False)}
    csat = cards["csat_pct"]
    assert (csat.value, csat.n, csat.target, csat.status) == (80.0, 1000, 85.0, "red")
    assert csat.vs_previous.delta == pytest.approx(10.0)
    assert csat.vs_previous.significant  # z ≈ 5.16
    assert csat.vs_last_year.delta is None and not csat.vs_last_year.significant
    # 130 vs 100 tickets in equal time: binomial(230, 0.5) p ≈ 0.056 → not significant
    assert cards["tickets"].vs_previous.p_value == pytest.approx(0.0557, abs=2e-3)
    assert not cards["tickets"].vs_previous.significant


def test_count_test_uses_the_exposure_of_a_partial_period():
    # 50 tickets in 46 days (half a quarter so far) vs 100 in 92: the same rate, no change
    p = change_p_value(KPI_BY_NAME["tickets"], KpiValue(50.0, 50), KpiValue(100.0, 100), 46, 92)
    assert p == pytest.approx(1.0)
    # 50 in 46 days vs 50 in 92 (counted as if both were whole quarters this would look flat)
    assert change_p_value(KPI_BY_NAME["tickets"], KpiValue(50.0, 50), KpiValue(50.0, 50), 46, 92) < 0.01


def test_a_running_period_compares_counts_and_sums_per_day_of_data():
    # 46 of 92 days so far: 60 tickets and ¥500 against 100 and ¥1,000 over a whole quarter
    now = result({"tickets": KpiValue(60.0, 60), "revenue": KpiValue(500.0, 5)}, days=46, running=True)
    before = result({"tickets": KpiValue(100.0, 100), "revenue": KpiValue(1000.0, 9)})
    tickets = compare(KPI_BY_NAME["tickets"], now, before)
    assert tickets.adjusted and tickets.other == pytest.approx(50.0) and tickets.delta == pytest.approx(10.0)
    revenue = compare(KPI_BY_NAME["revenue"], now, before)
    assert revenue.adjusted and revenue.delta == pytest.approx(0.0)
    # a stock (backlog at as_of) and a rate are compared as they are
    stock = compare(
        KPI_BY_NAME["backlog_open"],
        result({"backlog_open": KpiValue(30.0, 30)}, days=46, running=True),
        result({"backlog_open": KpiValue(20.0, 20)}),
    )
    assert not stock.adjusted and stock.delta == pytest.approx(10.0)
    # two complete periods: raw
    assert not compare(KPI_BY_NAME["tickets"], result({"tickets": KpiValue(60.0, 60)}), before).adjusted


def test_medians_are_not_tested():
    p = change_p_value(KPI_BY_NAME["frt_median_min"], KpiValue(5.0, 900), KpiValue(50.0, 900), 92, 92)
    assert p is None


def test_data_quality_counts_contract_breaks():
    frames = kpi_frames(
        tickets=[
            {"customer_id": "c1", "created_at": at("2026-08-01"), "resolved_at": at("2026-07-30")},
            {"customer_id": "nobody", "created_at": at("2026-08-01")},
            {
                "customer_id": "c1",
                "created_at": at("2026-08-01"),
                "resolved_at": at("2026-08-02"),
                "agent_replies": 2,
            },
        ],
        customers=[{"customer_id": "c1"}],
        surveys=[{"kind": "csat", "score": 9, "responded_at": at("2026-08-01")}],
    )
    assert data_quality(frames, Q3) == {
        "resolved_before_created": 1,
        "responded_before_created": 0,
        "resolved_without_first_response": 2,
        "tickets_without_customer": 1,
        "scores_out_of_range": 1,
    }


def test_overview_shares_one_computation_and_marks_the_running_period():
    from cxdash.metrics.kpis import KpiOptions
    from cxdash.views.overview import overview

    frames = kpi_frames(
        tickets=[
            {"created_at": at("2026-05-01")},
            {"created_at": at("2026-08-01")},
            {"created_at": at("2026-08-02")},
            {"created_at": at("2026-10-05")},
        ]
    )
    trend = [parse_period(q) for q in ("2026Q2", "2026Q3", "2026Q4")]
    span = DataSpan(first=at("2026-01-01"), data_as_of=at("2026-10-05"))
    data = overview(
        frames, parse_period("2026Q3"), trend, span=span, tz="UTC", options=KpiOptions(), teams=()
    )
    cards = {c.name: c for c in data.cards}
    assert cards["tickets"].value == 2.0
    assert cards["tickets"].vs_previous.other == 1.0
    assert cards["tickets"].vs_last_year.other is None  # 2025Q3 lies before the data
    assert not cards["tickets"].running
    tickets = data.series.filter(pl.col("kpi") == "tickets")
    assert tickets["value"].to_list() == [1.0, 2.0, 1.0]
    assert tickets["running"].to_list() == [False, False, True]
