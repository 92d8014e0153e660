"""The Loyalty & customer value metrics on small hand-built frames; every expected value is worked out by
hand in a comment. Property tests check the what-if against a plain-Python reading of the tier rules."""

from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cxdash.metrics.loyalty import (
    FACT_COUNTS,
    FLOW_STAGE,
    GROUP,
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
from cxdash.metrics.tiers import TIER, TIERS, TierRules, customer_rfm, migration_matrix, with_tiers
from tests.kpi_frames import Q3, at, frame, kpi_frames

# Q3 = [2026-07-01, 2026-10-01), as_of 2026-10-01. W = 180 days: active at start = an order in
# (2026-01-02, 2026-07-01]; active at end = an order in (2026-04-04, 2026-10-01]. RFM year:
# (2025-10-01, 2026-10-01]. vip M ≥ 1000 & F ≥ 3; high_value M ≥ 500 | F ≥ 2.
RULES = TierRules(m_vip=1000.0, f_vip=3, m_high=500.0, f_high=2, r_risk_days=90, churn_window_days=180)


def order(customer: str, when: str, amount: float, status: str = "completed") -> dict:
    return {"customer_id": customer, "ordered_at": at(when), "amount": amount, "status": status}


def survey(customer: str, kind: str, score: int | None, responded: str | None) -> dict:
    return {
        "customer_id": customer,
        "kind": kind,
        "score": score,
        "responded_at": at(responded) if responded else None,
    }


def ticket(customer: str, created: str, *, complaint: bool = False) -> dict:
    return {"customer_id": customer, "created_at": at(created), "is_complaint": complaint}


def signed_up(customer: str, when: str, member: bool | None = None) -> dict:
    return {"customer_id": customer, "signup_at": at(when), "is_loyalty_member": member}


FACT_ORDERS = [
    # a: F = 2, M = 200 + 300 = 500 = m_high (the 2025 order is outside the year) → high_value.
    # Active at start (03-01), one order in the period (08-01), active at end.
    order("a", "2025-06-01", 100.0),
    order("a", "2026-03-01", 200.0),
    order("a", "2026-08-01", 300.0),
    # b: F = 1, M = 1200 → high_value (F < f_vip). Active at start (02-01), the refund does not count:
    # no completed order in (04-04, 10-01] → not active at end (churned in the period).
    order("b", "2026-02-01", 1200.0),
    order("b", "2026-05-01", 50.0, "refunded"),
    # c: F = 3 = f_vip, M = 400 + 400 + 200 = 1000 = m_vip → vip. The order exactly at the start instant
    # is in the period and in (start − W, start]: active at start. The cancelled order does not count.
    order("c", "2026-07-01", 400.0),
    order("c", "2026-08-15", 400.0),
    order("c", "2026-09-30T23:00", 200.0),
    order("c", "2026-08-20", 999.0, "cancelled"),
    # f: one order exactly at start − W = 2026-01-02: not in (start − W, start] → not active at start;
    # F = 1, M = 50 → regular.
    order("f", "2026-01-02", 50.0),
]
FACT_CUSTOMERS = [
    *(signed_up(c, "2025-01-01") for c in ("a", "b", "c", "f")),
    signed_up("d", "2026-08-01"),  # a prospect
    signed_up("e", "2026-10-05"),  # signs up after as_of: no row, its survey is dropped
]
FACT_TICKETS = [
    ticket("a", "2026-07-05", complaint=True),
    ticket("a", "2026-08-05"),
    ticket("a", "2026-06-30T23:59"),  # before the period
    ticket("b", "2026-09-01", complaint=True),
    ticket("d", "2026-08-02"),
    ticket("c", "2026-10-01", complaint=True),  # at the end instant: outside
]
FACT_SURVEYS = [
    survey("a", "csat", 5, "2026-07-10"),  # hit
    survey("a", "csat", 3, "2026-08-10"),  # miss
    survey("a", "csat", 4, "2026-06-20"),  # before the period
    survey("a", "nps", 10, "2026-07-15"),  # promoter
    survey("a", "nps", 7, "2026-09-15"),  # passive (counts in n)
    survey("a", "ces", 7, "2026-08-01"),  # not csat / nps
    survey("b", "nps", 3, "2026-08-20"),  # detractor
    survey("b", "csat", None, "2026-08-20"),  # no score
    survey("b", "csat", 5, None),  # not answered
    survey("d", "csat", 4, "2026-08-03"),  # hit (threshold 4)
    survey("e", "csat", 5, "2026-09-01"),  # customer unknown at as_of
    survey("c", "nps", 10, "2026-10-01"),  # at the end instant: outside
]
FACT_IDS = ["a", "b", "c", "d", "f"]


def fact_frames():
    return kpi_frames(
        orders=FACT_ORDERS, customers=FACT_CUSTOMERS, tickets=FACT_TICKETS, surveys=FACT_SURVEYS
    )


@pytest.fixture(scope="module")
def facts() -> pl.DataFrame:
    return customer_facts(fact_frames(), Q3, rules=RULES).sort("customer_id").collect()


def test_customer_facts(facts):
    expected = pl.DataFrame(
        {
            "customer_id": FACT_IDS,
            "csat_n": [2, 0, 0, 1, 0],
            "csat_hits": [1, 0, 0, 1, 0],
            "nps_n": [2, 1, 0, 0, 0],
            "nps_promoters": [1, 0, 0, 0, 0],
            "nps_detractors": [0, 1, 0, 0, 0],
            "complaints": [1, 1, 0, 0, 0],
            "tickets": [2, 1, 0, 1, 0],
            "orders_n": [1, 0, 3, 0, 0],
            "active_at_start": [True, True, True, False, False],
            "active_at_end": [True, False, True, False, False],
        },
        schema_overrides=dict.fromkeys(FACT_COUNTS, pl.Int64),
    )
    assert_frame_equal(facts.select(expected.columns), expected)


def test_customer_facts_carry_customer_rfm(facts):
    # The rows and RFM columns are customer_rfm's at as_of, so the what-if re-tiers exactly them.
    frames = fact_frames()
    rfm = customer_rfm(frames.orders, frames.customers, as_of=Q3.as_of, churn_window_days=180)
    assert_frame_equal(facts.select(rfm.collect_schema().names()), rfm.sort("customer_id").collect())
    # a F 2 M 500; b F 1 M 1200; c F 3 M 1000; d prospect; f F 1 M 50.
    assert facts["frequency"].to_list() == [2, 1, 3, 0, 1]
    assert facts["monetary"].to_list() == [500.0, 1200.0, 1000.0, 0.0, 50.0]


def test_customer_facts_csat_threshold():
    # ≥ 5: a's 5 is a hit, d's 4 is not.
    facts = customer_facts(fact_frames(), Q3, rules=RULES, csat_threshold=5).sort("customer_id").collect()
    assert facts["csat_hits"].to_list() == [1, 0, 0, 0, 0]


def test_customer_facts_without_history_leave_active_at_start_unknown():
    # The first completed order is b's 2026-02-01, after start − W = 2026-01-02: who was active at the
    # start is unknown → null (so the churn rate is null with N = 0), active_at_end still known.
    orders = [o for o in FACT_ORDERS if o["customer_id"] in ("b", "c")]
    frames = kpi_frames(orders=orders, customers=FACT_CUSTOMERS)
    facts = customer_facts(frames, Q3, rules=RULES).sort("customer_id").collect()
    assert facts["active_at_start"].to_list() == [None] * 5
    assert facts["active_at_end"].to_list() == [False, False, True, False, False]
    assert whatif_summary(facts, RULES)["churn_n"].to_list() == [0, 0, 0, 0]


def test_customer_facts_under_a_ticket_filter():
    # Customers served in the period (a ticket in scope created in Q3): a, b, d. Orders are not a team's:
    # orders_n is null, so the complaint rate is null.
    frames = fact_frames().with_flags(ticket_filtered=True)
    facts = customer_facts(frames, Q3, rules=RULES).sort("customer_id").collect()
    assert facts["customer_id"].to_list() == ["a", "b", "d"]
    assert facts["orders_n"].to_list() == [None, None, None]
    assert whatif_summary(facts, RULES)["complaint_rate_per_1k_orders"].to_list() == [None] * 4


SUMMARY_SCHEMA = {
    "tier": TIER,
    "customers": pl.Int64,
    "revenue": pl.Float64,
    "revenue_share_pct": pl.Float64,
    "csat_pct": pl.Float64,
    "csat_n": pl.Int64,
    "nps": pl.Float64,
    "nps_n": pl.Int64,
    "complaints": pl.Int64,
    "orders_n": pl.Int64,
    "complaint_rate_per_1k_orders": pl.Float64,
    "churn_rate_pct": pl.Float64,
    "churn_n": pl.Int64,
    "tickets": pl.Int64,
}


def test_whatif_summary_by_hand(facts):
    # vip c (exactly at m_vip and f_vip); high_value a, b; regular f; prospect d. Revenue 2750 in all.
    # high_value: csat a 1 hit / 2; nps (1 promoter − 1 detractor) / 3 = 0; complaints 2 / orders 1 →
    # 2000 per 1k; churn: a, b active at start, b not at end → 1 / 2.
    # vip: orders 3, no complaints → 0.0; c active at start and end → churn 0 / 1.
    # prospect d: csat 1 / 1; one ticket. Rates with N = 0 are null.
    expected = pl.DataFrame(
        [
            ("vip", 1, 1000.0, 100 * 1000 / 2750, None, 0, None, 0, 0, 3, 0.0, 0.0, 1, 0),
            ("high_value", 2, 1700.0, 100 * 1700 / 2750, 50.0, 2, 0.0, 3, 2, 1, 2000.0, 50.0, 2, 3),
            ("regular", 1, 50.0, 100 * 50 / 2750, None, 0, None, 0, 0, 0, None, None, 0, 0),
            ("prospect", 1, 0.0, 0.0, 100.0, 1, None, 0, 0, 0, None, None, 0, 1),
        ],
        schema=SUMMARY_SCHEMA,
        orient="row",
    )
    assert_frame_equal(whatif_summary(facts, RULES), expected)
    assert_frame_equal(whatif_summary(facts.lazy(), RULES), expected)


def test_whatif_summary_one_cent_above_m_vip(facts):
    # m_vip 1000.01: c (M 1000.00) drops to high_value (M ≥ 500): high_value a, b, c: 3 customers, 2700,
    # orders 1 + 3 = 4 → 2 complaints → 500 per 1k; churn 1 (b) / 3. vip is empty: 0s, share 0.0.
    summary = whatif_summary(facts, replace(RULES, m_vip=1000.01))
    vip, high = summary.row(0, named=True), summary.row(1, named=True)
    assert (vip["customers"], vip["revenue"], vip["revenue_share_pct"], vip["churn_n"]) == (0, 0.0, 0.0, 0)
    assert vip["csat_pct"] is None
    assert vip["churn_rate_pct"] is None
    assert (high["customers"], high["revenue"], high["orders_n"]) == (3, 2700.0, 4)
    assert high["complaint_rate_per_1k_orders"] == 500.0
    assert high["churn_rate_pct"] == pytest.approx(100 / 3)


def test_whatif_summary_of_no_customers():
    empty = customer_facts(kpi_frames(), Q3, rules=RULES).collect()
    summary = whatif_summary(empty, RULES)
    assert summary["tier"].to_list() == list(TIERS)
    assert summary["customers"].to_list() == [0, 0, 0, 0]
    assert summary["revenue_share_pct"].to_list() == [None] * 4
    assert summary.schema == pl.Schema(SUMMARY_SCHEMA)


def test_tier_changes_by_hand(facts):
    # After: vip M ≥ 1000.01 (c drops to high_value), high_value F ≥ 1 (f rises from regular).
    # c M 1000, F 3, last order 1 hour before as_of → R 0; f M 50, F 1, 2026-01-02 → 272 days.
    after = replace(RULES, m_vip=1000.01, f_high=1)
    expected = pl.DataFrame(
        {
            "customer_id": ["c", "f"],
            "tier_before": ["vip", "regular"],
            "tier_after": ["high_value", "high_value"],
            "monetary": [1000.0, 50.0],
            "frequency": [3, 1],
            "recency_days": [0, 272],
        },
        schema_overrides={"tier_before": TIER, "tier_after": TIER},
    )
    changed, total = tier_changes(facts, RULES, after)
    assert_frame_equal(changed, expected)
    assert total == 2
    first, total = tier_changes(facts, RULES, after, limit=1)
    assert_frame_equal(first, expected.head(1))
    assert total == 2
    none, total = tier_changes(facts, RULES, RULES)
    assert (none.height, total) == (0, 0)


# Property tests: random per-customer facts and rules, checked against plain Python.
MONEY = [0.0, 100.0, 499.99, 500.0, 999.99, 1000.0, 1500.0, 2500.0]  # thresholds and their neighbours


@st.composite
def fact_rows(draw) -> dict:
    bought = draw(st.booleans())
    csat_n, nps_n, orders_n = (draw(st.integers(0, 3)) for _ in range(3))
    promoters = draw(st.integers(0, nps_n))
    active_at_start = draw(st.booleans())
    return {
        "has_bought": bought,
        "frequency": draw(st.integers(0, 6)) if bought else 0,
        "monetary": draw(st.sampled_from(MONEY)) if bought else 0.0,
        "recency_days": draw(st.integers(0, 400)) if bought else None,
        "csat_n": csat_n,
        "csat_hits": draw(st.integers(0, csat_n)),
        "nps_n": nps_n,
        "nps_promoters": promoters,
        "nps_detractors": draw(st.integers(0, nps_n - promoters)),
        "complaints": draw(st.integers(0, 2)),
        "tickets": draw(st.integers(0, 4)),
        "orders_n": orders_n if bought else 0,
        "active_at_start": active_at_start and bought,
        "active_at_end": draw(st.booleans()) and bought,
    }


rules_strategy = st.builds(
    TierRules,
    m_vip=st.sampled_from(MONEY),
    f_vip=st.integers(0, 6),
    m_high=st.sampled_from(MONEY),
    f_high=st.integers(0, 6),
    r_risk_days=st.just(90),
    churn_window_days=st.just(180),
)


def facts_frame(rows: list[dict]) -> pl.DataFrame:
    """Per-customer facts with the columns with_tiers reads (stage inputs derived from recency_days)."""
    return pl.DataFrame(
        [
            {
                "customer_id": f"x{i:03d}",
                **row,
                "since_last_order": None if row["recency_days"] is None else timedelta(row["recency_days"]),
                "won_back": False,
            }
            for i, row in enumerate(rows)
        ],
        schema={
            "customer_id": pl.String,
            "has_bought": pl.Boolean,
            "frequency": pl.Int64,
            "monetary": pl.Float64,
            "recency_days": pl.Int64,
            **dict.fromkeys(FACT_COUNTS, pl.Int64),
            "active_at_start": pl.Boolean,
            "active_at_end": pl.Boolean,
            "since_last_order": pl.Duration("us"),
            "won_back": pl.Boolean,
        },
    )


def python_tier(row: dict, rules: TierRules) -> str:
    """METRICS.md's tier rules, read literally."""
    m, f = row["monetary"], row["frequency"]
    if not row["has_bought"]:
        return "prospect"
    if m >= rules.m_vip and f >= rules.f_vip:
        return "vip"
    if m >= rules.m_high or f >= rules.f_high:
        return "high_value"
    return "regular"


def python_summary(rows: list[dict], rules: TierRules) -> pl.DataFrame:
    """whatif_summary recomputed row by row in plain Python."""

    def ratio(scale: float, num: float, den: float) -> float | None:
        return scale * num / den if den else None

    total = sum(r["monetary"] for r in rows)
    out = []
    for tier in TIERS:
        of = [r for r in rows if python_tier(r, rules) == tier]

        def s(key: str, of: list[dict] = of) -> int:
            return sum(r[key] for r in of)

        revenue = round(s("monetary"), 2)
        churn_n = sum(r["active_at_start"] for r in of)
        churned = sum(r["active_at_start"] and not r["active_at_end"] for r in of)
        out.append(
            (
                tier,
                len(of),
                revenue,
                ratio(100, revenue, total),
                ratio(100, s("csat_hits"), s("csat_n")),
                s("csat_n"),
                ratio(100, s("nps_promoters") - s("nps_detractors"), s("nps_n")),
                s("nps_n"),
                s("complaints"),
                s("orders_n"),
                ratio(1000, s("complaints"), s("orders_n")),
                ratio(100, churned, churn_n),
                churn_n,
                s("tickets"),
            )
        )
    return pl.DataFrame(out, schema=SUMMARY_SCHEMA, orient="row")


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(fact_rows(), max_size=30), rules=rules_strategy)
def test_whatif_summary_matches_plain_python(rows, rules):
    assert_frame_equal(whatif_summary(facts_frame(rows), rules), python_summary(rows, rules))


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(fact_rows(), max_size=30),
    rules=rules_strategy,
    more_m=st.sampled_from([0.0, 0.01, 100.0, 1000.0]),
    more_f=st.integers(0, 3),
)
def test_raising_vip_thresholds_never_grows_vip(rows, rules, more_m, more_f):
    facts = facts_frame(rows)
    stricter = replace(rules, m_vip=rules.m_vip + more_m, f_vip=rules.f_vip + more_f)
    vip_before = whatif_summary(facts, rules)["customers"][0]
    assert whatif_summary(facts, stricter)["customers"][0] <= vip_before
    assert whatif_summary(facts, replace(rules, m_vip=rules.m_vip + more_m))["customers"][0] <= vip_before
    assert whatif_summary(facts, replace(rules, f_vip=rules.f_vip + more_f))["customers"][0] <= vip_before


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(fact_rows(), max_size=30), before=rules_strategy, after=rules_strategy)
def test_migration_matrix_margins_and_tier_changes(rows, before, after):
    facts = facts_frame(rows)
    matrix = migration_matrix(with_tiers(facts.lazy(), before), with_tiers(facts.lazy(), after)).collect()
    rows_sum = matrix.group_by("tier_from").agg(pl.col("customers").sum()).sort("tier_from")
    cols_sum = matrix.group_by("tier_to").agg(pl.col("customers").sum()).sort("tier_to")
    # Row sums are the current tier sizes, column sums the what-if ones.
    assert rows_sum["customers"].to_list() == whatif_summary(facts, before)["customers"].to_list()
    assert cols_sum["customers"].to_list() == whatif_summary(facts, after)["customers"].to_list()
    # tier_changes counts exactly the off-diagonal.
    off_diagonal = matrix.filter(pl.col("tier_from") != pl.col("tier_to"))["customers"].sum()
    changed, total = tier_changes(facts, before, after, limit=5)
    assert total == off_diagonal
    assert changed.height == min(total, 5)
    keys = list(zip((-changed["monetary"]).to_list(), changed["customer_id"].to_list(), strict=True))
    assert keys == sorted(keys)


