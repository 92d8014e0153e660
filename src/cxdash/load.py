"""Every read of the database: SQLAlchemy `select()` objects in, Polars frames with explicit schemas out.

SQLite and PostgreSQL are read through ADBC (about 5× faster than through SQLAlchemy); any other
database through SQLAlchemy. Timestamps come back tz-aware UTC, enumerated text as `pl.Enum`,
open-ended labels as `pl.Categorical`, identifiers as text.
"""

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from cxdash.business_hours import (
    DEFAULT_SETUP,
    CalendarSetup,
    WorkingHours,
    business_seconds_expr,
    compile_working_hours,
)
from cxdash.db.calendars import read_calendar_setup
from cxdash.db.engine import adbc_uri, shared_engine, sqlite_path
from cxdash.db.schema import Base
from cxdash.domain import CATEGORICAL_COLUMNS, ENUM_COLUMNS
from cxdash.errors import DatabaseError, InputError, driver_message, unreadable_database
from cxdash.periods import DataSpan

_ROW_KIND = "__cxdash_row_kind"  # 0 = the typed sentinel row that pins ADBC SQLite's type inference

# Every timestamp column of the business tables, for data_as_of.
TIMESTAMP_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (table.name, column.name)
    for table in Base.metadata.sorted_tables
    if not table.name.startswith("app_")
    for column in table.columns
    if isinstance(column.type, sa.DateTime)
)


