"""The Team page's functions on the medium demo find the planted stories (data/README.md): the agent with
low CSAT on the same mix (A0203) is significantly below expected, and chat's first response worsens in
the quarter of the new chat vendor while the other channels do not."""

import polars as pl

from cxdash.metrics.kpis import KpiOptions
from cxdash.periods import parse_period
from cxdash.views.team import frt_trend, team_scorecards
from tests.conftest import MEDIUM

TZ = MEDIUM.tz
MARGIN = 1.2
PLANTED, BEFORE = parse_period("2026Q3"), parse_period("2026Q2")


def test_the_planted_agent_is_significantly_below_expected(medium_demo, medium_span):
    fair = team_scorecards(medium_demo, PLANTED, span=medium_span, tz=TZ, options=KpiOptions()).fair
    agent = fair.filter(pl.col("agent_id") == "A0203").row(0, named=True)
    assert not agent["small"] and agent["significant_below"]
    assert agent["diff_pct"] <= -5 * MARGIN


def test_chat_first_response_worsens_after_the_vendor_change(medium_demo, medium_span):
    table = frt_trend(
        medium_demo,
        [BEFORE, PLANTED],
        kind="quarter",
        span=medium_span,
        tz=TZ,
        options=KpiOptions(),
        by="channel",
    )
    frt = {(row["period"], row["group"]): row["frt_median_min"] for row in table.iter_rows(named=True)}
    assert frt[("2026Q3", "chat")] >= 1.5 * MARGIN * frt[("2026Q2", "chat")]
    for other in ("phone", "email", "app"):
        assert frt[("2026Q3", other)] <= 1.25 / MARGIN * frt[("2026Q2", other)], other
