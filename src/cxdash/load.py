"""Every read of the database: SQLAlchemy `select()` objects in, Polars frames with explicit schemas out.

SQLite and PostgreSQL are read through ADBC (about 5× faster than through SQLAlchemy); any other
database through SQLAlchemy. Timestamps come back tz-aware UTC, enumerated text as `pl.Enum`,
open-ended labels as `pl.Categorical`, identifiers as text.
"""

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from cxdash.db.engine import adbc_uri, make_engine, sqlite_path
from cxdash.db.schema import BUSINESS_TABLES, Base
from cxdash.domain import CATEGORICAL_COLUMNS, ENUM_COLUMNS
from cxdash.errors import DatabaseError

_ROW_KIND = "__cxdash_row_kind"  # 0 = the typed sentinel row that pins ADBC SQLite's type inference

# Every timestamp column of the business tables, for data_as_of.
TIMESTAMP_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (table.name, column.name)
    for table in Base.metadata.sorted_tables
    if not table.name.startswith("app_")
    for column in table.columns
    if isinstance(column.type, sa.DateTime)
)


def polars_dtype(table: str, column: str) -> pl.DataType:
    """The Polars type of a contract column."""
    if (table, column) in ENUM_COLUMNS:
        return pl.Enum(ENUM_COLUMNS[(table, column)])
    if (table, column) in CATEGORICAL_COLUMNS:
        return pl.Categorical()
    sa_type = Base.metadata.tables[table].columns[column].type
    if isinstance(sa_type, sa.DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(sa_type, sa.Date):
        return pl.Date()
    if isinstance(sa_type, sa.Boolean):
        return pl.Boolean()
    if isinstance(sa_type, sa.Integer):
        return pl.Int64() if Base.metadata.tables[table].columns[column].primary_key else pl.Int32()
    if isinstance(sa_type, sa.Numeric | sa.Float):
        return pl.Float64()
    return pl.String()


def table_schema(table: str, columns: Sequence[str] | None = None) -> dict[str, pl.DataType]:
    """Column → Polars type for `columns` (default: all) of a contract table."""
    names = columns or [c.name for c in Base.metadata.tables[table].columns]
    return {name: polars_dtype(table, name) for name in names}


def _wire_type(sa_type: sa.types.TypeEngine, *, sqlite: bool) -> sa.types.TypeEngine | None:
    """What to CAST a column to in SQL so every driver returns one Arrow type per column."""
    if isinstance(sa_type, sa.Numeric | sa.Float):
        return sa.Float()
    if not sqlite:
        return None
    if isinstance(sa_type, sa.Integer | sa.Boolean):
        return sa.Integer()
    return sa.Text()  # text, and SQLite's timestamps and dates, which are ISO text


def _sentinel(sa_type: sa.types.TypeEngine) -> object:
    if isinstance(sa_type, sa.Numeric | sa.Float):
        return 0.0
    if isinstance(sa_type, sa.Integer | sa.Boolean):
        return 0
    return ""


def table_select(table: str, columns: Sequence[str] | None, *, dialect: str) -> sa.Select:
    """SELECT of the wanted columns with casts; on SQLite led by one typed sentinel row."""
    sa_table = Base.metadata.tables[table]
    names = columns or [c.name for c in sa_table.columns]
    unknown = [n for n in names if n not in sa_table.columns]
    if unknown:
        raise ValueError(f"{table} has no column(s) {unknown}")
    sqlite = dialect == "sqlite"

    def wired(name: str) -> sa.ColumnElement:
        column = sa_table.columns[name]
        wire = _wire_type(column.type, sqlite=sqlite)
        return (sa.cast(column, wire) if wire is not None else column).label(name)

    if not sqlite:
        return sa.select(*(wired(n) for n in names))
    sentinel = sa.select(
        sa.literal(0).label(_ROW_KIND),
        *(
            sa.cast(
                sa.literal(_sentinel(sa_table.columns[n].type)),
                _wire_type(sa_table.columns[n].type, sqlite=True),
            ).label(n)
            for n in names
        ),
    )
    rows = sa.select(sa.literal(1).label(_ROW_KIND), *(wired(n) for n in names))
    return sa.union_all(sentinel, rows)


def parse_timestamp_text(column: pl.Expr) -> pl.Expr:
    """ISO-8601 text as stored by SQLite ('2026-07-01 08:00:00[.ffffff]', 'T' or a UTC suffix allowed)."""
    return (
        column.str.replace("T", " ", literal=True)
        .str.replace(r"(Z|[+-]00:?00)$", "")
        .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_zone="UTC", strict=False)
    )


def _datetime_to_utc(column: pl.Expr, wire: pl.DataType) -> pl.Expr:
    """Any driver's timestamp (ISO text, naive UTC or tz-aware) as microsecond UTC."""
    if wire == pl.String:
        return parse_timestamp_text(column)
    if getattr(wire, "time_zone", None) is None:
        return column.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return column.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC"))


