"""Data-quality checks on hand-built data: a clean baseline, then one kind of bad row at a time."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.load import TABLE_COLUMNS
from cxdash.metrics.kpis import KPI_BY_NAME
from cxdash.metrics.quality import (
    CHECK_BY_ID,
    CHECKS,
    REPORT_SCHEMA,
    kpi_usability,
    offending_rows,
    quality_report,
)
from tests.kpi_frames import END, Q3, START, at, kpi_frames

CREATED = at("2026-08-01T09:00")


def ticket(ticket_id: str, **row) -> dict:
    """An open ticket in Q3 that passes every check (answered after 30 minutes, agent a1)."""
    created = row.get("created_at", CREATED)
    return {
        "ticket_id": ticket_id,
        "customer_id": "c1",
        "created_at": created,
        "first_response_at": created + timedelta(minutes=30),
        "status": "open",
        "team_id": "T01",
        "agent_id": "a1",
        "category": "billing",
        **row,
    }


def resolved(ticket_id: str, **row) -> dict:
    """A resolved ticket (two hours after creation) that passes every check once it has a csat survey."""
    created = row.get("created_at", CREATED)
    return ticket(ticket_id, **{"status": "resolved", "resolved_at": created + timedelta(hours=2), **row})


def survey(survey_id: str, **row) -> dict:
    """A csat response in Q3 that passes every check (about t1 unless told)."""
    return {
        "survey_id": survey_id,
        "kind": "csat",
        "customer_id": "c1",
        "ticket_id": "t1",
        "sent_at": at("2026-08-02"),
        "responded_at": at("2026-08-02T01:00"),
        "score": 5,
        **row,
    }


def customer(customer_id: str, **row) -> dict:
    return {
        "customer_id": customer_id,
        "email": f"{customer_id}@example.com",
        "phone": f"1380000{customer_id[-4:].zfill(4)}",
        "region": "华东",
        **row,
    }


def order(order_id: str, **row) -> dict:
    return {"order_id": order_id, "customer_id": "c1", "amount": 100.0, **row}


def event(ticket_id: str, **row) -> dict:
    return {"ticket_id": ticket_id, "occurred_at": CREATED, "stage": "registered", "agent_id": None, **row}


# Every check passes on these rows: one resolved ticket with its survey, its customer, an order, an event.
BASELINE = {
    "tickets": [resolved("t1")],
    "surveys": [survey("s1")],
    "customers": [
        customer("c1", email="a@x.com", phone="138-0000-0001"),
        customer("c2", email="b@x.com", phone="13800000002"),
    ],
    "orders": [order("o1")],
    "ticket_events": [event("t1")],
    "teams": [{"team_id": "T01", "name": "One"}],
    "agents": [
        {"agent_id": "a1", "name": "A", "team_id": "T01", "hired_on": date(2025, 1, 1), "active": True}
    ],
}


def frames_with(**extra: list[dict]):
    """The baseline plus `extra` rows per table."""
    return kpi_frames(**{table: rows + extra.get(table, []) for table, rows in BASELINE.items()})


def failing_counts(report: pl.DataFrame) -> dict[str, int]:
    return dict(report.filter(pl.col("rows_failing") > 0).select("check", "rows_failing").iter_rows())


# (case, extra rows per table, the checks that fail with how many rows), worked out row by row.
CASES = [
    ("no category: null and blank", {"tickets": [ticket("x1", category=None), ticket("x2", category="  ")]},
     {"tickets.no_category": 2}),
    ("resolved by an agent without agent_id; a bot-only resolution is fine",
     {"tickets": [resolved("x1", agent_id=None),
                  resolved("x2", agent_id=None, bot_handled=True, agent_replies=0, first_response_at=None)],
      "surveys": [survey("s2", ticket_id="x1"), survey("s3", ticket_id="x2")]},
     {"tickets.no_agent_resolved": 1}),
    ("first response 5 minutes before creation",
     {"tickets": [ticket("x1", first_response_at=CREATED - timedelta(minutes=5))]},
     {"tickets.negative_frt": 1}),
    ("first response after 91 days; exactly 90 days is not absurd",
     {"tickets": [ticket("x1", first_response_at=CREATED + timedelta(days=91)),
                  ticket("x2", first_response_at=CREATED + timedelta(days=90))]},
     {"tickets.absurd_frt": 1}),
    ("agent replies without a first response; none without replies is fine",
     {"tickets": [ticket("x1", first_response_at=None, agent_replies=2),
                  ticket("x2", first_response_at=None, agent_replies=0)]},
     {"tickets.replied_without_first_response": 1}),
    ("resolved an hour before creation",
     {"tickets": [resolved("x1", resolved_at=CREATED - timedelta(hours=1))],
      "surveys": [survey("s2", ticket_id="x1")]},
     {"tickets.resolved_before_created": 1}),
    ("status without its timestamp; closed unresolved is fine",
     {"tickets": [ticket("x1", status="resolved"), ticket("x2", status="closed"),
                  ticket("x3", status="closed", closed_at=CREATED + timedelta(days=1))]},
     {"tickets.status_without_time": 2}),
    ("a priority without an SLA policy", {"tickets": [ticket("x1", priority="low")]},
     {"tickets.no_sla_policy": 1}),
    ("ticket of an unknown customer", {"tickets": [ticket("x1", customer_id="nobody")]},
     {"tickets.orphan_customer": 1}),
    ("ticket of an unknown team", {"tickets": [ticket("x1", team_id="T99")]}, {"tickets.orphan_team": 1}),
    ("ticket of an unknown agent; no agent yet is fine",
     {"tickets": [ticket("x1", agent_id="ghost"), ticket("x2", agent_id=None)]},
     {"tickets.orphan_agent": 1}),
    ("resolved complaint without a root cause; an open one is fine",
     {"tickets": [resolved("x1", is_complaint=True, severity=2),
                  ticket("x2", is_complaint=True, severity=2)],
      "surveys": [survey("s2", ticket_id="x1")]},
     {"tickets.complaint_no_root_cause": 1}),
    ("complaints without a severity or with severity 5; an inquiry needs none",
     {"tickets": [ticket("x1", is_complaint=True), ticket("x2", is_complaint=True, severity=5),
                  ticket("x3", is_complaint=True, severity=4), ticket("x4")]},
     {"tickets.complaint_no_severity": 2}),
    ("resolved without a survey, or with a ces survey only",
     {"tickets": [resolved("x1"), resolved("x2")],
      "surveys": [survey("s2", kind="ces", ticket_id="x2", score=7)]},
     {"tickets.resolved_without_csat_survey": 2}),
    ("a response a day before the survey was sent",
     {"surveys": [survey("s2", sent_at=at("2026-08-05"), responded_at=at("2026-08-04"))]},
     {"surveys.responded_before_sent": 1}),
    ("scores outside each kind's scale; the scales' ends are fine",
     {"surveys": [survey("s2", score=6), survey("s3", kind="nps", ticket_id=None, score=11),
                  survey("s4", kind="ces", score=0), survey("s5", kind="nps", ticket_id=None, score=0),
                  survey("s6", kind="ces", score=7), survey("s7", score=1)]},
     {"surveys.score_out_of_range": 3}),
    ("driver ratings outside 1–5",
     {"surveys": [survey("s2", rating_speed=6), survey("s3", rating_attitude=0, rating_knowledge=5)]},
     {"surveys.rating_out_of_range": 2}),
    ("csat and ces without a ticket; nps is relationship-level",
     {"surveys": [survey("s2", ticket_id=None), survey("s3", kind="ces", ticket_id=None, score=6),
                  survey("s4", kind="nps", ticket_id=None, score=9)]},
     {"surveys.csat_without_ticket": 2}),
    ("survey about an unknown ticket", {"surveys": [survey("s2", ticket_id="T404")]},
     {"surveys.orphan_ticket": 1}),
    ("survey of an unknown customer",
     {"surveys": [survey("s2", kind="nps", ticket_id=None, score=9, customer_id="nobody")]},
     {"surveys.orphan_customer": 1}),
    ("a negative amount; zero is fine", {"orders": [order("o2", amount=-5.0), order("o3", amount=0.0)]},
     {"orders.negative_amount": 1}),
    ("an order without a status", {"orders": [order("o2", status=None)]}, {"orders.unknown_status": 1}),
    ("order of an unknown customer", {"orders": [order("o2", customer_id="nobody")]},
     {"orders.orphan_customer": 1}),
    ("e-mail equal to c1's once trimmed and lower-cased: both fail; two without e-mail do not",
     {"customers": [customer("c3", email="  A@X.com "), customer("c4", email=None),
                    customer("c5", email=" ")]},
     {"customers.duplicate_email": 2}),
    ("phone equal to c1's in digits: both fail; two without digits do not",
     {"customers": [customer("c3", phone="(138) 0000 0001"), customer("c4", phone="n/a"),
                    customer("c5", phone="-")]},
     {"customers.duplicate_phone": 2}),
    ("customers without a region", {"customers": [customer("c3", region=None), customer("c4", region=" ")]},
     {"customers.no_region": 2}),
    ("a customer without signup_at", {"customers": [customer("c3", signup_at=None)]},
     {"customers.no_signup": 1}),
    ("an event of an unknown ticket", {"ticket_events": [event("T404")]}, {"ticket_events.orphan_ticket": 1}),
]  # fmt: skip


def test_baseline_is_clean():
    report = quality_report(frames_with(), Q3)
    assert failing_counts(report) == {}
    assert report["usable_pct"].to_list() == [100.0] * len(CHECKS)


@pytest.mark.parametrize(("extra", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_kind_of_bad_row_fails_its_check(extra, expected):
    assert failing_counts(quality_report(frames_with(**extra), Q3)) == expected


def test_every_check_has_a_case():
    assert {check for *_, expected in CASES for check in expected} == set(CHECK_BY_ID)


def test_checks_name_known_tables_and_kpis():
    assert len(CHECK_BY_ID) == len(CHECKS)
    for check in CHECKS:
        assert check.table in TABLE_COLUMNS
        assert check.id.startswith(f"{check.table}.")
        assert set(check.kpis) <= set(KPI_BY_NAME), check.id
        assert check.kpis or check.breakdowns, f"{check.id} affects nothing"


def test_report_counts_rows_in_the_window():
    """Tickets by created_at, surveys by responded_at or sent_at, orders by ordered_at, events by
    occurred_at, customers all; start inclusive, end exclusive."""
    frames = frames_with(
        tickets=[
            ticket("x1", created_at=START, first_response_at=START - timedelta(minutes=1)),  # in: fails
            ticket("x2", created_at=START - timedelta(seconds=1), category=None),  # June: out
            ticket("x3", created_at=END, category=None),  # October: out
        ],
        surveys=[
            survey("s2", sent_at=at("2026-06-30"), responded_at=at("2026-07-02"), score=9),  # responded in Q3
            survey("s3", sent_at=at("2026-09-30"), responded_at=None, score=None),  # sent in Q3
            survey("s4", sent_at=at("2026-06-01"), responded_at=at("2026-06-02"), score=0),  # out
        ],
        orders=[order("o2", ordered_at=at("2026-10-01"), amount=-1.0)],  # out
        customers=[customer("c3", signup_at=at("2026-12-01"), region=None)],  # customers: always in
        ticket_events=[event("T404", occurred_at=at("2026-06-01"))],  # out
    )
    report = quality_report(frames, Q3).select("check", "rows_checked", "rows_failing", "usable_pct")
    rows = {check: rest for check, *rest in report.iter_rows()}
    # tickets t1, x1; surveys s1, s2, s3; order o1; customers c1–c3; event of t1
    assert rows["tickets.negative_frt"] == [2, 1, 50.0]
    assert rows["tickets.no_category"] == [2, 0, 100.0]
    assert rows["surveys.score_out_of_range"] == [3, 1, pytest.approx(200 / 3)]
    assert rows["orders.negative_amount"] == [1, 0, 100.0]
    assert rows["customers.no_region"] == [3, 1, pytest.approx(200 / 3)]
    assert rows["ticket_events.orphan_ticket"] == [1, 0, 100.0]


def test_report_on_a_hand_worked_mix():
    """Four tickets in Q3: t1 clean; x1 answered before creation and without a category; x2 a complaint
    without severity; x3 answered after 100 days."""
    frames = frames_with(
        tickets=[
            ticket("x1", first_response_at=CREATED - timedelta(hours=1), category=None),
            ticket("x2", is_complaint=True),
            ticket("x3", first_response_at=CREATED + timedelta(days=100)),
        ]
    )
    checks = [
        "tickets.no_category",
        "tickets.negative_frt",
        "tickets.absurd_frt",
        "tickets.orphan_team",
        "tickets.complaint_no_severity",
    ]
    report = quality_report(frames, Q3).filter(pl.col("check").is_in(checks))
    frt = ["frt_median_min", "frt_p90_min", "sla_first_response_pct"]
    expected = pl.DataFrame(
        {
            "check": checks,
            "table": ["tickets"] * 5,
            "problem": [CHECK_BY_ID[c].problem for c in checks],
            "kpis": [[], frt, frt, [], []],
            "breakdowns": [["category", "agent_fairness"], [], [], ["team"], ["severity"]],
            "rows_checked": [4, 4, 4, 4, 4],
            "rows_failing": [1, 1, 1, 0, 1],
            "usable_pct": [75.0, 75.0, 75.0, 100.0, 75.0],
        },
        schema=REPORT_SCHEMA,
    )
    assert_frame_equal(report, expected)


def test_empty_tables_give_null_usability():
    report = quality_report(kpi_frames(), Q3)
    assert report.schema == pl.Schema(REPORT_SCHEMA)
    assert report["check"].to_list() == [check.id for check in CHECKS]
    assert report["rows_checked"].to_list() == [0] * len(CHECKS)
    assert report["rows_failing"].to_list() == [0] * len(CHECKS)
    assert report["usable_pct"].null_count() == len(CHECKS)
    usability = kpi_usability(report)
    assert usability["worst_usable_pct"].null_count() == usability.height
    assert not usability["warn"].any()
    assert usability["checks_below"].list.len().sum() == 0


def test_empty_window_checks_customers_only():
    later = type(Q3)(
        start=datetime(2027, 1, 1, tzinfo=UTC),
        end=datetime(2027, 4, 1, tzinfo=UTC),
        as_of=datetime(2027, 4, 1, tzinfo=UTC),
        data_as_of=Q3.data_as_of,
    )
    report = quality_report(frames_with(tickets=[ticket("x1", category=None)]), later)
    checked = dict(report.group_by("table").agg(pl.col("rows_checked").max()).iter_rows())
    assert checked == {"tickets": 0, "surveys": 0, "orders": 0, "customers": 2, "ticket_events": 0}
    assert report.filter(pl.col("table") != "customers")["usable_pct"].null_count() == len(CHECKS) - 4


def report_of(rows: list[tuple[str, list[str], float | None]]) -> pl.DataFrame:
    """A report with the given (check, kpis, usable_pct); the other columns filled."""
    return pl.DataFrame(
        {
            "check": [r[0] for r in rows],
            "table": ["tickets"] * len(rows),
            "problem": [""] * len(rows),
            "kpis": [r[1] for r in rows],
            "breakdowns": [[] for _ in rows],
            "rows_checked": [100] * len(rows),
            "rows_failing": [0] * len(rows),
            "usable_pct": [r[2] for r in rows],
        },
        schema=REPORT_SCHEMA,
    )


REPORT = report_of(
    [
        ("a", ["csat_pct", "nps"], 90.0),
        ("b", ["csat_pct"], 50.0),
        ("c", ["nps"], None),  # no rows in the period
        ("d", [], 10.0),  # affects no KPI
        ("e", ["revenue"], 99.0),
        ("f", ["revenue"], 95.0),  # at the threshold: no warning
    ]
)


@pytest.mark.parametrize(
    ("warn_below_pct", "expected"),
    [
        (
            95.0,
            {
                "kpi": ["csat_pct", "nps", "revenue"],
                "worst_usable_pct": [50.0, 90.0, 95.0],
                "checks_below": [["b", "a"], ["a"], []],
                "warn": [True, True, False],
            },
        ),
        (
            99.5,
            {
                "kpi": ["csat_pct", "nps", "revenue"],
                "worst_usable_pct": [50.0, 90.0, 95.0],
                "checks_below": [["b", "a"], ["a"], ["f", "e"]],
                "warn": [True, True, True],
            },
        ),
        (
            50.0,
            {
                "kpi": ["csat_pct", "nps", "revenue"],
                "worst_usable_pct": [50.0, 90.0, 95.0],
                "checks_below": [[], [], []],
                "warn": [False, False, False],
            },
        ),
    ],
)
def test_kpi_usability_picks_the_worst(warn_below_pct, expected):
    expected_frame = pl.DataFrame(
        expected,
        schema={
            "kpi": pl.String,
            "worst_usable_pct": pl.Float64,
            "checks_below": pl.List(pl.String),
            "warn": pl.Boolean,
        },
    )
    assert_frame_equal(kpi_usability(REPORT, warn_below_pct=warn_below_pct), expected_frame)


def test_kpi_usability_of_the_real_report_warns_for_the_affected_kpis():
    frames = frames_with(tickets=[ticket("x1", first_response_at=CREATED - timedelta(minutes=1))])
    usability = kpi_usability(quality_report(frames, Q3))  # negative_frt: 1 of 2 tickets usable
    warned = usability.filter(pl.col("warn"))
    assert warned["kpi"].to_list() == ["frt_median_min", "frt_p90_min", "sla_first_response_pct"]
    assert warned["worst_usable_pct"].to_list() == [50.0] * 3
    assert warned["checks_below"].to_list() == [["tickets.negative_frt"]] * 3


@pytest.mark.parametrize(
    ("check_id", "extra", "key", "expected_ids"),
    [
        (
            "tickets.negative_frt",
            {"tickets": [ticket("x1", first_response_at=CREATED - timedelta(minutes=1)), ticket("x2"),
                         ticket("x3", first_response_at=CREATED - timedelta(days=2)),
                         ticket("x4", created_at=at("2026-06-01"), first_response_at=at("2026-05-01"))]},
            "ticket_id",
            ["x1", "x3"],
        ),
        (
            "tickets.orphan_agent",
            {"tickets": [ticket("x1", agent_id="ghost"), ticket("x2", agent_id=None), ticket("x3")]},
            "ticket_id",
            ["x1"],
        ),
        (
            # grouped by normalised e-mail: a@x.com (c1, c4), then b@x.com (c2, c3)
            "customers.duplicate_email",
            {"customers": [customer("c3", email="B@x.com "), customer("c4", email=" a@x.com"),
                           customer("c5", email="e@x.com")]},
            "customer_id",
            ["c1", "c4", "c2", "c3"],
        ),
        ("orders.negative_amount", {}, "order_id", []),
    ],
)  # fmt: skip
def test_offending_rows_are_exactly_the_failing_rows(check_id, extra, key, expected_ids):
    check = CHECK_BY_ID[check_id]
    rows = offending_rows(frames_with(**extra), Q3, check_id)
    assert rows.columns == [*TABLE_COLUMNS[check.table], "problem"]
    assert rows[key].to_list() == expected_ids
    assert rows["problem"].to_list() == [check.problem] * len(expected_ids)


def test_offending_rows_match_the_report_counts():
    extra = {table: [row for _, rows, _ in CASES for row in rows.get(table, [])] for table in BASELINE}
    frames = frames_with(**extra)
    report = quality_report(frames, Q3)
    for check_id, failing in report.select("check", "rows_failing").iter_rows():
        assert offending_rows(frames, Q3, check_id).height == failing, check_id


def test_offending_rows_of_an_unknown_check():
    with pytest.raises(KeyError, match=r"tickets\.nope"):
        offending_rows(frames_with(), Q3, "tickets.nope")
