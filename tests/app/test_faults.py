"""Faults the app must survive (SECURITY.md, "Platform and load"), through AppTest on a copy of the
small demo: the database removed, replaced or locked mid-session gives a clear message in the user's
language and no traceback, and the same session works again once it is back — no restart, no cache
cleared; a slow read in one session does not hold up another; the frame works on a database without
business data (Admin manages users before the first import); the session cookie is Secure over HTTPS.
PostgreSQL is stopped and started with `pg_ctlcluster` (root, as in CI): skipped on a developer's
machine without it, a failure under CXDASH_CI=1.
"""

import os
import secrets
import shutil
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.runtime import Runtime
from streamlit.testing.v1 import AppTest

from cxdash.auth import store
from cxdash.auth.demo import create_demo_users
from cxdash.db.engine import create_schema, make_engine
from cxdash.i18n import Translator
from cxdash.ui import auth, loaders
from cxdash.ui.pages import overview as overview_page
from tests.app.session import ROOT, token_for
from tests.conftest import need

ZH = Translator("zh")
EN = Translator("en")
UNAVAILABLE_ZH = ZH("errors.database_unavailable", detail="").split("：")[0]  # "数据库暂时无法使用"
UNAVAILABLE_EN = EN("errors.database_unavailable", detail="").split(":")[0]


@pytest.fixture
def db(small_db, tmp_path):
    """A copy of the small demo that a test may remove, replace or lock."""
    path = tmp_path / "faults.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), path)
    return path


def session(monkeypatch, url: str, user: str | None = "manager", *, lang: str = "zh", **state) -> AppTest:
    monkeypatch.setenv("CXDASH_DB_URL", url)
    monkeypatch.setenv("CXDASH_LANG", lang)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if user:
        at.session_state["cxdash_token"] = token_for(url, user)
    for key, value in state.items():
        at.session_state[key] = value
    return at


def works(at: AppTest) -> bool:
    """The Overview is drawn: its KPI cards, no error, no exception."""
    return not at.exception and not at.error and len(at.metric) > 0


def says_unavailable(at: AppTest, message: str, *, prefix: str = UNAVAILABLE_ZH) -> bool:
    """One clear message (in the user's language, with `message` in it), no traceback, no page."""
    errors = [e.value for e in at.error]
    return (
        not at.exception
        and len(errors) == 1
        and errors[0].startswith(prefix)
        and message in errors[0]
        and not at.metric
    )


