"""Satisfaction by period and by breakdown (PRODUCT.md view 2): CSAT, response rate, NPS, CES and the four
rating items, each with its N and a 95% interval; the survey rows behind any cell; the key-driver frame;
the comments.

Every figure is aggregated from `survey_rows`, so a cell and the rows a drill-down shows for it are the
same rows. Without a breakdown the figures equal the headline KPIs of METRICS.md (tested).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Literal

import numpy as np
import polars as pl
from scipy import stats as sps

from cxdash.load import Frames
from cxdash.metrics.kpis import KpiOptions, elapsed_minutes_expr, sla_minutes_expr
from cxdash.metrics.tiers import TierRules, customer_rfm, with_tiers
from cxdash.periods import PeriodKind

Source = Literal["csat", "csat_sent", "nps", "ces"]
SURVEY_KPIS: Final = ("csat_pct", "csat_mean", "csat_response_rate_pct", "nps", "ces_mean")
SOURCE_OF: Final[dict[str, Source]] = {
    "csat_pct": "csat",
    "csat_mean": "csat",
    "csat_response_rate_pct": "csat_sent",
    "nps": "nps",
    "ces_mean": "ces",
}
RATING_ITEMS: Final = ("rating_attitude", "rating_speed", "rating_knowledge", "rating_resolution")
# Ticket dimensions come from the survey's ticket; customer dimensions from its customer.
TICKET_DIMENSIONS: Final = ("channel", "category", "team_id")
CUSTOMER_DIMENSIONS: Final = ("tier", "segment", "region")
DIMENSIONS: Final = TICKET_DIMENSIONS + CUSTOMER_DIMENSIONS
MIN_N: Final = 30  # a cell with fewer responses is greyed with a note instead of a number
Z95: Final = 1.959964
PROPORTIONS: Final = frozenset({"csat_pct", "csat_response_rate_pct"})
TIME_COLUMN: Final[dict[Source, str]] = {
    "csat": "responded_at",
    "csat_sent": "sent_at",
    "nps": "responded_at",
    "ces": "responded_at",
}
KPI_TABLE_SCHEMA: Final = {
    "period": pl.String,
    "group": pl.String,
    "kpi": pl.String,
    "value": pl.Float64,
    "n": pl.Int64,
    "hits": pl.Int64,  # proportions: rows meeting the condition; items: ratings ≥ the threshold
    "sd": pl.Float64,
    "promoters": pl.Int64,
    "detractors": pl.Int64,
}


def period_label_expr(column: str, kind: PeriodKind, tz: str) -> pl.Expr:
    """The label of the calendar period (`2026Q3`, `2026-07`) an instant falls in, in the display zone."""
    local = pl.col(column).dt.convert_time_zone(tz)
    if kind == "quarter":
        return local.dt.year().cast(pl.String) + pl.lit("Q") + local.dt.quarter().cast(pl.String)
    if kind == "month":
        return local.dt.strftime("%Y-%m")
    raise ValueError(f"no period labels for {kind!r}")


def customer_tiers(frames: Frames, *, as_of: datetime, rules: TierRules) -> pl.LazyFrame:
    """Each customer's value tier at `as_of` (customer_id, tier as text)."""
    rfm = customer_rfm(
        frames.orders, frames.customers, as_of=as_of, churn_window_days=rules.churn_window_days
    )
    return with_tiers(rfm, rules).select("customer_id", pl.col("tier").cast(pl.String))


def _customer_dimensions(frames: Frames, tiers: pl.LazyFrame | None) -> pl.LazyFrame:
    customers = frames.customers.select(
        "customer_id", pl.col("segment").cast(pl.String), pl.col("region").cast(pl.String)
    )
    if tiers is None:
        return customers.with_columns(pl.lit(None, pl.String).alias("tier"))
    return customers.join(tiers, on="customer_id", how="left")


