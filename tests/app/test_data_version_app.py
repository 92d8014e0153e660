"""New business data shows without a restart: through a writer (the demo writer), through an UPDATE in
place made by hand outside cxdash, and through `refresh` — the data version moves and the caches and the
Parquet snapshot of the old version are not reused."""

import shutil
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from cxdash.auth.demo import create_demo_users
from cxdash.db.engine import shared_engine
from cxdash.db.version import read_data_version
from cxdash.demo.generator import generate
from cxdash.demo.writer import write_tables
from tests.app.session import ROOT, token_for
from tests.conftest import SMALL


@pytest.fixture
def db(small_db, tmp_path, monkeypatch):
    path = tmp_path / "live.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("CXDASH_DB_URL", url)
    monkeypatch.setenv("CXDASH_LANG", "en")
    return url


def tickets_shown(url: str, user: str) -> str:
    """The Tickets card of the Overview for 2026Q3, as `user` sees it (a fresh browser session)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["cxdash_token"] = token_for(url, user)
    at.session_state["f_period_quarter"] = "2026Q3"
    at.run()
    assert not at.exception
    if not at.metric:  # nothing in scope: the page says so instead of showing cards
        assert any("No data matches" in info.value for info in at.info)
        return "0"
    return next(m.value for m in at.metric if m.label == "Tickets")


def test_an_update_in_place_shows_at_once_for_both_team_leads(db):
    before = read_data_version(shared_engine(db))
    t01, t02 = tickets_shown(db, "lead_t01"), tickets_shown(db, "lead_t02")
    assert t02 != "0"
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE tickets SET team_id = 'T01' WHERE team_id = 'T02'")
    assert read_data_version(shared_engine(db)) > before
    # No cache cleared, no restart: the next run reads the new version.
    assert tickets_shown(db, "lead_t02") == "0"
    moved = int(tickets_shown(db, "lead_t01").replace(",", ""))
    assert moved == int(t01.replace(",", "")) + int(t02.replace(",", ""))


def test_the_demo_writer_moves_the_version_and_the_app_follows(db):
    before = read_data_version(shared_engine(db))
    shown = tickets_shown(db, "manager")
    write_tables(db, generate(replace(SMALL, seed=8)), force=True)
    create_demo_users(db, now=datetime.now(UTC))  # as `python -m cxdash demo --force` does
    assert read_data_version(shared_engine(db)) > before
    assert tickets_shown(db, "manager") != shown


def test_refresh_moves_the_version(db):
    from cxdash.cli import main

    before = read_data_version(shared_engine(db))
    assert main(["refresh", "--db", db]) == 0
    assert read_data_version(shared_engine(db)) == before + 1


def test_the_admin_reload_button_moves_the_version_and_is_audited(db):
    from cxdash.auth import store

    before = read_data_version(shared_engine(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["cxdash_token"] = token_for(db, "admin")
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception
    at.button(key="refresh_data").click().run()
    assert not at.exception
    assert read_data_version(shared_engine(db)) == before + 1
    assert any(str(before + 1) in s.value for s in at.success)
    with shared_engine(db).connect() as conn:
        actions = [row["action"] for row in store.read_audit(conn, limit=5)]
    assert "refresh" in actions
