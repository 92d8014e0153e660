"""The Overview's KPI cards and trend lines read from the per-day aggregates (CXDASH_SOURCE=aggregates):
the same cards, comparisons, targets and series as cxdash.views.overview, from AggregateReader instead
of the raw rows. Durations are on the calendar clock; segment and region filters are refused."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from cxdash.aggregates.kpis import AggregateReader
from cxdash.aggregates.store import AggregateMeta, AggregateSet
from cxdash.metrics.compare import ComparedPeriods, PeriodResult
from cxdash.metrics.kpis import KpiOptions, Window
from cxdash.metrics.scope import Scope
from cxdash.periods import DataSpan, Period
from cxdash.views.overview import OverviewData, kpi_cards, trend_series


@dataclass(frozen=True, slots=True)
class AggregateOverview:
    """The Overview read from the aggregates, the trend's annotations, and what the set was built from."""

    data: OverviewData
    annotations: pl.DataFrame
    meta: AggregateMeta


def overview_periods(period: Period, trend_periods: Sequence[Period]) -> list[Period]:
    """The period, the one before, the same one last year and the trend's, each once."""
    every = [period, period.previous(), period.same_last_year(), *trend_periods]
    return list({p.label: p for p in every}.values())


def overview_windows(periods: Sequence[Period], *, tz: str, data_as_of: datetime) -> list[Window]:
    return [Window.of(p, tz=tz, data_as_of=data_as_of) for p in periods]


def overview_from_aggregates(
    aggregates: AggregateSet,
    period: Period,
    trend_periods: Sequence[Period],
    *,
    span: DataSpan,
    tz: str,
    scope: Scope,
    options: KpiOptions,
    targets: dict[str, float],
) -> OverviewData:
    """Cards (with previous period, last year and targets) and trends of one team/channel scope, as
    views.overview.overview makes them from the raw rows (compare_periods' rules)."""
    periods = overview_periods(period, trend_periods)
    windows = overview_windows(periods, tz=tz, data_as_of=span.data_as_of)
    results = {
        p.label: PeriodResult(period=p, window=w, kpis=AggregateReader(aggregates, w, scope, options).kpis())
        for p, w in zip(periods, windows, strict=True)
    }

    def with_data(p: Period) -> PeriodResult | None:
        return results[p.label] if p.end(tz) > span.first else None

    compared = ComparedPeriods(
        current=results[period.label],
        previous=with_data(period.previous()),
        last_year=with_data(period.same_last_year()),
        extra={p.label: results[p.label] for p in trend_periods},
    )
    current = compared.current
    return OverviewData(
        cards=kpi_cards(compared, targets, ticket_filtered=scope.filters_tickets),
        series=trend_series([compared.extra[p.label] for p in trend_periods]),
        current=current,
        has_data=current.kpis["tickets"].n > 0 or current.kpis["revenue"].n > 0,
    )
