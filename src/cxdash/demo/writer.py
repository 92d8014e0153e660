"""Writes generated tables into a database in bulk, all or nothing.

SQLite: built in a temporary file next to the target and moved into place at the end.
PostgreSQL: drop, create and COPY inside one transaction (PostgreSQL's DDL is transactional).
Both use ADBC bulk ingestion; any other database goes through SQLAlchemy in one transaction.
The data-version triggers are installed after the rows are in (SQLite's fire per row), still inside
the all-or-nothing write, and the data version is set one above the replaced database's, so that
nothing cached for the old data is taken for the new.
"""

from collections.abc import Callable
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from cxdash.db.engine import adbc_uri, make_engine, record_schema, sqlite_path
from cxdash.db.schema import BUSINESS_TABLES, SCHEMA_VERSION, Base
from cxdash.db.version import DATA_VERSION_KEY, read_data_version, version_trigger_statements
from cxdash.errors import CxdashError, DatabaseError, InputError
from cxdash.snapshot import remove_snapshots

SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S%.6f"  # SQLAlchemy's own SQLite format, so both read it back


def _for_sqlite(frame: pl.DataFrame) -> pl.DataFrame:
    """SQLite has no date, time or bool types: store SQLAlchemy's text formats and 0/1."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.strftime(SQLITE_TIMESTAMP),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col(pl.Boolean).cast(pl.Int8),
    )


def _for_postgres(frame: pl.DataFrame, table: sa.Table) -> pl.DataFrame:
    """COPY needs the exact column types: int4 for Integer, numeric for Numeric."""
    casts = []
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        if isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Float):
            casts.append(pl.col(column.name).cast(pl.Decimal(column.type.precision, column.type.scale)))
        elif isinstance(column.type, sa.Integer):
            casts.append(pl.col(column.name).cast(pl.Int32))
    return frame.with_columns(casts)


def _database_has_tables(url: str) -> bool:
    engine = make_engine(url, must_exist=False)
    try:
        return bool(set(sa.inspect(engine).get_table_names()) & set(Base.metadata.tables))
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"Cannot open the database: {exc}. Check --db / CXDASH_DB_URL.") from exc
    finally:
        engine.dispose()


def _previous_data_version(url: str) -> int:
    """The data version of the database about to be replaced; 0 if there is none."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return 0
    engine = make_engine(url, must_exist=False)
    try:
        if "app_meta" not in sa.inspect(engine).get_table_names():
            return 0
        return read_data_version(engine)
    except (sa.exc.SQLAlchemyError, DatabaseError, ValueError):
        return 0  # unreadable: the old data is replaced anyway
    finally:
        engine.dispose()


def write_tables(
    url: str,
    frames: dict[str, pl.DataFrame],
    *,
    force: bool,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Write `frames` as the database's whole content; refuse to touch existing data unless `force`."""
    path = sqlite_path(url)
    if path is not None and path.exists() and not force:
        raise InputError(f"{path} already exists. Add --force to replace it.")
    if path is None and _database_has_tables(url) and not force:
        raise InputError("The database already has cxdash tables. Add --force to replace them.")
    try:
        if path is not None:
            _write_sqlite(path, frames, progress, data_version=_previous_data_version(url) + 1)
            remove_snapshots(url)  # of the replaced file, whatever its version was
        elif make_url(url).get_backend_name() == "postgresql":
            _write_postgres(url, frames, progress)
        else:
            _write_generic(url, frames, progress, data_version=_previous_data_version(url) + 1)
    except CxdashError:
        raise
    except Exception as exc:  # drivers raise their own types; all mean the same here
        raise DatabaseError(f"Writing the database failed, nothing was changed: {exc}") from exc


def _write_sqlite(
    path: Path, frames: dict[str, pl.DataFrame], progress: Callable[[str], None], *, data_version: int
) -> None:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}", must_exist=False)
    try:
        Base.metadata.create_all(engine)  # no triggers yet: they would fire once per row
        with adbc_sqlite.connect(str(tmp)) as conn, conn.cursor() as cur:
            for name, frame in frames.items():
                progress(f"writing {name} ({frame.height:,} rows)")
                cur.adbc_ingest(name, _for_sqlite(frame).to_arrow(), mode="append")
            conn.commit()
        with engine.begin() as conn:
            record_schema(conn, "sqlite", data_version=data_version)
        engine.dispose()
        tmp.replace(path)
    finally:
        engine.dispose()
        tmp.unlink(missing_ok=True)


def _write_postgres(url: str, frames: dict[str, pl.DataFrame], progress: Callable[[str], None]) -> None:
    import adbc_driver_postgresql.dbapi as adbc_pg

    dialect = postgresql.dialect()
    tables = Base.metadata.sorted_tables
    with adbc_pg.connect(adbc_uri(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_schema(), to_regclass('app_meta') IS NOT NULL")
        schema, has_meta = cur.fetchone()
        previous = 0
        if has_meta:
            cur.execute(f"SELECT value FROM app_meta WHERE key = '{DATA_VERSION_KEY}'")
            row = cur.fetchone()
            previous = int(row[0]) if row and str(row[0]).isdigit() else 0
        for table in reversed(tables):
            cur.execute(str(DropTable(table, if_exists=True).compile(dialect=dialect)) + " CASCADE")
        for table in tables:
            cur.execute(str(CreateTable(table).compile(dialect=dialect)))
            for index in table.indexes:
                cur.execute(str(CreateIndex(index).compile(dialect=dialect)))
        cur.execute(f"INSERT INTO app_meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')")
        for name, frame in frames.items():
            progress(f"writing {name} ({frame.height:,} rows)")
            cur.adbc_ingest(name, _for_postgres(frame, Base.metadata.tables[name]).to_arrow(), mode="append")
        # After the rows: statement triggers would cost little, but COPY needs none.
        cur.execute(f"INSERT INTO app_meta (key, value) VALUES ('{DATA_VERSION_KEY}', '{previous + 1}')")
        for statement in version_trigger_statements("postgresql", BUSINESS_TABLES, schema=schema):
            cur.execute(statement)
        conn.commit()


def _write_generic(
    url: str, frames: dict[str, pl.DataFrame], progress: Callable[[str], None], *, data_version: int
) -> None:
    engine = make_engine(url, must_exist=False)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        Base.metadata.create_all(conn)
        for name, frame in frames.items():
            progress(f"writing {name} ({frame.height:,} rows)")
            if frame.height:
                conn.execute(Base.metadata.tables[name].insert(), frame.to_dicts())
        record_schema(conn, engine.dialect.name, data_version=data_version)
