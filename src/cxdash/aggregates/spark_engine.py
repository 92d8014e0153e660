"""The aggregates of `definitions` built by Apache Spark (PySpark) from Parquet files of the raw tables.

For data beyond one process: the input is a folder (or object-storage prefix, e.g. `s3a://bucket/cx`)
with one `<table>.parquet` per raw table (definitions.RAW_COLUMNS); `python -m cxdash aggregates
--engine spark` exports them from the database first when not given one. Local mode (`local[2]`) by
default; `--master` or SPARK_MASTER (`spark://host:7077`, `yarn`, `k8s://…`) for a cluster. The session
time zone is the display time zone, so `to_date` of an instant is its local day, as in Polars.
PySpark (and Java 17+) are needed only here, and imported only when this engine runs.
"""

import os
import shutil
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from cxdash.aggregates.definitions import (
    BACKLOG,
    CUSTOMER_DAYS,
    DURATION_EDGES_S,
    DURATION_MEASURES,
    DURATIONS,
    ORDERS,
    RAW_COLUMNS,
    SIGNUPS,
    SURVEY_RESPONSES,
    SURVEY_SENDS,
    TICKETS,
    AggregateTable,
    conform,
    epoch_micros,
)
from cxdash.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

DEFAULT_MASTER = "local[2]"
_MICROS_PER_S = 1_000_000
_MICROS_PER_MIN = 60 * _MICROS_PER_S