# Service-policy preview: only `tier`, `customers` and `tickets` of a summary are read.
def policy_summary(customers: list[int], tickets: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"tier": TIERS, "customers": customers, "tickets": tickets}, schema_overrides={"tier": TIER}
    )


def test_service_cost_by_hand():
    # What-if: 101 VIPs / 50 per agent → ceil(2.02) = 3 agents; priority tickets vip 40 + high 60 = 100 of
    # 200 → 50 %. Current: 100 VIPs → exactly 2 agents; 30 + 50 = 80 of 200 → 40 %.
    what_if = policy_summary([101, 400, 1000, 50], [40, 60, 100, 0])
    current = policy_summary([100, 380, 1021, 50], [30, 50, 120, 0])
    figures = {
        "vip_customers": 101,
        "vip_agents": 3,
        "priority_tickets": 100,
        "all_tickets": 200,
        "priority_ticket_share_pct": 50.0,
    }
    assert service_cost(what_if, vip_customers_per_agent=50) == {**figures, "current": None, "change": None}
    cost = service_cost(what_if, vip_customers_per_agent=50, current=current)
    assert cost["current"] == {
        "vip_customers": 100,
        "vip_agents": 2,
        "priority_tickets": 80,
        "all_tickets": 200,
        "priority_ticket_share_pct": 40.0,
    }
    assert cost["change"] == {
        "vip_customers": 1,
        "vip_agents": 1,
        "priority_tickets": 20,
        "all_tickets": 0,
        "priority_ticket_share_pct": 10.0,
    }


