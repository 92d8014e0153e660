"""The headline KPIs of a period and scope with their previous period, ready for JSON or a table."""

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from cxdash.errors import InputError
from cxdash.load import read_data_span, read_tables
from cxdash.metrics.kpis import HEADLINE_KPIS, KPI_COLUMNS, KpiFrames, KpiOptions, Window, headline_kpis
from cxdash.metrics.scope import Scope, scoped
from cxdash.periods import Period, PeriodKind, local_date, periods_between

EVERYTHING = Scope()
DEFAULT_OPTIONS = KpiOptions()


@dataclass(frozen=True, slots=True)
class DataSpan:
    """From the earliest ticket or order to data_as_of (the latest timestamp in the data)."""

    first: datetime
    data_as_of: datetime


def read_span(url: str) -> DataSpan:
    first, last = read_data_span(url)
    if first is None or last is None:
        raise InputError(
            "The database has no tickets or orders yet. Import data or run `python -m cxdash demo`."
        )
    return DataSpan(first=first, data_as_of=last)


def read_kpi_frames(url: str) -> KpiFrames:
    """The columns the headline KPIs need, read once."""
    return KpiFrames(**{table: frame.lazy() for table, frame in read_tables(url, KPI_COLUMNS).items()})


def periods_with_data(kind: PeriodKind, span: DataSpan, tz: str) -> list[Period]:
    """Every period of `kind` that overlaps the data."""
    return periods_between(kind, local_date(span.first, tz), local_date(span.data_as_of, tz))


def check_period(period: Period, span: DataSpan, tz: str) -> None:
    """InputError unless the period overlaps the data."""
    if period.end(tz) <= span.first or period.start(tz) > span.data_as_of:
        known = periods_with_data(period.kind, span, tz)
        raise InputError(f"No data in {period.label}: the data covers {known[0].label} to {known[-1].label}.")


def check_scope(scope: Scope, teams: pl.DataFrame) -> None:
    """InputError for a team that does not exist."""
    unknown = sorted(set(scope.teams) - set(teams["team_id"].to_list()))
    if unknown:
        raise InputError(
            f"Unknown team {', '.join(unknown)}. Teams: {', '.join(sorted(teams['team_id'].to_list()))}."
        )


def kpi_report(
    frames: KpiFrames,
    period: Period,
    *,
    span: DataSpan,
    tz: str,
    scope: Scope = EVERYTHING,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> dict:
    """JSON-ready report: every headline KPI with value, N, previous value and its definition."""
    in_scope = scoped(frames, scope)
    window = Window.of(period, tz=tz, data_as_of=span.data_as_of)
    current = headline_kpis(in_scope, window, options)
    previous_period = period.previous()
    has_previous = previous_period.end(tz) > span.first
    previous = (
        headline_kpis(in_scope, Window.of(previous_period, tz=tz, data_as_of=span.data_as_of), options)
        if has_previous
        else {}
    )
    return {
        "period": period.label,
        "previous_period": previous_period.label,
        "as_of": window.as_of.isoformat(),
        "data_as_of": span.data_as_of.isoformat(),
        "timezone": tz,
        "scope": scope.as_dict(),
        "options": {"csat_threshold": options.csat_threshold, "churn_window_days": options.churn_window_days},
        "kpis": {
            spec.name: {
                "value": current[spec.name].value,
                "n": current[spec.name].n,
                "previous": previous[spec.name].value if has_previous else None,
                "previous_n": previous[spec.name].n if has_previous else 0,
                "unit": spec.unit,
                "definition": (spec.compute.__doc__ or "").strip(),
            }
            for spec in HEADLINE_KPIS
        },
    }


def format_table(report: dict) -> str:
    """A plain-text table of one report."""
    scope = ", ".join(f"{k}={'/'.join(v)}" for k, v in report["scope"].items() if v) or "all"
    lines = [
        f"{report['period']}  (as of {report['as_of']}, scope: {scope})",
        f"{'KPI':<30}{'value':>16}{'N':>10}{'previous':>16}{'prev N':>10}  unit",
    ]
    for name, kpi in report["kpis"].items():
        lines.append(
            f"{name:<30}{_cell(kpi['value']):>16}{kpi['n']:>10}{_cell(kpi['previous']):>16}"
            f"{kpi['previous_n']:>10}  {kpi['unit']}"
        )
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:,.4f}".rstrip("0").rstrip(".")
