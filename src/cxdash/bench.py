"""`python -m cxdash bench`: medians of repeated runs after a warm-up, each beside a peer, with the ratio.

Peers live in `benchmarks/` at the repository root (they may use pandas, which cxdash itself never does).
"""

import argparse
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import sqlalchemy as sa

from cxdash.auth.demo import create_demo_users
from cxdash.config import current_settings
from cxdash.db.engine import check_schema, make_engine, sqlite_path
from cxdash.db.schema import BUSINESS_TABLES
from cxdash.errors import InputError
from cxdash.load import read_table, read_tables

if TYPE_CHECKING:
    from cxdash.business_hours import CalendarSetup, WorkingHours

BENCH_END_DATE = date(2026, 11, 15)
TICKET_TIMES = ("created_at", "first_response_at", "resolved_at")


def median_seconds(work: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls after one warm-up call."""
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _peer(module: str) -> object | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks").is_dir():
        return None
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(f"benchmarks.{module}")
    except ImportError:
        return None


def _polars_over_sqlalchemy(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pl.read_database(sa.text(f"SELECT * FROM {table}"), conn, infer_schema_length=None).height
    finally:
        engine.dispose()


def bench_load(url: str, runs: int, progress: Callable[[str], None]) -> list[dict]:
    """Load every business table: cxdash (ADBC, typed) vs Polars over SQLAlchemy vs pandas.read_sql."""
    pandas_peer = _peer("pandas_peer")
    rows = []
    for table in BUSINESS_TABLES:
        progress(f"loading {table}")
        height = read_table(url, table).height
        row = {
            "table": table,
            "rows": height,
            "cxdash_s": median_seconds(lambda t=table: read_table(url, t), runs),
            "polars_sqlalchemy_s": median_seconds(lambda t=table: _polars_over_sqlalchemy(url, t), runs),
        }
        if pandas_peer is not None:
            row["pandas_read_sql_s"] = median_seconds(lambda t=table: pandas_peer.load_table(url, t), runs)
        rows.append(row)
    total = {"table": "ALL (one after another)", "rows": sum(r["rows"] for r in rows)}
    for key in ("cxdash_s", "polars_sqlalchemy_s", "pandas_read_sql_s"):
        if all(key in r for r in rows):
            total[key] = sum(r[key] for r in rows)
    progress("loading every table side by side")
    every = dict.fromkeys(BUSINESS_TABLES)
    parallel = {"table": "ALL (cxdash, side by side)", "rows": total["rows"]}
    parallel["cxdash_s"] = median_seconds(lambda: read_tables(url, every), runs)
    return [*rows, total, parallel]


def bench_kpis(url: str, runs: int, progress: Callable[[str], None]) -> list[dict]:
    """The headline KPI set of the last complete quarter, frames already loaded (what a page pays)."""
    from cxdash.load import read_frames, read_span
    from cxdash.metrics.kpis import Window, headline_kpis
    from cxdash.periods import periods_with_data

    settings = current_settings(db_url=url)
    progress("loading the tables")
    frames = read_frames(url)
    span = read_span(url)
    quarters = periods_with_data("quarter", span, settings.display_tz)
    period = quarters[-2] if len(quarters) > 1 else quarters[-1]
    window = Window.of(period, tz=settings.display_tz, data_as_of=span.data_as_of)
    progress(f"headline KPIs of {period.label}")
    seconds = median_seconds(lambda: headline_kpis(frames, window), runs)
    return [
        {
            "what": f"headline KPIs ({len(headline_kpis(frames, window))}) of {period.label}",
            "cxdash_s": seconds,
        }
    ]


def bench_whatif(url: str, runs: int, progress: Callable[[str], None]) -> list[dict]:
    """The tiers page's slider path: re-tier and summarise the per-customer facts (cxdash) against the
    same in pandas on the same facts, and against the usual dashboard recomputing RFM from the orders;
    the results are checked equal before they are timed."""
    from dataclasses import replace

    from cxdash.load import read_frames, read_span
    from cxdash.metrics.kpis import Window
    from cxdash.metrics.loyalty import customer_facts, whatif_summary
    from cxdash.metrics.tiers import TierRules
    from cxdash.periods import periods_with_data

    settings = current_settings(db_url=url)
    progress("loading the tables")
    frames = read_frames(url)
    span = read_span(url)
    quarters = periods_with_data("quarter", span, settings.display_tz)
    period = quarters[-2] if len(quarters) > 1 else quarters[-1]
    window = Window.of(period, tz=settings.display_tz, data_as_of=span.data_as_of)
    rules = TierRules.from_settings(settings.tiers, settings.churn_window_days)
    moved = replace(rules, m_vip=rules.m_vip * 0.8, f_high=rules.f_high - 2)  # one slider position
    progress(f"per-customer facts of {period.label}")
    started = time.perf_counter()
    facts = customer_facts(frames, window, rules=rules).collect()
    facts_s = time.perf_counter() - started
    mine = whatif_summary(facts, moved)
    row = {
        "what": f"re-tier + summary, {facts.height:,} customers",
        "cxdash_s": median_seconds(lambda: whatif_summary(facts, moved), runs),
    }
    pandas_peer = _peer("pandas_peer")
    rows = [{"what": "per-customer facts (once per filter change)", "cxdash_s": facts_s}, row]
    if pandas_peer is None:
        return rows
    thresholds = (moved.m_vip, moved.f_vip, moved.m_high, moved.f_high)
    as_pandas = facts.to_pandas()
    theirs = pandas_peer.whatif_summary(as_pandas, *thresholds)
    for tier in mine.iter_rows(named=True):
        name = str(tier["tier"])
        if name in theirs.index and (
            tier["customers"] != theirs.loc[name, "customers"]
            or abs(tier["revenue"] - theirs.loc[name, "revenue"]) > 0.01
        ):
            raise AssertionError(f"the pandas what-if disagrees on {name}")
    row["pandas_s"] = median_seconds(lambda: pandas_peer.whatif_summary(as_pandas, *thresholds), runs)
    orders = frames.orders.select("customer_id", "ordered_at", "amount", "status").collect().to_pandas()
    as_of = window.as_of
    usual = pandas_peer.tiers_from_orders(orders, as_of, *thresholds)
    vip = mine.filter(pl.col("tier") == "vip")["customers"][0]
    if int(usual.loc["vip", "customers"]) != vip:
        raise AssertionError("the pandas recomputation from orders disagrees on the VIP count")
    rows.append(
        {
            "what": "the usual way: RFM from the orders each move",
            "cxdash_s": row["cxdash_s"],
            "pandas_s": median_seconds(
                lambda: pandas_peer.tiers_from_orders(orders, as_of, *thresholds), runs
            ),
        }
    )
    rows += _slider_round_trips(url, progress)
    return rows


CHROMIUM = Path("/usr/bin/chromium")


def _slider_round_trips(url: str, progress: Callable[[str], None]) -> list[dict]:
    """Slider moves in Chromium on the tiers page against the pandas peer app (medians); nothing where
    Chromium or the benchmarks folder is missing."""
    page_redraw = _peer("page_redraw")
    if page_redraw is None or not CHROMIUM.exists():
        progress("no Chromium or benchmarks/: the slider round trip in the browser is not measured")
        return []
    progress("slider moves in Chromium: cxdash (as the demo manager), then the pandas peer app")
    try:
        ours, theirs = page_redraw.measure_sliders(url, port=8597, chromium=str(CHROMIUM)).values()
    except Exception as exc:  # a database without the demo accounts, a port in use…: say so, go on
        progress(f"the slider round trip in the browser could not be measured: {exc}")
        return []
    return [
        {
            "what": "slider move → redrawn in Chromium (p50)",
            "cxdash_s": statistics.median(ours),
            "pandas_s": statistics.median(theirs),
        }
    ]


def _bench_setup() -> "CalendarSetup":
    """Six teams on six calendars: standard, lunch break, 7 days, New York and Berlin (DST), Kolkata."""
    from cxdash.business_hours import DEFAULT_CALENDAR, BusinessCalendar, CalendarSetup

    weekdays = range(1, 6)
    calendars = (
        DEFAULT_CALENDAR,
        BusinessCalendar(
            "lunch", "Lunch break", "Asia/Shanghai", dict.fromkeys(weekdays, ((540, 720), (780, 1080)))
        ),
        BusinessCalendar("seven_days", "7 days", "Asia/Shanghai", dict.fromkeys(range(1, 8), ((480, 1320),))),
        BusinessCalendar(
            "new_york", "New York", "America/New_York", dict.fromkeys(weekdays, ((540, 1020),)), None
        ),
        BusinessCalendar(
            "kolkata", "Kolkata", "Asia/Kolkata", dict.fromkeys(range(1, 7), ((570, 1110),)), None
        ),
        BusinessCalendar("berlin", "Berlin", "Europe/Berlin", dict.fromkeys(weekdays, ((480, 990),)), None),
    )
    teams = {"T02": "lunch", "T03": "seven_days", "T04": "new_york", "T05": "kolkata", "T06": "berlin"}
    return CalendarSetup(calendars=calendars, team_calendars=teams)


def synthetic_tickets(rows: int, *, seed: int = 42) -> pl.DataFrame:
    """`rows` random tickets over 2025–2026 (team_id, created_at, first_response_at, resolved_at, UTC);
    a tenth unanswered and a fifth unresolved (null)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    first_us = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    created = first_us + rng.integers(0, 730 * 86_400_000_000, rows)
    answered = created + (rng.exponential(4 * 3600, rows) * 1e6).astype(np.int64)
    resolved = answered + (rng.exponential(2 * 86400, rows) * 1e6).astype(np.int64)
    times = pl.DataFrame({"created_at": created, "first_response_at": answered, "resolved_at": resolved})
    return times.select(
        pl.Series("team_id", rng.choice([f"T{n:02d}" for n in range(1, 7)], rows)),
        pl.col(TICKET_TIMES).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    ).with_columns(
        pl.when(pl.Series(rng.random(rows) < 0.1))
        .then(None)
        .otherwise(pl.col("first_response_at"))
        .alias("first_response_at"),
        pl.when(pl.Series(rng.random(rows) < 0.2))
        .then(None)
        .otherwise(pl.col("resolved_at"))
        .alias("resolved_at"),
    )


def bench_business_hours(rows: int, runs: int, progress: Callable[[str], None]) -> list[dict]:
    """Business-hours FRT and resolution time (business_seconds_expr) over synthetic tickets; no database."""
    from cxdash.business_hours import business_seconds_expr, compile_working_hours

    setup = _bench_setup()
    progress(f"compiling {len(setup.calendars)} calendars over 2024–2027")

    def compile_hours() -> "WorkingHours":
        return compile_working_hours(setup, first_day=date(2024, 1, 1), last_day=date(2027, 12, 31))

    compile_s = median_seconds(compile_hours, runs)
    hours = compile_hours()
    progress(f"building {rows:,} synthetic tickets")
    tickets = synthetic_tickets(rows).lazy()
    calendar = hours.calendar_index_expr(pl.col("team_id"))
    created = pl.col("created_at")
    query = tickets.select(
        business_seconds_expr(created, pl.col("first_response_at"), calendar, hours).alias("frt_business_s"),
        business_seconds_expr(created, pl.col("resolved_at"), calendar, hours).alias("resolution_business_s"),
    )
    progress("business-hours FRT and resolution time")
    seconds = median_seconds(query.collect, runs)
    return [
        {
            "what": "business FRT + resolution (tickets)",
            "rows": rows,
            "cxdash_s": seconds,
            "rows_per_s": rows / seconds if seconds > 0 else float("inf"),
            "under_1s": seconds < 1.0,
        },
        {
            "what": f"compile {len(setup.calendars)} calendars × 4 years (intervals)",
            "rows": len(hours.starts) - 1,
            "cxdash_s": compile_s,
        },
    ]


def _ensure_scale_db(scale: str, progress: Callable[[str], None]) -> str:
    from cxdash.demo.generator import DemoConfig, generate
    from cxdash.demo.writer import write_tables

    path = Path("data") / f"bench-{scale}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        progress(f"generating the {scale} demo at {path} (seed 42, end {BENCH_END_DATE})")
        write_tables(
            url,
            generate(DemoConfig(scale, 42, BENCH_END_DATE), progress=progress),
            force=False,
            progress=progress,
        )
        create_demo_users(url, now=datetime.now(UTC))  # the browser measurements log in as the demo manager
    return url


def _cell(value: object) -> str:
    if value is None:
        return " " * 22
    if isinstance(value, bool):
        return f"{'yes' if value else 'no':>22}"
    if isinstance(value, int):
        return f"{value:>22,}"
    return f"{value:>22,.3f}"


def _format(results: dict[str, list[dict]]) -> str:
    lines = []
    for section, rows in results.items():
        lines.append(f"== {section}")
        keys = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in ("table", "what")]
        label = "table" if "table" in rows[0] else "what"
        lines.append(f"{label:<40}" + "".join(f"{k:>22}" for k in keys) + "  ratio")
        for row in rows:
            cells = "".join(_cell(row.get(k)) for k in keys)
            ratio = ""
            peer = row.get("pandas_read_sql_s", row.get("pandas_s"))
            if peer is not None and row["cxdash_s"] > 0:
                ratio = f"  ×{peer / row['cxdash_s']:.1f} vs pandas"
            lines.append(f"{row[label]:<40}{cells}{ratio}")
    return "\n".join(lines)


