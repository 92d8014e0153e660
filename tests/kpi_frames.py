"""Builds small typed frames of every table from a few hand-written rows (defaults fill the rest)."""

from datetime import UTC, datetime, timedelta
from itertools import count

import polars as pl

from cxdash.business_hours import DEFAULT_SETUP
from cxdash.load import TABLE_COLUMNS, Frames, frames_from_tables, table_schema
from cxdash.metrics.kpis import Window

START = datetime(2026, 7, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)
Q3 = Window(start=START, end=END, as_of=END, data_as_of=datetime(2026, 10, 15, tzinfo=UTC))


def at(day: str, minutes: float = 0) -> datetime:
    """A UTC instant: ISO date (or date-time) plus minutes."""
    base = datetime.fromisoformat(day)
    base = base if base.tzinfo else base.replace(tzinfo=UTC)
    return base + timedelta(minutes=minutes)


_ids = count(1)
DEFAULTS = {
    "tickets": lambda: {
        "ticket_id": f"T{next(_ids)}",
        "customer_id": "c1",
        "channel": "chat",
        "created_at": at("2026-08-01"),
        "first_response_at": None,
        "resolved_at": None,
        "priority": "normal",
        "is_complaint": False,
        "team_id": "T01",
        "reopen_count": 0,
        "agent_replies": 1,
        "escalated": False,
        "status": "open",
        "category": "billing",
        "reassign_count": 0,
        "bot_handled": False,
        "subject": "",
    },
    "surveys": lambda: {
        "kind": "csat",
        "customer_id": "c1",
        "ticket_id": None,
        "sent_at": at("2026-08-01"),
        "responded_at": None,
        "score": None,
    },
    "orders": lambda: {
        "order_id": f"O{next(_ids)}",
        "customer_id": "c1",
        "ordered_at": at("2026-08-01"),
        "amount": 10.0,
        "status": "completed",
    },
    "customers": lambda: {
        "customer_id": f"c{next(_ids)}",
        "segment": "consumer",
        "region": "华东",
        "signup_at": at("2025-01-01"),
    },
}
SLA = [
    {"priority": "urgent", "first_response_target_min": 15, "resolution_target_min": 240},
    {"priority": "high", "first_response_target_min": 30, "resolution_target_min": 600},
    {"priority": "normal", "first_response_target_min": 60, "resolution_target_min": 1440},
]


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    schema = table_schema(table, TABLE_COLUMNS[table])
    full = [{**DEFAULTS[table](), **row} for row in rows] if table in DEFAULTS else rows
    return pl.DataFrame(full, schema=schema)


def kpi_frames(
    *, tickets=(), surveys=(), orders=(), customers=(), sla=SLA, setup=DEFAULT_SETUP, **tables
) -> Frames:
    """Frames of the given rows, with the business calendars of `setup`; other tables (teams=[...],
    agents=[...], …) as given, else empty."""
    given = {
        "tickets": tickets,
        "surveys": surveys,
        "orders": orders,
        "customers": customers,
        "sla_policies": sla,
    }
    given.update(tables)
    return frames_from_tables({name: frame(name, list(rows)) for name, rows in given.items()}, setup)
