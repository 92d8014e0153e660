"""Every headline KPI on small hand-built frames; each expected value is worked out by hand in a comment."""

from datetime import UTC, datetime

import pytest

from cxdash.metrics import kpis as k
from cxdash.metrics.kpis import HEADLINE_KPIS, KpiOptions, Window, headline_kpis
from tests.kpi_frames import Q3, at, kpi_frames

OPTIONS = KpiOptions()


def value_n(kpi, frames, window=Q3, options=OPTIONS):
    row = kpi(frames, window, options).collect()
    return row["value"][0], row["n"][0]


def csat(score, responded="2026-08-02", **extra):
    return {"kind": "csat", "score": score, "responded_at": at(responded) if responded else None, **extra}


# Six csat answers in Q3 (one exactly at the start instant), plus ones that must not count.
SURVEYS = [
    csat(1, "2026-07-01"),  # at the start: inside (start inclusive)
    csat(5),
    csat(4),
    csat(3),
    csat(2),
    csat(5),
    csat(None),  # answered without a score: not a response with a score
    csat(5, "2026-06-30T23:59:59"),  # before the period
    csat(1, "2026-10-01"),  # at the end instant: outside (end exclusive)
    {"kind": "nps", "score": 10, "responded_at": at("2026-08-02")},
    {"kind": "ces", "score": 7, "responded_at": at("2026-08-02")},
]


def test_csat_pct_top_two_box():
    # scores 1,5,4,3,2,5: three of six are ≥ 4 → 50 %
    assert value_n(k.csat_pct, kpi_frames(surveys=SURVEYS)) == (50.0, 6)


def test_csat_pct_follows_the_threshold_setting():
    # ≥ 5: two of six → 33.33 %; ≥ 3: four of six → 66.67 %
    frames = kpi_frames(surveys=SURVEYS)
    assert value_n(k.csat_pct, frames, options=KpiOptions(csat_threshold=5))[0] == pytest.approx(100 / 3)
    assert value_n(k.csat_pct, frames, options=KpiOptions(csat_threshold=3))[0] == pytest.approx(200 / 3)


def test_csat_mean():
    # (1+5+4+3+2+5) / 6 = 20 / 6
    assert value_n(k.csat_mean, kpi_frames(surveys=SURVEYS)) == (pytest.approx(20 / 6), 6)


def test_csat_response_rate_counts_surveys_sent_in_the_period():
    surveys = [
        {"sent_at": at("2026-07-05"), "responded_at": at("2026-10-03"), "score": 4},  # answered later: counts
        {"sent_at": at("2026-07-05"), "responded_at": None},
        {"sent_at": at("2026-09-30"), "responded_at": None},
        {"sent_at": at("2026-08-05"), "responded_at": at("2026-08-05"), "score": 5},
        {"sent_at": at("2026-06-30"), "responded_at": at("2026-07-02"), "score": 5},  # sent before
        {"kind": "nps", "sent_at": at("2026-07-05"), "responded_at": at("2026-07-06"), "score": 9},
    ]
    # 2 answered of 4 sent → 50 %
    assert value_n(k.csat_response_rate_pct, kpi_frames(surveys=surveys)) == (50.0, 4)


def test_nps_counts_passives_in_the_denominator():
    scores = [10, 9, 8, 7, 6, 0, 10]
    surveys = [{"kind": "nps", "score": s, "responded_at": at("2026-08-01")} for s in scores]
    # promoters 3 (10, 9, 10), detractors 2 (6, 0), N 7 → 100 × 1 / 7
    assert value_n(k.nps, kpi_frames(surveys=surveys)) == (pytest.approx(100 / 7), 7)


def test_nps_can_be_negative_and_spans_the_full_range():
    all_detractors = [{"kind": "nps", "score": 0, "responded_at": at("2026-08-01")}] * 3
    assert value_n(k.nps, kpi_frames(surveys=all_detractors)) == (-100.0, 3)


def test_ces_mean():
    surveys = [{"kind": "ces", "score": s, "responded_at": at("2026-08-01")} for s in (7, 5, 3)]
    assert value_n(k.ces_mean, kpi_frames(surveys=surveys)) == (5.0, 3)


