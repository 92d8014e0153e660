"""A period against the one before and the same one a year earlier: values, changes, significance
(METRICS.md "Statistics used") and targets. One computation for the Overview, `kpis`, and the review,
team and complaints pages."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from cxdash import stats
from cxdash.load import Frames
from cxdash.metrics.kpis import HEADLINE_KPIS, KpiOptions, KpiSpec, KpiValue, Window, headline_kpis_many
from cxdash.periods import DataSpan, Period

Status = Literal["green", "amber", "red"]
AMBER_MARGIN = 0.05  # within 5% of the target (relative) counts as "near"
# Counts and sums of a period: compared per day of data when either period is still running.
FLOW_UNITS = frozenset({"count", "currency"})
STOCK_KPIS = frozenset({"backlog_open", "active_customers"})  # a level at as_of, not a flow


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """A period's KPIs with its window (the exposure for count tests)."""

    period: Period
    window: Window
    kpis: dict[str, KpiValue]

    @property
    def exposure_days(self) -> float:
        return self.window.exposure_days

    @property
    def running(self) -> bool:
        return self.window.running


@dataclass(frozen=True, slots=True)
class Comparison:
    """A KPI against another period: the other value, the change, and its p-value when testable.

    `adjusted`: a count or sum compared per day of data (a running period), so `other` is the other
    period's value scaled to this period's days and `delta` is against that.
    """

    other: float | None
    delta: float | None
    p_value: float | None
    adjusted: bool = False

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < stats.ALPHA


NO_COMPARISON = Comparison(other=None, delta=None, p_value=None)


def change_p_value(
    spec: KpiSpec, now: KpiValue, then: KpiValue, now_days: float, then_days: float
) -> float | None:
    """p-value of the change from `then` to `now` with the test METRICS.md names for this KPI."""
    if now.value is None or then.value is None:
        return None
    if spec.test == "proportion":
        return stats.two_proportion_p(now.value * now.n / 100, now.n, then.value * then.n / 100, then.n)
    if spec.test == "mean":
        sd_now, sd_then = now.extra.get("sd"), then.extra.get("sd")
        if sd_now is None or sd_then is None:
            return None
        return stats.welch_p(now.value, sd_now, now.n, then.value, sd_then, then.n)
    if spec.test == "nps":
        return stats.nps_p(
            int(now.extra["promoters"]), int(now.extra["detractors"]), now.n,
            int(then.extra["promoters"]), int(then.extra["detractors"]), then.n,
        )  # fmt: skip
    if spec.test == "count":
        return stats.poisson_rate_p(now.n, now_days, then.n, then_days)
    if spec.test == "rate_per_order":
        return stats.poisson_rate_p(
            int(now.extra["complaints"]), now.n, int(then.extra["complaints"]), then.n
        )
    return None


def is_flow(spec: KpiSpec) -> bool:
    return spec.unit in FLOW_UNITS and spec.name not in STOCK_KPIS


def compare(spec: KpiSpec, now: PeriodResult, then: PeriodResult | None) -> Comparison:
    """`now` against `then`; counts and sums per day of data when either period is running."""
    if then is None:
        return NO_COMPARISON
    a, b = now.kpis[spec.name], then.kpis[spec.name]
    p_value = change_p_value(spec, a, b, now.exposure_days, then.exposure_days)
    if a.value is None or b.value is None:
        return Comparison(other=b.value, delta=None, p_value=p_value)
    adjusted = is_flow(spec) and (now.running or then.running) and then.exposure_days > 0
    other = b.value * now.exposure_days / then.exposure_days if adjusted else b.value
    return Comparison(other=other, delta=a.value - other, p_value=p_value, adjusted=adjusted)


def target_status(value: float | None, target: float | None, higher_is_better: bool | None) -> Status | None:
    """green: meets the target; amber: within 5% of it; red: further off. None without a target."""
    if value is None or target is None or higher_is_better is None:
        return None
    gap = (value - target) if higher_is_better else (target - value)
    if gap >= 0:
        return "green"
    return "amber" if abs(gap) <= AMBER_MARGIN * abs(target) else "red"


def resolve_targets(targets: pl.DataFrame, *, period_label: str, teams: Sequence[str]) -> dict[str, float]:
    """Target per KPI: a team's own (when exactly one team is chosen) over the company's, and a
    period's own over the every-period (`*`) one."""
    team = teams[0] if len(teams) == 1 else ""
    ranked = (
        targets.filter(
            (pl.col("team_id").is_null() | (pl.col("team_id") == team))
            & pl.col("period").is_in([period_label, "*"])
        )
        .with_columns(
            (
                pl.col("team_id").is_not_null().cast(pl.Int8) * 2 + (pl.col("period") != "*").cast(pl.Int8)
            ).alias("rank")
        )
        .sort("metric", "rank", descending=[False, True])
        .unique("metric", keep="first", maintain_order=True)
    )
    return dict(zip(ranked["metric"].to_list(), ranked["target"].to_list(), strict=True))


@dataclass(frozen=True, slots=True)
class KpiComparison:
    """One KPI of a period against the previous period, last year and its target."""

    spec: KpiSpec
    now: KpiValue
    vs_previous: Comparison
    vs_last_year: Comparison
    target: float | None
    status: Status | None


@dataclass(frozen=True, slots=True)
class ComparedPeriods:
    """A period, the one before and the same one a year earlier (None when before the data), plus
    any extra periods computed in the same pass (trends)."""

    current: PeriodResult
    previous: PeriodResult | None
    last_year: PeriodResult | None
    extra: dict[str, PeriodResult]

    def kpis(self, targets: dict[str, float] | None = None) -> list[KpiComparison]:
        """Every headline KPI computed, in HEADLINE_KPIS order."""
        targets = targets or {}
        rows = []
        for spec in (spec for spec in HEADLINE_KPIS if spec.name in self.current.kpis):
            value = self.current.kpis[spec.name]
            target = targets.get(spec.name)
            rows.append(
                KpiComparison(
                    spec=spec,
                    now=value,
                    vs_previous=compare(spec, self.current, self.previous),
                    vs_last_year=compare(spec, self.current, self.last_year),
                    target=target,
                    status=target_status(value.value, target, spec.higher_is_better),
                )
            )
        return rows


def compare_periods(
    frames: Frames,
    period: Period,
    *,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
    extra_periods: Sequence[Period] = (),
    names: Sequence[str] | None = None,
) -> ComparedPeriods:
    """Every headline KPI (or those `names`) of the period, the one before, the same one last year and
    `extra_periods`, in one parallel collect (a period that repeats is computed once)."""
    compared = [period, period.previous(), period.same_last_year()]
    periods = list({p.label: p for p in [*compared, *extra_periods]}.values())
    windows = [Window.of(p, tz=tz, data_as_of=span.data_as_of) for p in periods]
    values = headline_kpis_many(frames, windows, options, names=names)
    results = {
        p.label: PeriodResult(period=p, window=w, kpis=kpis)
        for p, w, kpis in zip(periods, windows, values, strict=True)
    }

    def with_data(p: Period) -> PeriodResult | None:
        return results[p.label] if p.end(tz) > span.first else None

    return ComparedPeriods(
        current=results[period.label],
        previous=with_data(compared[1]),
        last_year=with_data(compared[2]),
        extra={p.label: results[p.label] for p in extra_periods},
    )
