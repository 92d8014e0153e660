"""SMART goals as data: the goals of a period and scope with their baseline, current value and progress
(the Overview and the review deck), and the baseline an admin sees beside a proposed target.

A goal is measured on its own scope, the whole company or its one team, whatever other filters are
chosen: `frames` are the data the user may see without the chosen filters. When those frames hold only
some teams' tickets (a team lead's access, or frames already narrowed by a ticket filter), a company
goal is listed but not measured (`measured` false, values null): its figures would be those teams'.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.compare import compare_periods
from cxdash.metrics.goals import EVERY_PERIOD, goal_progress
from cxdash.metrics.kpis import HEADLINE_KPIS, KPI_BY_NAME, KpiOptions, KpiValue, Window, headline_kpis_many
from cxdash.metrics.scope import Scope, scoped
from cxdash.periods import DataSpan, Period, PeriodKind, local_date, period_containing, periods_with_data

GOAL_SCHEMA: Final = {
    "metric": pl.String,
    "team_id": pl.String,  # null: the whole company
    "team_name": pl.String,
    "period": pl.String,
    "running": pl.Boolean,  # the goal's period is still running: `current` is the value so far
    "baseline_period": pl.String,
    "baseline": pl.Float64,
    "baseline_n": pl.Int64,
    "current": pl.Float64,
    "n": pl.Int64,
    "target": pl.Float64,
    "gap": pl.Float64,
    "progress_pct": pl.Float64,
    "achieved": pl.Boolean,
    "unit": pl.String,
    "reason": pl.String,  # why `current` is null although there is data (a KPI reason code)
    "measured": pl.Boolean,  # false: the goal's scope is not within the data the user may see
}
KPI_ORDER: Final = {spec.name: i for i, spec in enumerate(HEADLINE_KPIS)}


def baseline_period(period: Period, *, span: DataSpan, tz: str) -> Period:
    """The period a goal starts from: the one before `period`, or the last complete period of its kind
    when that one is not over yet (a proposed period in the future)."""
    before = period.previous()
    if before.end(tz) <= span.data_as_of:
        return before
    return period_containing(period.kind, local_date(span.data_as_of, tz)).previous()


def applicable_goals(targets: pl.DataFrame, *, period_label: str, teams: Sequence[str]) -> pl.DataFrame:
    """The kpi_targets rows that are goals of the period for the chosen teams: the company's always, a
    team's when no team is chosen or it is among `teams`; one row per goal (the last of duplicates),
    the company's first, then by team and in HEADLINE_KPIS order. `*` rows are standing targets."""
    team_rows = pl.col("team_id").is_in(list(teams)) if teams else pl.lit(True)
    return (
        targets.filter(
            (pl.col("period") == period_label)
            & (pl.col("period") != EVERY_PERIOD)
            & pl.col("metric").is_in(list(KPI_BY_NAME))
            & (pl.col("team_id").is_null() | team_rows)
        )
        .unique(["metric", "team_id", "period"], keep="last", maintain_order=True)
        .with_columns(pl.col("metric").replace_strict(KPI_ORDER, return_dtype=pl.Int64).alias("kpi_order"))
        .sort(pl.col("team_id").is_not_null(), "team_id", "kpi_order")
        .drop("kpi_order")
    )


def _scope_of(team_id: str | None) -> Scope:
    return Scope() if team_id is None else Scope(teams=(team_id,))


