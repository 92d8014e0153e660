"""The per-day aggregates built by Apache Spark (local mode) equal the Polars ones on the medium demo,
and the KPIs read from them equal the raw KPIs of a quarter (percentiles within the stated bound)."""

import shutil

import pytest
from polars.testing import assert_frame_equal

from cxdash.aggregates.commands import build_set, kpis_from_aggregates
from cxdash.aggregates.definitions import AGGREGATES, PERCENTILE_ABSOLUTE_ERROR_S, PERCENTILE_RELATIVE_ERROR
from cxdash.aggregates.kpis import NOT_IN_AGGREGATES, headline_kpis_from_aggregates
from cxdash.aggregates.store import write_aggregates
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import KpiOptions, Window, headline_kpis
from cxdash.metrics.scope import Scope, scoped
from cxdash.periods import parse_period
from tests.conftest import MEDIUM, need

TZ = MEDIUM.tz
SPARK_CONF = {"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"}


@pytest.fixture(scope="module")
def spark():
    need(shutil.which("java") is not None, "no Java (apt install openjdk-17-jre-headless) for Spark")
    pytest.importorskip("pyspark")
    from cxdash.aggregates.spark_engine import spark_session

    session = spark_session(tz=TZ, master="local[2]", extra_conf=SPARK_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def both(medium_db, spark):
    """(the Polars set, the Spark set) of the medium demo."""
    polars_set = build_set(medium_db, tz=TZ, engine="polars")
    spark_set = build_set(medium_db, tz=TZ, engine="spark", master="local[2]", spark_conf=SPARK_CONF)
    return polars_set, spark_set


@pytest.fixture(scope="module")
def raw_frames(medium_db):
    return read_frames(medium_db)


def test_spark_and_polars_build_equal_tables(both):
    polars_set, spark_set = both
    assert polars_set.meta.data_as_of == spark_set.meta.data_as_of
    assert polars_set.meta.history_from == spark_set.meta.history_from
    for table in AGGREGATES:
        built = polars_set.tables[table.name]
        assert built.height > 0, table.name
        # Integer columns only (counts, cents, µs): equal means exact.
        assert_frame_equal(spark_set.tables[table.name], built, check_exact=True)


@pytest.mark.parametrize(
    "scope", [Scope(), Scope(teams=("T01", "T03")), Scope(channels=("chat",))], ids=["all", "teams", "chat"]
)
def test_kpis_from_aggregates_equal_the_raw_kpis_of_a_quarter(medium_db, raw_frames, both, scope):
    _, spark_set = both
    span = read_span(medium_db)
    window = Window.of(parse_period("2026Q2"), tz=TZ, data_as_of=span.data_as_of)
    raw = headline_kpis(scoped(raw_frames, scope), window)
    read = headline_kpis_from_aggregates(spark_set, window, scope=scope, options=KpiOptions())
    for name, exact in raw.items():
        kpi = read[name]
        if kpi.reason == NOT_IN_AGGREGATES:
            assert scope.filters_tickets, name
            continue
        assert (kpi.n, kpi.reason) == (exact.n, exact.reason), name
        if exact.value is None:
            assert kpi.value is None, name
        elif name.startswith(("frt_", "resolution_")):
            unit_s = 60 if name.endswith("_min") else 3600
            bound = PERCENTILE_RELATIVE_ERROR * exact.value + PERCENTILE_ABSOLUTE_ERROR_S / unit_s
            assert abs(kpi.value - exact.value) <= bound, name
        elif name == "revenue":
            assert round(kpi.value, 2) == round(exact.value, 2)  # to the cent
        else:
            assert kpi.value == pytest.approx(exact.value, rel=1e-12), name
    assert read["tickets"].n > 1000  # the scope holds real data


def test_stored_set_reads_back_through_the_command(medium_db, both, tmp_path):
    url = f"sqlite:///{tmp_path / 'medium.db'}"
    shutil.copy(medium_db.removeprefix("sqlite:///"), tmp_path / "medium.db")
    _, spark_set = both
    write_aggregates(url, spark_set)
    report = kpis_from_aggregates(url, parse_period("2026Q2"), tz=TZ, scope=Scope(), options=KpiOptions())
    assert report["source"]["aggregates"] == "spark"
    assert (
        report["kpis"]["tickets"]["value"]
        == spark_set.tables["agg_tickets"]
        .filter(
            (spark_set.tables["agg_tickets"]["day"] >= parse_period("2026Q2").start_date)
            & (spark_set.tables["agg_tickets"]["day"] < parse_period("2026Q2").end_date)
        )["created"]
        .sum()
    )
    assert report["kpis"]["frt_median_min"]["error_bound"] == {"relative": 0.01, "seconds": 0.5}
