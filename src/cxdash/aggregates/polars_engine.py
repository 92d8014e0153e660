"""The aggregates of `definitions` built in process with Polars, from the loaded frames."""

from datetime import datetime

import polars as pl

from cxdash.aggregates.definitions import (
    BACKLOG,
    CUSTOMER_DAYS,
    DURATION_EDGES_S,
    DURATION_MEASURES,
    DURATIONS,
    ORDERS,
    SIGNUPS,
    SURVEY_RESPONSES,
    SURVEY_SENDS,
    TICKETS,
    AggregateTable,
    conform,
)
from cxdash.load import Frames

_MICROS_PER_S = 1_000_000
_MICROS_PER_MIN = 60 * _MICROS_PER_S


def local_day_expr(instant: pl.Expr, tz: str) -> pl.Expr:
    """Local date of a UTC instant in `tz`."""
    return instant.dt.convert_time_zone(tz).dt.date()


def closing_day_expr(instant: pl.Expr, tz: str) -> pl.Expr:
    """Local date of the instant minus 1 µs: local midnight closes the day before."""
    return local_day_expr(instant - pl.duration(microseconds=1), tz)


def micros_expr(start: str, end: str | pl.Expr) -> pl.Expr:
    """Whole microseconds from `start` to `end`."""
    end = pl.col(end) if isinstance(end, str) else end
    return (end - pl.col(start)).dt.total_microseconds()


def duration_bin_expr(micros: pl.Expr) -> pl.Expr:
    """Number of edges at or below the duration: exact integer comparisons (binary search)."""
    edges = pl.Series([e * _MICROS_PER_S for e in DURATION_EDGES_S], dtype=pl.Int64)
    return pl.lit(edges).search_sorted(micros, side="right").cast(pl.Int64)


def _ticket_keys(tickets: pl.LazyFrame) -> pl.LazyFrame:
    return tickets.with_columns(pl.col("team_id", "channel", "priority").cast(pl.String))


def _sla_flags(done: str, target_min: str, data_as_of: datetime, prefix: str) -> list[pl.Expr]:
    """met = done within the target (≤); counted = met, done late, or not done and past the target at
    data_as_of (METRICS.md sla_*); no policy: neither."""
    target_us = pl.col(target_min).cast(pl.Int64) * _MICROS_PER_MIN
    elapsed = pl.when(pl.col(done).is_not_null()).then(micros_expr("created_at", done))
    age = micros_expr("created_at", pl.lit(data_as_of))
    met = pl.col(done).is_not_null() & (elapsed <= target_us)
    over = pl.coalesce(elapsed, age) > target_us
    return [
        met.fill_null(False).alias(f"{prefix}_sla_met"),
        (met | over).fill_null(False).alias(f"{prefix}_sla_counted"),
    ]


def tickets_daily(frames: Frames, *, tz: str, data_as_of: datetime) -> pl.LazyFrame:
    """agg_tickets."""
    policies = frames.sla_policies.with_columns(pl.col("priority").cast(pl.String))
    resolved = pl.col("resolved_at").is_not_null()
    return (
        _ticket_keys(frames.tickets)
        .join(policies, on="priority", how="left")
        .with_columns(
            *_sla_flags("first_response_at", "first_response_target_min", data_as_of, "frt"),
            *_sla_flags("resolved_at", "resolution_target_min", data_as_of, "resolution"),
        )
        .group_by(local_day_expr(pl.col("created_at"), tz).alias("day"), "team_id", "channel")
        .agg(
            pl.len().alias("created"),
            pl.col("is_complaint").sum().alias("complaints"),
            pl.col("escalated").sum().alias("escalated"),
            resolved.sum().alias("resolved"),
            (resolved & (pl.col("reopen_count") > 0)).sum().alias("reopened"),
            (resolved & (pl.col("agent_replies") <= 1)).sum().alias("one_touch"),
            pl.col("first_response_at").is_not_null().sum().alias("first_responded"),
            *(pl.col(f"{p}_sla_{k}").sum() for p in ("frt", "resolution") for k in ("met", "counted")),
        )
    )


def durations_daily(frames: Frames, *, tz: str) -> pl.LazyFrame:
    """agg_durations: one histogram per day created × team × channel × measure."""
    tickets = _ticket_keys(frames.tickets)
    per_measure = [
        tickets.filter(pl.col(end).is_not_null()).select(
            local_day_expr(pl.col("created_at"), tz).alias("day"),
            "team_id",
            "channel",
            pl.lit(measure).alias("measure"),
            duration_bin_expr(micros_expr("created_at", end)).alias("bin"),
        )
        for measure, end in DURATION_MEASURES.items()
    ]
    return pl.concat(per_measure).group_by(DURATIONS.keys).agg(pl.len().alias("tickets"))


