"""Typed file rows → rows of the schema's tables: one table as it is, a flat ticket export split into
customers, tickets and surveys, invoice lines summed into orders. Pure; each output frame keeps
`_rows` (the file rows behind each row) for error reports."""

import hashlib
from dataclasses import dataclass
from typing import Final

import polars as pl

from cxdash.domain import SCORE_RANGES
from cxdash.importer.cast import ERROR_SCHEMA
from cxdash.importer.files import ROW_COLUMN
from cxdash.importer.mapping import Mapping

ROWS: Final = "_rows"
PRIMARY_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "teams": ("team_id",),
    "agents": ("agent_id",),
    "customers": ("customer_id",),
    "orders": ("order_id",),
    "tickets": ("ticket_id",),
    "ticket_events": ("event_id",),
    "surveys": ("survey_id",),
    "loyalty_ledger": ("entry_id",),
    "sla_policies": ("priority",),
    "kpi_targets": ("metric", "team_id", "period"),
    "annotations": ("annotation_id",),
}
# Tables whose integer ids a file may leave out: new rows are numbered after the database's last.
NUMBERED: Final = {"ticket_events": "event_id", "loyalty_ledger": "entry_id", "annotations": "annotation_id"}


@dataclass(frozen=True, slots=True)
class Shaped:
    """Rows per table (with `_rows`), the columns of each that the file itself gives (only those are
    updated on existing rows), errors found while shaping, and file rows skipped by the mapping."""

    tables: dict[str, pl.DataFrame]
    given: dict[str, tuple[str, ...]]
    errors: pl.DataFrame
    skipped_rows: int


def shape(typed: pl.DataFrame, mapping: Mapping) -> Shaped:
    """The file's rows as table rows, after dropping rows that miss a `skip_rows_without` target."""
    kept = typed
    for name in mapping.skip_rows_without:
        if name in kept.columns:
            kept = kept.filter(pl.col(name).is_not_null())
    skipped = typed.height - kept.height
    if mapping.kind == "flat_tickets":
        tables, given, errors = _flat_tickets(kept, mapping)
    elif mapping.kind == "order_lines":
        tables, given, errors = _order_lines(kept, mapping)
    else:
        table = str(mapping.table)
        frame = kept.rename({ROW_COLUMN: ROWS}).with_columns(pl.concat_list(ROWS))
        tables = {table: with_defaults(table, frame)}
        given = {table: tuple(c for c in frame.columns if c != ROWS)}
        errors = pl.DataFrame(schema=ERROR_SCHEMA)
    dupes = [duplicate_key_errors(t, f) for t, f in tables.items()]
    return Shaped(tables, given, pl.concat([errors, *dupes]).sort("row"), skipped)


