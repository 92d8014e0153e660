"""Users, sessions, login attempts and the audit log in the database.

Every function takes the time as `now` (tz-aware UTC) so that expiry and throttling are testable, and
an audited change writes its audit record in the same transaction: if the record cannot be written,
the change does not happen.
"""

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cxdash.auth.passwords import hash_password, verify_password
from cxdash.auth.roles import parse_roles
from cxdash.db.schema import (
    AppAudit,
    AppLoginAttempt,
    AppMeta,
    AppSession,
    AppUser,
    AppUserPref,
    AppUserTeam,
)
from cxdash.errors import InputError

USER_FAILURE_LIMIT = 5
CLIENT_FAILURE_LIMIT = 20
THROTTLE_WINDOW = timedelta(minutes=5)
MAX_USERNAME_CHARS = 64
# Stands for an over-long username in login attempts and the audit: no real username can be this
# (usernames have only letters, digits and . _ - @), and the long string itself is never stored.
LONG_USERNAME = "<too long>"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    secret: bytes
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class User:
    username: str
    display_name: str
    roles: tuple[str, ...]
    teams: tuple[str, ...]
    disabled: bool
    password_changed_at: datetime


def utc(value: datetime | None) -> datetime | None:
    """Database timestamps come back naive on SQLite: they are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def write_audit(
    conn: Connection,
    *,
    now: datetime,
    action: str,
    username: str | None,
    client: str | None,
    **detail: object,
) -> None:
    conn.execute(
        sa.insert(AppAudit).values(
            at=now, username=username, action=action, client=client,
            detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
        )
    )  # fmt: skip


# Users ---------------------------------------------------------------------------------------------


def get_user(conn: Connection, username: str) -> User | None:
    row = conn.execute(sa.select(AppUser.__table__).where(AppUser.username == username)).mappings().first()
    if row is None:
        return None
    teams = conn.execute(
        sa.select(AppUserTeam.team_id).where(AppUserTeam.username == username).order_by(AppUserTeam.team_id)
    ).scalars()
    return User(
        username=row["username"],
        display_name=row["display_name"],
        roles=parse_roles(row["roles"]),
        teams=tuple(teams),
        disabled=bool(row["disabled"]),
        password_changed_at=utc(row["password_changed_at"]),
    )


def list_users(conn: Connection) -> list[User]:
    names = conn.execute(sa.select(AppUser.username).order_by(AppUser.username)).scalars().all()
    return [user for name in names if (user := get_user(conn, name)) is not None]


def _check_username(username: str) -> None:
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise InputError("A username has 1–64 letters, digits or . _ - @.")


def add_user(
    engine: Engine,
    username: str,
    password: str,
    *,
    roles: str | list[str],
    display_name: str = "",
    teams: tuple[str, ...] = (),
    now: datetime,
    actor: str | None = None,
    client: str | None = None,
) -> None:
    _check_username(username)
    role_names = parse_roles(roles)
    password_hash = hash_password(password)
    with engine.begin() as conn:
        if get_user(conn, username) is not None:
            raise InputError(f"User {username} already exists.")
        conn.execute(
            sa.insert(AppUser).values(
                username=username, display_name=display_name or username, password_hash=password_hash,
                roles=",".join(role_names), disabled=False, password_changed_at=now, created_at=now,
            )
        )  # fmt: skip
        _set_teams(conn, username, teams)
        write_audit(
            conn, now=now, action="user_added", username=actor, client=client,
            target=username, roles=list(role_names), teams=list(teams),
        )  # fmt: skip


def _set_teams(conn: Connection, username: str, teams: tuple[str, ...]) -> None:
    conn.execute(sa.delete(AppUserTeam).where(AppUserTeam.username == username))
    for team in sorted(set(teams)):
        conn.execute(sa.insert(AppUserTeam).values(username=username, team_id=team))


def _require(conn: Connection, username: str) -> User:
    user = get_user(conn, username)
    if user is None:
        raise InputError(f"No user {username}.")
    return user


def set_password(
    engine: Engine,
    username: str,
    password: str,
    *,
    now: datetime,
    actor: str | None = None,
    client: str | None = None,
) -> None:
    """New password; every session of the user ends."""
    password_hash = hash_password(password)
    with engine.begin() as conn:
        _require(conn, username)
        conn.execute(
            sa.update(AppUser)
            .where(AppUser.username == username)
            .values(password_hash=password_hash, password_changed_at=now)
        )
        _revoke_user(conn, username, now=now, reason="password_changed")
        write_audit(conn, now=now, action="password_changed", username=actor, client=client, target=username)


def set_roles(
    engine: Engine,
    username: str,
    roles: str | list[str],
    *,
    teams: tuple[str, ...] | None = None,
    now: datetime,
    actor: str | None = None,
    client: str | None = None,
) -> None:
    """New roles (and team scope); every session of the user ends, so the change applies at once."""
    role_names = parse_roles(roles)
    with engine.begin() as conn:
        before = _require(conn, username)
        conn.execute(
            sa.update(AppUser).where(AppUser.username == username).values(roles=",".join(role_names))
        )
        if teams is not None:
            _set_teams(conn, username, teams)
        _revoke_user(conn, username, now=now, reason="roles_changed")
        write_audit(
            conn, now=now, action="roles_changed", username=actor, client=client, target=username,
            before={"roles": list(before.roles), "teams": list(before.teams)},
            after={"roles": list(role_names), "teams": list(before.teams if teams is None else teams)},
        )  # fmt: skip


def set_disabled(
    engine: Engine,
    username: str,
    disabled: bool,
    *,
    now: datetime,
    actor: str | None = None,
    client: str | None = None,
) -> None:
    with engine.begin() as conn:
        _require(conn, username)
        conn.execute(sa.update(AppUser).where(AppUser.username == username).values(disabled=disabled))
        if disabled:
            _revoke_user(conn, username, now=now, reason="disabled")
        action = "user_disabled" if disabled else "user_enabled"
        write_audit(conn, now=now, action=action, username=actor, client=client, target=username)


# Sessions ------------------------------------------------------------------------------------------


def token_hash(token: str, policy: SessionPolicy) -> str:
    """Keyed hash of a session token: a leaked table gives no usable token."""
    return hmac.new(policy.secret, token.encode(), hashlib.sha256).hexdigest()


def _revoke_user(conn: Connection, username: str, *, now: datetime, reason: str) -> None:
    conn.execute(
        sa.update(AppSession)
        .where((AppSession.username == username) & AppSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    token: str | None
    retry_after: timedelta | None = None  # set when throttled

    @property
    def ok(self) -> bool:
        return self.user is not None


def login_block(conn: Connection, username: str | None, client: str, *, now: datetime) -> timedelta | None:
    """How long further attempts are blocked (None: not blocked): 5 failures of a user or 20 of a
    client within 5 minutes; the block ends by itself 5 minutes after the failures. An attempt whose
    password check is still running counts as a failure. `username` None: only the client's limit."""
    since = now - THROTTLE_WINDOW
    limits = [(AppLoginAttempt.client, client, CLIENT_FAILURE_LIMIT)]
    if username is not None:
        limits.insert(0, (AppLoginAttempt.username, username, USER_FAILURE_LIMIT))
    for column, value, limit in limits:
        times = (
            conn.execute(
                sa.select(AppLoginAttempt.at)
                .where((column == value) & (AppLoginAttempt.at > since) & ~AppLoginAttempt.success)
                .order_by(AppLoginAttempt.at.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if len(times) >= limit:
            return utc(times[-1]) + THROTTLE_WINDOW - now
    return None


# Advisory-lock namespaces (first key of pg_advisory_xact_lock(int, int)) for login reservations.
_PG_LOCK_USER, _PG_LOCK_CLIENT = 0x6378_0001, 0x6378_0002
# In-process queue for SQLite writers of the login path: threads wait here in order instead of
# polling SQLite's busy handler; BEGIN IMMEDIATE still serialises them against other processes.
_sqlite_login_lock = threading.Lock()


@contextmanager
def _login_transaction(
    engine: Engine, *, username: str | None = None, client: str | None = None
) -> Iterator[Connection]:
    """A short write transaction that no other login for the same username or client overlaps: on
    PostgreSQL transaction-scoped advisory locks (user, then client: one order, so no deadlock), on
    SQLite BEGIN IMMEDIATE (the database's one write lock, taken before the first read)."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        with engine.connect() as conn:
            # Each statement sees what the previous lock holder committed (not so in REPEATABLE READ).
            conn.execution_options(isolation_level="READ COMMITTED")
            with conn.begin():
                for namespace, key in ((_PG_LOCK_USER, username), (_PG_LOCK_CLIENT, client)):
                    if key is not None:
                        conn.execute(
                            sa.text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:key))"),
                            {"namespace": namespace, "key": key},
                        )
                yield conn
        return
    with _sqlite_login_lock, engine.connect() as conn:
        if dialect == "sqlite":
            # pysqlite would open a deferred transaction only at the first write, after the reads.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def login(
    engine: Engine,
    username: str,
    password: str,
    *,
    client: str,
    policy: SessionPolicy,
    now: datetime,
    check: object = verify_password,
) -> LoginResult:
    """Check a login, throttled and audited; on success a new session and its token.

    `check(password, hash)` does the bcrypt check (the login form's). Unknown and disabled users are
    checked against a dummy hash, so every failure costs the same time and says the same thing.
    The attempt is counted (as a failure) before the check, in a transaction serialised per username
    and client, so concurrent logins cannot run more checks than the limits allow; a success turns it
    into a success afterwards. A username over 64 characters is refused without a check and stored
    only as LONG_USERNAME (its first 64 characters in the audit detail).
    """
    too_long = len(username.strip()) > MAX_USERNAME_CHARS
    name = LONG_USERNAME if too_long else username
    detail = {"username_prefix": username.strip()[:MAX_USERNAME_CHARS], "username_chars": len(username)}
    detail = detail if too_long else {}
    with _login_transaction(engine, username=None if too_long else username, client=client) as conn:
        blocked = login_block(conn, None if too_long else username, client, now=now)
        if blocked is not None:
            write_audit(conn, now=now, action="login_throttled", username=name, client=client, **detail)
            return LoginResult(user=None, token=None, retry_after=blocked)
        attempt = conn.execute(
            sa.insert(AppLoginAttempt).values(username=name, client=client, at=now, success=False)
        ).inserted_primary_key[0]
        if too_long:
            write_audit(conn, now=now, action="login_failed", username=name, client=client, **detail)
            return LoginResult(user=None, token=None)
        user = get_user(conn, username)
        stored = None
        if user is not None and not user.disabled:
            stored = conn.execute(
                sa.select(AppUser.password_hash).where(AppUser.username == username)
            ).scalar()
    valid = check(password, stored)  # outside any transaction: bcrypt takes ~200 ms
    with _login_transaction(engine) as conn:
        if valid:  # still the same password and not disabled (locked until commit: no session escapes)
            current = conn.execute(
                sa.select(AppUser.password_hash, AppUser.disabled)
                .where(AppUser.username == username)
                .with_for_update()
            ).first()
            valid = current is not None and not current.disabled and current.password_hash == stored
        if not valid:
            write_audit(conn, now=now, action="login_failed", username=username, client=client)
            return LoginResult(user=None, token=None)
        conn.execute(
            sa.update(AppLoginAttempt).where(AppLoginAttempt.attempt_id == attempt).values(success=True)
        )
        token = secrets.token_urlsafe(32)
        conn.execute(
            sa.insert(AppSession).values(
                token_hash=token_hash(token, policy), username=username, created_at=now, last_seen_at=now
            )
        )
        write_audit(conn, now=now, action="login", username=username, client=client)
        return LoginResult(user=get_user(conn, username), token=token)


@dataclass(frozen=True, slots=True)
class SessionCheck:
    user: User | None
    reason: str | None  # why not: unknown, revoked, idle, expired, disabled


def check_session(engine: Engine, token: str | None, *, policy: SessionPolicy, now: datetime) -> SessionCheck:
    """The session's user if the token is live; expired sessions are revoked (and audited) on sight."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return SessionCheck(None, "unknown")
    key = token_hash(token, policy)
    with engine.begin() as conn:
        row = (
            conn.execute(sa.select(AppSession.__table__).where(AppSession.token_hash == key))
            .mappings()
            .first()
        )
        if row is None:
            return SessionCheck(None, "unknown")
        if row["revoked_at"] is not None:
            return SessionCheck(None, "revoked")
        user = get_user(conn, row["username"])
        reason = None
        if user is None or user.disabled:
            reason = "disabled"
        elif now - utc(row["created_at"]) > policy.absolute:
            reason = "expired"
        elif now - utc(row["last_seen_at"]) > policy.idle:
            reason = "idle"
        if reason:
            conn.execute(
                sa.update(AppSession)
                .where(AppSession.token_hash == key)
                .values(revoked_at=now, revoked_reason=reason)
            )
            write_audit(
                conn, now=now, action="session_expired", username=row.username, client=None, reason=reason
            )
            return SessionCheck(None, reason)
        if now - utc(row["last_seen_at"]) > timedelta(seconds=30):  # fewer writes; idle precision is ample
            conn.execute(sa.update(AppSession).where(AppSession.token_hash == key).values(last_seen_at=now))
        return SessionCheck(user, None)


def logout(
    engine: Engine, token: str, *, policy: SessionPolicy, now: datetime, client: str | None = None
) -> None:
    key = token_hash(token, policy)
    with engine.begin() as conn:
        username = conn.execute(sa.select(AppSession.username).where(AppSession.token_hash == key)).scalar()
        conn.execute(
            sa.update(AppSession)
            .where((AppSession.token_hash == key) & AppSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason="logout")
        )
        if username:
            write_audit(conn, now=now, action="logout", username=username, client=client)


def read_audit(
    conn: Connection, *, limit: int = 1000, action: str | None = None, username: str | None = None
) -> list[dict]:
    query = sa.select(AppAudit.__table__).order_by(AppAudit.audit_id.desc()).limit(limit)
    if action:
        query = query.where(AppAudit.action == action)
    if username:
        query = query.where(AppAudit.username == username)
    return [{**row, "at": utc(row["at"])} for row in conn.execute(query).mappings()]


def mark_demo(engine: Engine) -> None:
    """Record that this database holds generated demo data (demo mode: shown on every page)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(AppMeta).where(AppMeta.key == "demo"))
        conn.execute(sa.insert(AppMeta).values(key="demo", value="1"))


def is_demo(engine: Engine) -> bool:
    """Demo mode: marked as a demo *and* generated by `demo` (a real database that an older cxdash's
    `demo --if-missing` marked is not a demo: it needs a session secret)."""
    with engine.connect() as conn:
        meta = dict(
            conn.execute(
                sa.select(AppMeta.key, AppMeta.value).where(AppMeta.key.in_(("demo", "demo_generated")))
            ).all()
        )
    return meta.get("demo") == "1" and "demo_generated" in meta


def active_sessions(conn: Connection, *, now: datetime, policy: SessionPolicy) -> list[dict]:
    """Sessions not revoked and not yet past their idle or absolute limit."""
    rows = conn.execute(
        sa.select(AppSession.username, AppSession.created_at, AppSession.last_seen_at)
        .where(AppSession.revoked_at.is_(None))
        .order_by(AppSession.last_seen_at.desc())
    ).mappings()
    return [
        {
            "username": r["username"],
            "created_at": utc(r["created_at"]),
            "last_seen_at": utc(r["last_seen_at"]),
        }
        for r in rows
        if now - utc(r["last_seen_at"]) <= policy.idle and now - utc(r["created_at"]) <= policy.absolute
    ]


# Preferences ---------------------------------------------------------------------------------------

PREF_MAX_CHARS = 256


def get_pref(conn: Connection, username: str, key: str) -> str | None:
    """A user's saved setting (e.g. `lang`); None if they never saved one."""
    return conn.execute(
        sa.select(AppUserPref.value).where((AppUserPref.username == username) & (AppUserPref.key == key))
    ).scalar()


def set_pref(engine: Engine, username: str, key: str, value: str) -> None:
    """Save a user's setting, replacing the previous value (not audited: it changes no one's access)."""
    if not key or len(key) > 64 or len(value) > PREF_MAX_CHARS:
        raise InputError(f"A setting has a name of 1–64 characters and a value of at most {PREF_MAX_CHARS}.")
    mine = (AppUserPref.username == username) & (AppUserPref.key == key)
    with engine.begin() as conn:
        if not conn.execute(sa.update(AppUserPref).where(mine).values(value=value)).rowcount:
            conn.execute(sa.insert(AppUserPref).values(username=username, key=key, value=value))
