"""Engines, schema creation and the schema-version check."""

import atexit
import secrets
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from cxdash.db.schema import BUSINESS_TABLES, SCHEMA_VERSION, AppMeta, Base
from cxdash.db.version import ensure_data_version, install_version_triggers, set_data_version
from cxdash.errors import DatabaseError, driver_message, unreadable_database

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_disposal_registered = False


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
            "or postgresql+psycopg://user:password@host/dbname.",
            key="errors.not_a_database_url",
            url=url,
        ) from exc
    path = sqlite_path(url)
    if path is not None and must_exist and not path.exists():
        raise DatabaseError(
            f"Database file {path} does not exist. Create it with `python -m cxdash demo` "
            "or point --db / CXDASH_DB_URL at an existing database.",
            key="errors.no_database_file",
            path=str(path),
        )
    try:
        # A pooled connection to a restarted PostgreSQL server is dead: test it before use.
        return sa.create_engine(parsed, pool_pre_ping=parsed.get_backend_name() == "postgresql")
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseError(
            f"No driver for '{parsed.drivername}'. Install it, or use sqlite:// or postgresql+psycopg://.",
            key="errors.no_driver",
            driver=parsed.drivername,
        ) from exc


def shared_engine(url: str) -> Engine:
    """This process's one engine for `url` (its connection pool), created on first use; thread-safe."""
    global _disposal_registered  # noqa: PLW0603 - one registration per process
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            path = sqlite_path(url)
            if path is not None:
                _follow_replaced_file(engine, path)
            if not _disposal_registered:
                atexit.register(dispose_engines)
                _disposal_registered = True
            _engines[url] = engine
        return engine


def _follow_replaced_file(engine: Engine, path: Path) -> None:
    """A pooled SQLite connection keeps reading a file that was replaced (`demo --force` moves a
    new file into place) or deleted: reconnect when the file at `path` is no longer the one opened."""

    def file_id() -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    @sa.event.listens_for(engine, "do_connect")
    def _refuse_missing(dialect, conn_rec, cargs, cparams) -> None:
        if file_id() is None:  # sqlite3 would create an empty file
            raise DatabaseError(
                f"Database file {path} does not exist. Create it with `python -m cxdash demo` "
                "or point --db / CXDASH_DB_URL at an existing database.",
                key="errors.no_database_file",
                path=str(path),
            )

    @sa.event.listens_for(engine, "connect")
    def _remember(dbapi_conn, conn_rec) -> None:
        conn_rec.info["cxdash_file_id"] = file_id()

    @sa.event.listens_for(engine, "checkout")
    def _check(dbapi_conn, conn_rec, proxy) -> None:
        if conn_rec.info.get("cxdash_file_id") != file_id():
            raise sa.exc.DisconnectionError(f"{path} was replaced")  # the pool reconnects


def dispose_engines() -> None:
    """Close the pools of every shared engine (at exit, or in tests that replace a database file)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def create_schema(engine: Engine) -> None:
    """Create every missing table, record the schema version, and set up the data version (counter
    at 1 unless present, triggers on the business tables). Keeps existing tables and data."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        record_schema(conn, engine.dialect.name)


def record_schema(conn: Connection, dialect: str, *, data_version: int | None = None) -> None:
    """In the caller's transaction: record the schema version, set the data version (to
    `data_version`, or 1 unless present) and install its triggers on the business tables."""
    conn.execute(sa.delete(AppMeta).where(AppMeta.key == "schema_version"))
    conn.execute(sa.insert(AppMeta).values(key="schema_version", value=str(SCHEMA_VERSION)))
    if conn.scalar(sa.select(AppMeta.value).where(AppMeta.key == "database_id")) is None:
        # Tells this database from another made at the same path (cxdash.snapshot.database_id).
        conn.execute(sa.insert(AppMeta).values(key="database_id", value=secrets.token_hex(8)))
    if data_version is None:
        ensure_data_version(conn)
    else:
        set_data_version(conn, data_version)
    install_version_triggers(conn, dialect)


def upgrade_schema(engine: Engine) -> None:
    """Bring an older cxdash database to this version (idempotent; keeps the data): 2 → 3 adds the
    data-version counter and its triggers; 3 → 4 the business-calendar tables (`app_calendar*`,
    `app_sla_clocks`), empty, which means the default calendar until an admin saves one; 4 → 5 the
    import batches, saved mappings and admin-set definitions (`app_import_*`, `app_settings`), empty;
    5 → 6 the frozen quarterly reviews (`app_review_snapshots`), empty."""
    create_schema(engine)


def schema_problem(table_names: set[str], recorded_version: str | None) -> DatabaseError | None:
    """Why a database with these tables and this recorded version cannot be used, or None."""
    missing = [t for t in BUSINESS_TABLES if t not in table_names]
    if "app_meta" not in table_names:
        if missing:
            return DatabaseError(
                "This database has no cxdash tables. Create them with `python -m cxdash init-db` "
                "(empty) or `python -m cxdash demo` (demo data).",
                key="errors.no_cxdash_tables",
            )
        return DatabaseError(
            "This database has the CRM tables but no cxdash schema version (app_meta). "
            "Run `python -m cxdash init-db` to record it.",
            key="errors.no_schema_version",
        )
    if recorded_version is None or not recorded_version.isdigit():
        return DatabaseError(
            "This database's cxdash schema version is unreadable. "
            "Recreate it with `python -m cxdash demo --force`.",
            key="errors.unreadable_schema_version",
        )
    version = int(recorded_version)
    if version < SCHEMA_VERSION:
        return DatabaseError(
            f"This database has cxdash schema version {version}, older than this cxdash ({SCHEMA_VERSION}). "
            "Upgrade it with `python -m cxdash init-db` (adds the new tables, keeps the data).",
            key="errors.older_schema",
            version=version,
            current=SCHEMA_VERSION,
        )
    if version > SCHEMA_VERSION:
        return DatabaseError(
            f"This database has cxdash schema version {version}, newer than this cxdash ({SCHEMA_VERSION}). "
            "Upgrade cxdash.",
            key="errors.newer_schema",
            version=version,
            current=SCHEMA_VERSION,
        )
    if missing:
        return DatabaseError(
            f"The cxdash tables {', '.join(missing)} are missing. "
            "Recreate the database with `python -m cxdash demo --force`.",
            key="errors.missing_tables",
            tables=", ".join(missing),
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
        raise unreadable_database(exc) from exc
    except SQLAlchemyError as exc:
        reason = driver_message(exc)
        raise DatabaseError(
            f"Cannot read the database: {reason}. Check that --db / CXDASH_DB_URL points at a cxdash "
            "database (a SQLite file made by `python -m cxdash demo` or `init-db`, or PostgreSQL).",
            key="errors.cannot_read_database",
            detail=reason,
        ) from exc
    problem = schema_problem(tables, version)
    if problem:
        raise problem
