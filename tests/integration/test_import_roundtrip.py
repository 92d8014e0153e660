"""The small demo exported to CSV and to Excel, imported table by table into an empty database, gives
the same rows and the same KPIs as the original (SQLite, and PostgreSQL when there is one)."""

import io
import json
from datetime import date, datetime

import polars as pl
import pytest
import xlsxwriter

from cxdash.cli import main
from cxdash.db.calendars import write_calendar_setup
from cxdash.db.engine import create_schema, make_engine
from cxdash.db.schema import BUSINESS_TABLES
from cxdash.demo.staffing import demo_setup
from cxdash.demo.writer import write_tables
from cxdash.importer.mapping import Mapping
from cxdash.importer.run import commit_import, prepare_import
from cxdash.load import read_table
from tests.conftest import PG_URL, SMALL, _reachable, need

pytestmark = pytest.mark.slow
PERIODS = ("2026Q3", "all")


@pytest.fixture(scope="module")
def original(small_db) -> dict[str, pl.DataFrame]:
    return {name: read_table(small_db, name) for name in BUSINESS_TABLES}


def csv_export(frame: pl.DataFrame) -> bytes:
    """What a CRM's CSV export looks like: UTF-8, ISO times with their offset."""
    return frame.write_csv(null_value="").encode()


def xlsx_export(frame: pl.DataFrame) -> bytes:
    """An Excel export: ids and other text as text cells, numbers as numbers, UTC times as date cells."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet()
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss.000"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, frame.columns)
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(r, c, value.replace(tzinfo=None), stamp)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            else:
                sheet.write_number(r, c, value)
    book.close()
    return buffer.getvalue()


EXPORTS = {"csv": csv_export, "xlsx": xlsx_export}


@pytest.fixture(scope="module")
def exported(original):
    """table → file bytes per format, made once for both databases."""
    cache: dict[str, dict[str, bytes]] = {}

    def files(kind: str) -> dict[str, bytes]:
        if kind not in cache:
            cache[kind] = {name: EXPORTS[kind](frame) for name, frame in original.items()}
        return cache[kind]

    return files


def empty_database(backend: str, tmp_path) -> str:
    if backend == "postgres":
        need(_reachable(PG_URL), f"no PostgreSQL at CXDASH_TEST_PG_URL={PG_URL!r}")
        write_tables(PG_URL, {}, force=True)
        return PG_URL
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    engine = make_engine(url, must_exist=False)
    create_schema(engine)
    engine.dispose()
    return url


def import_all(url: str, original: dict[str, pl.DataFrame], files: dict[str, bytes], kind: str) -> None:
    engine = make_engine(url)
    try:
        for name in BUSINESS_TABLES:  # the schema's order: referenced tables first
            frame = original[name]
            mapping = Mapping(
                table=name,
                columns={c: c for c in frame.columns},
                timezone="UTC",  # the Excel cells hold UTC wall-clock times
            )
            prepared = prepare_import(engine, files[name], f"{name}.{kind}", mapping)
            assert prepared.errors.is_empty(), (name, prepared.errors.head(5).to_dicts())
            assert prepared.plan.rows() == [(name, frame.height, frame.height, 0, "update")]
            done = commit_import(engine, prepared, username="roundtrip")
            assert done.written[name]["inserted"] == frame.height
        # The business calendars are settings, not business data: the same ones, as the demo has.
        with engine.begin() as conn:
            write_calendar_setup(conn, demo_setup(SMALL.tz, SMALL.locale))
    finally:
        engine.dispose()


def kpis(capsys, url: str, period: str) -> list[dict]:
    assert main(["kpis", "--db", url, "--period", period]) == 0
    report = json.loads(capsys.readouterr().out)
    return report if isinstance(report, list) else [report]


def same_kpis(got: list[dict], want: list[dict]) -> None:
    assert [r["period"] for r in got] == [r["period"] for r in want]
    for mine, theirs in zip(got, want, strict=True):
        assert mine["as_of"] == theirs["as_of"] and mine["data_as_of"] == theirs["data_as_of"]
        assert mine["kpis"].keys() == theirs["kpis"].keys()
        for name, kpi in theirs["kpis"].items():
            other = mine["kpis"][name]
            assert other["n"] == kpi["n"], (mine["period"], name)
            if kpi["value"] is None:
                assert other["value"] is None, (mine["period"], name)
            else:
                assert other["value"] == pytest.approx(kpi["value"], rel=1e-9), (mine["period"], name)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_round_trip_gives_the_same_rows_and_kpis(
    capsys, tmp_path, small_db, original, exported, backend, kind
):
    url = empty_database(backend, tmp_path)
    import_all(url, original, exported(kind), kind)
    for name in BUSINESS_TABLES:
        back, frame = read_table(url, name), original[name]
        keys = ["metric", "team_id", "period"] if name == "kpi_targets" else [frame.columns[0]]
        assert back.schema == frame.schema, name
        assert back.sort(keys, nulls_last=True).equals(frame.sort(keys, nulls_last=True)), name
    for period in PERIODS:
        same_kpis(kpis(capsys, url, period), kpis(capsys, small_db, period))