def with_defaults(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The built-in defaults (mapping.BUILT_IN_DEFAULTS) for columns the file does not give."""
    have = set(frame.columns)
    fill: dict[str, pl.Expr] = {}
    if table == "customers":
        fill = {
            "name": pl.lit(""), "email": pl.lit(""), "phone": pl.lit(""), "city": pl.lit("unknown"),
            "region": pl.lit("unknown"), "segment": pl.lit("consumer"),
            "acquisition_channel": pl.lit("unknown"), "is_loyalty_member": pl.lit(False),
        }  # fmt: skip
    elif table == "tickets":
        replies = pl.col("first_response_at").is_not_null() if "first_response_at" in have else pl.lit(False)
        resolved = pl.col("resolved_at").is_not_null() if "resolved_at" in have else pl.lit(False)
        fill = {
            "status": pl.when(resolved).then(pl.lit("resolved")).otherwise(pl.lit("open")),
            "is_complaint": pl.lit(False), "reopen_count": pl.lit(0), "reassign_count": pl.lit(0),
            "agent_replies": replies.cast(pl.Int64), "escalated": pl.lit(False),
            "bot_handled": pl.lit(False), "subject": pl.lit(""), "category": pl.lit("unknown"),
            "priority": pl.lit("normal"),
        }  # fmt: skip
    elif table == "orders":
        fill = {"product_category": pl.lit("unknown"), "status": pl.lit("completed")}
    elif table == "surveys":
        fill = {"kind": pl.lit("csat")}
        if "responded_at" in have:
            fill["sent_at"] = pl.col("responded_at")
    elif table == "agents":
        fill = {"active": pl.lit(True)}
    frame = frame.with_columns(expr.alias(name) for name, expr in fill.items() if name not in have)
    # A default fills a blank cell too: a file's column may be partly empty.
    return frame.with_columns(
        pl.coalesce(pl.col(name), expr).alias(name) for name, expr in fill.items() if name in have
    )


def _prefixed(frame: pl.DataFrame, prefix: str) -> list[str]:
    return [c for c in frame.columns if c.startswith(prefix)]


def derived_customer_ids(email: pl.Series, phone: pl.Series) -> pl.Series:
    """A customer key from the e-mail (trimmed, lower case), else the phone's digits: `c_` and 16 hex
    digits of its SHA-256, so that no personal data becomes an id; null when both are missing."""

    def key(mail: str | None, tel: str | None) -> str | None:
        basis = (mail or "").strip().lower() or "".join(ch for ch in (tel or "") if ch.isdigit())
        return "c_" + hashlib.sha256(basis.encode()).hexdigest()[:16] if basis else None

    return pl.Series(
        [key(m, t) for m, t in zip(email.to_list(), phone.to_list(), strict=True)], dtype=pl.String
    )


def _customers(lines: pl.DataFrame, first_seen: str) -> pl.DataFrame:
    """One row per customer_id: the last non-blank value of each `customer.*` column, signed up at
    the given column if the file says nothing (the first activity)."""
    columns = _prefixed(lines, "customer.")
    frame = (
        lines.sort(ROW_COLUMN)
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col(ROW_COLUMN).alias(ROWS),
            *(pl.col(c).drop_nulls().last().alias(c.removeprefix("customer.")) for c in columns),
            pl.col(first_seen).min().alias("_first_seen"),
        )
    )
    signup = (
        pl.col("signup_at") if "customer.signup_at" in columns else pl.lit(None, pl.Datetime("us", "UTC"))
    )
    frame = frame.with_columns(pl.coalesce(signup, pl.col("_first_seen")).alias("signup_at")).drop(
        "_first_seen"
    )
    return with_defaults("customers", frame)


def _with_customer_ids(typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows with `customer_id` (mapped, else derived), and an error per row without any key."""
    email = (
        typed.get_column("customer.email")
        if "customer.email" in typed.columns
        else pl.Series([None] * typed.height, dtype=pl.String)
    )
    phone = (
        typed.get_column("customer.phone")
        if "customer.phone" in typed.columns
        else pl.Series([None] * typed.height, dtype=pl.String)
    )
    derived = derived_customer_ids(email, phone)
    given = pl.col("customer_id") if "customer_id" in typed.columns else pl.lit(None, pl.String)
    frame = typed.with_columns(pl.coalesce(given, pl.lit(derived)).alias("customer_id"))
    missing = frame.filter(pl.col("customer_id").is_null()).select(
        pl.col(ROW_COLUMN).alias("row"),
        pl.lit("customer_id").alias("column"),
        pl.lit(None, pl.String).alias("value"),
        pl.lit("no_customer_key").alias("problem"),
        pl.lit("a customer id, e-mail or phone").alias("expected"),
    )
    return frame.filter(pl.col("customer_id").is_not_null()), missing


def _flat_tickets(typed: pl.DataFrame, mapping: Mapping) -> tuple[dict, dict, pl.DataFrame]:
    lines, errors = _with_customer_ids(typed)
    customers = _customers(lines, "created_at") if "created_at" in lines.columns else None
    ticket_columns = [c for c in lines.columns if "." not in c and c != ROW_COLUMN]
    tickets = with_defaults(
        "tickets", lines.select(pl.concat_list(pl.col(ROW_COLUMN)).alias(ROWS), *ticket_columns)
    )
    tables: dict[str, pl.DataFrame] = {}
    given: dict[str, tuple[str, ...]] = {}
    if customers is not None:
        tables["customers"] = customers
        given["customers"] = tuple(c.removeprefix("customer.") for c in _prefixed(lines, "customer."))
    tables["tickets"] = tickets
    given["tickets"] = tuple(ticket_columns)
    surveys, survey_errors = _surveys(lines)
    if surveys is not None:
        tables["surveys"] = surveys
        given["surveys"] = tuple(c for c in surveys.columns if c != ROWS)
    return tables, given, pl.concat([errors, survey_errors])


def _surveys(lines: pl.DataFrame) -> tuple[pl.DataFrame | None, pl.DataFrame]:
    """One survey per ticket whose `survey.score` is given; scores checked against the kind's scale."""
    if "survey.score" not in lines.columns:
        return None, pl.DataFrame(schema=ERROR_SCHEMA)
    answered = lines.filter(pl.col("survey.score").is_not_null())
    columns = {c.removeprefix("survey."): pl.col(c) for c in _prefixed(answered, "survey.")}
    kind = columns.get("kind", pl.lit("csat"))
    later = (pl.col(c) for c in ("resolved_at", "closed_at", "created_at") if c in answered.columns)
    sent = pl.coalesce(
        [e for e in (columns.get("sent_at"), columns.get("responded_at"), *later) if e is not None]
    )
    frame = answered.select(
        pl.concat_list(pl.col(ROW_COLUMN)).alias(ROWS),
        columns.get("survey_id", pl.concat_str(kind, pl.lit("-"), pl.col("ticket_id"))).alias("survey_id"),
        kind.alias("kind"),
        pl.col("customer_id"),
        pl.col("ticket_id"),
        sent.alias("sent_at"),
        pl.coalesce(columns.get("responded_at", pl.lit(None, pl.Datetime("us", "UTC"))), sent).alias(
            "responded_at"
        ),
        *(
            expr.alias(name)
            for name, expr in columns.items()
            if name not in ("survey_id", "kind", "sent_at", "responded_at")
        ),
    )
    return frame, score_errors(frame, lines_column="survey.score")


def score_errors(surveys: pl.DataFrame, *, lines_column: str = "score") -> pl.DataFrame:
    """An error per survey whose score is outside its kind's scale (csat 1–5, nps 0–10, ces 1–7)."""
    checks = [
        surveys.filter((pl.col("kind") == kind) & ~pl.col("score").is_between(low, high)).select(
            pl.col(ROWS).list.first().alias("row"),
            pl.lit(lines_column).alias("column"),
            pl.col("score").cast(pl.String).alias("value"),
            pl.lit("out_of_range").alias("problem"),
            pl.lit(f"{low}–{high} for {kind}").alias("expected"),
        )
        for kind, (low, high) in SCORE_RANGES.items()
    ]
    return pl.concat(checks).cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def _order_lines(typed: pl.DataFrame, mapping: Mapping) -> tuple[dict, dict, pl.DataFrame]:
    """Orders from invoice lines: amount = |Σ quantity × unit price|, the product category of the
    largest line value, cancelled by the invoice prefix, refunded (or cancelled) when the quantities
    sum below zero; one customer per invoice."""
    lines = typed.with_columns((pl.col("quantity") * pl.col("unit_price")).alias("_value"))
    if "product_category" not in lines.columns:
        lines = lines.with_columns(pl.lit(None, pl.String).alias("product_category"))
    category = pl.col("product_category")
    status_rule = pl.lit("completed")
    if mapping.negative_quantity:
        status_rule = (
            pl.when(pl.col("_quantity") < 0).then(pl.lit(mapping.negative_quantity)).otherwise(status_rule)
        )
    if mapping.cancel_prefix:
        status_rule = (
            pl.when(pl.col("order_id").str.starts_with(mapping.cancel_prefix))
            .then(pl.lit("cancelled"))
            .otherwise(status_rule)
        )
    given_status = (
        pl.col("status").drop_nulls().first() if "status" in lines.columns else pl.lit(None, pl.String)
    )
    orders = (
        lines.sort(ROW_COLUMN)
        .group_by("order_id", maintain_order=True)
        .agg(
            pl.col(ROW_COLUMN).alias(ROWS),
            pl.col("customer_id").first(),
            pl.col("customer_id").n_unique().alias("_customers"),
            pl.col("ordered_at").min(),
            pl.col("_value").sum().abs().round(2, mode="half_away_from_zero").alias("amount"),
            pl.col("quantity").sum().alias("_quantity"),
            category.sort_by(pl.col("_value").abs(), descending=True).first().alias("product_category"),
            given_status.alias("_status"),
        )
        .with_columns(pl.coalesce(pl.col("_status"), status_rule).alias("status"))
    )
    conflicts = orders.filter(pl.col("_customers") > 1).select(
        pl.col(ROWS).list.first().alias("row"),
        pl.lit(mapping.columns.get("customer_id", "customer_id")).alias("column"),
        pl.col("order_id").alias("value"),
        pl.lit("several_customers").alias("problem"),
        pl.lit("one customer per invoice").alias("expected"),
    )
    orders = orders.drop("_customers", "_quantity", "_status").with_columns(
        pl.col("product_category").fill_null("unknown")
    )
    tables = {"orders": orders}
    given = {"orders": ("customer_id", "ordered_at", "amount", "product_category", "status")}
    if "customers" in mapping.create_missing or _prefixed(lines, "customer."):
        tables = {"customers": _customers(lines, "ordered_at"), **tables}
        given["customers"] = tuple(c.removeprefix("customer.") for c in _prefixed(lines, "customer."))
    return tables, given, conflicts.cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def duplicate_key_errors(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """An error for every row whose key appears again in the file (customers of a flat file and
    orders of invoice lines are grouped before, so theirs are unique)."""
    keys = [k for k in PRIMARY_KEYS[table] if k in frame.columns]
    if not keys or (table in NUMBERED and keys == [NUMBERED[table]] and NUMBERED[table] not in frame.columns):
        return pl.DataFrame(schema=ERROR_SCHEMA)
    return (
        frame.filter(
            pl.struct(keys).is_duplicated()
            # kpi_targets: a null team_id is the whole company, a key like any other
            & pl.all_horizontal(
                [pl.col(k).is_not_null() for k in keys if not (table == "kpi_targets" and k == "team_id")]
            )
        )
        .select(
            pl.col(ROWS).list.first().alias("row"),
            pl.lit(f"{table}.{'+'.join(keys)}").alias("column"),
            pl.concat_str([pl.col(k).cast(pl.String).fill_null("") for k in keys], separator=" / ").alias(
                "value"
            ),
            pl.lit("duplicate_key").alias("problem"),
            pl.lit("each key once in the file").alias("expected"),
        )
        .cast(ERROR_SCHEMA)  # type: ignore[arg-type]
    )
