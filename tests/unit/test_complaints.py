"""Complaint volume and rate, severity grading, the churn gap, revenue at risk and causes × tiers on a
small hand-built frame; every expected value is worked out by hand in a comment."""

from datetime import UTC, datetime

import polars as pl
import pytest

from cxdash.metrics.complaints import (
    cause_by_tier,
    complaint_churn,
    complaint_volume,
    complaints_created,
    revenue_at_risk,
    severity_table,
)
from cxdash.metrics.kpis import KpiOptions, headline_kpis
from cxdash.metrics.scope import Scope, scoped
from tests.kpi_frames import END, Q3, START, at, kpi_frames

TZ = "UTC"


def complaint(tid, customer, created, **extra):
    return {
        "ticket_id": tid,
        "customer_id": customer,
        "created_at": at(created),
        "is_complaint": True,
        **extra,
    }


TICKETS = [
    # resolved after 2 h (normal priority: resolution target 1,440 min → met)
    complaint(
        "K1",
        "c1",
        "2026-08-01",
        channel="chat",
        category="billing",
        root_cause="billing.double_charge",
        severity=1,
        order_id="O1",
        resolved_at=at("2026-08-01", 120),
        closed_at=at("2026-08-02"),
    ),
    # resolved after 48 h: breached
    complaint(
        "K2",
        "c2",
        "2026-08-02",
        channel="phone",
        category="billing",
        root_cause="billing.double_charge",
        severity=3,
        order_id="O2",
        resolved_at=at("2026-08-04"),
        closed_at=at("2026-08-05"),
    ),
    # closed without a resolution: not backlog, its own group
    complaint(
        "K3",
        "c3",
        "2026-08-03",
        channel="email",
        category="delivery",
        root_cause="delivery.late",
        severity=3,
        closed_at=at("2026-08-10"),
    ),
    # ungraded, still open at the end of Q3
    complaint("K4", "c1", "2026-09-30", channel="chat", category="delivery", root_cause="delivery.late"),
    {"ticket_id": "K5", "customer_id": "c2", "created_at": at("2026-08-05"), "is_complaint": False},
    # a Q2 complaint still open on 1 October (resolved on the 5th)
    complaint(
        "K6",
        "c3",
        "2026-06-15",
        category="delivery",
        root_cause="delivery.late",
        severity=2,
        resolved_at=at("2026-10-05"),
    ),
]
ORDERS = [
    {
        "order_id": "O1",
        "customer_id": "c1",
        "ordered_at": at("2026-08-01"),
        "amount": 100.0,
        "product_category": "electronics",
    },
    {
        "order_id": "O2",
        "customer_id": "c2",
        "ordered_at": at("2026-08-02"),
        "amount": 50.0,
        "product_category": "books",
    },
    {
        "order_id": "O3",
        "customer_id": "c1",
        "ordered_at": at("2026-08-20"),
        "amount": 30.0,
        "product_category": "electronics",
    },
    {
        "order_id": "O4",
        "customer_id": "c3",
        "ordered_at": at("2026-07-15"),
        "amount": 80.0,
        "product_category": "home",
        "status": "refunded",
    },
    {
        "order_id": "O5",
        "customer_id": "c3",
        "ordered_at": at("2026-08-20"),
        "amount": 20.0,
        "product_category": "home",
    },
]
CUSTOMERS = [
    {"customer_id": "c1", "region": "华东", "name": "张三"},
    {"customer_id": "c2", "region": "华南", "name": "李四"},
    {"customer_id": "c3", "region": "华东", "name": "王五"},
]
SURVEYS = [
    {
        "survey_id": "s1",
        "kind": "csat",
        "customer_id": "c1",
        "ticket_id": "K1",
        "responded_at": at("2026-08-03"),
        "score": 5,
    },
    {
        "survey_id": "s2",
        "kind": "csat",
        "customer_id": "c2",
        "ticket_id": "K2",
        "responded_at": at("2026-08-10"),
        "score": 2,
    },
]


