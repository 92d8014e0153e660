"""Complaints (PRODUCT.md view 3) beyond the Pareto, workflow and emerging causes: volume and rate by
period and breakdown, severity grading with handling time and SLA, what customers did after a complaint
(the churn gap), and the revenue at risk. LazyFrames in and out; the caller collects."""

from datetime import datetime, timedelta
from typing import Final

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.kpis import KpiOptions, Window, elapsed_minutes_expr, with_sla_outcome
from cxdash.metrics.pareto import with_product_category
from cxdash.metrics.satisfaction import period_label_expr
from cxdash.metrics.tiers import TierRules, annual_churn_by_tier, customer_rfm, historic_clv, with_tiers
from cxdash.periods import PeriodKind

# Breakdowns of complaint volume; the rate per 1,000 orders is defined where orders have the same
# attribute (a product category, a customer's region) and not under a ticket filter (METRICS.md).
VOLUME_DIMENSIONS: Final = ("channel", "category", "product_category", "region")
RATE_DIMENSIONS: Final = frozenset({"product_category", "region"})
SEVERITIES: Final = (1, 2, 3, 4)


def complaints_created(frames: Frames, start: datetime, end: datetime) -> pl.LazyFrame:
    """Complaint tickets created in [start, end)."""
    created = pl.col("created_at")
    return frames.tickets.filter(pl.col("is_complaint") & (created >= start) & (created < end))


def closed_unresolved_expr() -> pl.Expr:
    """A ticket closed without a resolution (METRICS.md: not backlog, its own group)."""
    return pl.col("resolved_at").is_null() & pl.col("closed_at").is_not_null()


def _keyed(rows: pl.LazyFrame, time: str, dimension: str | None, period_kind: PeriodKind | None, tz: str):
    return rows.with_columns(
        (period_label_expr(time, period_kind, tz) if period_kind else pl.lit(None, pl.String)).alias(
            "period"
        ),
        (pl.col(dimension).cast(pl.String) if dimension else pl.lit(None, pl.String)).alias("group"),
    )


def complaint_volume(
    frames: Frames,
    start: datetime,
    end: datetime,
    *,
    dimension: str | None = None,
    period_kind: PeriodKind | None = None,
    tz: str,
) -> pl.LazyFrame:
    """Complaints created in [start, end) per period and group, with completed orders and the rate per
    1,000 orders where defined (no dimension, product category or region; no ticket filter), else null.
    Columns: period, group, complaints, orders, rate_per_1k. Groups with orders but no complaints
    count 0 complaints."""
    tickets = complaints_created(frames, start, end)
    orders = frames.orders.filter(
        (pl.col("status") == "completed") & (pl.col("ordered_at") >= start) & (pl.col("ordered_at") < end)
    )
    if dimension == "product_category":
        tickets = with_product_category(tickets, frames.orders)
    if dimension == "region":
        regions = frames.customers.select("customer_id", "region")
        tickets, orders = (
            tickets.join(regions, on="customer_id", how="left"),
            orders.join(regions, on="customer_id", how="left"),
        )
    counts = (
        _keyed(tickets, "created_at", dimension, period_kind, tz)
        .group_by("period", "group")
        .agg(pl.len().cast(pl.Int64).alias("complaints"))
    )
    with_rate = not frames.ticket_filtered and (dimension is None or dimension in RATE_DIMENSIONS)
    if not with_rate:
        return counts.with_columns(
            pl.lit(None, pl.Int64).alias("orders"), pl.lit(None, pl.Float64).alias("rate_per_1k")
        )
    placed = (
        _keyed(orders, "ordered_at", dimension, period_kind, tz)
        .group_by("period", "group")
        .agg(pl.len().cast(pl.Int64).alias("orders"))
    )
    return (
        counts.join(placed, on=["period", "group"], how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("complaints").fill_null(0), pl.col("orders").fill_null(0))
        .with_columns(
            pl.when(pl.col("orders") > 0)
            .then(1000 * pl.col("complaints") / pl.col("orders"))
            .alias("rate_per_1k")
        )
    )


