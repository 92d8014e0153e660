"""The service flow on eight hand-written tickets that take every branch; expected figures worked out by
hand in the comments. Then the same invariants and a reconciliation with the headline KPIs on the small
demo.

Hand frame: period 2026Q3, as_of = 2026-09-30 12:00 UTC (AS_OF), the data goes on to 2026-10-15
(DATA_AS_OF) so that events after as_of exist and must be ignored. T = 4, W = 180 days, so the churn
cut-off is AS_OF − 180 d = 2026-04-03 12:00. SLA targets (first response): normal 60 min, no policy
for `low`.
"""

from itertools import pairwise

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.demo.staffing import demo_setup
from cxdash.load import TIMESTAMP_COLUMNS, Frames, frames_from_tables
from cxdash.metrics import kpis as k
from cxdash.metrics.flow import (
    PATH_COLUMNS,
    STAGE_DTYPE,
    STAGE_NODES,
    STAGES,
    flow_links,
    flow_nodes,
    node_kpis,
    ticket_paths,
)
from cxdash.metrics.kpis import KpiOptions, Window
from cxdash.periods import parse_period
from tests.conftest import SMALL
from tests.kpi_frames import END, START, at, kpi_frames

AS_OF = at("2026-09-30T12:00")
DATA_AS_OF = at("2026-10-15")
WINDOW = Window(start=START, end=END, as_of=AS_OF, data_as_of=DATA_AS_OF)
OPTIONS = KpiOptions()
DAY = "2026-08-01"

TICKETS = [
    # T1 chat inquiry, first response +10, resolved +30 with one reply → first_touch; c1 buys on 09-01
    {"ticket_id": "T1", "customer_id": "c1", "channel": "chat", "first_response_at": at(DAY, 10),
     "resolved_at": at(DAY, 30), "closed_at": at("2026-08-02"), "agent_replies": 1},
    # T2 chat billing complaint, escalated, response +90 (late), resolved then reopened → reopened
    {"ticket_id": "T2", "customer_id": "c2", "channel": "chat", "is_complaint": True, "category": "billing",
     "escalated": True, "first_response_at": at(DAY, 90), "resolved_at": at("2026-08-03"),
     "reopen_count": 1, "agent_replies": 1},
    # T3 phone complaint without a category; escalated, but the bot answered and no agent replied → bot
    {"ticket_id": "T3", "customer_id": "c3", "channel": "phone", "is_complaint": True, "category": None,
     "escalated": True, "bot_handled": True, "agent_replies": 0, "resolved_at": at(DAY, 5)},
    # T4 phone inquiry: bot_handled but an agent replied twice → first_line; response at exactly 60 min
    {"ticket_id": "T4", "customer_id": "c4", "channel": "phone", "bot_handled": True, "agent_replies": 2,
     "first_response_at": at(DAY, 60), "resolved_at": at("2026-08-02")},
    # T5 email inquiry created 30 min before as_of, untouched → open, inside its SLA target
    {"ticket_id": "T5", "customer_id": "c1", "channel": "email", "created_at": at("2026-09-30T11:30"),
     "agent_replies": 0},
    # T6 email inquiry, priority low (no SLA policy), closed without a resolution
    {"ticket_id": "T6", "customer_id": "c4", "channel": "email", "priority": "low",
     "first_response_at": at(DAY, 20), "closed_at": at("2026-08-02")},
    # T7 chat billing complaint: first response and resolution both after as_of → open, no response yet
    {"ticket_id": "T7", "customer_id": "c5", "channel": "chat", "is_complaint": True, "category": "billing",
     "first_response_at": at("2026-10-01"), "resolved_at": at("2026-10-02")},
    # T8 phone inquiry created at the start instant (inside), response +5, resolved with no reply
    {"ticket_id": "T8", "customer_id": "c3", "channel": "phone", "created_at": START,
     "first_response_at": at("2026-07-01", 5), "resolved_at": at("2026-07-01", 60), "agent_replies": 0},
    # outside the period: at the end instant, and just before the start
    {"ticket_id": "T9", "created_at": END},
    {"ticket_id": "T10", "created_at": at("2026-06-30T23:59")},
]  # fmt: skip


def csat(ticket, sent, responded=None, score=None, kind="csat"):
    return {"kind": kind, "ticket_id": ticket, "sent_at": at(sent),
            "responded_at": at(responded) if responded else None, "score": score}  # fmt: skip


