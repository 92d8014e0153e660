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
from datetime import date
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from cxdash.config import current_settings
from cxdash.db.engine import check_schema, make_engine, sqlite_path
from cxdash.db.schema import BUSINESS_TABLES
from cxdash.errors import InputError
from cxdash.load import read_table, read_tables

BENCH_END_DATE = date(2026, 11, 15)


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
    return url


def _format(results: dict[str, list[dict]]) -> str:
    lines = []
    for section, rows in results.items():
        lines.append(f"== {section}")
        keys = [k for k in rows[0] if k not in ("table", "what")]
        label = "table" if "table" in rows[0] else "what"
        lines.append(f"{label:<40}" + "".join(f"{k:>22}" for k in keys) + "  ratio")
        for row in rows:
            cells = "".join(
                f"{row.get(k, float('nan')):>22,.3f}" if k != "rows" else f"{row[k]:>22,}" for k in keys
            )
            ratio = ""
            if "pandas_read_sql_s" in row and row["cxdash_s"] > 0:
                ratio = f"  ×{row['pandas_read_sql_s'] / row['cxdash_s']:.1f} vs pandas"
            lines.append(f"{row[label]:<40}{cells}{ratio}")
    return "\n".join(lines)


def run_benchmarks(args: argparse.Namespace, *, progress: Callable[[str], None]) -> int:
    url = _ensure_scale_db(args.scale, progress) if args.scale else current_settings(db_url=args.db).db_url
    check_schema(make_engine(url))
    if not (args.load or args.kpis):
        raise InputError("Choose what to measure: --load and/or --kpis.")
    if args.runs < 1:
        raise InputError("--runs must be at least 1.")
    results: dict[str, list[dict]] = {}
    if args.load:
        results["load"] = bench_load(url, args.runs, progress)
    if args.kpis:
        results["kpis"] = bench_kpis(url, args.runs, progress)
    path = sqlite_path(url)
    header = {
        "database": url,
        "size_mb": round(path.stat().st_size / 1e6, 1) if path else None,
        "runs": args.runs,
    }
    if args.json:
        print(json.dumps({**header, **results}, indent=2))
    else:
        print(f"database {url} ({header['size_mb']} MB), median of {args.runs} runs after a warm-up\n")
        print(_format(results))
    return 0
