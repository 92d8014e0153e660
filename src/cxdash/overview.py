"""The Overview's content as data: KPI cards with targets and tested changes, and KPI trends."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import polars as pl

from cxdash import stats
from cxdash.metrics.kpis import (
    HEADLINE_KPIS,
    KpiFrames,
    KpiOptions,
    KpiSpec,
    KpiValue,
    Window,
    headline_kpis_many,
)
from cxdash.periods import Period

Status = Literal["green", "amber", "red"]
AMBER_MARGIN = 0.05  # within 5% of the target (relative) counts as "near"

KPI_GROUPS: dict[str, tuple[str, ...]] = {
    "satisfaction": ("csat_pct", "nps", "ces_mean", "csat_mean", "csat_response_rate_pct"),
    "service": (
        "frt_median_min", "frt_p90_min", "resolution_median_h", "resolution_p90_h",
        "sla_first_response_pct", "sla_resolution_pct", "reopen_rate_pct", "one_touch_pct",
    ),
    "volume": (
        "tickets", "complaints", "complaint_rate_per_1k_orders", "escalation_rate_pct", "backlog_open",
    ),
    "customers": (
        "revenue", "active_customers", "churn_rate_pct", "repeat_purchase_rate_pct", "conversion_rate_pct",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Comparison:
    """A KPI against another period: the other value, the change, and its p-value when testable."""

    other: float | None
    delta: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < stats.ALPHA


@dataclass(frozen=True, slots=True)
class KpiCard:
    name: str
    unit: str
    higher_is_better: bool | None
    value: float | None
    n: int
    target: float | None
    status: Status | None
    vs_previous: Comparison
    vs_last_year: Comparison


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """A period's KPIs with its window (the exposure for count tests)."""

    window: Window
    kpis: dict[str, KpiValue]

    @property
    def exposure_days(self) -> float:
        return max((self.window.as_of - self.window.start).total_seconds() / 86400, 0.0)


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


def compare(spec: KpiSpec, now: PeriodResult, then: PeriodResult | None) -> Comparison:
    if then is None:
        return Comparison(other=None, delta=None, p_value=None)
    a, b = now.kpis[spec.name], then.kpis[spec.name]
    delta = None if a.value is None or b.value is None else a.value - b.value
    p_value = change_p_value(spec, a, b, now.exposure_days, then.exposure_days)
    return Comparison(other=b.value, delta=delta, p_value=p_value)


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


def kpi_cards(
    now: PeriodResult,
    previous: PeriodResult | None,
    last_year: PeriodResult | None,
    targets: dict[str, float],
) -> list[KpiCard]:
    """A card per headline KPI, in the order of HEADLINE_KPIS."""
    cards = []
    for spec in HEADLINE_KPIS:
        current = now.kpis[spec.name]
        target = targets.get(spec.name)
        cards.append(
            KpiCard(
                name=spec.name,
                unit=spec.unit,
                higher_is_better=spec.higher_is_better,
                value=current.value,
                n=current.n,
                target=target,
                status=target_status(current.value, target, spec.higher_is_better),
                vs_previous=compare(spec, now, previous),
                vs_last_year=compare(spec, now, last_year),
            )
        )
    return cards


@dataclass(frozen=True, slots=True)
class OverviewResults:
    current: PeriodResult
    previous: PeriodResult | None  # None when the period lies before the data
    last_year: PeriodResult | None
    series: pl.DataFrame  # period, period_start, kpi, value, n, partial (still running at data_as_of)


def overview_results(
    frames: KpiFrames,
    period: Period,
    trend_periods: Sequence[Period],
    *,
    tz: str,
    data_first: datetime,
    data_as_of: datetime,
    options: KpiOptions,
) -> OverviewResults:
    """The chosen period, the one before, the same one a year earlier and the trend periods: every
    headline KPI of each, computed in one parallel collect (periods that repeat are computed once)."""
    compared = [period, period.previous(), period.same_last_year()]
    periods = list({p.label: p for p in [*compared, *trend_periods]}.values())
    windows = [Window.of(p, tz=tz, data_as_of=data_as_of) for p in periods]
    results = {
        p.label: PeriodResult(window=w, kpis=kpis)
        for p, w, kpis in zip(periods, windows, headline_kpis_many(frames, windows, options), strict=True)
    }

    def with_data(p: Period) -> PeriodResult | None:
        return results[p.label] if p.end(tz) > data_first else None

    series = pl.DataFrame(
        [
            {
                "period": p.label,
                "period_start": p.start_date,
                "kpi": name,
                "value": kpi.value,
                "n": kpi.n,
                "partial": results[p.label].window.as_of < results[p.label].window.end,
            }
            for p in trend_periods
            for name, kpi in results[p.label].kpis.items()
        ],
        schema={
            "period": pl.String,
            "period_start": pl.Date,
            "kpi": pl.String,
            "value": pl.Float64,
            "n": pl.Int64,
            "partial": pl.Boolean,
        },
    )
    return OverviewResults(results[period.label], with_data(compared[1]), with_data(compared[2]), series)


SCORE_RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


def data_quality(frames: KpiFrames, window: Window) -> dict[str, int]:
    """Counts of rows in the period that break the contract's logic (0 everywhere = clean)."""
    created = frames.tickets.filter(
        (pl.col("created_at") >= window.start) & (pl.col("created_at") < window.end)
    )
    tickets = created.select(
        (pl.col("resolved_at") < pl.col("created_at")).sum().alias("resolved_before_created"),
        (pl.col("first_response_at") < pl.col("created_at")).sum().alias("responded_before_created"),
        (
            pl.col("resolved_at").is_not_null()
            & pl.col("first_response_at").is_null()
            & (pl.col("agent_replies") > 0)
        )
        .sum()
        .alias("resolved_without_first_response"),
    )
    orphans = created.join(frames.customers.select("customer_id"), on="customer_id", how="anti").select(
        pl.len().alias("tickets_without_customer")
    )
    out_of_range = pl.any_horizontal(
        (pl.col("kind") == kind) & ((pl.col("score") < lo) | (pl.col("score") > hi))
        for kind, (lo, hi) in SCORE_RANGES.items()
    )
    surveys = frames.surveys.filter(
        (pl.col("responded_at") >= window.start) & (pl.col("responded_at") < window.end)
    ).select(out_of_range.sum().alias("scores_out_of_range"))
    row = pl.concat(pl.collect_all([tickets, orphans, surveys]), how="horizontal").row(0, named=True)
    return {name: int(count or 0) for name, count in row.items()}