def backlog_daily(frames: Frames, *, tz: str) -> pl.LazyFrame:
    """agg_backlog: tickets entering and leaving the open backlog, by closing day."""
    tickets = _ticket_keys(frames.tickets)
    leave = pl.min_horizontal("resolved_at", "closed_at")  # nulls ignored; null when both are
    exit_at = pl.when(leave.is_not_null()).then(pl.max_horizontal(pl.col("created_at"), leave))
    flows = pl.concat(
        [
            tickets.select(
                closing_day_expr(pl.col("created_at"), tz).alias("closing_day"),
                "team_id",
                "channel",
                pl.lit(1).alias("entered"),
                pl.lit(0).alias("left"),
            ),
            tickets.select(exit_at.alias("exit_at"), "team_id", "channel")
            .filter(pl.col("exit_at").is_not_null())
            .select(
                closing_day_expr(pl.col("exit_at"), tz).alias("closing_day"),
                "team_id",
                "channel",
                pl.lit(0).alias("entered"),
                pl.lit(1).alias("left"),
            ),
        ]
    )
    return flows.group_by(BACKLOG.keys).agg(pl.col("entered", "left").sum())


def _surveys_with_ticket(frames: Frames) -> pl.LazyFrame:
    """Surveys with their ticket's team and channel (null without a ticket) and kind as text."""
    tickets = _ticket_keys(frames.tickets).select("ticket_id", "team_id", "channel")
    return frames.surveys.with_columns(pl.col("kind").cast(pl.String)).join(
        tickets, on="ticket_id", how="left"
    )


def survey_responses_daily(frames: Frames, *, tz: str) -> pl.LazyFrame:
    """agg_survey_responses."""
    return (
        _surveys_with_ticket(frames)
        .filter(pl.col("responded_at").is_not_null() & pl.col("score").is_not_null())
        .group_by(
            local_day_expr(pl.col("responded_at"), tz).alias("day"), "team_id", "channel", "kind", "score"
        )
        .agg(pl.len().alias("responses"))
    )


def survey_sends_daily(frames: Frames, *, tz: str) -> pl.LazyFrame:
    """agg_survey_sends."""
    return (
        _surveys_with_ticket(frames)
        .group_by(local_day_expr(pl.col("sent_at"), tz).alias("day"), "team_id", "channel", "kind")
        .agg(pl.len().alias("sent"), pl.col("responded_at").is_not_null().sum().alias("answered"))
    )


def _completed_orders(frames: Frames) -> pl.LazyFrame:
    return frames.orders.filter(pl.col("status") == "completed").with_columns(
        (pl.col("amount") * 100).round().cast(pl.Int64).alias("amount_cents")
    )


def orders_daily(frames: Frames, *, tz: str) -> pl.LazyFrame:
    """agg_orders."""
    return (
        _completed_orders(frames)
        .group_by(local_day_expr(pl.col("ordered_at"), tz).alias("day"))
        .agg(pl.len().alias("orders"), pl.col("amount_cents").sum())
    )


def signups_daily(frames: Frames, *, tz: str) -> pl.LazyFrame:
    """agg_signups."""
    first_orders = (
        _completed_orders(frames)
        .group_by("customer_id")
        .agg(pl.col("ordered_at").min().alias("first_order_at"))
    )
    return (
        frames.customers.join(first_orders, on="customer_id", how="left")
        .group_by(
            local_day_expr(pl.col("signup_at"), tz).alias("day"),
            closing_day_expr(pl.col("first_order_at"), tz).alias("first_order_closing_day"),
        )
        .agg(pl.len().alias("customers"))
    )


def customer_days(frames: Frames, *, tz: str) -> pl.LazyFrame:
    """agg_customer_days: each customer's completed orders per closing day, with the latest two instants."""
    micros = pl.col("ordered_at").dt.epoch("us")
    return (
        _completed_orders(frames)
        .group_by("customer_id", closing_day_expr(pl.col("ordered_at"), tz).alias("closing_day"))
        .agg(
            pl.len().alias("orders"),
            pl.col("amount_cents").sum(),
            micros.max().alias("last_ordered_us"),
            pl.when(pl.len() >= 2).then(micros.top_k(2).min()).alias("prev_ordered_us"),
        )
    )


def build_aggregates(frames: Frames, *, tz: str, data_as_of: datetime) -> dict[str, pl.DataFrame]:
    """Every aggregate table (name → frame in its canonical form), in one parallel collect."""
    plans: dict[AggregateTable, pl.LazyFrame] = {
        TICKETS: tickets_daily(frames, tz=tz, data_as_of=data_as_of),
        DURATIONS: durations_daily(frames, tz=tz),
        BACKLOG: backlog_daily(frames, tz=tz),
        SURVEY_RESPONSES: survey_responses_daily(frames, tz=tz),
        SURVEY_SENDS: survey_sends_daily(frames, tz=tz),
        ORDERS: orders_daily(frames, tz=tz),
        SIGNUPS: signups_daily(frames, tz=tz),
        CUSTOMER_DAYS: customer_days(frames, tz=tz),
    }
    results = pl.collect_all(list(plans.values()))
    return {table.name: conform(result, table) for table, result in zip(plans, results, strict=True)}


def history_from(frames: Frames) -> datetime | None:
    """The first completed order in the data (the start of the order history)."""
    return frames.history_from
