"""Emerging root causes: per-day rates of a running period against a whole one, with the exact test.

The running period has 30 days of data (Oct 1 → Oct 31 of 2026Q4), the one before 92 days (2026Q3),
so under "no change" a complaint falls in the running period with probability 30 / 122 = 15 / 61.
"""

from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy.stats import binomtest

from cxdash.metrics.emerging import cause_counts, emerging_causes
from cxdash.metrics.kpis import Window
from tests.kpi_frames import Q3, at, frame

Q4_RUNNING = Window(
    start=datetime(2026, 10, 1, tzinfo=UTC),
    end=datetime(2027, 1, 1, tzinfo=UTC),
    as_of=datetime(2026, 10, 31, tzinfo=UTC),
    data_as_of=datetime(2026, 10, 31, tzinfo=UTC),
)
SHARE = 15 / 61  # 30 / (30 + 92)


def counts(pairs: dict[str | None, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"root_cause": list(pairs), "complaints": list(pairs.values())},
        schema={"root_cause": pl.String, "complaints": pl.Int64},
    )


NOW = counts({"new": 5, "raw_drop": 12, "steady": 30, "surge": 20, None: 1})
BEFORE = counts({"raw_drop": 30, "steady": 92, "surge": 10, "gone": 4, None: 2})


def emerging(now=NOW, before=BEFORE, **options) -> pl.DataFrame:
    days = {"exposure_current_days": Q4_RUNNING.exposure_days, "exposure_previous_days": Q3.exposure_days}
    return emerging_causes(now, before, **(days | options))


def row(result: pl.DataFrame, cause: str | None) -> dict:
    return result.filter(pl.col("root_cause").eq_missing(cause)).row(0, named=True)


def test_exposures_of_a_running_quarter_and_the_one_before():
    assert (Q4_RUNNING.exposure_days, Q3.exposure_days) == (30.0, 92.0)


def test_a_new_cause_has_no_growth_but_is_significant():
    # 5 now, 0 before: given 5 complaints, all 5 in the running period has probability (15/61)^5
    # = 759375 / 844596301 = 0.000899; every other split is likelier, so that is the two-sided p.
    new = row(emerging(), "new")
    assert new["p_value"] == pytest.approx(759375 / 844596301)
    assert new["p_value"] == pytest.approx(binomtest(5, 5, SHARE).pvalue)
    assert new["growth_pct"] is None
    assert new["count_before"] == 0
    assert new["rate_now_per_day"] == pytest.approx(5 / 30)
    assert new["expected_now"] == 0.0
    assert new["significant"] is True


def test_a_raw_drop_is_a_rise_per_day_of_data():
    # 12 in 30 days vs 30 in 92 days: raw counts fall, but 0.4/day vs 0.3261/day is +22.67 %
    # (0.4 × 92 / 30 − 1 = 0.22667); expected now at the old rate 30 × 30 / 92 = 9.783; p = 0.5906
    raw_drop = row(emerging(), "raw_drop")
    assert raw_drop["rate_now_per_day"] == pytest.approx(0.4)
    assert raw_drop["rate_before_per_day"] == pytest.approx(30 / 92)
    assert raw_drop["growth_pct"] == pytest.approx(100 * (0.4 * 92 / 30 - 1))
    assert raw_drop["change_per_day"] == pytest.approx(0.4 - 30 / 92)
    assert raw_drop["expected_now"] == pytest.approx(900 / 92)
    assert raw_drop["p_value"] == pytest.approx(binomtest(12, 42, SHARE).pvalue)
    assert raw_drop["significant"] is False


def test_a_steady_rate_is_no_change():
    # 30 in 30 days vs 92 in 92 days: 1/day both; 30 is the expected (and likeliest) split → p = 1
    steady = row(emerging(), "steady")
    assert steady["growth_pct"] == pytest.approx(0.0)
    assert steady["expected_now"] == pytest.approx(30.0)
    assert steady["p_value"] == pytest.approx(1.0)


def test_a_cause_gone_now_falls_and_is_not_flagged():
    # 0 now, 4 before: growth −100 %. p = 1 − P(1 of 4) = 1 − 4 · (15/61) · (46/61)^3 = 0.5782
    gone = row(emerging(), "gone")
    assert gone["count_now"] == 0
    assert gone["growth_pct"] == pytest.approx(-100.0)
    assert gone["p_value"] == pytest.approx(1 - 4 * SHARE * (1 - SHARE) ** 3)
    assert gone["significant"] is False


def test_order_significant_growers_first():
    # significant: new (growth unbounded) then surge ((20/30)/(10/92) − 1 = +513.3 %, p ≈ 1.4e-6);
    # then by growth: unknown cause +53.3 % ((1/30)/(2/92) − 1), raw_drop +22.7 %, steady 0, gone −100
    result = emerging()
    assert result["root_cause"].to_list() == ["new", "surge", None, "raw_drop", "steady", "gone"]
    assert result["significant"].to_list() == [True, True, False, False, False, False]
    assert row(result, "surge")["growth_pct"] == pytest.approx(100 * (20 * 92 / 300 - 1))
    assert row(result, None)["growth_pct"] == pytest.approx(100 * (92 / 60 - 1))


def test_alpha_flags_only_growers():
    # at alpha 0.6 raw_drop (p 0.59, grew) is flagged; gone (p 0.58) fell, so it is not
    result = emerging(alpha=0.6)
    assert row(result, "raw_drop")["significant"] is True
    assert row(result, "gone")["significant"] is False


def test_no_days_of_data_no_rates_and_no_test():
    result = emerging(exposure_current_days=0.0)
    assert result["rate_now_per_day"].null_count() == result.height
    assert result["p_value"].null_count() == result.height
    assert not result["significant"].any()


def test_no_causes_no_rows():
    empty = counts({})
    result = emerging(empty, empty)
    assert result.height == 0
    assert result.columns[:3] == ["root_cause", "count_now", "count_before"]


def test_cause_counts_counts_complaints_created_in_the_window():
    tickets = frame(
        "tickets",
        [
            {"is_complaint": True, "root_cause": "a", "created_at": at("2026-07-01")},  # start: in
            {"is_complaint": True, "root_cause": "a", "created_at": at("2026-09-30T23:59:59")},
            {"is_complaint": True, "root_cause": None, "created_at": at("2026-08-01")},
            {"is_complaint": True, "root_cause": "b", "created_at": at("2026-10-01")},  # end: out
            {"is_complaint": False, "root_cause": "b", "created_at": at("2026-08-01")},  # no complaint
        ],
    ).lazy()
    result = cause_counts(tickets, Q3.start, Q3.end).collect()
    expected = pl.DataFrame({"root_cause": ["a", None], "complaints": [2, 1]})
    assert_frame_equal(result, expected)


def test_cause_counts_feed_emerging_causes():
    tickets = frame(
        "tickets",
        [
            {"is_complaint": True, "root_cause": "a", "created_at": at("2026-10-02")},
            {"is_complaint": True, "root_cause": "a", "created_at": at("2026-08-02")},
        ],
    ).lazy()
    now = cause_counts(tickets, Q4_RUNNING.start, Q4_RUNNING.end).collect()
    before = cause_counts(tickets, Q3.start, Q3.end).collect()
    # 1 in 30 days vs 1 in 92 days: growth 92 / 30 − 1 = +206.7 %, far from significant
    result = emerging(now, before)
    assert result.select("count_now", "count_before").row(0) == (1, 1)
    assert result["growth_pct"][0] == pytest.approx(100 * (92 / 30 - 1))
    assert result["significant"][0] is False
