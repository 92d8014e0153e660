"""Customer value (METRICS.md "Customer value and tiers"): RFM, value tiers, lifecycle stages, tier
churn and historic CLV. LazyFrames in, a LazyFrame out; the caller collects.

Readings chosen where METRICS.md leaves room (the same everywhere in this module):

- Only `completed` orders count, and only those placed by `as_of`; `as_of` is passed in.
- Windows are exact and end-inclusive, as in `kpis`: "the D days up to as_of" is
  (as_of − D × 24 h, as_of].
- R (`recency_days`) is whole days (floored) since the latest completed order *ever*; F and M count
  the 365 days up to as_of. A buyer without an order in those 365 days has F = M = 0 and no scores.
- Money is rounded to cents before it is ranked or compared (float sums would rank unstably).
- `active` compares whole days (recency_days ≤ r_risk); `churned` and `won_back` compare exact
  durations (as_of − last order > W × 24 h; a gap between two orders > W × 24 h).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import polars as pl

from cxdash.config import Settings, TierThresholds

TIERS: Final = ("vip", "high_value", "regular", "prospect")
STAGES: Final = ("active", "at_risk", "churned", "won_back")
TIER: Final = pl.Enum(TIERS)
STAGE: Final = pl.Enum(STAGES)
YEAR: Final = timedelta(days=365)
DEFAULT_CHURN_WINDOW_DAYS: Final = Settings().churn_window_days


@dataclass(frozen=True, slots=True)
class TierRules:
    """The thresholds tiers and stages are cut at: the settings' defaults or the live what-if values."""

    m_vip: float
    f_vip: int
    m_high: float
    f_high: int
    r_risk_days: int
    churn_window_days: int

    @classmethod
    def from_settings(cls, thresholds: TierThresholds, churn_window_days: int) -> "TierRules":
        return cls(
            m_vip=thresholds.m_vip,
            f_vip=thresholds.f_vip,
            m_high=thresholds.m_high,
            f_high=thresholds.f_high,
            r_risk_days=thresholds.r_risk_days,
            churn_window_days=churn_window_days,
        )