def ticket(created="2026-08-01", *, frt_min=None, resolved_h=None, **extra):
    start = at(created)
    return {
        "created_at": start,
        "first_response_at": at(created, frt_min) if frt_min is not None else None,
        "resolved_at": at(created, resolved_h * 60) if resolved_h is not None else None,
        **extra,
    }


FRT_TICKETS = [
    ticket(frt_min=1),
    ticket(frt_min=2),
    ticket(frt_min=3),
    ticket(frt_min=4),
    ticket(frt_min=100),
    ticket(),  # no response yet: not in FRT
    ticket("2026-06-30", frt_min=5000),  # created before the period
]


def test_frt_median_and_p90_interpolate_linearly():
    frames = kpi_frames(tickets=FRT_TICKETS)
    # sorted 1,2,3,4,100: median 3; p90 at position 0.9 × 4 = 3.6 → 4 + 0.6 × (100 − 4) = 61.6
    assert value_n(k.frt_median_min, frames) == (3.0, 5)
    assert value_n(k.frt_p90_min, frames) == (pytest.approx(61.6), 5)


def test_frt_uses_exact_seconds():
    frames = kpi_frames(tickets=[ticket(frt_min=0.5), ticket(frt_min=1.25)])
    # 30 s and 75 s → median 52.5 s = 0.875 min
    assert value_n(k.frt_median_min, frames) == (pytest.approx(0.875), 2)


def test_resolution_median_and_p90_hours():
    frames = kpi_frames(tickets=[ticket(resolved_h=h) for h in (1, 2, 4, 10)] + [ticket()])
    # median of 1,2,4,10 = 3; p90 at 0.9 × 3 = 2.7 → 4 + 0.7 × 6 = 8.2
    assert value_n(k.resolution_median_h, frames) == (3.0, 4)
    assert value_n(k.resolution_p90_h, frames) == (pytest.approx(8.2), 4)


def test_sla_first_response_met_breached_and_still_inside_target():
    # A current period: data_as_of is 30 Sep 12:00, so as_of = data_as_of.
    now = datetime(2026, 9, 30, 12, tzinfo=UTC)
    window = Window(start=Q3.start, end=Q3.end, as_of=now, data_as_of=now)
    tickets = [
        ticket("2026-09-01", frt_min=60),  # normal, exactly at target (≤): met
        ticket("2026-09-01", frt_min=61),  # normal, late: breached
        ticket("2026-09-01", frt_min=10, priority="high"),  # met
        ticket("2026-09-30T11:50", priority="high"),  # no reply, 10 min old, target 30: excluded
        ticket("2026-09-29", priority="normal"),  # no reply, a day old, target 60: breached
        ticket("2026-09-01", frt_min=999, priority="low"),  # no policy for low: excluded
    ]
    # met 2, breached 2 → 50 %
    assert value_n(k.sla_first_response_pct, kpi_frames(tickets=tickets), window) == (50.0, 4)


def test_sla_resolution():
    tickets = [
        ticket(resolved_h=24),  # normal target 1440 min = 24 h: met
        ticket(resolved_h=25),  # breached
        ticket(resolved_h=9, priority="high"),  # target 600 min: met
        ticket("2026-09-30T23:00"),  # unresolved; by data_as_of (15 Oct) far past target: breached
    ]
    # met 2 of 4
    assert value_n(k.sla_resolution_pct, kpi_frames(tickets=tickets)) == (50.0, 4)


def test_ticket_and_complaint_counts_and_rate_per_1k_orders():
    tickets = [ticket(is_complaint=True) for _ in range(3)] + [ticket(), ticket(), ticket("2026-10-01")]
    orders = [
        {"amount": 1.0},
        {"amount": 1.0},
        {"amount": 1.0},
        {"amount": 1.0},
        {"status": "refunded"},
        {"ordered_at": at("2026-06-30")},
    ]
    frames = kpi_frames(tickets=tickets, orders=orders)
    assert value_n(k.tickets, frames) == (5.0, 5)
    assert value_n(k.complaints, frames) == (3.0, 3)
    # 1000 × 3 complaints / 4 completed orders
    assert value_n(k.complaint_rate_per_1k_orders, frames) == (750.0, 4)