@pytest.mark.parametrize(
    ("customers", "tickets", "per_agent", "priority_tiers", "expected"),
    [
        # no VIPs → 0 agents; vip only: 0 of 10 tickets → 0 %
        ([0, 5, 5, 0], [0, 4, 6, 0], 10, ("vip",), (0, 0, 0.0)),
        # 1 VIP → 1 agent; no tickets at all → share null
        ([1, 0, 0, 0], [0, 0, 0, 0], 200, ("vip", "high_value"), (1, 0, None)),
        # 200 VIPs / 200 → exactly 1; high_value + regular: 3 + 5 of 10 → 80 %
        ([200, 1, 1, 1], [2, 3, 5, 0], 200, ("high_value", "regular"), (1, 8, 80.0)),
    ],
)
def test_service_cost_table(customers, tickets, per_agent, priority_tiers, expected):
    cost = service_cost(
        policy_summary(customers, tickets), vip_customers_per_agent=per_agent, priority_tiers=priority_tiers
    )
    assert (cost["vip_agents"], cost["priority_tickets"], cost["priority_ticket_share_pct"]) == expected


def test_service_cost_of_the_whatif_summary(facts):
    # From the hand summary: 1 VIP → 1 agent at 50 per agent; tickets vip 0 + high_value 3 of 4 → 75 %.
    cost = service_cost(whatif_summary(facts, RULES), vip_customers_per_agent=50)
    assert (cost["vip_agents"], cost["priority_tickets"], cost["all_tickets"]) == (1, 3, 4)
    assert cost["priority_ticket_share_pct"] == 75.0


