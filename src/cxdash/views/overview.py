"""The Overview's content as data: KPI cards with targets and tested changes, KPI trends, data quality."""

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.compare import (
    ComparedPeriods,
    Comparison,
    PeriodResult,
    Status,
    compare_periods,
    resolve_targets,
)
from cxdash.metrics.kpis import SERVED_CUSTOMER_KPIS, KpiOptions, Window
from cxdash.periods import DataSpan, Period

KPI_GROUPS: dict[str, tuple[str, ...]] = {
    "satisfaction": ("csat_pct", "nps", "ces_mean", "csat_mean", "csat_response_rate_pct"),
    "service": (
        "frt_median_min", "frt_p90_min", "resolution_median_h", "resolution_p90_h",
        "sla_first_response_pct", "sla_resolution_pct", "reopen_rate_pct", "one_touch_pct",
    ),
    "volume": (
        "tickets", "complaints", "complaint_rate_per_1k_orders", "escalation_rate_pct", "backlog_open",
    ),
    "customers": (
        "revenue", "active_customers", "churn_rate_pct", "repeat_purchase_rate_pct", "conversion_rate_pct",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class KpiCard:
    name: str
    unit: str
    higher_is_better: bool | None
    value: float | None
    n: int
    target: float | None
    status: Status | None
    vs_previous: Comparison
    vs_last_year: Comparison
    reason: str | None = None  # why the value is null although there is data
    running: bool = False  # the period is still running
    served: bool = False  # about the customers served by the ticket filter's tickets


def kpi_cards(
    compared: ComparedPeriods, targets: dict[str, float], *, ticket_filtered: bool
) -> list[KpiCard]:
    """A card per headline KPI, in the order of HEADLINE_KPIS."""
    return [
        KpiCard(
            name=row.spec.name,
            unit=row.spec.unit,
            higher_is_better=row.spec.higher_is_better,
            value=row.now.value,
            n=row.now.n,
            target=row.target,
            status=row.status,
            vs_previous=row.vs_previous,
            vs_last_year=row.vs_last_year,
            reason=row.now.reason,
            running=compared.current.running,
            served=ticket_filtered and row.spec.name in SERVED_CUSTOMER_KPIS,
        )
        for row in compared.kpis(targets)
    ]


SERIES_SCHEMA = {
    "period": pl.String,
    "period_start": pl.Date,
    "kpi": pl.String,
    "value": pl.Float64,
    "n": pl.Int64,
    "running": pl.Boolean,
    "reason": pl.String,
}


def trend_series(results: Sequence[PeriodResult]) -> pl.DataFrame:
    """One row per period and KPI: value, N, whether the period is running, and why a value is null."""
    return pl.DataFrame(
        [
            {
                "period": r.period.label,
                "period_start": r.period.start_date,
                "kpi": name,
                "value": kpi.value,
                "n": kpi.n,
                "running": r.running,
                "reason": kpi.reason,
            }
            for r in results
            for name, kpi in r.kpis.items()
        ],
        schema=SERIES_SCHEMA,
    )


@dataclass(frozen=True, slots=True)
class OverviewData:
    cards: list[KpiCard]
    series: pl.DataFrame  # SERIES_SCHEMA
    current: PeriodResult
    has_data: bool
    quality: dict[str, int]


def overview(
    frames: Frames,
    period: Period,
    trend_periods: Sequence[Period],
    *,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
    teams: Sequence[str],
) -> OverviewData:
    """Cards (with previous period, last year and targets), trends and data quality of one scope."""
    compared = compare_periods(frames, period, span=span, tz=tz, options=options, extra_periods=trend_periods)
    targets = resolve_targets(frames.kpi_targets.collect(), period_label=period.label, teams=teams)
    current = compared.current
    return OverviewData(
        cards=kpi_cards(compared, targets, ticket_filtered=frames.ticket_filtered),
        series=trend_series([compared.extra[p.label] for p in trend_periods]),
        current=current,
        has_data=current.kpis["tickets"].n > 0 or current.kpis["revenue"].n > 0,
        quality=data_quality(frames, current.window),
    )


SCORE_RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


def data_quality(frames: Frames, window: Window) -> dict[str, int]:
    """Counts of rows in the period that break the contract's logic (0 everywhere = clean)."""
    created = frames.tickets.filter(
        (pl.col("created_at") >= window.start) & (pl.col("created_at") < window.end)
    )
    tickets = created.select(
        (pl.col("resolved_at") < pl.col("created_at")).sum().alias("resolved_before_created"),
        (pl.col("first_response_at") < pl.col("created_at")).sum().alias("responded_before_created"),
        (
            pl.col("resolved_at").is_not_null()
            & pl.col("first_response_at").is_null()
            & (pl.col("agent_replies") > 0)
        )
        .sum()
        .alias("resolved_without_first_response"),
    )
    orphans = created.join(frames.customers.select("customer_id"), on="customer_id", how="anti").select(
        pl.len().alias("tickets_without_customer")
    )
    out_of_range = pl.any_horizontal(
        (pl.col("kind") == kind) & ((pl.col("score") < lo) | (pl.col("score") > hi))
        for kind, (lo, hi) in SCORE_RANGES.items()
    )
    surveys = frames.surveys.filter(
        (pl.col("responded_at") >= window.start) & (pl.col("responded_at") < window.end)
    ).select(out_of_range.sum().alias("scores_out_of_range"))
    row = pl.concat(pl.collect_all([tickets, orphans, surveys]), how="horizontal").row(0, named=True)
    return {name: int(count or 0) for name, count in row.items()}
