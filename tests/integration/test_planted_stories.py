"""Each planted story of data/README.md is present in the generated (medium) demo data, with margin.

Every threshold below is the story's documented threshold with 20% to spare (MARGIN): a story that
is only just visible would turn into noise at another seed or scale.
"""

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from cxdash.config import TierThresholds
from cxdash.periods import parse_period

TZ = "Asia/Shanghai"
LAST_COMPLETE = parse_period("2026Q3")  # end date 2026-11-15 → 2026Q4 is partial
PREVIOUS = parse_period("2026Q2")
MARGIN = 1.2


def created_in(period, column="created_at"):
    return (pl.col(column) >= period.start(TZ)) & (pl.col(column) < period.end(TZ))


def test_a_double_charge_complaints_rise_about_60_percent(medium_frames):
    complaints = medium_frames["tickets"].filter(pl.col("is_complaint"))

    def share(period):
        rows = complaints.filter(created_in(period))
        return (rows["root_cause"] == "billing.double_charge").sum() / rows.height

    earlier = np.mean([share(parse_period(q)) for q in ("2025Q3", "2025Q4", "2026Q1", "2026Q2")])
    rise = share(LAST_COMPLETE) / share(PREVIOUS)
    assert 1.35 * MARGIN <= rise <= 2.6
    assert share(LAST_COMPLETE) / earlier == pytest.approx(2.0, abs=0.3)
    # the other causes do not move that way
    late = complaints.filter(created_in(LAST_COMPLETE))
    before = complaints.filter(created_in(PREVIOUS))
    late_share = late["root_cause"].value_counts(normalize=True)
    before_share = before["root_cause"].value_counts(normalize=True)
    ratio = late_share.join(before_share, on="root_cause", suffix="_before").with_columns(
        (pl.col("proportion") / pl.col("proportion_before")).alias("ratio")
    )
    assert ratio.sort("ratio", descending=True)["root_cause"][0] == "billing.double_charge"


def test_b_one_agent_has_low_csat_on_the_same_mix_and_reopens_often(medium_frames):
    tickets = medium_frames["tickets"].filter(pl.col("team_id") == "T02")
    rated = (
        medium_frames["surveys"]
        .filter((pl.col("kind") == "csat") & pl.col("score").is_not_null())
        .join(tickets.select("ticket_id", "agent_id", "channel"), on="ticket_id")
    )
    per_agent = rated.group_by("agent_id").agg(
        (100 * (pl.col("score") >= 4).mean()).alias("csat"), pl.len().alias("n")
    )
    bad = per_agent.filter(pl.col("agent_id") == "A0203")["csat"][0]
    peers = per_agent.filter(pl.col("agent_id") != "A0203")["csat"].median()
    assert 10 * MARGIN <= peers - bad <= 22
    # same ticket mix: the channel shares of A0203 and of the team differ by little
    mix = tickets.filter(pl.col("agent_id").is_not_null()).with_columns(
        (pl.col("agent_id") == "A0203").alias("bad")
    )
    shares = (
        mix.group_by("bad", "channel").len().with_columns(pl.col("len") / pl.col("len").sum().over("bad"))
    )
    wide = shares.pivot(on="bad", index="channel", values="len")
    assert (wide["true"] - wide["false"]).abs().max() < 0.05 / MARGIN
    resolved = tickets.filter(pl.col("resolved_at").is_not_null() & pl.col("agent_id").is_not_null())
    reopen = resolved.group_by(pl.col("agent_id") == "A0203").agg((pl.col("reopen_count") > 0).mean())
    by_flag = dict(zip(reopen["agent_id"], reopen["reopen_count"], strict=True))
    assert by_flag[True] >= 2.5 * MARGIN * by_flag[False]


def test_c_resolution_rating_drives_csat_most_then_speed(medium_frames):
    rated = medium_frames["surveys"].filter((pl.col("kind") == "csat") & pl.col("score").is_not_null())
    items = ["rating_resolution", "rating_speed", "rating_attitude", "rating_knowledge"]
    data = rated.select("score", *items).to_numpy().astype(float)
    z = (data - data.mean(axis=0)) / data.std(axis=0)
    betas, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(z)), z[:, 1:]]), z[:, 0], rcond=None)
    ranking = [items[i] for i in np.argsort(-betas[1:])]
    assert ranking[:2] == ["rating_resolution", "rating_speed"]
    resolution, speed, *others = betas[1:]
    assert resolution >= MARGIN * speed
    assert speed >= MARGIN * max(others)