def test_service_cost_needs_a_positive_capacity():
    with pytest.raises(ValueError, match="at least 1"):
        service_cost(policy_summary([1, 0, 0, 0], [0, 0, 0, 0]), vip_customers_per_agent=0)


# Lifecycle flow. Ends 2026-01-01, 04-01 (+90 d), 07-01 (+91 d), 10-01 (+92 d); r_risk 90, W 180.
ENDS = [at("2026-01-01"), at("2026-04-01"), at("2026-07-01"), at("2026-10-01")]
LABELS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
FLOW_ORDERS = [
    # a: 10 days before the first end → active; 100 days → at_risk; 191 days → churned; buys again
    # 2026-08-01, 222 days after 2025-12-22 (> W) and inside the W days up to the last end → won_back.
    order("a", "2025-12-22", 10.0),
    order("a", "2026-08-01", 10.0),
    # b signs up between the first two ends (new → prospect), buys 2026-05-01: 61 days before 07-01 →
    # active, 153 days before 10-01 → at_risk.
    order("b", "2026-05-01", 10.0),
]
FLOW_CUSTOMERS = [
    signed_up("a", "2025-01-01"),
    signed_up("b", "2026-02-01"),
    signed_up("c", "2025-06-01"),  # never buys: prospect throughout
    signed_up("d", "2026-09-01"),  # new in the last period
    signed_up("z", "2026-11-01"),  # after the last end: nowhere
]


