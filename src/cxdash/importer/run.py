"""An import from start to end: prepare (read, map, cast, shape, check against the database: nothing
written) and commit (one transaction: upserts, the batch record, the audit record; the data-version
triggers move the version in the same transaction, so every page sees all of it or none)."""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from cxdash.auth.store import write_audit
from cxdash.db.schema import AppImportBatch, Base
from cxdash.errors import CxdashError, InputError, driver_message
from cxdash.importer.cast import ERROR_SCHEMA, cast_file
from cxdash.importer.files import ROW_COLUMN, Limits, TextTable, read_text_table
from cxdash.importer.mapping import Mapping, dump_mapping
from cxdash.importer.shape import NUMBERED, PRIMARY_KEYS, ROWS, shape, with_defaults

Progress = Callable[[str, int, int], None]  # (stage: read | checked | written, done, total)
WRITE_ORDER: Final = (
    "teams", "agents", "customers", "orders", "tickets", "ticket_events", "surveys",
    "loyalty_ledger", "sla_policies", "kpi_targets", "annotations",
)  # fmt: skip
CHUNK_ROWS: Final = 5_000
MAX_BIND_PARAMS: Final = 30_000  # PostgreSQL allows 65,535 per statement, SQLite 32,766
PLAN_SCHEMA: Final = {
    "table": pl.String, "rows": pl.Int64, "new": pl.Int64, "existing": pl.Int64, "on_existing": pl.String,
}  # fmt: skip


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Previous:
    """The earlier import of the same file."""

    batch_id: int
    at: datetime
    username: str | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything an import would write, and why it may not: the per-row errors, the plan per table
    (rows, new, existing and what happens to existing ones) and an earlier import of the same file."""

    file_name: str
    file_hash: str
    source_format: str
    mapping: Mapping
    rows_read: int
    rows_skipped: int
    tables: dict[str, pl.DataFrame]
    given: dict[str, tuple[str, ...]]
    errors: pl.DataFrame
    plan: pl.DataFrame
    previous: Previous | None = None
    headers: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.errors.is_empty() and self.previous is None and bool(self.tables)


@dataclass(frozen=True, slots=True)
class Imported:
    batch_id: int
    written: dict[str, dict[str, int]]
    seconds: float


def already_imported_error(previous: Previous) -> InputError:
    when = previous.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return InputError(
        f"This file was already imported at {when} by {previous.username or 'the command line'} "
        f"(batch {previous.batch_id}); nothing was written.",
        key="import.already_imported",
        at=when,
        by=previous.username or "CLI",
        batch=previous.batch_id,
    )


def read_previous(conn: Connection, file_hash: str) -> Previous | None:
    row = conn.execute(
        sa.select(AppImportBatch.batch_id, AppImportBatch.finished_at, AppImportBatch.username)
        .where(AppImportBatch.file_hash == file_hash)
        .order_by(AppImportBatch.batch_id)
        .limit(1)
    ).first()
    if row is None:
        return None
    at = row.finished_at if row.finished_at.tzinfo else row.finished_at.replace(tzinfo=UTC)
    return Previous(row.batch_id, at, row.username)


def prepare_import(
    engine: Engine,
    data: bytes,
    file_name: str,
    mapping: Mapping,
    *,
    limits: Limits | None = None,
    progress: Progress = _quiet,
) -> Prepared:
    """Read, map, cast, shape and check a file against the database; writes nothing."""
    table = read_text_table(data, file_name, limits=limits or Limits(), encoding=mapping.encoding)
    progress("read", table.frame.height, table.frame.height)
    return prepare_table(engine, table, file_name, mapping, progress=progress)


def prepare_table(
    engine: Engine, table: TextTable, file_name: str, mapping: Mapping, *, progress: Progress = _quiet
) -> Prepared:
    missing_headers = sorted(h for h in mapping.columns.values() if h not in table.headers)
    if missing_headers:
        raise InputError(
            f"The mapping names column(s) the file does not have: {', '.join(missing_headers)}. "
            f"The file's columns are: {', '.join(table.headers)}.",
            key="import.mapped_header_missing",
            missing=", ".join(missing_headers),
            headers=", ".join(table.headers),
        )
    typed, cast_errors = cast_file(table.frame, mapping, inexact=table.inexact_numbers)
    bad_rows = cast_errors.get_column("row").unique()
    shaped = shape(typed.filter(~pl.col(ROW_COLUMN).is_in(bad_rows.implode())), mapping)
    with engine.connect() as conn:
        previous = read_previous(conn, table.file_hash)
        tables = _with_created_references(conn, shaped.tables, mapping)
        keys = {name: _existing_keys(conn, name) for name in _tables_to_look_up(tables)}
    ref_errors = reference_errors(tables, keys)
    plan, conflict_errors = _plan(tables, keys, mapping)
    errors = (
        pl.concat([cast_errors, shaped.errors, ref_errors, conflict_errors]).unique().sort("row", "column")
    )
    progress("checked", table.frame.height, table.frame.height)
    return Prepared(
        file_name=file_name,
        file_hash=table.file_hash,
        source_format=table.source_format,
        mapping=mapping,
        rows_read=table.frame.height,
        rows_skipped=shaped.skipped_rows,
        tables=tables,
        given=shaped.given,
        errors=errors,
        plan=plan,
        previous=previous,
        headers=tuple(table.headers),
    )


# References ----------------------------------------------------------------------------------------


def foreign_keys(table: str) -> list[tuple[str, str, str]]:
    """(column, referenced table, referenced column) of a schema table."""
    return [
        (fk.parent.name, fk.column.table.name, fk.column.name)
        for fk in Base.metadata.tables[table].foreign_keys
    ]


def _tables_to_look_up(tables: dict[str, pl.DataFrame]) -> set[str]:
    wanted = set(tables)
    for name in tables:
        wanted |= {ref for _, ref, _ in foreign_keys(name)}
    return wanted


def _existing_keys(conn: Connection, table: str) -> pl.DataFrame:
    columns = PRIMARY_KEYS[table]
    sa_table = Base.metadata.tables[table]
    rows = conn.execute(sa.select(*(sa_table.c[c] for c in columns))).all()
    schema = {c: (pl.Int64 if c in NUMBERED.values() else pl.String) for c in columns}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _with_created_references(
    conn: Connection, tables: dict[str, pl.DataFrame], mapping: Mapping
) -> dict[str, pl.DataFrame]:
    """Teams, agents and customers the rows name but neither the database nor the file has, created
    when the mapping asks for it (`create_missing`): named by their id, the rest defaults."""
    tables = dict(tables)
    tickets = tables.get("tickets")
    if tickets is None:
        return tables
    for name in ("teams", "agents", "customers"):
        key = PRIMARY_KEYS[name][0]
        if name not in mapping.create_missing or key not in tickets.columns:
            continue
        if name == "customers" and "customers" in tables:
            continue  # a flat file's customers are in it already
        known = _existing_keys(conn, name).get_column(key)
        in_file = tables[name].get_column(key) if name in tables else pl.Series([], dtype=pl.String)
        wanted = _referenced(tickets, name)
        new = wanted.filter(~pl.col(key).is_in(known.implode()) & ~pl.col(key).is_in(in_file.implode()))
        if new.height:
            new = with_defaults(name, new)
            tables[name] = pl.concat([tables[name], new], how="diagonal_relaxed") if name in tables else new
    return {name: tables[name] for name in WRITE_ORDER if name in tables}


def _referenced(tickets: pl.DataFrame, table: str) -> pl.DataFrame:
    """The teams, agents or customers the tickets name, as rows of that table: named by their id; an
    agent in the team of most of their tickets, hired on their first ticket's day."""
    rows = pl.col(ROWS).list.explode(keep_nulls=False, empty_as_null=False)
    if table == "teams":
        return tickets.group_by("team_id").agg(rows).select(ROWS, "team_id", pl.col("team_id").alias("name"))
    if table == "agents":
        return (
            tickets.filter(pl.col("agent_id").is_not_null())
            .group_by("agent_id")
            .agg(
                rows, pl.col("team_id").mode().first(), pl.col("created_at").min().dt.date().alias("hired_on")
            )
            .select(ROWS, "agent_id", pl.col("agent_id").alias("name"), "team_id", "hired_on")
        )
    return tickets.group_by("customer_id").agg(rows, pl.col("created_at").min().alias("signup_at"))