def _score(value: str, *, descending: bool) -> pl.Expr:
    """RFM score 1–5 of `value` among customers with RFM (F > 0): 1 + floor(5 × (rank − 1) / n), ties
    ranked `min`; null without RFM."""
    has_rfm = pl.col("frequency") > 0
    rank = pl.when(has_rfm).then(pl.col(value)).rank("min", descending=descending)
    return (1 + 5 * (rank - 1) // has_rfm.sum()).cast(pl.Int8)


def customer_rfm(
    orders: pl.LazyFrame,
    customers: pl.LazyFrame,
    *,
    as_of: datetime,
    churn_window_days: int = DEFAULT_CHURN_WINDOW_DAYS,
) -> pl.LazyFrame:
    """One row per customer known at as_of, with R, F, M, their scores, `has_bought` and `won_back`.

    Known at as_of: `signup_at` ≤ as_of, or any order placed by as_of (covers a missing signup_at);
    customers absent from `customers` are left out. `last_order_at`, `since_last_order` (exact
    Duration) and `recency_days` are null for customers who never bought; frequency 0 and monetary
    0.0 for customers without a completed order in the 365 days; r/f/m scores null for them (ranks
    are over customers with RFM only, R reversed so that recent = 5). `won_back`: some completed
    order in the W days up to as_of came more than W days after the customer's previous completed
    order (such a customer is never churned: their last order is within W). Pass the same W as the
    TierRules the stages are cut with.
    """
    window = timedelta(days=churn_window_days)
    completed = pl.col("status") == "completed"
    in_year = completed & (pl.col("ordered_at") > as_of - YEAR)
    in_window = pl.col("ordered_at") > as_of - window
    # Orders in the window are less than W apart, so only the first of them can follow a gap > W: the
    # one after the last order before the window. (when/then inside agg: no per-group sort or filter.)
    first_in_window = pl.when(completed & in_window).then(pl.col("ordered_at")).min()
    last_before_window = pl.when(completed & ~in_window).then(pl.col("ordered_at")).max()
    per_customer = (
        orders.filter(pl.col("ordered_at") <= as_of)
        .group_by("customer_id")
        .agg(
            pl.when(completed).then(pl.col("ordered_at")).max().alias("last_order_at"),
            in_year.sum().cast(pl.Int64).alias("frequency"),
            pl.when(in_year).then(pl.col("amount")).sum().round(2).alias("monetary"),
            (first_in_window - last_before_window > window).alias("won_back"),
        )
    )
    since_last = (pl.lit(as_of) - pl.col("last_order_at")).alias("since_last_order")
    return (
        customers.select("customer_id", "signup_at")
        .join(per_customer, on="customer_id", how="left", maintain_order="left")
        .filter((pl.col("signup_at") <= as_of) | pl.col("frequency").is_not_null())
        .select(
            "customer_id",
            "last_order_at",
            since_last,
            since_last.dt.total_days().cast(pl.Int64).alias("recency_days"),
            pl.col("frequency").fill_null(0),
            pl.col("monetary").fill_null(0.0),
            pl.col("last_order_at").is_not_null().alias("has_bought"),
            pl.col("won_back").fill_null(value=False),
        )
        .with_columns(
            _score("recency_days", descending=True).alias("r_score"),
            _score("frequency", descending=False).alias("f_score"),
            _score("monetary", descending=False).alias("m_score"),
        )
    )


def tier_expr(rules: TierRules) -> pl.Expr:
    """Value tier on customer_rfm's columns: vip (M ≥ m_vip and F ≥ f_vip), high_value (M ≥ m_high or
    F ≥ f_high), regular (any other buyer, also one with no order in 365 days), prospect (never bought)."""
    m, f = pl.col("monetary"), pl.col("frequency")
    return (
        pl.when(~pl.col("has_bought"))
        .then(pl.lit("prospect", dtype=TIER))
        .when((m >= rules.m_vip) & (f >= rules.f_vip))
        .then(pl.lit("vip", dtype=TIER))
        .when((m >= rules.m_high) | (f >= rules.f_high))
        .then(pl.lit("high_value", dtype=TIER))
        .otherwise(pl.lit("regular", dtype=TIER))
        .alias("tier")
    )


def stage_expr(rules: TierRules) -> pl.Expr:
    """Lifecycle stage on customer_rfm's columns: churned (as_of − last order > W days, exact), else
    won_back if `won_back`, else active (recency_days ≤ r_risk) or at_risk; null for prospects."""
    return (
        pl.when(~pl.col("has_bought"))
        .then(pl.lit(None, dtype=STAGE))
        .when(pl.col("since_last_order") > timedelta(days=rules.churn_window_days))
        .then(pl.lit("churned", dtype=STAGE))
        .when(pl.col("won_back"))
        .then(pl.lit("won_back", dtype=STAGE))
        .when(pl.col("recency_days") <= rules.r_risk_days)
        .then(pl.lit("active", dtype=STAGE))
        .otherwise(pl.lit("at_risk", dtype=STAGE))
        .alias("stage")
    )


def with_tiers(rfm: pl.LazyFrame, rules: TierRules) -> pl.LazyFrame:
    """customer_rfm's rows with `tier` and `stage` under `rules` (the what-if path: no re-aggregation)."""
    return rfm.with_columns(tier_expr(rules), stage_expr(rules))


def _every_tier(name: str = "tier") -> pl.LazyFrame:
    return pl.LazyFrame({name: TIERS}, schema={name: TIER})


def tier_summary(tiered: pl.LazyFrame) -> pl.LazyFrame:
    """Per tier (all four, in TIERS order): customers, revenue (sum of monetary, to the cent) and
    revenue_share_pct of all tiers' revenue. A tier without customers has 0 and 0.0; the share is null
    when there is no revenue at all."""
    per_tier = tiered.group_by("tier").agg(
        pl.len().cast(pl.Int64).alias("customers"), pl.col("monetary").sum().alias("revenue")
    )
    return (
        _every_tier()
        .join(per_tier, on="tier", how="left")
        .select(
            "tier",
            pl.col("customers").fill_null(0),
            pl.col("revenue").fill_null(0.0).round(2),
        )
        .with_columns(
            pl.when(pl.col("revenue").sum() > 0)
            .then(100 * pl.col("revenue") / pl.col("revenue").sum())
            .alias("revenue_share_pct")
        )
        .sort("tier")
    )


def _every_pair(moves: pl.LazyFrame) -> pl.LazyFrame:
    """All 16 (tier_from, tier_to) pairs with the customers of `moves`, 0 where none."""
    return (
        _every_tier("tier_from")
        .join(_every_tier("tier_to"), how="cross")
        .join(moves, on=["tier_from", "tier_to"], how="left")
        .with_columns(pl.col("customers").fill_null(0))
        .sort("tier_from", "tier_to")
    )


def migration_matrix(before: pl.LazyFrame, after: pl.LazyFrame) -> pl.LazyFrame:
    """Customers by (tier_from, tier_to) between two tierings of the same customers (joined on
    customer_id; a customer in only one is left out), long form, all 16 pairs, 0 where none."""
    moves = (
        before.select("customer_id", pl.col("tier").alias("tier_from"))
        .join(after.select("customer_id", pl.col("tier").alias("tier_to")), on="customer_id", how="inner")
        .group_by("tier_from", "tier_to")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
    )
    return _every_pair(moves)


def migration_counts(rfm: pl.LazyFrame | pl.DataFrame, before: TierRules, after: TierRules) -> pl.LazyFrame:
    """migration_matrix of one set of customers tiered by two rules, in one pass without a join (the
    what-if slider's path): tier_from, tier_to, customers, all 16 pairs."""
    moves = (
        rfm.lazy()
        .select(tier_expr(before).alias("tier_from"), tier_expr(after).alias("tier_to"))
        .group_by("tier_from", "tier_to")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
    )
    return _every_pair(moves)


def annual_churn_by_tier(
    orders: pl.LazyFrame, customers: pl.LazyFrame, *, as_of: datetime, rules: TierRules
) -> pl.LazyFrame:
    """Per tier (all four): of the customers active a year ago (a completed order in the W days up to
    as_of − 365 days), tiered by `rules` on their RFM then, the share with no completed order in the W
    days up to as_of: `annual_churn_rate` (0–1) and `n`. Null where n = 0 (always for prospects).

    The caller applies the history rule (METRICS.md "History"): with orders only from after
    as_of − 365 days − W, the year-ago tiers and actives are incomplete.
    """
    year_ago = as_of - YEAR
    window = timedelta(days=rules.churn_window_days)
    still_active = (
        orders.filter(
            (pl.col("status") == "completed")
            & (pl.col("ordered_at") > as_of - window)
            & (pl.col("ordered_at") <= as_of)
        )
        .select("customer_id")
        .unique()
        .with_columns(pl.lit(value=True).alias("still_active"))
    )
    per_tier = (
        customer_rfm(orders, customers, as_of=year_ago, churn_window_days=rules.churn_window_days)
        .filter(pl.col("last_order_at") > year_ago - window)
        .select("customer_id", tier_expr(rules))
        .join(still_active, on="customer_id", how="left", maintain_order="left")
        .group_by("tier")
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("still_active").is_null().sum().alias("churned"))
    )
    return (
        _every_tier()
        .join(per_tier, on="tier", how="left")
        .select(
            "tier",
            pl.when(pl.col("n") > 0).then(pl.col("churned") / pl.col("n")).alias("annual_churn_rate"),
            pl.col("n").fill_null(0),
        )
        .sort("tier")
    )


def historic_clv(
    rfm_tiered: pl.LazyFrame, churn: pl.LazyFrame, *, margin: float = 0.3, cap_years: float = 10.0
) -> pl.LazyFrame:
    """Per customer: clv = margin × monetary (365 days) × lifetime_years, to the cent, where
    lifetime_years = 1 / annual churn rate of the customer's current tier, at most cap_years (also
    when the rate is 0 or null). Prospects and lapsed buyers have clv 0.0."""
    rate = pl.col("annual_churn_rate")
    return (
        rfm_tiered.select("customer_id", "tier", "monetary")
        .join(churn.select("tier", "annual_churn_rate"), on="tier", how="left", maintain_order="left")
        .with_columns(
            pl.when(rate > 0)
            .then((1 / rate).clip(upper_bound=cap_years))
            .otherwise(cap_years)
            .alias("lifetime_years")
        )
        .select(
            "customer_id",
            "tier",
            (margin * pl.col("monetary") * pl.col("lifetime_years")).round(2).alias("clv"),
            "lifetime_years",
        )
    )