# The columns of every business table that some view reads: the one declaration of what is loaded.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "teams": ("team_id", "name"),
    "agents": ("agent_id", "name", "team_id", "hired_on", "active"),
    "customers": (
        "customer_id", "name", "email", "phone", "city", "region", "segment", "acquisition_channel",
        "signup_at", "is_loyalty_member",
    ),
    "orders": ("order_id", "customer_id", "ordered_at", "amount", "product_category", "status"),
    "tickets": (
        "ticket_id", "customer_id", "order_id", "channel", "created_at", "first_response_at", "resolved_at",
        "closed_at", "status", "priority", "is_complaint", "category", "root_cause", "severity", "team_id",
        "agent_id", "reopen_count", "agent_replies", "reassign_count", "escalated", "bot_handled", "subject",
    ),
    "ticket_events": ("ticket_id", "occurred_at", "stage", "agent_id"),
    "surveys": (
        "survey_id", "kind", "customer_id", "ticket_id", "sent_at", "responded_at", "score", "rating_speed",
        "rating_resolution", "rating_attitude", "rating_knowledge", "comment",
    ),
    "loyalty_ledger": ("customer_id", "occurred_at", "points", "reason"),
    "sla_policies": ("priority", "first_response_target_min", "resolution_target_min"),
    "kpi_targets": ("metric", "team_id", "period", "target"),
    "annotations": ("on_date", "label"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Frames:
    """Every business table a view reads, as LazyFrames with the contract's names and types.

    `working_hours` are the business calendars compiled over the data's span (the business clock), and
    `tickets` carries the working seconds of its timestamps on that clock (WORKING_SECONDS);
    `history_from` is the first completed order in the whole data (the start of the order history,
    METRICS.md "History"); `ticket_filtered` is set when a team or channel filter (or a team lead's
    access) applies, which makes customer-side KPIs about the customers served (METRICS.md "Scope").
    """

    teams: pl.LazyFrame
    agents: pl.LazyFrame
    customers: pl.LazyFrame
    orders: pl.LazyFrame
    tickets: pl.LazyFrame
    ticket_events: pl.LazyFrame
    surveys: pl.LazyFrame
    loyalty_ledger: pl.LazyFrame
    sla_policies: pl.LazyFrame
    kpi_targets: pl.LazyFrame
    annotations: pl.LazyFrame
    working_hours: WorkingHours
    history_from: datetime | None = None
    ticket_filtered: bool = False

    def tables(self) -> dict[str, pl.LazyFrame]:
        """Table name → LazyFrame, in TABLE_COLUMNS order."""
        return {name: getattr(self, name) for name in TABLE_COLUMNS}

    def with_tables(self, **tables: pl.LazyFrame) -> "Frames":
        return replace(self, **tables)

    def with_flags(self, *, ticket_filtered: bool) -> "Frames":
        return replace(self, ticket_filtered=ticket_filtered)


def empty_table(table: str) -> pl.DataFrame:
    """A typed frame of `table` with no rows."""
    return pl.DataFrame(schema=table_schema(table, TABLE_COLUMNS[table]))


# Durations that start in the data end up to this long after data_as_of (a ticket resolved later
# still counts): the working hours are compiled that far ahead.
WORKING_HOURS_AHEAD = timedelta(days=400)


def frames_from_tables(tables: Mapping[str, pl.DataFrame], setup: CalendarSetup = DEFAULT_SETUP) -> Frames:
    """Frames from eager tables (missing ones empty), with the start of the order history and the
    working hours of `setup` compiled from the day before the first ticket to 400 days after the
    latest timestamp in the tables."""
    full = {name: tables.get(name, empty_table(name)) for name in TABLE_COLUMNS}
    history_from = (
        full["orders"].filter(pl.col("status") == "completed").select(pl.col("ordered_at").min()).item()
    )
    first_day, last_day = _working_days(full)
    hours = compile_working_hours(setup, first_day=first_day, last_day=last_day)
    full["tickets"] = with_working_seconds(full["tickets"], hours)
    return Frames(
        **{name: frame.lazy() for name, frame in full.items()},
        working_hours=hours,
        history_from=history_from,
    )


# The ticket timestamps durations are measured between, and the column that holds each one's working
# seconds (on the ticket's team calendar) since the start of the compiled range: computed once per
# data version, so a business-hours duration between two of them is a subtraction.
WORKING_SECONDS = {
    "created_at": "created_at_work_s",
    "first_response_at": "first_response_at_work_s",
    "resolved_at": "resolved_at_work_s",
}


def with_working_seconds(tickets: pl.DataFrame, hours: WorkingHours) -> pl.DataFrame:
    """`tickets` with a WORKING_SECONDS column (Float64, null where the timestamp is) per timestamp."""
    origin = pl.lit(datetime.combine(hours.first_day, datetime.min.time(), UTC))
    calendar = hours.calendar_index_expr(pl.col("team_id").cast(pl.String))
    return tickets.with_columns(
        business_seconds_expr(origin, pl.col(column), calendar, hours).alias(name)
        for column, name in WORKING_SECONDS.items()
    )


def _working_days(tables: Mapping[str, pl.DataFrame]) -> tuple[date, date]:
    """(first ticket day − 1, data_as_of day + WORKING_HOURS_AHEAD), UTC days; the day before absorbs
    a display timezone ahead of UTC. Without tickets or timestamps: around today."""
    latest = [tables[t][c].max() for t, c in TIMESTAMP_COLUMNS if t in tables and c in tables[t].columns]
    data_as_of = max((v for v in latest if v is not None), default=None) or datetime.now(UTC)
    first_ticket = (
        tables["tickets"]["created_at"].min() if "created_at" in tables["tickets"].columns else None
    )
    first = (first_ticket or data_as_of).date() - timedelta(days=1)
    return first, (data_as_of + WORKING_HOURS_AHEAD).date()


def read_frames(url: str, *, version: str | None = None) -> Frames:
    """Every business table, typed, and the business calendars; from the Parquet snapshot of `version`
    when given (SQLite)."""
    setup = read_calendar_setup(shared_engine(url))
    if version is None:
        tables = read_tables(url, TABLE_COLUMNS)
    else:
        from cxdash.snapshot import read_tables_snapshot  # the snapshot reads through this module

        tables = read_tables_snapshot(url, TABLE_COLUMNS, version=version)
    try:
        return frames_from_tables(tables, setup)
    except InputError as exc:  # cxdash writes only valid setups: this one was changed by hand
        raise DatabaseError(
            f"The business calendars stored in the database are not valid: {exc} Fix the rows of "
            "app_calendars and app_calendar_hours, or delete every app_calendar* and app_sla_clocks row "
            "(the default calendar then applies), then run `python -m cxdash refresh`.",
            key="errors.bad_stored_calendars",
            detail=str(exc),
        ) from exc


def read_span(url: str) -> DataSpan:
    """The data's span; InputError on a database with no tickets or orders."""
    first, last = read_data_span(url)
    if first is None or last is None:
        raise InputError(
            "The database has no tickets or orders yet. Import data or run `python -m cxdash demo`.",
            key="errors.no_data_yet",
        )
    return DataSpan(first=first, data_as_of=last)


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
            "See SCHEMA.md for the allowed values, and fix or re-import the data.",
            key="errors.value_outside_contract",
            table=table,
            detail=str(exc),
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
            with shared_engine(url).connect() as conn:
                frame = pl.read_database(query, conn)
    except DatabaseError:
        raise
    except Exception as exc:  # driver errors have no common base class
        reason = driver_message(exc)
        raise DatabaseError(
            f"Cannot read table {table}: {reason}. Check --db / CXDASH_DB_URL.",
            key="errors.cannot_read_table",
            table=table,
            detail=reason,
        ) from exc
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
        raise DatabaseError(
            f"Database file {path} does not exist. Create it with `python -m cxdash demo`.",
            key="errors.no_database_file",
            path=str(path),
        )
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
    """(earliest ticket — or order when there are no tickets —, data_as_of = latest timestamp anywhere in
    the business tables)."""
    tables = Base.metadata.tables
    latest = [sa.select(sa.func.max(tables[t].c[c]).label("t")) for t, c in TIMESTAMP_COLUMNS]
    earliest = [
        sa.select(sa.func.min(tables["tickets"].c.created_at).label("t")),
        sa.select(sa.func.min(tables["orders"].c.ordered_at).label("t")),
    ]
    try:
        with shared_engine(url).connect() as conn:
            # Raw values: SQLite returns ISO text, PostgreSQL datetimes; both are normalised to UTC.
            late = [_as_utc(conn.execute(q).scalar()) for q in latest]
            early = [_as_utc(conn.execute(q).scalar()) for q in earliest]
    except sa.exc.SQLAlchemyError as exc:
        raise unreadable_database(exc) from exc
    # The periods start with the service data: a CRM's order history is often years older than its
    # helpdesk, and quarters with orders but no tickets would show empty service KPIs (the older orders
    # still count as history for churn, repeat rate and RFM).
    first_ticket, first_order = early
    return first_ticket or first_order, max((t for t in late if t is not None), default=None)
