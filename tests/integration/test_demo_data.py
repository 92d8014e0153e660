"""The demo generator: deterministic, consistent with the contract, and realistic in shape."""

from datetime import UTC, datetime

import polars as pl
import pytest

from cxdash.demo.generator import DemoConfig, generate
from cxdash.errors import InputError
from cxdash.load import read_table, table_schema
from tests.conftest import SMALL


def test_same_arguments_same_data(small_frames):
    again = generate(SMALL)
    for name, frame in small_frames.items():
        assert frame.equals(again[name]), name


def test_another_seed_gives_other_data(small_frames):
    other = generate(DemoConfig(scale="small", seed=8, end_date=SMALL.end_date))
    assert not other["tickets"].equals(small_frames["tickets"])


def test_unknown_scale_or_locale_is_a_clear_error():
    with pytest.raises(InputError, match="scale"):
        DemoConfig(scale="huge", seed=1, end_date=SMALL.end_date)
    with pytest.raises(InputError, match="locale"):
        DemoConfig(scale="small", seed=1, end_date=SMALL.end_date, locale="fr_FR")


def test_sizes_are_about_the_scale(small_frames):
    # within 20% of the sizes before the demo was made realistic (5k customers, 50k orders, 20k tickets)
    assert small_frames["customers"].height == 6_000
    assert 17_000 <= small_frames["tickets"].height <= 20_000
    assert 36_000 <= small_frames["orders"].height <= 40_000


def test_frames_have_the_contract_columns_and_types(small_frames):
    for name, frame in small_frames.items():
        expected = table_schema(name)
        assert frame.columns == list(expected), name


def test_written_database_reads_back_identically(small_db, small_frames):
    for name in ("tickets", "surveys", "customers", "agents", "annotations", "kpi_targets", "loyalty_ledger"):
        back = read_table(small_db, name)
        expected = small_frames[name].select(pl.col(c).cast(t) for c, t in table_schema(name).items())
        assert back.sort(back.columns[0]).equals(expected.sort(expected.columns[0])), name


def test_every_timestamp_is_inside_the_window(small_frames):
    end = datetime(2026, 11, 15, 16, tzinfo=UTC)  # local midnight after the end date, in UTC
    for name, frame in small_frames.items():
        for column in frame.select(pl.col(pl.Datetime)).columns:
            latest = frame[column].max()
            assert latest is None or latest < end, (name, column)


def test_ticket_timestamps_agree_with_status(small_frames):
    t = small_frames["tickets"]
    assert t.filter(pl.col("first_response_at") < pl.col("created_at")).height == 0
    assert t.filter(pl.col("resolved_at") < pl.col("first_response_at")).height == 0
    assert t.filter(pl.col("closed_at") < pl.col("resolved_at")).height == 0
    by_status = t.group_by("status").agg(
        pl.col("resolved_at").is_null().all().alias("never_resolved"),
        pl.col("resolved_at").is_not_null().all().alias("all_resolved"),
        pl.col("closed_at").is_not_null().all().alias("all_closed"),
    )
    rows = {r["status"]: r for r in by_status.to_dicts()}
    assert rows["resolved"]["all_resolved"] and not rows["resolved"]["all_closed"]
    assert rows["closed"]["all_closed"]
    for status in ("new", "open", "pending"):
        assert rows[status]["never_resolved"], status
    # open tickets cluster near the end date
    open_created = t.filter(pl.col("status").is_in(["new", "open", "pending"]))["created_at"]
    assert open_created.median() > datetime(2026, 10, 1, tzinfo=UTC)
    # bot-resolved tickets have no agent and no agent reply
    bot_done = t.filter(
        pl.col("bot_handled") & (pl.col("agent_replies") == 0) & pl.col("resolved_at").is_not_null()
    )
    assert bot_done.height > 0
    assert bot_done["agent_id"].null_count() == bot_done.height
    # severity only on complaints
    assert t.filter(~pl.col("is_complaint") & pl.col("severity").is_not_null()).height == 0


