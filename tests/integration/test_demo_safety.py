"""`demo` touches only a database it generated: no demo accounts or demo mode on anyone else's."""

import io
import shutil
import sqlite3
from datetime import UTC, datetime

import pytest

from cxdash.auth import store
from cxdash.auth.demo import DEMO_USERNAMES, create_demo_users, is_generated_demo
from cxdash.cli import main
from cxdash.db.engine import make_engine
from cxdash.errors import InputError
from cxdash.load import read_table

SMALL = ("--scale", "small", "--seed", "3", "--end-date", "2026-03-31")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def users(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {u.username for u in store.list_users(conn)}
    finally:
        engine.dispose()


def meta(url: str) -> dict[str, str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return dict(db.execute("SELECT key, value FROM app_meta").fetchall())


@pytest.fixture
def real_db(capsys, monkeypatch, tmp_path) -> str:
    """A production database: made with init-db, one real user."""
    url = f"sqlite:///{tmp_path / 'real.db'}"
    assert run(capsys, "init-db", "--db", url)[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password 1\n"))
    assert run(capsys, "users", "add", "alice", "--roles", "admin", "--password-stdin", "--db", url)[0] == 0
    return url


@pytest.fixture
def demo_copy(small_db, tmp_path) -> str:
    target = tmp_path / "demo.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def test_if_missing_refuses_a_real_database_and_leaves_it_untouched(capsys, real_db):
    before = meta(real_db)
    code, out, err = run(capsys, "demo", "--db", real_db, *SMALL, "--if-missing")
    assert code == 2 and out == ""
    assert "did not generate" in err and "untouched" in err and "serve" in err
    assert users(real_db) == {"alice"}  # no demo accounts with the README's passwords
    assert meta(real_db) == before and "demo" not in before
    assert not is_generated_demo(make_engine(real_db))


def test_force_refuses_a_real_database(capsys, real_db):
    code, _, err = run(capsys, "demo", "--db", real_db, *SMALL, "--force")
    assert code == 2 and "alice" in err and "untouched" in err and "delete" in err
    assert users(real_db) == {"alice"} and "demo_generated" not in meta(real_db)


def test_force_refuses_business_data_it_did_not_generate(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    assert run(capsys, "init-db", "--db", url)[0] == 0
    with sqlite3.connect(tmp_path / "crm.db") as db:
        db.execute("INSERT INTO teams (team_id, name) VALUES ('T9', '售后组')")
    code, _, err = run(capsys, "demo", "--db", url, *SMALL, "--force")
    assert code == 2 and "business data demo did not generate" in err
    assert read_table(url, "teams", ["team_id"])["team_id"].to_list() == ["T9"]


def test_force_refuses_a_file_that_is_not_a_database(capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes, not a database")
    code, _, err = run(capsys, "demo", "--db", f"sqlite:///{notes}", *SMALL, "--force")
    assert code == 2 and "file is not a database" in err and "[SQL:" not in err
    assert notes.read_text() == "meeting notes, not a database"


def test_a_generated_demo_is_kept_topped_up_and_replaced(capsys, demo_copy):
    assert meta(demo_copy)["demo_generated"] == meta(demo_copy)["data_version"]
    code, out, _ = run(capsys, "demo", "--db", demo_copy, *SMALL, "--if-missing")
    assert code == 0 and "keeping it" in out
    assert users(demo_copy) == DEMO_USERNAMES
    code, out, _ = run(capsys, "demo", "--db", demo_copy, *SMALL, "--force")
    assert code == 0 and "Demo database ready" in out
    assert is_generated_demo(make_engine(demo_copy)) and users(demo_copy) == DEMO_USERNAMES


def test_force_refuses_a_demo_with_other_users_or_changed_data(capsys, monkeypatch, demo_copy):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password 1\n"))
    assert (
        run(capsys, "users", "add", "bob", "--roles", "viewer", "--password-stdin", "--db", demo_copy)[0] == 0
    )
    code, _, err = run(capsys, "demo", "--db", demo_copy, *SMALL, "--force")
    assert code == 2 and "bob" in err
    assert run(capsys, "users", "--db", demo_copy, "disable", "bob")[0] == 0
    with sqlite3.connect(demo_copy.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM app_user_teams WHERE username = 'bob'")
        db.execute("DELETE FROM app_users WHERE username = 'bob'")
        db.execute(
            "UPDATE teams SET name = '改过的' WHERE team_id = 'T01'"
        )  # a trigger moves the data version
    code, _, err = run(capsys, "demo", "--db", demo_copy, *SMALL, "--force")
    assert code == 2 and "changed after demo generated it" in err


def test_demo_accounts_only_on_a_generated_database(real_db):
    with pytest.raises(InputError, match="not generated"):
        create_demo_users(real_db, now=datetime.now(UTC))
    assert users(real_db) == {"alice"}


def test_if_missing_creates_a_missing_database_with_the_marker(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code, out, _ = run(capsys, "demo", "--db", url, *SMALL, "--if-missing")
    assert code == 0 and "Demo database ready" in out
    assert is_generated_demo(make_engine(url)) and users(url) == DEMO_USERNAMES
