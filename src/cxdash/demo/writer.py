"""Writes generated tables into a database in bulk, all or nothing.

SQLite: built in a temporary file next to the target and moved into place at the end.
PostgreSQL: drop, create and COPY inside one transaction (PostgreSQL's DDL is transactional).
Both use ADBC bulk ingestion; any other database goes through SQLAlchemy in one transaction.
"""

from collections.abc import Callable
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from cxdash.db.engine import adbc_uri, create_schema, make_engine, sqlite_path
from cxdash.db.schema import SCHEMA_VERSION, Base
from cxdash.errors import CxdashError, DatabaseError, InputError

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
            _write_sqlite(path, frames, progress)
        elif make_url(url).get_backend_name() == "postgresql":
            _write_postgres(url, frames, progress)
        else:
            _write_generic(url, frames, progress)
    except CxdashError:
        raise
    except Exception as exc:  # drivers raise their own types; all mean the same here
        raise DatabaseError(f"Writing the database failed, nothing was changed: {exc}") from exc


def _write_sqlite(path: Path, frames: dict[str, pl.DataFrame], progress: Callable[[str], None]) -> None:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        engine = make_engine(f"sqlite:///{tmp}", must_exist=False)
        create_schema(engine)
        engine.dispose()
        with adbc_sqlite.connect(str(tmp)) as conn, conn.cursor() as cur:
            for name, frame in frames.items():
                progress(f"writing {name} ({frame.height:,} rows)")
                cur.adbc_ingest(name, _for_sqlite(frame).to_arrow(), mode="append")
            conn.commit()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_postgres(url: str, frames: dict[str, pl.DataFrame], progress: Callable[[str], None]) -> None:
    import adbc_driver_postgresql.dbapi as adbc_pg

    dialect = postgresql.dialect()
    tables = Base.metadata.sorted_tables
    with adbc_pg.connect(adbc_uri(url)) as conn, conn.cursor() as cur:
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
        conn.commit()


def _write_generic(url: str, frames: dict[str, pl.DataFrame], progress: Callable[[str], None]) -> None:
    engine = make_engine(url, must_exist=False)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        Base.metadata.create_all(conn)
        for name, frame in frames.items():
            progress(f"writing {name} ({frame.height:,} rows)")
            if frame.height:
                conn.execute(Base.metadata.tables[name].insert(), frame.to_dicts())
    create_schema(engine)
