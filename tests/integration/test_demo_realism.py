"""The medium demo looks like a real service operation to a service manager (ranges, not exact values).

Each test is one point of data/README.md "Distributions"; the ranges are those of real helpdesks and
retail shops, wide enough for any seed, narrow enough to catch the old flat, uniform data.
"""

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from cxdash.periods import parse_period

TZ = "Asia/Shanghai"
COMPLETE_QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]


@pytest.fixture(scope="module")
def tickets(medium_frames) -> pl.DataFrame:
    local = pl.col("created_at").dt.convert_time_zone(TZ)
    return medium_frames["tickets"].with_columns(
        local.dt.hour().alias("hour"),
        (local.dt.year().cast(pl.String) + "Q" + local.dt.quarter().cast(pl.String)).alias("quarter"),
        ((pl.col("first_response_at") - pl.col("created_at")).dt.total_seconds() / 60).alias("frt_min"),
        ((pl.col("resolved_at") - pl.col("created_at")).dt.total_seconds() / 3600).alias("resolution_h"),
    )


@pytest.fixture(scope="module")
def csat(medium_frames) -> pl.DataFrame:
    return medium_frames["surveys"].filter(pl.col("kind") == "csat")


def test_arrivals_follow_the_channels_opening_hours(tickets):
    night = tickets.group_by("channel").agg((pl.col("hour") < 7).mean().alias("night"))
    share = dict(night.iter_rows())
    assert share["phone"] == 0 and share["chat"] == 0  # closed at night
    assert 0.02 <= share["email"] <= 0.10 and 0.02 <= share["web_form"] <= 0.10  # written at night
    assert (tickets["hour"] < 7).mean() <= 0.05


def test_phone_waits_depend_on_the_hour(tickets):
    by_hour = tickets.filter(pl.col("channel") == "phone").group_by("hour").agg(pl.col("frt_min").median())
    assert by_hour["frt_min"].max() >= 1.8 * by_hour["frt_min"].min()


def test_email_is_answered_in_office_hours(tickets):
    email = tickets.filter((pl.col("channel") == "email") & (pl.col("priority") != "urgent"))
    reply_hour = email["first_response_at"].drop_nulls().dt.convert_time_zone(TZ).dt.hour()
    assert reply_hour.is_between(9, 17).mean() >= 0.95
    assert email["frt_min"].median() >= 120  # what arrives at night waits for the morning


def test_ticket_volume_follows_orders(tickets, medium_frames):
    orders = (
        medium_frames["orders"]
        .filter(pl.col("status") == "completed")
        .with_columns(local=pl.col("ordered_at").dt.convert_time_zone(TZ))
        .group_by(
            (
                pl.col("local").dt.year().cast(pl.String) + "Q" + pl.col("local").dt.quarter().cast(pl.String)
            ).alias("quarter")
        )
        .agg(pl.len().alias("orders"))
    )
    per_quarter = (
        tickets.group_by("quarter")
        .agg(
            pl.len().alias("tickets"),
            pl.col("is_complaint").sum().alias("complaints"),
            pl.col("order_id").is_not_null().mean().alias("order_linked"),
        )
        .join(orders, on="quarter")
        .filter(pl.col("quarter").is_in(COMPLETE_QUARTERS))
        .sort("quarter")
    )
    rows = {r["quarter"]: r for r in per_quarter.to_dicts()}
    for q in ("Q1", "Q2", "Q3"):  # year on year, about 12%
        for column in ("tickets", "orders"):
            growth = rows[f"2026{q}"][column] / rows[f"2025{q}"][column]
            assert 1.06 <= growth <= 1.20, (q, column, growth)
    rate = 1000 * per_quarter["complaints"] / per_quarter["orders"]
    assert rate.max() / rate.min() <= 1.15  # no drift without a planted cause
    assert per_quarter["order_linked"].max() - per_quarter["order_linked"].min() <= 0.03


