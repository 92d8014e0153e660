"""Internal targets (OLAs, 内部运营协议) per workflow stage: how long each hand-over inside the team
takes, and how often it is within its target.

LazyFrames in, LazyFrame out; the caller collects. The tickets are those created in the period; only
events and surveys at or before `as_of` count. Durations are calendar minutes (exact: seconds / 60).

Stages (OLA_STAGES), each from a start to an end:

- `assign`: created_at → the first `assigned` event.
- `first_action`: the first `assigned` event → the first `in_progress` event at or after it.
- `feedback_request`: resolved_at (the latest resolution) → the earliest csat survey of the ticket sent
  at or after it.

Attainment follows the SLA rule of METRICS.md: met = ended within the target (≤); breached = ended
late, or not ended and older than the target at as_of; not ended and still inside the target →
excluded. A stage that never started by as_of (never assigned, not resolved) has no row.
"""

import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Final

import polars as pl

from cxdash.errors import InputError
from cxdash.load import Frames
from cxdash.metrics.kpis import Window, in_window

OLA_STAGES: Final = ("assign", "first_action", "feedback_request")
OLA_STAGE_DTYPE: Final = pl.Enum(OLA_STAGES)
# Targets are whole minutes from one minute to 30 days.
TARGET_RANGE_MIN: Final = (1, 43_200)
MINUTE_US = 60_000_000
_SEPARATOR = re.compile(r"[,，]")


@dataclass(frozen=True, slots=True)
class OlaTargets:
    """Target minutes per stage, in OLA_STAGES order."""

    assign_min: int = 30
    first_action_min: int = 240
    feedback_request_min: int = 1440

    def by_stage(self) -> dict[str, int]:
        """Stage → target minutes."""
        return dict(zip(OLA_STAGES, astuple(self), strict=True))


DEFAULT_OLA_TARGETS: Final = OlaTargets()


def parse_ola_targets(text: str) -> OlaTargets:
    """Targets from "30, 240, 1440" (assign, first action, feedback request; "，" also separates);
    InputError saying what is allowed."""
    parts = [part.strip() for part in _SEPARATOR.split(str(text))]
    low, high = TARGET_RANGE_MIN
    if len(parts) != len(OLA_STAGES) or not all(
        part.isdecimal() and low <= int(part) <= high for part in parts
    ):
        raise InputError(
            f"'{text}' is not a set of OLA targets: give three whole numbers of minutes from {low} to "
            f"{high}, separated by commas, for assign, first action and feedback request (e.g. 30, 240, "
            "1440).",
            key="ola.bad_targets",
            text=str(text),
            low=low,
            high=high,
        )
    return OlaTargets(*(int(part) for part in parts))


def format_ola_targets(targets: OlaTargets) -> str:
    """The text parse_ola_targets reads back: "30, 240, 1440"."""
    return ", ".join(str(minutes) for minutes in astuple(targets))


def _first_events(events: pl.LazyFrame, as_of: datetime) -> pl.LazyFrame:
    """Per ticket, from its events at or before as_of: the first `assigned` event and the first
    `in_progress` event at or after it."""
    at = pl.col("occurred_at")
    assigned = at.filter(pl.col("stage") == "assigned").min()
    return (
        events.filter(at <= as_of)
        .group_by("ticket_id")
        .agg(
            assigned.alias("assigned_at"),
            at.filter((pl.col("stage") == "in_progress") & (at >= assigned)).min().alias("in_progress_at"),
        )
    )


def _feedback_requests(surveys: pl.LazyFrame, tickets: pl.LazyFrame, as_of: datetime) -> pl.LazyFrame:
    """Per resolved ticket: the earliest csat survey sent at or after resolved_at and by as_of."""
    sent = pl.col("sent_at")
    return (
        surveys.filter((pl.col("kind") == "csat") & pl.col("ticket_id").is_not_null() & (sent <= as_of))
        .join(tickets.select("ticket_id", "resolved_at"), on="ticket_id", how="inner")
        .filter(sent >= pl.col("resolved_at"))
        .group_by("ticket_id")
        .agg(sent.min().alias("requested_at"))
    )


