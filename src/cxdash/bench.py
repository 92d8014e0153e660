"""`python -m cxdash bench`: medians of repeated runs after a warm-up, each beside a peer, with the ratio.

Peers live in `benchmarks/` at the repository root (they may use pandas, which cxdash itself never does).
"""

import argparse
import importlib
import json
import math
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
    return [*rows, total, parallel, *_snapshot_load(url, runs, progress)]


def _snapshot_load(url: str, runs: int, progress: Callable[[str], None]) -> list[dict]:
    """What a process pays for the app's tables once this data version's Parquet snapshot exists
    (SQLite only: the snapshot lives beside the file)."""
    from cxdash.db.version import read_data_version
    from cxdash.load import TABLE_COLUMNS
    from cxdash.snapshot import read_tables_snapshot, snapshot_dir

    if snapshot_dir(url) is None:
        return []
    engine = make_engine(url)
    try:
        version = read_data_version(engine)
    finally:
        engine.dispose()
    progress("the app's tables from the Parquet snapshot (written first if missing)")
    seconds = median_seconds(lambda: read_tables_snapshot(url, TABLE_COLUMNS, version=version), runs)
    return [{"table": "ALL (the app's columns, Parquet snapshot)", "rows": None, "cxdash_s": seconds}]


PEER_TABLES = ("tickets", "surveys", "orders", "customers", "sla_policies")


def _check_equal(mine: dict[str, float | None], theirs: dict[str, float | None], peer: str) -> None:
    """Every KPI equal to 1e-9 relative (both null, or both numbers): a peer is timed only when it agrees."""
    for name, value in mine.items():
        other = theirs.get(name)
        if value is None or other is None or math.isnan(other):
            if value is not None or (other is not None and not math.isnan(other)):
                raise AssertionError(f"the {peer} peer disagrees on {name}: {value} vs {other}")
        elif not math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9):
            raise AssertionError(f"the {peer} peer disagrees on {name}: {value} vs {other}")


def bench_kpis(url: str, runs: int, progress: Callable[[str], None]) -> list[dict]:
    """The headline KPI set of the last complete quarter, frames already loaded (what a page pays),
    against the same 23 KPIs in pandas and in DuckDB SQL over the same rows, checked equal first."""
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
    mine = {name: kpi.value for name, kpi in headline_kpis(frames, window).items()}
    row: dict[str, object] = {
        "what": f"headline KPIs ({len(mine)}) of {period.label}",
        "cxdash_s": median_seconds(lambda: headline_kpis(frames, window), runs),
    }
    bounds = (window.start, window.end, window.as_of, window.data_as_of)
    tables = {name: getattr(frames, name).collect() for name in PEER_TABLES}
    pandas_peer, duckdb_peer = _peer("pandas_peer"), _peer("duckdb_peer")
    if pandas_peer is not None:
        import pandas as pd  # noqa: TID251 - the peer's own frames, built outside the timed part

        as_pandas = {name: table.to_pandas() for name, table in tables.items()}
        stamps = [pd.Timestamp(b) for b in bounds]
        _check_equal(mine, pandas_peer.headline_kpis(as_pandas, *stamps), "pandas")
        row["pandas_s"] = median_seconds(lambda: pandas_peer.headline_kpis(as_pandas, *stamps), runs)
    if duckdb_peer is not None:
        con = duckdb_peer.connect({name: table.to_arrow() for name, table in tables.items()})
        _check_equal(mine, duckdb_peer.headline_kpis(con, *bounds), "DuckDB")
        row["duckdb_s"] = median_seconds(lambda: duckdb_peer.headline_kpis(con, *bounds), runs)
    return [row]


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
    duckdb_peer = _peer("duckdb_peer")
    if duckdb_peer is not None:
        con = duckdb_peer.connect({"facts": facts.to_arrow()})
        in_sql = duckdb_peer.whatif_summary(con, *thresholds)
        for tier in mine.iter_rows(named=True):
            customers, revenue = in_sql.get(str(tier["tier"]), (0, 0.0))
            if tier["customers"] != customers or abs(tier["revenue"] - revenue) > 0.01:
                raise AssertionError(f"the DuckDB what-if disagrees on {tier['tier']}")
        row["duckdb_s"] = median_seconds(lambda: duckdb_peer.whatif_summary(con, *thresholds), runs)
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
    return rows


