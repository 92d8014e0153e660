"""Business calendars in the database: a setup written and read back whole, a rejected one leaves the
old setup and the data version alone, the frames carry it, the v3 → v4 upgrade, and `kpis --clock`;
on SQLite and (with CXDASH_TEST_PG_URL) PostgreSQL."""

import json
import shutil
import sqlite3
from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa

from cxdash.business_hours import DEFAULT_SETUP, BusinessCalendar, CalendarSetup
from cxdash.cli import main
from cxdash.db.calendars import (
    CalendarSetupError,
    read_calendar_setup,
    read_day_labels,
    write_calendar_setup,
)
from cxdash.db.engine import check_schema, dispose_engines, make_engine
from cxdash.db.schema import SCHEMA_VERSION
from cxdash.errors import DatabaseError
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import DURATION_KPIS
from tests.conftest import data_version_of

CALENDAR_TABLES = ("app_calendar_hours", "app_calendar_days", "app_calendar_teams", "app_sla_clocks",
                   "app_calendars")  # fmt: skip
OFFICE = BusinessCalendar(
    "office",
    "总部 9–18",
    "Asia/Shanghai",
    dict.fromkeys(range(1, 6), ((540, 720), (780, 1080))),
    public_holidays="CN",
    closed_days=frozenset({date(2026, 2, 27)}),
    open_days=frozenset({date(2026, 1, 4)}),
)
LATE = BusinessCalendar(
    "late", "Late shift", "Europe/Berlin", dict.fromkeys(range(1, 8), ((720, 1440),)), public_holidays=None
)
SETUP = CalendarSetup((OFFICE, LATE), team_calendars={"T02": "late"}, sla_clocks={"urgent": "calendar"})
LABELS = {("office", date(2026, 2, 27)): "年会", ("office", date(2026, 1, 4)): "调休"}
INVALID = CalendarSetup(
    (BusinessCalendar("x", "x", "Mars/Olympus", {}),),
    team_calendars={"T99": "x"},
    sla_clocks={"vip": "weekly"},
)


@pytest.fixture
def lite(small_db, tmp_path) -> str:
    db = tmp_path / "copy.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), db)
    yield f"sqlite:///{db}"
    dispose_engines()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request):
    """A private copy of the small demo on SQLite, or the PostgreSQL test database (rewritten per module)."""
    return request.getfixturevalue("lite" if request.param == "sqlite" else "pg_db")


def write(url: str, setup: CalendarSetup, **kwargs) -> int:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            return write_calendar_setup(conn, setup, **kwargs)
    finally:
        engine.dispose()


