"""Engines, schema creation and the schema-version check."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from cxdash.db.schema import BUSINESS_TABLES, SCHEMA_VERSION, AppMeta, Base
from cxdash.errors import DatabaseError


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def adbc_uri(url: str) -> str:
    """The libpq URI for a SQLAlchemy PostgreSQL URL (drops the `+driver` part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(url: str, *, must_exist: bool = True) -> Engine:
    """An engine for `url`; a missing SQLite file is an error unless `must_exist` is False."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"'{url}' is not a database URL. Use e.g. sqlite:///data/cxdash.db "
            "or postgresql+psycopg://user:password@host/dbname."
        ) from exc
    path = sqlite_path(url)
    if path is not None and must_exist and not path.exists():
        raise DatabaseError(
            f"Database file {path} does not exist. Create it with `python -m cxdash demo` "
            "or point --db / CXDASH_DB_URL at an existing database."
        )
    try:
        return sa.create_engine(parsed)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseError(
            f"No driver for '{parsed.drivername}'. Install it, or use sqlite:// or postgresql+psycopg://."
        ) from exc


def create_schema(engine: Engine) -> None:
    """Create every table on an empty database and record the schema version."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(AppMeta).where(AppMeta.key == "schema_version"))
        conn.execute(sa.insert(AppMeta).values(key="schema_version", value=str(SCHEMA_VERSION)))


def upgrade_schema(engine: Engine) -> None:
    """Bring an older cxdash database to this version: the changes so far only add tables."""
    create_schema(engine)


def schema_problem(table_names: set[str], recorded_version: str | None) -> str | None:
    """Why a database with these tables and this recorded version cannot be used, or None."""
    missing = [t for t in BUSINESS_TABLES if t not in table_names]
    if "app_meta" not in table_names:
        if missing:
            return (
                "This database has no cxdash tables. Create them with `python -m cxdash init-db` "
                "(empty) or `python -m cxdash demo` (demo data)."
            )
        return (
            "This database has the CRM tables but no cxdash schema version (app_meta). "
            "Run `python -m cxdash init-db` to record it."
        )
    if recorded_version is None or not recorded_version.isdigit():
        return (
            "This database's cxdash schema version is unreadable. "
            "Recreate it with `python -m cxdash demo --force`."
        )
    version = int(recorded_version)
    if version < SCHEMA_VERSION:
        return (
            f"This database has cxdash schema version {version}, older than this cxdash ({SCHEMA_VERSION}). "
            "Upgrade it with `python -m cxdash init-db` (adds the new tables, keeps the data)."
        )
    if version > SCHEMA_VERSION:
        return (
            f"This database has cxdash schema version {version}, newer than this cxdash ({SCHEMA_VERSION}). "
            "Upgrade cxdash."
        )
    if missing:
        return (
            f"The cxdash tables {', '.join(missing)} are missing. "
            "Recreate the database with `python -m cxdash demo --force`."
        )
    return None


def check_schema(engine: Engine) -> None:
    """Raise DatabaseError with a clear message unless the database has this cxdash schema."""
    try:
        tables = set(sa.inspect(engine).get_table_names())
        version = None
        if "app_meta" in tables:
            with engine.connect() as conn:
                version = conn.scalar(sa.select(AppMeta.value).where(AppMeta.key == "schema_version"))
    except OperationalError as exc:
        raise DatabaseError(f"Cannot open the database: {exc.orig}. Check --db / CXDASH_DB_URL.") from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Cannot read the database: {exc}. Check --db / CXDASH_DB_URL.") from exc
    problem = schema_problem(tables, version)
    if problem:
        raise DatabaseError(problem)
