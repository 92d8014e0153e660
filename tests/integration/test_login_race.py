"""Wrong passwords submitted at the same moment cannot run more password checks than the limits allow."""

import shutil
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cxdash.auth import store
from cxdash.db.engine import make_engine

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
POLICY = store.SessionPolicy(secret=b"x" * 32)
PASSWORD = "race password 1"
THREADS = 50
THROTTLE_END = store.THROTTLE_WINDOW + timedelta(seconds=1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """A database with the demo tables: a copy of the small SQLite demo, or the PostgreSQL test one."""
    if request.param == "sqlite":
        source = sa.make_url(request.getfixturevalue("small_db")).database
        shutil.copy(source, tmp_path / "race.db")
        url = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        url = request.getfixturevalue("pg_db")
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def user(engine):
    """A fresh user (the PostgreSQL database is shared by the module: names must not repeat)."""
    username = f"race_{uuid.uuid4().hex[:12]}"
    store.add_user(engine, username, PASSWORD, roles="viewer", now=T0)
    return username


class CountingCheck:
    """A password check that counts its calls and is slow enough to widen any race."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, password: str, password_hash: str | None) -> bool:
        with self._lock:
            self.calls += 1
        time.sleep(0.05)
        return False


def at_once(attempt, n: int = THREADS) -> list:
    """Run `attempt(i)` in n threads released together; every result, or the first error."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = attempt(i)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def actions(engine, username: str | None = None, client: str | None = None) -> list[str]:
    query = sa.select(store.AppAudit.action)
    if username is not None:
        query = query.where(store.AppAudit.username == username)
    if client is not None:
        query = query.where(store.AppAudit.client == client)
    with engine.connect() as conn:
        return conn.execute(query).scalars().all()


def test_fifty_wrong_passwords_at_once_run_at_most_five_checks(engine, user):
    check = CountingCheck()
    prefix = uuid.uuid4().hex[:8]  # many clients: the per-user limit alone must hold
    results = at_once(
        lambda i: store.login(
            engine, user, "wrong!", client=f"{prefix}-{i}", policy=POLICY, now=T0, check=check
        )
    )
    assert check.calls == store.USER_FAILURE_LIMIT
    assert not any(r.ok for r in results)
    assert sum(r.retry_after is not None for r in results) == THREADS - store.USER_FAILURE_LIMIT
    done = actions(engine, username=user)
    assert done.count("login_failed") == store.USER_FAILURE_LIMIT
    assert done.count("login_throttled") == THREADS - store.USER_FAILURE_LIMIT

    def right_password(at):
        return store.login(engine, user, PASSWORD, client=f"{prefix}-ok", policy=POLICY, now=at)

    still = right_password(T0 + timedelta(minutes=1))
    assert not still.ok and still.retry_after is not None
    again = right_password(T0 + THROTTLE_END)  # no permanent lockout
    assert again.ok and again.user.username == user and again.token
    assert store.check_session(engine, again.token, policy=POLICY, now=T0 + THROTTLE_END).user


def test_fifty_users_tried_at_once_from_one_client_run_at_most_twenty_checks(engine):
    check = CountingCheck()
    client = f"spray-{uuid.uuid4().hex[:8]}"
    results = at_once(
        lambda i: store.login(
            engine, f"nobody{i}", "wrong!", client=client, policy=POLICY, now=T0, check=check
        )
    )
    assert check.calls == store.CLIENT_FAILURE_LIMIT
    assert not any(r.ok for r in results)
    assert sum(r.retry_after is not None for r in results) == THREADS - store.CLIENT_FAILURE_LIMIT
    assert actions(engine, client=client).count("login_failed") == store.CLIENT_FAILURE_LIMIT


def test_a_right_password_among_wrong_ones_at_once_checks_at_most_five(engine, user):
    calls = []

    def check(password, password_hash):
        calls.append(password)
        time.sleep(0.05)
        return store.verify_password(password, password_hash)

    prefix = uuid.uuid4().hex[:8]
    results = at_once(
        lambda i: store.login(
            engine, user, PASSWORD if i == 0 else "wrong!", client=f"{prefix}-{i}", policy=POLICY,
            now=T0, check=check,
        ),
        n=12,
    )  # fmt: skip
    assert len(calls) <= store.USER_FAILURE_LIMIT
    assert sum(r.ok for r in results) == (PASSWORD in calls)


def test_a_huge_username_is_refused_without_a_check_and_not_stored(engine):
    check = CountingCheck()
    client = f"long-{uuid.uuid4().hex[:8]}"
    huge = "a" * 10_000
    result = store.login(engine, huge, "wrong!", client=client, policy=POLICY, now=T0, check=check)
    assert (result.ok, result.token, result.retry_after) == (False, None, None)
    assert check.calls == 0
    with engine.connect() as conn:
        attempts = conn.execute(
            sa.select(store.AppLoginAttempt.username).where(store.AppLoginAttempt.client == client)
        ).scalars()
        assert list(attempts) == [store.LONG_USERNAME]
        audited = conn.execute(sa.select(store.AppAudit).where(store.AppAudit.client == client)).all()
    assert [(a.action, a.username) for a in audited] == [("login_failed", store.LONG_USERNAME)]
    assert len(audited[0].detail) < 200 and huge not in audited[0].detail


def test_a_64_character_username_is_still_checked(engine):
    check = CountingCheck()
    result = store.login(
        engine, " " + "b" * 64 + " ", "wrong!", client=f"c-{uuid.uuid4().hex}", policy=POLICY, now=T0,
        check=check,
    )  # fmt: skip
    assert not result.ok and check.calls == 1
