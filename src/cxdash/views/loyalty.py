"""The Loyalty and customer value page's content as data (PRODUCT.md view 4): per-customer facts computed
once per filter change, the what-if (re-tier, tier summary, migration, who changes tier, service cost)
that a slider move recomputes in milliseconds, and the lifecycle flow, cohort retention, CLV and points."""

from dataclasses import dataclass
from typing import Any

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.complaints import complaint_churn
from cxdash.metrics.kpis import Window
from cxdash.metrics.loyalty import (
    cohort_retention,
    customer_facts,
    lifecycle_flow,
    members_vs_non_members,
    points_summary,
    service_cost,
    tier_changes,
    whatif_summary,
    win_back_rate,
)
from cxdash.metrics.tiers import (
    TIERS,
    TierRules,
    annual_churn_by_tier,
    historic_clv,
    migration_counts,
    with_tiers,
)
from cxdash.periods import DataSpan, Period
from cxdash.views.complaints import followed_up

CHURN_SCHEMA = {"outcome": pl.String, "customers": pl.Int64, "churned": pl.Int64, "churn_pct": pl.Float64}
FLOW_PERIODS = 5  # quarter ends in the lifecycle flow: four transitions


def _window(period: Period, span: DataSpan, tz: str) -> Window:
    return Window.of(period, tz=tz, data_as_of=span.data_as_of)


def loyalty_facts(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, rules: TierRules, csat_threshold: int
) -> pl.DataFrame:
    """One row per customer: RFM at the period's as_of and the period's service facts (the what-if's
    input; the value thresholds are not used, the churn window is)."""
    window = _window(period, span, tz)
    return customer_facts(frames, window, rules=rules, csat_threshold=csat_threshold).collect()


@dataclass(frozen=True, slots=True)
class WhatIf:
    current: pl.DataFrame  # whatif_summary under the current rules
    proposed: pl.DataFrame  # … under the slider rules
    matrix: pl.DataFrame  # tier_from, tier_to, customers (all 16 pairs)
    changes: pl.DataFrame  # the customers who change tier (first TIER_CHANGE_LIMIT)
    changes_total: int
    cost: dict[str, Any]  # service_cost of the proposed rules against the current ones


TIER_CHANGE_LIMIT = 500


def what_if(
    facts: pl.DataFrame, *, current: TierRules, proposed: TierRules, vip_customers_per_agent: int
) -> WhatIf:
    """Everything a slider move shows: re-tier under both rules and compare (the hot path: no I/O)."""
    now, then = whatif_summary(facts, current), whatif_summary(facts, proposed)
    matrix = migration_counts(facts, current, proposed).collect()
    changes, total = tier_changes(facts, current, proposed, limit=TIER_CHANGE_LIMIT)
    cost = service_cost(then, vip_customers_per_agent=vip_customers_per_agent, current=now)
    return WhatIf(current=now, proposed=then, matrix=matrix, changes=changes, changes_total=total, cost=cost)


@dataclass(frozen=True, slots=True)
class LifecycleView:
    flow: pl.DataFrame  # FLOW_SCHEMA of cxdash.metrics.loyalty
    win_back: dict[str, Any]  # value, n, won_back
    labels: list[str]
    churn: pl.DataFrame  # complaint_churn: unresolved against resolved complainers
    churn_period: Period | None  # the latest period whose complainers' W days have passed


def lifecycle_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, rules: TierRules
) -> LifecycleView:
    """Stages at the end of the last quarters up to the period (a Sankey of the moves between them) and
    the period's win-back rate."""
    periods = [period]
    while len(periods) < FLOW_PERIODS and periods[-1].previous().end(tz) > span.first:
        periods.append(periods[-1].previous())
    periods.reverse()
    ends = [_window(p, span, tz).as_of for p in periods]
    flow, win_back = pl.collect_all(
        [
            lifecycle_flow(
                frames.orders,
                frames.customers,
                period_ends=ends,
                rules=rules,
                labels=[p.label for p in periods],
            ),
            win_back_rate(
                frames.orders,
                frames.customers,
                _window(period, span, tz),
                churn_window_days=rules.churn_window_days,
            ),
        ]
    )
    churn_period = followed_up(period, span, tz, rules.churn_window_days)
    churn = (
        pl.DataFrame(
            schema={"outcome": pl.String, "customers": pl.Int64, "churned": pl.Int64, "churn_pct": pl.Float64}
        )
        if churn_period is None
        else complaint_churn(
            frames,
            _window(churn_period, span, tz).start,
            _window(churn_period, span, tz).end,
            data_as_of=span.data_as_of,
            window_days=rules.churn_window_days,
        ).collect()
    )
    return LifecycleView(
        flow=flow,
        win_back=win_back.row(0, named=True),
        labels=[p.label for p in periods],
        churn=churn,
        churn_period=churn_period,
    )


def cohort_view(frames: Frames, period: Period, *, span: DataSpan, tz: str) -> pl.DataFrame:
    """Retention of signup-quarter cohorts up to the period's as_of (the last eight cohorts)."""
    table = cohort_retention(
        frames.orders, frames.customers, tz=tz, as_of=_window(period, span, tz).as_of
    ).collect()
    last = table["cohort"].unique().sort().tail(8).to_list()
    return table.filter(pl.col("cohort").is_in(last))


def clv_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, rules: TierRules, facts: pl.DataFrame
) -> pl.DataFrame:
    """Historic CLV per tier (METRICS.md: margin 0.3 × annual revenue × 1 / annual churn of the tier,
    at most 10 years) over the tier's customers with revenue in the last 365 days: n, mean, quartiles,
    5th and 95th percentiles (linear), total, and the tier's annual churn and expected lifetime."""
    window = _window(period, span, tz)
    churn = annual_churn_by_tier(frames.orders, frames.customers, as_of=window.as_of, rules=rules)
    clv = historic_clv(with_tiers(facts.lazy(), rules), churn).filter(pl.col("clv") > 0)
    value = pl.col("clv")
    return (
        clv.group_by(pl.col("tier").cast(pl.String))
        .agg(
            pl.len().alias("n"),
            value.mean().alias("mean"),
            value.sum().alias("total"),
            *(
                value.quantile(q, interpolation="linear").alias(name)
                for q, name in ((0.05, "p05"), (0.25, "q1"), (0.5, "median"), (0.75, "q3"), (0.95, "p95"))
            ),
            pl.col("lifetime_years").first().alias("lifetime_years"),
        )
        .join(churn.select(pl.col("tier").cast(pl.String), "annual_churn_rate"), on="tier", how="right")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int64), pl.col("tier").cast(pl.Enum(TIERS)))
        .sort("tier")
        .with_columns(pl.col("tier").cast(pl.String))
        .collect()
    )


@dataclass(frozen=True, slots=True)
class PointsView:
    points: dict[str, Any]  # earned_points, redeemed_points, expired_points, liability_points
    members: pl.DataFrame  # members_vs_non_members


def points_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, csat_threshold: int
) -> PointsView:
    """The points programme in the period and members against non-members."""
    window = _window(period, span, tz)
    points, members = pl.collect_all(
        [
            points_summary(frames.loyalty_ledger, window),
            members_vs_non_members(frames, window, csat_threshold=csat_threshold),
        ]
    )
    return PointsView(points=points.row(0, named=True), members=members)