CHROMIUM = Path("/usr/bin/chromium")
BENCH_PORT = 8597


def bench_pages(url: str, progress: Callable[[str], None]) -> dict:
    """The app in Chromium (benchmarks/page_redraw.measure_app) beside the pandas peer app; raises
    InputError where Chromium, Playwright or the benchmarks folder is missing."""
    page_redraw = _peer("page_redraw")
    if page_redraw is None or not CHROMIUM.exists():
        raise InputError(
            "--pages needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium), Playwright "
            "(pip install -r requirements.txt) and the benchmarks/ folder of a source checkout."
        )
    progress("starting the app on a new server, then driving Chromium as the demo manager (minutes)")
    measured = page_redraw.measure_app(url, port=BENCH_PORT, chromium=str(CHROMIUM), say=progress)
    progress("capacity: slider moves replayed by websocket clients, cxdash then the pandas peer app")
    capacity = _peer("capacity")
    measured["capacity"] = capacity.measure_capacity(
        url, port=BENCH_PORT + 10, chromium=str(CHROMIUM), say=progress
    )
    return measured


def _pages_rows(measured: dict) -> list[dict]:
    """The browser figures as table rows (medians), each beside the pandas peer app where it has one."""
    slider, peer_slider = measured["slider"], measured["peer_slider"]
    one, peer = measured["memory_one_session_mb"], measured["peer_memory_mb"]
    many = next(key for key in measured if key.startswith("memory_") and key != "memory_one_session_mb")
    return [
        {
            "what": "cold start → Overview drawn",
            "cxdash_s": measured["cold_start_s"],
            "pandas_s": measured["peer_cold_start_s"],
        },
        *({"what": f"switch to {page}", "cxdash_s": s} for page, s in measured["page_switch_s"].items()),
        {
            "what": "Overview period change (median)",
            "cxdash_s": statistics.median(measured["filter_change_s"]),
        },
        {
            "what": "slider move → tiers redrawn (p50)",
            "cxdash_s": statistics.median(slider["drawn"]),
            "pandas_s": statistics.median(peer_slider["drawn"]),
        },
        {
            "what": "slider websocket round trip (p50)",
            "cxdash_s": statistics.median(slider["round_trip"]),
            "pandas_s": statistics.median(peer_slider["round_trip"]),
        },
        {
            "what": "slider data per move (p50)",
            "cxdash_kb": statistics.median(slider["kilobytes"]),
            "pandas_kb": statistics.median(peer_slider["kilobytes"]),
        },
        {
            "what": "reruns per second, 10 sessions at full speed",
            "cxdash_per_s": measured["capacity"]["cxdash"]["reruns_per_s"],
            "pandas_per_s": measured["capacity"]["pandas"]["reruns_per_s"],
        },
        {
            "what": "30 users, a slider move every ~3 s: p95",
            "cxdash_s": measured["capacity"]["cxdash"]["p95_s"],
            "pandas_s": measured["capacity"]["pandas"]["p95_s"],
        },
        {"what": "server RSS, one session", "cxdash_mb": one["VmRSS"], "pandas_mb": peer["VmRSS"]},
        {"what": "server peak RSS, one session", "cxdash_mb": one["VmHWM"], "pandas_mb": peer["VmHWM"]},
        {"what": f"server RSS, {many.split('_')[1]} sessions", "cxdash_mb": measured[many]["VmRSS"]},
        {"what": f"server peak RSS, {many.split('_')[1]} sessions", "cxdash_mb": measured[many]["VmHWM"]},
    ]