def goal_rows(
    frames: Frames,
    period: Period,
    *,
    span: DataSpan,
    tz: str,
    scope: Scope,
    options: KpiOptions,
) -> pl.DataFrame:
    """GOAL_SCHEMA rows of the goals of `period` that apply to `scope` (see applicable_goals): baseline
    = the KPI in the period before (baseline_period), current = in the goal's period, both within the
    goal's own scope, with goal_progress's gap, progress and achievement. Empty when there are none
    (always for a custom period: goals are quarters, months or weeks). One computation per team."""
    goals = applicable_goals(frames.kpi_targets.collect(), period_label=period.label, teams=scope.teams)
    if goals.is_empty():
        return pl.DataFrame(schema=GOAL_SCHEMA)
    before = baseline_period(period, span=span, tz=tz)
    running = Window.of(period, tz=tz, data_as_of=span.data_as_of).running
    names = dict(frames.teams.select("team_id", "name").collect().iter_rows())
    measured: dict[str | None, tuple[dict[str, KpiValue], dict[str, KpiValue]]] = {}
    for (team_id,), team_goals in goals.group_by("team_id", maintain_order=True):
        if team_id is None and frames.ticket_filtered:
            continue  # these frames do not hold the whole company
        compared = compare_periods(
            scoped(frames, _scope_of(team_id)), period, span=span, tz=tz, options=options,
            extra_periods=[before], names=team_goals["metric"].to_list(),
        )  # fmt: skip
        # A baseline period before the data has no value (a count of nothing there is not 0).
        baseline = compared.extra[before.label].kpis if before.end(tz) > span.first else {}
        measured[team_id] = (baseline, compared.current.kpis)
    rows = []
    for goal in goals.iter_rows(named=True):
        spec = KPI_BY_NAME[goal["metric"]]
        then, now = measured.get(goal["team_id"], ({}, {}))
        baseline, current = then.get(spec.name), now.get(spec.name)
        progress = goal_progress(
            baseline.value if baseline else None,
            current.value if current else None,
            goal["target"],
            higher_is_better=spec.higher_is_better,
        )
        rows.append(
            {
                "metric": spec.name,
                "team_id": goal["team_id"],
                "team_name": names.get(goal["team_id"]) if goal["team_id"] is not None else None,
                "period": goal["period"],
                "running": running,
                "baseline_period": before.label,
                "baseline": baseline.value if baseline else None,
                "baseline_n": baseline.n if baseline else 0,
                "current": current.value if current else None,
                "n": current.n if current else 0,
                "target": goal["target"],
                **progress,
                "unit": spec.unit,
                "reason": current.reason if current else None,
                "measured": goal["team_id"] in measured,
            }
        )
    return pl.DataFrame(rows, schema=GOAL_SCHEMA)


@dataclass(frozen=True, slots=True)
class Baseline:
    """A KPI's value in the period a proposed goal starts from (the admin's goal form)."""

    metric: str
    team_id: str | None
    period: str  # the label of the period measured (baseline_period of the proposed one)
    value: float | None
    n: int
    unit: str
    reason: str | None = None  # why the value is null although there is data


def baseline_for(
    frames: Frames,
    metric: str,
    team_id: str | None,
    period: Period,
    *,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
) -> Baseline:
    """The KPI `metric` of the company (team_id None) or one team in the period before the proposed
    `period` (the last complete one when that is in the future); value null, n 0 before the data."""
    spec = KPI_BY_NAME[metric]
    before = baseline_period(period, span=span, tz=tz)
    if before.end(tz) <= span.first:
        return Baseline(metric=metric, team_id=team_id, period=before.label, value=None, n=0, unit=spec.unit)
    window = Window.of(before, tz=tz, data_as_of=span.data_as_of)
    [kpis] = headline_kpis_many(scoped(frames, _scope_of(team_id)), [window], options, names=[metric])
    value = kpis[metric]
    return Baseline(
        metric=metric,
        team_id=team_id,
        period=before.label,
        value=value.value,
        n=value.n,
        unit=spec.unit,
        reason=value.reason,
    )


GOAL_KINDS: Final[tuple[PeriodKind, ...]] = ("quarter", "month")
PERIODS_AHEAD: Final[dict[str, int]] = {"quarter": 4, "month": 6}


def goal_period_choices(
    kind: PeriodKind, span: DataSpan | None, tz: str, *, today: date
) -> tuple[list[Period], Period]:
    """The periods a goal may be set for, oldest first: those with data and the next few after them
    (PERIODS_AHEAD; from `today`'s period when there is no data yet); and the default, the first period
    after the last one with data."""
    known = [period_containing(kind, today)] if span is None else periods_with_data(kind, span, tz)
    upcoming = [period_containing(kind, known[-1].end_date)]
    while len(upcoming) < PERIODS_AHEAD[kind]:
        upcoming.append(period_containing(kind, upcoming[-1].end_date))
    return [*known, *upcoming], upcoming[0]