def run_benchmarks(args: argparse.Namespace, *, progress: Callable[[str], None]) -> int:
    if not (args.load or args.kpis or args.business_hours or args.whatif):
        raise InputError("Choose what to measure: --load, --kpis, --whatif and/or --business-hours.")
    if args.runs < 1:
        raise InputError("--runs must be at least 1.")
    if args.rows < 1:
        raise InputError("--rows must be at least 1.")
    header: dict[str, object] = {"runs": args.runs}
    results: dict[str, list[dict]] = {}
    if args.load or args.kpis or args.whatif:  # the business-hours section needs no database
        url = (
            _ensure_scale_db(args.scale, progress) if args.scale else current_settings(db_url=args.db).db_url
        )
        check_schema(make_engine(url))
        path = sqlite_path(url)
        header = {"database": url, "size_mb": round(path.stat().st_size / 1e6, 1) if path else None, **header}
    if args.load:
        results["load"] = bench_load(url, args.runs, progress)
    if args.kpis:
        results["kpis"] = bench_kpis(url, args.runs, progress)
    if args.whatif:
        results["what-if (tiers page slider)"] = bench_whatif(url, args.runs, progress)
    if args.business_hours:
        results["business hours (synthetic tickets, no database)"] = bench_business_hours(
            args.rows, args.runs, progress
        )
    if args.json:
        print(json.dumps({**header, **results}, indent=2))
    else:
        where = f"database {header['database']} ({header['size_mb']} MB), " if "database" in header else ""
        print(f"{where}median of {args.runs} runs after a warm-up\n")
        print(_format(results))
    return 0