# PERFORMANCE.md's targets: (what, section, row label prefix, column, at most, peer ratio at least).
TARGETS: tuple[tuple[str, str, str, str, float, float | None], ...] = (
    ("cold start → first Overview drawn (s)", "pages", "cold start", "s", 5.0, 4.0),
    ("slowest page switch, warm server (s)", "pages", "switch to", "s", 1.5, None),
    ("sidebar filter change → redrawn (s)", "pages", "Overview period change", "s", 1.0, None),
    ("slider move → tiers redrawn, p50 (s)", "pages", "slider move", "s", 0.150, 2.5),
    ("slider server round trip, p50 (s)", "pages", "slider websocket", "s", 0.060, None),
    ("slider data per move, p50 (KB)", "pages", "slider data", "kb", 20.0, None),
    ("pure re-tier + summaries (s)", "what-if", "re-tier", "s", 0.005, None),
    ("headline KPI set (s)", "kpis", "headline KPIs", "s", 0.300, 2.0),
    ("load of all tables, from SQLite (s)", "load", "ALL (cxdash, side by side)", "s", 2.5, 4.0),
    ("load of all tables, from the snapshot (s)", "load", "ALL (the app's columns", "s", 2.5, 4.0),
    ("server memory, one session (MB)", "pages", "server RSS, one", "mb", 1200.0, None),
    ("capacity: 30 users at ~3 s think time, p95 (s)", "pages", "30 users", "s", 0.200, 5.0),
    ("server memory, 10 sessions (MB)", "pages", "server RSS, 10", "mb", 2000.0, None),
)


def _targets(results: dict[str, list[dict]]) -> list[dict]:
    """Each PERFORMANCE.md target whose section was measured: the figure (the worst row where several
    match), met or not, and the ratio to the pandas peer in the same run."""
    report = _capacity_target(results.get("pages", []))
    load_total = next((r for r in results.get("load", []) if r["table"].startswith("ALL (one")), {})
    for what, section, prefix, unit, limit, ratio_at_least in TARGETS:
        rows = [r for r in results.get(section, []) if r.get("what", r.get("table", "")).startswith(prefix)]
        if not rows:
            continue
        worst = max(rows, key=lambda r: r[f"cxdash_{unit}"])
        measured = worst[f"cxdash_{unit}"]
        peer = load_total.get("pandas_read_sql_s") if section == "load" else worst.get(f"pandas_{unit}")
        entry = {"target": what, "at_most": limit, "measured": measured, "met": measured <= limit}
        if len(rows) > 1:
            entry["worst"] = worst["what"]
        if peer is not None and measured > 0:
            entry["pandas"] = peer
            entry["ratio_vs_pandas"] = peer / measured
            if ratio_at_least is not None:
                entry["ratio_at_least"] = ratio_at_least
                entry["ratio_met"] = peer / measured >= ratio_at_least
        if "duckdb_s" in worst and measured > 0:
            entry["ratio_vs_duckdb"] = worst["duckdb_s"] / measured
        report.append(entry)
    return report


