"""Aggregate tables in the database: written as one set in one transaction, stamped, read back.

The `agg_*` tables are derived data owned by this module, outside the contract's business tables:
`init-db` and the schema version do not know them (a database without them is complete), writing
them does not move the data version (no triggers), and `agg_meta` records the data version, data_as_of
and time zone they were built from, so a reader can refuse a stale set. SQLite and PostgreSQL are
written through ADBC bulk ingestion, any other database through SQLAlchemy; either way the old set is
dropped and the new one created and filled in one transaction, so readers see the old set or the new.
Reads go the same ways (ADBC, else SQLAlchemy) and fetch only the days asked for (DayRange): a quarter's
KPIs read a few days of each table, not the whole set.
"""

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateTable, DropTable

from cxdash.aggregates.definitions import (
    AGGREGATE_BY_NAME,
    AGGREGATES,
    DURATION_EDGES_S,
    META_TABLE,
    AggregateTable,
    conform,
)
from cxdash.db.engine import adbc_uri, shared_engine, sqlite_path
from cxdash.errors import DatabaseError, driver_message

# load.py's ADBC readers (read-only SQLite URI, sentinel row dropped): one way of reading for all tables
from cxdash.load import _ROW_KIND as ROW_KIND
from cxdash.load import _read_adbc_postgres as read_adbc_postgres
from cxdash.load import _read_adbc_sqlite as read_adbc_sqlite

_SQL_TYPES = {"date": sa.Date, "text": sa.Text, "int": sa.BigInteger}
# A set built with other bin edges reads wrongly: the meta records which edges it used.
EDGES_STAMP = f"{len(DURATION_EDGES_S)}:{DURATION_EDGES_S[-1]}"


@dataclass(frozen=True, slots=True)
class AggregateMeta:
    """What an aggregate set was built from."""

    data_version: int
    data_as_of: datetime
    history_from: datetime | None
    tz: str
    engine: str
    built_at: datetime
    edges: str = EDGES_STAMP

    def as_rows(self) -> list[dict[str, str]]:
        values = {
            "data_version": str(self.data_version),
            "data_as_of": self.data_as_of.isoformat(),
            "history_from": self.history_from.isoformat() if self.history_from else "",
            "tz": self.tz,
            "engine": self.engine,
            "built_at": self.built_at.isoformat(),
            "edges": self.edges,
        }
        return [{"key": k, "value": v} for k, v in values.items()]

    @classmethod
    def from_rows(cls, rows: Mapping[str, str]) -> "AggregateMeta":
        return cls(
            data_version=int(rows["data_version"]),
            data_as_of=datetime.fromisoformat(rows["data_as_of"]).astimezone(UTC),
            history_from=datetime.fromisoformat(rows["history_from"]).astimezone(UTC)
            if rows.get("history_from")
            else None,
            tz=rows["tz"],
            engine=rows["engine"],
            built_at=datetime.fromisoformat(rows["built_at"]),
            edges=rows.get("edges", ""),
        )


@dataclass(frozen=True, slots=True)
class AggregateSet:
    """Every aggregate table (name → frame) and what they were built from."""

    tables: dict[str, pl.DataFrame]
    meta: AggregateMeta


_metadata = sa.MetaData()
SQL_TABLES: dict[str, sa.Table] = {
    table.name: sa.Table(
        table.name,
        _metadata,
        *(sa.Column(c.name, _SQL_TYPES[c.type]()) for c in table.columns),
    )
    for table in AGGREGATES
}
SQL_TABLES[META_TABLE] = sa.Table(
    META_TABLE, _metadata, sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text)
)


def _ddl(dialect: sa.engine.Dialect) -> list[str]:
    """DROP and CREATE of every aggregate table (the old set goes, whatever it held)."""
    drops = [str(DropTable(t, if_exists=True).compile(dialect=dialect)) for t in SQL_TABLES.values()]
    return drops + [str(CreateTable(t).compile(dialect=dialect)).strip() for t in SQL_TABLES.values()]


def write_aggregates(url: str, aggregates: AggregateSet) -> None:
    """Replace the aggregate set in the database at `url`, in one transaction."""
    frames = {name: conform(frame, AGGREGATE_BY_NAME[name]) for name, frame in aggregates.tables.items()}
    frames[META_TABLE] = pl.DataFrame(
        aggregates.meta.as_rows(), schema={"key": pl.String, "value": pl.String}
    )
    backend = make_url(url).get_backend_name()
    try:
        if backend == "sqlite" and sqlite_path(url) is not None:
            _write_adbc_sqlite(url, frames)
        elif backend == "postgresql":
            _write_adbc_postgres(url, frames)
        else:
            _write_generic(url, frames)
    except Exception as exc:  # drivers raise their own types; all mean the same here
        raise DatabaseError(
            f"Writing the aggregates failed, nothing was changed: {driver_message(exc)}"
        ) from exc


def _write_adbc_sqlite(url: str, frames: dict[str, pl.DataFrame]) -> None:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    with adbc_sqlite.connect(str(sqlite_path(url))) as conn, conn.cursor() as cur:
        for statement in _ddl(sqlite.dialect()):
            cur.execute(statement)
        for name, frame in frames.items():
            cur.adbc_ingest(name, frame.to_arrow(), mode="append")
        conn.commit()


