"""The Loyalty page's functions on the medium demo: VIP NPS above the other tiers in the what-if summary,
the churn gap of complainers left unresolved, and a moved slider that only ever grows the VIP tier."""

from dataclasses import replace

import polars as pl
import pytest

from cxdash.config import TierThresholds
from cxdash.metrics.loyalty import whatif_summary
from cxdash.metrics.tiers import TierRules
from cxdash.periods import parse_period
from cxdash.views.loyalty import lifecycle_view, loyalty_facts, what_if
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


@pytest.fixture(scope="module")
def facts(frames, span):
    return loyalty_facts(frames, PERIOD, span=span, tz=TZ, rules=RULES, csat_threshold=4)


def test_vip_nps_is_above_the_other_tiers(facts):
    summary = {row["tier"]: row for row in whatif_summary(facts, RULES).iter_rows(named=True)}
    vip = summary["vip"]
    assert vip["nps_n"] >= 60
    assert vip["nps"] >= summary["regular"]["nps"] + 12 * MARGIN
    assert vip["nps"] >= summary["prospect"]["nps"] + 12 * MARGIN


def test_lowering_the_vip_bar_moves_customers_up_only(facts):
    result = what_if(facts, current=RULES, proposed=replace(RULES, m_vip=RULES.m_vip * 0.7),
                     vip_customers_per_agent=200)  # fmt: skip
    moves = result.matrix.filter(pl.col("tier_from") != pl.col("tier_to"))
    assert moves["customers"].sum() == result.changes_total > 0
    assert set(moves.filter(pl.col("customers") > 0)["tier_to"].cast(pl.String)) == {"vip"}
    assert result.cost["vip_agents"] > result.cost["current"]["vip_agents"]


def test_the_churn_gap_shows_on_the_lifecycle_tab(frames, span):
    view = lifecycle_view(frames, PERIOD, span=span, tz=TZ, rules=RULES)
    churn = {row["outcome"]: row for row in view.churn.iter_rows(named=True)}
    assert churn["unresolved"]["churn_pct"] >= 2 * MARGIN * churn["resolved"]["churn_pct"]
    assert view.flow["customers"].sum() > 0 and view.labels[-1] == "2026Q3"
