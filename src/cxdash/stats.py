"""Significance tests for period-over-period changes (METRICS.md "Statistics used"), two-sided, 95%."""

import math

from scipy import stats as sps

ALPHA = 0.05


def two_proportion_p(hits_a: float, n_a: int, hits_b: float, n_b: int) -> float | None:
    """Pooled two-proportion z-test; None when either sample is empty or the pooled share is 0 or 1."""
    if n_a == 0 or n_b == 0:
        return None
    pooled = (hits_a + hits_b) / (n_a + n_b)
    if pooled in (0.0, 1.0):
        return None if hits_a / n_a == hits_b / n_b else 0.0
    z = (hits_a / n_a - hits_b / n_b) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return float(2 * sps.norm.sf(abs(z)))


def welch_p(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int) -> float | None:
    """Welch's t-test from summary statistics; None with fewer than two values on a side."""
    if n_a < 2 or n_b < 2 or (sd_a == 0 and sd_b == 0):
        return None
    result = sps.ttest_ind_from_stats(mean_a, sd_a, n_a, mean_b, sd_b, n_b, equal_var=False)
    return float(result.pvalue)


def nps_p(
    promoters_a: int, detractors_a: int, n_a: int, promoters_b: int, detractors_b: int, n_b: int
) -> float | None:
    """z-test for a difference in NPS, with the variance of a promoter−detractor score."""
    if n_a == 0 or n_b == 0:
        return None

    def score_and_var(promoters: int, detractors: int, n: int) -> tuple[float, float]:
        p, d = promoters / n, detractors / n
        return p - d, (p + d - (p - d) ** 2) / n

    score_a, var_a = score_and_var(promoters_a, detractors_a, n_a)
    score_b, var_b = score_and_var(promoters_b, detractors_b, n_b)
    if var_a + var_b == 0:
        return None
    return float(2 * sps.norm.sf(abs(score_a - score_b) / math.sqrt(var_a + var_b)))


def poisson_rate_p(count_a: int, exposure_a: float, count_b: int, exposure_b: float) -> float | None:
    """Exact test of two Poisson rates, conditional on the total (a binomial test)."""
    if exposure_a <= 0 or exposure_b <= 0 or count_a + count_b == 0:
        return None
    share = exposure_a / (exposure_a + exposure_b)
    return float(sps.binomtest(count_a, count_a + count_b, share).pvalue)


def wilson_interval(hits: int, n: int, *, z: float = 1.959964) -> tuple[float, float] | None:
    """95% Wilson score interval of a proportion; None for n = 0."""
    if n == 0:
        return None
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
