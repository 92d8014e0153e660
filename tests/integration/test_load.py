"""Loading: explicit types whatever the stored values look like, and clear errors for bad ones."""

import sqlite3
from datetime import UTC, datetime

import polars as pl
import pytest

from cxdash.db.engine import create_schema, make_engine
from cxdash.errors import DatabaseError
from cxdash.load import parse_timestamp_text, read_data_span, read_table


@pytest.fixture
def empty_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    create_schema(make_engine(url, must_exist=False))
    return url, tmp_path / "x.db"


def insert_tickets(path, rows):
    db = sqlite3.connect(path)
    db.executemany(
        "INSERT INTO tickets (ticket_id, customer_id, channel, created_at, status, priority, is_complaint,"
        " category, root_cause, severity, team_id, reopen_count, agent_replies, reassign_count, escalated,"
        " bot_handled, subject)"
        " VALUES (?, ?, 'chat', ?, 'open', 'normal', 0, 'billing', ?, ?, 'T01', 0, 1, 0, 0, 0, 's')",
        rows,
    )
    db.commit()


def test_sparse_columns_keep_their_types_past_thousands_of_nulls(empty_db):
    url, path = empty_db
    rows = [(f"{i:06d}", "C1", "2026-07-01 00:00:00.000000", None, None) for i in range(3000)]
    rows += [("900000", "C1", "2026-07-01 00:00:00", "billing.double_charge", 2)]
    insert_tickets(path, rows)
    tickets = read_table(url, "tickets", ["ticket_id", "root_cause", "severity", "created_at", "channel"])
    assert tickets.schema["root_cause"] == pl.Categorical()
    assert tickets.schema["severity"] == pl.Int32
    assert tickets.schema["channel"] == pl.Enum(["phone", "email", "chat", "social", "web_form", "app"])
    assert tickets.schema["created_at"] == pl.Datetime("us", "UTC")
    assert tickets["root_cause"].drop_nulls().to_list() == ["billing.double_charge"]
    assert tickets["ticket_id"][0] == "000000"  # leading zeros survive


def test_numbers_stored_in_text_id_columns_come_back_as_text(empty_db):
    url, path = empty_db
    insert_tickets(path, [(123456789012345678, 42, "2026-07-01T08:00:00Z", None, None)])
    tickets = read_table(url, "tickets", ["ticket_id", "customer_id", "created_at"])
    assert tickets.row(0) == ("123456789012345678", "42", datetime(2026, 7, 1, 8, tzinfo=UTC))


def test_a_value_outside_the_contract_is_a_clear_error(empty_db):
    url, path = empty_db
    insert_tickets(path, [("1", "C1", "2026-07-01 00:00:00", None, None)])
    sqlite3.connect(path).execute("UPDATE tickets SET channel = 'fax'").connection.commit()
    with pytest.raises(DatabaseError, match="tickets"):
        read_table(url, "tickets", ["channel"])


def test_an_empty_table_reads_as_an_empty_typed_frame(empty_db):
    url, _ = empty_db
    orders = read_table(url, "orders")
    assert orders.height == 0
    assert orders.schema["amount"] == pl.Float64
    assert read_data_span(url) == (None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01 08:00:00.000000", datetime(2026, 7, 1, 8, tzinfo=UTC)),
        ("2026-07-01 08:00:00", datetime(2026, 7, 1, 8, tzinfo=UTC)),
        ("2026-07-01T08:00:00.5", datetime(2026, 7, 1, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2026-07-01T08:00:00Z", datetime(2026, 7, 1, 8, tzinfo=UTC)),
        ("2026-07-01 08:00:00+00:00", datetime(2026, 7, 1, 8, tzinfo=UTC)),
        ("not a time", None),
    ],
)
def test_timestamp_text_forms(text, expected):
    assert pl.select(parse_timestamp_text(pl.lit(text))).item() == expected


def test_data_span_of_the_demo(small_db, small_frames):
    first, last = read_data_span(small_db)
    # the periods start with the service data; the older orders are history
    assert first == small_frames["tickets"]["created_at"].min()
    assert small_frames["orders"]["ordered_at"].min() < first
    assert last == max(
        frame[column].max()
        for frame in small_frames.values()
        for column in frame.select(pl.col(pl.Datetime)).columns
    )
