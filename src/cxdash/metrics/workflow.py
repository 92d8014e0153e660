"""The handling workflow of complaints (登记→分配→处理→反馈) from `ticket_events`: how far tickets get,
how long each stage takes, where the flow repeats or skips, and which open tickets are stalled now.

LazyFrames in, LazyFrame out; the caller collects. `events` are all workflow events (any order); only
the events of the ticket_ids in `tickets` count, and with `as_of` only those at or before it.
`stage` comes back as `pl.Enum(EVENT_STAGES)`, which sorts in workflow order.

How a stage is timed (stage_durations): on the ticket's *first pass* through the workflow, which ends
at its first `reopened` or `closed` event. A stage lasts from its first entry to the first entry of
the next stage reached (stages ordered by first entry, ties in workflow order, so a missing stage is
simply skipped and optional `pending_customer` counts only when reached); the stage the ticket is in
when the first pass ends lasts until that reopen or close. Later passes are not timed: rework shows
in `repeats_and_skips` instead, so one reopened ticket cannot stretch every stage of the median.
"""

from datetime import datetime
from typing import Final

import polars as pl

from cxdash.domain import EVENT_STAGES

WORKFLOW_STAGES: Final = ("registered", "assigned", "in_progress", "pending_customer", "resolved", "feedback")
# Reaching a later stage without one of these is a skip (e.g. resolved by a bot, never assigned).
# Waiting for the customer and feedback are optional; registration always happens (created_at), so
# a missing `registered` event is a gap in the data, not a skip.
REQUIRED_STAGES: Final = ("assigned", "in_progress", "resolved")
# Events that end the first pass through the workflow.
PASS_END_STAGES: Final = ("reopened", "closed")
# Ticket columns shown next to a stalled ticket, when the caller's frame has them.
STALLED_TICKET_COLUMNS: Final = (
    "created_at", "team_id", "agent_id", "priority", "category", "root_cause", "severity", "customer_id",
)  # fmt: skip
STAGE_DTYPE: Final = pl.Enum(EVENT_STAGES)
HOUR_US = 3_600_000_000


