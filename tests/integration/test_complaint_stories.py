"""The Complaints page's functions on the medium demo find the planted stories (data/README.md): the
double charge is the top emerging cause of the quarter it was planted in, and customers left with an
unresolved complaint stop buying far more often."""

import polars as pl
import pytest

from cxdash.config import TierThresholds
from cxdash.metrics.kpis import KpiOptions, Window, headline_kpis_many
from cxdash.metrics.tiers import TierRules
from cxdash.periods import parse_period, periods_with_data
from cxdash.views.complaints import complaint_trend, emerging_view, pareto_view, value_view, workflow_view
from tests.conftest import MEDIUM

TZ = MEDIUM.tz
MARGIN = 1.2
PLANTED = parse_period("2026Q3")
RULES = TierRules.from_settings(TierThresholds(), 180)


@pytest.fixture(scope="module")
def frames(medium_demo):
    return medium_demo


@pytest.fixture(scope="module")
def span(medium_span):
    return medium_span


def test_double_charge_is_the_top_emerging_cause_where_it_was_planted(frames, span):
    view = emerging_view(frames, PLANTED, span=span, tz=TZ)
    top = view.table.row(0, named=True)
    assert top["root_cause"] == "billing.double_charge"
    assert top["significant"] and top["p_value"] < 0.001
    assert top["growth_pct"] >= 35 * MARGIN  # the story: about +60% on the quarter before
    # in the quarter before, nothing of the kind stands out
    before = emerging_view(frames, PLANTED.previous(), span=span, tz=TZ).table
    assert "billing.double_charge" not in before.filter(pl.col("significant"))["root_cause"].to_list()


def test_the_pareto_drills_to_the_double_charge(frames, span):
    billing = pareto_view(frames, PLANTED, path=(("category", "billing"),), span=span, tz=TZ, weights=None)
    assert billing["root_cause"][0] == "billing.double_charge"
    assert billing["cumulative_pct"][-1] == pytest.approx(100.0)


def test_unresolved_complainers_stop_buying_far_more_often(frames, span):
    view = value_view(frames, PLANTED, span=span, tz=TZ, options=KpiOptions(), rules=RULES)
    # the churn window has not passed for 2026Q3: the latest quarter 180 days back is shown
    assert view.churn_period is not None and view.churn_period.end_date <= PLANTED.start_date
    churn = {row["outcome"]: row for row in view.churn.iter_rows(named=True)}
    assert churn["unresolved"]["customers"] >= 50
    assert churn["unresolved"]["churn_pct"] >= 2 * MARGIN * churn["resolved"]["churn_pct"]
    assert view.at_risk_customers > 0 and view.at_risk_revenue > 0


def test_every_complaint_of_the_period_is_registered_in_the_workflow(frames, span):
    view = workflow_view(frames, PLANTED, span=span, tz=TZ)
    reach = dict(zip(view.reach["stage"].cast(pl.String), view.reach["share_pct"], strict=True))
    assert reach["registered"] == 100.0 and reach["resolved"] > 80
    assert view.repeats["n"] > 1000


def test_volume_equals_the_kpis_in_every_quarter(frames, span):
    periods = periods_with_data("quarter", span, TZ)
    trend = complaint_trend(frames, periods, kind="quarter", dimension=None, span=span, tz=TZ)
    windows = [Window.of(p, tz=TZ, data_as_of=span.data_as_of) for p in periods]
    names = ("complaints", "complaint_rate_per_1k_orders")
    for period, kpis in zip(
        periods, headline_kpis_many(frames, windows, KpiOptions(), names=names), strict=True
    ):
        row = trend.filter(pl.col("period") == period.label).row(0, named=True)
        assert row["complaints"] == kpis["complaints"].value, period.label
        assert row["rate_per_1k"] == pytest.approx(kpis["complaint_rate_per_1k_orders"].value), period.label
