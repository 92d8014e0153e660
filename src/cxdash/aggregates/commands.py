"""`python -m cxdash aggregates` (build and store the set) and `kpis --from-aggregates` (read from it)."""

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from cxdash.aggregates.definitions import PERCENTILE_ABSOLUTE_ERROR_S, PERCENTILE_RELATIVE_ERROR, RAW_COLUMNS
from cxdash.aggregates.store import (
    AggregateMeta,
    AggregateSet,
    first_day,
    read_aggregates,
    read_meta,
    write_aggregates,
)
from cxdash.db.engine import shared_engine
from cxdash.db.version import read_data_version
from cxdash.errors import InputError
from cxdash.load import read_span, read_tables
from cxdash.metrics.kpis import KPI_BY_NAME, KpiOptions, Window
from cxdash.metrics.scope import Scope
from cxdash.periods import DataSpan, Period

Progress = Callable[[str], None]
PERCENTILE_KPIS = ("frt_median_min", "frt_p90_min", "resolution_median_h", "resolution_p90_h")


def export_parquet(url: str, folder: Path) -> None:
    """The raw columns the aggregates read, one `<table>.parquet` per table (through the ADBC load)."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, frame in read_tables(url, dict(RAW_COLUMNS)).items():
        frame.write_parquet(folder / f"{table}.parquet")


def build_set(
    url: str,
    *,
    tz: str,
    engine: str = "polars",
    parquet: str | None = None,
    master: str | None = None,
    spark_conf: dict[str, str] | None = None,
    progress: Progress = lambda _: None,
) -> AggregateSet:
    """The aggregate set of the database at `url` (its current data version), built by `engine`.
    Spark reads `parquet` (a folder or object-storage prefix) when given, else an export of the
    database; InputError if the data changed while building."""
    version = read_data_version(shared_engine(url))
    data_as_of = read_span(url).data_as_of
    if engine == "polars":
        from cxdash.aggregates.polars_engine import build_aggregates
        from cxdash.load import read_frames

        frames = read_frames(url)
        progress("building the aggregates with Polars")
        tables, history_from = build_aggregates(frames, tz=tz, data_as_of=data_as_of), frames.history_from
    elif engine == "spark":
        from cxdash.aggregates.spark_engine import build_aggregates_spark, spark_session

        spark = spark_session(tz=tz, master=master, extra_conf=spark_conf)
        with tempfile.TemporaryDirectory(prefix="cxdash-parquet-") as scratch:
            if parquet is None:
                progress(f"exporting the raw tables to Parquet in {scratch}")
                export_parquet(url, Path(scratch))
            progress(f"building the aggregates with Spark ({spark.sparkContext.master})")
            tables, history_from = build_aggregates_spark(spark, parquet or scratch, data_as_of=data_as_of)
    else:
        raise InputError(f"Unknown engine {engine!r}: polars or spark.")
    if read_data_version(shared_engine(url)) != version:
        raise InputError("The data changed while the aggregates were built; run the command again.")
    meta = AggregateMeta(
        data_version=version,
        data_as_of=data_as_of,
        history_from=history_from,
        tz=tz,
        engine=engine,
        built_at=datetime.now(UTC),
    )
    return AggregateSet(tables=tables, meta=meta)


def run_aggregates(url: str, *, tz: str, engine: str, parquet: str | None, master: str | None,
                   progress: Progress) -> str:  # fmt: skip
    """Build and store the set; a one-line summary."""
    started = time.perf_counter()
    aggregates = build_set(url, tz=tz, engine=engine, parquet=parquet, master=master, progress=progress)
    built = time.perf_counter() - started
    progress("writing the aggregates")
    write_aggregates(url, aggregates)
    rows = ", ".join(f"{name} {frame.height:,}" for name, frame in aggregates.tables.items())
    return (
        f"Aggregates of data version {aggregates.meta.data_version} built with {engine} in {built:.1f} s "
        f"and written in {time.perf_counter() - started - built:.1f} s: {rows} rows."
    )


def current_meta(url: str, tz: str) -> AggregateMeta:
    """The stored set's meta; InputError naming the command without a set, or with one built from
    another data version or in another time zone."""
    meta = read_meta(url)
    if meta is None:
        raise InputError(
            "This database holds no aggregates yet. Build them with `python -m cxdash aggregates`.",
            key="aggregates.missing",
        )
    current = read_data_version(shared_engine(url))
    if meta.data_version != current or meta.tz != tz:
        raise InputError(
            f"The aggregates were built from data version {meta.data_version} in {meta.tz}; the database "
            f"is at version {current} and the display time zone is {tz}. Rebuild them with "
            "`python -m cxdash aggregates`.",
            key="aggregates.stale",
            built=meta.data_version,
            built_tz=meta.tz,
            current=current,
            tz=tz,
        )
    return meta


def aggregates_span(url: str) -> DataSpan:
    """The data's span as the stored set saw it: from local midnight of its first day (the same periods
    as the first ticket's instant) to its data_as_of; InputError without a set."""
    meta = read_meta(url)
    if meta is None:
        raise InputError(
            "This database holds no aggregates yet. Build them with `python -m cxdash aggregates`.",
            key="aggregates.missing",
        )
    day = first_day(url)
    if day is None:
        raise InputError(
            "The database has no tickets or orders yet. Import data or run `python -m cxdash demo`.",
            key="errors.no_data_yet",
        )
    return DataSpan(
        first=datetime.combine(day, clock_time(), ZoneInfo(meta.tz)).astimezone(UTC),
        data_as_of=meta.data_as_of,
    )


def kpis_from_aggregates(url: str, period: Period, *, tz: str, scope: Scope, options: KpiOptions) -> dict:
    """JSON-ready headline KPIs of one period read from the stored aggregates (value, N, unit, reason;
    the error bound of the percentiles). Refuses a set built for another data version or time zone."""
    from cxdash.aggregates.kpis import headline_kpis_from_aggregates, window_rows

    meta = current_meta(url, tz)
    window = Window.of(period, tz=tz, data_as_of=meta.data_as_of)
    aggregates = read_aggregates(url, rows=window_rows(window, meta, options))  # only the days it needs
    values = headline_kpis_from_aggregates(aggregates, window, scope=scope, options=options)
    kpis = {}
    for name, kpi in values.items():
        entry: dict = {"value": kpi.value, "n": kpi.n, "unit": KPI_BY_NAME[name].unit}
        if kpi.reason:
            entry["reason"] = kpi.reason
        if name in PERCENTILE_KPIS:
            entry["error_bound"] = {
                "relative": PERCENTILE_RELATIVE_ERROR,
                "seconds": PERCENTILE_ABSOLUTE_ERROR_S,
            }
        kpis[name] = entry
    return {
        "period": period.label,
        "running": window.running,
        "as_of": window.as_of.isoformat(),
        "data_as_of": meta.data_as_of.isoformat(),
        "timezone": tz,
        "scope": scope.as_dict(),
        "source": {"aggregates": meta.engine, "data_version": meta.data_version,
                   "built_at": meta.built_at.isoformat()},
        "options": {"csat_threshold": options.csat_threshold, "churn_window_days": options.churn_window_days,
                    "clock": options.clock},
        "kpis": kpis,
    }  # fmt: skip
