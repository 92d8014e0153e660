"""Loyalty & customer value page (METRICS.md "Customer value and tiers"): per-customer facts for the
what-if, the tier summary it re-aggregates on every slider move, the service-policy preview, lifecycle
flow, cohort retention, win-back, points and members vs non-members. LazyFrames in and out unless said;
the caller collects; `as_of` and windows are passed in.

Readings chosen where the brief or METRICS.md leaves room (the same everywhere in this module):

- Only `completed` orders count. Look-back windows are exact and end-inclusive, as in `kpis`: "the W
  days up to t" is (t − W × 24 h, t]; periods are [start, end).
- Per-customer facts are the rows of `tiers.customer_rfm`, so re-tiering them with `tiers.with_tiers`
  is the whole what-if. Under a ticket filter (METRICS.md "Scope") they are the customers served in the
  period, and `orders_n` is null (a team does not own orders: the complaint rate is not defined).
- Where a look-back starts before the order history (METRICS.md "History") its facts are null, so the
  rate built on them is null with N = 0 rather than a misleading low number.
"""

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any, Final
from zoneinfo import ZoneInfo

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.kpis import Window, in_window, lacks_history, n_rows, served_customers, share_pct
from cxdash.metrics.tiers import (
    STAGES,
    TIER,
    TIERS,
    TierRules,
    customer_rfm,
    stage_expr,
    tier_expr,
    with_tiers,
)
from cxdash.periods import local_midnight_utc

YEAR: Final = timedelta(days=365)
# Lifecycle-flow stages: `new` (signed up since the previous period end) only ever as stage_from.
FLOW_STAGES: Final = ("new", "prospect", *STAGES)
FLOW_STAGE: Final = pl.Enum(FLOW_STAGES)
GROUPS: Final = ("member", "non_member")
GROUP: Final = pl.Enum(GROUPS)
EARNING_REASONS: Final = ("purchase", "bonus")

# The per-customer service facts customer_facts adds to the RFM columns (0 / False when none).
FACT_COUNTS: Final = (
    "csat_n", "csat_hits", "nps_n", "nps_promoters", "nps_detractors", "complaints", "tickets", "orders_n",
)  # fmt: skip


