"""`python -m cxdash …`: demo, init-db, refresh, kpis, import, report, users, bench, aggregates, serve."""

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cxdash.config import current_settings
from cxdash.domain import CHANNELS, SEGMENTS
from cxdash.errors import CxdashError, InputError

EXIT_USAGE = 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def _db_option(parser: argparse.ArgumentParser) -> None:
    """--db on every parser level, so it may come anywhere (`users --db X add …`, `users add … --db X`).
    SUPPRESS: a level where it is not given leaves the value of another level alone."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (default: $CXDASH_DB_URL or sqlite:///data/cxdash.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    from cxdash.demo.generator import LOCALES, SCALES

    parser = argparse.ArgumentParser(
        prog="python -m cxdash",
        description="cxdash: customer-service management dashboard (客户服务与管理驾驶舱).",
    )
    _db_option(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="generate the demo database with its planted stories")
    _db_option(demo)
    demo.add_argument("--scale", choices=list(SCALES), default="medium")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--end-date", type=_date, help="last day of the data (default: today)")
    demo.add_argument("--locale", choices=list(LOCALES), default="zh_CN")
    existing = demo.add_mutually_exclusive_group()
    existing.add_argument(
        "--force",
        action="store_true",
        help="replace a database that demo generated (never one with other users or changed data)",
    )
    existing.add_argument(
        "--if-missing",
        action="store_true",
        help="keep a database that demo generated (adding missing demo accounts); refuse any other",
    )

    init = commands.add_parser("init-db", help="create the cxdash tables on an empty database")
    _db_option(init)

    refresh = commands.add_parser(
        "refresh", help="move the data version, so that the app reloads data changed outside cxdash"
    )
    _db_option(refresh)

    kpis = commands.add_parser(
        "kpis", help="the headline KPIs of a period and scope, with N and previous period"
    )
    _db_option(kpis)
    kpis.add_argument(
        "--period", required=True, help="2026Q3, 2026-07, 2026-W27, or 'all' for every quarter with data"
    )
    kpis.add_argument("--team", action="append", default=[], metavar="ID", help="team id (repeatable)")
    kpis.add_argument("--channel", action="append", default=[], choices=CHANNELS)
    kpis.add_argument("--segment", action="append", default=[], choices=SEGMENTS)
    kpis.add_argument("--region", action="append", default=[])
    kpis.add_argument(
        "--csat-threshold", type=int, choices=[3, 4, 5], help="satisfied = score ≥ this (default 4)"
    )
    kpis.add_argument(
        "--churn-window", type=int, metavar="DAYS", help="active = ordered within DAYS (default 180)"
    )
    kpis.add_argument(
        "--clock",
        choices=["calendar", "business"],
        help="durations in calendar hours or business hours of each team's calendar "
        "(default: setting CXDASH_CLOCK, calendar)",
    )
    kpis.add_argument("--format", choices=["json", "table"], default="json")
    kpis.add_argument(
        "--lang", choices=["zh", "en"], help="language of --format table (default: setting CXDASH_LANG, zh)"
    )
    kpis.add_argument(
        "--from-aggregates",
        action="store_true",
        help="read the stored per-day aggregates (`aggregates`) instead of the raw rows (JSON, one period)",
    )

    aggregates = commands.add_parser(
        "aggregates", help="build the per-day aggregates (Polars, or Spark for data beyond one process)"
    )
    _db_option(aggregates)
    aggregates.add_argument("--engine", choices=["polars", "spark"], default="polars")
    aggregates.add_argument(
        "--parquet", metavar="DIR", help="spark: raw tables as <table>.parquet here (default: export --db)"
    )
    aggregates.add_argument(
        "--master", metavar="URL", help="spark: master URL (default: $SPARK_MASTER or local[2])"
    )

    users = commands.add_parser(
        "users", help="manage who may log in: add, list, disable, enable, passwords, roles"
    )
    _db_option(users)
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument(
        "--roles", required=True, help="comma-separated: admin, manager, team_lead, analyst, viewer"
    )
    add.add_argument("--teams", default="", help="comma-separated team ids a team lead leads")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = actions.add_parser("list", help="list users")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    switches = [
        actions.add_parser(name, help=f"{name} a user (disabling ends their sessions)")
        for name in ("disable", "enable")
    ]
    for switch in switches:
        switch.add_argument("username")
    password = actions.add_parser("set-password", help="set a password (ends the user's sessions)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")
    roles = actions.add_parser("set-roles", help="set roles and team scope (ends the user's sessions)")
    roles.add_argument("username")
    roles.add_argument("--roles", required=True)
    roles.add_argument("--teams", help="comma-separated team ids (unchanged if omitted)")
    for action in (add, listing, *switches, password, roles):
        _db_option(action)

    imp = commands.add_parser(
        "import",
        help="import a CSV or Excel file into the CRM tables (one transaction; per-row errors; idempotent)",
    )
    _db_option(imp)
    imp.add_argument("file", type=Path, metavar="FILE", help="a .csv, .tsv, .xlsx or .xls file")
    what = imp.add_mutually_exclusive_group()
    what.add_argument("--table", help="the table the file's rows belong to (e.g. tickets)")
    what.add_argument(
        "--kind",
        choices=["flat_tickets", "order_lines"],
        help="flat_tickets: one row per ticket with customer and rating; order_lines: invoice lines",
    )
    imp.add_argument("--mapping", type=Path, metavar="YAML", help="column mapping (default: suggested)")
    imp.add_argument(
        "--dry-run", action="store_true", help="check and show what would be written; write nothing"
    )
    imp.add_argument("--save-mapping", type=Path, metavar="YAML", help="write the mapping used to this file")
    imp.add_argument("--errors", type=Path, metavar="CSV", help="write every per-row error to this CSV")
    imp.add_argument(
        "--encoding", help="the CSV's encoding when it is neither UTF-8 nor GB18030 (e.g. cp1252)"
    )

    report = commands.add_parser(
        "report", help="the quarterly review as an editable PowerPoint deck (native charts, definitions)"
    )
    _db_option(report)
    report.add_argument("--period", help="a quarter such as 2026Q3 (default: the last complete quarter)")
    report.add_argument("--team", action="append", default=[], metavar="ID", help="team id (repeatable)")
    report.add_argument("--lang", choices=["zh", "en"], help="the deck's language (default: CXDASH_LANG, zh)")
    report.add_argument("--out", type=Path, required=True, metavar="FILE.pptx")

    bench = commands.add_parser(
        "bench",
        help="measure speed against PERFORMANCE.md's targets, beside peers (everything if nothing is chosen)",
    )
    _db_option(bench)
    bench.add_argument("--scale", choices=list(SCALES), help="generate data/bench-SCALE.db first if missing")
    bench.add_argument("--load", action="store_true", help="load every table into Polars")
    bench.add_argument("--kpis", action="store_true", help="the headline KPI set")
    bench.add_argument(
        "--whatif", action="store_true", help="the tiers page's what-if re-tier, against pandas"
    )
    bench.add_argument(
        "--pages",
        action="store_true",
        help="the app in Chromium beside the pandas peer app: cold start, pages, filter, sliders, memory",
    )
    bench.add_argument(
        "--business-hours",
        action="store_true",
        help="business-hours durations over synthetic tickets (no database)",
    )
    bench.add_argument("--rows", type=int, default=1_000_000, help="synthetic tickets for --business-hours")
    bench.add_argument("--runs", type=int, default=5)
    bench.add_argument("--json", action="store_true")

    serve = commands.add_parser(
        "serve",
        help="check the start-up settings, then start the app (streamlit run app.py); other options go to "
        "streamlit, e.g. --server.port 8502",
    )
    _db_option(serve)
    return parser


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_demo(args: argparse.Namespace) -> int:
    from cxdash.auth.demo import (
        DEMO_USERS,
        create_demo_users,
        inspect_database,
        replace_refusal,
        top_up_refusal,
    )
    from cxdash.demo.generator import DemoConfig, generate
    from cxdash.demo.staffing import demo_setup
    from cxdash.demo.writer import write_tables

    settings = current_settings(db_url=args.db)
    url = settings.db_url
    # demo touches only what it generated: never demo accounts or demo mode on someone's database.
    existing = inspect_database(url)
    if existing is not None and args.if_missing:
        refusal = top_up_refusal(url, existing)
        if refusal:
            raise InputError(refusal)
        _upgrade_if_older(url)
        create_demo_users(url, now=datetime.now(UTC))  # adds any demo account that is missing
        print(f"{url} already holds cxdash demo data; keeping it (use --force to regenerate).")
        return 0
    if existing is not None and args.force:
        refusal = replace_refusal(url, existing)
        if refusal:
            raise InputError(refusal)
    end_date = args.end_date or datetime.now(ZoneInfo(settings.display_tz)).date()
    config = DemoConfig(
        scale=args.scale, seed=args.seed, end_date=end_date, locale=args.locale, tz=settings.display_tz
    )
    started = time.perf_counter()
    frames = generate(config, progress=_progress)
    # An existing database without any table holds nothing to lose: --if-missing fills it.
    force = args.force or (args.if_missing and existing is None)
    write_tables(url, frames, force=force, calendars=demo_setup(config.tz, config.locale), progress=_progress)
    create_demo_users(url, now=datetime.now(UTC))
    counts = ", ".join(f"{name} {frame.height:,}" for name, frame in frames.items() if frame.height > 100)
    print(f"Demo database ready at {url} in {time.perf_counter() - started:.1f} s: {counts}.")
    print("Demo accounts: " + ", ".join(f"{u} / {p}" for u, p, *_ in DEMO_USERS))
    return 0


def _upgrade_if_older(url: str) -> None:
    """Bring a demo database of an older cxdash to this schema version (keeps the data)."""
    from cxdash.db.engine import check_schema, make_engine, upgrade_schema
    from cxdash.errors import DatabaseError

    engine = make_engine(url)
    try:
        check_schema(engine)
    except DatabaseError as exc:
        if exc.key != "errors.older_schema":
            raise
        upgrade_schema(engine)
    finally:
        engine.dispose()


def run_init_db(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from cxdash.db.engine import check_schema, create_schema, make_engine, upgrade_schema
    from cxdash.db.schema import BUSINESS_TABLES, SCHEMA_VERSION
    from cxdash.errors import DatabaseError

    settings = current_settings(db_url=args.db)
    engine = make_engine(settings.db_url, must_exist=False)
    tables = set(sa.inspect(engine).get_table_names())
    if "app_meta" in tables:
        try:
            check_schema(engine)
        except DatabaseError as exc:
            if "older" not in str(exc):
                raise
            upgrade_schema(engine)
            print(f"Upgraded {settings.db_url} to cxdash schema version {SCHEMA_VERSION}.")
            return 0
        print(f"{settings.db_url} already has the cxdash schema; nothing to do.")
        return 0
    create_schema(engine)
    kept = sorted(tables & set(BUSINESS_TABLES))
    note = f" (kept existing tables: {', '.join(kept)})" if kept else ""
    print(f"Created the cxdash schema in {settings.db_url}{note}.")
    return 0


def run_refresh(args: argparse.Namespace) -> int:
    from cxdash.db.engine import check_schema, make_engine
    from cxdash.db.version import bump_data_version

    settings = current_settings(db_url=args.db)
    engine = make_engine(settings.db_url)
    try:
        check_schema(engine)
        with engine.begin() as conn:
            version = bump_data_version(conn)
    finally:
        engine.dispose()
    print(f"Data version of {settings.db_url} is now {version}.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    import getpass
    from dataclasses import replace

    from cxdash.db.engine import check_schema, make_engine
    from cxdash.importer.files import Limits, read_text_table
    from cxdash.importer.mapping import Mapping, dump_mapping, load_mapping, suggest_columns, targets_for
    from cxdash.importer.run import commit_import, prepare_import
    from cxdash.importer.values import suggested_values
    from cxdash.reports.export import csv_bytes

    if not args.file.is_file():
        raise InputError(f"No file {args.file}.")
    data = args.file.read_bytes()
    if args.mapping:
        mapping = load_mapping(args.mapping.read_text(encoding="utf-8"))
    elif args.table or args.kind:
        kind = args.kind or "table"
        text = read_text_table(data, args.file.name, limits=Limits(), encoding=args.encoding)
        blank = Mapping(kind=kind, table=args.table)
        mapping = replace(blank, columns=suggest_columns(text.headers, targets_for(kind, args.table)))
        mapping = replace(mapping, values=suggested_values(text.frame, mapping))
    else:
        raise InputError(
            "Say what the file holds: --table NAME, --kind flat_tickets|order_lines, or --mapping YAML."
        )
    if args.encoding:
        mapping = replace(mapping, encoding=args.encoding)
    if args.save_mapping:
        args.save_mapping.write_text(dump_mapping(mapping), encoding="utf-8")
    settings = current_settings(db_url=args.db)
    engine = make_engine(settings.db_url)
    try:
        check_schema(engine)

        def progress(stage: str, done: int, total: int) -> None:
            _progress(f"{stage}: {done:,} of {total:,} rows")

        prepared = prepare_import(engine, data, args.file.name, mapping, progress=progress)
        print(f"{args.file.name}: {prepared.source_format}, {prepared.rows_read:,} rows read, "
              f"{prepared.rows_skipped:,} skipped by the mapping.")  # fmt: skip
        print("Columns: " + ", ".join(f"{target} ← {header}" for target, header in mapping.columns.items()))
        for table, rows, new, existing, policy in prepared.plan.iter_rows():
            print(f"  {table}: {rows:,} rows, {new:,} new, {existing:,} existing ({policy})")
        if args.errors and not prepared.errors.is_empty():
            args.errors.write_bytes(csv_bytes(prepared.errors))
        if not prepared.errors.is_empty():
            print(f"{prepared.errors.height:,} problem(s); nothing was written:", file=sys.stderr)
            for row, column, value, problem, expected in prepared.errors.head(20).iter_rows():
                print(f"  row {row}, {column}: {value!r} — {problem} (expected {expected})", file=sys.stderr)
            if prepared.errors.height > 20:
                print(
                    f"  … and {prepared.errors.height - 20:,} more (--errors FILE writes them all)",
                    file=sys.stderr,
                )
            return 1
        if args.dry_run:
            print("Dry run: the file is valid; nothing was written.")
            return 0
        user = f"cli:{getpass.getuser()}"
        result = commit_import(engine, prepared, username=user, progress=progress)
    finally:
        engine.dispose()
    written = "; ".join(
        f"{table} {c['inserted']:,} inserted, {c['updated']:,} updated" for table, c in result.written.items()
    )
    print(f"Imported as batch {result.batch_id} in {result.seconds:.1f} s: {written}.")
    return 0


def _settings_in_force(db_url: str | None):
    """The settings with the definitions an admin set in the database, after checking its schema."""
    from cxdash.config import with_definitions
    from cxdash.db.definitions import read_definitions
    from cxdash.db.engine import check_schema, make_engine

    settings = current_settings(db_url=db_url)
    engine = make_engine(settings.db_url)
    check_schema(engine)
    return with_definitions(settings, {k: d.value for k, d in read_definitions(engine).items()})


def run_report(args: argparse.Namespace) -> int:
    from cxdash.i18n import normalise_language
    from cxdash.kpi_report import check_scope
    from cxdash.load import read_frames, read_span, read_table
    from cxdash.metrics.kpis import KpiOptions
    from cxdash.metrics.scope import Scope
    from cxdash.periods import check_period, parse_period, periods_with_data
    from cxdash.reports.deck import review_deck
    from cxdash.views.review import review

    settings = _settings_in_force(args.db)
    span = read_span(settings.db_url)
    tz = settings.display_tz
    if args.period:
        period = parse_period(args.period)
        if period.kind != "quarter":
            raise InputError(f"--period must be a quarter such as 2026Q3, not {args.period}.")
        check_period(period, span, tz)
    else:
        complete = [p for p in periods_with_data("quarter", span, tz) if p.end(tz) <= span.data_as_of]
        if not complete:
            raise InputError("The data holds no complete quarter yet; give --period.")
        period = complete[-1]
    scope = Scope(teams=tuple(args.team))
    check_scope(scope, read_table(settings.db_url, "teams", ["team_id"]))
    options = KpiOptions(
        csat_threshold=settings.csat_threshold,
        churn_window_days=settings.churn_window_days,
        clock=settings.clock,
    )
    data = review(read_frames(settings.db_url), period, span=span, tz=tz, scope=scope, options=options)
    lang = args.lang or normalise_language(settings.lang)
    args.out.write_bytes(review_deck(data, lang=lang))
    print(f"Wrote the {period.label} review ({lang}) to {args.out}.")
    return 0


def run_kpis(args: argparse.Namespace) -> int:
    from cxdash.kpi_report import check_scope, format_table, kpi_report
    from cxdash.load import read_frames, read_span, read_table
    from cxdash.metrics.kpis import KpiOptions
    from cxdash.metrics.scope import Scope
    from cxdash.periods import check_period, parse_period, periods_with_data

    settings = _settings_in_force(args.db)
    if args.from_aggregates:  # the span the aggregates were built on: no scan of the raw tables
        from cxdash.aggregates.commands import aggregates_span

        span = aggregates_span(settings.db_url)
    else:
        span = read_span(settings.db_url)
    tz = settings.display_tz
    if args.period.strip().lower() == "all":
        periods = periods_with_data("quarter", span, tz)
    else:
        periods = [parse_period(args.period)]
        check_period(periods[0], span, tz)
    scope = Scope(
        teams=tuple(args.team),
        channels=tuple(args.channel),
        segments=tuple(args.segment),
        regions=tuple(args.region),
    )
    check_scope(scope, read_table(settings.db_url, "teams", ["team_id"]))
    options = KpiOptions(
        csat_threshold=args.csat_threshold or settings.csat_threshold,
        churn_window_days=args.churn_window or settings.churn_window_days,
        clock=args.clock or settings.clock,
    )
    if options.churn_window_days <= 0:
        raise InputError("--churn-window must be a positive number of days.")
    if args.from_aggregates:
        from cxdash.aggregates.commands import kpis_from_aggregates

        found = [
            kpis_from_aggregates(settings.db_url, p, tz=tz, scope=scope, options=options) for p in periods
        ]
        print(json.dumps(found[0] if len(found) == 1 else found, ensure_ascii=False, indent=2))
        return 0
    frames = read_frames(settings.db_url)
    reports = [kpi_report(frames, p, span=span, tz=tz, scope=scope, options=options) for p in periods]
    for warning in dict.fromkeys(w for r in reports for w in r["warnings"]):
        print(f"warning: {warning}", file=sys.stderr)
    if args.format == "table":
        from cxdash.i18n import normalise_language

        lang = args.lang or normalise_language(settings.lang)
        print("\n\n".join(format_table(r, lang=lang) for r in reports))
    else:
        print(json.dumps(reports[0] if len(reports) == 1 else reports, ensure_ascii=False, indent=2))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != first:
        raise InputError("The two passwords differ.")
    return first


def _teams(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(t.strip() for t in text.split(",") if t.strip())


def run_users(args: argparse.Namespace) -> int:
    import getpass as _getpass

    from cxdash.auth import store
    from cxdash.db.engine import check_schema, make_engine

    settings = current_settings(db_url=args.db)
    engine = make_engine(settings.db_url)
    check_schema(engine)
    now = datetime.now(UTC)
    actor = {"actor": f"cli:{_getpass.getuser()}", "client": "cli"}
    try:
        if args.action == "add":
            store.add_user(
                engine, args.username, _read_password(args), roles=args.roles, teams=_teams(args.teams) or (),
                display_name=args.name, now=now, **actor,
            )  # fmt: skip
        elif args.action == "list":
            with engine.connect() as conn:
                users = store.list_users(conn)
            rows = [
                {"username": u.username, "name": u.display_name, "roles": list(u.roles),
                 "teams": list(u.teams), "disabled": u.disabled}
                for u in users
            ]  # fmt: skip
            if args.format == "json":
                print(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                for row in rows:
                    state = "disabled" if row["disabled"] else "active"
                    teams = ",".join(row["teams"]) or "-"
                    print(
                        f"{row['username']:<20}{','.join(row['roles']):<24}{teams:<12}{state:<10}{row['name']}"
                    )
            return 0
        elif args.action in ("disable", "enable"):
            store.set_disabled(engine, args.username, args.action == "disable", now=now, **actor)
        elif args.action == "set-password":
            store.set_password(engine, args.username, _read_password(args), now=now, **actor)
        elif args.action == "set-roles":
            store.set_roles(engine, args.username, args.roles, teams=_teams(args.teams), now=now, **actor)
    except ValueError as exc:  # unknown roles
        raise InputError(str(exc)) from exc
    print(f"{args.action}: {args.username} done.")
    return 0


def run_aggregates(args: argparse.Namespace) -> int:
    from cxdash.aggregates.commands import run_aggregates as build

    settings = _settings_in_force(args.db)
    tz, url = settings.display_tz, settings.db_url
    print(build(url, tz=tz, engine=args.engine, parquet=args.parquet, master=args.master, progress=_progress))
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from cxdash.bench import run_benchmarks

    return run_benchmarks(args, progress=_progress)


def find_app() -> Path:
    """The app's entry file: next to the package's source tree (an editable install, as the README sets
    up), else in the current directory."""
    candidates = [Path(__file__).resolve().parents[2] / "app.py", Path.cwd() / "app.py"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(
        f"Cannot find app.py (looked at {', '.join(str(c) for c in candidates)}). "
        "Run serve in the cxdash project directory, the one with app.py."
    )


def _absolute(url: str) -> str:
    """A SQLite URL with a relative path made absolute (from the current directory): serve starts
    Streamlit in the project directory, where a relative path could name another file."""
    from sqlalchemy.engine import make_url

    from cxdash.db.engine import sqlite_path

    try:
        path = sqlite_path(url)
    except Exception:  # not a URL: the app's own check says so
        return url
    if path is None or path.is_absolute():
        return url
    return make_url(url).set(database=str(path.resolve())).render_as_string(hide_password=False)


def _demo_mode(url: str) -> tuple[bool, str | None]:
    """(the database is a demo that `demo` generated, why the database cannot be used now or None)."""
    from cxdash.auth.demo import is_generated_demo
    from cxdash.db.engine import check_schema, make_engine
    from cxdash.errors import driver_message

    try:
        engine = make_engine(url)
    except CxdashError as exc:
        return False, str(exc)
    try:
        check_schema(engine)
        return is_generated_demo(engine), None
    except CxdashError as exc:
        return False, str(exc)
    except Exception as exc:  # driver errors have no common base class
        return False, f"Cannot read the database: {driver_message(exc)}. Check --db / CXDASH_DB_URL."
    finally:
        engine.dispose()


def run_serve(args: argparse.Namespace) -> int:
    """Refuse on the terminal what the app would refuse on its pages, else exec `streamlit run app.py`."""
    from cxdash.auth.startup import current_streamlit_options, startup_problems

    settings = current_settings(db_url=args.db)
    url = _absolute(settings.db_url)
    app = find_app()
    demo, db_problem = _demo_mode(url)
    try:
        options = current_streamlit_options(app.parent, args.streamlit_args)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    problems = startup_problems(demo=demo, secret=settings.session_secret, options=options)
    if problems:
        print("cxdash refuses to start:", file=sys.stderr)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        if db_problem:
            print(f"- Also, the database: {db_problem}", file=sys.stderr)
        return EXIT_USAGE
    if db_problem:
        print(f"warning: {db_problem} The app says so on every page until it is fixed.", file=sys.stderr)
    command = [sys.executable, "-m", "streamlit", "run", str(app), *args.streamlit_args]
    print(f"Starting the app in {app.parent} on {url}: {' '.join(command)}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.chdir(app.parent)
    os.execve(sys.executable, command, {**os.environ, "CXDASH_DB_URL": url})
    return 0  # not reached: execve replaced this process


COMMANDS = {
    "demo": run_demo,
    "init-db": run_init_db,
    "refresh": run_refresh,
    "kpis": run_kpis,
    "users": run_users,
    "bench": run_bench,
    "aggregates": run_aggregates,
    "import": run_import,
    "report": run_report,
    "serve": run_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "serve":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.streamlit_args = extra  # serve hands them to `streamlit run`
    args.db = getattr(args, "db", None)
    try:
        return COMMANDS[args.command](args)
    except CxdashError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; nothing was changed.", file=sys.stderr)
        return 130