def test_lifecycle_flow_by_hand():
    flow = lifecycle_flow(
        frame("orders", FLOW_ORDERS).lazy(),
        frame("customers", FLOW_CUSTOMERS).lazy(),
        period_ends=ENDS,
        rules=RULES,
        labels=LABELS,
    ).collect()
    # Within a period pair: by stage_from, then stage_to (new, prospect, active, at_risk, churned, won_back).
    expected = pl.DataFrame(
        [
            ("2025Q4", "2026Q1", "new", "prospect", 1),  # b
            ("2025Q4", "2026Q1", "prospect", "prospect", 1),  # c
            ("2025Q4", "2026Q1", "active", "at_risk", 1),  # a
            ("2026Q1", "2026Q2", "prospect", "prospect", 1),  # c
            ("2026Q1", "2026Q2", "prospect", "active", 1),  # b
            ("2026Q1", "2026Q2", "at_risk", "churned", 1),  # a
            ("2026Q2", "2026Q3", "new", "prospect", 1),  # d
            ("2026Q2", "2026Q3", "prospect", "prospect", 1),  # c
            ("2026Q2", "2026Q3", "active", "at_risk", 1),  # b
            ("2026Q2", "2026Q3", "churned", "won_back", 1),  # a
        ],
        schema={
            "period_from": pl.String,
            "period_to": pl.String,
            "stage_from": FLOW_STAGE,
            "stage_to": FLOW_STAGE,
            "customers": pl.Int64,
        },
        orient="row",
    )
    assert_frame_equal(flow, expected)


