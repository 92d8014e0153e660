"""The business-data version: every write to a business table moves it, by whoever; the app's own
writes do not; `refresh` and upgrades; snapshots of an old version are removed."""

import shutil
import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cxdash.auth import store
from cxdash.auth.demo import create_demo_users
from cxdash.auth.startup import DEMO_SECRET
from cxdash.cli import main
from cxdash.db.engine import (
    check_schema,
    dispose_engines,
    make_engine,
    shared_engine,
    upgrade_schema,
)
from cxdash.db.schema import BUSINESS_TABLES, SCHEMA_VERSION
from cxdash.db.version import (
    PG_TRIGGER,
    bump_data_version,
    install_version_triggers,
    read_data_version,
    version_triggers_installed,
)
from cxdash.demo.writer import write_tables
from cxdash.errors import DatabaseError
from cxdash.snapshot import read_tables_snapshot, snapshot_dir, snapshot_token
from tests.conftest import data_version_of

# Changes made by hand, outside cxdash: each must move the version.
HAND_WRITES = {
    "insert": "INSERT INTO annotations (annotation_id, on_date, label) VALUES (999, '2026-11-01', 'x')",
    "update in place": "UPDATE tickets SET team_id = 'T01' WHERE team_id = 'T02'",
    "update one row": "UPDATE customers SET name = 'renamed' "
    "WHERE customer_id = (SELECT min(customer_id) FROM customers)",
    "delete": "DELETE FROM surveys WHERE survey_id = (SELECT min(survey_id) FROM surveys)",
}