def test_d_chat_first_response_worsens_after_the_vendor_change(medium_frames):
    tickets = medium_frames["tickets"].with_columns(
        ((pl.col("first_response_at") - pl.col("created_at")).dt.total_seconds() / 60).alias("frt_min")
    )

    def median_frt(period, channel):
        return tickets.filter(created_in(period) & (pl.col("channel") == channel))["frt_min"].median()

    assert median_frt(LAST_COMPLETE, "chat") >= 1.5 * MARGIN * median_frt(PREVIOUS, "chat")
    for other in ("phone", "email", "app"):
        assert median_frt(LAST_COMPLETE, other) <= 1.25 / MARGIN * median_frt(PREVIOUS, other), other
    vendor = medium_frames["annotations"].filter(pl.col("label").str.contains("new chat vendor"))
    assert vendor.height == 1
    assert LAST_COMPLETE.start_date <= vendor["on_date"][0] < LAST_COMPLETE.end_date


def test_e_customers_left_with_an_unresolved_complaint_churn_twice_as_often(medium_frames):
    tickets, orders = medium_frames["tickets"], medium_frames["orders"]
    window = timedelta(days=180)
    data_as_of = tickets["created_at"].max()
    complaints = tickets.filter(pl.col("is_complaint") & (pl.col("created_at") < data_as_of - window))
    unresolved = complaints.filter(pl.col("resolved_at").is_null() & (pl.col("status") == "closed"))
    first_unresolved = unresolved.group_by("customer_id").agg(pl.col("created_at").min().alias("at"))
    resolved_only = (
        complaints.join(first_unresolved, on="customer_id", how="anti")
        .group_by("customer_id")
        .agg(pl.col("created_at").min().alias("at"))
    )
    completed = orders.filter(pl.col("status") == "completed").select("customer_id", "ordered_at")

    def churn_rate(group: pl.DataFrame) -> float:
        bought_after = (
            group.join(completed, on="customer_id")
            .filter((pl.col("ordered_at") > pl.col("at")) & (pl.col("ordered_at") <= pl.col("at") + window))
            .select("customer_id")
            .unique()
        )
        return 1 - bought_after.height / group.height

    assert first_unresolved.height > 200
    assert churn_rate(first_unresolved) >= 2 * MARGIN * churn_rate(resolved_only)


def test_f_vip_customers_give_a_higher_nps(medium_frames):
    orders = medium_frames["orders"].filter(pl.col("status") == "completed")
    as_of = medium_frames["tickets"]["created_at"].max()
    t = TierThresholds()
    rfm = (
        orders.filter(pl.col("ordered_at") > as_of - timedelta(days=365))
        .group_by("customer_id")
        .agg(pl.col("amount").sum().alias("m"), pl.len().alias("f"))
    )
    vip = rfm.filter((pl.col("m") >= t.m_vip) & (pl.col("f") >= t.f_vip)).select("customer_id")
    answers = medium_frames["surveys"].filter(
        (pl.col("kind") == "nps")
        & pl.col("score").is_not_null()
        & (pl.col("responded_at") > as_of - timedelta(days=365))
    )

    def nps(frame):
        return 100 * ((frame["score"] >= 9).mean() - (frame["score"] <= 6).mean())

    vip_answers = answers.join(vip, on="customer_id")
    others = answers.join(vip, on="customer_id", how="anti")
    assert vip_answers.height >= 100
    assert nps(vip_answers) >= nps(others) + 10 * MARGIN


def test_g_november_volume_peak(medium_frames):
    for frame, column in ((medium_frames["tickets"], "created_at"), (medium_frames["orders"], "ordered_at")):
        daily = (
            frame.with_columns(pl.col(column).dt.convert_time_zone(TZ).dt.date().alias("day"))
            .filter(pl.col("day") < pl.date(2026, 10, 1))  # whole months only
            .group_by(pl.col("day").dt.truncate("1mo").alias("month"))
            .agg((pl.len() / pl.col("day").n_unique()).alias("per_day"))
        )
        november = daily.filter(pl.col("month") == pl.date(2025, 11, 1))["per_day"][0]
        others = daily.filter(pl.col("month").dt.month() != 11)["per_day"]
        assert november >= 1.3 * MARGIN * others.mean(), column
        assert november == daily["per_day"].max(), column