def test_lifecycle_flow_labels_default_and_edges():
    orders, customers = frame("orders", FLOW_ORDERS).lazy(), frame("customers", FLOW_CUSTOMERS).lazy()
    flow = lifecycle_flow(orders, customers, period_ends=ENDS[:2], rules=RULES).collect()
    assert flow["period_from"].unique().to_list() == ["2026-01-01T00:00:00+00:00"]
    assert flow["customers"].sum() == 3  # a, b, c known at 2026-04-01
    one = lifecycle_flow(orders, customers, period_ends=ENDS[:1], rules=RULES).collect()
    assert one.height == 0
    assert one.columns == ["period_from", "period_to", "stage_from", "stage_to", "customers"]
    with pytest.raises(ValueError, match="ascending"):
        lifecycle_flow(orders, customers, period_ends=[ENDS[1], ENDS[0]], rules=RULES)
    with pytest.raises(ValueError, match="labels"):
        lifecycle_flow(orders, customers, period_ends=ENDS, rules=RULES, labels=LABELS[:2])


# Cohorts in Asia/Shanghai (UTC+8): 2026-03-31T16:30Z is 2026-04-01 00:30 there, a Q2 instant.
COHORT_CUSTOMERS = [
    signed_up("p1", "2026-01-10"),
    signed_up("p2", "2026-02-01"),
    signed_up("p3", "2026-03-01"),
    signed_up("p4", "2026-03-15"),
    signed_up("q1", "2026-03-31T17:00"),  # 2026-04-01 01:00 local → 2026Q2
    signed_up("q2", "2026-05-01"),
    signed_up("late", "2026-09-01"),  # after as_of: no cohort
    {"customer_id": "nosignup", "signup_at": None},  # no cohort
]
COHORT_ORDERS = [
    order("p1", "2026-01-20", 1.0),  # k 0
    order("p1", "2026-02-10", 1.0),  # k 0 again: one buyer
    order("p1", "2026-05-05", 1.0),  # k 1
    order("p1", "2026-08-01", 1.0),  # k 2 (running)
    order("p2", "2025-12-01", 1.0),  # before the signup quarter: ignored
    order("p2", "2026-04-10", 1.0),  # k 1
    order("p3", "2026-03-31T16:30", 1.0),  # 2026-04-01 00:30 local → k 1
    order("p4", "2026-01-20", 1.0, "refunded"),  # not completed
    order("p4", "2026-08-20", 1.0),  # after as_of
    order("q1", "2026-06-30T17:00", 1.0),  # 2026-07-01 01:00 local → Q3, k 1 of 2026Q2
    order("q2", "2026-05-10", 1.0),  # k 0
    order("nosignup", "2026-05-10", 1.0),
]
COHORT_SCHEMA = {
    "cohort": pl.String,
    "cohort_size": pl.Int64,
    "k": pl.Int64,
    "buyers": pl.Int64,
    "retention_pct": pl.Float64,
    "running": pl.Boolean,
}


def cohorts(as_of: datetime) -> pl.DataFrame:
    return cohort_retention(
        frame("orders", COHORT_ORDERS).lazy(),
        frame("customers", COHORT_CUSTOMERS).lazy(),
        tz="Asia/Shanghai",
        as_of=as_of,
    ).collect()


def test_cohort_retention_with_a_running_quarter():
    # as_of 2026-08-15: Q3 is running. 2026Q1 (p1–p4, 4): k0 p1 → 25 %; k1 p1, p2, p3 → 75 %;
    # k2 p1 → 25 %, running. 2026Q2 (q1, q2): k0 q2 → 50 %; k1 q1 → 50 %, running.
    expected = pl.DataFrame(
        [
            ("2026Q1", 4, 0, 1, 25.0, False),
            ("2026Q1", 4, 1, 3, 75.0, False),
            ("2026Q1", 4, 2, 1, 25.0, True),
            ("2026Q2", 2, 0, 1, 50.0, False),
            ("2026Q2", 2, 1, 1, 50.0, True),
        ],
        schema=COHORT_SCHEMA,
        orient="row",
    )
    assert_frame_equal(cohorts(at("2026-08-15")), expected)