def triggers(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return version_triggers_installed(conn, engine.dialect.name)
    finally:
        engine.dispose()


def login(url: str) -> None:
    """The app's own writes: demo accounts, a session, a login attempt and an audit record."""
    create_demo_users(url, now=datetime.now(UTC))  # adds those missing (a rewritten database has none)
    engine = make_engine(url)
    try:
        result = store.login(
            engine, "viewer", "demo-viewer-2026", client="t",
            policy=store.SessionPolicy(secret=DEMO_SECRET.encode()), now=datetime.now(UTC),
        )  # fmt: skip
        assert result.token
        with engine.begin() as conn:
            store.write_audit(conn, now=datetime.now(UTC), action="test", username="viewer", client="t")
    finally:
        engine.dispose()


@pytest.fixture
def lite(small_db, tmp_path) -> str:
    """A private copy of the shared small demo database."""
    db = tmp_path / "copy.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), db)
    return f"sqlite:///{db}"


def by_hand_sqlite(url: str, sql: str) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        assert conn.execute(sql).rowcount > 0


# SQLite -------------------------------------------------------------------------------------------


def test_the_demo_writer_leaves_a_version_and_every_trigger(lite, small_frames, tmp_path):
    assert data_version_of(lite) >= 1
    assert triggers(lite) == set(BUSINESS_TABLES)
    before = data_version_of(lite)
    write_tables(lite, small_frames, force=True)  # a new database replaces the file
    assert data_version_of(lite) == before + 1  # never the replaced database's version
    assert triggers(lite) == set(BUSINESS_TABLES)


@pytest.mark.parametrize("sql", HAND_WRITES.values(), ids=HAND_WRITES.keys())
def test_a_change_made_by_hand_moves_the_version_sqlite(lite, sql):
    before = data_version_of(lite)
    by_hand_sqlite(lite, sql)
    assert data_version_of(lite) > before


def test_a_rolled_back_change_leaves_the_version_sqlite(lite):
    before = data_version_of(lite)
    conn = sqlite3.connect(lite.removeprefix("sqlite:///"))
    conn.execute(HAND_WRITES["update one row"])  # small: a big one would lock readers out (no WAL)
    assert data_version_of(lite) == before  # another connection: not committed yet
    conn.rollback()
    conn.close()
    assert data_version_of(lite) == before


def test_the_apps_own_writes_leave_the_version_sqlite(lite):
    before = data_version_of(lite)
    login(lite)
    assert data_version_of(lite) == before


def test_refresh_moves_the_version(lite, capsys):
    before = data_version_of(lite)
    assert main(["refresh", "--db", lite]) == 0
    assert data_version_of(lite) == before + 1
    assert str(before + 1) in capsys.readouterr().out


def test_refresh_on_a_missing_database_is_a_clear_error(tmp_path, capsys):
    assert main(["refresh", "--db", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    assert "does not exist" in capsys.readouterr().err


def make_older_sqlite(url: str) -> None:
    """What a schema-2 database looks like: no counter, no triggers."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM app_meta WHERE key = 'data_version'")
        conn.execute(f"UPDATE app_meta SET value = '{SCHEMA_VERSION - 1}' WHERE key = 'schema_version'")


def test_upgrading_an_older_database_installs_the_counter_and_triggers(lite, capsys):
    make_older_sqlite(lite)
    assert triggers(lite) == set() and data_version_of(lite) == 0
    with pytest.raises(DatabaseError, match="older"):
        check_schema(make_engine(lite))
    assert main(["init-db", "--db", lite]) == 0
    assert "Upgraded" in capsys.readouterr().out
    assert triggers(lite) == set(BUSINESS_TABLES) and data_version_of(lite) == 1
    check_schema(make_engine(lite))
    upgrade_schema(make_engine(lite))  # idempotent
    assert triggers(lite) == set(BUSINESS_TABLES) and data_version_of(lite) == 1
    by_hand_sqlite(lite, HAND_WRITES["update in place"])
    assert data_version_of(lite) > 1


def test_a_business_table_that_is_a_view_gets_no_trigger(tmp_path):
    url = f"sqlite:///{tmp_path / 'mapped.db'}"
    with sqlite3.connect(tmp_path / "mapped.db") as conn:  # a CRM mapped onto cxdash with a view
        conn.execute("CREATE TABLE crm_notes (id INTEGER PRIMARY KEY, day TEXT, text TEXT)")
        conn.execute(
            "CREATE VIEW annotations AS "
            "SELECT id AS annotation_id, day AS on_date, text AS label FROM crm_notes"
        )
    assert main(["init-db", "--db", url]) == 0
    assert triggers(url) == set(BUSINESS_TABLES) - {"annotations"}
    engine = make_engine(url)
    with engine.begin() as conn:
        assert "annotations" not in install_version_triggers(conn, "sqlite")
    engine.dispose()


def test_bump_happens_inside_the_callers_transaction(lite):
    before = data_version_of(lite)
    engine = make_engine(lite)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        assert bump_data_version(conn) == before + 1
        raise RuntimeError
    assert data_version_of(lite) == before
    engine.dispose()


def test_snapshots_of_an_old_version_are_gone_after_the_version_moves(lite):
    first = data_version_of(lite)
    customers = read_tables_snapshot(lite, {"customers": None, "teams": None}, version=first)["customers"]
    erased = customers["customer_id"].min()
    folder = snapshot_dir(lite)
    assert {p.name.split("_")[0] for p in folder.iterdir()} == {f"v{snapshot_token(lite, first)}"}
    with sqlite3.connect(lite.removeprefix("sqlite:///")) as conn:  # erase a customer by hand
        conn.execute("DELETE FROM surveys WHERE customer_id = ?", (erased,))
        conn.execute("DELETE FROM loyalty_ledger WHERE customer_id = ?", (erased,))
        conn.execute("DELETE FROM customers WHERE customer_id = ?", (erased,))
    second = data_version_of(lite)
    assert second > first
    read_tables_snapshot(lite, {"teams": None}, version=second)  # not the customers table
    names = [p.name for p in folder.iterdir()]
    assert names and all(n.startswith(f"v{snapshot_token(lite, second)}_teams-") for n in names)
    again = read_tables_snapshot(lite, {"customers": None}, version=second)["customers"]
    assert erased not in again["customer_id"].to_list()


def test_shared_engine_is_one_per_url_and_follows_a_replaced_file(lite, small_frames):
    try:
        engine = shared_engine(lite)
        assert shared_engine(lite) is engine
        before = read_data_version(engine)
        write_tables(lite, small_frames, force=True)  # moves a new file into place
        assert read_data_version(engine) == before + 1
    finally:
        dispose_engines()
    assert shared_engine(lite) is not engine
    dispose_engines()


# PostgreSQL ---------------------------------------------------------------------------------------


def by_hand_pg(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_demo_writer_leaves_a_version_and_every_trigger_postgres(pg_db, small_frames):
    before = data_version_of(pg_db)
    assert before >= 1 and triggers(pg_db) == set(BUSINESS_TABLES)
    write_tables(pg_db, small_frames, force=True)
    assert data_version_of(pg_db) == before + 1
    assert triggers(pg_db) == set(BUSINESS_TABLES)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql", [*HAND_WRITES.values(), "TRUNCATE annotations"], ids=[*HAND_WRITES.keys(), "truncate"]
)
def test_a_change_made_by_hand_moves_the_version_postgres(pg_db, sql):
    before = data_version_of(pg_db)
    by_hand_pg(pg_db, sql)
    assert data_version_of(pg_db) == before + 1  # one statement, one bump


@pytest.mark.postgres
def test_the_new_version_is_seen_exactly_when_the_data_is_postgres(pg_db):
    before = data_version_of(pg_db)
    engine = sa.create_engine(pg_db)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(HAND_WRITES["update one row"]))
            assert data_version_of(pg_db) == before  # not committed yet
            conn.rollback()
        assert data_version_of(pg_db) == before
        with engine.connect() as conn:
            conn.execute(sa.text(HAND_WRITES["update one row"]))
            conn.commit()
        assert data_version_of(pg_db) == before + 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_apps_own_writes_leave_the_version_postgres(pg_db):
    before = data_version_of(pg_db)
    login(pg_db)
    assert data_version_of(pg_db) == before


@pytest.mark.postgres
def test_refresh_moves_the_version_postgres(pg_db, capsys):
    before = data_version_of(pg_db)
    assert main(["refresh", "--db", pg_db]) == 0
    assert data_version_of(pg_db) == before + 1


@pytest.mark.postgres
def test_upgrading_an_older_database_installs_the_counter_and_triggers_postgres(pg_db, capsys):
    for table in BUSINESS_TABLES:
        by_hand_pg(pg_db, f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {table}")
    by_hand_pg(pg_db, "DELETE FROM app_meta WHERE key = 'data_version'")
    by_hand_pg(pg_db, f"UPDATE app_meta SET value = '{SCHEMA_VERSION - 1}' WHERE key = 'schema_version'")
    assert triggers(pg_db) == set() and data_version_of(pg_db) == 0
    assert main(["init-db", "--db", pg_db]) == 0
    assert "Upgraded" in capsys.readouterr().out
    assert triggers(pg_db) == set(BUSINESS_TABLES) and data_version_of(pg_db) == 1
    upgrade_schema(make_engine(pg_db))  # idempotent
    assert triggers(pg_db) == set(BUSINESS_TABLES) and data_version_of(pg_db) == 1
    by_hand_pg(pg_db, HAND_WRITES["update in place"])
    assert data_version_of(pg_db) == 2