def read(url: str) -> tuple[CalendarSetup, dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return read_calendar_setup(engine), read_day_labels(conn)
    finally:
        engine.dispose()


def reset(url: str) -> None:
    """Back to no stored setup (PostgreSQL's database is shared by the tests of a module)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for table in CALENDAR_TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))
    finally:
        engine.dispose()


def test_without_a_stored_setup_the_default_applies(url):
    reset(url)
    assert read(url) == (DEFAULT_SETUP, {})


def test_a_setup_round_trips_and_moves_the_data_version(url):
    reset(url)
    before = data_version_of(url)
    assert write(url, SETUP, day_labels=LABELS) == before + 1
    assert data_version_of(url) == before + 1
    setup, labels = read(url)
    assert setup == SETUP
    assert labels == LABELS
    assert write(url, DEFAULT_SETUP) == before + 2  # replaces everything
    assert read(url) == (DEFAULT_SETUP, {})


def test_a_rejected_setup_writes_nothing(url):
    reset(url)
    write(url, SETUP, day_labels=LABELS)
    before = data_version_of(url)
    with pytest.raises(CalendarSetupError) as info:
        write(url, INVALID)
    assert {p.key for p in info.value.problems} == {
        "calendars.bad_timezone", "calendars.unknown_team", "calendars.unknown_priority",
        "calendars.bad_clock",
    }  # fmt: skip
    assert "Mars/Olympus" in str(info.value)
    assert read(url) == (SETUP, LABELS)
    assert data_version_of(url) == before


def test_the_write_is_part_of_the_callers_transaction(url):
    reset(url)
    before = data_version_of(url)
    engine = make_engine(url)
    try:
        with pytest.raises(RuntimeError), engine.begin() as conn:
            write_calendar_setup(conn, SETUP)
            raise RuntimeError  # e.g. the audit record could not be written
    finally:
        engine.dispose()
    assert read(url) == (DEFAULT_SETUP, {})
    assert data_version_of(url) == before


def test_frames_carry_the_stored_setup(url):
    reset(url)
    write(url, SETUP)
    frames = read_frames(url)
    hours = frames.working_hours
    assert hours.setup == SETUP
    # From the day before the first ticket (UTC) to 400 days after data_as_of.
    first_ticket = frames.tickets.select(pl.col("created_at").min()).collect().item()
    assert hours.first_day == first_ticket.date() - timedelta(days=1)
    assert hours.last_day == read_span(url).data_as_of.date() + timedelta(days=400)
    assert hours.sla_clock("urgent") == "calendar" and hours.sla_clock("normal") == "business"


def kpis(capsys, url: str, *args: str) -> tuple[int, str, str]:
    code = main(["kpis", "--db", url, "--period", "2026Q3", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_kpis_with_the_business_clock(capsys, lite):
    code, out, err = kpis(capsys, lite, "--clock", "business")
    assert code == 0 and "Traceback" not in err
    business = json.loads(out)
    calendar = json.loads(kpis(capsys, lite)[1])
    assert business["clock"] == "business" and calendar["clock"] == "calendar"
    assert business["uncovered_holiday_years"] == [] and business["warnings"] == []
    for name, kpi in business["kpis"].items():
        other = calendar["kpis"][name]
        if name in DURATION_KPIS:
            assert kpi["clock"] == "business" and "business hours" in kpi["definition"]
            assert kpi["n"] == other["n"] or name.startswith("sla_"), name
        else:
            assert (kpi["value"], kpi["n"]) == (other["value"], other["n"]), name
    # A ticket created after hours waits for the next opening: working time is shorter than elapsed.
    assert business["kpis"]["frt_p90_min"]["value"] < calendar["kpis"]["frt_p90_min"]["value"]
    assert business["kpis"]["resolution_p90_h"]["value"] < calendar["kpis"]["resolution_p90_h"]["value"]
    code, table, _ = kpis(capsys, lite, "--clock", "business", "--format", "table", "--lang", "en")
    assert code == 0 and table.splitlines()[2] == "Durations: business hours (each team's working calendar)"


def test_kpis_clock_from_the_setting_and_a_bad_setting(capsys, lite, monkeypatch):
    monkeypatch.setenv("CXDASH_CLOCK", "business")
    assert json.loads(kpis(capsys, lite)[1])["clock"] == "business"
    assert json.loads(kpis(capsys, lite, "--clock", "calendar")[1])["clock"] == "calendar"
    monkeypatch.setenv("CXDASH_CLOCK", "weekly")
    code, out, err = kpis(capsys, lite)
    assert code == 2 and out == ""
    assert "CXDASH_CLOCK must be calendar or business" in err and "Traceback" not in err


def test_kpis_warns_about_years_without_holiday_data(capsys, lite, monkeypatch):
    from cxdash import business_hours

    monkeypatch.setattr(business_hours, "holiday_years", lambda: (2004, 2025))
    code, out, err = kpis(capsys, lite, "--clock", "business")
    assert code == 0
    assert json.loads(out)["uncovered_holiday_years"] == [2026]
    assert "warning: The installed holiday data (chinese_calendar) does not cover 2026" in err


# The v3 → v4 upgrade -------------------------------------------------------------------------------


def make_v3(url: str, dialect: str) -> None:
    """What a schema-3 database looks like: no calendar tables (nor the later import and settings ones)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for table in (
                *CALENDAR_TABLES,
                "app_import_batches",
                "app_import_mappings",
                "app_settings",
                "app_review_snapshots",
            ):
                conn.execute(
                    sa.text(f"DROP TABLE IF EXISTS {table}" + (" CASCADE" if dialect == "postgresql" else ""))
                )
            conn.execute(sa.text("UPDATE app_meta SET value = '3' WHERE key = 'schema_version'"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_version_3_database_is_upgraded_in_place(request, capsys, dialect):
    url = request.getfixturevalue("lite" if dialect == "sqlite" else "pg_db")
    assert SCHEMA_VERSION >= 4
    before = data_version_of(url)
    make_v3(url, dialect)
    with pytest.raises(DatabaseError, match="older") as info:
        check_schema(make_engine(url))
    assert info.value.key == "errors.older_schema"
    assert main(["init-db", "--db", url]) == 0
    assert "Upgraded" in capsys.readouterr().out
    check_schema(make_engine(url))
    assert set(CALENDAR_TABLES) <= set(sa.inspect(make_engine(url)).get_table_names())
    assert read(url) == (DEFAULT_SETUP, {})  # empty tables: the default calendar
    assert data_version_of(url) == before  # the data did not change
    write(url, SETUP)
    assert read(url)[0] == SETUP
    assert main(["kpis", "--db", url, "--period", "2026Q3", "--clock", "business"]) == 0


def test_a_stored_setup_changed_by_hand_into_nonsense_is_a_clear_error(lite):
    write(lite, SETUP)
    with sqlite3.connect(lite.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE app_calendars SET timezone = 'Mars/Olympus' WHERE calendar_id = 'late'")
    with pytest.raises(DatabaseError, match="Mars/Olympus") as info:
        read_frames(lite)
    assert info.value.key == "errors.bad_stored_calendars" and "app_calendars" in str(info.value)
    code = main(["kpis", "--db", lite, "--period", "2026Q3"])
    assert code == 2
