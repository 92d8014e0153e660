"""The demo database's accounts (one per role, passwords printed in the README), and what `demo` may
do to an existing database: only a database that `demo` generated gets demo accounts and demo mode."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from cxdash.auth import store
from cxdash.db.engine import make_engine, sqlite_path
from cxdash.db.schema import BUSINESS_TABLES, AppMeta, AppUser, Base
from cxdash.db.version import DATA_VERSION_KEY
from cxdash.demo.writer import DEMO_GENERATED_KEY  # set with the generated data, in its transaction
from cxdash.errors import DatabaseError, InputError, driver_message

DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    # username, password, roles, teams, display name
    ("admin", "demo-admin-2026", "admin", (), "系统管理员 Admin"),
    ("manager", "demo-manager-2026", "manager", (), "客服总监 Manager"),
    ("lead_t01", "demo-lead-t01-2026", "team_lead", ("T01",), "电话组组长 Lead T01"),
    ("lead_t02", "demo-lead-t02-2026", "team_lead", ("T02",), "在线组组长 Lead T02"),
    ("analyst", "demo-analyst-2026", "analyst", (), "数据分析师 Analyst"),
    ("viewer", "demo-viewer-2026", "viewer", (), "访客 Viewer"),
)
DEMO_USERNAMES = frozenset(u for u, *_ in DEMO_USERS)


@dataclass(frozen=True, slots=True)
class ExistingDatabase:
    """What an existing database holds, as far as `demo` cares."""

    generated: bool  # `demo` wrote its business data (the demo_generated marker is there)
    data_changed: bool  # business data was written after that (the data version moved on)
    business_rows: bool  # any business table has a row
    users: tuple[str, ...]  # every login account
    other_tables: tuple[str, ...]  # tables that are not cxdash's (lost if a SQLite file is replaced)

    @property
    def other_users(self) -> tuple[str, ...]:
        return tuple(u for u in self.users if u not in DEMO_USERNAMES)


def inspect_database(url: str) -> ExistingDatabase | None:
    """What the database at `url` holds; None if there is nothing there (no file, or no tables)."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = make_engine(url, must_exist=False)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        if not tables or (path is None and not tables & set(Base.metadata.tables)):
            return None
        with engine.connect() as conn:
            meta = {}
            if "app_meta" in tables:
                meta = dict(conn.execute(sa.select(AppMeta.key, AppMeta.value)).all())
            users = ()
            if "app_users" in tables:
                users = tuple(conn.scalars(sa.select(AppUser.username).order_by(AppUser.username)))
            business_rows = any(
                conn.execute(sa.select(sa.literal(1)).select_from(sa.table(t)).limit(1)).first()
                for t in BUSINESS_TABLES
                if t in tables
            )
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(
            f"{url} cannot be read as a database ({driver_message(exc)}); `demo` leaves it alone. "
            "Give demo another --db.",
            key="errors.cannot_read_database",
            detail=driver_message(exc),
        ) from exc
    finally:
        engine.dispose()
    marker = meta.get(DEMO_GENERATED_KEY)
    return ExistingDatabase(
        generated=marker is not None,
        data_changed=marker is not None and meta.get(DATA_VERSION_KEY) != marker,
        business_rows=business_rows,
        users=users,
        other_tables=tuple(sorted(tables - set(Base.metadata.tables))) if path is not None else (),
    )


def replace_refusal(url: str, existing: ExistingDatabase) -> str | None:
    """Why `demo --force` must not replace this database (None: it may).

    It replaces a database that `demo` generated and nobody changed since (no accounts besides the demo
    accounts, business data untouched), or one that holds no users, business data or foreign tables
    (e.g. fresh from `init-db`). Anything else is someone's data: cxdash never discards it; whoever
    means to must delete the file (or drop the tables) themselves."""
    found = []
    if existing.other_users:
        found.append(f"users demo did not create ({', '.join(existing.other_users)})")
    if existing.generated and existing.data_changed:
        found.append("business data changed after demo generated it (an import, edits, or a refresh)")
    if not existing.generated:
        if existing.business_rows:
            found.append("business data demo did not generate")
        if existing.users and not existing.other_users:
            found.append(f"user accounts ({', '.join(existing.users)})")
        if existing.other_tables:
            found.append(f"tables that are not cxdash's ({', '.join(existing.other_tables)})")
    if not found:
        return None
    path = sqlite_path(url)
    how = f"delete {path} yourself" if path is not None else "drop its cxdash tables yourself"
    return (
        f"{url} holds {'; '.join(found)}. `demo --force` replaces only a database that demo generated and "
        f"nobody changed since, so it left this one untouched. To discard it anyway, back it up and {how}; "
        "or give demo another --db."
    )


def top_up_refusal(url: str, existing: ExistingDatabase) -> str | None:
    """Why `demo --if-missing` may not add demo accounts or demo mode to this database (None: it may)."""
    if existing.generated:
        return None
    return (
        f"{url} already holds a database that `python -m cxdash demo` did not generate; demo left it "
        "untouched (no demo accounts, no demo mode). Serve it with `python -m cxdash serve` and a "
        "CXDASH_SESSION_SECRET, or give demo another --db for a demo database."
    )


def create_demo_users(url: str, *, now: datetime) -> None:
    """Add the demo accounts that are missing and mark the database as a demo; only on a database that
    `demo` generated (InputError otherwise)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            marker = conn.scalar(sa.select(AppMeta.value).where(AppMeta.key == DEMO_GENERATED_KEY))
            existing = {u.username for u in store.list_users(conn)}
        if marker is None:
            raise InputError(
                f"{url} was not generated by `python -m cxdash demo`: no demo accounts or demo mode on it."
            )
        for username, password, roles, teams, name in DEMO_USERS:
            if username not in existing:
                store.add_user(
                    engine,
                    username,
                    password,
                    roles=roles,
                    teams=teams,
                    display_name=name,
                    now=now,
                    actor="demo",
                )
        store.mark_demo(engine)
    finally:
        engine.dispose()


def is_generated_demo(engine: sa.Engine) -> bool:
    """Demo mode: the database is marked as a demo and `demo` generated it."""
    keys = ("demo", DEMO_GENERATED_KEY)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(AppMeta.key, AppMeta.value).where(AppMeta.key.in_(keys))).all()
    meta = dict(rows)
    return meta.get("demo") == "1" and DEMO_GENERATED_KEY in meta