def reference_errors(tables: dict[str, pl.DataFrame], keys: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """An error per row that names a team, agent, customer, order or ticket that neither the database
    nor the file has."""
    found = []
    for name, frame in tables.items():
        for column, ref_table, ref_column in foreign_keys(name):
            if column not in frame.columns:
                continue
            known = keys[ref_table].get_column(ref_column).cast(pl.String)
            if ref_table in tables:
                known = pl.concat([known, tables[ref_table].get_column(ref_column).cast(pl.String)])
            found.append(
                frame.filter(
                    pl.col(column).is_not_null() & ~pl.col(column).cast(pl.String).is_in(known.implode())
                ).select(
                    pl.col(ROWS).list.first().alias("row"),
                    pl.lit(f"{name}.{column}").alias("column"),
                    pl.col(column).cast(pl.String).alias("value"),
                    pl.lit("unknown_reference").alias("problem"),
                    pl.lit(
                        f"an existing {ref_table[:-1] if ref_table.endswith('s') else ref_table} id"
                    ).alias("expected"),
                )
            )
    return pl.concat(found).cast(ERROR_SCHEMA) if found else pl.DataFrame(schema=ERROR_SCHEMA)  # type: ignore[arg-type]


def _is_existing(frame: pl.DataFrame, table: str, existing: pl.DataFrame) -> pl.Series:
    keys = [k for k in PRIMARY_KEYS[table] if k in frame.columns]
    if len(keys) < len(PRIMARY_KEYS[table]):
        return pl.Series([False] * frame.height)
    joined = frame.select(keys).with_row_index("_i").join(
        existing.with_columns(pl.lit(True).alias("_hit")).cast({k: frame.schema[k] for k in keys}),
        on=keys, how="left", nulls_equal=True,
    )  # fmt: skip
    return joined.sort("_i").get_column("_hit").fill_null(False)


def _plan(
    tables: dict[str, pl.DataFrame], keys: dict[str, pl.DataFrame], mapping: Mapping
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per table: rows, new, existing and the policy for existing ones; errors for existing rows
    where the policy is `error`."""
    rows, errors = [], []
    for name, frame in tables.items():
        hit = _is_existing(frame, name, keys[name])
        policy = mapping.policy(name)
        rows.append((name, frame.height, frame.height - int(hit.sum()), int(hit.sum()), policy))
        if policy == "error" and hit.any():
            key = PRIMARY_KEYS[name][0]
            errors.append(
                frame.filter(hit).select(
                    pl.col(ROWS).list.first().alias("row"),
                    pl.lit(f"{name}.{key}").alias("column"),
                    pl.col(key).cast(pl.String).alias("value"),
                    pl.lit("already_in_database").alias("problem"),
                    pl.lit("a new key (on_existing: error)").alias("expected"),
                )
            )
    plan = pl.DataFrame(rows, orient="row", schema=PLAN_SCHEMA)
    return plan, (pl.concat(errors).cast(ERROR_SCHEMA) if errors else pl.DataFrame(schema=ERROR_SCHEMA))  # type: ignore[arg-type]


# Writing -------------------------------------------------------------------------------------------


def commit_import(
    engine: Engine,
    prepared: Prepared,
    *,
    username: str | None,
    client: str | None = None,
    now: datetime | None = None,
    progress: Progress = _quiet,
) -> Imported:
    """Write a prepared import in one transaction; InputError (nothing written) when it has errors,
    was imported before, or the database refuses a row."""
    if prepared.previous is not None:
        raise already_imported_error(prepared.previous)
    if not prepared.errors.is_empty():
        raise InputError(
            f"The file has {prepared.errors.height} problem(s); nothing was written. "
            "Fix them and import again.",
            key="import.has_errors",
            count=prepared.errors.height,
        )
    started = time.perf_counter()
    begun = now or datetime.now(UTC)
    total = sum(f.height for f in prepared.tables.values())
    done = 0
    written: dict[str, dict[str, int]] = {}
    try:
        with engine.begin() as conn:
            previous = read_previous(conn, prepared.file_hash)  # another import may have won the race
            if previous is not None:
                raise already_imported_error(previous)
            for name, frame in prepared.tables.items():
                existing = _existing_keys(conn, name)
                written[name] = _write_table(conn, name, frame, prepared, existing)
                done += frame.height
                progress("written", done, total)
            batch_id = conn.execute(
                sa.insert(AppImportBatch).values(
                    file_hash=prepared.file_hash, file_name=prepared.file_name,
                    kind=prepared.mapping.table or prepared.mapping.kind, username=username,
                    started_at=begun, finished_at=datetime.now(UTC), rows_read=prepared.rows_read,
                    rows_skipped=prepared.rows_skipped, written=json.dumps(written),
                    mapping=dump_mapping(prepared.mapping),
                )
            ).inserted_primary_key[0]  # fmt: skip
            write_audit(
                conn, now=datetime.now(UTC), action="import", username=username, client=client,
                file=prepared.file_name, sha256=prepared.file_hash,
                kind=prepared.mapping.table or prepared.mapping.kind,
                rows=prepared.rows_read, skipped=prepared.rows_skipped, written=written, batch=batch_id,
            )  # fmt: skip
    except CxdashError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise InputError(
            f"The database refused the import ({driver_message(exc)}); nothing was written.",
            key="import.database_refused",
            reason=driver_message(exc),
        ) from None
    return Imported(int(batch_id), written, time.perf_counter() - started)


def _write_table(
    conn: Connection, name: str, frame: pl.DataFrame, prepared: Prepared, existing: pl.DataFrame
) -> dict[str, int]:
    sa_table = Base.metadata.tables[name]
    columns = [c.name for c in sa_table.columns if c.name in frame.columns]
    hit = _is_existing(frame, name, existing)
    policy = prepared.mapping.policy(name)
    new = frame.filter(~hit)
    old = frame.filter(hit)
    if policy == "error" and old.height:  # added since prepare checked: refuse, as prepare would have
        key = PRIMARY_KEYS[name][0]
        values = ", ".join(map(str, old.get_column(key).head(5).to_list()))
        raise InputError(
            f"{old.height} row(s) of {name} were added to the database since the file was checked "
            f"({key} {values}); on_existing is error, so nothing was written. Check the file again.",
            key="import.added_since_check",
            table=name,
            count=old.height,
            keys=values,
        )
    if name in NUMBERED and NUMBERED[name] not in frame.columns:
        first = (conn.scalar(sa.select(sa.func.max(sa_table.c[NUMBERED[name]]))) or 0) + 1
        new = new.with_row_index(NUMBERED[name], offset=first)
        columns = [NUMBERED[name], *columns]
    _insert(conn, sa_table, new.select(columns))
    updated = 0
    if policy == "update" and old.height:
        updatable = [c for c in prepared.given.get(name, ()) if c in columns and c not in PRIMARY_KEYS[name]]
        if updatable:
            _update(conn, sa_table, old, PRIMARY_KEYS[name], updatable)
            updated = old.height
    return {"inserted": new.height, "updated": updated, "unchanged": old.height - updated}


def _records(frame: pl.DataFrame) -> list[dict]:
    return frame.to_dicts()


def _chunks(frame: pl.DataFrame) -> Iterator[list[dict]]:
    """The rows as records, in chunks small enough for one statement's bind parameters."""
    size = max(1, min(CHUNK_ROWS, MAX_BIND_PARAMS // max(frame.width, 1)))
    for start in range(0, frame.height, size):
        yield _records(frame.slice(start, size))


def _copy_rows(conn: Connection, target: str, frame: pl.DataFrame) -> None:
    """PostgreSQL: the frame's rows into `target` (a quoted table name) with one COPY statement."""
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c) for c in frame.columns)
    statement = f"COPY {target} ({columns}) FROM STDIN"
    driver_error = conn.dialect.loaded_dbapi.Error
    try:
        # The driver's cursor on SQLAlchemy's connection: the same transaction.
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
    except driver_error as exc:  # the driver's own error: make it SQLAlchemy's, like every other
        raise sa.exc.DBAPIError.instance(statement, None, exc, driver_error, dialect=conn.dialect) from exc


def _insert(conn: Connection, sa_table: sa.Table, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    if conn.dialect.name == "postgresql":
        # One statement, so the data-version trigger fires once: a statement per row would update
        # app_meta's one row thousands of times in one transaction, each slower than the last.
        _copy_rows(conn, conn.dialect.identifier_preparer.format_table(sa_table), frame)
        return
    for records in _chunks(frame):
        conn.execute(sa.insert(sa_table), records)


def _update(
    conn: Connection, sa_table: sa.Table, frame: pl.DataFrame, keys: tuple[str, ...], columns: list[str]
) -> None:
    full = [c.name for c in sa_table.columns if c.name in frame.columns]
    if conn.dialect.name == "postgresql" and sa_table.primary_key.columns:
        # COPY into a scratch table, then one INSERT … ON CONFLICT DO UPDATE (see _insert).
        quote = conn.dialect.identifier_preparer.quote
        target = conn.dialect.identifier_preparer.format_table(sa_table)
        conn.execute(sa.text(f"CREATE TEMPORARY TABLE cxdash_import_rows (LIKE {target}) ON COMMIT DROP"))
        _copy_rows(conn, "cxdash_import_rows", frame.select(full))
        names = ", ".join(quote(c) for c in full)
        conn.execute(
            sa.text(
                f"INSERT INTO {target} ({names}) SELECT {names} FROM cxdash_import_rows "
                f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET "
                + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns)
            )
        )
        conn.execute(sa.text("DROP TABLE cxdash_import_rows"))
        return
    if conn.dialect.name == "sqlite" and sa_table.primary_key.columns:
        insert = sqlite.insert(sa_table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys), set_={c: insert.excluded[c] for c in columns}
        )
        for records in _chunks(frame.select(full)):
            conn.execute(statement, records)
        return
    # kpi_targets has no key constraint (team_id may be null): replace the matching rows one by one.
    for record in _records(frame.select([*keys, *columns])):
        match = sa.and_(
            *(sa_table.c[k].is_(None) if record[k] is None else sa_table.c[k] == record[k] for k in keys)
        )
        conn.execute(sa.update(sa_table).where(match).values({c: record[c] for c in columns}))
