"""Users, sessions, throttling and the audit log against a real SQLite database."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cxdash.auth import store
from cxdash.db.engine import create_schema, make_engine
from cxdash.errors import InputError

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
POLICY = store.SessionPolicy(secret=b"x" * 32)
PASSWORD = "lead password 1"


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'auth.db'}", must_exist=False)
    create_schema(engine)
    store.add_user(engine, "lead1", PASSWORD, roles="team_lead", teams=("T01",), now=T0, actor="admin")
    return engine


def login(engine, password=PASSWORD, *, at=T0, client="10.0.0.1", username="lead1"):
    return store.login(engine, username, password, client=client, policy=POLICY, now=at)


def audit(engine, action=None):
    with engine.connect() as conn:
        return store.read_audit(conn, action=action)


def test_login_creates_a_session_that_is_stored_hashed(engine):
    result = login(engine)
    assert result.ok and result.user.teams == ("T01",)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM app_sessions")).scalars().all()
    assert stored == [store.token_hash(result.token, POLICY)] and result.token not in stored
    assert store.check_session(engine, result.token, policy=POLICY, now=T0).user.username == "lead1"
    assert audit(engine, "login")[0]["client"] == "10.0.0.1"


def test_same_answer_for_unknown_user_wrong_password_and_disabled_user(engine):
    store.add_user(engine, "gone", "gone password", roles="viewer", now=T0)
    store.set_disabled(engine, "gone", True, now=T0)
    for result in (
        login(engine, "wrong!"),
        login(engine, username="nobody"),
        login(engine, "gone password", username="gone"),
    ):
        assert (result.ok, result.token, result.retry_after) == (False, None, None)
    assert len(audit(engine, "login_failed")) == 3


def test_five_failures_block_the_user_for_five_minutes_then_it_ends_by_itself(engine):
    for i in range(5):
        assert not login(engine, "wrong!", at=T0 + timedelta(seconds=i)).ok
    blocked = login(engine, at=T0 + timedelta(seconds=10))
    assert not blocked.ok and blocked.retry_after is not None
    assert timedelta(minutes=4) < blocked.retry_after <= timedelta(minutes=5)
    assert audit(engine, "login_throttled")
    assert login(engine, at=T0 + timedelta(minutes=5, seconds=5)).ok  # no permanent lockout


@pytest.mark.parametrize("attempts", [6, 20, 200])
def test_many_wrong_passwords_stay_throttled_and_audited(engine, attempts):
    results = [login(engine, "wrong!", at=T0 + timedelta(seconds=i)) for i in range(attempts)]
    assert not any(r.ok for r in results)
    assert all(r.retry_after is not None for r in results[5:])
    assert len(audit(engine, "login_failed")) == 5
    assert len(audit(engine, "login_throttled")) == attempts - 5


def test_a_client_spraying_many_users_is_throttled(engine):
    results = [login(engine, "x", username=f"user{i}", at=T0 + timedelta(seconds=i)) for i in range(25)]
    assert all(r.retry_after is None for r in results[:20])
    assert all(r.retry_after is not None for r in results[20:])
    assert login(engine, client="10.0.0.2", at=T0 + timedelta(seconds=30)).ok  # other clients are fine


def test_idle_and_absolute_timeouts(engine):
    token = login(engine).token
    assert store.check_session(engine, token, policy=POLICY, now=T0 + timedelta(minutes=29)).user
    assert store.check_session(
        engine, token, policy=POLICY, now=T0 + timedelta(minutes=58)
    ).user  # kept alive
    idle = store.check_session(engine, token, policy=POLICY, now=T0 + timedelta(minutes=90))
    assert (idle.user, idle.reason) == (None, "idle")
    token = login(engine).token
    for minutes in range(20, 12 * 60, 20):  # active all day
        assert store.check_session(engine, token, policy=POLICY, now=T0 + timedelta(minutes=minutes)).user
    late = store.check_session(engine, token, policy=POLICY, now=T0 + timedelta(hours=12, minutes=10))
    assert late.reason == "expired"
    assert {json.loads(a["detail"])["reason"] for a in audit(engine, "session_expired")} == {
        "idle",
        "expired",
    }


def test_logout_revokes_the_token_for_every_tab(engine):
    token = login(engine).token
    store.logout(engine, token, policy=POLICY, now=T0)
    assert store.check_session(engine, token, policy=POLICY, now=T0).reason == "revoked"
    assert audit(engine, "logout")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: store.set_password(e, "lead1", "a new password 2", now=T0, actor="admin"), "revoked"),
        (lambda e: store.set_roles(e, "lead1", "viewer", now=T0, actor="admin"), "revoked"),
        (lambda e: store.set_disabled(e, "lead1", True, now=T0, actor="admin"), "revoked"),
    ],
)
def test_password_role_change_and_disabling_end_every_session(engine, change, reason):
    tokens = [login(engine).token, login(engine, client="10.0.0.9").token]
    change(engine)
    assert [store.check_session(engine, t, policy=POLICY, now=T0).reason for t in tokens] == [reason, reason]


def test_deleted_user_is_out(engine):
    token = login(engine).token
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM app_user_teams"))
        conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
        conn.execute(sa.text("DELETE FROM app_users"))
    assert store.check_session(engine, token, policy=POLICY, now=T0).reason == "disabled"


def test_forged_or_malformed_tokens_are_just_unknown(engine):
    for token in ("", "a" * 5000, "eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImFkbWluIn0.", "🙂", None):
        assert store.check_session(engine, token, policy=POLICY, now=T0).user is None


def test_role_change_is_audited_with_before_and_after(engine):
    store.set_roles(engine, "lead1", "team_lead", teams=("T01", "T02"), now=T0, actor="admin", client="c")
    with engine.connect() as conn:
        assert store.get_user(conn, "lead1").teams == ("T01", "T02")
    detail = json.loads(audit(engine, "roles_changed")[0]["detail"])
    assert detail["before"]["teams"] == ["T01"] and detail["after"]["teams"] == ["T01", "T02"]


def test_an_audited_change_does_not_happen_if_its_record_cannot_be_written(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE app_audit"))
    with pytest.raises(sa.exc.OperationalError):
        store.set_roles(engine, "lead1", "admin", now=T0)
    with engine.connect() as conn:
        assert store.get_user(conn, "lead1").roles == ("team_lead",)


def test_user_input_errors(engine):
    with pytest.raises(InputError, match="already exists"):
        store.add_user(engine, "lead1", PASSWORD, roles="viewer", now=T0)
    with pytest.raises(InputError, match="username"):
        store.add_user(engine, "bad name;", PASSWORD, roles="viewer", now=T0)
    with pytest.raises(InputError, match="No user"):
        store.set_password(engine, "ghost", PASSWORD, now=T0)
    with pytest.raises(ValueError, match="unknown role"):
        store.set_roles(engine, "lead1", "superuser", now=T0)


def test_unknown_and_known_users_cost_one_bcrypt_check_each(engine):
    calls = []

    def check(password, password_hash):
        calls.append(password_hash)
        return store.verify_password(password, password_hash)

    for username in ("lead1", "nobody"):
        store.login(engine, username, "wrong!", client="c", policy=POLICY, now=T0, check=check)
    assert len(calls) == 2 and calls[1] is None  # the unknown user is checked (against the dummy hash) too


def test_a_download_is_made_only_after_its_audit_record(engine):
    import polars as pl

    from cxdash.ui.widgets import ExportRecord, audited_csv

    record = ExportRecord(
        url="", username="lead1", client="c", view="overview.trend.csat_pct", filters={"period": "2026Q3"}
    )
    table = pl.DataFrame({"周期": ["2026Q3"], "数值": [81.5]})
    assert audited_csv(engine, record, "x.csv", table).startswith(b"\xef\xbb\xbf")
    assert json.loads(audit(engine, "export")[0]["detail"])["rows"] == 1
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE app_audit"))
    with pytest.raises(sa.exc.OperationalError):
        audited_csv(engine, record, "x.csv", table)