def _span(stage: str, start: str, end: str) -> pl.Expr:
    return pl.struct(pl.col(start).alias("start"), pl.col(end).alias("end")).alias(stage)


def ola_durations(frames: Frames, window: Window, *, as_of: datetime) -> pl.LazyFrame:
    """Per ticket created in [start, end) and OLA stage started by as_of: ticket_id, team_id, stage
    (Enum OLA_STAGES), start, end (null while not ended by as_of) and minutes (null while not ended).
    No rows in no particular order for stages never started."""
    tickets = frames.tickets.filter(in_window("created_at", window) & (pl.col("created_at") <= as_of)).select(
        "ticket_id",
        "team_id",
        "created_at",
        pl.when(pl.col("resolved_at") <= as_of).then(pl.col("resolved_at")).alias("resolved_at"),
    )
    return (
        tickets.join(_first_events(frames.ticket_events, as_of), on="ticket_id", how="left")
        .join(_feedback_requests(frames.surveys, tickets, as_of), on="ticket_id", how="left")
        .select(
            "ticket_id",
            "team_id",
            _span("assign", "created_at", "assigned_at"),
            _span("first_action", "assigned_at", "in_progress_at"),
            _span("feedback_request", "resolved_at", "requested_at"),
        )
        .unpivot(index=["ticket_id", "team_id"], variable_name="stage", value_name="span")
        .unnest("span")
        .filter(pl.col("start").is_not_null())
        .select(
            "ticket_id",
            "team_id",
            pl.col("stage").cast(OLA_STAGE_DTYPE),
            "start",
            "end",
            ((pl.col("end") - pl.col("start")).dt.total_microseconds() / MINUTE_US).alias("minutes"),
        )
    )


def _groups(durations: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Every group to show: with `stage` among `by`, every OLA stage for each combination of the other
    keys present, so a stage no ticket reached shows with n = 0."""
    others = [key for key in by if key != "stage"]
    if "stage" not in by:
        return durations.select(*by).unique()
    stages = pl.LazyFrame({"stage": OLA_STAGES}, schema={"stage": OLA_STAGE_DTYPE})
    if not others:
        return stages
    return durations.select(*others).unique().join(stages, how="cross")


def ola_attainment(
    durations: pl.LazyFrame, targets: OlaTargets, *, as_of: datetime, by: Sequence[str] = ("stage",)
) -> pl.LazyFrame:
    """Per group of `by` (columns of `durations`): met, breached, n = met + breached, attainment_pct
    (null when n = 0) and median_min of the stages that ended (null when none). Sorted by `by`."""
    target = pl.col("stage").cast(pl.String).replace_strict(targets.by_stage(), return_dtype=pl.Float64)
    ended = pl.col("end").is_not_null()
    age_min = (pl.lit(as_of) - pl.col("start")).dt.total_microseconds() / MINUTE_US
    met = ended & (pl.col("minutes") <= target)
    breached = (ended & (pl.col("minutes") > target)) | (~ended & (age_min > target))
    counts = durations.group_by(*by).agg(
        met.sum().cast(pl.Int64).alias("met"),
        breached.sum().cast(pl.Int64).alias("breached"),
        pl.col("minutes").median().alias("median_min"),
    )
    n = pl.col("met") + pl.col("breached")
    return (
        _groups(durations, by)
        .join(counts, on=list(by), how="left", nulls_equal=True)
        .with_columns(pl.col("met", "breached").fill_null(0))
        .select(
            *by,
            "met",
            "breached",
            n.alias("n"),
            pl.when(n > 0).then(100 * pl.col("met") / n).alias("attainment_pct"),
            "median_min",
        )
        .sort(list(by))
    )