def _write_adbc_postgres(url: str, frames: dict[str, pl.DataFrame]) -> None:
    import adbc_driver_postgresql.dbapi as adbc_pg

    with adbc_pg.connect(adbc_uri(url)) as conn, conn.cursor() as cur:
        for statement in _ddl(postgresql.dialect()):
            cur.execute(statement)
        for name, frame in frames.items():
            cur.adbc_ingest(name, frame.to_arrow(), mode="append")
        conn.commit()


def _write_generic(url: str, frames: dict[str, pl.DataFrame]) -> None:
    engine = shared_engine(url)
    with engine.begin() as conn:
        for statement in _ddl(engine.dialect):
            conn.exec_driver_sql(statement)
        for name, frame in frames.items():
            if frame.height:
                conn.execute(SQL_TABLES[name].insert(), frame.to_dicts())


def has_aggregates(url: str) -> bool:
    """The database holds an aggregate set."""
    return META_TABLE in sa.inspect(shared_engine(url)).get_table_names()


def read_meta(url: str) -> AggregateMeta | None:
    """What the stored set was built from; None without a set."""
    if not has_aggregates(url):
        return None
    with shared_engine(url).connect() as conn:
        rows = dict(conn.execute(sa.select(SQL_TABLES[META_TABLE])).all())
    return AggregateMeta.from_rows(rows)


@dataclass(frozen=True, slots=True)
class DayRange:
    """The rows of a table whose date `column` is in [start, end) (None: unbounded on that side)."""

    column: str
    start: date | None = None
    end: date | None = None

    def union(self, other: "DayRange") -> "DayRange":
        """The smallest range holding both (of the same column)."""
        lows, highs = (self.start, other.start), (self.end, other.end)
        return DayRange(
            self.column,
            None if None in lows else min(lows),  # type: ignore[type-var]
            None if None in highs else max(highs),  # type: ignore[type-var]
        )


def _select(
    table: AggregateTable, rows: DayRange | None, *, sqlite_wire: bool
) -> sa.Select | sa.CompoundSelect:
    """SELECT of the table's rows in `rows`; on SQLite every column cast to one wire type and led by a
    typed sentinel row, which pins ADBC's type inference (a first batch of nulls would not)."""
    sa_table = SQL_TABLES[table.name]
    where = []
    if rows is not None:
        column = sa_table.c[rows.column]
        where += [column >= rows.start] if rows.start is not None else []
        where += [column < rows.end] if rows.end is not None else []
    if not sqlite_wire:
        return sa.select(sa_table).where(*where)
    wire = {c.name: sa.Integer() if c.type == "int" else sa.Text() for c in table.columns}
    sentinel = sa.select(
        sa.literal(0).label(ROW_KIND),
        *(sa.cast(sa.literal(0 if isinstance(w, sa.Integer) else ""), w).label(n) for n, w in wire.items()),
    )
    body = sa.select(
        sa.literal(1).label(ROW_KIND), *(sa.cast(sa_table.c[n], w).label(n) for n, w in wire.items())
    ).where(*where)
    return sa.union_all(sentinel, body)


def first_day(url: str) -> date | None:
    """The first local day with a ticket, or else with a completed order, in the stored set."""
    with shared_engine(url).connect() as conn:
        for name in ("agg_tickets", "agg_orders"):
            day = conn.execute(sa.select(sa.func.min(SQL_TABLES[name].c.day))).scalar()
            if day is not None:
                return day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return None


def _read_table(url: str, table: AggregateTable, rows: DayRange | None) -> pl.DataFrame:
    """The table's rows in `rows`, typed (SQLite returns dates as ISO text)."""
    backend = make_url(url).get_backend_name()
    try:
        if backend == "sqlite" and sqlite_path(url) is not None:
            frame = read_adbc_sqlite(url, _select(table, rows, sqlite_wire=True))
        elif backend == "postgresql":
            frame = read_adbc_postgres(url, _select(table, rows, sqlite_wire=False))
        else:
            with shared_engine(url).connect() as conn:
                query = _select(table, rows, sqlite_wire=False)
                frame = pl.read_database(query, conn, infer_schema_length=None)
    except DatabaseError:
        raise
    except Exception as exc:  # drivers raise their own types
        raise DatabaseError(
            f"Cannot read the aggregate table {table.name}: {driver_message(exc)}. "
            "Rebuild the aggregates with `python -m cxdash aggregates`.",
            key="errors.no_aggregates",
        ) from exc
    dates = [c.name for c in table.columns if c.type == "date" and frame.schema.get(c.name) == pl.String]
    frame = frame.with_columns(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d") for name in dates)
    return conform(frame, table)


def read_aggregates(
    url: str, names: tuple[str, ...] | None = None, rows: Mapping[str, DayRange] | None = None
) -> AggregateSet:
    """The stored set (or the tables `names` of it; of a table in `rows`, only the rows in its range),
    read side by side; DatabaseError without a set."""
    meta = read_meta(url)
    if meta is None:
        raise DatabaseError(
            "This database holds no aggregates yet. Build them with `python -m cxdash aggregates`.",
            key="errors.no_aggregates",
        )
    wanted = [t for t in AGGREGATES if names is None or t.name in names]
    ranges = rows or {}
    with ThreadPoolExecutor(max_workers=min(4, len(wanted) or 1)) as pool:
        futures = {t.name: pool.submit(_read_table, url, t, ranges.get(t.name)) for t in wanted}
        return AggregateSet(tables={name: f.result() for name, f in futures.items()}, meta=meta)
