"""Emerging root causes: causes with more complaints per day of data now than in the period before.

Counts are compared per day of data (exposure), so a running period is compared fairly with a whole
one (METRICS.md "Running period"), and tested with the exact Poisson test, conditional on the total
(METRICS.md "Statistics used"; `cxdash.stats.poisson_rate_p`).
"""

from datetime import datetime

import polars as pl

from cxdash import stats

COLUMNS = (
    "count_now", "count_before", "rate_now_per_day", "rate_before_per_day", "growth_pct",
    "change_per_day", "expected_now", "p_value", "significant",
)  # fmt: skip


def cause_counts(
    tickets: pl.LazyFrame, window_start: datetime, window_end: datetime, *, by: str = "root_cause"
) -> pl.LazyFrame:
    """Complaints created in [window_start, window_end) per value of `by`: `by` (String, null kept as
    its own row) and complaints. No complaints → no rows."""
    created = pl.col("created_at")
    return (
        tickets.filter(pl.col("is_complaint") & (created >= window_start) & (created < window_end))
        .group_by(pl.col(by).cast(pl.String))
        .agg(pl.len().cast(pl.Int64).alias("complaints"))
        .sort(by, nulls_last=True)
    )


def _per_cause(counts: pl.DataFrame, by: str, name: str) -> pl.DataFrame:
    return counts.group_by(pl.col(by).cast(pl.String)).agg(
        pl.col("complaints").sum().cast(pl.Int64).alias(name)
    )


def _per_day(count: str, days: float) -> pl.Expr:
    """count / days; null without days of data."""
    return pl.col(count) / days if days > 0 else pl.lit(None, dtype=pl.Float64)


def _p_values(now: pl.Series, before: pl.Series, now_days: float, before_days: float) -> pl.Series:
    # One exact test per cause: scipy's binomial test is not vectorised, and causes are few.
    return pl.Series(
        "p_value",
        [stats.poisson_rate_p(a, now_days, b, before_days) for a, b in zip(now, before, strict=True)],
        dtype=pl.Float64,
    )


def emerging_causes(
    current: pl.DataFrame,
    previous: pl.DataFrame,
    *,
    exposure_current_days: float,
    exposure_previous_days: float,
    alpha: float = stats.ALPHA,
    by: str = "root_cause",
) -> pl.DataFrame:
    """Per cause of either period (counts frames with `by` and complaints, as from `cause_counts`):
    counts, rates per day of data, growth, the count expected now at the old rate, the two-sided
    exact p-value, and `significant` (p < alpha and the rate grew). Significant growers first.

    A cause missing from a period counts 0 there; growth_pct is null when it had none before (a new
    cause, sorted as the fastest growing), and rates, growth and p-value are null for a period with no
    days of data. No causes → no rows.
    """
    now_days, before_days = exposure_current_days, exposure_previous_days
    counts = (
        _per_cause(current, by, "count_now")
        .join(_per_cause(previous, by, "count_before"), on=by, how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("count_now", "count_before").fill_null(0))
    )
    rate_now, rate_before = pl.col("rate_now_per_day"), pl.col("rate_before_per_day")
    return (
        counts.with_columns(
            _per_day("count_now", now_days).alias("rate_now_per_day"),
            _per_day("count_before", before_days).alias("rate_before_per_day"),
            _p_values(counts["count_now"], counts["count_before"], now_days, before_days),
        )
        .with_columns(
            pl.when(pl.col("count_before") > 0).then((rate_now / rate_before - 1) * 100).alias("growth_pct"),
            (rate_now - rate_before).alias("change_per_day"),
            (rate_before * now_days).alias("expected_now"),  # count_before × exposure ratio
            ((pl.col("p_value") < alpha) & (rate_now > rate_before)).fill_null(False).alias("significant"),
        )
        .sort(
            ["significant", "growth_pct", "p_value", by],
            descending=[True, True, False, False],
            nulls_last=[False, False, True, True],
        )
        .select(by, *COLUMNS)
    )
