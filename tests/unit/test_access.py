"""The one exit point of business data, table × role: a team lead sees only their teams' rows in every
table, and the roles without the `pii` permission see no personal data in any table."""

import polars as pl
import pytest

from cxdash.auth.access import frames_for_user
from cxdash.auth.roles import ROLES
from cxdash.load import TABLE_COLUMNS
from cxdash.metrics.scope import Scope
from tests.kpi_frames import at, kpi_frames

LEAD_TEAMS = {"team_lead": ("T01",)}
PII = {"张三丰", "Alice Smith", "zhang@example.com", "alice@example.com", "13812345678", "+1 617 555 0100"}


def company():
    """Two teams; c1 contacted only T01, c2 only T02, c3 both; personal data quoted in free text too."""
    return kpi_frames(
        teams=[{"team_id": "T01", "name": "电话"}, {"team_id": "T02", "name": "在线"}],
        agents=[
            {"agent_id": "a1", "name": "王一", "team_id": "T01", "hired_on": None, "active": True},
            {"agent_id": "a2", "name": "李二", "team_id": "T02", "hired_on": None, "active": True},
        ],
        customers=[
            {"customer_id": "c1", "name": "张三丰", "email": "zhang@example.com", "phone": "13812345678"},
            {
                "customer_id": "c2",
                "name": "Alice Smith",
                "email": "alice@example.com",
                "phone": "+1 617 555 0100",
            },
            {"customer_id": "c3", "name": "Bob", "email": "bob@example.com", "phone": "13900000000"},
        ],
        tickets=[
            {"ticket_id": "t1", "customer_id": "c1", "team_id": "T01", "subject": "请回电 13812345678"},
            {"ticket_id": "t2", "customer_id": "c2", "team_id": "T02", "subject": "mail alice@example.com"},
            {"ticket_id": "t3", "customer_id": "c3", "team_id": "T01"},
            {"ticket_id": "t4", "customer_id": "c3", "team_id": "T02"},
        ],
        ticket_events=[
            {"ticket_id": t, "occurred_at": at("2026-08-01"), "stage": "registered", "agent_id": None}
            for t in ("t1", "t2", "t3", "t4")
        ],
        surveys=[
            {"survey_id": "s1", "ticket_id": "t1", "customer_id": "c1", "comment": "call 13812345678"},
            {"survey_id": "s2", "ticket_id": "t2", "customer_id": "c2", "comment": "alice@example.com"},
            {"survey_id": "s3", "kind": "nps", "customer_id": "c1"},
            {"survey_id": "s4", "kind": "nps", "customer_id": "c2"},
        ],
        orders=[{"customer_id": c} for c in ("c1", "c2", "c3")],
        loyalty_ledger=[
            {"customer_id": c, "occurred_at": at("2026-08-01"), "points": 10, "reason": "purchase"}
            for c in ("c1", "c2", "c3")
        ],
        kpi_targets=[
            {"metric": "csat_pct", "team_id": None, "period": "*", "target": 85.0},
            {"metric": "csat_pct", "team_id": "T01", "period": "*", "target": 80.0},
            {"metric": "csat_pct", "team_id": "T02", "period": "*", "target": 90.0},
        ],
        annotations=[{"on_date": at("2026-08-01").date(), "label": "price change"}],
    )


def as_user(role, chosen=None):
    return frames_for_user(
        company(), roles=(role,), lead_teams=LEAD_TEAMS.get(role, ()), chosen=chosen or Scope()
    )


# What a lead of T01 may see of each table (the customers T01 has served: c1 and c3).
LEAD_T01 = {
    "teams": ("team_id", ["T01"]),
    "agents": ("agent_id", ["a1"]),
    "customers": ("customer_id", ["c1", "c3"]),
    "orders": ("customer_id", ["c1", "c3"]),
    "tickets": ("ticket_id", ["t1", "t3"]),
    "ticket_events": ("ticket_id", ["t1", "t3"]),
    "surveys": ("survey_id", ["s1", "s3"]),
    "loyalty_ledger": ("customer_id", ["c1", "c3"]),
    "sla_policies": ("priority", ["high", "normal", "urgent"]),
    "kpi_targets": ("target", [80.0, 85.0]),
    "annotations": ("label", ["price change"]),
}


def test_every_table_is_covered():
    assert set(LEAD_T01) == set(TABLE_COLUMNS)


@pytest.mark.parametrize("table", list(TABLE_COLUMNS))
@pytest.mark.parametrize("role", ROLES)
def test_scope_of_every_table_for_every_role(role, table):
    column, lead_sees = LEAD_T01[table]
    rows = sorted(getattr(as_user(role), table).collect()[column].to_list())
    everything = sorted(getattr(company(), table).collect()[column].to_list())
    assert rows == (lead_sees if role == "team_lead" else everything)


@pytest.mark.parametrize("table", list(TABLE_COLUMNS))
def test_a_lead_cannot_widen_the_scope_by_choosing_another_team(table):
    column, lead_sees = LEAD_T01[table]
    for chosen in (Scope(teams=("T02",)), Scope(teams=("T01", "T02"))):
        rows = sorted(getattr(as_user("team_lead", chosen), table).collect()[column].to_list())
        assert set(rows) <= set(lead_sees)


def text_of(frame: pl.DataFrame) -> set[str]:
    return {v for c in frame.columns if frame[c].dtype == pl.String for v in frame[c].drop_nulls()}


@pytest.mark.parametrize("role", ROLES)
def test_personal_data_is_masked_in_every_table_for_roles_without_pii(role):
    frames = as_user(role)
    seen = set().union(*(text_of(f.collect()) for f in frames.tables().values()))
    leaked = {value for value in seen if any(p in value for p in PII)}
    if role in ("analyst", "viewer"):
        assert not leaked, leaked
    elif role != "team_lead":  # the lead sees c1 (T01's), not c2
        assert {"张三丰", "Alice Smith"} <= leaked
    else:
        assert "张三丰" in leaked and "Alice Smith" not in leaked


def test_masked_free_text_keeps_its_words():
    subjects = as_user("viewer").tickets.collect().sort("ticket_id")["subject"].to_list()
    assert subjects[:2] == ["请回电 ********", "mail ***@***"]
