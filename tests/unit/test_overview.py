"""Cards, targets and data-quality warnings of the Overview, on hand-built data."""

from datetime import UTC, date, datetime, timedelta

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
from cxdash.metrics.quality import REPORT_SCHEMA, quality_report
from cxdash.periods import DataSpan, parse_period
from cxdash.views.overview import (
    SHOWN_KPIS,
    OverviewQuality,
    QualityWarning,
    kpi_cards,
    overview_quality,
    quality_warnings,
)
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


CREATED = at("2026-08-01T09:00")


def quality_frames(*, bad_surveys: int):
    """Ten resolved tickets of Q3 that pass every check, each with a csat response; the first
    `bad_surveys` responses are dated a day before their survey was sent."""
    tickets = [
        {
            "ticket_id": f"t{i}",
            "created_at": CREATED,
            "first_response_at": CREATED + timedelta(minutes=30),
            "resolved_at": CREATED + timedelta(hours=2),
            "status": "resolved",
            "agent_id": "a1",
        }
        for i in range(10)
    ]
    surveys = [
        {
            "survey_id": f"s{i}",
            "ticket_id": f"t{i}",
            "sent_at": at("2026-08-05"),
            "responded_at": at("2026-08-04") if i < bad_surveys else at("2026-08-05T01:00"),
            "score": 5 if i % 2 else 3,
        }
        for i in range(10)
    ]
    agent = {"agent_id": "a1", "name": "A", "team_id": "T01", "hired_on": date(2025, 1, 1), "active": True}
    return kpi_frames(
        tickets=tickets,
        surveys=surveys,
        customers=[{"customer_id": "c1"}],
        teams=[{"team_id": "T01", "name": "One"}],
        agents=[agent],
    )


def overview_quality_of(frames) -> OverviewQuality:
    """The Overview's data quality for Q3 of `frames`, as the page builds it."""
    from cxdash.metrics.kpis import KpiOptions
    from cxdash.views.overview import overview

    span = DataSpan(first=at("2026-07-01"), data_as_of=at("2026-10-15"))
    q3 = parse_period("2026Q3")
    data = overview(frames, q3, [q3], span=span, tz="UTC", options=KpiOptions(), teams=())
    return overview_quality(quality_report(frames, data.current.window), data.cards)


def test_the_overview_warns_about_the_kpis_that_rest_on_bad_surveys():
    quality = overview_quality_of(quality_frames(bad_surveys=2))
    # 2 of the period's 10 surveys answered before they were sent: 80 % usable, below 95 %. NPS and CES
    # rest on the same check but have no value (no such surveys), so the page does not name them.
    assert quality.warnings == [
        QualityWarning(
            check="surveys.responded_before_sent",
            table="surveys",
            kpis=("csat_pct", "csat_mean", "csat_response_rate_pct"),
            rows_checked=10,
            rows_failing=2,
            usable_pct=80.0,
        )
    ]
    assert quality.failing.schema == pl.Schema(REPORT_SCHEMA)
    assert quality.failing.select("check", "rows_checked", "rows_failing").rows() == [
        ("surveys.responded_before_sent", 10, 2)
    ]


def test_clean_data_carries_no_warning_and_no_failing_check():
    quality = overview_quality_of(quality_frames(bad_surveys=0))
    assert quality.warnings == []
    assert quality.failing.is_empty()


def test_a_check_just_at_the_threshold_does_not_warn():
    # 1 bad survey of 10: 90 % usable, which warns below a threshold above 90 % only
    frames = quality_frames(bad_surveys=1)
    report = quality_report(frames, Q3)
    assert report.filter(pl.col("check") == "surveys.responded_before_sent")["usable_pct"].item() == 90.0
    assert quality_warnings(report, SHOWN_KPIS, warn_below_pct=90.0) == []
    assert [w.check for w in quality_warnings(report, SHOWN_KPIS, warn_below_pct=90.1)] == [
        "surveys.responded_before_sent"
    ]


def test_warnings_name_only_the_shown_kpis_in_page_order_worst_check_first():
    rows = [  # (check, table, kpis, usable_pct)
        ("a", "tickets", ["frt_p90_min", "frt_median_min"], 90.0),
        ("b", "surveys", ["csat_pct", "nps"], 50.0),
        ("c", "orders", ["revenue"], 99.0),  # above the threshold
        ("d", "tickets", [], 10.0),  # affects a breakdown only
        ("e", "customers", ["conversion_rate_pct"], 20.0),  # not shown (no value under a team filter)
    ]
    report = pl.DataFrame(
        {
            "check": [r[0] for r in rows],
            "table": [r[1] for r in rows],
            "problem": [""] * len(rows),
            "kpis": [r[2] for r in rows],
            "breakdowns": [["team"] for _ in rows],
            "rows_checked": [100] * len(rows),
            "rows_failing": [round(100 - r[3]) for r in rows],
            "usable_pct": [r[3] for r in rows],
        },
        schema=REPORT_SCHEMA,
    )
    shown = [name for name in SHOWN_KPIS if name != "conversion_rate_pct"]
    warnings = quality_warnings(report, shown)
    assert [(w.check, w.kpis, w.rows_failing) for w in warnings] == [
        ("b", ("csat_pct", "nps"), 50),
        ("a", ("frt_median_min", "frt_p90_min"), 10),
    ]
    assert quality_warnings(report.clear(), shown) == []


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
    # The trends cached apart (what the page does, so a period change computes three periods) are the
    # same series, and the cards are the same with them.
    from cxdash.views.overview import overview_trends

    apart = overview_trends(frames, trend, span=span, tz="UTC", options=KpiOptions())
    assert apart.equals(data.series)
    again = overview(
        frames,
        parse_period("2026Q3"),
        trend,
        span=span,
        tz="UTC",
        options=KpiOptions(),
        teams=(),
        series=apart,
    )
    assert again.cards == data.cards and again.series.equals(data.series)