def _capacity_target(pages: list[dict]) -> list[dict]:
    """Reruns per second of one process (at least 15, and 5× the pandas peer's)."""
    row = next((r for r in pages if r["what"].startswith("reruns per second")), None)
    if row is None:
        return []
    ours, theirs = row["cxdash_per_s"], row["pandas_per_s"]
    return [
        {
            "target": "capacity: slider reruns per second, one process",
            "at_least": 15.0,
            "measured": ours,
            "met": ours >= 15.0,
            "pandas": theirs,
            "ratio_vs_pandas": ours / theirs if theirs else None,
            "ratio_at_least": 5.0,
            "ratio_met": theirs > 0 and ours / theirs >= 5.0,
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
            if peer is not None and row.get("cxdash_s", 0) > 0:
                ratio = f"  ×{peer / row['cxdash_s']:.1f} vs pandas"
            if row.get("duckdb_s") and row.get("cxdash_s", 0) > 0:
                ratio += f", ×{row['duckdb_s'] / row['cxdash_s']:.1f} vs DuckDB"
            lines.append(f"{row[label]:<40}{cells}{ratio}")
    return "\n".join(lines)


def _has_demo_manager(url: str) -> bool:
    from cxdash.db.schema import AppUser

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.select(AppUser.username).where(AppUser.username == "manager")) is not None
    finally:
        engine.dispose()


def _sections(args: argparse.Namespace) -> tuple[bool, bool, bool, bool, bool]:
    """load, kpis, what-if, pages, business hours: what was asked, or everything when nothing was."""
    chosen = (args.load, args.kpis, args.whatif, args.pages, args.business_hours)
    return chosen if any(chosen) else (True, True, True, CHROMIUM.exists(), True)


def run_benchmarks(args: argparse.Namespace, *, progress: Callable[[str], None]) -> int:
    if args.runs < 1:
        raise InputError("--runs must be at least 1.")
    if args.rows < 1:
        raise InputError("--rows must be at least 1.")
    load, kpis, whatif, pages, business_hours = _sections(args)
    header: dict[str, object] = {"runs": args.runs}
    results: dict[str, list[dict]] = {}
    if load or kpis or whatif or pages:  # the business-hours section needs no database
        url = (
            _ensure_scale_db(args.scale, progress) if args.scale else current_settings(db_url=args.db).db_url
        )
        check_schema(make_engine(url))
        path = sqlite_path(url)
        header = {"database": url, "size_mb": round(path.stat().st_size / 1e6, 1) if path else None, **header}
        if pages and not _has_demo_manager(url):
            raise InputError(
                "--pages logs in as the demo manager: use a database `python -m cxdash demo` made, "
                "or --scale small|medium|large."
            )
    if load:
        results["load"] = bench_load(url, args.runs, progress)
    if kpis:
        results["kpis"] = bench_kpis(url, args.runs, progress)
    if whatif:
        results["what-if"] = bench_whatif(url, args.runs, progress)
    if pages:
        results["pages"] = _pages_rows(bench_pages(url, progress))
    if business_hours:
        results["business hours (synthetic tickets, no database)"] = bench_business_hours(
            args.rows, args.runs, progress
        )
    targets = _targets(results)
    if args.json:
        print(json.dumps({**header, **results, "targets": targets}, indent=2))
    else:
        where = f"database {header['database']} ({header['size_mb']} MB), " if "database" in header else ""
        print(f"{where}median of {args.runs} runs after a warm-up\n")
        print(_format(results))
        print(_format_targets(targets))
    return 0


def _format_targets(targets: list[dict]) -> str:
    """PERFORMANCE.md's targets: measured against the limit, and the peer ratio where one is set."""
    lines = ["== targets (PERFORMANCE.md)"]
    for t in targets:
        limit = f"≥ {t['at_least']:<8g}" if "at_least" in t else f"≤ {t['at_most']:<8g}"
        gap = t["at_least"] - t["measured"] if "at_least" in t else t["measured"] - t["at_most"]
        verdict = "met" if t["met"] else f"MISSED by {gap:,.3f}"
        ratio = ""
        if t.get("ratio_vs_pandas") is not None:
            wanted = (
                f" (≥ {t['ratio_at_least']}×: {'met' if t['ratio_met'] else 'MISSED'})"
                if "ratio_at_least" in t
                else ""
            )
            ratio = f"; ×{t['ratio_vs_pandas']:.1f} vs pandas{wanted}"
        if "ratio_vs_duckdb" in t:
            ratio += f", ×{t['ratio_vs_duckdb']:.1f} vs DuckDB"
        worst = f" [{t['worst']}]" if "worst" in t else ""
        lines.append(f"{t['target']:<48} {t['measured']:>10,.3f} {limit} {verdict}{ratio}{worst}")
    return "\n".join(lines)
