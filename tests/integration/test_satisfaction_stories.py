"""The Satisfaction page's functions on the medium demo: they find the planted stories (data/README.md)
and their totals equal the headline KPIs in every quarter."""

import polars as pl
import pytest

from cxdash.config import TierThresholds
from cxdash.metrics.kpis import KpiOptions, Window, headline_kpis_many
from cxdash.metrics.satisfaction import SURVEY_KPIS
from cxdash.metrics.tiers import TierRules
from cxdash.periods import parse_period, periods_with_data
from cxdash.views.satisfaction import driver_view, satisfaction_breakdown, satisfaction_trend
from tests.conftest import MEDIUM

TZ = MEDIUM.tz
MARGIN = 1.2
PERIOD = parse_period("2026Q3")
RULES = TierRules.from_settings(TierThresholds(), 180)


@pytest.fixture(scope="module")
def frames(medium_demo):
    return medium_demo


@pytest.fixture(scope="module")
def span(medium_span):
    return medium_span


def test_resolution_is_the_top_driver_and_speed_second(frames, span):
    view = driver_view(frames, PERIOD, span=span, tz=TZ, options=KpiOptions())
    assert view.analysis.status == "ok" and view.analysis.n >= 1000
    ranked = view.table.filter(pl.col("kept")).sort("importance", descending=True)
    assert ranked["driver"][:2].to_list() == ["rating_resolution", "rating_speed"]
    top = ranked.row(0, named=True)
    assert top["p_value"] < 0.001 and top["importance"] >= MARGIN * ranked["importance"][1]
    # resolution is the most important and the weakest item: fix it first
    assert top["quadrant"] == "fix_first"


def test_vip_nps_is_above_the_rest(frames, span):
    table = satisfaction_breakdown(frames, PERIOD, dimension="tier", span=span, tz=TZ, options=KpiOptions(),
                                   rules=RULES).filter(pl.col("kpi") == "nps")  # fmt: skip
    vip = table.filter(pl.col("group") == "vip").row(0, named=True)
    rest = table.filter(pl.col("group") != "vip").select(pl.col("promoters", "detractors", "n").sum()).row(0)
    rest_nps = 100 * (rest[0] - rest[1]) / rest[2]
    assert not vip["small"] and vip["n"] >= 60
    assert vip["value"] >= rest_nps + 12 * MARGIN
    assert vip["low"] > rest_nps  # above the rest beyond its 95% interval


def test_totals_equal_the_headline_kpis_in_every_quarter(frames, span):
    periods = periods_with_data("quarter", span, TZ)
    options = KpiOptions()
    trend = satisfaction_trend(frames, periods, kind="quarter", split=None, span=span, tz=TZ, options=options,
                               rules=RULES)  # fmt: skip
    windows = [Window.of(p, tz=TZ, data_as_of=span.data_as_of) for p in periods]
    for period, kpis in zip(
        periods, headline_kpis_many(frames, windows, KpiOptions(), names=SURVEY_KPIS), strict=True
    ):
        for name in SURVEY_KPIS:
            row = trend.filter((pl.col("period") == period.label) & (pl.col("kpi") == name))
            if kpis[name].n == 0:
                assert row.is_empty()
                continue
            assert row["n"][0] == kpis[name].n, (period.label, name)
            assert row["value"][0] == pytest.approx(kpis[name].value), (period.label, name)
