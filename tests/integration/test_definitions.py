"""The definitions an admin may change (app_settings, sla_policies): validated, audited with the
change, followed by Settings and the kpis command; and the 4 → 5 schema upgrade that adds their tables."""

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cxdash.auth.store import read_audit
from cxdash.cli import main
from cxdash.config import Settings, with_definitions
from cxdash.db.definitions import (
    parse_definition,
    read_definitions,
    save_definitions,
    save_sla_targets,
    sla_targets,
)
from cxdash.db.engine import check_schema, make_engine
from cxdash.errors import DatabaseError, InputError
from tests.conftest import data_version_of

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def lite(small_copy):
    return small_copy


def stored(url: str) -> dict[str, str]:
    return {k: d.value for k, d in read_definitions(make_engine(url)).items()}


def audit(url: str, action: str) -> list[dict]:
    with make_engine(url).connect() as conn:
        return [json.loads(r["detail"]) for r in read_audit(conn, action=action)]


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("csat_threshold", "3", 3),
        ("csat_threshold", " 5 ", 5),
        ("churn_window_days", "90", 90),
        ("severity_weights", "8, 4, 2, 1", (8.0, 4.0, 2.0, 1.0)),
        ("severity_weights", "10，5，2.5，1", (10.0, 5.0, 2.5, 1.0)),  # full-width commas from a Chinese IME
    ],
)
def test_valid_definitions_parse(key, text, value):
    assert parse_definition(key, text) == value


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("csat_threshold", "2"),
        ("csat_threshold", "four"),
        ("churn_window_days", "29"),
        ("churn_window_days", "731"),
        ("churn_window_days", "-5"),
        ("severity_weights", "8, 4, 2"),
        ("severity_weights", "8, 4, 0, 1"),
        ("severity_weights", "a, b, c, d"),
        ("clock", "business"),  # not editable here
    ],
)
def test_invalid_definitions_are_clear_errors(key, text):
    with pytest.raises(InputError):
        parse_definition(key, text)


def test_settings_follow_the_stored_definitions_and_ignore_invalid_ones():
    settings = with_definitions(
        Settings(), {"csat_threshold": "5", "churn_window_days": "bad", "severity_weights": "4,3,2,1"}
    )
    assert settings.csat_threshold == 5
    assert settings.churn_window_days == Settings().churn_window_days
    assert settings.severity_weights == (4.0, 3.0, 2.0, 1.0)


def test_a_saved_definition_is_stored_audited_and_used_by_kpis(lite, capsys):
    assert main(["kpis", "--db", lite, "--period", "2026Q3"]) == 0
    default = json.loads(capsys.readouterr().out)["kpis"]
    assert main(["kpis", "--db", lite, "--period", "2026Q3", "--csat-threshold", "5"]) == 0
    top_box = json.loads(capsys.readouterr().out)["kpis"]
    assert top_box["csat_pct"]["value"] < default["csat_pct"]["value"]

    changed = save_definitions(
        make_engine(lite), {"csat_threshold": "5"}, username="admin", client="t", now=NOW
    )
    assert changed == {"csat_threshold": (None, "5")}
    assert stored(lite) == {"csat_threshold": "5"}
    assert audit(lite, "definitions") == [{"changes": {"csat_threshold": {"from": None, "to": "5"}}}]
    assert main(["kpis", "--db", lite, "--period", "2026Q3"]) == 0
    report = json.loads(capsys.readouterr().out)
    now_in_force = report["kpis"]
    assert report["options"]["csat_threshold"] == 5
    assert now_in_force["csat_pct"]["value"] == top_box["csat_pct"]["value"]


def test_saving_the_same_values_changes_and_audits_nothing(lite):
    engine = make_engine(lite)
    save_definitions(engine, {"churn_window_days": "90"}, username="admin", client=None, now=NOW)
    assert save_definitions(engine, {"churn_window_days": "90"}, username="admin", client=None) == {}
    assert len(audit(lite, "definitions")) == 1


def test_an_invalid_change_writes_nothing(lite):
    engine = make_engine(lite)
    with pytest.raises(InputError):
        save_definitions(
            engine, {"csat_threshold": "4", "churn_window_days": "7"}, username="admin", client=None
        )
    assert stored(lite) == {} and audit(lite, "definitions") == []


def test_sla_targets_are_replaced_audited_and_move_the_data_version(lite):
    engine = make_engine(lite)
    with engine.connect() as conn:
        before = sla_targets(conn)
    version = data_version_of(lite)
    changed = save_sla_targets(engine, {"urgent": (10, 120)}, username="admin", client=None, now=NOW)
    assert changed == {"urgent": (before["urgent"], (10, 120))}
    with engine.connect() as conn:
        assert sla_targets(conn) == {**before, "urgent": (10, 120)}
    assert data_version_of(lite) > version  # every cached figure recomputes with the new targets
    assert audit(lite, "sla_policy") == [
        {"changes": {"urgent": {"from": list(before["urgent"]), "to": [10, 120]}}}
    ]


@pytest.mark.parametrize("targets", [{"urgent": (120, 60)}, {"urgent": (0, 60)}, {"someday": (10, 20)}])
def test_impossible_sla_targets_change_nothing(lite, targets):
    engine = make_engine(lite)
    with engine.connect() as conn:
        before = sla_targets(conn)
    with pytest.raises(InputError):
        save_sla_targets(engine, targets, username="admin", client=None)
    with engine.connect() as conn:
        assert sla_targets(conn) == before


def test_a_version_4_database_is_upgraded_to_5_in_place(lite, capsys):
    engine = make_engine(lite)
    with engine.begin() as conn:
        for table in ("app_import_batches", "app_import_mappings", "app_settings"):
            conn.execute(sa.text(f"DROP TABLE {table}"))
        conn.execute(sa.text("UPDATE app_meta SET value = '4' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="older"):
        check_schema(make_engine(lite))
    assert read_definitions(make_engine(lite)) == {}  # the app still starts on the old defaults
    version = data_version_of(lite)
    assert main(["init-db", "--db", lite]) == 0
    assert "Upgraded" in capsys.readouterr().out
    check_schema(make_engine(lite))
    assert {"app_import_batches", "app_import_mappings", "app_settings"} <= set(
        sa.inspect(make_engine(lite)).get_table_names()
    )
    assert data_version_of(lite) == version