def test_reopen_and_one_touch_use_resolved_tickets_only():
    tickets = [
        ticket(resolved_h=1, reopen_count=0, agent_replies=1),
        ticket(resolved_h=1, reopen_count=1, agent_replies=0),
        ticket(resolved_h=1, reopen_count=0, agent_replies=3),
        ticket(resolved_h=1, reopen_count=2, agent_replies=1),
        ticket(reopen_count=3, agent_replies=5),  # unresolved: excluded
    ]
    frames = kpi_frames(tickets=tickets)
    assert value_n(k.reopen_rate_pct, frames) == (50.0, 4)  # 2 of 4 reopened
    assert value_n(k.one_touch_pct, frames) == (75.0, 4)  # replies ≤ 1: 3 of 4


def test_escalation_rate():
    tickets = [ticket(escalated=True)] + [ticket() for _ in range(4)]
    assert value_n(k.escalation_rate_pct, kpi_frames(tickets=tickets)) == (20.0, 5)


def test_backlog_at_as_of():
    tickets = [
        ticket("2026-09-01"),  # open: in
        {"created_at": at("2026-09-01"), "resolved_at": at("2026-10-02")},  # resolved after as_of: in
        {"created_at": at("2026-09-01"), "resolved_at": at("2026-09-30")},  # resolved before: out
        ticket("2026-10-01"),  # created exactly at as_of (≤): in
        ticket("2026-10-02"),  # created after as_of: out
        ticket("2025-01-01"),  # an old ticket never resolved: in
    ]
    assert value_n(k.backlog_open, kpi_frames(tickets=tickets)) == (4.0, 4)


def test_revenue_counts_completed_orders_to_the_cent():
    orders = [
        {"amount": 100.10},
        {"amount": 200.20},
        {"amount": 0.01},
        {"amount": 50.0, "status": "refunded"},
    ]
    assert value_n(k.revenue, kpi_frames(orders=orders)) == (300.31, 3)


def test_conversion_rate():
    customers = [
        {"customer_id": "a", "signup_at": at("2026-07-02")},
        {"customer_id": "b", "signup_at": at("2026-07-03")},
        {"customer_id": "c", "signup_at": at("2026-08-03")},
        {"customer_id": "d", "signup_at": at("2026-09-30")},
        {"customer_id": "e", "signup_at": at("2026-06-01")},  # signed up before the period
    ]
    orders = [
        {"customer_id": "a", "ordered_at": at("2026-08-01")},  # converted
        {"customer_id": "b", "ordered_at": at("2026-10-05")},  # after as_of: not yet
        {"customer_id": "c", "ordered_at": at("2026-08-05"), "status": "cancelled"},  # not a purchase
        {"customer_id": "e", "ordered_at": at("2026-08-05")},
    ]
    # 1 of the 4 who signed up in Q3
    assert value_n(k.conversion_rate_pct, kpi_frames(customers=customers, orders=orders)) == (25.0, 4)


# as_of = 1 Oct 2026; 180 days before it is 4 Apr 2026 00:00; before the start (1 Jul) is 2 Jan 2026.
LOYALTY_ORDERS = [
    {"customer_id": "A", "ordered_at": at("2026-03-01")},
    {"customer_id": "A", "ordered_at": at("2026-09-01")},
    {"customer_id": "B", "ordered_at": at("2026-02-01")},
    {"customer_id": "C", "ordered_at": at("2026-01-01")},
    {"customer_id": "C", "ordered_at": at("2026-09-01")},
    {"customer_id": "D", "ordered_at": at("2026-06-30")},
    {"customer_id": "E", "ordered_at": at("2025-09-01")},
    {"customer_id": "E", "ordered_at": at("2026-04-04")},  # exactly as_of − 180 d: outside (after, until]
    {"customer_id": "F", "ordered_at": at("2026-04-04T00:00:01")},
    {"customer_id": "G", "ordered_at": at("2026-09-01"), "status": "refunded"},
]


