"""The Team performance page's content as data (PRODUCT.md view 5): scorecards, the fair comparison,
SLA over time, backlog and what is about to breach, the workload heatmap and the SLA-target what-if."""

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.kpis import KpiOptions, Window, elapsed_minutes_expr
from cxdash.metrics.team import (
    backlog_at,
    breaching_now,
    fair_csat,
    period_expr,
    replay_breaches,
    scorecards,
    sla_replay,
    sla_trend,
    workload_heatmap,
)
from cxdash.periods import DataSpan, Period, PeriodKind


def _window(period: Period, span: DataSpan, tz: str) -> Window:
    return Window.of(period, tz=tz, data_as_of=span.data_as_of)


@dataclass(frozen=True, slots=True)
class Scorecards:
    teams: pl.DataFrame
    agents: pl.DataFrame  # with the agent's team and name
    fair: pl.DataFrame  # fair_csat per agent


def team_scorecards(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions
) -> Scorecards:
    """Per team and per agent, and the fair comparison of the agents' CSAT."""
    window = _window(period, span, tz)
    names = frames.agents.select(
        "agent_id", pl.col("name").alias("agent_name"), pl.col("team_id").alias("agent_team")
    )
    teams, agents, fair = pl.collect_all(
        [
            scorecards(frames, window, options, by="team_id"),
            scorecards(frames, window, options, by="agent_id").join(names, on="agent_id", how="left"),
            fair_csat(frames, window, options).join(names, on="agent_id", how="left"),
        ]
    )
    return Scorecards(teams=teams, agents=agents, fair=fair)


def sla_over_time(
    frames: Frames,
    periods: list[Period],
    *,
    kind: PeriodKind,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
    by: tuple[str, ...],
) -> pl.DataFrame:
    """First-response and resolution SLA per period and group (e.g. team, priority or channel)."""
    if not periods:
        return pl.DataFrame()
    first, last = _window(periods[0], span, tz), _window(periods[-1], span, tz)
    return sla_trend(
        frames, first.start, last.end, options, data_as_of=span.data_as_of, period_kind=kind, tz=tz, by=by
    ).collect()


@dataclass(frozen=True, slots=True)
class Backlog:
    at_ends: pl.DataFrame  # backlog_at at each period end and at as_of
    breaching: pl.DataFrame


def backlog_view(
    frames: Frames, periods: list[Period], *, span: DataSpan, tz: str, options: KpiOptions
) -> Backlog:
    """Backlog by age bucket at each period's end (as_of for the running one) and what breaches now."""
    instants = [_window(p, span, tz).as_of for p in periods]
    at_ends, breaching = pl.collect_all(
        [backlog_at(frames, instants), breaching_now(frames, span.data_as_of, options)]
    )
    return Backlog(at_ends=at_ends, breaching=breaching)


def workload(frames: Frames, period: Period, *, span: DataSpan, tz: str) -> pl.DataFrame:
    """Arrivals and tickets handled per weekday × hour of the period, in the display zone."""
    window = _window(period, span, tz)
    return workload_heatmap(frames, window.start, window.end, tz=tz).collect()


@dataclass(frozen=True, slots=True)
class Replay:
    by_team: pl.DataFrame
    by_channel: pl.DataFrame
    changed: pl.DataFrame


def replay(
    frames: Frames,
    period: Period,
    *,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
    targets: Mapping[str, tuple[float, float]],
) -> Replay:
    """The period's tickets replayed against proposed targets per priority: per team, per channel, and
    the tickets whose outcome changes."""
    window = _window(period, span, tz)
    by_team, by_channel, changed = pl.collect_all(
        [
            sla_replay(frames, window, options, targets=targets, by=("team_id",)),
            sla_replay(frames, window, options, targets=targets, by=("channel",)),
            replay_breaches(frames, window, options, targets=targets),
        ]
    )
    return Replay(by_team=by_team, by_channel=by_channel, changed=changed)


def frt_trend(
    frames: Frames,
    periods: list[Period],
    *,
    kind: PeriodKind,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
    by: str,
) -> pl.DataFrame:
    """Median first-response minutes (on the chosen clock) per period and group of the tickets created
    then: period, group, frt_median_min, n (the headline KPI's definition per group)."""
    if not periods:
        return pl.DataFrame(
            schema={"period": pl.String, "group": pl.String, "frt_median_min": pl.Float64, "n": pl.Int64}
        )
    first, last = _window(periods[0], span, tz), _window(periods[-1], span, tz)
    minutes = elapsed_minutes_expr(frames, options.clock, "created_at", "first_response_at")
    return (
        frames.tickets.filter(
            (pl.col("created_at") >= first.start)
            & (pl.col("created_at") < last.end)
            & pl.col("first_response_at").is_not_null()
        )
        .with_columns(minutes.alias("frt_min"))
        .group_by(
            period_expr("created_at", kind, tz).alias("period"), pl.col(by).cast(pl.String).alias("group")
        )
        .agg(pl.col("frt_min").median().alias("frt_median_min"), pl.len().cast(pl.Int64).alias("n"))
        .sort("period", "group")
        .collect()
    )
