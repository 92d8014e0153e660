"""The business-data version: a counter in app_meta that every write to a business table moves.

Triggers bump it in the writing transaction, so a reader sees the new version exactly when it can
see the new data, whoever wrote it (cxdash, another program, or someone at a SQL prompt). The
app's own tables (`app_*`) have no triggers: sessions and audit records leave the version alone.

PostgreSQL: one SECURITY DEFINER function and a FOR EACH STATEMENT trigger per table (INSERT,
UPDATE, DELETE, TRUNCATE). SQLite has no statement triggers: AFTER … FOR EACH ROW triggers.
Business "tables" that are views (a CRM mapped onto cxdash) get no trigger; run
`python -m cxdash refresh` after changing their data.
"""

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cxdash.db.schema import BUSINESS_TABLES, AppMeta
from cxdash.errors import DatabaseError, unreadable_database

DATA_VERSION_KEY = "data_version"
PG_FUNCTION = "cxdash_bump_data_version"
PG_TRIGGER = "cxdash_data_version"
SQLITE_EVENTS = ("insert", "update", "delete")


def sqlite_trigger_name(table: str, event: str) -> str:
    return f"cxdash_data_version_{table}_{event}"


def _row_lookup() -> sa.Select:
    return sa.select(AppMeta.value).where(AppMeta.key == DATA_VERSION_KEY)


def read_data_version(conn_or_engine: Connection | Engine) -> int:
    """The current data version (one primary-key lookup); 0 if the database has no counter yet."""
    try:
        if isinstance(conn_or_engine, Engine):
            with conn_or_engine.connect() as conn:
                value = conn.scalar(_row_lookup())
        else:
            value = conn_or_engine.scalar(_row_lookup())
    except sa.exc.SQLAlchemyError as exc:
        raise unreadable_database(exc, "the data version") from exc
    return 0 if value is None else int(value)


def set_data_version(conn: Connection, value: int) -> None:
    """Set the counter to `value`, creating its row if missing (inside the caller's transaction)."""
    updated = conn.execute(
        sa.update(AppMeta).where(AppMeta.key == DATA_VERSION_KEY).values(value=str(value))
    ).rowcount
    if not updated:
        conn.execute(sa.insert(AppMeta).values(key=DATA_VERSION_KEY, value=str(value)))


def bump_data_version(conn: Connection) -> int:
    """Add one to the counter inside the caller's transaction (creating it at 1) and return it."""
    # UPDATE first: it takes the row lock, so concurrent bumps serialise instead of losing one.
    conn.execute(
        sa.update(AppMeta)
        .where(AppMeta.key == DATA_VERSION_KEY)
        .values(value=sa.cast(sa.cast(AppMeta.value, sa.BigInteger) + 1, sa.Text))
    )
    version = conn.scalar(_row_lookup())
    if version is None:
        set_data_version(conn, 1)
        return 1
    return int(version)


def ensure_data_version(conn: Connection) -> int:
    """Create the counter at 1 if it is missing; return its value (inside the caller's transaction)."""
    version = conn.scalar(_row_lookup())
    if version is None:
        set_data_version(conn, 1)
        return 1
    return int(version)


def version_trigger_statements(
    dialect: str, tables: tuple[str, ...], *, schema: str | None = None
) -> list[str]:
    """The idempotent SQL that makes every write to `tables` bump the counter, one statement each.

    `schema` (PostgreSQL) is where app_meta lives: the function names it explicitly so that a
    writer with another search_path, or without rights on app_meta, still bumps the right row.
    """
    if dialect == "sqlite":
        bump = f"UPDATE app_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{DATA_VERSION_KEY}'"
        return [
            f"CREATE TRIGGER IF NOT EXISTS {sqlite_trigger_name(table, event)} "
            f"AFTER {event.upper()} ON {table} FOR EACH ROW BEGIN {bump}; END"
            for table in tables
            for event in SQLITE_EVENTS
        ]
    if dialect == "postgresql":
        prefix = '"{}".'.format(schema.replace('"', '""')) if schema else ""
        function = f"{prefix}{PG_FUNCTION}"
        statements = [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN "
            f"UPDATE {prefix}app_meta SET value = CAST(CAST(value AS bigint) + 1 AS text) "
            f"WHERE key = '{DATA_VERSION_KEY}'; RETURN NULL; END $$"
        ]
        for table in tables:
            # DROP + CREATE rather than CREATE OR REPLACE TRIGGER, which needs PostgreSQL 14.
            statements += [
                f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {prefix}{table}",
                f"CREATE TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {prefix}{table} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
        return statements
    raise DatabaseError(f"cxdash cannot install data-version triggers on {dialect}.")


def install_version_triggers(conn: Connection, dialect: str) -> list[str]:
    """Make every write to each business table bump the counter; return the tables it covers.

    Idempotent. Business tables that are views, or absent, are left out. Other databases than
    SQLite and PostgreSQL get no triggers (an empty list): their version moves on `refresh` only.
    """
    if dialect not in ("sqlite", "postgresql"):
        return []
    existing = set(sa.inspect(conn).get_table_names())  # base tables only, not views
    tables = tuple(t for t in BUSINESS_TABLES if t in existing)
    schema = conn.scalar(sa.text("SELECT current_schema()")) if dialect == "postgresql" else None
    for statement in version_trigger_statements(dialect, tables, schema=schema):
        conn.execute(sa.text(statement))
    return list(tables)


def version_triggers_installed(conn: Connection, dialect: str) -> set[str]:
    """The business tables that have cxdash's data-version triggers."""
    if dialect == "sqlite":
        names = set(conn.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        return {t for t in BUSINESS_TABLES if all(sqlite_trigger_name(t, e) in names for e in SQLITE_EVENTS)}
    if dialect == "postgresql":
        rows = conn.execute(
            sa.text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = :name AND c.relnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            ),
            {"name": PG_TRIGGER},
        )
        return {name for (name,) in rows if name in BUSINESS_TABLES}
    return set()