def counts(path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        return (
            conn.execute("select count(*) from app_sessions").fetchone()[0],
            conn.execute("select count(*) from app_audit").fetchone()[0],
        )


def test_the_file_removed_mid_session_then_restored(monkeypatch, db, tmp_path):
    at = session(monkeypatch, f"sqlite:///{db}").run()
    assert works(at)
    away = tmp_path / "away.db"
    shutil.move(db, away)
    at.run()
    assert says_unavailable(at, str(db))  # the file's path, in Chinese
    assert at.session_state["cxdash_token"]  # still signed in: nothing to do once it is back
    shutil.move(away, db)
    at.run()
    assert works(at)  # same session, caches not cleared


def test_the_file_replaced_mid_session_is_followed(monkeypatch, db, tmp_path):
    at = session(monkeypatch, f"sqlite:///{db}").run()
    assert works(at)
    fresh = tmp_path / "fresh.db"
    shutil.copy(db, fresh)
    fresh.replace(db)  # another inode at the same path, as `demo --force` does
    at.run()
    assert works(at)


def test_a_locked_file_then_released(monkeypatch, db):
    at = session(monkeypatch, f"sqlite:///{db}", lang="en").run()
    assert works(at)
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # another program writing: readers wait, then give up
        at.run()
        assert says_unavailable(at, EN("errors.database_locked"), prefix=UNAVAILABLE_EN)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    at.run()
    assert works(at)


def test_a_login_while_another_writer_holds_the_lock_writes_nothing(monkeypatch, db):
    at = session(monkeypatch, f"sqlite:///{db}", user=None).run()
    before = counts(db)
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # reads go on, writes wait, then give up
        at.text_input[0].input("manager")
        at.text_input[1].input("demo-manager-2026")
        at.button[0].click().run()
        assert says_unavailable(at, ZH("errors.database_locked"))
        assert not at.session_state["cxdash_token"] if "cxdash_token" in at.session_state else True
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert counts(db) == before  # no session, no audit record: nothing half written
    at.text_input[0].input("manager")
    at.text_input[1].input("demo-manager-2026")
    at.button[0].click().run()
    at.run()
    assert works(at)


def test_a_driver_error_inside_a_page_is_a_message_not_a_traceback(monkeypatch, db):
    """The database goes away after the frame read it: the page body meets the raw driver error."""
    at = session(monkeypatch, f"sqlite:///{db}").run()
    assert works(at)

    def gone(*_, **__):
        raise sa.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(overview_page, "overview_data", gone)
    at.run()
    assert says_unavailable(at, "disk I/O error")
    monkeypatch.undo()
    monkeypatch.setenv("CXDASH_DB_URL", f"sqlite:///{db}")
    monkeypatch.setenv("CXDASH_LANG", "zh")
    at.run()
    assert works(at)


def test_a_slow_read_in_one_session_does_not_block_another(monkeypatch, db):
    """Streamlit runs each session's script in a thread of its own. Session A is held inside its page
    read while holding what that read holds (a pooled connection in an open transaction, and the
    compute lock of its st.cache_data entry); session B — another user, so another cache entry — runs
    its whole page meanwhile. The shared-engine lock guards only engine creation, and a cache entry's
    lock only its own key (loaders.py), so nothing global is held across a query."""
    url = f"sqlite:///{db}"
    slow, fast = session(monkeypatch, url, "manager", slow=True), session(monkeypatch, url, "analyst")
    inside, release = threading.Event(), threading.Event()
    real_overview = loaders.overview
    runtime_of_a = None

    def held(*args, **kwargs):
        if st.session_state.get("slow"):
            with auth.auth_engine(url).connect() as conn:
                conn.execute(sa.text("select count(*) from app_users"))
                inside.set()
                release.wait(60)
        return real_overview(*args, **kwargs)

    monkeypatch.setattr(loaders, "overview", held)
    fast.run()  # warm: engine, raw frames and dataset loaded once for everyone
    worker = threading.Thread(target=slow.run, kwargs={"timeout": 120})
    worker.start()
    try:
        assert inside.wait(60), "session A never reached its read"
        # AppTest keeps its mock Runtime in a class attribute and clears it after each run (a server
        # has one Runtime for all sessions): hand A's back once B's run is over.
        runtime_of_a = Runtime._instance
        started = time.monotonic()
        fast.run()
        assert works(fast) and time.monotonic() - started < 30
        assert worker.is_alive() and not release.is_set()  # A was held all along
    finally:
        Runtime._instance = runtime_of_a
        release.set()
        worker.join(120)
    assert works(slow)


@pytest.fixture
def empty_db(tmp_path, monkeypatch):
    """A database made by `init-db` (no business data) with one admin account, outside demo mode."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    secret = secrets.token_urlsafe(48)
    monkeypatch.setenv("CXDASH_SESSION_SECRET", secret)
    engine = make_engine(url, must_exist=False)
    create_schema(engine)
    now = datetime.now(UTC)
    store.add_user(engine, "boss", "a-long-admin-password-2026", roles="admin", now=now)
    result = store.login(
        engine, "boss", "a-long-admin-password-2026", client="apptest",
        policy=store.SessionPolicy(secret=secret.encode()), now=now,
    )  # fmt: skip
    engine.dispose()
    return url, result.token


def test_the_admin_page_works_before_any_business_data(monkeypatch, empty_db):
    url, token = empty_db
    monkeypatch.setenv("CXDASH_DB_URL", url)
    monkeypatch.setenv("CXDASH_LANG", "zh")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["cxdash_token"] = token
    at.run()
    assert not at.exception and not at.error
    assert ZH("errors.no_data_yet") in [i.value for i in at.sidebar.info]  # the filters wait
    assert ZH("errors.no_data_yet") in [i.value for i in at.main.info]  # the Overview says why it is empty
    at.switch_page("pages/admin.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [t.value for t in at.title] == [ZH("admin.title")]
    users = next(d.value for d in at.dataframe)
    assert "boss" in users[ZH("login.username")].to_list()
    tables = [d for d in at.dataframe if d.editing_mode == "read_only"]
    assert len(tables) == 3  # users, live sessions, the audit log
    assert len(at.data_editor) == 5  # the business hours: calendars can be set up before the first import
    assert ZH("admin.add_user") in [s.value for s in at.subheader]


@pytest.mark.parametrize(
    ("headers", "url", "secure"),
    [
        ({}, "http://localhost:8501/", False),
        ({"X-Forwarded-Proto": "https"}, "http://10.0.0.5:8501/", True),
        ({"x-forwarded-proto": "https, http"}, None, True),
        ({"X-Forwarded-Proto": "http"}, "http://example.com/", False),
        ({}, "https://cx.example.com/", True),
    ],
)
def test_the_session_cookie_is_secure_over_https(headers, url, secure):
    assert auth.served_over_https(headers, url) is secure
    for action in (("tok", 3600), "clear"):
        script = auth.cookie_script(action, secure=secure)
        assert ("; Secure" in script) is secure
        assert "SameSite=Strict" in script and "Path=/" in script


def _cluster() -> tuple[str, str]:
    """The packaged cluster .ci/run starts: the newest installed PostgreSQL's `main`."""
    root = Path("/usr/lib/postgresql")
    versions = (
        sorted((p.name for p in root.iterdir()), key=lambda v: [int(x) for x in v.split(".") if x.isdigit()])
        if root.is_dir()
        else []
    )
    return (versions[-1] if versions else "15", "main")


CLUSTER = _cluster()


def pg_ctl(action: str) -> None:
    subprocess.run(["pg_ctlcluster", *CLUSTER, action], check=True, capture_output=True, timeout=120)


def ensure_running() -> None:
    """Start the server unless it runs: every test leaves PostgreSQL running."""
    status = subprocess.run(["pg_ctlcluster", *CLUSTER, "status"], check=False, capture_output=True)
    if status.returncode:
        pg_ctl("start")


@pytest.fixture
def on_pg(pg_db, monkeypatch):
    """A signed-in session on the small demo in PostgreSQL; the server is running again afterwards."""
    need(shutil.which("pg_ctlcluster") is not None, "pg_ctlcluster is not installed")
    need(os.geteuid() == 0, "stopping PostgreSQL with pg_ctlcluster needs root")
    create_demo_users(pg_db, now=datetime.now(UTC))
    try:
        yield session(monkeypatch, pg_db)
    finally:
        ensure_running()


@pytest.mark.postgres
def test_postgres_stopped_then_started(on_pg):
    at = on_pg.run()
    assert works(at)
    try:
        pg_ctl("stop")
        at.run()
        errors = [e.value for e in at.error]
        assert not at.exception and len(errors) == 1 and errors[0].startswith(UNAVAILABLE_ZH), errors
        assert not at.metric
    finally:
        pg_ctl("start")
    at.run()
    assert works(at)  # same session, no restart, caches not cleared


@pytest.mark.postgres
def test_postgres_restarted_between_two_reruns(on_pg):
    """Nothing ran while it was down: the pool still holds the old server's connections."""
    at = on_pg.run()
    assert works(at)
    try:
        pg_ctl("restart")
    finally:
        ensure_running()
    at.run()
    assert works(at), [e.value for e in at.error]
