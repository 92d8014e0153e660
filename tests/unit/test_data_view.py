"""The Data page's content as data: value suggestions, the mapping table, the definitions ledger."""

from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.config import Settings
from cxdash.db.definitions import StoredDefinition
from cxdash.importer.mapping import Mapping, targets_for
from cxdash.importer.values import suggested_value, suggested_values
from cxdash.metrics.kpis import HEADLINE_KPIS
from cxdash.views.data import (
    columns_from_table,
    kpi_ledger,
    mapping_table,
    settings_in_force,
    value_table,
)

TARGETS = {t.name: t for t in targets_for("flat_tickets")}


@pytest.mark.parametrize(
    ("target", "value", "becomes"),
    [
        ("channel", "Web Form", "web_form"),
        ("channel", "  EMAIL ", "email"),
        ("channel", "电话", "phone"),
        ("channel", "微信", "social"),
        ("channel", "Social media", "social"),
        ("priority", "Medium", "normal"),
        ("priority", "紧急", "urgent"),
        ("priority", "Critical", "urgent"),
        ("status", "Pending Customer Response", "pending"),
        ("status", "已解决", "resolved"),
        ("channel", "carrier pigeon", None),
        ("priority", "whenever", None),
    ],
)
def test_a_value_becomes_the_schema_value_it_plainly_means(target, value, becomes):
    assert suggested_value(TARGETS[target], value) == becomes


def test_the_value_table_counts_values_and_keeps_the_mappings_choice_first():
    values = pl.Series(["电话", "Chat", "电话", None, " 电话 ", "fax"])
    table = value_table(TARGETS["channel"], values, {"fax": "phone"})
    expected = pl.DataFrame(
        {"value": ["电话", "Chat", "fax"], "rows": [3, 1, 1], "becomes": ["phone", "chat", "phone"]},
        schema_overrides={"rows": table.schema["rows"]},
    )
    assert_frame_equal(table, expected, check_row_order=False)


def test_an_unknown_value_is_left_to_be_chosen():
    table = value_table(TARGETS["channel"], pl.Series(["carrier pigeon"]), {})
    assert table["becomes"].to_list() == [""]


def test_the_mapping_table_suggests_columns_and_shows_an_example():
    sample = pl.DataFrame({"工单号": ["T1", "T2"], "渠道": [None, "电话"], "备注": ["x", "y"]})
    table = mapping_table(targets_for("table", "tickets"), Mapping(table="tickets"), sample)
    row = {r["target"]: r for r in table.iter_rows(named=True)}
    assert row["ticket_id"]["column"] == "工单号" and row["ticket_id"]["example"] == "T1"
    assert row["channel"]["column"] == "渠道" and row["channel"]["example"] == "电话"  # first non-blank
    assert row["ticket_id"]["required"] and not row["root_cause"]["required"]
    assert row["reopen_count"]["default"] == "0"
    assert row["created_at"]["column"] == ""  # nothing fits: left to the user


def test_a_given_mapping_wins_over_the_suggestions():
    sample = pl.DataFrame({"工单号": ["T1"], "编号": ["X1"]})
    table = mapping_table(
        targets_for("table", "tickets"), Mapping(table="tickets", columns={"ticket_id": "编号"}), sample
    )
    assert columns_from_table(table) == {"ticket_id": "编号"}


def test_columns_from_an_edited_table_drop_the_unmapped():
    table = pl.DataFrame({"target": ["a", "b", "c"], "column": ["A", "", None]})
    assert columns_from_table(table) == {"a": "A"}


def test_the_kpi_ledger_lists_every_headline_kpi_once():
    ledger = kpi_ledger()
    assert ledger["kpi"].to_list() == [k.name for k in HEADLINE_KPIS]
    assert ledger.filter(pl.col("kpi") == "nps")["unit"].item() == "points"


def test_settings_in_force_say_who_set_an_admin_definition():
    at = datetime(2026, 11, 1, tzinfo=UTC)
    settings = Settings(csat_threshold=5, severity_weights=(10.0, 5.0, 2.5, 1.0))
    table = settings_in_force(
        settings,
        {"csat_threshold": StoredDefinition("csat_threshold", "5", "alice", at)},
        {"urgent": (15, 240)},
    )
    rows = {r["setting"]: r for r in table.iter_rows(named=True)}
    assert rows["csat_threshold"]["value"] == "5" and rows["csat_threshold"]["set_by"] == "alice"
    assert rows["csat_threshold"]["set_at"] == at
    assert rows["churn_window_days"]["set_by"] is None  # built in or from the environment
    assert rows["severity_weights"]["value"] == "10, 5, 2.5, 1"
    assert rows["sla.urgent"]["value"] == "15 min / 240 min"


def test_suggested_values_complete_the_mappings_translations():
    frame = pl.DataFrame({"渠道": ["电话", "微信", "fax", None], "优先级": ["高", "高", "normal", "Low"]})
    mapping = Mapping(
        kind="flat_tickets",
        columns={"channel": "渠道", "priority": "优先级"},
        values={"channel": {"fax": "phone"}},
    )
    assert suggested_values(frame, mapping) == {
        "channel": {"fax": "phone", "电话": "phone", "微信": "social"},
        "priority": {"高": "high", "Low": "low"},
    }
