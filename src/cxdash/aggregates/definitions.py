"""The one statement of every per-day aggregate: its table, grain, columns and what each column counts.

Both engines (Polars in process, Apache Spark beyond one process) build exactly these tables from the
raw business tables, and a test finds them equal on the medium demo. Conventions, shared by both:

- `day` is the local date, in the display time zone, of the instant named in the table's grain
  (periods are whole local days, so any period is a range of days).
- `closing_day` is the local date of the instant minus one microsecond: an instant exactly at local
  midnight closes the day before. "At or before T" for a local midnight T is then exactly
  `closing_day < date(T)` (backlog, first orders, customer histories are counted up to an as_of, `≤`).
- Durations are whole microseconds (`end − start`); a duration falls in bin `b` = the number of edges
  (integer seconds, DURATION_EDGES_S) at or below it, compared exactly as integers (never logarithms).
- Money is summed as integer cents of each amount (`round(amount × 100)`), so sums are exact in any
  engine and any order; instants are integer microseconds since the Unix epoch (UTC).
- The SLA outcome of a ticket not yet done depends on data_as_of: aggregates are built for one data
  version, stamped in `agg_meta` with it and with data_as_of; readers refuse a stale set.
- Durations are on the calendar clock (elapsed time); business-hours durations need the raw rows.

Percentiles read from a histogram (DURATION_EDGES_S: 0, 1, 2, … 50 s in steps of one second, then each
edge ⌈1.02 × the previous⌉, to over two years) take the middle of each order statistic's bin, so each
is off by at most half a bin: at most 0.5 s + 1% of the true value. The linear interpolation between
two order statistics keeps that bound (it is linear in the value): any median or percentile read from
the aggregates is within ±(1% + 0.5 s) of the exact one, for durations from 0 to the last edge.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import polars as pl

ColumnType = Literal["date", "text", "int"]

DURATION_RATIO_PERCENT = 2  # each edge ≥ 1.02 × the one before
DURATION_MAX_S = 2 * 366 * 86_400  # edges reach past two years; longer durations share the last bin
PERCENTILE_RELATIVE_ERROR = DURATION_RATIO_PERCENT / 200  # half a bin: 1% of the value …
PERCENTILE_ABSOLUTE_ERROR_S = 0.5  # … plus half a second (the one-second bins below 50 s)


def duration_edges(
    ratio_percent: int = DURATION_RATIO_PERCENT, top_s: int = DURATION_MAX_S
) -> tuple[int, ...]:
    """Bin edges in whole seconds: 0, then each edge ⌈(1 + ratio) × the previous⌉, at least one more,
    until past `top_s`. Integer arithmetic only, so every engine gets the same edges."""
    edges = [0]
    while edges[-1] <= top_s:
        previous = edges[-1]
        edges.append(max(previous + 1, -(-previous * (100 + ratio_percent) // 100)))
    return tuple(edges)


DURATION_EDGES_S = duration_edges()
DURATION_MEASURES = {
    "first_response": "first_response_at",  # created_at → first_response_at (frt_*)
    "resolution": "resolved_at",  # created_at → resolved_at (resolution_*)
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    meaning: str


@dataclass(frozen=True, slots=True)
class AggregateTable:
    name: str
    grain: tuple[Column, ...]
    measures: tuple[Column, ...]
    meaning: str

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.grain + self.measures

    @property
    def keys(self) -> list[str]:
        return [c.name for c in self.grain]


DAY = Column("day", "date", "local date of the instant in the display time zone")
TEAM = Column("team_id", "text", "the ticket's team (null: a survey without a ticket)")
CHANNEL = Column("channel", "text", "the ticket's channel (null: a survey without a ticket)")

TICKETS = AggregateTable(
    "agg_tickets",
    (DAY, TEAM, CHANNEL),
    (
        Column("created", "int", "tickets created that day (day of created_at)"),
        Column("complaints", "int", "of them, is_complaint"),
        Column("escalated", "int", "of them, escalated"),
        Column("resolved", "int", "of them, with resolved_at"),
        Column("reopened", "int", "resolved ones with reopen_count > 0"),
        Column("one_touch", "int", "resolved ones with agent_replies ≤ 1"),
        Column("first_responded", "int", "of them, with first_response_at"),
        Column("frt_sla_met", "int", "first response within its priority's target (≤)"),
        Column("frt_sla_counted", "int", "met, responded late, or unanswered past the target at data_as_of"),
        Column("resolution_sla_met", "int", "resolved within its priority's target (≤)"),
        Column(
            "resolution_sla_counted", "int", "met, resolved late, or unresolved past the target at data_as_of"
        ),
    ),
    "tickets by day created × team × channel (tickets, complaints, rates, SLA attainment)",
)
DURATIONS = AggregateTable(
    "agg_durations",
    (
        DAY,
        TEAM,
        CHANNEL,
        Column("measure", "text", "first_response or resolution (DURATION_MEASURES)"),
        Column("bin", "int", "number of DURATION_EDGES_S edges at or below the duration"),
    ),
    (Column("tickets", "int", "tickets created that day with that duration bin"),),
    "duration histograms by day created × team × channel: medians and percentiles within the bound",
)
BACKLOG = AggregateTable(
    "agg_backlog",
    (Column("closing_day", "date", "closing day of the instant"), TEAM, CHANNEL),
    (
        Column("entered", "int", "tickets whose created_at closes that day"),
        Column(
            "left",
            "int",
            "tickets whose exit (the later of created_at and the earlier of resolved_at and closed_at) "
            "closes that day",
        ),
    ),
    "backlog flow: open at a local midnight T = Σ entered − Σ left over closing days before date(T)",
)
SURVEY_RESPONSES = AggregateTable(
    "agg_survey_responses",
    (
        DAY,
        TEAM,
        CHANNEL,
        Column("kind", "text", "csat, nps or ces"),
        Column("score", "int", "the score given"),
    ),
    (Column("responses", "int", "responses with a score, by day of responded_at"),),
    "survey responses by day answered × the ticket's team and channel × kind × score",
)
SURVEY_SENDS = AggregateTable(
    "agg_survey_sends",
    (DAY, TEAM, CHANNEL, Column("kind", "text", "csat, nps or ces")),
    (
        Column("sent", "int", "surveys sent that day (day of sent_at)"),
        Column("answered", "int", "of them, with responded_at"),
    ),
    "surveys by day sent (response rates)",
)
ORDERS = AggregateTable(
    "agg_orders",
    (DAY,),
    (
        Column("orders", "int", "completed orders that day (day of ordered_at)"),
        Column("amount_cents", "int", "their amounts, in cents"),
    ),
    "completed orders by day (revenue, complaints per 1k orders)",
)
SIGNUPS = AggregateTable(
    "agg_signups",
    (
        Column("day", "date", "local date of signup_at"),
        Column("first_order_closing_day", "date", "closing day of the first completed order (null: none)"),
    ),
    (Column("customers", "int", "customers"),),
    "sign-ups by day × closing day of their first completed order (conversion)",
)
CUSTOMER_DAYS = AggregateTable(
    "agg_customer_days",
    (
        Column("customer_id", "text", "the customer"),
        Column("closing_day", "date", "closing day of ordered_at"),
    ),
    (
        Column("orders", "int", "completed orders"),
        Column("amount_cents", "int", "their amounts, in cents"),
        Column("last_ordered_us", "int", "the latest of them, µs since the epoch"),
        Column("prev_ordered_us", "int", "the second latest of them (null: one order)"),
    ),
    "per-customer RFM facts: completed orders by customer × closing day (active, churn, repeat, RFM)",
)

AGGREGATES: tuple[AggregateTable, ...] = (
    TICKETS,
    DURATIONS,
    BACKLOG,
    SURVEY_RESPONSES,
    SURVEY_SENDS,
    ORDERS,
    SIGNUPS,
    CUSTOMER_DAYS,
)
AGGREGATE_BY_NAME = {table.name: table for table in AGGREGATES}
META_TABLE = "agg_meta"  # key → value: what the set was built from (data version, data_as_of, tz, …)

# The raw columns the engines read: the input contract of a Parquet folder for Spark.
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": (
        "ticket_id", "customer_id", "channel", "created_at", "first_response_at", "resolved_at", "closed_at",
        "priority", "is_complaint", "team_id", "reopen_count", "agent_replies", "escalated",
    ),
    "surveys": ("kind", "customer_id", "ticket_id", "sent_at", "responded_at", "score"),
    "orders": ("customer_id", "ordered_at", "amount", "status"),
    "customers": ("customer_id", "signup_at"),
    "sla_policies": ("priority", "first_response_target_min", "resolution_target_min"),
}  # fmt: skip


def epoch_micros(instant: datetime) -> int:
    """Whole microseconds since the Unix epoch of an aware instant (integer arithmetic, no float)."""
    delta = instant - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def polars_schema(table: AggregateTable) -> dict[str, pl.DataType]:
    """Column → Polars type of an aggregate table (how both engines hand their results over)."""
    types = {"date": pl.Date(), "text": pl.String(), "int": pl.Int64()}
    return {c.name: types[c.type] for c in table.columns}


def conform(frame: pl.DataFrame, table: AggregateTable) -> pl.DataFrame:
    """`frame` with exactly the table's columns and types, sorted by its grain: the canonical form in
    which two engines' results compare equal."""
    schema = polars_schema(table)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items()).sort(
        table.keys, nulls_last=True
    )