def severity_table(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Per severity (1 critical … 4 minor; null = ungraded) of the complaints created in the period:
    complaints, share_pct, resolved, resolution median / p90 hours on the chosen clock (linear), SLA
    resolution attainment (met, counted, sla_pct, as `sla_resolution_pct`), open at as_of (backlog) and
    closed without a resolution (its own group, not backlog)."""
    created = complaints_created(frames, window.start, window.end)
    hours = elapsed_minutes_expr(frames, options.clock, "created_at", "resolved_at") / 60
    as_of = window.as_of
    open_now = (
        (pl.col("created_at") <= as_of)
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > as_of))
        & (pl.col("closed_at").is_null() | (pl.col("closed_at") > as_of))
    )
    unresolved = pl.col("resolved_at").is_null() & (pl.col("closed_at") <= as_of)
    handling = (
        created.with_columns(hours.alias("resolution_h"))
        .group_by("severity")
        .agg(
            pl.len().cast(pl.Int64).alias("complaints"),
            pl.col("resolved_at").is_not_null().sum().cast(pl.Int64).alias("resolved"),
            pl.col("resolution_h").median().alias("resolution_median_h"),
            pl.col("resolution_h").quantile(0.9, interpolation="linear").alias("resolution_p90_h"),
            open_now.sum().cast(pl.Int64).alias("open_now"),
            unresolved.sum().cast(pl.Int64).alias("closed_unresolved"),
        )
    )
    sla = (
        with_sla_outcome(frames, created, window, options, "resolved_at", "resolution_target_min")
        .filter(pl.col("sla_counted"))
        .group_by("severity")
        .agg(
            pl.col("sla_met").sum().cast(pl.Int64).alias("sla_met"),
            pl.len().cast(pl.Int64).alias("sla_counted"),
        )
    )
    return (
        handling.join(sla, on="severity", how="left", nulls_equal=True)
        .with_columns(
            (100 * pl.col("complaints") / pl.col("complaints").sum()).alias("share_pct"),
            pl.when(pl.col("sla_counted") > 0)
            .then(100 * pl.col("sla_met") / pl.col("sla_counted"))
            .alias("sla_pct"),
        )
        .sort("severity", nulls_last=True)
    )


def complaint_churn(
    frames: Frames, start: datetime, end: datetime, *, data_as_of: datetime, window_days: int
) -> pl.LazyFrame:
    """What complainers did next: customers whose first complaint in [start, end) closed without a
    resolution ("unresolved", from that complaint) against the other customers with a resolved complaint
    there ("resolved", from their first resolved one), and the share with no completed order in the W
    days after (churned). Only complaints whose W days have passed by data_as_of count; customers whose
    complaints are all still open are in neither group. Columns: outcome, customers, churned, churn_pct."""
    window = timedelta(days=window_days)
    complaints = complaints_created(frames, start, end).filter(pl.col("created_at") + window <= data_as_of)
    first_unresolved = (
        complaints.filter(closed_unresolved_expr())
        .group_by("customer_id")
        .agg(pl.col("created_at").min().alias("at"))
        .with_columns(pl.lit("unresolved").alias("outcome"))
    )
    resolved_only = (
        complaints.filter(pl.col("resolved_at").is_not_null())
        .join(first_unresolved, on="customer_id", how="anti")
        .group_by("customer_id")
        .agg(pl.col("created_at").min().alias("at"))
        .with_columns(pl.lit("resolved").alias("outcome"))
    )
    people = pl.concat([first_unresolved, resolved_only])
    bought = (
        people.join(frames.orders.filter(pl.col("status") == "completed"), on="customer_id")
        .filter((pl.col("ordered_at") > pl.col("at")) & (pl.col("ordered_at") <= pl.col("at") + window))
        .select("customer_id")
        .unique()
        .with_columns(pl.lit(True).alias("bought"))
    )
    return (
        people.join(bought, on="customer_id", how="left")
        .group_by("outcome")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("bought").is_null().sum().cast(pl.Int64).alias("churned"),
        )
        .with_columns((100 * pl.col("churned") / pl.col("customers")).alias("churn_pct"))
        .sort("outcome", descending=True)
    )


def customer_value(frames: Frames, *, as_of: datetime, rules: TierRules, margin: float = 0.3) -> pl.LazyFrame:
    """Each customer's value at as_of: tier, lifecycle stage, annual revenue (365-day spend) and
    historic CLV (METRICS.md: margin × annual revenue × 1 / annual churn of the tier, capped at 10 years)."""
    rfm = with_tiers(
        customer_rfm(frames.orders, frames.customers, as_of=as_of, churn_window_days=rules.churn_window_days),
        rules,
    )
    churn = annual_churn_by_tier(frames.orders, frames.customers, as_of=as_of, rules=rules)
    clv = historic_clv(rfm, churn, margin=margin).select("customer_id", "clv")
    return rfm.select(
        "customer_id",
        pl.col("tier").cast(pl.String),
        pl.col("stage").cast(pl.String),
        pl.col("monetary").alias("annual_revenue"),
    ).join(clv, on="customer_id", how="left")


def cause_by_tier(complaints: pl.LazyFrame, value: pl.LazyFrame) -> pl.LazyFrame:
    """Complaints per root cause and value tier of the customer (tier null when unknown): root_cause,
    tier, complaints."""
    return (
        complaints.join(value.select("customer_id", "tier"), on="customer_id", how="left")
        .group_by(pl.col("root_cause").cast(pl.String), "tier")
        .agg(pl.len().cast(pl.Int64).alias("complaints"))
        .sort("root_cause", "tier", nulls_last=True)
    )


def revenue_at_risk(frames: Frames, window: Window, options: KpiOptions, value: pl.LazyFrame) -> pl.LazyFrame:
    """Customers with a complaint open at as_of or a dissatisfied complaint (a csat score below the
    threshold on a complaint ticket, answered in the period), ranked by annual revenue then CLV:
    customer_id, name, tier, stage, annual_revenue, clv, open_complaints, dissatisfied, causes (the
    root causes of those complaints, a sorted list), last_complaint_at."""
    as_of = window.as_of
    complaints = frames.tickets.filter(pl.col("is_complaint") & (pl.col("created_at") <= as_of))
    open_now = (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > as_of)) & (
        pl.col("closed_at").is_null() | (pl.col("closed_at") > as_of)
    )
    unhappy = (
        frames.surveys.filter(
            (pl.col("kind") == "csat")
            & (pl.col("responded_at") >= window.start)
            & (pl.col("responded_at") < window.end)
            & (pl.col("score") < options.csat_threshold)
        )
        .select("ticket_id")
        .unique()
        .with_columns(pl.lit(True).alias("dissatisfied"))
    )
    flagged = (
        complaints.join(unhappy, on="ticket_id", how="left")
        .with_columns(open_now.alias("open_now"), pl.col("dissatisfied").fill_null(False))
        .filter(pl.col("open_now") | pl.col("dissatisfied"))
    )
    per_customer = flagged.group_by("customer_id").agg(
        pl.col("open_now").sum().cast(pl.Int64).alias("open_complaints"),
        pl.col("dissatisfied").sum().cast(pl.Int64).alias("dissatisfied"),
        pl.col("root_cause").cast(pl.String).drop_nulls().unique().sort().alias("causes"),
        pl.col("created_at").max().alias("last_complaint_at"),
    )
    names = frames.customers.select("customer_id", "name")
    return (
        per_customer.join(value, on="customer_id", how="left")
        .join(names, on="customer_id", how="left")
        .with_columns(pl.col("annual_revenue").fill_null(0.0), pl.col("clv").fill_null(0.0))
        .select(
            "customer_id",
            "name",
            "tier",
            "stage",
            "annual_revenue",
            "clv",
            "open_complaints",
            "dissatisfied",
            "causes",
            "last_complaint_at",
        )
        .sort(["annual_revenue", "clv", "customer_id"], descending=[True, True, False])
    )
