"""The Overview's content as data: KPI cards with targets and tested changes, KPI trends, and the KPIs
shown that rest on poor data (from cxdash.metrics.quality's report of the same scope and period)."""

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
from cxdash.metrics.kpis import SERVED_CUSTOMER_KPIS, KpiOptions, Window, headline_kpis_many
from cxdash.metrics.quality import DEFAULT_WARN_BELOW_PCT, kpi_usability
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


SHOWN_KPIS: tuple[str, ...] = tuple(name for names in KPI_GROUPS.values() for name in names)


def shown_kpis(cards: Sequence[KpiCard]) -> list[str]:
    """The KPIs the page shows with a value, in the page's order."""
    with_value = {card.name for card in cards if card.value is not None}
    return [name for name in SHOWN_KPIS if name in with_value]


@dataclass(frozen=True, slots=True)
class QualityWarning:
    """KPIs shown with a value that rest on rows failing one check, whose usable share is below the
    threshold (cxdash.metrics.quality)."""

    check: str
    table: str
    kpis: tuple[str, ...]  # in the page's order
    rows_checked: int
    rows_failing: int
    usable_pct: float


def quality_warnings(
    report: pl.DataFrame,
    shown: Sequence[str],
    *,
    warn_below_pct: float = DEFAULT_WARN_BELOW_PCT,
) -> list[QualityWarning]:
    """One warning per check (a quality_report row) that makes a KPI of `shown` warn (kpi_usability),
    worst check first; none for an empty report."""
    order = {name: i for i, name in enumerate(shown)}
    warned = kpi_usability(report, warn_below_pct=warn_below_pct).filter(
        pl.col("warn") & pl.col("kpi").is_in(list(order))
    )
    kpis_by_check: dict[str, list[str]] = {}
    for kpi, checks in warned.select("kpi", "checks_below").iter_rows():
        for check in checks:
            kpis_by_check.setdefault(check, []).append(kpi)
    rows = report.filter(pl.col("check").is_in(list(kpis_by_check))).sort("usable_pct", maintain_order=True)
    return [
        QualityWarning(
            check=row["check"],
            table=row["table"],
            kpis=tuple(sorted(kpis_by_check[row["check"]], key=order.__getitem__)),
            rows_checked=row["rows_checked"],
            rows_failing=row["rows_failing"],
            usable_pct=row["usable_pct"],
        )
        for row in rows.iter_rows(named=True)
    ]


@dataclass(frozen=True, slots=True)
class OverviewQuality:
    failing: pl.DataFrame  # the report's rows (REPORT_SCHEMA) of checks with failing rows, in CHECKS order
    warnings: list[QualityWarning]  # about the KPIs the cards show with a value


def overview_quality(report: pl.DataFrame, cards: Sequence[KpiCard]) -> OverviewQuality:
    """The Overview's data quality from `report` (quality_report of the cards' scope and period)."""
    return OverviewQuality(
        failing=report.filter(pl.col("rows_failing") > 0),
        warnings=quality_warnings(report, shown_kpis(cards)),
    )


@dataclass(frozen=True, slots=True)
class OverviewData:
    cards: list[KpiCard]
    series: pl.DataFrame  # SERIES_SCHEMA
    current: PeriodResult
    has_data: bool


def overview_trends(
    frames: Frames, trend_periods: Sequence[Period], *, span: DataSpan, tz: str, options: KpiOptions
) -> pl.DataFrame:
    """The trend series alone (SERIES_SCHEMA): every headline KPI of each trend period. They do not depend
    on the chosen period, so a period change need not recompute them."""
    windows = [Window.of(p, tz=tz, data_as_of=span.data_as_of) for p in trend_periods]
    values = headline_kpis_many(frames, windows, options)
    return trend_series(
        [
            PeriodResult(period=p, window=w, kpis=k)
            for p, w, k in zip(trend_periods, windows, values, strict=True)
        ]
    )


def overview(
    frames: Frames,
    period: Period,
    trend_periods: Sequence[Period],
    *,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
    teams: Sequence[str],
    series: pl.DataFrame | None = None,
) -> OverviewData:
    """Cards (with previous period, last year and targets) and trends of one scope; `series`: the trends
    of `trend_periods` when already computed (overview_trends), else computed with the cards."""
    extra = () if series is not None else trend_periods
    compared = compare_periods(frames, period, span=span, tz=tz, options=options, extra_periods=extra)
    targets = resolve_targets(frames.kpi_targets.collect(), period_label=period.label, teams=teams)
    current = compared.current
    return OverviewData(
        cards=kpi_cards(compared, targets, ticket_filtered=frames.ticket_filtered),
        series=series
        if series is not None
        else trend_series([compared.extra[p.label] for p in trend_periods]),
        current=current,
        has_data=current.kpis["tickets"].n > 0 or current.kpis["revenue"].n > 0,
    )
