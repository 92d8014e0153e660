import polars as pl

from cxdash.metrics.scope import Scope, scoped
from tests.kpi_frames import at, kpi_frames


def sample():
    return kpi_frames(
        customers=[
            {"customer_id": "c1", "segment": "consumer", "region": "华东"},
            {"customer_id": "c2", "segment": "business", "region": "华北"},
            {"customer_id": "c3", "segment": "consumer", "region": "华北"},
        ],
        tickets=[
            {"ticket_id": "t1", "customer_id": "c1", "team_id": "T01", "channel": "chat"},
            {"ticket_id": "t2", "customer_id": "c2", "team_id": "T02", "channel": "phone"},
            {"ticket_id": "t3", "customer_id": "c3", "team_id": "T01", "channel": "phone"},
        ],
        surveys=[
            {"ticket_id": "t1", "customer_id": "c1", "responded_at": at("2026-08-01"), "score": 5},
            {"ticket_id": "t2", "customer_id": "c2", "responded_at": at("2026-08-01"), "score": 1},
            {"kind": "nps", "customer_id": "c2", "responded_at": at("2026-08-01"), "score": 9},
            {"kind": "nps", "customer_id": "c3", "responded_at": at("2026-08-01"), "score": 0},
        ],
        orders=[{"customer_id": c} for c in ("c1", "c2", "c2", "c3")],
    )


def ids(frame: pl.LazyFrame, column: str) -> list[str]:
    return sorted(frame.collect()[column].to_list())


def test_everything_is_unchanged():
    frames = sample()
    assert scoped(frames, Scope()) is frames


def test_team_scope_keeps_its_tickets_their_surveys_and_customers_who_contacted_it():
    frames = scoped(sample(), Scope(teams=("T01",)))
    assert ids(frames.tickets, "ticket_id") == ["t1", "t3"]
    assert ids(frames.customers, "customer_id") == ["c1", "c3"]
    assert ids(frames.orders, "customer_id") == ["c1", "c3"]
    # csat of t1 (its ticket) and the nps answer of c3 (a customer who contacted T01)
    assert ids(frames.surveys, "customer_id") == ["c1", "c3"]


def test_channel_and_team_combine():
    frames = scoped(sample(), Scope(teams=("T01",), channels=("phone",)))
    assert ids(frames.tickets, "ticket_id") == ["t3"]


def test_segment_and_region_scope_customers_and_their_activity():
    frames = scoped(sample(), Scope(regions=("华北",), segments=("business",)))
    assert ids(frames.customers, "customer_id") == ["c2"]
    assert ids(frames.tickets, "ticket_id") == ["t2"]
    assert ids(frames.orders, "customer_id") == ["c2", "c2"]
    assert ids(frames.surveys, "customer_id") == ["c2", "c2"]


def test_scope_that_matches_nothing_is_empty_not_an_error():
    frames = scoped(sample(), Scope(teams=("T09",)))
    assert frames.tickets.collect().height == 0
    assert frames.surveys.collect().height == 0
