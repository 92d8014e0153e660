"""The share KPIs of the review's evidence per team and per channel, counted once instead of once per
group: the definitions of cxdash.metrics.kpis (METRICS.md), each group's rows being those `scoped`
keeps for a scope of that one team or channel.

Every KPI here is a share (hits of N), so hits and N are counted once per window × team × channel
(`share_cells`: one pass over the tickets and the csat responses linked to one) and summed up to a
team or a channel (`grouped_kpis`). A csat response without a ticket is not additive: it counts for
every team or channel that ever served its customer (a relationship survey follows the customers a
ticket filter serves), so those few are kept with each (team, channel) that served their customer and
counted once per group.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.kpis import KpiOptions, KpiValue, Window, in_window, with_sla_outcome

GroupKey = Literal["team_id", "channel"]
KEYS: Final = ("team_id", "channel")
CELL: Final = ("window", *KEYS)  # the window's index in the windows given, team_id, channel (strings)
# The KPIs counted per cell (shares: a change is tested on the value and N alone).
GROUPED_KPIS: Final = (
    "csat_pct",
    "sla_first_response_pct",
    "sla_resolution_pct",
    "reopen_rate_pct",
    "one_touch_pct",
)
GroupedKpis = dict[str, dict[str, KpiValue]]  # group → KPI name → value


@dataclass(frozen=True, slots=True)
class ShareCells:
    """`cells`: window, team_id, channel, kpi, hits, n (only cells with rows). `loose`: the csat
    responses without a ticket, one row per response (`response`) and (team_id, channel) that ever
    served its customer, with `satisfied`."""

    windows: int
    cells: pl.DataFrame
    loose: pl.DataFrame


def _windowed(rows: pl.LazyFrame, column: str, windows: Sequence[Window]) -> pl.LazyFrame:
    """The rows whose `column` falls in each window, labelled with its index (a row in two windows twice)."""
    return pl.concat(
        [
            rows.filter(in_window(column, w)).with_columns(pl.lit(i).alias("window"))
            for i, w in enumerate(windows)
        ]
    )


def _cell_keys(tickets: pl.LazyFrame) -> pl.LazyFrame:
    return tickets.with_columns(pl.col(k).cast(pl.String) for k in KEYS)


def _count(rows: pl.LazyFrame, hit: pl.Expr, name: str) -> pl.LazyFrame:
    """hits and n per cell of `rows` (which carry the cell's columns; the keys as strings after
    counting: fewer to cast)."""
    counted = rows.group_by(CELL).agg(
        hit.sum().cast(pl.Int64).alias("hits"), pl.len().cast(pl.Int64).alias("n")
    )
    return _cell_keys(counted).with_columns(pl.lit(name).alias("kpi"))


def _csat_responses(frames: Frames, windows: Sequence[Window]) -> pl.LazyFrame:
    """csat responses with a score, per window responded in (kpis.csat_pct's rows)."""
    answered = frames.surveys.filter((pl.col("kind") == "csat") & pl.col("score").is_not_null())
    return _windowed(answered, "responded_at", windows).select("window", "ticket_id", "customer_id", "score")


def _csat_cells(responses: pl.LazyFrame, frames: Frames, options: KpiOptions) -> pl.LazyFrame:
    """csat_pct: the responses linked to a ticket, in their ticket's cell."""
    linked = responses.filter(pl.col("ticket_id").is_not_null()).join(
        frames.tickets.select("ticket_id", *KEYS), on="ticket_id"
    )
    return _count(linked, pl.col("score") >= options.csat_threshold, "csat_pct")


def _sla_cells(
    frames: Frames, created: pl.LazyFrame, windows: Sequence[Window], options: KpiOptions
) -> list[pl.LazyFrame]:
    """sla_first_response_pct and sla_resolution_pct (kpis._sla_attainment): met of counted tickets."""
    # with_sla_outcome reads only data_as_of of the window (the age of tickets not yet done).
    return [
        _count(
            with_sla_outcome(frames, created, windows[0], options, done_at, target).filter(
                pl.col("sla_counted")
            ),
            pl.col("sla_met"),
            name,
        )
        for name, done_at, target in (
            ("sla_first_response_pct", "first_response_at", "first_response_target_min"),
            ("sla_resolution_pct", "resolved_at", "resolution_target_min"),
        )
    ]


def _resolved_cells(created: pl.LazyFrame) -> list[pl.LazyFrame]:
    """reopen_rate_pct and one_touch_pct: shares of the resolved tickets created in the period."""
    resolved = created.filter(pl.col("resolved_at").is_not_null())
    return [
        _count(resolved, pl.col("reopen_count") > 0, "reopen_rate_pct"),
        _count(resolved, pl.col("agent_replies") <= 1, "one_touch_pct"),
    ]


def _loose_csat(responses: pl.DataFrame, frames: Frames, options: KpiOptions) -> pl.DataFrame:
    """The csat responses without a ticket, each with every (team_id, channel) that served its customer
    (a customer of the customers table, as `scoped` keeps them)."""
    loose = (
        responses.filter(pl.col("ticket_id").is_null())
        .with_row_index("response")
        .select(
            "response",
            "window",
            "customer_id",
            (pl.col("score") >= options.csat_threshold).alias("satisfied"),
        )
    )
    if loose.is_empty():  # as in every demo: csat surveys follow a ticket
        return loose.with_columns(pl.lit(None, pl.String).alias(k) for k in KEYS).drop("customer_id")
    customers = pl.LazyFrame({"customer_id": loose["customer_id"].unique()})
    served = (
        _cell_keys(frames.tickets.select("customer_id", *KEYS))
        .join(customers, on="customer_id", how="semi")
        .join(frames.customers.select("customer_id"), on="customer_id", how="semi")
        .unique()
    )
    return loose.lazy().join(served, on="customer_id").drop("customer_id").collect()


def share_cells(frames: Frames, windows: Sequence[Window], options: KpiOptions) -> ShareCells:
    """Hits and N of every GROUPED_KPIS per window × team × channel of `frames`, in one parallel collect."""
    created = _windowed(frames.tickets, "created_at", windows)
    responses = _csat_responses(frames, windows).collect()
    cells = pl.concat(
        pl.collect_all(
            [_csat_cells(responses.lazy(), frames, options), *_sla_cells(frames, created, windows, options),
             *_resolved_cells(created)]
        )
    )  # fmt: skip
    return ShareCells(windows=len(windows), cells=cells, loose=_loose_csat(responses, frames, options))


def _within(column: str, values: Sequence[str]) -> pl.Expr:
    """The other key among `values` (all, nulls too, when none are given: as a filter of it would)."""
    return pl.col(column).is_in(list(values)) if values else pl.lit(value=True)


def _loose_shares(loose: pl.DataFrame, key: GroupKey, within: pl.Expr) -> pl.DataFrame:
    """csat hits and N per window and group of the responses without a ticket: each once per group,
    however many of the group's tickets served its customer."""
    return (
        loose.filter(within)
        .unique(["response", key])
        .group_by("window", key)
        .agg(pl.col("satisfied").sum().cast(pl.Int64).alias("hits"), pl.len().cast(pl.Int64).alias("n"))
        .select("window", key, pl.lit("csat_pct").alias("kpi"), "hits", "n")
    )


def grouped_kpis(
    counted: ShareCells, *, key: GroupKey, names: Sequence[str], within: Sequence[str] = ()
) -> list[GroupedKpis]:
    """Per window: group of `key` → each of `names` → its value and N, over the cells whose other key
    (channel for teams, team for channels) is among `within` (the scope's own filter of it). A group
    without rows for a KPI is absent from it (its value would be null with N = 0)."""
    unknown = set(names) - set(GROUPED_KPIS)
    if unknown:
        raise ValueError(f"not counted per group: {sorted(unknown)}")
    other = KEYS[1 - KEYS.index(key)]
    parts = [
        counted.cells.filter(pl.col("kpi").is_in(list(names)) & _within(other, within)).select(
            "window", key, "kpi", "hits", "n"
        )
    ]
    if "csat_pct" in names:
        parts.append(_loose_shares(counted.loose, key, _within(other, within)))
    shares = (
        pl.concat(parts)
        .filter(pl.col(key).is_not_null())  # a ticket without a team (channel) is in no team's (channel's)
        .group_by("window", key, "kpi")
        .agg(pl.col("hits").sum(), pl.col("n").sum())
        # as kpis.share_pct: 100 × hits / N (the same integers, so the same float)
        .select("window", key, "kpi", (100 * pl.col("hits") / pl.col("n")).alias("value"), "n")
    )
    found: list[GroupedKpis] = [{} for _ in range(counted.windows)]
    for window, group, kpi, value, n in shares.iter_rows():
        found[window].setdefault(group, {})[kpi] = KpiValue(value=value, n=n)
    return found
