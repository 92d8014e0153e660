"""The Service map's view on hand-built rows: totals, each node's lead KPI against the target in force
(traffic light), the page that explains each node, and reconciliation with `kpis` on the small demo."""

import polars as pl
import pytest

from cxdash.kpi_report import kpi_report
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import DataSpan, parse_period
from cxdash.views.service_map import explained_on, service_map
from tests.kpi_frames import at, kpi_frames

Q3 = parse_period("2026Q3")
SPAN = DataSpan(first=at("2026-01-01"), data_as_of=at("2026-10-15"))


def target(metric: str, value: float, team: str | None = None) -> dict:
    return {"metric": metric, "team_id": team, "period": "*", "target": value}


def test_nodes_carry_their_lead_kpi_against_the_target():
    tickets = [
        # chat: first responses after 10 and 30 minutes → median 20 > target 15: red (5 off, > 5% of 15)
        {"channel": "chat", "created_at": at("2026-08-03"), "first_response_at": at("2026-08-03", 10)},
        {"channel": "chat", "created_at": at("2026-08-04"), "first_response_at": at("2026-08-04", 30)},
        # phone: 5 minutes → green; email: no response yet → no median, grey
        {"channel": "phone", "created_at": at("2026-08-05"), "first_response_at": at("2026-08-05", 5)},
        {"channel": "email", "created_at": at("2026-09-30")},
        {"channel": "chat", "created_at": at("2026-10-02")},  # next quarter: not on the map
    ]
    frames = kpi_frames(tickets=tickets, kpi_targets=[target("frt_median_min", 15.0)])
    data = service_map(frames, Q3, span=SPAN, tz="UTC", options=KpiOptions(), teams=())
    assert data.tickets == 4
    channels = {r["node"]: r for r in data.nodes.filter(pl.col("stage") == "channel").iter_rows(named=True)}
    assert channels["chat"]["value"] == pytest.approx(20.0) and channels["chat"]["status"] == "red"
    assert channels["phone"]["value"] == pytest.approx(5.0) and channels["phone"]["status"] == "green"
    assert channels["email"]["value"] is None and channels["email"]["status"] is None
    assert channels["chat"]["share_pct"] == pytest.approx(50.0)
    # every stage holds every ticket once; the last stage has no KPI of its own
    assert data.nodes.group_by("stage").agg(pl.col("tickets").sum())["tickets"].to_list() == [4] * 6
    assert data.nodes.filter(pl.col("stage") == "next_step")["lead"].is_null().all()


def test_without_a_target_nodes_are_grey():
    tickets = [{"channel": "chat", "created_at": at("2026-08-03"), "first_response_at": at("2026-08-03", 10)}]
    data = service_map(kpi_frames(tickets=tickets), Q3, span=SPAN, tz="UTC", options=KpiOptions(), teams=())
    assert data.nodes["status"].is_null().all() and data.nodes["target"].is_null().all()


@pytest.mark.parametrize(
    ("stage", "node", "page", "channel"),
    [
        ("channel", "email", "team", "email"),
        ("ticket_type", "inquiry", "satisfaction", None),
        ("ticket_type", "complaint:billing", "complaints", None),
        ("handling", "bot", "team", None),
        ("outcome", "closed_unresolved", "complaints", None),
        ("outcome", "reopened", "team", None),
        ("feedback", "dissatisfied", "satisfaction", None),
        ("next_step", "churned", "loyalty", None),
    ],
)
def test_each_node_is_explained_on_its_page(stage, node, page, channel):
    assert explained_on(stage, node) == (page, channel)


def test_the_map_reconciles_with_kpis_on_the_small_demo(small_db):
    frames, span = read_frames(small_db), read_span(small_db)
    period = parse_period("2026Q3")
    data = service_map(frames, period, span=span, tz="Asia/Shanghai", options=KpiOptions(), teams=())
    report = kpi_report(frames, period, span=span, tz="Asia/Shanghai", scope=Scope(), options=KpiOptions())
    kpis = report["kpis"]
    by_stage = {s: g for (s,), g in data.nodes.group_by("stage")}
    assert data.tickets == kpis["tickets"]["value"]
    complaints = by_stage["ticket_type"].filter(pl.col("node").str.starts_with("complaint:"))
    assert complaints["tickets"].sum() == kpis["complaints"]["value"]
    assert data.links.filter(pl.col("source_stage") == "channel")["tickets"].sum() == data.tickets
