"""Significance tests against values worked out by hand or from textbook tables."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxdash import stats


def test_two_proportion_z_by_hand():
    # 80/100 vs 70/100: pooled 0.75, se = sqrt(0.75·0.25·0.02) = 0.061237, z = 1.63299 → p = 0.10247
    assert stats.two_proportion_p(80, 100, 70, 100) == pytest.approx(0.10247, abs=1e-4)
    # 800/1000 vs 700/1000: z = 5.164 → p ≈ 2.4e-7
    assert stats.two_proportion_p(800, 1000, 700, 1000) < 1e-6


def test_two_proportion_edge_cases():
    assert stats.two_proportion_p(5, 10, 0, 0) is None
    assert stats.two_proportion_p(10, 10, 20, 20) is None  # both 100 %: no change, nothing to test


def test_welch_by_hand():
    # means 4.2 vs 4.0, sd 1.0, n 100 each: t = 0.2 / sqrt(0.02) = 1.4142, df ≈ 198 → p ≈ 0.1589
    assert stats.welch_p(4.2, 1.0, 100, 4.0, 1.0, 100) == pytest.approx(0.1589, abs=1e-3)
    assert stats.welch_p(4.2, 1.0, 1, 4.0, 1.0, 100) is None


def test_nps_z_by_hand():
    # A: 50 % promoters, 20 % detractors (NPS 30), n 400; B: 40 % / 30 % (NPS 10), n 400
    # var A = (0.7 − 0.09)/400, var B = (0.7 − 0.01)/400 → z = 0.2 / sqrt(1.30/400) = 3.508 → p ≈ 0.00045
    assert stats.nps_p(200, 80, 400, 160, 120, 400) == pytest.approx(0.00045, abs=5e-5)


def test_poisson_rate_exact():
    # 30 vs 10 events over equal exposure: binomial(40, 0.5) two-sided p for 30 = 0.00222
    assert stats.poisson_rate_p(30, 90, 10, 90) == pytest.approx(0.00222, abs=5e-5)
    # same counts over proportional exposure: no evidence of change
    assert stats.poisson_rate_p(30, 90, 10, 30) == pytest.approx(1.0)
    assert stats.poisson_rate_p(0, 1, 0, 1) is None


def test_wilson_interval_by_hand():
    # 8/10: centre (0.8 + 0.19207)/1.38415 = 0.71683, half 0.2279 → (0.4902, 0.9433)
    lo, hi = stats.wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3)
    assert hi == pytest.approx(0.9433, abs=1e-3)
    assert stats.wilson_interval(0, 0) is None


@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 500), st.integers(1, 500))
def test_p_values_are_probabilities(hits_a, n_a, hits_b, n_b):
    hits_a, hits_b = min(hits_a, n_a), min(hits_b, n_b)
    p = stats.two_proportion_p(hits_a, n_a, hits_b, n_b)
    assert p is None or 0.0 <= p <= 1.0
    interval = stats.wilson_interval(hits_a, n_a)
    assert 0.0 <= interval[0] <= hits_a / n_a + 1e-12 <= interval[1] + 2e-12 <= 1.0 + 1e-9
    assert not math.isnan(interval[0])