def _normalise(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Cast wire types to the contract's Polars types."""
    schema = table_schema(table, [c for c in frame.columns if c != _ROW_KIND])
    casts = []
    for name, dtype in schema.items():
        wire = frame.schema[name]
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            casts.append(_datetime_to_utc(col, wire))
        elif isinstance(dtype, pl.Date) and wire == pl.String:
            casts.append(col.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
        else:
            casts.append(col.cast(dtype))
    try:
        return frame.select(casts)
    except pl.exceptions.InvalidOperationError as exc:
        raise DatabaseError(
            f"Table {table} holds a value outside the cxdash contract ({exc}). "
            "See SCHEMA.md for the allowed values, and fix or re-import the data."
        ) from exc


def read_table(url: str, table: str, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """The wanted columns of a contract table as a typed Polars frame."""
    backend = make_url(url).get_backend_name()
    query = table_select(table, columns, dialect=backend)
    try:
        if backend == "sqlite" and sqlite_path(url) is not None:
            frame = _read_adbc_sqlite(url, query)
        elif backend == "postgresql":
            frame = _read_adbc_postgres(url, query)
        else:
            engine = make_engine(url)
            with engine.connect() as conn:
                frame = pl.read_database(query, conn)
    except DatabaseError:
        raise
    except Exception as exc:  # driver errors have no common base class
        raise DatabaseError(f"Cannot read table {table}: {exc}. Check --db / CXDASH_DB_URL.") from exc
    return _normalise(frame, table)


def read_tables(url: str, wanted: dict[str, Sequence[str] | None]) -> dict[str, pl.DataFrame]:
    """Several tables at once (table → columns, None = all), read side by side: the drivers release
    the GIL while they fetch, so two cores load the KPI tables about 1.4× faster."""
    with ThreadPoolExecutor(max_workers=min(4, len(wanted) or 1)) as pool:
        futures = {table: pool.submit(read_table, url, table, columns) for table, columns in wanted.items()}
        return {table: future.result() for table, future in futures.items()}


def _compiled(query: sa.Select | sa.CompoundSelect, dialect: sa.engine.Dialect) -> str:
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _read_adbc_sqlite(url: str, query: sa.CompoundSelect) -> pl.DataFrame:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    path = sqlite_path(url)
    if path is None or not path.exists():
        raise DatabaseError(f"Database file {path} does not exist. Create it with `python -m cxdash demo`.")
    # Read-only URI: a reader never creates or locks the file for writing.
    with adbc_sqlite.connect(f"file:{path.resolve()}?mode=ro") as conn, conn.cursor() as cur:
        cur.execute(_compiled(query, sqlite.dialect()))
        frame = pl.from_arrow(cur.fetch_arrow_table())
    return frame.filter(pl.col(_ROW_KIND) == 1).drop(_ROW_KIND)


def _read_adbc_postgres(url: str, query: sa.Select) -> pl.DataFrame:
    import adbc_driver_postgresql.dbapi as adbc_pg

    with adbc_pg.connect(adbc_uri(url)) as conn, conn.cursor() as cur:
        cur.execute(_compiled(query, postgresql.dialect()))
        return pl.from_arrow(cur.fetch_arrow_table())


def _as_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return pl.select(parse_timestamp_text(pl.lit(value))).item()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_data_span(url: str) -> tuple[datetime | None, datetime | None]:
    """(earliest ticket or order, data_as_of = latest timestamp anywhere in the business tables)."""
    tables = Base.metadata.tables
    latest = [sa.select(sa.func.max(tables[t].c[c]).label("t")) for t, c in TIMESTAMP_COLUMNS]
    earliest = [
        sa.select(sa.func.min(tables["tickets"].c.created_at).label("t")),
        sa.select(sa.func.min(tables["orders"].c.ordered_at).label("t")),
    ]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # Raw values: SQLite returns ISO text, PostgreSQL datetimes; both are normalised to UTC.
            late = [_as_utc(conn.execute(q).scalar()) for q in latest]
            early = [_as_utc(conn.execute(q).scalar()) for q in earliest]
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"Cannot read the database: {exc}. Check --db / CXDASH_DB_URL.") from exc
    finally:
        engine.dispose()
    return _min_or_none(early), max((t for t in late if t is not None), default=None)


def _min_or_none(values: Iterable[datetime | None]) -> datetime | None:
    return min((v for v in values if v is not None), default=None)


def read_business_version(url: str) -> str:
    """A fingerprint of the business tables that the app's own writes (sessions, audit) leave alone.

    SQLite: the largest rowid of each business table, which every insert moves, read in O(1).
    Other databases: data_as_of (the latest timestamp anywhere in the business tables).
    """
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                parts = [
                    str(conn.execute(sa.text(f"SELECT max(rowid) FROM {table}")).scalar())
                    for table in BUSINESS_TABLES
                ]
                return "rowid:" + ",".join(parts)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"Cannot read the database: {exc}. Check --db / CXDASH_DB_URL.") from exc
    finally:
        engine.dispose()
    _, data_as_of = read_data_span(url)
    return f"as_of:{data_as_of.isoformat() if data_as_of else '-'}"