def test_active_customers_in_the_window_up_to_as_of():
    # in (4 Apr, 1 Oct]: A, C, D, F (E's order sits on the open boundary; G's was refunded)
    assert value_n(k.active_customers, kpi_frames(orders=LOYALTY_ORDERS)) == (4.0, 4)


def test_churn_rate():
    # active at the start, in (2 Jan, 1 Jul]: A, B, D, (E: 4 Apr), F. Still active at as_of: A, D, F.
    # Churned: B and E → 2 of 5 = 40 %
    assert value_n(k.churn_rate_pct, kpi_frames(orders=LOYALTY_ORDERS)) == (40.0, 5)


def test_churn_window_setting():
    # W = 30 days: active at the start (1 Jun, 1 Jul]: D only; active at as_of (1 Sep, 1 Oct]: A, C
    row = value_n(
        k.churn_rate_pct, kpi_frames(orders=LOYALTY_ORDERS), options=KpiOptions(churn_window_days=30)
    )
    assert row == (100.0, 1)


def test_repeat_purchase_rate():
    # 365 days up to 1 Oct 2026: (1 Oct 2025, 1 Oct 2026]. Buyers: A(2), B(1), C(2), D(1), E(1), F(1)
    # ≥ 2 orders: A, C → 2 of 6
    assert value_n(k.repeat_purchase_rate_pct, kpi_frames(orders=LOYALTY_ORDERS)) == (
        pytest.approx(100 / 3),
        6,
    )


def test_empty_period_gives_null_ratios_and_zero_counts():
    results = headline_kpis(kpi_frames(), Q3)
    assert set(results) == {spec.name for spec in HEADLINE_KPIS}
    for name, result in results.items():
        assert result.n == 0, name
        if k.KPI_BY_NAME[name].unit in ("count", "currency"):
            assert result.value in (0.0, None), name
        else:
            assert result.value is None, name


def test_a_period_with_tickets_but_no_surveys():
    results = headline_kpis(kpi_frames(tickets=[ticket(frt_min=5)]), Q3)
    assert results["tickets"].value == 1.0
    assert results["frt_median_min"].value == 5.0
    for name in ("csat_pct", "csat_mean", "nps", "ces_mean", "csat_response_rate_pct"):
        assert (results[name].value, results[name].n) == (None, 0)


def test_all_ties():
    surveys = [csat(4) for _ in range(5)]
    assert value_n(k.csat_pct, kpi_frames(surveys=surveys)) == (100.0, 5)
    frames = kpi_frames(tickets=[ticket(frt_min=7) for _ in range(4)])
    assert value_n(k.frt_p90_min, frames) == (7.0, 4)


def test_window_of_a_period_caps_as_of_at_data_as_of():
    from cxdash.periods import parse_period

    data_as_of = datetime(2026, 11, 15, 8, tzinfo=UTC)
    current = Window.of(parse_period("2026Q4"), tz="UTC", data_as_of=data_as_of)
    past = Window.of(parse_period("2026Q3"), tz="UTC", data_as_of=data_as_of)
    assert current.as_of == data_as_of
    assert past.as_of == datetime(2026, 10, 1, tzinfo=UTC)


def test_backlog_leaves_out_tickets_closed_without_a_resolution():
    tickets = [
        ticket("2026-09-01"),  # open: in
        {"created_at": at("2026-09-01"), "closed_at": at("2026-09-20")},  # closed unresolved: out
        {"created_at": at("2026-09-01"), "closed_at": at("2026-10-03")},  # closed after as_of: in
        {
            "created_at": at("2026-09-01"),
            "resolved_at": at("2026-10-02"),
            "closed_at": at("2026-09-29"),
        },  # out
    ]
    assert value_n(k.backlog_open, kpi_frames(tickets=tickets)) == (2.0, 2)


def reason(kpi, frames, window=Q3, options=OPTIONS):
    row = kpi(frames, window, options).collect()
    return row["value"][0], row["n"][0], row["reason"][0] if "reason" in row.columns else None