def _served(
    frames: Frames,
    start: datetime,
    end: datetime,
    *,
    dimension: str | None,
    period_kind: PeriodKind | None,
    tz: str,
) -> pl.LazyFrame:
    """Customers with a ticket in scope created in [start, end), per period and ticket dimension."""
    created = frames.tickets.filter((pl.col("created_at") >= start) & (pl.col("created_at") < end))
    columns = [pl.col("customer_id")]
    if period_kind is not None:
        columns.append(period_label_expr("created_at", period_kind, tz).alias("period"))
    if dimension is not None:
        columns.append(pl.col(dimension).cast(pl.String).alias("group"))
    return created.select(columns).unique()


def survey_rows(
    frames: Frames,
    start: datetime,
    end: datetime,
    *,
    source: Source,
    dimension: str | None = None,
    period_kind: PeriodKind | None = None,
    tz: str,
    tiers: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """The surveys behind a satisfaction figure, with its `period` and breakdown `group` (text, null when
    not asked for or unknown).

    csat, nps, ces: responses with a score, responded in [start, end); csat_sent: csat surveys sent then.
    NPS is relationship-level (METRICS.md "Scope"): broken down by a ticket dimension, or under a ticket
    filter, a response counts for the customers served by those tickets in the same period, so a
    customer served by two channels counts under both.
    """
    kind = "csat" if source == "csat_sent" else source
    time = TIME_COLUMN[source]
    rows = frames.surveys.filter((pl.col("kind") == kind) & (pl.col(time) >= start) & (pl.col(time) < end))
    if source != "csat_sent":
        rows = rows.filter(pl.col("score").is_not_null())
    rows = rows.with_columns(
        (period_label_expr(time, period_kind, tz) if period_kind else pl.lit(None, pl.String)).alias("period")
    )
    ticket_dimension = dimension in TICKET_DIMENSIONS
    if source == "nps" and (ticket_dimension or frames.ticket_filtered):
        keys = ["customer_id"] + (["period"] if period_kind else [])
        served = _served(frames, start, end, dimension=dimension if ticket_dimension else None,
                         period_kind=period_kind, tz=tz)  # fmt: skip
        rows = rows.join(served, on=keys, how="inner")
    elif ticket_dimension:
        tickets = frames.tickets.select("ticket_id", pl.col(dimension).cast(pl.String).alias("group"))
        rows = rows.join(tickets, on="ticket_id", how="left")
    if dimension in CUSTOMER_DIMENSIONS:
        customers = _customer_dimensions(frames, tiers).select(
            "customer_id", pl.col(dimension).alias("group")
        )
        rows = rows.join(customers, on="customer_id", how="left")
    elif dimension is None:
        rows = rows.with_columns(pl.lit(None, pl.String).alias("group"))
    return rows


def _grouped(rows: pl.LazyFrame, *aggs: pl.Expr) -> pl.LazyFrame:
    """Aggregate per period and group (one row for everything when both are null)."""
    return rows.group_by("period", "group").agg(*aggs)


def _long(frame: pl.LazyFrame, kpi: str, **columns: pl.Expr) -> pl.LazyFrame:
    """One KPI's rows in KPI_TABLE_SCHEMA (columns not given are null)."""
    given = {"kpi": pl.lit(kpi), **columns}
    return frame.select(
        pl.col("period"),
        pl.col("group"),
        *(given[name].cast(dtype).alias(name) if name in given else pl.lit(None, dtype).alias(name)
          for name, dtype in KPI_TABLE_SCHEMA.items() if name not in ("period", "group")),
    )  # fmt: skip


def _csat_kpis(rows: pl.LazyFrame, threshold: int) -> pl.LazyFrame:
    stats = _grouped(
        rows,
        pl.len().alias("n"),
        (pl.col("score") >= threshold).sum().cast(pl.Int64).alias("hits"),
        pl.col("score").cast(pl.Float64).mean().alias("mean"),
        pl.col("score").cast(pl.Float64).std().alias("sd"),
    )
    return pl.concat(
        [
            _long(stats, "csat_pct", value=100 * pl.col("hits") / pl.col("n"), n=pl.col("n"),
                  hits=pl.col("hits")),
            _long(stats, "csat_mean", value=pl.col("mean"), n=pl.col("n"), sd=pl.col("sd")),
        ]
    )  # fmt: skip


def _response_rate(rows: pl.LazyFrame) -> pl.LazyFrame:
    stats = _grouped(
        rows, pl.len().alias("n"), pl.col("responded_at").is_not_null().sum().cast(pl.Int64).alias("hits")
    )
    return _long(stats, "csat_response_rate_pct", value=100 * pl.col("hits") / pl.col("n"), n=pl.col("n"),
                 hits=pl.col("hits"))  # fmt: skip


def _nps(rows: pl.LazyFrame) -> pl.LazyFrame:
    stats = _grouped(
        rows,
        pl.len().alias("n"),
        (pl.col("score") >= 9).sum().cast(pl.Int64).alias("promoters"),
        (pl.col("score") <= 6).sum().cast(pl.Int64).alias("detractors"),
    )
    return _long(
        stats, "nps", value=100 * (pl.col("promoters") - pl.col("detractors")) / pl.col("n"), n=pl.col("n"),
        promoters=pl.col("promoters"), detractors=pl.col("detractors"),
    )  # fmt: skip


def _mean_kpi(rows: pl.LazyFrame, kpi: str, column: str, threshold: int | None = None) -> pl.LazyFrame:
    valued = rows.filter(pl.col(column).is_not_null())
    score = pl.col(column).cast(pl.Float64)
    hits = (
        (pl.col(column) >= threshold).sum().cast(pl.Int64)
        if threshold is not None
        else pl.lit(None, pl.Int64)
    )
    stats = _grouped(valued, pl.len().alias("n"), score.mean().alias("mean"), score.std().alias("sd"),
                     hits.alias("hits"))  # fmt: skip
    return _long(stats, kpi, value=pl.col("mean"), n=pl.col("n"), sd=pl.col("sd"), hits=pl.col("hits"))


def survey_kpis(
    frames: Frames,
    start: datetime,
    end: datetime,
    options: KpiOptions,
    *,
    dimension: str | None = None,
    period_kind: PeriodKind | None = None,
    tz: str,
    tiers: pl.LazyFrame | None = None,
    items: bool = True,
) -> list[pl.LazyFrame]:
    """The satisfaction KPIs (and the four rating items: mean, and in `hits` the ratings ≥ the CSAT
    threshold) per period and group, in KPI_TABLE_SCHEMA, as one LazyFrame per source for a parallel
    collect; `satisfaction_table` puts them together. A period or group with no rows has no row."""
    common = {"dimension": dimension, "period_kind": period_kind, "tz": tz, "tiers": tiers}
    csat = survey_rows(frames, start, end, source="csat", **common)
    chains = [
        _csat_kpis(csat, options.csat_threshold),
        _response_rate(survey_rows(frames, start, end, source="csat_sent", **common)),
        _nps(survey_rows(frames, start, end, source="nps", **common)),
        _mean_kpi(survey_rows(frames, start, end, source="ces", **common), "ces_mean", "score"),
    ]
    if items:
        chains += [_mean_kpi(csat, item, item, options.csat_threshold) for item in RATING_ITEMS]
    return chains


def satisfaction_table(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The collected parts of `survey_kpis` as one table with 95% intervals (`low`, `high`) and the
    small-sample flag (`small`: n < MIN_N); sorted by period, group and KPI."""
    table = (
        pl.concat([part.cast(KPI_TABLE_SCHEMA) for part in parts])
        if parts
        else pl.DataFrame(schema=KPI_TABLE_SCHEMA)
    )  # type: ignore[arg-type]
    return with_intervals(table).sort("period", "group", "kpi", nulls_last=True)


def with_intervals(table: pl.DataFrame) -> pl.DataFrame:
    """95% intervals: Wilson for proportions (%), t for means, normal for NPS (variance of a
    promoter − detractor score, clipped to ±100); null where n is too small to have one."""
    n = table["n"].to_numpy().astype(float)
    kpi = table["kpi"].to_numpy()
    value = table["value"].fill_null(np.nan).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = table["hits"].fill_null(0).to_numpy() / n
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
        wilson = (100 * np.clip(centre - half, 0, 1), 100 * np.clip(centre + half, 0, 1))
        sd = table["sd"].fill_null(np.nan).to_numpy().astype(float)
        t_half = sps.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
        promoters = table["promoters"].fill_null(0).to_numpy() / n
        detractors = table["detractors"].fill_null(0).to_numpy() / n
        nps_half = 100 * Z95 * np.sqrt((promoters + detractors - (promoters - detractors) ** 2) / n)
    is_proportion = np.isin(kpi, list(PROPORTIONS))
    is_nps = kpi == "nps"
    low = np.where(
        is_proportion, wilson[0], np.where(is_nps, np.maximum(value - nps_half, -100), value - t_half)
    )
    high = np.where(
        is_proportion, wilson[1], np.where(is_nps, np.minimum(value + nps_half, 100), value + t_half)
    )
    defined = (n > 0) & ~np.isnan(value) & (is_proportion | is_nps | (n >= 2))
    return table.with_columns(
        pl.Series("low", np.where(defined, low, np.nan)).fill_nan(None),
        pl.Series("high", np.where(defined, high, np.nan)).fill_nan(None),
        (pl.col("n") < MIN_N).alias("small"),
    )


def rows_behind(
    frames: Frames,
    start: datetime,
    end: datetime,
    *,
    kpi: str,
    dimension: str | None = None,
    group: str | None = None,
    period_kind: PeriodKind | None = None,
    period: str | None = None,
    tz: str,
    tiers: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """The survey rows behind one cell (a KPI, a period and/or a group; rating items are csat rows)
    with their ticket and customer: what a drill-down shows. Null `group` picks the unknown group."""
    source = SOURCE_OF.get(kpi, "csat")
    rows = survey_rows(frames, start, end, source=source, dimension=dimension, period_kind=period_kind,
                       tz=tz, tiers=tiers)  # fmt: skip
    if dimension is not None:
        rows = rows.filter(pl.col("group").eq_missing(group))
    if period is not None:
        rows = rows.filter(pl.col("period") == period)
    if kpi in RATING_ITEMS:
        rows = rows.filter(pl.col(kpi).is_not_null())
    tickets = frames.tickets.select(
        "ticket_id",
        "created_at",
        "channel",
        pl.col("category").cast(pl.String),
        "team_id",
        "agent_id",
        "priority",
    )
    customers = frames.customers.select("customer_id", pl.col("name").alias("customer_name"))
    return (
        rows.join(tickets, on="ticket_id", how="left")
        .join(customers, on="customer_id", how="left")
        .select(
            "survey_id", "kind", "sent_at", "responded_at", "score", *RATING_ITEMS, "comment",
            "ticket_id", "created_at", "channel", "category", "team_id", "agent_id", "priority",
            "customer_id", "customer_name",
        )
        .sort("responded_at", "sent_at", "survey_id", nulls_last=True)
    )  # fmt: skip


# Operational drivers of the key-driver analysis (METRICS.md): bad outcomes coded 1.
OPERATIONAL_DRIVERS: Final = ("log_first_response_h", "reopened", "reassigned", "escalated")
CATEGORICAL_DRIVERS: Final = ("channel",)


def driver_frame(frames: Frames, start: datetime, end: datetime, options: KpiOptions) -> pl.LazyFrame:
    """One row per csat response in [start, end): the score, the four rating items and the operational
    drivers of its ticket (log(1 + first-response hours) on the chosen clock, reopened, reassigned,
    escalated, channel), and `frt_met` (first response within its SLA target; null without a target
    or a response) for the performance axis."""
    clock = options.clock
    first_response = sla_minutes_expr(frames, clock, "created_at", "first_response_at")
    tickets = frames.tickets.join(frames.sla_policies, on="priority", how="left").select(
        "ticket_id",
        pl.col("channel").cast(pl.String),
        (elapsed_minutes_expr(frames, clock, "created_at", "first_response_at") / 60)
        .clip(lower_bound=0)
        .log1p()
        .alias("log_first_response_h"),
        (first_response <= pl.col("first_response_target_min")).alias("frt_met"),
        (pl.col("reopen_count") > 0).alias("reopened"),
        (pl.col("reassign_count") > 0).alias("reassigned"),
        pl.col("escalated"),
    )  # fmt: skip
    return (
        frames.surveys.filter(
            (pl.col("kind") == "csat")
            & (pl.col("responded_at") >= start)
            & (pl.col("responded_at") < end)
            & pl.col("score").is_not_null()
        )
        .select("ticket_id", "score", *RATING_ITEMS)
        .join(tickets, on="ticket_id", how="inner")
    )


def driver_performance(drivers: pl.DataFrame) -> dict[str, float | None]:
    """Performance of each driver in % (METRICS.md): a rating item's mean on 0–100 ((mean − 1) / 4);
    first response: share answered within target; reopened, reassigned, escalated: share without it;
    channel: none. Null where there are no rows."""
    if drivers.height == 0:
        return dict.fromkeys((*RATING_ITEMS, *OPERATIONAL_DRIVERS, *CATEGORICAL_DRIVERS))
    row = drivers.select(
        *(((pl.col(item).mean() - 1) / 4 * 100).alias(item) for item in RATING_ITEMS),
        (100 * pl.col("frt_met").mean()).alias("log_first_response_h"),
        *((100 * (1 - pl.col(flag).cast(pl.Float64).mean())).alias(flag) for flag in OPERATIONAL_DRIVERS[1:]),
    ).row(0, named=True)
    return {**row, "channel": None}


CommentKind = Literal["csat", "nps"]


def comment_rows(
    frames: Frames,
    start: datetime,
    end: datetime,
    options: KpiOptions,
    *,
    kind: CommentKind,
    scores: Sequence[int] = (),
    weakest: str | None = None,
) -> pl.LazyFrame:
    """Responses in [start, end) with a non-blank comment, newest first: `group` is "promoter" (csat ≥
    threshold; nps 9–10), "detractor" (csat below it; nps 0–6) or "passive" (nps 7–8); `weakest` the
    rating items rated lowest (csat). Filtered to `scores` (all when empty) and to responses whose
    weakest items include `weakest`."""
    score = pl.col("score")
    if kind == "csat":
        group = (
            pl.when(score >= options.csat_threshold).then(pl.lit("promoter")).otherwise(pl.lit("detractor"))
        )
    else:
        group = pl.when(score >= 9).then(pl.lit("promoter")).when(score <= 6).then(pl.lit("detractor"))
        group = group.otherwise(pl.lit("passive"))
    lowest = pl.min_horizontal(*RATING_ITEMS)
    weakest_items = pl.concat_list(
        pl.when(pl.col(item) == lowest).then(pl.lit(item)) for item in RATING_ITEMS
    ).list.drop_nulls()
    rows = frames.surveys.filter(
        (pl.col("kind") == kind)
        & (pl.col("responded_at") >= start)
        & (pl.col("responded_at") < end)
        & score.is_not_null()
        & (pl.col("comment").str.strip_chars().str.len_chars() > 0)
    ).with_columns(group.alias("group"), weakest_items.alias("weakest"))
    if scores:
        rows = rows.filter(score.is_in(list(scores)))
    if weakest is not None:
        rows = rows.filter(pl.col("weakest").list.contains(weakest))
    tickets = frames.tickets.select("ticket_id", "channel", pl.col("category").cast(pl.String))
    return (
        rows.join(tickets, on="ticket_id", how="left")
        .select(
            "survey_id",
            "responded_at",
            "score",
            "group",
            "comment",
            "weakest",
            "ticket_id",
            "channel",
            "category",
            "customer_id",
        )
        .sort("responded_at", "survey_id", descending=True, nulls_last=True)
    )
