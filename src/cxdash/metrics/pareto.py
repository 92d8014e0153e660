"""Complaint Pareto (the vital few causes) and its drill-down path: LazyFrames in, LazyFrame out.

The caller chooses the tickets (period, complaints, scope) and collects. Labels come back as String
with null kept as its own row (a cause not yet coded); the page names it.
"""

from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

# Complaint severity (SCHEMA.md: 1 critical … 4 minor) → weight; each grade counts twice the next.
DEFAULT_SEVERITY_WEIGHTS: Final = {1: 8.0, 2: 4.0, 3: 2.0, 4: 1.0}
# A complaint without a (known) severity weighs as a minor one: an ungraded complaint never outranks
# a graded one, and it still counts.
MISSING_SEVERITY_WEIGHT: Final = 1.0
VITAL_FEW_PCT: Final = 80.0


def severity_weight_expr(weights: Mapping[int, float] = DEFAULT_SEVERITY_WEIGHTS) -> pl.Expr:
    """Weight of each ticket's `severity`; null or unmapped severity weighs MISSING_SEVERITY_WEIGHT."""
    return (
        pl.col("severity")
        .replace_strict(dict(weights), default=MISSING_SEVERITY_WEIGHT, return_dtype=pl.Float64)
        .fill_null(MISSING_SEVERITY_WEIGHT)
    )


def root_cause_pareto(
    tickets: pl.LazyFrame, *, by: str = "root_cause", weights: Mapping[int, float] | None = None
) -> pl.LazyFrame:
    """One row per value of `by`, ranked by complaints (or by severity-weighted complaints when
    `weights` is given), with share, cumulative share, rank and the vital few up to 80 %.

    Columns: `by` (String, null kept as its own row), complaints, weighted (default weights unless
    `weights`), value (the ranking measure), share_pct, cumulative_pct, rank (1…), is_vital_few.
    Order: value descending, ties by label ascending with null last. No tickets → no rows; shares are
    null when every value is 0.
    """
    ranked_by = "weighted" if weights is not None else "complaints"
    total = pl.col("value").sum()
    running = pl.col("value").cum_sum()
    return (
        tickets.group_by(pl.col(by).cast(pl.String))
        .agg(
            pl.len().cast(pl.Int64).alias("complaints"),
            severity_weight_expr(weights or DEFAULT_SEVERITY_WEIGHTS).sum().alias("weighted"),
        )
        .with_columns(pl.col(ranked_by).cast(pl.Float64).alias("value"))
        .sort(["value", by], descending=[True, False], nulls_last=True)
        .with_columns(
            pl.when(total > 0).then(100 * pl.col("value") / total).alias("share_pct"),
            pl.when(total > 0).then(100 * running / total).alias("cumulative_pct"),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
            # A row is vital while the rows before it have not yet reached 80 %; compared on the raw
            # sums (before × 100 < 80 × total) so a boundary at exactly 80 % is not lost to rounding.
            ((running - pl.col("value")) * 100 < VITAL_FEW_PCT * total).alias("is_vital_few"),
        )
    )


def pareto_path_filter(path: Sequence[tuple[str, str | None]]) -> pl.Expr:
    """AND of `column == value` along a drill path (compared as text; None matches null); an empty
    path keeps every row."""
    condition = pl.lit(True)
    for column, value in path:
        label = pl.col(column).cast(pl.String)
        condition &= label.is_null() if value is None else label.eq(value).fill_null(False)
    return condition


def with_product_category(tickets: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
    """Adds the `product_category` of each ticket's order; null when the ticket has no order or the
    order is not among `orders`."""
    return tickets.join(
        orders.select("order_id", "product_category"), on="order_id", how="left", maintain_order="left"
    )