def test_look_back_windows_before_the_first_order_have_not_enough_history():
    # The data's first completed order is 1 Mar 2026 (the cancelled one before it does not count).
    orders = [
        {"customer_id": "A", "ordered_at": at("2026-01-15"), "status": "cancelled"},
        {"customer_id": "A", "ordered_at": at("2026-03-01")},
        {"customer_id": "B", "ordered_at": at("2026-09-01")},
    ]
    frames = kpi_frames(orders=orders)
    assert frames.history_from == at("2026-03-01")
    # churn looks back from 1 Jul to 2 Jan, repeat from 1 Oct to 1 Oct 2025: both before 1 Mar
    assert reason(k.churn_rate_pct, frames) == (None, 0, k.NOT_ENOUGH_HISTORY)
    assert reason(k.repeat_purchase_rate_pct, frames) == (None, 0, k.NOT_ENOUGH_HISTORY)
    # active looks back from 1 Oct to 4 Apr: after 1 Mar, so it is computed (B only)
    assert reason(k.active_customers, frames) == (1.0, 1, None)
    # a shorter window W = 90 days makes churn computable: (2 Apr, 1 Jul] has no buyer → null by no data
    assert reason(k.churn_rate_pct, frames, options=KpiOptions(churn_window_days=90)) == (None, 0, None)


def served_frames():
    """c1 contacted T01 in Q3, c2 contacted T01 only in Q2, c3 contacted T02 in Q3."""
    from cxdash.metrics.scope import Scope, scoped

    frames = kpi_frames(
        customers=[{"customer_id": c, "signup_at": at("2026-07-05")} for c in ("c1", "c2", "c3")],
        tickets=[
            {"ticket_id": "t1", "customer_id": "c1", "team_id": "T01", "created_at": at("2026-08-01")},
            {"ticket_id": "t2", "customer_id": "c2", "team_id": "T01", "created_at": at("2026-05-01")},
            {"ticket_id": "t3", "customer_id": "c3", "team_id": "T02", "created_at": at("2026-08-01")},
        ],
        orders=[
            {"customer_id": "c1", "ordered_at": at("2025-09-01"), "amount": 1.0},
            {"customer_id": "c1", "ordered_at": at("2026-08-10"), "amount": 100.0},
            {"customer_id": "c2", "ordered_at": at("2026-08-10"), "amount": 200.0},
            {"customer_id": "c3", "ordered_at": at("2026-08-10"), "amount": 400.0},
        ],
        surveys=[
            {"kind": "nps", "customer_id": "c1", "score": 10, "responded_at": at("2026-08-20")},
            {"kind": "nps", "customer_id": "c2", "score": 0, "responded_at": at("2026-08-20")},
        ],
    )
    return scoped(frames, Scope(teams=("T01",)))


def test_customer_side_kpis_under_a_team_filter_are_about_the_customers_served_in_the_period():
    frames = served_frames()
    assert frames.ticket_filtered
    # T01 served c1 in Q3 (c2 only in Q2): revenue 100 (c2's 200 and c3's 400 are not T01's Q3 customers)
    assert value_n(k.revenue, frames) == (100.0, 1)
    assert value_n(k.nps, frames) == (100.0, 1)  # c1's promoter answer; c2's detractor is left out
    assert value_n(k.active_customers, frames) == (1.0, 1)
    # c1 bought once in (1 Oct 2025, 1 Oct 2026] (its Sep 2025 order is older): 0 of 1 repeat
    assert value_n(k.repeat_purchase_rate_pct, frames) == (0.0, 1)


def test_conversion_and_complaint_rate_are_not_defined_under_a_ticket_filter():
    frames = served_frames()
    assert reason(k.conversion_rate_pct, frames) == (None, 0, k.UNDEFINED_UNDER_TICKET_FILTER)
    assert reason(k.complaint_rate_per_1k_orders, frames) == (None, 0, k.UNDEFINED_UNDER_TICKET_FILTER)
    values = headline_kpis(frames, Q3)
    assert values["conversion_rate_pct"].reason == k.UNDEFINED_UNDER_TICKET_FILTER
    assert values["tickets"].reason is None


def test_running_window():
    running = Window(start=Q3.start, end=Q3.end, as_of=at("2026-08-16"), data_as_of=at("2026-08-16"))
    assert running.running and running.exposure_days == pytest.approx(46)
    assert not Q3.running and Q3.exposure_days == pytest.approx(92)