def test_cohort_retention_as_of_a_quarter_boundary():
    # as_of 2026-06-30T16:00Z = 2026-07-01 00:00 local: Q3 has not begun, Q2 is complete, nothing runs.
    # q1's order (17:00Z) is after as_of.
    expected = pl.DataFrame(
        [
            ("2026Q1", 4, 0, 1, 25.0, False),
            ("2026Q1", 4, 1, 3, 75.0, False),
            ("2026Q2", 2, 0, 1, 50.0, False),
        ],
        schema=COHORT_SCHEMA,
        orient="row",
    )
    assert_frame_equal(cohorts(at("2026-06-30T16:00")), expected)


def test_cohort_retention_of_no_customers():
    empty = cohort_retention(
        frame("orders", []).lazy(), frame("customers", []).lazy(), tz="Asia/Shanghai", as_of=Q3.as_of
    ).collect()
    assert empty.height == 0
    assert empty.schema == pl.Schema(COHORT_SCHEMA)


# Win-back in Q3: churned at start = bought before, nothing in (2026-01-02, 2026-07-01].
WIN_BACK_ORDERS = [
    order("u1", "2025-12-01", 1.0),
    order("u1", "2026-08-01", 1.0),  # churned, back → won
    order("u2", "2025-11-01", 1.0),  # churned, not back
    order("u3", "2026-01-02", 1.0),  # exactly start − W: not active at start → churned
    order("u3", "2026-10-01", 1.0),  # back exactly at as_of (inclusive) → won
    order("u4", "2026-03-01", 1.0),  # active at start: not in the base
    order("u5", "2025-10-01", 1.0, "cancelled"),  # never bought: not in the base
    order("u6", "2025-10-01", 1.0),
    order("u6", "2026-08-01", 1.0, "refunded"),  # churned; a refund is no return
    order("u7", "2025-10-01", 1.0),
    order("u7", "2026-08-01", 1.0),  # not among the customers (filtered out)
    order("u8", "2025-10-01", 1.0),
    order("u8", "2026-07-01", 1.0),  # an order at the start instant: active at start, not in the base
]


def test_win_back_rate_by_hand():
    # Base u1, u2, u3, u6 → n 4; won back u1, u3 → 2 → 50 %.
    customers = frame("customers", [signed_up(f"u{i}", "2025-01-01") for i in (1, 2, 3, 4, 5, 6, 8)])
    row = win_back_rate(
        frame("orders", WIN_BACK_ORDERS).lazy(), customers.lazy(), Q3, churn_window_days=180
    ).collect()
    assert row.to_dicts() == [{"value": 50.0, "n": 4, "won_back": 2}]


def test_win_back_rate_with_nobody_churned():
    row = win_back_rate(
        frame("orders", []).lazy(), frame("customers", []).lazy(), Q3, churn_window_days=180
    ).collect()
    assert row.to_dicts() == [{"value": None, "n": 0, "won_back": 0}]


def entry(when: str, points: int, reason: str) -> dict:
    return {"customer_id": "c1", "occurred_at": at(when), "points": points, "reason": reason}


def test_points_summary_by_hand():
    ledger = frame(
        "loyalty_ledger",
        [
            entry("2026-06-01", 500, "purchase"),  # before: balance only
            entry("2026-06-15", -100, "redeem"),  # before: balance only
            entry("2026-07-01", 300, "purchase"),  # at the start instant: in
            entry("2026-08-01", 100, "bonus"),
            entry("2026-08-10", -200, "redeem"),
            entry("2026-09-01", -50, "expire"),
            entry("2026-10-02", 1000, "purchase"),  # after as_of: nowhere
        ],
    )
    # earned 300 + 100 = 400; redeemed 200; expired 50;
    # liability 500 − 100 + 300 + 100 − 200 − 50 = 550.
    summary = points_summary(ledger.lazy(), Q3).collect()
    assert summary.to_dicts() == [
        {"earned_points": 400, "redeemed_points": 200, "expired_points": 50, "liability_points": 550}
    ]
    assert summary.dtypes == [pl.Int64] * 4


def test_points_summary_of_an_empty_ledger():
    summary = points_summary(frame("loyalty_ledger", []).lazy(), Q3).collect()
    assert summary.row(0) == (0, 0, 0, 0)