def test_events_follow_each_tickets_timestamps(small_frames):
    t = small_frames["tickets"]
    e = small_frames["ticket_events"]
    firsts = e.group_by("ticket_id").agg(
        pl.col("stage").first().alias("first_stage"),
        pl.col("occurred_at").first().alias("first_at"),
        (pl.col("stage") == "reopened").sum().alias("reopens"),
        pl.col("occurred_at").filter(pl.col("stage") == "resolved").max().alias("last_resolved"),
        pl.col("occurred_at").filter(pl.col("stage") == "closed").max().alias("closed"),
        pl.col("occurred_at").is_sorted().alias("in_order"),
    )
    joined = t.join(firsts, on="ticket_id", how="left")
    assert joined["first_stage"].null_count() == 0
    assert (joined["first_stage"] == "registered").all()
    assert (joined["first_at"] == joined["created_at"]).all()
    assert joined["in_order"].all()
    assert (joined["reopens"] == joined["reopen_count"]).all()
    resolved = joined.filter(pl.col("resolved_at").is_not_null())
    assert (resolved["last_resolved"] == resolved["resolved_at"].dt.truncate("1s")).all()
    closed = joined.filter(pl.col("closed_at").is_not_null())
    assert (closed["closed"] == closed["closed_at"]).all()
    assert e["event_id"].is_unique().all()
    assert e.height / t.height >= 4.5


def test_surveys_follow_tickets_and_respect_scales(small_frames):
    s = small_frames["surveys"]
    ranges = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
    for kind, (lo, hi) in ranges.items():
        scores = s.filter(pl.col("kind") == kind)["score"].drop_nulls()
        assert scores.len() > 0 and scores.min() >= lo and scores.max() <= hi, kind
    assert s.filter((pl.col("kind") == "nps") & pl.col("ticket_id").is_not_null()).height == 0
    assert s.filter((pl.col("kind") != "nps") & pl.col("ticket_id").is_null()).height == 0
    assert s.filter(pl.col("responded_at") < pl.col("sent_at")).height == 0
    assert s.filter(pl.col("responded_at").is_null() & pl.col("score").is_not_null()).height == 0
    assert s["survey_id"].is_unique().all()
    joined = s.join(small_frames["tickets"], on="ticket_id")
    assert joined.filter(pl.col("sent_at") < pl.col("resolved_at")).height == 0
    rate = s.filter(pl.col("kind") == "csat")["responded_at"].is_not_null().mean()
    assert 0.15 < rate < 0.45


def test_loyalty_points_follow_purchases_and_never_go_negative(small_frames):
    ledger = small_frames["loyalty_ledger"]
    members = small_frames["customers"].filter(pl.col("is_loyalty_member"))["customer_id"]
    assert ledger["customer_id"].is_in(members.implode()).all()
    balances = ledger.sort("occurred_at", "entry_id").with_columns(
        pl.col("points").cast(pl.Int64).cum_sum().over("customer_id").alias("balance")
    )
    assert balances["balance"].min() >= 0
    purchases = ledger.filter(pl.col("reason") == "purchase").height
    member_orders = small_frames["orders"].filter(
        (pl.col("status") == "completed") & pl.col("customer_id").is_in(members.implode())
    )
    assert purchases == member_orders.height
    assert set(ledger["reason"].unique()) == {"purchase", "bonus", "redeem", "expire"}


def test_chinese_locale_has_chinese_names_cities_and_comments(small_frames):
    customers = small_frames["customers"]
    assert customers["name"].str.contains(r"^[\p{Han}]{2,4}$").mean() > 0.95
    assert "华东" in customers["region"].to_list()
    comments = small_frames["surveys"]["comment"].drop_nulls()
    assert comments.len() > 100 and comments.str.contains(r"\p{Han}").all()
    assert small_frames["customers"]["customer_id"][0] == "C0000001"  # leading zeros survive


def test_english_locale():
    frames = generate(DemoConfig(scale="small", seed=3, end_date=SMALL.end_date, locale="en_US"))
    assert frames["customers"]["name"].str.contains(r"^[A-Za-z'\-]+ [A-Za-z'\-]+$").mean() > 0.95
    assert not frames["surveys"]["comment"].drop_nulls().str.contains(r"\p{Han}").any()
    assert "new chat vendor" in frames["annotations"]["label"].to_list()


def test_reference_tables_are_filled(small_frames):
    assert small_frames["sla_policies"].height == 4
    targets = small_frames["kpi_targets"]
    assert {"csat_pct", "nps", "frt_median_min"} <= set(targets["metric"])
    assert targets.filter(pl.col("team_id").is_not_null()).height > 0
    labels = small_frames["annotations"]["label"].to_list()
    assert any("new chat vendor" in label for label in labels)
    assert small_frames["agents"]["active"].sum() < small_frames["agents"].height