def spark_session(
    *, tz: str, master: str | None = None, extra_conf: dict[str, str] | None = None
) -> "SparkSession":
    """A SparkSession in the display time zone: `master`, else $SPARK_MASTER, else local[2]. InputError
    when PySpark or Java is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise InputError(
            "The Spark engine needs PySpark: pip install 'cxdash[spark]' (and Java 17, e.g. apt install "
            "openjdk-17-jre-headless). The Polars engine (--engine polars) needs neither."
        ) from exc
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise InputError(
            "The Spark engine needs Java 17 or later: install it (apt install openjdk-17-jre-headless) "
            "or set JAVA_HOME. The Polars engine (--engine polars) needs neither."
        )
    conf = {
        "spark.sql.session.timeZone": tz,
        "spark.sql.shuffle.partitions": "8",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **(extra_conf or {}),
    }
    builder = SparkSession.builder.appName("cxdash-aggregates").master(
        master or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: Java missing or too old
        raise InputError(f"Cannot start Spark ({exc}). It needs Java 17 or later.") from exc


def read_raw(spark: "SparkSession", parquet: str) -> dict[str, "DataFrame"]:
    """The raw tables from `<parquet>/<table>.parquet`, only the columns the aggregates read."""
    return {
        table: spark.read.parquet(f"{parquet.rstrip('/')}/{table}.parquet").select(*columns)
        for table, columns in RAW_COLUMNS.items()
    }


def _f() -> Any:
    from pyspark.sql import functions

    return functions


def local_day(instant: "Column") -> "Column":
    """Local date of an instant (the session time zone is the display time zone)."""
    return _f().to_date(instant)


def closing_day(instant: "Column") -> "Column":
    """Local date of the instant minus 1 µs (exact: integer microseconds)."""
    f = _f()
    return f.to_date(f.timestamp_micros(f.unix_micros(instant) - 1))


def micros(start: str, end: "str | Column") -> "Column":
    f = _f()
    end_col = f.col(end) if isinstance(end, str) else end
    return f.unix_micros(end_col) - f.unix_micros(f.col(start))


def _with_bins(frame: "DataFrame", micros_col: str) -> "DataFrame":
    """`bin` = number of edges at or below the duration. Bucketizer's binary search over the edges in
    µs, which doubles hold exactly (< 2^53), so the comparisons are the integer ones Polars makes."""
    from pyspark.ml.feature import Bucketizer

    splits = [float("-inf"), *(float(e * _MICROS_PER_S) for e in DURATION_EDGES_S), float("inf")]
    f = _f()
    bucketizer = Bucketizer(splits=splits, inputCol="_micros_d", outputCol="_bin")
    doubled = frame.withColumn("_micros_d", f.col(micros_col).cast("double"))
    return bucketizer.transform(doubled).withColumn("bin", f.col("_bin").cast("long"))


def _sla(done: str, target_min: str, data_as_of_us: int, prefix: str) -> list["Column"]:
    f = _f()
    target_us = f.col(target_min).cast("long") * _MICROS_PER_MIN
    is_done = f.col(done).isNotNull()
    elapsed = f.when(is_done, micros("created_at", done))
    age = f.lit(data_as_of_us) - f.unix_micros(f.col("created_at"))
    met = is_done & (elapsed <= target_us)
    over = f.coalesce(elapsed, age) > target_us
    return [
        f.coalesce(met, f.lit(False)).alias(f"{prefix}_sla_met"),
        f.coalesce(met | over, f.lit(False)).alias(f"{prefix}_sla_counted"),
    ]


def _sum_of(condition: "Column", name: str) -> "Column":
    f = _f()
    return f.sum(f.when(condition, 1).otherwise(0)).cast("long").alias(name)


def tickets_daily(raw: dict[str, "DataFrame"], *, data_as_of_us: int) -> "DataFrame":
    """agg_tickets."""
    f = _f()
    resolved = f.col("resolved_at").isNotNull()
    flagged = (
        raw["tickets"]
        .join(raw["sla_policies"], on="priority", how="left")
        .select(
            "*",
            *_sla("first_response_at", "first_response_target_min", data_as_of_us, "frt"),
            *_sla("resolved_at", "resolution_target_min", data_as_of_us, "resolution"),
        )
    )
    return flagged.groupBy(local_day(f.col("created_at")).alias("day"), "team_id", "channel").agg(
        f.count(f.lit(1)).alias("created"),
        _sum_of(f.col("is_complaint"), "complaints"),
        _sum_of(f.col("escalated"), "escalated"),
        _sum_of(resolved, "resolved"),
        _sum_of(resolved & (f.col("reopen_count") > 0), "reopened"),
        _sum_of(resolved & (f.col("agent_replies") <= 1), "one_touch"),
        _sum_of(f.col("first_response_at").isNotNull(), "first_responded"),
        *(
            _sum_of(f.col(f"{p}_sla_{k}"), f"{p}_sla_{k}")
            for p in ("frt", "resolution")
            for k in ("met", "counted")
        ),
    )


def durations_daily(raw: dict[str, "DataFrame"]) -> "DataFrame":
    """agg_durations."""
    f = _f()
    tickets = raw["tickets"]
    per_measure = None
    for measure, end in DURATION_MEASURES.items():
        part = tickets.where(f.col(end).isNotNull()).select(
            local_day(f.col("created_at")).alias("day"),
            "team_id",
            "channel",
            f.lit(measure).alias("measure"),
            micros("created_at", end).alias("micros"),
        )
        per_measure = part if per_measure is None else per_measure.unionByName(part)
    binned = _with_bins(per_measure, "micros")
    return binned.groupBy(*DURATIONS.keys).agg(f.count(f.lit(1)).alias("tickets"))


def backlog_daily(raw: dict[str, "DataFrame"]) -> "DataFrame":
    """agg_backlog."""
    f = _f()
    tickets = raw["tickets"]
    leave = f.least("resolved_at", "closed_at")  # nulls skipped; null when both are
    exit_at = f.when(leave.isNotNull(), f.greatest(f.col("created_at"), leave))
    entered = tickets.select(
        closing_day(f.col("created_at")).alias("closing_day"),
        "team_id",
        "channel",
        f.lit(1).alias("entered"),
        f.lit(0).alias("left"),
    )
    left = (
        tickets.select(exit_at.alias("exit_at"), "team_id", "channel")
        .where(f.col("exit_at").isNotNull())
        .select(
            closing_day(f.col("exit_at")).alias("closing_day"),
            "team_id",
            "channel",
            f.lit(0).alias("entered"),
            f.lit(1).alias("left"),
        )
    )
    return (
        entered.unionByName(left)
        .groupBy(*BACKLOG.keys)
        .agg(f.sum("entered").alias("entered"), f.sum("left").alias("left"))
    )


def _surveys_with_ticket(raw: dict[str, "DataFrame"]) -> "DataFrame":
    tickets = raw["tickets"].select("ticket_id", "team_id", "channel")
    return raw["surveys"].join(tickets, on="ticket_id", how="left")


def survey_responses_daily(raw: dict[str, "DataFrame"]) -> "DataFrame":
    """agg_survey_responses."""
    f = _f()
    return (
        _surveys_with_ticket(raw)
        .where(f.col("responded_at").isNotNull() & f.col("score").isNotNull())
        .groupBy(local_day(f.col("responded_at")).alias("day"), "team_id", "channel", "kind", "score")
        .agg(f.count(f.lit(1)).alias("responses"))
    )


def survey_sends_daily(raw: dict[str, "DataFrame"]) -> "DataFrame":
    """agg_survey_sends."""
    f = _f()
    return (
        _surveys_with_ticket(raw)
        .groupBy(local_day(f.col("sent_at")).alias("day"), "team_id", "channel", "kind")
        .agg(f.count(f.lit(1)).alias("sent"), _sum_of(f.col("responded_at").isNotNull(), "answered"))
    )


def _completed_orders(raw: dict[str, "DataFrame"]) -> "DataFrame":
    f = _f()
    return (
        raw["orders"]
        .where(f.col("status") == "completed")
        .withColumn("amount_cents", f.round(f.col("amount") * 100).cast("long"))
    )


def orders_daily(raw: dict[str, "DataFrame"]) -> "DataFrame":
    """agg_orders."""
    f = _f()
    return (
        _completed_orders(raw)
        .groupBy(local_day(f.col("ordered_at")).alias("day"))
        .agg(f.count(f.lit(1)).alias("orders"), f.sum("amount_cents").alias("amount_cents"))
    )


def signups_daily(raw: dict[str, "DataFrame"]) -> "DataFrame":
    """agg_signups."""
    f = _f()
    first_orders = (
        _completed_orders(raw).groupBy("customer_id").agg(f.min("ordered_at").alias("first_order_at"))
    )
    return (
        raw["customers"]
        .join(first_orders, on="customer_id", how="left")
        .groupBy(
            local_day(f.col("signup_at")).alias("day"),
            closing_day(f.col("first_order_at")).alias("first_order_closing_day"),
        )
        .agg(f.count(f.lit(1)).alias("customers"))
    )


def customer_days(raw: dict[str, "DataFrame"]) -> "DataFrame":
    """agg_customer_days."""
    f = _f()
    instants = f.sort_array(f.collect_list(f.unix_micros(f.col("ordered_at"))), asc=False)
    return (
        _completed_orders(raw)
        .groupBy("customer_id", closing_day(f.col("ordered_at")).alias("closing_day"))
        .agg(
            f.count(f.lit(1)).alias("orders"),
            f.sum("amount_cents").alias("amount_cents"),
            instants.alias("_instants"),
        )
        .select(
            "customer_id",
            "closing_day",
            "orders",
            "amount_cents",
            f.element_at("_instants", 1).alias("last_ordered_us"),
            f.when(f.size("_instants") >= 2, f.element_at("_instants", 2)).alias("prev_ordered_us"),
        )
    )


def _to_polars(frame: "DataFrame", table: AggregateTable) -> pl.DataFrame:
    """The Spark result collected to the driver through Arrow, in the canonical form."""
    return conform(pl.from_arrow(frame.toArrow()), table)


def build_aggregates_spark(
    spark: "SparkSession", parquet: str, *, data_as_of: datetime
) -> tuple[dict[str, pl.DataFrame], datetime | None]:
    """Every aggregate table (name → frame, canonical form) and the first completed order, built by
    Spark from the Parquet files under `parquet`; the session's time zone is the display time zone."""
    f = _f()
    raw = read_raw(spark, parquet)
    data_as_of_us = epoch_micros(data_as_of)
    plans = {
        TICKETS: tickets_daily(raw, data_as_of_us=data_as_of_us),
        DURATIONS: durations_daily(raw),
        BACKLOG: backlog_daily(raw),
        SURVEY_RESPONSES: survey_responses_daily(raw),
        SURVEY_SENDS: survey_sends_daily(raw),
        ORDERS: orders_daily(raw),
        SIGNUPS: signups_daily(raw),
        CUSTOMER_DAYS: customer_days(raw),
    }
    tables = {table.name: _to_polars(plan, table) for table, plan in plans.items()}
    first = (
        _completed_orders(raw)
        .select(f.min(f.unix_micros(f.col("ordered_at"))).alias("first"))
        .first()["first"]
    )
    history_from = None if first is None else pl.select(pl.lit(first).cast(pl.Datetime("us", "UTC"))).item()
    return tables, history_from