SURVEYS = [
    csat("T1", "2026-08-02", "2026-08-02T01:00", 5),  # satisfied
    csat("T1", "2026-08-02", "2026-08-02T02:00", 1, kind="ces"),  # not csat: ignored
    csat("T2", "2026-08-02", "2026-08-03", 5),
    csat("T2", "2026-08-04", "2026-08-05", 2),  # the latest answer counts → dissatisfied
    csat("T3", "2026-08-02"),  # sent, never answered → no_answer
    csat("T4", "2026-08-02", "2026-08-02T05:00", 3),  # neutral
    csat("T5", "2026-09-30T11:40", "2026-09-30T11:50", 1, kind="ces"),  # only a ces → not_asked
    csat("T6", "2026-08-03", "2026-10-05", 5),  # answered after as_of → no_answer
    csat("T7", "2026-10-03", "2026-10-04", 5),  # sent after as_of → not_asked
    csat("T8", "2026-07-02", "2026-07-02T01:00", 4),  # 4 ≥ T → satisfied
    csat("T8", "2026-07-03", "2026-07-04", None),  # answered without a score: not an answer
]


def order(customer, day, status="completed"):
    return {"customer_id": customer, "ordered_at": at(day), "status": status}


ORDERS = [
    order("c1", "2026-09-01"),  # after T1 (08-01) → repurchased; before T5 (09-30), within W → at_risk
    order("c2", "2026-06-01"),  # before T2, 121 days before as_of → at_risk
    order("c3", "2026-03-01"),  # before the cut-off 04-03 → churned
    order("c3", "2026-09-01", "refunded"),  # not completed: does not count
    order("c4", "2026-10-05"),  # after as_of: ignored → no order → churned
    order("c5", DAY),  # exactly at T7's created_at: not after it → at_risk
]

EXPECTED_PATHS = {
    "T1": ("chat", "inquiry", "first_line", "first_touch", "satisfied", "repurchased"),
    "T2": ("chat", "complaint:billing", "escalated", "reopened", "dissatisfied", "at_risk"),
    "T3": ("phone", "complaint:unknown", "bot", "first_touch", "no_answer", "churned"),
    "T4": ("phone", "inquiry", "first_line", "resolved_later", "neutral", "churned"),
    "T5": ("email", "inquiry", "first_line", "open", "not_asked", "at_risk"),
    "T6": ("email", "inquiry", "first_line", "closed_unresolved", "no_answer", "churned"),
    "T7": ("chat", "complaint:billing", "first_line", "open", "not_asked", "at_risk"),
    "T8": ("phone", "inquiry", "first_line", "first_touch", "satisfied", "churned"),
}


@pytest.fixture(scope="module")
def frames() -> Frames:
    return kpi_frames(tickets=TICKETS, surveys=SURVEYS, orders=ORDERS)


def paths_of(frames, options=OPTIONS, as_of=AS_OF) -> pl.DataFrame:
    return ticket_paths(frames, WINDOW, as_of=as_of, options=options).collect().sort("ticket_id")


def test_ticket_paths_take_every_branch(frames):
    paths = paths_of(frames)
    assert paths.columns == list(PATH_COLUMNS)
    assert {row[0]: row[3:] for row in paths.rows()} == EXPECTED_PATHS


@pytest.mark.parametrize(
    ("options", "column", "expected"),
    [
        # T = 2: T2's latest score 2 is satisfied (satisfied wins over ≤ 2), T4's 3 too
        (KpiOptions(csat_threshold=2), "feedback",
         ["satisfied", "satisfied", "no_answer", "satisfied",
          "not_asked", "no_answer", "not_asked", "satisfied"]),
        # T = 5: T8's 4 is neutral now
        (KpiOptions(csat_threshold=5), "feedback",
         ["satisfied", "dissatisfied", "no_answer", "neutral",
          "not_asked", "no_answer", "not_asked", "neutral"]),
        # W = 30 d, cut-off 08-31 12:00: c2 (06-01) and c5 (08-01) churn; c1's 09-01 still counts for T5
        (KpiOptions(churn_window_days=30), "next_step",
         ["repurchased", "churned", "churned", "churned", "at_risk", "churned", "churned", "churned"]),
    ],
)  # fmt: skip
def test_ticket_paths_follow_the_definitions(frames, options, column, expected):
    assert paths_of(frames, options)[column].to_list() == expected


