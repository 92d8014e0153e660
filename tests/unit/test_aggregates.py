"""The per-day aggregates on a few hand-written rows around a local midnight in Asia/Shanghai (UTC+8),
with every cell worked out by hand; KPIs read from them equal the raw ones."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.aggregates.definitions import (
    AGGREGATE_BY_NAME,
    DURATION_EDGES_S,
    PERCENTILE_ABSOLUTE_ERROR_S,
    PERCENTILE_RELATIVE_ERROR,
    conform,
    duration_edges,
    epoch_micros,
)
from cxdash.aggregates.kpis import NOT_IN_AGGREGATES, headline_kpis_from_aggregates, histogram_quantile_s
from cxdash.aggregates.polars_engine import build_aggregates, duration_bin_expr
from cxdash.aggregates.store import AggregateMeta, AggregateSet, read_aggregates, write_aggregates
from cxdash.errors import InputError
from cxdash.metrics.kpis import KpiOptions, Window, headline_kpis
from cxdash.metrics.scope import Scope, scoped
from cxdash.periods import custom_period
from tests.kpi_frames import kpi_frames

TZ = "Asia/Shanghai"
JUL1, JUL2, JUN30, JUN1 = date(2026, 7, 1), date(2026, 7, 2), date(2026, 6, 30), date(2026, 6, 1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Local (UTC+8) times in the comments.
T1_CREATED = utc("2026-07-01 15:59:59")  # Jul 1 23:59:59: the last second of Jul 1
T2_CREATED = utc("2026-07-01 16:00:00")  # Jul 2 00:00:00 exactly: day Jul 2, but closes Jul 1
T3_CREATED = utc("2026-07-02 02:00:00")  # Jul 2 10:00
O1 = utc("2026-06-30 16:00:00")  # Jul 1 00:00:00 exactly: day Jul 1, closes Jun 30
O2, O4, O5 = utc("2026-07-01 01:00:00"), utc("2026-07-02 03:00:00"), utc("2026-07-02 02:30:00")
DATA_AS_OF = O4  # the latest timestamp anywhere: t3 is exactly 60 min old then


@pytest.fixture(scope="module")
def frames():
    return kpi_frames(
        tickets=[
            {"ticket_id": "t1", "customer_id": "C1", "team_id": "T01", "channel": "phone",
             "created_at": T1_CREATED, "first_response_at": utc("2026-07-01 16:00:59"),
             "resolved_at": utc("2026-07-01 17:59:59"), "priority": "normal", "agent_replies": 1},
            {"ticket_id": "t2", "customer_id": "C2", "team_id": "T01", "channel": "chat",
             "created_at": T2_CREATED, "first_response_at": utc("2026-07-01 16:45:00"), "priority": "high",
             "is_complaint": True, "escalated": True, "agent_replies": 2},
            {"ticket_id": "t3", "customer_id": "C2", "team_id": "T02", "channel": "phone",
             "created_at": T3_CREATED, "priority": "normal"},
        ],
        surveys=[
            {"kind": "csat", "customer_id": "C1", "ticket_id": "t1", "sent_at": utc("2026-07-01 18:00:00"),
             "responded_at": utc("2026-07-01 18:30:00"), "score": 5},
            {"kind": "csat", "customer_id": "C2", "ticket_id": "t2", "sent_at": utc("2026-07-01 16:30:00")},
            {"kind": "nps", "customer_id": "C1", "sent_at": utc("2026-07-01 10:00:00"),
             "responded_at": utc("2026-07-01 15:00:00"), "score": 6},
        ],
        orders=[
            {"customer_id": "C1", "ordered_at": O1, "amount": 10.05},
            {"customer_id": "C1", "ordered_at": O2, "amount": 20.10},
            {"customer_id": "C2", "ordered_at": utc("2026-07-01 02:00:00"), "amount": 5.0,
             "status": "refunded"},
            {"customer_id": "C2", "ordered_at": O4, "amount": 0.15},
            {"customer_id": "C2", "ordered_at": O5, "amount": 1.00},
        ],
        customers=[
            {"customer_id": "C1", "signup_at": utc("2026-06-01 00:00:00")},
            {"customer_id": "C2", "signup_at": utc("2026-07-01 20:00:00")},
        ],
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(frames) -> dict[str, pl.DataFrame]:
    return build_aggregates(frames, tz=TZ, data_as_of=DATA_AS_OF)


def expected(name: str, rows: list[tuple]) -> pl.DataFrame:
    table = AGGREGATE_BY_NAME[name]
    return conform(pl.DataFrame(rows, schema=[c.name for c in table.columns], orient="row"), table)


def test_edges_are_seconds_then_two_percent_steps():
    assert DURATION_EDGES_S[:51] == tuple(range(51))
    assert DURATION_EDGES_S[51:57] == (51, 53, 55, 57, 59, 61)  # ⌈1.02 × previous⌉
    assert DURATION_EDGES_S[-1] > 2 * 366 * 86_400
    steps = (13, 15, 17, 19, 21, 24, 27, 30, 33, 37, 41, 46, 51, 57, 63, 70, 77, 85, 94, 104)
    assert duration_edges(10, 100) == (*range(12), *steps)  # 10% steps from 11, up past 100


def test_tickets_by_local_day(built):
    # t2 at 00:00:00 local is Jul 2; t1 one second earlier is Jul 1. SLA: t1 met both; t2 answered after
    # 45 min (> 30) and unresolved after 660 min (> 600) at data_as_of: counted, not met; t3 unanswered
    # for exactly its 60 min target and unresolved for 60 of 1440: inside both targets, not counted.
    assert_frame_equal(
        built["agg_tickets"],
        expected(
            "agg_tickets",
            [
                (JUL1, "T01", "phone", 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1),
                (JUL2, "T01", "chat", 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1),
                (JUL2, "T02", "phone", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            ],
        ),
    )


def test_duration_bins(built):
    # t1: 60 s to first response → edges 0…50, 51, 53, 55, 57, 59 at or below it: bin 56 = [59, 61);
    # 7200 s to resolution; t2: 2700 s to first response.
    def bin_of(seconds: int) -> int:
        return sum(e <= seconds for e in DURATION_EDGES_S)

    assert bin_of(60) == 56
    assert_frame_equal(
        built["agg_durations"],
        expected(
            "agg_durations",
            [
                (JUL1, "T01", "phone", "first_response", 56, 1),
                (JUL1, "T01", "phone", "resolution", bin_of(7200), 1),
                (JUL2, "T01", "chat", "first_response", bin_of(2700), 1),
            ],
        ),
    )


def test_backlog_flow_by_closing_day(built):
    # t2 created at local midnight closes Jul 1; t1 leaves at 01:59:59 on Jul 2.
    assert_frame_equal(
        built["agg_backlog"],
        expected(
            "agg_backlog",
            [
                (JUL1, "T01", "chat", 1, 0),
                (JUL1, "T01", "phone", 1, 0),
                (JUL2, "T01", "phone", 0, 1),
                (JUL2, "T02", "phone", 1, 0),
            ],
        ),
    )


def test_surveys(built):
    # The csat response at 02:30 local Jul 2 follows t1's team and channel; NPS has no ticket.
    assert_frame_equal(
        built["agg_survey_responses"],
        expected(
            "agg_survey_responses", [(JUL1, None, None, "nps", 6, 1), (JUL2, "T01", "phone", "csat", 5, 1)]
        ),
    )
    assert_frame_equal(
        built["agg_survey_sends"],
        expected(
            "agg_survey_sends",
            [
                (JUL1, None, None, "nps", 1, 1),
                (JUL2, "T01", "chat", "csat", 1, 0),
                (JUL2, "T01", "phone", "csat", 1, 1),
            ],
        ),
    )


def test_orders_signups_and_customer_days(built):
    # o1 at local midnight is ordered on Jul 1 and closes Jun 30; the refunded order counts nowhere.
    assert_frame_equal(built["agg_orders"], expected("agg_orders", [(JUL1, 2, 3015), (JUL2, 2, 115)]))
    assert_frame_equal(built["agg_signups"], expected("agg_signups", [(JUN1, JUN30, 1), (JUL2, JUL2, 1)]))
    assert_frame_equal(
        built["agg_customer_days"],
        expected(
            "agg_customer_days",
            [
                ("C1", JUN30, 1, 1005, epoch_micros(O1), None),
                ("C1", JUL1, 1, 2010, epoch_micros(O2), None),
                ("C2", JUL2, 2, 115, epoch_micros(O4), epoch_micros(O5)),
            ],
        ),
    )


def aggregate_set(frames, built) -> AggregateSet:
    meta = AggregateMeta(1, DATA_AS_OF, frames.history_from, TZ, "polars", datetime.now(UTC))
    return AggregateSet(tables=built, meta=meta)


@pytest.mark.parametrize(
    ("first", "last"),
    [(JUL1, JUL1), (JUL2, JUL2), (JUL1, JUL2), (JUN1, JUL2)],
    ids=["jul1", "jul2", "both", "june-on"],
)
@pytest.mark.parametrize(
    "scope", [Scope(), Scope(teams=("T01",)), Scope(channels=("phone",))], ids=["all", "team", "channel"]
)
def test_kpis_from_aggregates_equal_the_raw_ones(frames, built, first, last, scope):
    window = Window.of(custom_period(first, last), tz=TZ, data_as_of=DATA_AS_OF)
    raw = headline_kpis(scoped(frames, scope), window)
    read = headline_kpis_from_aggregates(aggregate_set(frames, built), window, scope=scope)
    assert list(read) == list(raw)
    for name, kpi in read.items():
        if kpi.reason == NOT_IN_AGGREGATES:  # customers served: only the raw rows know them
            assert scope.filters_tickets
            continue
        exact = raw[name]
        assert (kpi.n, kpi.reason) == (exact.n, exact.reason), name
        if name.startswith(("frt_", "resolution_")) and exact.value is not None:
            unit_s = 60 if name.endswith("_min") else 3600
            bound = PERCENTILE_RELATIVE_ERROR * exact.value + PERCENTILE_ABSOLUTE_ERROR_S / unit_s
            assert abs(kpi.value - exact.value) <= bound, name
        else:
            assert kpi.value == pytest.approx(exact.value), name


def test_backlog_at_local_midnight_counts_a_ticket_created_at_it(frames, built):
    # Open at Jul 2 00:00 local: t1 (resolved two hours later) and t2, created at that very instant.
    window = Window.of(custom_period(JUL1, JUL1), tz=TZ, data_as_of=DATA_AS_OF)
    assert headline_kpis_from_aggregates(aggregate_set(frames, built), window)["backlog_open"].value == 2


def test_histogram_percentiles_within_the_bound():
    # Middles of the bins: 10 s → [10, 11) → 10.5; 20 → 20.5; the median of (10, 20, 1000) is 20.5.
    seconds = [10, 20, 1000]
    hist = (
        pl.DataFrame({"s": seconds})
        .select(duration_bin_expr(pl.col("s") * 1_000_000).alias("bin"))
        .group_by("bin")
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
    )
    assert histogram_quantile_s(hist, 0.5) == (20.5, 3)
    durations = pl.Series("s", [3.0, 47, 59.9, 61, 600, 601.5, 3599, 7200.25, 86_400 * 3, 86_400 * 40])
    micros = (durations * 1_000_000).cast(pl.Int64)
    hist = (
        pl.DataFrame({"m": micros})
        .select(duration_bin_expr(pl.col("m")).alias("bin"))
        .group_by("bin")
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
    )
    for q in (0.1, 0.5, 0.77, 0.9):
        exact = durations.quantile(q, interpolation="linear")
        estimate, n = histogram_quantile_s(hist, q)
        assert n == 10
        assert abs(estimate - exact) <= PERCENTILE_RELATIVE_ERROR * exact + PERCENTILE_ABSOLUTE_ERROR_S


def test_refuses_what_the_aggregates_cannot_answer(frames, built):
    window = Window.of(custom_period(JUL1, JUL1), tz=TZ, data_as_of=DATA_AS_OF)
    aggregates = aggregate_set(frames, built)
    with pytest.raises(InputError):
        headline_kpis_from_aggregates(aggregates, window, scope=Scope(regions=("华东",)))
    with pytest.raises(InputError):
        headline_kpis_from_aggregates(aggregates, window, options=KpiOptions(clock="business"))
    stale = Window.of(custom_period(JUL1, JUL1), tz=TZ, data_as_of=utc("2026-07-03 00:00:00"))
    with pytest.raises(InputError):
        headline_kpis_from_aggregates(aggregates, stale)


def test_store_round_trip(frames, built, small_copy):
    aggregates = aggregate_set(frames, built)
    write_aggregates(small_copy, aggregates)
    write_aggregates(small_copy, aggregates)  # replaces the set
    back = read_aggregates(small_copy)
    assert back.meta == aggregates.meta
    for name, table in built.items():
        assert_frame_equal(back.tables[name], table)


@pytest.fixture(scope="module")
def small_with_aggregates(small_db, tmp_path_factory):
    """A copy of the small demo with its aggregate set built and stored."""
    import shutil

    from cxdash.aggregates.commands import build_set
    from cxdash.db.engine import dispose_engines

    db = tmp_path_factory.mktemp("agg") / "small.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    write_aggregates(url, build_set(url, tz=TZ))
    yield url
    dispose_engines()


def test_windowed_reads_give_the_kpis_of_the_whole_set(small_with_aggregates):
    from cxdash.aggregates.kpis import rows_for, window_rows
    from cxdash.aggregates.store import read_meta
    from cxdash.periods import parse_period

    url = small_with_aggregates
    meta = read_meta(url)
    whole = read_aggregates(url)
    options = KpiOptions(churn_window_days=90)
    periods = ["2025Q1", "2025Q4", "2026Q2", "2026-05"]
    windows = [Window.of(parse_period(p), tz=TZ, data_as_of=meta.data_as_of) for p in periods]
    for window in windows:
        rows = window_rows(window, meta, options)
        part = read_aggregates(url, rows=rows)
        assert part.meta == whole.meta
        # Fewer rows than the whole set, yet the same KPIs to the last digit, in every scope.
        assert part.tables["agg_durations"].height < whole.tables["agg_durations"].height
        assert part.tables["agg_customer_days"].height < whole.tables["agg_customer_days"].height
        for scope in (Scope(), Scope(teams=("T01",)), Scope(channels=("phone", "chat"))):
            expected = headline_kpis_from_aggregates(whole, window, scope=scope, options=options)
            assert headline_kpis_from_aggregates(part, window, scope=scope, options=options) == expected
    # One read for several windows (the Overview's trend) answers each of them the same.
    several = read_aggregates(url, rows=rows_for(windows, meta, options))
    for window in windows:
        expected = headline_kpis_from_aggregates(whole, window, options=options)
        assert headline_kpis_from_aggregates(several, window, options=options) == expected


def test_the_span_of_the_aggregates_has_the_periods_of_the_raw_span(small_with_aggregates):
    from cxdash.aggregates.commands import aggregates_span
    from cxdash.load import read_span
    from cxdash.periods import periods_with_data

    raw, read = read_span(small_with_aggregates), aggregates_span(small_with_aggregates)
    assert read.data_as_of == raw.data_as_of
    assert read.first <= raw.first < read.first + timedelta(days=1)
    for kind in ("quarter", "month"):
        assert periods_with_data(kind, read, TZ) == periods_with_data(kind, raw, TZ)


def test_kpis_from_aggregates_name_the_command_when_missing_or_stale(small_copy, small_with_aggregates):
    from cxdash.aggregates.commands import kpis_from_aggregates
    from cxdash.periods import parse_period

    with pytest.raises(InputError, match="python -m cxdash aggregates") as missing:
        kpis_from_aggregates(small_copy, parse_period("2026Q2"), tz=TZ, scope=Scope(), options=KpiOptions())
    assert missing.value.key == "aggregates.missing"
    with pytest.raises(InputError, match="python -m cxdash aggregates") as stale:
        kpis_from_aggregates(
            small_with_aggregates, parse_period("2026Q2"), tz="UTC", scope=Scope(), options=KpiOptions()
        )
    assert stale.value.key == "aggregates.stale"


def test_cxdash_source_setting():
    from cxdash.config import settings_from

    assert settings_from({}).aggregates_only is False
    assert settings_from({"CXDASH_SOURCE": "raw"}).aggregates_only is False
    assert settings_from({"CXDASH_SOURCE": " Aggregates "}).aggregates_only is True
    with pytest.raises(InputError, match="CXDASH_SOURCE must be raw or aggregates") as bad:
        settings_from({"CXDASH_SOURCE": "parquet"})
    assert bad.value.key == "aggregates.bad_source"


def test_the_kpis_command_reads_the_aggregates_span_and_rows(small_with_aggregates, small_copy, capsys):
    import json

    from cxdash.aggregates.commands import kpis_from_aggregates
    from cxdash.cli import main
    from cxdash.periods import parse_period

    assert main(["kpis", "--db", small_with_aggregates, "--period", "2026Q2", "--from-aggregates"]) == 0
    shown = json.loads(capsys.readouterr().out)
    direct = kpis_from_aggregates(
        small_with_aggregates, parse_period("2026Q2"), tz=TZ, scope=Scope(), options=KpiOptions()
    )
    assert shown["kpis"] == json.loads(json.dumps(direct["kpis"]))
    assert main(["kpis", "--db", small_with_aggregates, "--period", "1999Q1", "--from-aggregates"]) != 0
    assert "No data in 1999Q1" in capsys.readouterr().err
    assert main(["kpis", "--db", small_copy, "--period", "2026Q2", "--from-aggregates"]) != 0
    assert "python -m cxdash aggregates" in capsys.readouterr().err


def test_postgresql_reads_the_same_rows_through_adbc(pg_db):
    from cxdash.aggregates.commands import build_set
    from cxdash.aggregates.kpis import window_rows
    from cxdash.periods import parse_period

    built_set = build_set(pg_db, tz=TZ)
    write_aggregates(pg_db, built_set)
    whole = read_aggregates(pg_db)
    assert whole.meta == built_set.meta
    for name, table in built_set.tables.items():
        assert_frame_equal(whole.tables[name], conform(table, AGGREGATE_BY_NAME[name]))
    window = Window.of(parse_period("2026Q2"), tz=TZ, data_as_of=whole.meta.data_as_of)
    part = read_aggregates(pg_db, rows=window_rows(window, whole.meta, KpiOptions()))
    assert part.tables["agg_durations"].height < whole.tables["agg_durations"].height
    assert headline_kpis_from_aggregates(part, window) == headline_kpis_from_aggregates(whole, window)