@pytest.fixture(scope="module")
def frames():
    return kpi_frames(tickets=TICKETS, orders=ORDERS, customers=CUSTOMERS, surveys=SURVEYS)


def rows(frame: pl.LazyFrame, *keys: str) -> dict:
    table = frame.collect()
    return {
        tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in table.iter_rows(named=True)
    }


def test_complaints_created_in_the_period(frames):
    assert sorted(complaints_created(frames, START, END).collect()["ticket_id"]) == ["K1", "K2", "K3", "K4"]


def test_volume_and_rate_equal_the_kpis(frames):
    total = rows(complaint_volume(frames, START, END, tz=TZ), "group")[None]
    # K1–K4 in Q3; completed orders O1, O2, O3, O5 (O4 refunded) → 1000 × 4 / 4
    assert (total["complaints"], total["orders"], total["rate_per_1k"]) == (4, 4, 1000.0)
    kpis = headline_kpis(frames, Q3, KpiOptions())
    assert kpis["complaints"].value == 4 and kpis["complaint_rate_per_1k_orders"].value == 1000.0


def test_rate_by_product_category_and_region(frames):
    by_product = rows(complaint_volume(frames, START, END, dimension="product_category", tz=TZ), "group")
    # electronics: K1 (O1) against O1, O3 → 500; books: K2 against O2 → 1000; home: no complaint, O5 → 0;
    # K3 and K4 have no order: their own group, with no orders and no rate
    assert by_product["electronics"]["rate_per_1k"] == 500.0
    assert by_product["books"]["rate_per_1k"] == 1000.0
    assert (by_product["home"]["complaints"], by_product["home"]["rate_per_1k"]) == (0, 0.0)
    assert (by_product[None]["complaints"], by_product[None]["orders"], by_product[None]["rate_per_1k"]) == (
        2,
        0,
        None,
    )
    by_region = rows(complaint_volume(frames, START, END, dimension="region", tz=TZ), "group")
    # 华东: K1, K3, K4 against O1, O3, O5 → 1000; 华南: K2 against O2 → 1000
    assert (by_region["华东"]["complaints"], by_region["华东"]["orders"]) == (3, 3)
    assert by_region["华南"]["rate_per_1k"] == 1000.0


def test_no_rate_by_channel_or_under_a_ticket_filter(frames):
    by_channel = rows(complaint_volume(frames, START, END, dimension="channel", tz=TZ), "group")
    assert {k: v["complaints"] for k, v in by_channel.items()} == {"chat": 2, "phone": 1, "email": 1}
    assert all(v["rate_per_1k"] is None for v in by_channel.values())
    team = scoped(frames, Scope(teams=("T01",)))
    assert rows(complaint_volume(team, START, END, tz=TZ), "group")[None]["rate_per_1k"] is None


def test_volume_by_month(frames):
    months = rows(complaint_volume(frames, START, END, period_kind="month", tz=TZ), "period")
    # August: K1, K2, K3 against O1, O2, O3, O5; September: K4, no orders → no rate
    assert (months["2026-08"]["complaints"], months["2026-08"]["orders"]) == (3, 4)
    assert (months["2026-09"]["complaints"], months["2026-09"]["rate_per_1k"]) == (1, None)


def test_severity_table(frames):
    table = rows(severity_table(frames, Q3, KpiOptions()), "severity")
    one, three, ungraded = table[1], table[3], table[None]
    # severity 1: K1 resolved in 2 h, within its target
    assert (one["complaints"], one["resolved"], one["resolution_median_h"], one["sla_pct"]) == (
        1,
        1,
        2.0,
        100.0,
    )
    # severity 3: K2 resolved in 48 h (late), K3 closed without a resolution 73 days before data_as_of
    # (breached, counted); K3 is not open at as_of
    assert (three["complaints"], three["resolved"], three["resolution_median_h"]) == (2, 1, 48.0)
    assert (three["closed_unresolved"], three["open_now"], three["sla_met"], three["sla_counted"]) == (
        1,
        0,
        0,
        2,
    )
    # ungraded: K4 open at as_of, 15 days old at data_as_of → breached
    assert (ungraded["open_now"], ungraded["sla_counted"], ungraded["sla_pct"]) == (1, 1, 0.0)
    assert (one["share_pct"], three["share_pct"], ungraded["share_pct"]) == (25.0, 50.0, 25.0)