def test_csat_is_j_shaped_with_a_real_unhappy_tail(csat):
    scores = csat["score"].drop_nulls()
    share = {s: (scores == s).mean() for s in range(1, 6)}
    assert share[1] >= 0.05 and share[1] > share[2]
    assert share[5] == max(share.values())
    assert 0.70 <= share[4] + share[5] <= 0.90


def test_rating_items_share_a_halo(csat):
    items = ["rating_resolution", "rating_speed", "rating_attitude", "rating_knowledge"]
    answers = csat.filter(pl.col("score").is_not_null()).select(items).to_numpy().astype(float)
    corr = np.corrcoef(answers.T)[np.triu_indices(4, 1)]
    assert corr.min() >= 0.3 and corr.max() <= 0.8


def test_response_rates_differ_by_channel_and_outcome(csat, tickets):
    sent = csat.join(tickets.select("ticket_id", "channel", "reopen_count"), on="ticket_id")
    by_channel = sent.group_by("channel").agg(pl.col("responded_at").is_not_null().mean().alias("rate"))
    assert by_channel["rate"].max() >= 1.8 * by_channel["rate"].min()
    by_outcome = dict(
        sent.group_by(pl.col("reopen_count") > 0).agg(pl.col("responded_at").is_not_null().mean()).iter_rows()
    )
    assert by_outcome[True] >= 1.15 * by_outcome[False]


def test_phone_and_chat_are_settled_in_the_session(tickets):
    median = dict(tickets.group_by("channel").agg(pl.col("resolution_h").median()).iter_rows())
    assert median["phone"] < 1 and median["chat"] < 1
    assert median["email"] > 12 and median["web_form"] > 12


def test_urgent_tickets_meet_their_sla_more_often(tickets, medium_frames):
    sla = tickets.join(medium_frames["sla_policies"], on="priority").with_columns(
        (pl.col("frt_min") <= pl.col("first_response_target_min")).alias("first_met"),
        (pl.col("resolution_h") * 60 <= pl.col("resolution_target_min")).alias("resolution_met"),
    )
    first = dict(sla.drop_nulls("frt_min").group_by("priority").agg(pl.col("first_met").mean()).iter_rows())
    done = dict(
        sla.drop_nulls("resolution_h").group_by("priority").agg(pl.col("resolution_met").mean()).iter_rows()
    )
    assert first["urgent"] >= first["low"] + 0.05
    assert done["urgent"] >= done["low"] + 0.05
    medians = dict(tickets.group_by("priority").agg(pl.col("frt_min").median()).iter_rows())
    assert medians["urgent"] < medians["high"] < medians["normal"] < medians["low"]


def test_purchases_are_months_apart_with_retail_repeat_rates(medium_frames):
    completed = medium_frames["orders"].filter(pl.col("status") == "completed")
    as_of = medium_frames["tickets"]["created_at"].max()
    last_year = (
        completed.filter(pl.col("ordered_at") > as_of - timedelta(days=365)).group_by("customer_id").len()
    )
    assert 0.35 <= (last_year["len"] >= 2).mean() <= 0.55
    gaps = (
        completed.sort("customer_id", "ordered_at")
        .with_columns(
            (pl.col("ordered_at").diff().over("customer_id").dt.total_seconds() / 86400).alias("gap")
        )
        .group_by("customer_id")
        .agg(pl.col("gap").mean())
        .drop_nulls()
    )
    assert gaps["gap"].median() >= 30  # the typical repeat customer buys every month or two


def test_customers_from_before_the_window_have_order_history(medium_frames):
    window_start = parse_period("2025Q1").start(TZ)
    completed = medium_frames["orders"].filter(pl.col("status") == "completed")
    assert completed["ordered_at"].min() <= window_start - timedelta(days=365)
    assert medium_frames["tickets"]["created_at"].min() >= window_start
    # the history is spread over the year before, not a burst at its start
    before = completed.filter(pl.col("ordered_at") < window_start)
    per_quarter = before.group_by(pl.col("ordered_at").dt.truncate("1q")).len()["len"]
    assert per_quarter.len() >= 4 and per_quarter.sort()[1] >= 0.5 * per_quarter.max()
