"""Orders and the loyalty-points ledger of the demo."""

import numpy as np
import polars as pl

from cxdash.demo.arrays import to_datetime
from cxdash.demo.calendar import DAY, Timeline, TimeSampler
from cxdash.demo.people import Customers, customers_at
from cxdash.demo.vocab import PRODUCT_CATEGORIES


def build_orders(
    rng: np.random.Generator, timeline: Timeline, sampler: TimeSampler, customers: Customers, n: int
) -> pl.DataFrame:
    """`n` orders from the start of the history, timed by the order rhythm (so volume grows 12% a year
    and peaks on 618 and 双十一), each given to a customer buying at that time.

    Carries the hidden column `_row` (customer index) for later steps; the writer drops `_`-columns.
    """
    start = timeline.history_start
    # One-time buyers order once, days after signing up; the repeat buyers share the other orders.
    first = customers.signup + np.exp(rng.normal(np.log(3 * DAY), 1.2, len(customers.signup))).astype(
        np.int64
    )
    once = np.flatnonzero(customers.one_time & (first >= start) & (first < timeline.end))
    when = np.sort(
        sampler.draw(rng, np.full(n - len(once), float(start)), np.full(n - len(once), float(timeline.end)))
    )
    repeat_rate = np.where(customers.one_time, 0.0, customers.propensity)
    who = np.concatenate([customers_at(rng, customers, repeat_rate, when, start, timeline.end), once])
    when = np.concatenate([when, first[once]])
    # An order drawn before its buyer signed up (or after they lapsed) within the bucket moves inside.
    lo = np.maximum(customers.signup[who], start)
    hi = np.minimum(customers.lapse[who], timeline.end)
    outside = (when < lo) | (when >= hi)
    when[outside] = lo[outside] + (rng.random(outside.sum()) * np.maximum(hi - lo, 1)[outside]).astype(
        np.int64
    )
    order = np.argsort(when, kind="stable")
    who, when = who[order], when[order]
    cat_idx = rng.choice(len(PRODUCT_CATEGORIES), size=n, p=[c[1] for c in PRODUCT_CATEGORIES])
    multiplier = np.array([c[2] for c in PRODUCT_CATEGORIES])[cat_idx]
    amount = np.maximum(1.0, np.exp(rng.normal(np.log(160), 0.8, n)) * multiplier * customers.spend[who])
    status = rng.choice(3, size=n, p=[0.88, 0.07, 0.05])
    return pl.DataFrame(
        {
            "order_id": np.char.add("O", np.char.zfill(np.arange(1, n + 1).astype(str), 9)),
            "customer_id": customers.frame["customer_id"].to_numpy()[who],
            "ordered_at": to_datetime(when),
            "amount": np.round(amount, 2),
            "product_category": np.array([c[0] for c in PRODUCT_CATEGORIES])[cat_idx],
            "status": np.array(["completed", "refunded", "cancelled"])[status],
            "_row": who,
        }
    )


def build_loyalty_ledger(
    rng: np.random.Generator, timeline: Timeline, orders: pl.DataFrame, customers: pl.DataFrame
) -> pl.DataFrame:
    """Points that follow purchases: 1 point per currency unit, a welcome bonus, redemptions and expiry.

    Purchases are grouped per member in blocks of three; a block is either partly redeemed after its
    last purchase or, sometimes, partly expires a year later. Deductions never exceed what the block
    earned, so no balance goes negative.
    """
    members = customers.filter(pl.col("is_loyalty_member")).select("customer_id", "signup_at")
    purchases = (
        orders.filter(pl.col("status") == "completed")
        .join(members.select("customer_id"), on="customer_id")
        .sort("customer_id", "ordered_at")
        .select(
            "customer_id",
            (pl.col("ordered_at") + pl.duration(minutes=1)).alias("occurred_at"),
            pl.col("amount").floor().cast(pl.Int64).alias("points"),
            pl.lit("purchase").alias("reason"),
            (pl.int_range(pl.len()).over("customer_id") // 3).alias("block"),
        )
    )
    blocks = (
        purchases.group_by("customer_id", "block")
        .agg(pl.col("points").sum().alias("earned"), pl.col("occurred_at").max().alias("last_at"))
        .sort("customer_id", "block")
    )
    fate = rng.random(blocks.height)
    end = to_datetime(np.array([timeline.end - 1]))[0]
    redeem = blocks.filter(pl.Series(fate < 0.45)).select(
        "customer_id",
        (pl.col("last_at") + pl.duration(days=3)).alias("occurred_at"),
        (-(pl.col("earned") * 0.7 // 100) * 100).cast(pl.Int64).alias("points"),
        pl.lit("redeem").alias("reason"),
    )
    expire = blocks.filter(pl.Series((fate >= 0.45) & (fate < 0.65))).select(
        "customer_id",
        (pl.col("last_at") + pl.duration(days=365)).alias("occurred_at"),
        (-(pl.col("earned") // 2)).cast(pl.Int64).alias("points"),
        pl.lit("expire").alias("reason"),
    )
    bonus = members.select(
        "customer_id",
        (pl.col("signup_at") + pl.duration(hours=1)).alias("occurred_at"),
        pl.lit(100, pl.Int64).alias("points"),
        pl.lit("bonus").alias("reason"),
    )
    return (
        pl.concat([bonus, purchases.drop("block"), redeem, expire])
        .filter((pl.col("occurred_at") <= end) & (pl.col("points") != 0))
        .sort("occurred_at", "customer_id")
        .with_columns(pl.int_range(1, pl.len() + 1).alias("entry_id"))
        .select("entry_id", "customer_id", "occurred_at", pl.col("points").cast(pl.Int32), "reason")
    )
