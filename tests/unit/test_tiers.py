"""RFM, value tiers, lifecycle stages, tier churn and CLV on small hand-built frames; every expected value
is worked out by hand in a comment. Property tests check the rules against a plain-Python reading."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cxdash.config import TierThresholds
from cxdash.metrics.tiers import (
    STAGES,
    TIERS,
    TierRules,
    annual_churn_by_tier,
    customer_rfm,
    historic_clv,
    migration_counts,
    migration_matrix,
    tier_summary,
    with_tiers,
)
from tests.kpi_frames import frame

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
RULES = TierRules(m_vip=1000.0, f_vip=4, m_high=500.0, f_high=3, r_risk_days=90, churn_window_days=180)
TIER = pl.Enum(TIERS)
STAGE = pl.Enum(STAGES)


def ago(days: float, hours: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours)


def order(customer: str, when: datetime, amount: float, status: str = "completed") -> dict:
    return {"customer_id": customer, "ordered_at": when, "amount": amount, "status": status}


def lazy(orders: list[dict], customers: list[dict]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    return frame("orders", orders).lazy(), frame("customers", customers).lazy()


# as_of 2026-10-01 00:00 UTC; rules: vip M ≥ 1000 & F ≥ 4, high_value M ≥ 500 | F ≥ 3, r_risk 90, W 180.
ORDERS = [
    # c1: F = 4, M = 400 + 200 + 300 + 100 = 1000.00 = m_vip, F = f_vip → vip; R = 5 → active.
    order("c1", ago(90), 400.0),
    order("c1", ago(30), 200.0),
    order("c1", ago(10), 300.0),
    order("c1", ago(5), 100.0),
    order("c1", ago(1), 5000.0, "refunded"),  # not completed: ignored
    order("c1", AS_OF + timedelta(hours=1), 5000.0),  # after as_of: ignored
    # c2: F = 4, M = 333.33 + 333.33 + 333.32 + 0.01 = 999.99 < m_vip → high_value (M ≥ 500);
    # R = 91 → at_risk.
    order("c2", ago(200), 333.33),
    order("c2", ago(150), 333.33),
    order("c2", ago(120), 333.32),
    order("c2", ago(91), 0.01),
    # c3: F = 1, M = 500.00 = m_high → high_value; last order exactly W = 180 days ago → at_risk (not > W).
    order("c3", ago(180), 500.0),
    # c4: F = 3 = f_high, M = 30 → high_value; R = 90 = r_risk → active. Gaps 100 and 110 days ≤ W.
    order("c4", ago(300), 10.0),
    order("c4", ago(200), 10.0),
    order("c4", ago(90), 10.0),
    # c5: F = 2, M = 250 + 249.99 = 499.99 → regular; last order 180 days 1 hour ago: recency_days 180 but
    # the exact duration is > W → churned.
    order("c5", ago(250), 250.0),
    order("c5", ago(180, 1), 249.99),
    # c6 (no signup_at, known by its order): last order 400 days ago, none in 365 days: F = M = 0,
    # no RFM → regular, churned.
    order("c6", ago(400), 5000.0),
    # c7: only a cancelled order → prospect, stage null.
    order("c7", ago(20), 80.0, "cancelled"),
    # c8: completed orders 276 and 95 days ago: the gap is 181 days = W + 1 > W and the return is within
    # W → won_back (overrides at_risk, R = 95). The refunded order between does not break the gap.
    # M = 0.1 + 0.2 = 0.30000000000000004 in floats → 0.30 to the cent.
    order("c8", ago(276), 0.1),
    order("c8", ago(100), 999.0, "refunded"),
    order("c8", ago(95), 0.2),
    # c9: orders 275 and 95 days ago: the gap is exactly W = 180 days → not won back; R = 95 → at_risk.
    # M = 0.15 + 0.15 = 0.30, ties with c8.
    order("c9", ago(275), 0.15),
    order("c9", ago(95), 0.15),
    # c10 signs up after as_of: left out.
    order("c10", AS_OF + timedelta(days=2), 50.0),
]
CUSTOMERS = [
    *({"customer_id": f"c{i}", "signup_at": ago(500)} for i in (1, 2, 3, 4, 5, 8, 9)),
    {"customer_id": "c6", "signup_at": None},
    {"customer_id": "c7", "signup_at": ago(30)},
    {"customer_id": "c10", "signup_at": AS_OF + timedelta(days=1)},
]
IDS = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]


@pytest.fixture(scope="module")
def rfm() -> pl.DataFrame:
    orders, customers = lazy(ORDERS, CUSTOMERS)
    return customer_rfm(orders, customers, as_of=AS_OF, churn_window_days=180).sort("customer_id").collect()


@pytest.fixture(scope="module")
def tiered(rfm) -> pl.DataFrame:
    return with_tiers(rfm.lazy(), RULES).collect()


def test_rfm_values(rfm):
    expected = pl.DataFrame(
        {
            "customer_id": IDS,
            "last_order_at": [
                ago(5),
                ago(91),
                ago(180),
                ago(90),
                ago(180, 1),
                ago(400),
                None,
                ago(95),
                ago(95),
            ],
            "since_last_order": [
                timedelta(days=d, hours=h)
                for d, h in [(5, 0), (91, 0), (180, 0), (90, 0), (180, 1), (400, 0)]
            ]
            + [None, timedelta(days=95), timedelta(days=95)],
            "recency_days": [5, 91, 180, 90, 180, 400, None, 95, 95],
            "frequency": [4, 4, 1, 3, 2, 0, 0, 2, 2],
            "monetary": [1000.0, 999.99, 500.0, 30.0, 499.99, 0.0, 0.0, 0.3, 0.3],
            "has_bought": [True, True, True, True, True, True, False, True, True],
            "won_back": [False, False, False, False, False, False, False, True, False],
        },
        schema_overrides={
            "last_order_at": pl.Datetime("us", "UTC"),
            "since_last_order": pl.Duration("us"),
        },
    )
    assert_frame_equal(rfm.drop("r_score", "f_score", "m_score"), expected, check_exact=True)


def test_rfm_scores_are_quintiles_of_min_ranks(rfm):
    # n = 7 customers with RFM (c6, c7 have none); score = 1 + floor(5 × (rank − 1) / 7):
    # rank 1 → 1, 2 → 1, 3 → 2, 4 → 3, 5 → 3, 6 → 4, 7 → 5.
    # R, descending days (oldest first): 180 c3, c5 → rank 1; 95 c8, c9 → 3; 91 c2 → 5; 90 c4 → 6; 5 c1 → 7.
    # F ascending: 1 c3 → 1; 2 c5, c8, c9 → 2; 3 c4 → 5; 4 c1, c2 → 6.
    # M ascending: 0.30 c8, c9 → 1; 30 c4 → 3; 499.99 c5 → 4; 500 c3 → 5; 999.99 c2 → 6; 1000 c1 → 7.
    expected = pl.DataFrame(
        {
            "r_score": [5, 3, 1, 4, 1, None, None, 2, 2],
            "f_score": [4, 4, 1, 3, 1, None, None, 1, 1],
            "m_score": [5, 4, 3, 2, 3, None, None, 1, 1],
        },
        schema={"r_score": pl.Int8, "f_score": pl.Int8, "m_score": pl.Int8},
    )
    assert_frame_equal(rfm.select("r_score", "f_score", "m_score"), expected)


def test_money_is_rounded_before_ranking():
    # a: 0.1 + 0.2 = 0.30000000000000004, b: 0.30. To the cent they tie at rank 1 of n = 2 → score 1 both;
    # unrounded, a would rank 2 → 1 + floor(5 × 1 / 2) = 3.
    orders, customers = lazy(
        [order("a", ago(3), 0.1), order("a", ago(2), 0.2), order("b", ago(3), 0.3)],
        [{"customer_id": "a", "signup_at": ago(9)}, {"customer_id": "b", "signup_at": ago(9)}],
    )
    scores = customer_rfm(orders, customers, as_of=AS_OF).sort("customer_id").collect()
    assert scores["monetary"].to_list() == [0.3, 0.3]
    assert scores["m_score"].to_list() == [1, 1]


def test_tiers_and_stages(tiered):
    hv, risk = "high_value", "at_risk"
    expected = pl.DataFrame(
        {
            "customer_id": IDS,
            # c1 M = m_vip & F = f_vip; c2 M one cent short; c3 M = m_high; c4 F = f_high; c5 M one cent
            # short of m_high; c6 lapsed buyer; c7 never bought; c8, c9 small buyers.
            "tier": ["vip", hv, hv, hv, "regular", "regular", "prospect", "regular", "regular"],
            # c1 R 5; c2 R 91 > 90; c3 exactly W; c4 R = r_risk; c5 W + 1 h; c6 400 d; c7 prospect;
            # c8 gap W + 1 d; c9 gap exactly W.
            "stage": ["active", risk, risk, "active", "churned", "churned", None, "won_back", risk],
        },
        schema={"customer_id": pl.String, "tier": TIER, "stage": STAGE},
    )
    assert_frame_equal(tiered.select("customer_id", "tier", "stage"), expected)


def test_customers_without_signup_need_an_order():
    # n1 has no signup_at and no order → unknown at as_of; n2 has no signup_at and only a refunded
    # order → known, a prospect; s1 signed up exactly at as_of → known.
    orders, customers = lazy(
        [order("n2", ago(3), 10.0, "refunded")],
        [
            {"customer_id": "n1", "signup_at": None},
            {"customer_id": "n2", "signup_at": None},
            {"customer_id": "s1", "signup_at": AS_OF},
        ],
    )
    known = with_tiers(customer_rfm(orders, customers, as_of=AS_OF), RULES).sort("customer_id").collect()
    assert known["customer_id"].to_list() == ["n2", "s1"]
    assert known["tier"].to_list() == ["prospect", "prospect"]
    assert known["stage"].to_list() == [None, None]


def test_windows_start_exclusive():
    # "The W days up to as_of" is (as_of − W, as_of], as in kpis: a return exactly W = 180 days ago after
    # a 220-day gap is not in it → not won back; R = 180 is not > W → at_risk.
    orders, customers = lazy(
        [order("w", ago(400), 10.0), order("w", ago(180), 10.0)],
        [{"customer_id": "w", "signup_at": ago(500)}],
    )
    row = with_tiers(customer_rfm(orders, customers, as_of=AS_OF), RULES).collect().row(0, named=True)
    assert (row["won_back"], row["stage"]) == (False, "at_risk")


def test_tier_summary(tiered):
    # vip c1: 1000.00; high_value c2 + c3 + c4: 999.99 + 500 + 30 = 1529.99;
    # regular c5 + c6 + c8 + c9: 499.99 + 0 + 0.30 + 0.30 = 500.59; prospect c7: 0. Total 3030.58.
    expected = pl.DataFrame(
        {
            "tier": TIERS,
            "customers": [1, 3, 4, 1],
            "revenue": [1000.0, 1529.99, 500.59, 0.0],
            "revenue_share_pct": [
                100 * 1000 / 3030.58,
                100 * 1529.99 / 3030.58,
                100 * 500.59 / 3030.58,
                0.0,
            ],
        },
        schema={"tier": TIER, "customers": pl.Int64, "revenue": pl.Float64, "revenue_share_pct": pl.Float64},
    )
    assert_frame_equal(tier_summary(tiered.lazy()).collect(), expected)


def test_tier_summary_of_no_customers():
    # every tier present with 0; no revenue at all → the share is null.
    empty = with_tiers(customer_rfm(*lazy([], []), as_of=AS_OF), RULES)
    summary = tier_summary(empty).collect()
    assert summary["tier"].to_list() == list(TIERS)
    assert summary["customers"].to_list() == [0, 0, 0, 0]
    assert summary["revenue"].to_list() == [0.0, 0.0, 0.0, 0.0]
    assert summary["revenue_share_pct"].to_list() == [None, None, None, None]


def test_migration_matrix(rfm, tiered):
    # What-if: vip M ≥ 500 & F ≥ 1, high_value M ≥ 100 | F ≥ 3.
    # c1 vip → vip; c2 (999.99, 4), c3 (500, 1) high_value → vip; c4 (30, F 3) high_value → high_value;
    # c5 (499.99) regular → high_value; c6 (0), c8, c9 (0.30, F 2) regular → regular; c7 prospect → prospect.
    what_if = replace(RULES, m_vip=500.0, f_vip=1, m_high=100.0)
    matrix = migration_matrix(tiered.lazy(), with_tiers(rfm.lazy(), what_if)).collect()
    moved = {(row["tier_from"], row["tier_to"]): row["customers"] for row in matrix.iter_rows(named=True)}
    expected = {(a, b): 0 for a in TIERS for b in TIERS} | {
        ("vip", "vip"): 1,
        ("high_value", "vip"): 2,
        ("high_value", "high_value"): 1,
        ("regular", "high_value"): 1,
        ("regular", "regular"): 3,
        ("prospect", "prospect"): 1,
    }
    assert matrix.height == 16
    assert matrix.schema == pl.Schema({"tier_from": TIER, "tier_to": TIER, "customers": pl.Int64})
    assert moved == expected


def test_migration_counts_equal_the_matrix(rfm, tiered):
    what_if = replace(RULES, m_vip=500.0, f_vip=1, m_high=100.0)
    joined = migration_matrix(tiered.lazy(), with_tiers(rfm.lazy(), what_if)).collect()
    assert_frame_equal(migration_counts(rfm, RULES, what_if).collect(), joined)


def test_changed_rules_change_only_the_tier(rfm, tiered):
    # The same what-if as above: every column but `tier` stays as it was (stages depend on R and W only).
    what_if = with_tiers(rfm.lazy(), replace(RULES, m_vip=500.0, f_vip=1, m_high=100.0)).collect()
    assert_frame_equal(what_if.drop("tier"), tiered.drop("tier"))
    assert (what_if["tier"] != tiered["tier"]).sum() == 3  # c2, c3, c5


def test_stage_follows_r_risk():
    # r_risk 95: c2 (R 91) and c9 (R 95) become active; c8 stays won_back; tiers unchanged.
    orders, customers = lazy(ORDERS, CUSTOMERS)
    rfm = customer_rfm(orders, customers, as_of=AS_OF).sort("customer_id")
    stages = with_tiers(rfm, replace(RULES, r_risk_days=95)).collect()["stage"].to_list()
    assert stages == [
        "active",
        "active",
        "at_risk",
        "active",
        "churned",
        "churned",
        None,
        "won_back",
        "active",
    ]


def test_rules_from_settings():
    rules = TierRules.from_settings(TierThresholds(), churn_window_days=120)
    assert rules == TierRules(
        m_vip=10_000.0, f_vip=12, m_high=4_000.0, f_high=10, r_risk_days=90, churn_window_days=120
    )


# Annual churn. A year ago P = as_of − 365 d; W = 180; vip M ≥ 100 & F ≥ 2, high_value M ≥ 50 | F ≥ 10.
CHURN_RULES = TierRules(m_vip=100.0, f_vip=2, m_high=50.0, f_high=10, r_risk_days=90, churn_window_days=180)
P = AS_OF - timedelta(days=365)
CHURN_ORDERS = [
    # d1 vip at P (F 2, M 120), orders again 10 days before as_of → stayed.
    order("d1", P - timedelta(days=10), 60.0),
    order("d1", P - timedelta(days=5), 60.0),
    order("d1", ago(10), 200.0),
    # d2 vip at P, only a cancelled order since → churned.
    order("d2", P - timedelta(days=20), 60.0),
    order("d2", P - timedelta(days=15), 60.0),
    order("d2", ago(5), 60.0, "cancelled"),
    # d3 high_value at P (M 60); an order 179 days before as_of, inside W → stayed.
    order("d3", P - timedelta(days=30), 60.0),
    order("d3", ago(179), 60.0),
    # d4 high_value at P; its next order is 181 days before as_of, outside W → churned.
    order("d4", P - timedelta(days=40), 60.0),
    order("d4", ago(181), 60.0),
    # d5 high_value at P with an order exactly at P (inclusive) → stayed (order 1 day before as_of).
    order("d5", P, 60.0),
    order("d5", ago(1), 30.0),
    # d6 regular at P (M 10, F 1) → stayed.
    order("d6", P - timedelta(days=50), 10.0),
    order("d6", ago(30), 10.0),
    # d7 bought 200 days before P: not active then (outside W) → not counted.
    order("d7", P - timedelta(days=200), 60.0),
    order("d7", ago(10), 60.0),
    # d8 a prospect at P (signed up, no order yet) → never active then → not counted.
    order("d8", ago(10), 60.0),
]
CHURN_CUSTOMERS = [{"customer_id": f"d{i}", "signup_at": P - timedelta(days=400)} for i in range(1, 9)]


def test_annual_churn_by_tier():
    # vip: d1 stayed, d2 churned → 1/2 of 2; high_value: d3, d5 stayed, d4 churned → 1/3 of 3;
    # regular: d6 stayed → 0/1; prospect: n = 0 → null.
    churn = annual_churn_by_tier(*lazy(CHURN_ORDERS, CHURN_CUSTOMERS), as_of=AS_OF, rules=CHURN_RULES)
    expected = pl.DataFrame(
        {"tier": TIERS, "annual_churn_rate": [1 / 2, 1 / 3, 0.0, None], "n": [2, 3, 1, 0]},
        schema={"tier": TIER, "annual_churn_rate": pl.Float64, "n": pl.Int64},
    )
    assert_frame_equal(churn.collect(), expected)


def test_annual_churn_windows_start_exclusive():
    # e bought exactly W days before P: not active then. f bought W days − 1 hour before P (active then,
    # high_value M 60) and next exactly W days before as_of: not active now → high_value 1/1 churned.
    w = timedelta(days=180)
    orders, customers = lazy(
        [order("e", P - w, 60.0), order("f", P - w + timedelta(hours=1), 60.0), order("f", AS_OF - w, 60.0)],
        [{"customer_id": c, "signup_at": P - 2 * w} for c in ("e", "f")],
    )
    churn = annual_churn_by_tier(orders, customers, as_of=AS_OF, rules=CHURN_RULES).collect()
    assert churn["n"].to_list() == [0, 1, 0, 0]
    assert churn["annual_churn_rate"].to_list() == [None, 1.0, None, None]


def test_annual_churn_without_history_is_null():
    churn = annual_churn_by_tier(*lazy([], []), as_of=AS_OF, rules=CHURN_RULES).collect()
    assert churn["annual_churn_rate"].to_list() == [None] * 4
    assert churn["n"].to_list() == [0] * 4


def test_historic_clv():
    # lifetime = 1 / rate, at most 10 years: vip 1 / 0.5 = 2; high_value 1 / 0.25 = 4;
    # regular 1 / 0.05 = 20 → 10; prospect null → 10.
    # clv = 0.3 × M × lifetime: x1 0.3 × 1000 × 2 = 600; x2 0.3 × 300 × 4 = 360; x3 0.3 × 100 × 10 = 300;
    # x4 lapsed regular M 0 → 0; x5 prospect → 0.
    tiered = pl.LazyFrame(
        {
            "customer_id": ["x1", "x2", "x3", "x4", "x5"],
            "tier": ["vip", "high_value", "regular", "regular", "prospect"],
            "monetary": [1000.0, 300.0, 100.0, 0.0, 0.0],
        },
        schema_overrides={"tier": TIER},
    )
    churn = pl.LazyFrame(
        {"tier": TIERS, "annual_churn_rate": [0.5, 0.25, 0.05, None], "n": [2, 4, 20, 0]},
        schema_overrides={"tier": TIER},
    )
    expected = pl.DataFrame(
        {
            "customer_id": ["x1", "x2", "x3", "x4", "x5"],
            "tier": ["vip", "high_value", "regular", "regular", "prospect"],
            "clv": [600.0, 360.0, 300.0, 0.0, 0.0],
            "lifetime_years": [2.0, 4.0, 10.0, 10.0, 10.0],
        },
        schema_overrides={"tier": TIER},
    )
    assert_frame_equal(historic_clv(tiered, churn).collect(), expected)
    # margin 0.5, cap 3 years: x1 0.5 × 1000 × 2 = 1000; x2 0.5 × 300 × 3 = 450; x3 0.5 × 100 × 3 = 150.
    other = historic_clv(tiered, churn, margin=0.5, cap_years=3.0).collect()
    assert other["clv"].to_list() == [1000.0, 450.0, 150.0, 0.0, 0.0]
    assert other["lifetime_years"].to_list() == [2.0, 3.0, 3.0, 3.0, 3.0]


def test_historic_clv_from_the_data():
    # Tiers now (same rules) from the completed orders in (as_of − 365 d, as_of]; churn rates from above
    # (high_value 1/3 → 3 years; regular 0 → the 10-year cap):
    # d1 M 200 → high_value: 0.3 × 200 × 3 = 180; d2 none in 365 days → regular, M 0 → 0;
    # d3 M 60 → high_value: 0.3 × 60 × 3 = 54; d4 M 60 (181 days ago) → high_value: 54;
    # d5 M 30 (its order at P is exactly 365 days old: outside) → regular: 0.3 × 30 × 10 = 90;
    # d6 M 10 → regular: 0.3 × 10 × 10 = 30; d7, d8 M 60 → high_value: 54.
    orders, customers = lazy(CHURN_ORDERS, CHURN_CUSTOMERS)
    tiered = with_tiers(customer_rfm(orders, customers, as_of=AS_OF), CHURN_RULES)
    churn = annual_churn_by_tier(orders, customers, as_of=AS_OF, rules=CHURN_RULES)
    clv = historic_clv(tiered, churn).sort("customer_id").collect()
    hv, reg = "high_value", "regular"
    assert clv["tier"].to_list() == [hv, reg, hv, hv, reg, reg, hv, hv]
    assert clv["clv"].to_list() == pytest.approx([180.0, 0.0, 54.0, 54.0, 90.0, 30.0, 54.0, 54.0])
    assert clv["lifetime_years"].to_list() == pytest.approx([3.0, 10.0, 3.0, 3.0, 10.0, 10.0, 3.0, 3.0])


# ---- properties ------------------------------------------------------------------------------------

HOUR = timedelta(hours=1)


def reference_tier(row: dict, rules: TierRules) -> str:
    m, f = row["monetary"], row["frequency"]
    if not row["has_bought"]:
        return "prospect"
    if m >= rules.m_vip and f >= rules.f_vip:
        return "vip"
    if m >= rules.m_high or f >= rules.f_high:
        return "high_value"
    return "regular"


def reference_stage(row: dict, rules: TierRules) -> str | None:
    if not row["has_bought"]:
        return None
    if row["since_last_order"] > timedelta(days=rules.churn_window_days):
        return "churned"
    if row["won_back"]:
        return "won_back"
    return "active" if row["recency_days"] <= rules.r_risk_days else "at_risk"


rules_strategy = st.builds(
    TierRules,
    m_vip=st.integers(0, 2000).map(lambda c: c / 2),
    f_vip=st.integers(0, 12),
    m_high=st.integers(0, 2000).map(lambda c: c / 2),
    f_high=st.integers(0, 12),
    r_risk_days=st.integers(0, 200),
    churn_window_days=st.integers(1, 400),
)
rfm_row = st.one_of(
    st.fixed_dictionaries(
        {
            "hours": st.integers(0, 800 * 24),
            "frequency": st.integers(0, 15),
            "monetary": st.integers(0, 200_000).map(lambda c: c / 100),
            "won_back": st.booleans(),
        }
    ),
    st.just(None),  # a prospect
)


def rfm_frame(rows: list[dict | None]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "customer_id": [f"p{i}" for i in range(len(rows))],
            "since_last_order": [None if r is None else r["hours"] * HOUR for r in rows],
            "recency_days": [None if r is None else r["hours"] // 24 for r in rows],
            "frequency": [0 if r is None else r["frequency"] for r in rows],
            "monetary": [0.0 if r is None else r["monetary"] for r in rows],
            "has_bought": [r is not None for r in rows],
            "won_back": [r is not None and r["won_back"] for r in rows],
        },
        schema={
            "customer_id": pl.String,
            "since_last_order": pl.Duration("us"),
            "recency_days": pl.Int64,
            "frequency": pl.Int64,
            "monetary": pl.Float64,
            "has_bought": pl.Boolean,
            "won_back": pl.Boolean,
        },
    )


@settings(deadline=None, max_examples=150)
@given(rows=st.lists(rfm_row, max_size=30), rules=rules_strategy, what_if=rules_strategy)
def test_with_tiers_follows_the_rules_and_tier_thresholds_move_only_the_tier(rows, rules, what_if):
    rfm = rfm_frame(rows)
    before = with_tiers(rfm, rules).collect()
    assert before.columns == [*rfm.collect_schema().names(), "tier", "stage"]
    for row in before.iter_rows(named=True):
        assert row["tier"] == reference_tier(row, rules)
        assert row["stage"] == reference_stage(row, rules)
    # Moving only the value thresholds changes nothing but the tier.
    moved = replace(
        rules, m_vip=what_if.m_vip, f_vip=what_if.f_vip, m_high=what_if.m_high, f_high=what_if.f_high
    )
    after = with_tiers(rfm, moved).collect()
    assert_frame_equal(after.drop("tier"), before.drop("tier"))
    assert after["tier"].to_list() == [reference_tier(row, moved) for row in after.iter_rows(named=True)]
    # The migration matrix accounts for every customer once.
    assert migration_matrix(before.lazy(), after.lazy()).collect()["customers"].sum() == len(rows)


def reference_rfm(orders: list[dict], customers: list[dict], window_days: int) -> dict[str, dict]:
    """customer_rfm read literally, in plain Python."""
    year, window = timedelta(days=365), timedelta(days=window_days)
    rows = {}
    for customer in customers:
        cid = customer["customer_id"]
        mine = [o for o in orders if o["customer_id"] == cid and o["ordered_at"] <= AS_OF]
        signup = customer["signup_at"]
        if not mine and (signup is None or signup > AS_OF):
            continue
        bought = sorted(o["ordered_at"] for o in mine if o["status"] == "completed")
        in_year = [o for o in mine if o["status"] == "completed" and o["ordered_at"] > AS_OF - year]
        last = bought[-1] if bought else None
        rows[cid] = {
            "recency_days": None if last is None else (AS_OF - last) // timedelta(days=1),
            "frequency": len(in_year),
            "monetary": round(sum(o["amount"] for o in in_year), 2),
            "has_bought": bool(bought),
            "won_back": any(t > AS_OF - window and t - prev > window for prev, t in pairwise(bought)),
        }
    scored = [r for r in rows.values() if r["frequency"] > 0]
    n = len(scored)
    for row in rows.values():
        has = row["frequency"] > 0
        # rank "min": 1 + the number of customers strictly before this one.
        r_rank = 1 + sum(o["recency_days"] > row["recency_days"] for o in scored) if has else None
        f_rank = 1 + sum(o["frequency"] < row["frequency"] for o in scored) if has else None
        m_rank = 1 + sum(o["monetary"] < row["monetary"] for o in scored) if has else None
        for name, rank in (("r_score", r_rank), ("f_score", f_rank), ("m_score", m_rank)):
            row[name] = None if rank is None else 1 + 5 * (rank - 1) // n
    return rows


order_strategy = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        # from 800 days before as_of to 5 days after, whole hours (exact W boundaries do come up)
        "ordered_at": st.integers(-800 * 24, 5 * 24).map(lambda h: AS_OF + h * HOUR),
        "amount": st.integers(1, 50_000).map(lambda c: c / 100),
        "status": st.sampled_from(["completed", "completed", "completed", "refunded", "cancelled"]),
    }
)
customer_strategy = st.builds(
    lambda cid, signup: {"customer_id": cid, "signup_at": None if signup is None else AS_OF + signup * HOUR},
    st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]),
    st.one_of(st.none(), st.integers(-900 * 24, 10 * 24)),
)


@settings(deadline=None, max_examples=150)
@given(
    orders=st.lists(order_strategy, max_size=40),
    customers=st.lists(customer_strategy, max_size=7, unique_by=lambda c: c["customer_id"]),
    window_days=st.sampled_from([30, 90, 180, 365]),
)
def test_customer_rfm_matches_a_literal_reading(orders, customers, window_days):
    result = customer_rfm(*lazy(orders, customers), as_of=AS_OF, churn_window_days=window_days).collect()
    expected = reference_rfm(orders, customers, window_days)
    columns = ["recency_days", "frequency", "monetary", "has_bought", "won_back", "r_score", "f_score"]
    got = {
        row["customer_id"]: {c: row[c] for c in [*columns, "m_score"]} for row in result.iter_rows(named=True)
    }
    assert got == expected
    scores = result.drop_nulls("r_score")
    assert scores.height == (result["frequency"] > 0).sum()
    assert scores.select(pl.min_horizontal("r_score", "f_score", "m_score").min()).item() in (1, None)
