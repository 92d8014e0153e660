"""Team performance (PRODUCT.md view 5): scorecards per team and agent, the fair CSAT comparison, SLA
attainment over time, backlog ageing, tickets about to breach, the weekday × hour workload and the
SLA-target what-if. LazyFrames in and out; the caller collects.

Every figure is built from the KPI blocks of `kpis` (window, clock, SLA outcome), so a team's scorecard
equals the headline KPIs under that team's filter and the groups add up to the company (tested).
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Final, Literal

import polars as pl

from cxdash.domain import PRIORITIES
from cxdash.load import Frames, polars_dtype
from cxdash.metrics.kpis import (
    HOUR_US,
    KpiOptions,
    Window,
    elapsed_minutes_expr,
    in_window,
    sla_minutes_expr,
    with_sla_outcome,
)
from cxdash.metrics.satisfaction import period_label_expr
from cxdash.periods import PeriodKind

Z95: Final = 1.959964  # the z of cxdash.stats.wilson_interval
MIN_RESPONSES: Final = 30  # METRICS.md "Fair comparison": fewer responses are flagged, not ranked
# The case mix of the fair comparison: a response is expected to score like its cell does company-wide.
CASE_MIX: Final = ("category", "channel", "priority")
# SLA target name -> (the timestamp that meets it, the policy column of its target in minutes).
SLA_TARGETS: Final = {
    "first_response": ("first_response_at", "first_response_target_min"),
    "resolution": ("resolved_at", "resolution_target_min"),
}
# Scorecard figure -> the column holding the N behind it.
SCORECARD_N: Final = {
    "tickets": "tickets",
    "resolved": "tickets",
    "frt_median_min": "frt_n",
    "frt_p90_min": "frt_n",
    "resolution_median_h": "resolved",
    "resolution_p90_h": "resolved",
    "sla_first_response_pct": "sla_first_response_n",
    "sla_resolution_pct": "sla_resolution_n",
    "csat_pct": "csat_n",
    "reopen_rate_pct": "resolved",
    "one_touch_pct": "resolved",
    "escalation_rate_pct": "tickets",
}
DEFAULT_BUCKETS_H: Final = (24, 72, 168)
# Outcomes of a ticket against one SLA target (METRICS.md): excluded = not done, still inside it.
OUTCOMES: Final = ("met", "breached", "excluded")
FAR_FUTURE: Final = datetime(9999, 12, 31, tzinfo=UTC)


def pct_expr(hits: pl.Expr, n: pl.Expr) -> pl.Expr:
    """100 × hits / n; null when n = 0."""
    return pl.when(n > 0).then(100 * hits / n)


def count_expr(flag: str) -> pl.Expr:
    """Rows where boolean column `flag` is true (nulls ignored), as Int64 named `flag`."""
    return pl.col(flag).sum().cast(pl.Int64).alias(flag)


def wilson_exprs(hits: pl.Expr, n: pl.Expr, *, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """95% Wilson score interval of hits / n in % (low, high), vectorised `cxdash.stats.wilson_interval`;
    null for n = 0."""
    p = hits / n
    shrink = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / shrink
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt() / shrink
    return (
        pl.when(n > 0).then(100 * (centre - half).clip(0, 1)),
        pl.when(n > 0).then(100 * (centre + half).clip(0, 1)),
    )


def _created(frames: Frames, window: Window) -> pl.LazyFrame:
    return frames.tickets.filter(in_window("created_at", window))


def _csat_responses(frames: Frames, window: Window, *, how: Literal["left", "inner"]) -> pl.LazyFrame:
    """csat responses with a score in the period (the csat_pct KPI's rows) with their ticket's team,
    agent and case mix; `how="left"` keeps responses without a known ticket (null team and agent)."""
    tickets = frames.tickets.select("ticket_id", "team_id", "agent_id", *CASE_MIX)
    return frames.surveys.filter(
        (pl.col("kind") == "csat") & in_window("responded_at", window) & pl.col("score").is_not_null()
    ).join(tickets, on="ticket_id", how=how)


def _sla_rows(
    frames: Frames, tickets: pl.LazyFrame, window: Window, options: KpiOptions, keys: Sequence[str]
) -> list[pl.LazyFrame]:
    """Per SLA target, `tickets` that have a policy: `keys`, `sla_<target>_met` and `sla_<target>_n`
    (counted: met or breached)."""
    return [
        with_sla_outcome(frames, tickets, window, options, done_at, target).select(
            *keys, pl.col("sla_met").alias(f"sla_{name}_met"), pl.col("sla_counted").alias(f"sla_{name}_n")
        )
        for name, (done_at, target) in SLA_TARGETS.items()
    ]


def scorecards(
    frames: Frames, window: Window, options: KpiOptions, *, by: Literal["team_id", "agent_id"]
) -> pl.LazyFrame:
    """Per team or agent (`by`): the KPIs of METRICS.md "Team performance" with their N (SCORECARD_N).

    Columns: `by`, tickets, resolved, frt_median_min, frt_p90_min, frt_n, resolution_median_h,
    resolution_p90_h, sla_first_response_met / _n / _pct, sla_resolution_met / _n / _pct, csat_hits,
    csat_n, csat_pct, reopened, reopen_rate_pct, one_touch, one_touch_pct, escalated,
    escalation_rate_pct. A group is any team or agent with a ticket created or a csat response in the
    period (tickets 0 when it only has responses); tickets without one (and responses without a known
    ticket) form the null group, so the counts add up to the company KPIs. Ratios, medians and
    percentiles are null when their N is 0; no rows in, no rows out.
    """
    clock = options.clock
    created = _created(frames, window)
    resolved = pl.col("resolved_at").is_not_null()
    # One long frame (tickets, SLA outcomes, responses) aggregated once: each part fills its own
    # columns and leaves the others null, which the aggregates skip.
    tickets = created.select(
        by,
        pl.lit(True).alias("tickets"),
        resolved.alias("resolved"),
        elapsed_minutes_expr(frames, clock, "created_at", "first_response_at").alias("frt_min"),
        (elapsed_minutes_expr(frames, clock, "created_at", "resolved_at") / 60).alias("resolution_h"),
        (resolved & (pl.col("reopen_count") > 0)).alias("reopened"),
        (resolved & (pl.col("agent_replies") <= 1)).alias("one_touch"),
        "escalated",
    )
    csat = _csat_responses(frames, window, how="left").select(
        by,
        (pl.col("score") >= options.csat_threshold).alias("csat_hits"),
        pl.lit(True).alias("csat_n"),
    )
    parts = [tickets, *_sla_rows(frames, created, window, options, [by]), csat]
    frt, resolution_h = pl.col("frt_min"), pl.col("resolution_h")
    return (
        pl.concat(parts, how="diagonal_relaxed")
        .group_by(by)
        .agg(
            count_expr("tickets"),
            count_expr("resolved"),
            frt.median().alias("frt_median_min"),
            frt.quantile(0.9, interpolation="linear").alias("frt_p90_min"),
            frt.count().cast(pl.Int64).alias("frt_n"),
            resolution_h.median().alias("resolution_median_h"),
            resolution_h.quantile(0.9, interpolation="linear").alias("resolution_p90_h"),
            *(count_expr(f"sla_{name}_{part}") for name in SLA_TARGETS for part in ("met", "n")),
            count_expr("csat_hits"),
            count_expr("csat_n"),
            count_expr("reopened"),
            count_expr("one_touch"),
            count_expr("escalated"),
        )
        .with_columns(
            *(
                pct_expr(pl.col(f"sla_{name}_met"), pl.col(f"sla_{name}_n")).alias(f"sla_{name}_pct")
                for name in SLA_TARGETS
            ),
            pct_expr(pl.col("csat_hits"), pl.col("csat_n")).alias("csat_pct"),
            pct_expr(pl.col("reopened"), pl.col("resolved")).alias("reopen_rate_pct"),
            pct_expr(pl.col("one_touch"), pl.col("resolved")).alias("one_touch_pct"),
            pct_expr(pl.col("escalated"), pl.col("tickets")).alias("escalation_rate_pct"),
        )
        .select(
            by, "tickets", "resolved", "frt_median_min", "frt_p90_min", "frt_n", "resolution_median_h",
            "resolution_p90_h", "sla_first_response_met", "sla_first_response_n", "sla_first_response_pct",
            "sla_resolution_met", "sla_resolution_n", "sla_resolution_pct", "csat_hits", "csat_n",
            "csat_pct", "reopened", "reopen_rate_pct", "one_touch", "one_touch_pct", "escalated",
            "escalation_rate_pct",
        )
        .sort(by, nulls_last=True)
    )  # fmt: skip


def fair_csat(
    frames: Frames, window: Window, options: KpiOptions, *, min_responses: int = MIN_RESPONSES
) -> pl.LazyFrame:
    """Per agent, actual csat against the csat expected from the agent's case mix (METRICS.md "Fair
    comparison"), with 95% Wilson intervals, small-sample flags and a rank.

    Rows are the csat responses of the period about a known ticket. expected_pct = mean over the agent's
    responses of the satisfied share of all responses in the same (category, channel, priority) cell,
    responses of unassigned tickets included (the company: all of `frames`, the scope's when scoped).
    Columns: agent_id, n, hits, csat_pct, expected_pct, diff_pct (percentage points), low, high (Wilson
    interval of csat_pct), diff_low, diff_high (the interval minus expected_pct), small (n <
    min_responses), significant_below (diff_high < 0), significant_above (diff_low > 0), rank (1 = best
    diff_pct among agents that are not small, ties share the lower rank; null when small). Sorted by
    rank, then agent; no responses, no rows.
    """
    low, high = wilson_exprs(pl.col("hits"), pl.col("n"))
    # Small agents rank on a null difference: they take no rank and shift no one else's.
    ranked = pl.when(~pl.col("small")).then(pl.col("diff_pct"))
    return (
        _csat_responses(frames, window, how="inner")
        .with_columns((pl.col("score") >= options.csat_threshold).alias("satisfied"))
        .with_columns(pl.col("satisfied").mean().over(CASE_MIX).alias("cell_rate"))
        .filter(pl.col("agent_id").is_not_null())
        .group_by("agent_id")
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            count_expr("satisfied").alias("hits"),
            (100 * pl.col("cell_rate").mean()).alias("expected_pct"),
        )
        .with_columns(
            (100 * pl.col("hits") / pl.col("n")).alias("csat_pct"), low.alias("low"), high.alias("high")
        )
        .with_columns(
            (pl.col("csat_pct") - pl.col("expected_pct")).alias("diff_pct"),
            (pl.col("low") - pl.col("expected_pct")).alias("diff_low"),
            (pl.col("high") - pl.col("expected_pct")).alias("diff_high"),
            (pl.col("n") < min_responses).alias("small"),
        )
        .with_columns(
            (pl.col("diff_high") < 0).alias("significant_below"),
            (pl.col("diff_low") > 0).alias("significant_above"),
            ranked.rank("min", descending=True).cast(pl.Int64).alias("rank"),
        )
        .select(
            "agent_id", "n", "hits", "csat_pct", "expected_pct", "diff_pct", "low", "high", "diff_low",
            "diff_high", "small", "significant_below", "significant_above", "rank",
        )
        .sort("rank", "agent_id", nulls_last=True)
    )  # fmt: skip


def period_expr(column: str, kind: PeriodKind, tz: str) -> pl.Expr:
    """The label of the calendar period an instant falls in, in the display zone: `2026Q3`, `2026-07`
    or the ISO week `2026-W27`; ValueError for custom periods."""
    if kind == "week":
        local = pl.col(column).dt.convert_time_zone(tz)
        week = local.dt.week().cast(pl.String).str.zfill(2)
        return local.dt.iso_year().cast(pl.String) + pl.lit("-W") + week
    return period_label_expr(column, kind, tz)


def sla_trend(
    frames: Frames,
    start: datetime,
    end: datetime,
    options: KpiOptions,
    *,
    data_as_of: datetime,
    period_kind: PeriodKind,
    tz: str,
    by: Sequence[str] = ("team_id", "priority"),
) -> pl.LazyFrame:
    """First-response and resolution SLA attainment of the tickets created in [start, end) per period
    (by created_at in `tz`) and group, as the sla KPIs define it (tickets still inside a target at
    `data_as_of` are left out).

    Columns: period, *by, sla_first_response_met / _n / _pct, sla_resolution_met / _n / _pct. A period
    and group with tickets under a policy has a row (pct null when none is counted yet); no rows else.
    """
    window = Window(start=start, end=end, as_of=min(end, data_as_of), data_as_of=data_as_of)
    created = _created(frames, window).with_columns(
        period_expr("created_at", period_kind, tz).alias("period")
    )
    keys = ["period", *by]
    return (
        pl.concat(_sla_rows(frames, created, window, options, keys), how="diagonal_relaxed")
        .group_by(keys)
        .agg(count_expr(f"sla_{name}_{part}") for name in SLA_TARGETS for part in ("met", "n"))
        .with_columns(
            pct_expr(pl.col(f"sla_{name}_met"), pl.col(f"sla_{name}_n")).alias(f"sla_{name}_pct")
            for name in SLA_TARGETS
        )
        .select(
            *keys,
            *(f"sla_{name}_{part}" for name in SLA_TARGETS for part in ("met", "n", "pct")),
        )
        .sort(keys, nulls_last=True)
    )


def _hours_code(hours: float) -> str:
    return f"{hours // 24:g}d" if hours % 24 == 0 else f"{hours:g}h"


def bucket_labels(buckets_h: Sequence[float]) -> tuple[str, ...]:
    """Codes of the age buckets cut at `buckets_h` (hours, increasing): (24, 72, 168) gives lt_1d,
    d1_3, d3_7, gt_7d; bounds that are not whole days read in hours (lt_12h, h12_24, …)."""
    if not buckets_h or any(b <= 0 for b in buckets_h) or list(buckets_h) != sorted(set(buckets_h)):
        raise ValueError(f"age buckets must be positive and increasing, not {tuple(buckets_h)}")
    middle = []
    for lower, upper in pairwise(buckets_h):
        if lower % 24 == 0 and upper % 24 == 0:
            middle.append(f"d{lower // 24:g}_{upper // 24:g}")
        else:
            middle.append(f"h{lower:g}_{upper:g}")
    return (f"lt_{_hours_code(buckets_h[0])}", *middle, f"gt_{_hours_code(buckets_h[-1])}")


def age_bucket_expr(age_h: pl.Expr, buckets_h: Sequence[float]) -> pl.Expr:
    """The age bucket (pl.Enum of `bucket_labels`) of an age in hours; a bound belongs to the bucket
    above it (exactly 24 h is d1_3); null for a null age."""
    labels = bucket_labels(buckets_h)
    bucket = pl.when(age_h < buckets_h[0]).then(pl.lit(labels[0]))
    for bound, label in zip(buckets_h[1:], labels[1:-1], strict=True):
        bucket = bucket.when(age_h < bound).then(pl.lit(label))
    return bucket.when(age_h.is_not_null()).then(pl.lit(labels[-1])).cast(pl.Enum(labels))


def backlog_at(
    frames: Frames, instants: Sequence[datetime], *, buckets_h: Sequence[float] = DEFAULT_BUCKETS_H
) -> pl.LazyFrame:
    """Tickets open at each instant (METRICS.md backlog_open: created ≤ t, neither resolved nor closed by
    t) per team and age bucket (age = t − created_at, `bucket_labels`).

    Columns: instant (UTC), team_id, bucket (pl.Enum, youngest first), tickets. Every instant × team
    seen open at any instant (null = no team) × bucket has a row, 0 where none is open; no instants or
    no open ticket at any of them, no rows.
    """
    moments = pl.LazyFrame({"instant": list(instants)}, schema={"instant": pl.Datetime("us", "UTC")}).unique()
    # Open at t ⇔ created_at ≤ t < open_until (the earlier of resolution and closing): two inequalities,
    # which Polars answers with a range join instead of tickets × instants.
    open_until = pl.min_horizontal("resolved_at", "closed_at").fill_null(FAR_FUTURE)
    age_h = (pl.col("instant") - pl.col("created_at")).dt.total_microseconds() / HOUR_US
    counts = (
        frames.tickets.select("team_id", "created_at", open_until.alias("open_until"))
        .join_where(
            moments, pl.col("created_at") <= pl.col("instant"), pl.col("open_until") > pl.col("instant")
        )
        .group_by("instant", "team_id", age_bucket_expr(age_h, buckets_h).alias("bucket"))
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
    )
    buckets = pl.LazyFrame(
        {"bucket": bucket_labels(buckets_h)}, schema={"bucket": pl.Enum(bucket_labels(buckets_h))}
    )
    grid = moments.join(counts.select("team_id").unique(), how="cross").join(buckets, how="cross")
    keys = ["instant", "team_id", "bucket"]
    return (
        grid.join(counts, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("tickets").fill_null(0))
        .sort(keys, nulls_last=True)
    )


def _open_at(frames: Frames, as_of: datetime) -> pl.LazyFrame:
    """Tickets open at `as_of` (the backlog_open rule)."""
    return frames.tickets.filter(
        (pl.col("created_at") <= as_of)
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > as_of))
        & (pl.col("closed_at").is_null() | (pl.col("closed_at") > as_of))
    )


def breaching_now(
    frames: Frames, as_of: datetime, options: KpiOptions, *, within_min: float = 60, limit: int = 50
) -> pl.LazyFrame:
    """Targets of tickets open at `as_of` that are breached or will be within `within_min` minutes: the
    first response while not responded by `as_of`, the resolution while open.

    Columns: ticket_id, team_id, agent_id, priority, created_at, target ("first_response" /
    "resolution"), minutes_left (target − minutes since created_at on each policy's clock, as the SLA
    KPIs count; negative = breached, the most overdue first), at most `limit` rows. Tickets of a
    priority without a policy are never listed; nothing open, no rows.
    """
    not_responded = pl.col("first_response_at").is_null() | (pl.col("first_response_at") > as_of)
    columns = ("ticket_id", "team_id", "agent_id", "priority", "created_at")
    aged = (
        _open_at(frames, as_of)
        .join(frames.sla_policies, on="priority", how="inner")
        .with_columns(sla_minutes_expr(frames, options.clock, "created_at", pl.lit(as_of)).alias("age_min"))
    )
    targets = [
        aged.filter(not_responded).select(
            *columns,
            pl.lit("first_response").alias("target"),
            (pl.col("first_response_target_min") - pl.col("age_min")).alias("minutes_left"),
        ),
        aged.select(
            *columns,
            pl.lit("resolution").alias("target"),
            (pl.col("resolution_target_min") - pl.col("age_min")).alias("minutes_left"),
        ),
    ]
    return (
        pl.concat(targets)
        .filter(pl.col("minutes_left") <= within_min)
        .sort("minutes_left", "ticket_id", "target")
        .head(limit)
    )


def workload_heatmap(frames: Frames, start: datetime, end: datetime, *, tz: str) -> pl.LazyFrame:
    """Tickets created (arrivals) and resolved (handled) in [start, end) per local weekday × hour.

    Columns: weekday (1 = Monday … 7 = Sunday in `tz`), hour (0–23), arrivals, handled; all 168 cells,
    0 where none.
    """

    def per_cell(column: str, name: str) -> pl.LazyFrame:
        local = pl.col(column).dt.convert_time_zone(tz)
        return (
            frames.tickets.filter((pl.col(column) >= start) & (pl.col(column) < end))
            .group_by(local.dt.weekday().alias("weekday"), local.dt.hour().alias("hour"))
            .agg(pl.len().cast(pl.Int64).alias(name))
        )

    cells = pl.LazyFrame({"weekday": range(1, 8)}, schema={"weekday": pl.Int8}).join(
        pl.LazyFrame({"hour": range(24)}, schema={"hour": pl.Int8}), how="cross"
    )
    return (
        cells.join(per_cell("created_at", "arrivals"), on=["weekday", "hour"], how="left")
        .join(per_cell("resolved_at", "handled"), on=["weekday", "hour"], how="left")
        .with_columns(pl.col("arrivals", "handled").fill_null(0))
        .sort("weekday", "hour")
    )


def _proposed_policies(frames: Frames, targets: Mapping[str, tuple[float, float]]) -> pl.LazyFrame:
    """The SLA policies with `proposed_<target>_min` beside the current targets: a priority missing from
    `targets` keeps its current targets; one only in `targets` has null current targets."""
    # The page offers the priorities of the schema only: another key is a programming error.
    if unknown := sorted(set(targets) - set(PRIORITIES)):
        raise ValueError(f"unknown priorities {unknown} in the proposed SLA targets; use {PRIORITIES}")
    proposed = pl.LazyFrame(
        {
            "priority": list(targets),
            "proposed_first_response_min": [first for first, _ in targets.values()],
            "proposed_resolution_min": [resolution for _, resolution in targets.values()],
        },
        schema={
            "priority": polars_dtype("sla_policies", "priority"),
            "proposed_first_response_min": pl.Float64,
            "proposed_resolution_min": pl.Float64,
        },
    )
    return frames.sla_policies.join(proposed, on="priority", how="full", coalesce=True).with_columns(
        pl.col(f"proposed_{name}_min").fill_null(pl.col(target).cast(pl.Float64))
        for name, (_, target) in SLA_TARGETS.items()
    )


def _outcome_expr(met: pl.Expr, counted: pl.Expr) -> pl.Expr:
    """met / breached / excluded from the SLA flags (a null flag, no target, is excluded)."""
    return (
        pl.when(met).then(pl.lit("met")).when(counted).then(pl.lit("breached")).otherwise(pl.lit("excluded"))
    )


def replay_rows(
    frames: Frames, window: Window, options: KpiOptions, *, targets: Mapping[str, tuple[float, float]]
) -> pl.LazyFrame:
    """Each ticket created in the period against each SLA target, now and under the proposed `targets`
    (priority → (first-response, resolution) minutes; priorities not given keep their targets).

    Columns: ticket_id, team_id, agent_id, priority, channel, created_at, target, counted_min (minutes to
    the response / resolution, or the age at data_as_of while not done, on the SLA clock),
    current_target_min, proposed_target_min, current, proposed (OUTCOMES). Tickets of a priority with
    neither a policy nor a proposal have no rows. ValueError for an unknown priority.
    """
    replayed = frames.with_tables(sla_policies=_proposed_policies(frames, targets))
    created = _created(frames, window)
    parts = []
    for name, (done_at, target) in SLA_TARGETS.items():
        # The current outcome is the KPI's own (with_sla_outcome); the proposal applies the same rule
        # to the same counted minutes: met = done within it (≤), breached = over it, else excluded.
        over = pl.col("counted_min") > pl.col(f"proposed_{name}_min")
        proposed_met = pl.col(done_at).is_not_null() & ~over
        parts.append(
            with_sla_outcome(replayed, created, window, options, done_at, target).select(
                "ticket_id",
                "team_id",
                "agent_id",
                "priority",
                "channel",
                "created_at",
                pl.lit(name).alias("target"),
                "counted_min",
                pl.col(target).cast(pl.Float64).alias("current_target_min"),
                pl.col(f"proposed_{name}_min").alias("proposed_target_min"),
                _outcome_expr(pl.col("sla_met"), pl.col("sla_counted")).alias("current"),
                _outcome_expr(proposed_met, proposed_met | over).alias("proposed"),
            )
        )
    return pl.concat(parts)


def sla_replay(
    frames: Frames,
    window: Window,
    options: KpiOptions,
    *,
    targets: Mapping[str, tuple[float, float]],
    by: Sequence[str] = ("team_id",),
) -> pl.LazyFrame:
    """The SLA-target what-if: attainment of the period's tickets under the current policies and under
    the proposed `targets` (see `replay_rows`), per group and target.

    Columns: *by, target, current_met, current_n, current_pct, proposed_met, proposed_n, proposed_pct,
    new_breaches (met now, breached under the proposal), new_meets (breached now, met under it). N counts
    met + breached; a pct is null when N is 0. No tickets under a policy, no rows.
    """
    current, proposed = pl.col("current"), pl.col("proposed")
    keys = [*by, "target"]
    return (
        replay_rows(frames, window, options, targets=targets)
        .group_by(keys)
        .agg(
            (current == "met").sum().cast(pl.Int64).alias("current_met"),
            (current != "excluded").sum().cast(pl.Int64).alias("current_n"),
            (proposed == "met").sum().cast(pl.Int64).alias("proposed_met"),
            (proposed != "excluded").sum().cast(pl.Int64).alias("proposed_n"),
            ((current == "met") & (proposed == "breached")).sum().cast(pl.Int64).alias("new_breaches"),
            ((current == "breached") & (proposed == "met")).sum().cast(pl.Int64).alias("new_meets"),
        )
        .with_columns(
            pct_expr(pl.col("current_met"), pl.col("current_n")).alias("current_pct"),
            pct_expr(pl.col("proposed_met"), pl.col("proposed_n")).alias("proposed_pct"),
        )
        .select(
            *keys, "current_met", "current_n", "current_pct", "proposed_met", "proposed_n", "proposed_pct",
            "new_breaches", "new_meets",
        )
        .sort(keys, nulls_last=True)
    )  # fmt: skip


def replay_breaches(
    frames: Frames,
    window: Window,
    options: KpiOptions,
    *,
    targets: Mapping[str, tuple[float, float]],
    limit: int = 100,
) -> pl.LazyFrame:
    """The tickets whose outcome the proposed `targets` change (columns of `replay_rows`), new breaches
    first, then new meets, then the rest, oldest first; at most `limit` rows, none when nothing changes."""
    change = (
        pl.when((pl.col("current") == "met") & (pl.col("proposed") == "breached"))
        .then(pl.lit(0, pl.Int8))
        .when((pl.col("current") == "breached") & (pl.col("proposed") == "met"))
        .then(pl.lit(1, pl.Int8))
        .otherwise(pl.lit(2, pl.Int8))
    )
    return (
        replay_rows(frames, window, options, targets=targets)
        .filter(pl.col("current") != pl.col("proposed"))
        .sort(change, "target", "created_at", "ticket_id")
        .head(limit)
    )