def test_an_as_of_later_sees_what_happened_since(frames):
    # at DATA_AS_OF: T6's answer (10-05, score 5) and T7's (10-04, 5) count; T7 is resolved (10-02,
    # one reply → first_touch); c4 bought on 10-05 after T4 and T6 → repurchased; c5's last order is
    # 08-01, 75 days before → at_risk still
    paths = paths_of(frames, as_of=DATA_AS_OF)
    by_id = {row[0]: row[3:] for row in paths.rows()}
    assert by_id["T6"] == ("email", "inquiry", "first_line", "closed_unresolved", "satisfied", "repurchased")
    assert by_id["T7"] == ("chat", "complaint:billing", "first_line", "first_touch", "satisfied", "at_risk")
    assert by_id["T4"][-1] == "repurchased"


def nodes_frame(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"stage": STAGE_DTYPE, "node": pl.String, "tickets": pl.Int64}, orient="row"
    )


def test_flow_nodes_by_hand(frames):
    expected = nodes_frame(
        [
            # data-driven stages: most tickets first, ties by name
            ("channel", "chat", 3), ("channel", "phone", 3), ("channel", "email", 2),
            ("ticket_type", "inquiry", 5), ("ticket_type", "complaint:billing", 2),
            ("ticket_type", "complaint:unknown", 1),
            # fixed stages: in their declared order, nodes without tickets left out
            ("handling", "bot", 1), ("handling", "escalated", 1), ("handling", "first_line", 6),
            ("outcome", "open", 2), ("outcome", "closed_unresolved", 1), ("outcome", "reopened", 1),
            ("outcome", "first_touch", 3), ("outcome", "resolved_later", 1),
            ("feedback", "satisfied", 2), ("feedback", "neutral", 1), ("feedback", "dissatisfied", 1),
            ("feedback", "no_answer", 2), ("feedback", "not_asked", 2),
            ("next_step", "repurchased", 1), ("next_step", "at_risk", 3), ("next_step", "churned", 4),
        ]
    )  # fmt: skip
    assert_frame_equal(
        flow_nodes(ticket_paths(frames, WINDOW, as_of=AS_OF, options=OPTIONS)).collect(), expected
    )


def test_flow_links_by_hand(frames):
    links = flow_links(ticket_paths(frames, WINDOW, as_of=AS_OF, options=OPTIONS)).collect()
    # 5 stage pairs; e.g. channel → ticket_type: chat→inquiry 1 (T1), chat→complaint:billing 2 (T2,
    # T7), phone→inquiry 2 (T4, T8), phone→complaint:unknown 1 (T3), email→inquiry 2 (T5, T6)
    first = links.filter(pl.col("source_stage") == "channel").select("source", "target", "tickets")
    assert sorted(first.rows()) == [
        ("chat", "complaint:billing", 2),
        ("chat", "inquiry", 1),
        ("email", "inquiry", 2),
        ("phone", "complaint:unknown", 1),
        ("phone", "inquiry", 2),
    ]
    # feedback → next_step: satisfied→repurchased (T1), satisfied→churned (T8), dissatisfied→at_risk
    # (T2), neutral→churned (T4), no_answer→churned (T3, T6), not_asked→at_risk (T5, T7)
    last = links.filter(pl.col("source_stage") == "feedback").select("source", "target", "tickets")
    assert sorted(last.rows()) == [
        ("dissatisfied", "at_risk", 1),
        ("neutral", "churned", 1),
        ("no_answer", "churned", 2),
        ("not_asked", "at_risk", 2),
        ("satisfied", "churned", 1),
        ("satisfied", "repurchased", 1),
    ]
    assert links["target_stage"].cast(pl.String).unique().sort().to_list() == sorted(STAGES[1:])


def assert_flow_is_consistent(paths: pl.DataFrame) -> None:
    """Every ticket in exactly one node per stage; node totals = tickets per stage; links out of and
    into each node add up to the node."""
    n = paths.height
    assert paths["ticket_id"].is_unique().all()
    assert paths.select(pl.col(STAGES).null_count().sum()).row(0) == (0,) * len(STAGES)
    for stage, allowed in STAGE_NODES.items():
        assert set(paths[stage]) <= set(allowed), stage
    nodes = flow_nodes(paths.lazy()).collect()
    links = flow_links(paths.lazy()).collect()
    per_stage = nodes.group_by("stage").agg(pl.col("tickets").sum())
    assert per_stage.height == len(STAGES) or n == 0
    assert (per_stage["tickets"] == n).all()
    totals = {(row["stage"], row["node"]): row["tickets"] for row in nodes.iter_rows(named=True)}
    for side in ("source", "target"):
        sums = links.group_by(f"{side}_stage", side).agg(pl.col("tickets").sum())
        for stage, node, tickets in sums.rows():
            assert totals[(stage, node)] == tickets, (side, stage, node)
    for source, _ in pairwise(STAGES):
        assert links.filter(pl.col("source_stage") == source)["tickets"].sum() == n, source