MEMBER_CUSTOMERS = [
    signed_up("m1", "2025-01-01", member=True),
    signed_up("m2", "2025-01-01", member=True),
    signed_up("m3", "2026-08-01", member=True),  # never buys
    signed_up("n1", "2025-01-01", member=False),
    signed_up("n2", "2025-01-01", member=None),  # unknown → non_member
    signed_up("n3", "2025-01-01", member=False),  # only a refund
]
MEMBER_ORDERS = [
    order("n1", "2025-09-01", 999.0),  # history before the year (2025-10-01, 2026-10-01]: outside it
    order("m1", "2026-01-01", 100.0),
    order("m1", "2026-08-01", 200.0),
    order("m2", "2025-12-01", 300.0),
    order("m2", "2026-09-01", 100.0),
    order("n1", "2026-05-01", 50.0),
    *(order("n2", day, 10.0) for day in ("2026-02-01", "2026-04-01", "2026-06-01")),
    order("n3", "2026-05-01", 70.0, "refunded"),
]
MEMBER_SURVEYS = [
    survey("m1", "csat", 5, "2026-07-10"),
    survey("m2", "csat", 3, "2026-07-10"),
    survey("n1", "csat", 4, "2026-07-10"),
    survey("n2", "csat", 4, "2026-07-10"),
    survey("m1", "nps", 10, "2026-08-10"),
    survey("m3", "nps", 9, "2026-08-10"),
    survey("n1", "nps", 0, "2026-08-10"),
    survey("n1", "nps", 10, "2026-06-10"),  # before the period
]
MEMBER_SCHEMA = {
    "group": GROUP,
    "customers": pl.Int64,
    "buyers": pl.Int64,
    "repeat_purchase_rate_pct": pl.Float64,
    "csat_pct": pl.Float64,
    "csat_n": pl.Int64,
    "nps": pl.Float64,
    "nps_n": pl.Int64,
    "annual_revenue_per_buyer": pl.Float64,
}


def test_members_vs_non_members_by_hand():
    # members m1, m2, m3: buyers m1 (2 orders, 300), m2 (2 orders, 400) → repeat 2 / 2 = 100 %,
    # revenue 700 / 2 = 350; csat 5, 3 → 1 / 2; nps 10, 9 → (2 − 0) / 2 = 100.
    # non-members n1, n2, n3: buyers n1 (1 order, 50), n2 (3 orders, 30) → repeat 1 / 2 = 50 %,
    # revenue 80 / 2 = 40; csat 4, 4 → 2 / 2; nps 0 → (0 − 1) / 1 = −100.
    frames = kpi_frames(customers=MEMBER_CUSTOMERS, orders=MEMBER_ORDERS, surveys=MEMBER_SURVEYS)
    expected = pl.DataFrame(
        [
            ("member", 3, 2, 100.0, 50.0, 2, 100.0, 2, 350.0),
            ("non_member", 3, 2, 50.0, 100.0, 2, -100.0, 1, 40.0),
        ],
        schema=MEMBER_SCHEMA,
        orient="row",
    )
    assert_frame_equal(members_vs_non_members(frames, Q3).collect(), expected)
    # csat threshold 5: members 1 / 2 (m1's 5), non-members 0 / 2.
    strict = members_vs_non_members(frames, Q3, csat_threshold=5).collect()
    assert strict["csat_pct"].to_list() == [50.0, 0.0]


def test_members_vs_non_members_without_history():
    # First completed order 2026-01-01, after as_of − 365 days: repeat rate and revenue null, buyers 0;
    # both groups still present, survey figures unaffected.
    orders = [o for o in MEMBER_ORDERS if o["customer_id"] == "m1"]
    frames = kpi_frames(customers=MEMBER_CUSTOMERS, orders=orders, surveys=MEMBER_SURVEYS)
    result = members_vs_non_members(frames, Q3).collect()
    assert result["group"].to_list() == ["member", "non_member"]
    assert result["buyers"].to_list() == [0, 0]
    assert result["repeat_purchase_rate_pct"].to_list() == [None, None]
    assert result["annual_revenue_per_buyer"].to_list() == [None, None]
    assert result["csat_n"].to_list() == [2, 2]


def test_members_vs_non_members_of_no_customers():
    collected = members_vs_non_members(kpi_frames(), Q3).collect()
    assert collected["customers"].to_list() == [0, 0]
    assert collected["nps"].to_list() == [None, None]
    assert collected.schema == pl.Schema(MEMBER_SCHEMA)


def test_members_vs_non_members_under_a_ticket_filter():
    # Served in Q3: m1 and n1 (a ticket each). Customer side and nps over them: members m1 (2 orders,
    # 300; nps 10 → 100), non-members n1 (1 order, 50; nps 0 → −100). csat follows the tickets in scope,
    # not the customers served: all four answers count, as in kpis.csat_pct.
    frames = kpi_frames(
        customers=MEMBER_CUSTOMERS,
        orders=MEMBER_ORDERS,
        surveys=MEMBER_SURVEYS,
        tickets=[ticket("m1", "2026-07-02"), ticket("n1", "2026-07-03"), ticket("m2", "2026-06-30")],
    ).with_flags(ticket_filtered=True)
    expected = pl.DataFrame(
        [
            ("member", 1, 1, 100.0, 50.0, 2, 100.0, 1, 300.0),
            ("non_member", 1, 1, 0.0, 100.0, 2, -100.0, 1, 50.0),
        ],
        schema=MEMBER_SCHEMA,
        orient="row",
    )
    assert_frame_equal(members_vs_non_members(frames, Q3).collect(), expected)
