"""Cached reads at the I/O boundary: tables once per process, small results per filter set.

Tables are held in `st.cache_resource` (no copy per rerun), keyed by the database URL and a data
version that changes when the data does. Results go through `st.cache_data`, bounded, with the
scope and every option in the key.
"""

from dataclasses import dataclass

import polars as pl
import streamlit as st

from cxdash.db.engine import check_schema, make_engine, sqlite_path
from cxdash.errors import DatabaseError
from cxdash.kpi_report import DataSpan, periods_with_data, read_span
from cxdash.load import read_business_version
from cxdash.metrics.kpis import KPI_COLUMNS, KpiFrames, KpiOptions
from cxdash.metrics.scope import Scope, scoped
from cxdash.overview import (
    KpiCard,
    PeriodResult,
    data_quality,
    kpi_cards,
    overview_results,
    resolve_targets,
)
from cxdash.periods import Period, PeriodKind
from cxdash.snapshot import read_tables_snapshot

REFERENCE_TABLES = {
    "teams": ["team_id", "name"],
    "annotations": ["on_date", "label"],
    "kpi_targets": ["metric", "team_id", "period", "target"],
}


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def data_version(url: str) -> str:
    """Changes whenever the business data does (not on the app's own session and audit writes)."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise DatabaseError(f"{path} does not exist. Create it with `python -m cxdash demo`.")
    return read_business_version(url)


@dataclass(frozen=True, slots=True)
class Dataset:
    """Everything the pages read, loaded once per data version."""

    frames: KpiFrames
    span: DataSpan
    reference: dict[str, pl.DataFrame]
    regions: tuple[str, ...]


@st.cache_resource(max_entries=2, show_spinner=False)
def dataset(url: str, version: str) -> Dataset:
    """The KPI tables and reference tables, read-only, shared by every session of this process."""
    check_schema(make_engine(url))
    everything = read_tables_snapshot(url, {**KPI_COLUMNS, **REFERENCE_TABLES}, version=version)
    tables = {table: everything[table] for table in KPI_COLUMNS}
    reference = {table: everything[table] for table in REFERENCE_TABLES}
    regions = tuple(sorted(tables["customers"]["region"].cast(pl.String).drop_nulls().unique().to_list()))
    return Dataset(
        frames=KpiFrames(**{name: frame.lazy() for name, frame in tables.items()}),
        span=read_span(url),
        reference=reference,
        regions=regions,
    )


def available_periods(url: str, kind: PeriodKind, tz: str) -> list[Period]:
    data = dataset(url, data_version(url))
    return periods_with_data(kind, data.span, tz)


@dataclass(frozen=True, slots=True)
class OverviewData:
    cards: list[KpiCard]
    series: pl.DataFrame  # period, period_start, kpi, value, n
    current: PeriodResult
    has_data: bool
    quality: dict[str, int]


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def overview_data(
    url: str, version: str, period: Period, trend_kind: PeriodKind, scope: Scope, options: KpiOptions, tz: str
) -> OverviewData:
    """Cards (with previous period and last year) and the trend series of one period and scope."""
    data = dataset(url, version)
    frames = scoped(data.frames, scope)
    trend_periods = periods_with_data(trend_kind, data.span, tz)[-8 if trend_kind == "quarter" else -24 :]
    results = overview_results(
        frames, period, trend_periods, tz=tz, data_first=data.span.first, data_as_of=data.span.data_as_of,
        options=options,
    )  # fmt: skip
    current = results.current
    targets = resolve_targets(data.reference["kpi_targets"], period_label=period.label, teams=scope.teams)
    cards = kpi_cards(current, results.previous, results.last_year, targets)
    series = results.series
    has_data = current.kpis["tickets"].n > 0 or current.kpis["revenue"].n > 0
    return OverviewData(cards, series, current, has_data, data_quality(frames, current.window))