def test_hand_flow_is_consistent(frames):
    assert_flow_is_consistent(paths_of(frames))


def test_no_tickets_no_rows(frames):
    empty = Window(start=at("2027-01-01"), end=at("2027-04-01"), as_of=AS_OF, data_as_of=DATA_AS_OF)
    paths = ticket_paths(frames, empty, as_of=AS_OF, options=OPTIONS)
    assert paths.collect().height == 0
    assert flow_nodes(paths).collect().height == 0
    assert flow_links(paths).collect().height == 0
    assert node_kpis(frames, paths, empty, as_of=AS_OF, options=OPTIONS).collect().height == 0


def test_node_kpis_by_hand(frames):
    paths = ticket_paths(frames, WINDOW, as_of=AS_OF, options=OPTIONS)
    result = node_kpis(frames, paths, WINDOW, as_of=AS_OF, options=OPTIONS).collect()
    rows = {(r["stage"], r["node"]): r for r in result.iter_rows(named=True)}
    columns = ("tickets", "frt_median_min", "frt_n", "sla_first_response_pct", "sla_n", "csat_pct", "csat_n",
               "churn_pct", "customers")  # fmt: skip
    # FRT by as_of: T1 10, T2 90, T4 60, T6 20, T8 5 (T7's response comes after as_of).
    # SLA at as_of (normal 60): met T1, T4 (= 60), T8; breached T2 (90), T3 and T7 (no response, weeks
    # old); T5 excluded (30 min old, inside), T6 has no policy (low).
    expected = {
        # chat T1, T2, T7: FRT 10, 90 → 50; SLA met T1 of T1, T2, T7 → 33.3 %; answered T1 sat, T2
        # dissat → 50 %; customers c1, c2, c5, none churned
        ("channel", "chat"): (3, 50.0, 2, 100 / 3, 3, 50.0, 2, 0.0, 3),
        # phone T3, T4, T8: FRT 60, 5 → 32.5; SLA T4, T8 met, T3 breached → 66.7 %; answered T4
        # neutral, T8 sat → 50 %; customers c3, c4, both churned
        ("channel", "phone"): (3, 32.5, 2, 200 / 3, 3, 50.0, 2, 100.0, 2),
        # email T5, T6: FRT 20; no SLA row counted → null; nothing answered → null; c1 at risk, c4 churned
        ("channel", "email"): (2, 20.0, 1, None, 0, None, 0, 50.0, 2),
        # bot T3: no response; SLA breached → 0 %; unanswered; c3 churned
        ("handling", "bot"): (1, None, 0, 0.0, 1, None, 0, 100.0, 1),
        # first_line T1, T4, T5, T6, T7, T8: FRT 5, 10, 20, 60 → 15; SLA met T1, T4, T8, breached T7 →
        # 75 %; answered T1 sat, T4 neutral, T8 sat → 66.7 %; customers c1, c3, c4, c5, churned c3, c4
        ("handling", "first_line"): (6, 15.0, 4, 75.0, 4, 200 / 3, 3, 50.0, 4),
        # churned T3, T4, T6, T8: FRT 60, 20, 5 → 20; SLA T4, T8 met, T3 breached (T6 no policy) →
        # 66.7 %; answered T4 neutral, T8 sat → 50 %; customers c3, c4, all churned
        ("next_step", "churned"): (4, 20.0, 3, 200 / 3, 3, 50.0, 2, 100.0, 2),
    }
    for key, values in expected.items():
        got = tuple(rows[key][c] for c in columns)
        assert got == pytest.approx(values), key
    assert result.select(pl.col("tickets").sum()).item() == 8 * len(STAGES)