def _hours(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds() / HOUR_US


def _up_to(events: pl.LazyFrame, as_of: datetime | None) -> pl.LazyFrame:
    """The events at or before as_of (all without it), with `stage` as the workflow Enum."""
    if as_of is not None:
        events = events.filter(pl.col("occurred_at") <= as_of)
    return events.with_columns(pl.col("stage").cast(STAGE_DTYPE))


def _per_ticket(
    events: pl.LazyFrame, tickets: pl.LazyFrame, as_of: datetime | None, *aggs: pl.Expr
) -> pl.LazyFrame:
    """`aggs` over the events of each ticket, for the tickets chosen. Aggregating before the join
    hashes each event once and joins one row per ticket (about twice as fast as joining the events)."""
    return (
        _up_to(events, as_of)
        .group_by("ticket_id")
        .agg(*aggs)
        .join(tickets.select("ticket_id"), on="ticket_id", how="semi")
    )


def _workflow_stages() -> pl.LazyFrame:
    """One row per workflow stage, so that every stage shows even when no ticket reached it."""
    return pl.LazyFrame({"stage": WORKFLOW_STAGES}, schema={"stage": STAGE_DTYPE})


def _ticket_count(tickets: pl.LazyFrame) -> pl.LazyFrame:
    return tickets.select(pl.len().cast(pl.Int64).alias("n"))


def _pct(part: str, whole: str) -> pl.Expr:
    return pl.when(pl.col(whole) > 0).then(100 * pl.col(part) / pl.col(whole))


def _reached(stage: str) -> pl.Expr:
    return (pl.col("stage") == stage).any()


def stage_reach(
    events: pl.LazyFrame, tickets: pl.LazyFrame, *, as_of: datetime | None = None
) -> pl.LazyFrame:
    """Per workflow stage: tickets with at least one event of it (the funnel), their share of all
    `tickets`, and n = all tickets.

    Always the six stages in workflow order; 0 tickets where none reached a stage; share null for no
    tickets.
    """
    reached = (
        _per_ticket(events, tickets, as_of, *(_reached(stage).alias(stage) for stage in WORKFLOW_STAGES))
        .select(pl.col(WORKFLOW_STAGES).sum().cast(pl.Int64))
        .unpivot(variable_name="stage", value_name="tickets")
    )
    return (
        reached.join(_ticket_count(tickets), how="cross")
        .select(
            pl.col("stage").cast(STAGE_DTYPE),
            "tickets",
            _pct("tickets", "n").alias("share_pct"),
            "n",
        )
        .sort("stage")  # joins need not keep the row order
    )


def _first_entries() -> list[pl.Expr]:
    """Per ticket (in a group_by): the first entry of each workflow stage, a column per stage, and
    `_pass_end`, its first reopen or close. Conditional aggregation: no pivot, no sort."""
    at = pl.col("occurred_at")
    return [
        *(at.filter(pl.col("stage") == stage).min().alias(stage) for stage in WORKFLOW_STAGES),
        at.filter(pl.col("stage").is_in(PASS_END_STAGES)).min().alias("_pass_end"),
    ]


def _spell(i: int) -> pl.Expr:
    """The first-pass spell of the i-th workflow stage as a struct (entered_at, left_at): left when
    the next stage was first entered (later, or at the same instant but later in the workflow), or
    else when the first pass ended."""
    pass_end = pl.col("_pass_end")

    def in_first_pass(stage: str) -> pl.Expr:
        return pl.when(pass_end.is_null() | (pl.col(stage) <= pass_end)).then(pl.col(stage))

    entered = in_first_pass(WORKFLOW_STAGES[i])
    next_entries = (
        pl.when((in_first_pass(other) > entered) | ((in_first_pass(other) == entered) & (j > i))).then(
            in_first_pass(other)
        )
        for j, other in enumerate(WORKFLOW_STAGES)
        if j != i
    )
    left = pl.when(entered.is_not_null()).then(pl.min_horizontal(pass_end, *next_entries))
    return pl.struct(entered.alias("entered_at"), left.alias("left_at")).alias(WORKFLOW_STAGES[i])


def stage_durations(events: pl.LazyFrame, tickets: pl.LazyFrame, *, as_of: datetime) -> pl.LazyFrame:
    """Per ticket and workflow stage of its first pass: entered_at, left_at, hours and completed.

    left_at is null while the ticket has not left the stage by as_of (still in it, or a final stage);
    then hours runs to as_of and completed is false. Rows in no particular order; tickets without
    events by as_of have none.
    """
    return (
        _per_ticket(events, tickets, as_of, *_first_entries())
        .select("ticket_id", *(_spell(i) for i in range(len(WORKFLOW_STAGES))))
        .unpivot(index="ticket_id", variable_name="stage", value_name="spell")
        .unnest("spell")
        .filter(pl.col("entered_at").is_not_null())
        .select(
            "ticket_id",
            pl.col("stage").cast(STAGE_DTYPE),
            "entered_at",
            "left_at",
            _hours(pl.col("entered_at"), pl.coalesce("left_at", pl.lit(as_of))).alias("hours"),
            pl.col("left_at").is_not_null().alias("completed"),
        )
    )


def stage_time_summary(durations: pl.LazyFrame) -> pl.LazyFrame:
    """Per workflow stage, over completed spells of `stage_durations`: tickets, median_h and p90_h
    (linear interpolation).

    Always the six stages; a stage without completed spells has 0 tickets and null hours.
    """
    hours = pl.col("hours")
    per_stage = (
        durations.filter(pl.col("completed"))
        .group_by("stage")
        .agg(
            pl.len().cast(pl.Int64).alias("tickets"),
            hours.median().alias("median_h"),
            hours.quantile(0.9, interpolation="linear").alias("p90_h"),
        )
    )
    return (
        _workflow_stages()
        .join(per_stage, on="stage", how="left")
        .with_columns(pl.col("tickets").fill_null(0))
        .sort("stage")
    )


def _events_per_stage() -> list[pl.Expr]:
    """Per ticket (in a group_by): the number of events of each workflow stage and of `reopened`."""
    return [(pl.col("stage") == stage).sum().alias(stage) for stage in (*WORKFLOW_STAGES, "reopened")]


def _repeated_expr() -> pl.Expr:
    """Reopened, or some workflow stage entered more than once (e.g. assigned again)."""
    return pl.any_horizontal(pl.col(stage) > 1 for stage in WORKFLOW_STAGES) | (pl.col("reopened") > 0)


def _skipped_expr() -> pl.Expr:
    """A required stage never reached while a later one was (e.g. resolved by a bot, never assigned)."""
    skipped = pl.lit(False)
    for i, stage in enumerate(WORKFLOW_STAGES):
        if stage in REQUIRED_STAGES:
            later = pl.any_horizontal(pl.col(s) > 0 for s in WORKFLOW_STAGES[i + 1 :])
            skipped |= (pl.col(stage) == 0) & later
    return skipped


def repeats_and_skips(events: pl.LazyFrame, tickets: pl.LazyFrame, *, as_of: datetime) -> pl.LazyFrame:
    """One row: n tickets; repeats (a `reopened` event, or a workflow stage entered more than once)
    and skips (a later stage reached without a required earlier one), each with its share of n.

    Counts are 0 and shares null for no tickets; tickets without events count in n only.
    """
    counts = _per_ticket(events, tickets, as_of, *_events_per_stage()).select(
        _repeated_expr().sum().cast(pl.Int64).alias("repeats"),
        _skipped_expr().sum().cast(pl.Int64).alias("skips"),
    )
    return (
        _ticket_count(tickets)
        .join(counts, how="cross")
        .select(
            "n",
            "repeats",
            _pct("repeats", "n").alias("repeats_pct"),
            "skips",
            _pct("skips", "n").alias("skips_pct"),
        )
    )


def _open_at(as_of: datetime) -> pl.Expr:
    """Open at as_of as in METRICS.md backlog_open: created, neither resolved nor closed by then."""
    return (
        (pl.col("created_at") <= as_of)
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > as_of))
        & (pl.col("closed_at").is_null() | (pl.col("closed_at") > as_of))
    )


