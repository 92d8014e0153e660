"""Internal targets (OLAs) per workflow stage as data: attainment per stage and per team × stage of the
tickets created in the period (the complaints only, on the Complaints page), for the Complaints page's
workflow tab and the Service map."""

from dataclasses import dataclass

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.kpis import Window, in_window
from cxdash.metrics.ola import OlaTargets, ola_attainment, ola_durations
from cxdash.periods import DataSpan, Period


@dataclass(frozen=True, slots=True)
class OlaView:
    # stage (Enum OLA_STAGES), target_min, met, breached, n, attainment_pct, median_min; every stage
    by_stage: pl.DataFrame
    # team_id, team_name, then by_stage's columns; every stage of each team with a ticket in the period
    by_team: pl.DataFrame


def _with_target(attainment: pl.LazyFrame, targets: OlaTargets) -> pl.LazyFrame:
    """Adds target_min, the stage's target in minutes, after `stage`."""
    target = (
        pl.col("stage")
        .cast(pl.String)
        .replace_strict(targets.by_stage(), return_dtype=pl.Int64)
        .alias("target_min")
    )
    columns = attainment.collect_schema().names()
    at = columns.index("stage") + 1
    return attainment.select(*columns[:at], target, *columns[at:])


def ola_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, targets: OlaTargets, complaints_only: bool
) -> OlaView:
    """OLA attainment of the tickets created in the period (complaints only when asked), as of the
    period's as_of, per stage and per team × stage. A stage no ticket reached shows with n = 0 and null
    attainment_pct and median_min; no tickets: every stage with n = 0 and an empty by_team."""
    window = Window.of(period, tz=tz, data_as_of=span.data_as_of)
    tickets = frames.tickets.filter(in_window("created_at", window))
    if complaints_only:
        tickets = tickets.filter(pl.col("is_complaint"))
    # Only these tickets' events are read: a small share of all events, so a period change stays fast.
    events = frames.ticket_events.join(tickets.select("ticket_id"), on="ticket_id", how="semi")
    frames = frames.with_tables(tickets=tickets, ticket_events=events)
    durations = ola_durations(frames, window, as_of=window.as_of)
    names = frames.teams.select("team_id", pl.col("name").alias("team_name")).unique("team_id")
    by_stage = _with_target(ola_attainment(durations, targets, as_of=window.as_of), targets)
    by_team = _with_target(
        ola_attainment(durations, targets, as_of=window.as_of, by=("team_id", "stage")), targets
    ).join(names, on="team_id", how="left", maintain_order="left")
    stage_columns = by_stage.collect_schema().names()
    by_stage, by_team = pl.collect_all(
        [by_stage, by_team.select("team_id", "team_name", *stage_columns).sort("team_id", "stage")]
    )
    return OlaView(by_stage=by_stage, by_team=by_team)