def assert_node_kpis_equal_headline_kpis(frames: Frames, window: Window, options: KpiOptions) -> None:
    """At as_of = data_as_of, each node's FRT and SLA equal the headline KPIs over the node's tickets."""
    paths = ticket_paths(frames, window, as_of=window.data_as_of, options=options).collect()
    result = node_kpis(frames, paths.lazy(), window, as_of=window.data_as_of, options=options).collect()
    long = paths.unpivot(on=list(STAGES), index="ticket_id", variable_name="stage", value_name="node")
    for row in result.iter_rows(named=True):
        ids = long.filter((pl.col("stage") == row["stage"]) & (pl.col("node") == row["node"]))["ticket_id"]
        node = frames.with_tables(tickets=frames.tickets.filter(pl.col("ticket_id").is_in(ids.implode())))
        for name, n in (("frt_median_min", "frt_n"), ("sla_first_response_pct", "sla_n")):
            kpi = k.KPI_BY_NAME[name].compute(node, window, options).collect()
            assert (row[name], row[n]) == (pytest.approx(kpi["value"][0]), kpi["n"][0]), (row["node"], name)


@pytest.mark.parametrize("clock", ["calendar", "business"])
def test_node_kpis_equal_the_headline_kpis_by_hand(frames, clock):
    # at DATA_AS_OF every response counts (T7's on 10-01 too); on either clock
    assert_node_kpis_equal_headline_kpis(frames, WINDOW, KpiOptions(clock=clock))


# --- the small demo ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(small_frames) -> tuple[Frames, Window]:
    data_as_of = max(
        small_frames[table][column].max()
        for table, column in TIMESTAMP_COLUMNS
        if table in small_frames and small_frames[table][column].max() is not None
    )
    window = Window.of(parse_period("2026Q3"), tz=SMALL.tz, data_as_of=data_as_of)
    return frames_from_tables(small_frames, demo_setup(SMALL.tz, SMALL.locale)), window


def test_demo_flow_reconciles_with_the_headline_kpis(demo):
    frames, window = demo
    paths = ticket_paths(frames, window, as_of=window.data_as_of, options=OPTIONS).collect()
    assert_flow_is_consistent(paths)
    nodes = flow_nodes(paths.lazy()).collect()
    kpis = k.headline_kpis(frames, window, OPTIONS)

    def total(stage: str, *nodes_of: str) -> int:
        picked = nodes.filter(pl.col("stage") == stage)
        if nodes_of:
            picked = picked.filter(pl.col("node").is_in(nodes_of))
        return picked["tickets"].sum()

    assert total("channel") == kpis["tickets"].value > 0
    complaint_nodes = nodes.filter(pl.col("node").str.starts_with("complaint:"))
    assert complaint_nodes["tickets"].sum() == kpis["complaints"].value > 0
    # the bot path comes first: escalated tickets the bot closed alone are `bot`, so the escalated
    # node plus those equals the escalation KPI's numerator
    escalations = round(kpis["escalation_rate_pct"].value * kpis["escalation_rate_pct"].n / 100)
    bot_escalated = paths.join(
        frames.tickets.filter(pl.col("escalated")).select("ticket_id").collect(), on="ticket_id", how="semi"
    ).filter(pl.col("handling") == "bot")
    assert total("handling", "escalated") <= escalations
    assert total("handling", "escalated") + bot_escalated.height == escalations
    # at data_as_of every resolution is known: the resolved outcomes are the reopen and one-touch KPIs' N
    resolved = total("outcome", "reopened", "first_touch", "resolved_later")
    assert resolved == kpis["reopen_rate_pct"].n == kpis["one_touch_pct"].n
    assert total("outcome", "reopened") == round(kpis["reopen_rate_pct"].value * resolved / 100)
    assert total("outcome", "open", "closed_unresolved") == kpis["tickets"].value - resolved


@pytest.mark.parametrize("clock", ["calendar", "business"])
def test_demo_node_kpis_equal_the_headline_kpis(demo, clock):
    frames, window = demo
    assert_node_kpis_equal_headline_kpis(frames, window, KpiOptions(clock=clock))


def test_demo_paths_at_the_period_end_are_consistent(demo):
    frames, window = demo
    at_end = ticket_paths(frames, window, as_of=window.as_of, options=OPTIONS).collect()
    assert_flow_is_consistent(at_end)
    # seen at the period end more tickets are open than at data_as_of, never fewer
    later = ticket_paths(frames, window, as_of=window.data_as_of, options=OPTIONS).collect()
    assert (at_end["outcome"] == "open").sum() >= (later["outcome"] == "open").sum()