def _completed(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.filter(pl.col("status") == "completed")


def _between(column: str, after: datetime, until: datetime) -> pl.Expr:
    """`column` in (after, until]: the exact, end-inclusive look-back of `kpis`."""
    return (pl.col(column) > after) & (pl.col(column) <= until)


def _count(condition: pl.Expr) -> pl.Expr:
    return condition.sum().cast(pl.Int64)


def _ratio(scale: float, numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """scale × numerator / denominator; null when the denominator is 0."""
    return pl.when(denominator > 0).then(scale * numerator / denominator)


def _survey_facts(frames: Frames, window: Window, csat_threshold: int) -> pl.LazyFrame:
    """Per customer: csat and nps responses with a score in the period, hits, promoters, detractors."""
    csat, nps = pl.col("kind") == "csat", pl.col("kind") == "nps"
    score = pl.col("score")
    return (
        frames.surveys.filter(in_window("responded_at", window) & score.is_not_null() & (csat | nps))
        .group_by("customer_id")
        .agg(
            _count(csat).alias("csat_n"),
            _count(csat & (score >= csat_threshold)).alias("csat_hits"),
            _count(nps).alias("nps_n"),
            _count(nps & (score >= 9)).alias("nps_promoters"),
            _count(nps & (score <= 6)).alias("nps_detractors"),
        )
    )


def _ticket_facts(frames: Frames, window: Window) -> pl.LazyFrame:
    """Per customer: tickets and complaint tickets created in the period."""
    return (
        frames.tickets.filter(in_window("created_at", window))
        .group_by("customer_id")
        .agg(_count(pl.col("is_complaint")).alias("complaints"), pl.len().cast(pl.Int64).alias("tickets"))
    )


def _order_facts(frames: Frames, window: Window, churn_window_days: int) -> pl.LazyFrame:
    """Per customer: completed orders in the period, and activity at the period start and at as_of."""
    w = timedelta(days=churn_window_days)
    start, as_of = window.start, window.as_of
    # Only orders that can matter: from the start of the look-back to the later of end and as_of.
    relevant = pl.col("ordered_at") > start - w
    return (
        _completed(frames.orders)
        .filter(relevant & (pl.col("ordered_at") <= max(window.end, as_of)))
        .group_by("customer_id")
        .agg(
            _count(in_window("ordered_at", window)).alias("orders_n"),
            _between("ordered_at", start - w, start).any().alias("active_at_start"),
            _between("ordered_at", as_of - w, as_of).any().alias("active_at_end"),
        )
    )


def customer_facts(
    frames: Frames, window: Window, *, rules: TierRules, csat_threshold: int = 4
) -> pl.LazyFrame:
    """One row per customer of `customer_rfm` at window.as_of: the RFM columns plus service facts of the
    period (FACT_COUNTS, active_at_start, active_at_end); counts 0 and flags False when none.

    active_at_start is null for everyone when its look-back (the W days before start) begins before the
    order history; under a ticket filter the rows are the customers served and `orders_n` is null.
    """
    rfm = customer_rfm(
        frames.orders, frames.customers, as_of=window.as_of, churn_window_days=rules.churn_window_days
    )
    if frames.ticket_filtered:
        rfm = rfm.join(served_customers(frames, window), on="customer_id", how="semi", maintain_order="left")
    start_known = not lacks_history(frames, window.start - timedelta(days=rules.churn_window_days))
    facts = (
        rfm.join(_survey_facts(frames, window, csat_threshold), on="customer_id", how="left")
        .join(_ticket_facts(frames, window), on="customer_id", how="left")
        .join(_order_facts(frames, window, rules.churn_window_days), on="customer_id", how="left")
        .with_columns(
            pl.col(*FACT_COUNTS).fill_null(0),
            pl.col("active_at_start", "active_at_end").fill_null(value=False),
        )
    )
    return facts.with_columns(
        pl.col("active_at_start") if start_known else pl.lit(None, pl.Boolean).alias("active_at_start"),
        pl.lit(None, pl.Int64).alias("orders_n") if frames.ticket_filtered else pl.col("orders_n"),
    )


def _every_tier() -> pl.LazyFrame:
    return pl.LazyFrame({"tier": TIERS}, schema={"tier": TIER})


def whatif_summary(facts: pl.LazyFrame | pl.DataFrame, rules: TierRules) -> pl.DataFrame:
    """Per tier (all four, TIERS order) under `rules`: customers, revenue, revenue_share_pct, csat_pct /
    csat_n, nps / nps_n, complaints, orders_n, complaint_rate_per_1k_orders, churn_rate_pct / churn_n,
    tickets. Collected (the slider hot path: pass the collected facts).

    Counts and sums are 0 for a tier without customers; a rate is null when its N is 0 (the share when
    there is no revenue at all, the complaint rate when orders_n is null under a ticket filter).
    """
    churned = pl.col("active_at_start") & ~pl.col("active_at_end")
    per_tier = (
        with_tiers(facts.lazy(), rules)
        .group_by("tier")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("monetary").sum().alias("revenue"),
            pl.col(*FACT_COUNTS).sum(),
            _count(pl.col("active_at_start")).alias("churn_n"),
            _count(churned).alias("churned"),
        )
    )
    revenue = pl.col("revenue")
    return (
        _every_tier()
        .join(per_tier, on="tier", how="left", maintain_order="left")
        .with_columns(
            pl.col("customers", "churn_n", "churned", *FACT_COUNTS).fill_null(0),
            revenue.fill_null(0.0).round(2),
        )
        .select(
            "tier",
            "customers",
            "revenue",
            _ratio(100, revenue, revenue.sum()).alias("revenue_share_pct"),
            _ratio(100, pl.col("csat_hits"), pl.col("csat_n")).alias("csat_pct"),
            "csat_n",
            _ratio(100, pl.col("nps_promoters") - pl.col("nps_detractors"), pl.col("nps_n")).alias("nps"),
            "nps_n",
            "complaints",
            "orders_n",
            _ratio(1000, pl.col("complaints"), pl.col("orders_n")).alias("complaint_rate_per_1k_orders"),
            _ratio(100, pl.col("churned"), pl.col("churn_n")).alias("churn_rate_pct"),
            "churn_n",
            "tickets",
        )
        .collect()
    )


def tier_changes(
    facts: pl.LazyFrame | pl.DataFrame, before: TierRules, after: TierRules, *, limit: int = 500
) -> tuple[pl.DataFrame, int]:
    """Customers whose tier differs between `before` and `after` (customer_id, tier_before, tier_after,
    monetary, frequency, recency_days), by monetary descending then customer_id, the first `limit`;
    and how many there are in all. No changes: an empty frame and 0."""
    changed = (
        facts.lazy()
        .select(
            "customer_id",
            tier_expr(before).alias("tier_before"),
            tier_expr(after).alias("tier_after"),
            "monetary",
            "frequency",
            "recency_days",
        )
        .filter(pl.col("tier_before") != pl.col("tier_after"))
        .collect()
    )
    first = changed.sort(["monetary", "customer_id"], descending=[True, False]).head(limit)
    return first, changed.height


def _service_policy(
    summary: pl.DataFrame, vip_customers_per_agent: int, priority_tiers: Sequence[str]
) -> dict[str, Any]:
    """The policy figures of one tier summary."""
    by_tier = {row["tier"]: row for row in summary.iter_rows(named=True)}
    vip_customers = int(by_tier["vip"]["customers"]) if "vip" in by_tier else 0
    all_tickets = int(summary["tickets"].sum())
    priority = int(sum(by_tier[t]["tickets"] for t in priority_tiers if t in by_tier))
    return {
        "vip_customers": vip_customers,
        "vip_agents": math.ceil(vip_customers / vip_customers_per_agent),
        "priority_tickets": priority,
        "all_tickets": all_tickets,
        "priority_ticket_share_pct": 100 * priority / all_tickets if all_tickets else None,
    }


def service_cost(
    summary: pl.DataFrame,
    *,
    vip_customers_per_agent: int,
    priority_tiers: Sequence[str] = ("vip", "high_value"),
    current: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """Service-policy preview of a whatif_summary: vip_customers, vip_agents (dedicated agents, ceil of
    VIP customers / customers per agent, 0 without VIPs), priority_tickets (tickets of `priority_tiers`),
    all_tickets and priority_ticket_share_pct (null without tickets).

    With `current` (the summary under the current rules) also "current" (the same figures) and "change"
    (what-if − current; null where either share is null); otherwise both are None.
    """
    if vip_customers_per_agent < 1:
        raise ValueError(f"vip_customers_per_agent must be at least 1, not {vip_customers_per_agent}")
    what_if = _service_policy(summary, vip_customers_per_agent, priority_tiers)
    if current is None:
        return {**what_if, "current": None, "change": None}
    now = _service_policy(current, vip_customers_per_agent, priority_tiers)
    change = {
        key: None if what_if[key] is None or now[key] is None else what_if[key] - now[key] for key in what_if
    }
    return {**what_if, "current": now, "change": change}


def _stages_at(
    orders: pl.LazyFrame, customers: pl.LazyFrame, end: datetime, rules: TierRules
) -> pl.LazyFrame:
    """customer_id, stage at `end` of every customer known then; prospect for those who never bought."""
    stage = stage_expr(rules).cast(pl.String).fill_null("prospect").cast(FLOW_STAGE)
    return customer_rfm(orders, customers, as_of=end, churn_window_days=rules.churn_window_days).select(
        "customer_id", stage.alias("stage")
    )


FLOW_SCHEMA: Final = pl.Schema(
    {
        "period_from": pl.String,
        "period_to": pl.String,
        "stage_from": FLOW_STAGE,
        "stage_to": FLOW_STAGE,
        "customers": pl.Int64,
    }
)


def lifecycle_flow(
    orders: pl.LazyFrame,
    customers: pl.LazyFrame,
    *,
    period_ends: Sequence[datetime],
    rules: TierRules,
    labels: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """Sankey links between consecutive period ends (ascending; pass each period's as_of): period_from,
    period_to (`labels`, default the ends in ISO form), stage_from, stage_to, customers > 0, in period
    order then FLOW_STAGES order. Customers known at an end but not at the previous one come from "new".

    Fewer than two ends: no rows.
    """
    ends = list(period_ends)
    names = list(labels) if labels is not None else [end.isoformat() for end in ends]
    if len(names) != len(ends):
        raise ValueError(f"{len(names)} labels for {len(ends)} period ends")
    if any(b <= a for a, b in pairwise(ends)):
        raise ValueError("period_ends must be strictly ascending")
    if len(ends) < 2:
        return pl.LazyFrame(schema=FLOW_SCHEMA)
    stages = [_stages_at(orders, customers, end, rules) for end in ends]
    links = [
        after.rename({"stage": "stage_to"})
        .join(before.rename({"stage": "stage_from"}), on="customer_id", how="left")
        .group_by(pl.col("stage_from").fill_null(pl.lit("new", dtype=FLOW_STAGE)), "stage_to")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .select(
            pl.lit(names[i]).alias("period_from"),
            pl.lit(names[i + 1]).alias("period_to"),
            "stage_from",
            "stage_to",
            "customers",
        )
        .sort("stage_from", "stage_to")
        for i, (before, after) in enumerate(pairwise(stages))
    ]
    return pl.concat(links).cast(dict(FLOW_SCHEMA))


FIRST_QUARTER: Final = 1900 * 4  # quarter indexes count from 1900Q1 (year × 4 + quarter − 1)


def _quarter_starts(last: int, tz: str) -> pl.Series:
    """UTC instants of the local starts of quarters FIRST_QUARTER … last + 1."""
    return pl.Series(
        [local_midnight_utc(date(q // 4, 3 * (q % 4) + 1, 1), tz) for q in range(FIRST_QUARTER, last + 2)],
        dtype=pl.Datetime("us", "UTC"),
    )


def _quarter_index(instant: pl.Expr, starts: pl.Series) -> pl.Expr:
    """Index (year × 4 + quarter − 1) of the display-zone quarter `instant` falls in: a binary search
    over the quarter starts, about 4× faster than converting every timestamp to the zone (an instant
    before 1900 lands in 1899Q4)."""
    position = pl.lit(starts).search_sorted(instant, side="right").cast(pl.Int64)
    return (FIRST_QUARTER - 1 + position).alias("quarter")


def _last_quarter(as_of: datetime, tz: str) -> tuple[int, bool]:
    """(index of the last quarter with data by as_of, whether it is still running). A quarter that
    starts exactly at as_of has no data yet: the one before it is the last, complete."""
    local = as_of.astimezone(ZoneInfo(tz))
    quarter = (local.month - 1) // 3
    index = local.year * 4 + quarter
    started = local_midnight_utc(date(local.year, 3 * quarter + 1, 1), tz)
    return (index - 1, False) if as_of == started else (index, True)


def cohort_retention(
    orders: pl.LazyFrame, customers: pl.LazyFrame, *, tz: str, as_of: datetime
) -> pl.LazyFrame:
    """Signup-quarter cohorts (quarters in `tz`, "2026Q3"): cohort, cohort_size, k (quarters after the
    signup quarter), buyers (cohort members with a completed order in quarter k), retention_pct, running
    (quarter k is the one still running at as_of). Rows for every k from 0 to the last quarter begun by
    as_of, sorted by cohort and k.

    Customers without signup_at, or signed up after as_of, are in no cohort; no cohorts: no rows.
    """
    last, running = _last_quarter(as_of, tz)
    starts = _quarter_starts(last, tz)
    cohorts = customers.filter(pl.col("signup_at") <= as_of).select(
        "customer_id", _quarter_index(pl.col("signup_at"), starts).alias("cohort_q")
    )
    cohorts = cohorts.filter(pl.col("cohort_q") <= last)
    sizes = cohorts.group_by("cohort_q").agg(pl.len().cast(pl.Int64).alias("cohort_size"))
    grid = sizes.with_columns(pl.int_ranges(0, last - pl.col("cohort_q") + 1, dtype=pl.Int64).alias("k"))
    buyers = (
        _completed(orders)
        .filter(pl.col("ordered_at") <= as_of)
        .select("customer_id", _quarter_index(pl.col("ordered_at"), starts))
        .filter(pl.col("quarter") <= last)
        .join(cohorts, on="customer_id", how="inner")
        .with_columns((pl.col("quarter") - pl.col("cohort_q")).alias("k"))
        .filter(pl.col("k") >= 0)  # an order before the signup quarter is not retention
        .group_by("cohort_q", "k")
        .agg(pl.col("customer_id").n_unique().cast(pl.Int64).alias("buyers"))
    )
    return (
        grid.explode("k")
        .join(buyers, on=["cohort_q", "k"], how="left")
        .sort("cohort_q", "k")
        .select(
            pl.format("{}Q{}", pl.col("cohort_q") // 4, pl.col("cohort_q") % 4 + 1).alias("cohort"),
            "cohort_size",
            "k",
            pl.col("buyers").fill_null(0),
            (100 * pl.col("buyers").fill_null(0) / pl.col("cohort_size")).alias("retention_pct"),
            (pl.lit(running) & (pl.col("cohort_q") + pl.col("k") == last)).alias("running"),
        )
    )


def win_back_rate(
    orders: pl.LazyFrame, customers: pl.LazyFrame, window: Window, *, churn_window_days: int
) -> pl.LazyFrame:
    """Of the customers churned at window.start (a completed order before, none in the W days up to
    start), 100 × share with a completed order in [start, as_of]: one row value, n, won_back.

    n = 0: value null. The caller applies the history rule (churned customers need W days of history).
    """
    w = timedelta(days=churn_window_days)
    start, as_of = window.start, window.as_of
    ordered = pl.col("ordered_at")
    per_customer = (
        _completed(orders)
        .filter(ordered <= as_of)
        .join(customers.select("customer_id"), on="customer_id", how="semi")
        .group_by("customer_id")
        .agg(
            (ordered <= start - w).any().alias("bought_before"),
            _between("ordered_at", start - w, start).any().alias("active_at_start"),
            ((ordered >= start) & (ordered <= as_of)).any().alias("returned"),
        )
    )
    return per_customer.filter(pl.col("bought_before") & ~pl.col("active_at_start")).select(
        share_pct(pl.col("returned")), n_rows(), _count(pl.col("returned")).alias("won_back")
    )


def points_summary(ledger: pl.LazyFrame, window: Window) -> pl.LazyFrame:
    """One row: earned_points (purchase + bonus), redeemed_points and expired_points (as positive
    numbers) in the period, and liability_points (the balance of every entry up to as_of). 0 when none."""
    points = pl.col("points").cast(pl.Int64)
    reason, period = pl.col("reason"), in_window("occurred_at", window)
    return ledger.select(
        pl.when(period & reason.is_in(EARNING_REASONS)).then(points).sum().alias("earned_points"),
        -pl.when(period & (reason == "redeem")).then(points).sum().alias("redeemed_points"),
        -pl.when(period & (reason == "expire")).then(points).sum().alias("expired_points"),
        pl.when(pl.col("occurred_at") <= window.as_of).then(points).sum().alias("liability_points"),
    )


def _membership(customers: pl.LazyFrame) -> pl.LazyFrame:
    """customer_id, group: member when is_loyalty_member, else (also when unknown) non_member."""
    member = pl.col("is_loyalty_member").fill_null(value=False)
    return customers.select(
        "customer_id",
        pl.when(member).then(pl.lit("member")).otherwise(pl.lit("non_member")).cast(GROUP).alias("group"),
    )


def members_vs_non_members(frames: Frames, window: Window, *, csat_threshold: int = 4) -> pl.LazyFrame:
    """Per group (member, non_member, both always): customers (known at as_of), buyers (a completed order
    in the 365 days up to as_of), repeat_purchase_rate_pct (≥ 2 of those orders, over buyers), csat_pct /
    csat_n and nps / nps_n (responses in the period), annual_revenue_per_buyer (365 days, to the cent).

    Rates null when their N is 0; repeat rate and revenue null with buyers 0 when the 365 days start
    before the order history. Under a ticket filter all but csat are over the customers served.
    """
    membership = _membership(frames.customers)
    rfm = customer_rfm(frames.orders, frames.customers, as_of=window.as_of)
    nps_rows = frames.surveys.filter(pl.col("kind") == "nps")
    if frames.ticket_filtered:
        served = served_customers(frames, window)
        rfm = rfm.join(served, on="customer_id", how="semi")
        nps_rows = nps_rows.join(served, on="customer_id", how="semi")
    customer_side = (
        rfm.join(membership, on="customer_id", how="inner")
        .group_by("group")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            _count(pl.col("frequency") >= 1).alias("buyers"),
            _count(pl.col("frequency") >= 2).alias("repeaters"),
            pl.col("monetary").sum().alias("revenue"),
        )
    )
    score = pl.col("score")
    responses = pl.concat([frames.surveys.filter(pl.col("kind") == "csat"), nps_rows]).filter(
        in_window("responded_at", window) & score.is_not_null()
    )
    csat, nps = pl.col("kind") == "csat", pl.col("kind") == "nps"
    survey_side = (
        responses.join(membership, on="customer_id", how="inner")
        .group_by("group")
        .agg(
            _count(csat).alias("csat_n"),
            _count(csat & (score >= csat_threshold)).alias("csat_hits"),
            _count(nps).alias("nps_n"),
            (_count(nps & (score >= 9)) - _count(nps & (score <= 6))).alias("nps_net"),
        )
    )
    known = not lacks_history(frames, window.as_of - YEAR)
    buyers = pl.col("buyers") if known else pl.lit(0, pl.Int64).alias("buyers")
    return (
        pl.LazyFrame({"group": GROUPS}, schema={"group": GROUP})
        .join(customer_side, on="group", how="left", maintain_order="left")
        .join(survey_side, on="group", how="left", maintain_order="left")
        .with_columns(pl.exclude("group").fill_null(0))
        .select(
            "group",
            "customers",
            buyers,
            _ratio(100, pl.col("repeaters"), buyers).alias("repeat_purchase_rate_pct"),
            _ratio(100, pl.col("csat_hits"), pl.col("csat_n")).alias("csat_pct"),
            "csat_n",
            _ratio(100, pl.col("nps_net"), pl.col("nps_n")).alias("nps"),
            "nps_n",
            _ratio(1, pl.col("revenue"), buyers).round(2).alias("annual_revenue_per_buyer"),
        )
    )