def test_the_sla_of_the_severity_table_adds_up_to_the_kpi_on_complaints(frames):
    complaints_only = frames.with_tables(tickets=frames.tickets.filter(pl.col("is_complaint")))
    kpi = headline_kpis(complaints_only, Q3, KpiOptions())["sla_resolution_pct"]
    table = severity_table(frames, Q3, KpiOptions()).collect()
    assert kpi.n == table["sla_counted"].sum()
    assert kpi.value == pytest.approx(100 * table["sla_met"].sum() / table["sla_counted"].sum())


def test_churn_after_a_complaint(frames):
    churn = rows(
        complaint_churn(frames, START, END, data_as_of=datetime(2026, 12, 31, tzinfo=UTC), window_days=30),
        "outcome",
    )
    # unresolved: c3 (K3, 3 Aug) bought O5 on 20 Aug → not lost: 0 of 1.
    # resolved: c1 (K1, 1 Aug) bought O3 on 20 Aug; c2 (K2, 2 Aug) bought nothing after → 1 of 2 lost.
    assert (churn["unresolved"]["customers"], churn["unresolved"]["churned"]) == (1, 0)
    assert (churn["resolved"]["customers"], churn["resolved"]["churned"], churn["resolved"]["churn_pct"]) == (
        2,
        1,
        50.0,
    )


def test_churn_counts_only_complaints_whose_window_has_passed(frames):
    # data as of 1 September: K1–K3 (1–3 Aug) have their 30 days, K4 (30 Sep) would not
    early = complaint_churn(frames, START, END, data_as_of=datetime(2026, 9, 2, tzinfo=UTC), window_days=30)
    assert early.collect()["customers"].sum() == 3
    late = complaint_churn(frames, START, END, data_as_of=datetime(2026, 8, 20, tzinfo=UTC), window_days=30)
    assert late.collect().is_empty()


VALUE = pl.LazyFrame(
    {
        "customer_id": ["c1", "c2", "c3"],
        "tier": ["vip", "regular", "prospect"],
        "stage": ["active", "at_risk", None],
        "annual_revenue": [130.0, 50.0, 0.0],
        "clv": [390.0, 15.0, 0.0],
    },
)


def test_revenue_at_risk(frames):
    table = revenue_at_risk(frames, Q3, KpiOptions(), VALUE).collect()
    # open at 1 Oct: K4 (c1) and K6 (c3, resolved on the 5th); K2 rated 2 < 4 (c2); K1 rated 5 is fine
    assert table["customer_id"].to_list() == ["c1", "c2", "c3"]  # by annual revenue
    c1, c2, c3 = table.iter_rows(named=True)
    assert (c1["open_complaints"], c1["dissatisfied"], c1["causes"]) == (1, 0, ["delivery.late"])
    assert (c2["open_complaints"], c2["dissatisfied"], c2["causes"]) == (0, 1, ["billing.double_charge"])
    assert (c3["open_complaints"], c3["tier"], c3["name"]) == (1, "prospect", "王五")
    # a stricter threshold makes no one else dissatisfied, a looser one drops c2's complaint
    loose = revenue_at_risk(frames, Q3, KpiOptions(csat_threshold=2), VALUE).collect()
    assert loose["customer_id"].to_list() == ["c1", "c3"]


def test_causes_by_tier(frames):
    table = rows(cause_by_tier(complaints_created(frames, START, END), VALUE), "root_cause", "tier")
    # K1 c1 vip, K2 c2 regular (double charge); K3 c3 prospect, K4 c1 vip (late delivery)
    assert {k: v["complaints"] for k, v in table.items()} == {
        ("billing.double_charge", "regular"): 1,
        ("billing.double_charge", "vip"): 1,
        ("delivery.late", "prospect"): 1,
        ("delivery.late", "vip"): 1,
    }