def _current_stage(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per ticket: the stage of its latest event and when that stage was entered (the start of the
    final run of events of that stage, so a repeated event such as a second assignment does not
    restart the clock)."""
    new_run = (
        (pl.col("ticket_id") != pl.col("ticket_id").shift(1)) | (pl.col("stage") != pl.col("stage").shift(1))
    ).fill_null(True)
    return (
        events.sort("ticket_id", "occurred_at", "stage")
        .with_columns(pl.when(new_run).then(pl.col("occurred_at")).forward_fill().alias("entered_at"))
        .group_by("ticket_id")
        .agg(pl.col("stage").last(), pl.col("entered_at").last())
    )


def stalled_now(
    events: pl.LazyFrame, tickets: pl.LazyFrame, *, as_of: datetime, limit: int = 20
) -> pl.LazyFrame:
    """The `limit` open tickets longest in their current stage, per stage: ticket_id, stage,
    entered_at, hours_in_stage, then the ticket columns of STALLED_TICKET_COLUMNS that `tickets` has.

    The current stage is that of the latest event at or before as_of; a ticket without one is
    `registered` since created_at. Sorted by stage, then longest first. No open tickets → no rows.
    """
    open_tickets = tickets.filter(_open_at(as_of))
    shown = [c for c in STALLED_TICKET_COLUMNS if c in tickets.collect_schema().names()]
    return (
        open_tickets.select("ticket_id", *shown)
        .join(
            _current_stage(
                _up_to(events, as_of).join(open_tickets.select("ticket_id"), on="ticket_id", how="semi")
            ),
            on="ticket_id",
            how="left",
        )
        .with_columns(
            pl.col("stage").fill_null(pl.lit("registered", dtype=STAGE_DTYPE)),
            pl.coalesce("entered_at", "created_at").alias("entered_at"),
        )
        .with_columns(_hours(pl.col("entered_at"), pl.lit(as_of)).alias("hours_in_stage"))
        .sort(["stage", "hours_in_stage", "ticket_id"], descending=[False, True, False])
        .filter(pl.int_range(pl.len()).over("stage") < limit)
        .select("ticket_id", "stage", "entered_at", "hours_in_stage", *shown)
    )
