"""The headline KPIs of METRICS.md: one Polars chain each, LazyFrames in, a one-row (value, n) LazyFrame out.

Ratios, means and percentiles are null when N = 0; counts and sums are 0 (a count of nothing is 0).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import polars as pl

from cxdash.periods import Period

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000

# Columns each frame needs for the headline KPIs (read only these).
KPI_COLUMNS: dict[str, list[str]] = {
    "tickets": [
        "ticket_id", "customer_id", "channel", "created_at", "first_response_at", "resolved_at", "priority",
        "is_complaint", "team_id", "reopen_count", "agent_replies", "escalated",
    ],
    "surveys": ["kind", "customer_id", "ticket_id", "sent_at", "responded_at", "score"],
    "orders": ["customer_id", "ordered_at", "amount", "status"],
    "customers": ["customer_id", "segment", "region", "signup_at"],
    "sla_policies": ["priority", "first_response_target_min", "resolution_target_min"],
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class KpiFrames:
    """The tables the headline KPIs read, as LazyFrames with the contract's column names."""

    tickets: pl.LazyFrame
    surveys: pl.LazyFrame
    orders: pl.LazyFrame
    customers: pl.LazyFrame
    sla_policies: pl.LazyFrame


@dataclass(frozen=True, slots=True)
class Window:
    """A period as UTC instants: [start, end), its as_of (end or data_as_of if earlier), and data_as_of."""

    start: datetime
    end: datetime
    as_of: datetime
    data_as_of: datetime

    @classmethod
    def of(cls, period: Period, *, tz: str, data_as_of: datetime) -> "Window":
        end = period.end(tz)
        return cls(start=period.start(tz), end=end, as_of=min(end, data_as_of), data_as_of=data_as_of)


@dataclass(frozen=True, slots=True)
class KpiOptions:
    """User-changeable definitions (METRICS.md): CSAT threshold and churn window."""

    csat_threshold: int = 4
    churn_window_days: int = 180


DEFAULT_OPTIONS = KpiOptions()


def in_window(column: str, window: Window) -> pl.Expr:
    """`column` falls in [start, end)."""
    return (pl.col(column) >= window.start) & (pl.col(column) < window.end)


def share_pct(condition: pl.Expr) -> pl.Expr:
    """100 × share of rows meeting `condition`; null for no rows."""
    return pl.when(pl.len() > 0).then(100 * condition.sum() / pl.len()).alias("value")


def n_rows() -> pl.Expr:
    return pl.len().cast(pl.Int64).alias("n")


def mean_with_sd(column: str) -> tuple[pl.Expr, pl.Expr]:
    """Mean as `value` and sample standard deviation as `sd` (for Welch's test)."""
    score = pl.col(column).cast(pl.Float64)
    return score.mean().alias("value"), score.std().alias("sd")


def minutes_between(start: str, end: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_microseconds() / MINUTE_US


def _responses(frames: KpiFrames, window: Window, kind: str) -> pl.LazyFrame:
    return frames.surveys.filter(
        (pl.col("kind") == kind) & in_window("responded_at", window) & pl.col("score").is_not_null()
    )


def _created(frames: KpiFrames, window: Window) -> pl.LazyFrame:
    return frames.tickets.filter(in_window("created_at", window))


def _resolved_created(frames: KpiFrames, window: Window) -> pl.LazyFrame:
    return _created(frames, window).filter(pl.col("resolved_at").is_not_null())


def _completed_orders(frames: KpiFrames) -> pl.LazyFrame:
    return frames.orders.filter(pl.col("status") == "completed")


def csat_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of csat responses with score ≥ threshold."""
    return _responses(frames, window, "csat").select(
        share_pct(pl.col("score") >= options.csat_threshold), n_rows()
    )


def csat_mean(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Mean csat score (1–5)."""
    return _responses(frames, window, "csat").select(*mean_with_sd("score"), n_rows())


def csat_response_rate_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Answered share of csat surveys sent in the period."""
    return frames.surveys.filter((pl.col("kind") == "csat") & in_window("sent_at", window)).select(
        share_pct(pl.col("responded_at").is_not_null()), n_rows()
    )


def nps(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Promoters (9–10) minus detractors (0–6), in points; passives count in N."""
    promoters = (pl.col("score") >= 9).sum().cast(pl.Int64)
    detractors = (pl.col("score") <= 6).sum().cast(pl.Int64)
    return _responses(frames, window, "nps").select(
        pl.when(pl.len() > 0).then(100 * (promoters - detractors) / pl.len()).alias("value"),
        n_rows(),
        promoters.alias("promoters"),
        detractors.alias("detractors"),
    )


def ces_mean(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Mean ces score (1–7, 7 = easiest)."""
    return _responses(frames, window, "ces").select(*mean_with_sd("score"), n_rows())


def _first_response_minutes(frames: KpiFrames, window: Window) -> pl.LazyFrame:
    return _created(frames, window).filter(pl.col("first_response_at").is_not_null())


def frt_median_min(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Median minutes to first response of tickets created in the period."""
    return _first_response_minutes(frames, window).select(
        minutes_between("created_at", "first_response_at").median().alias("value"), n_rows()
    )


def frt_p90_min(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """90th percentile (linear) of minutes to first response."""
    return _first_response_minutes(frames, window).select(
        minutes_between("created_at", "first_response_at")
        .quantile(0.9, interpolation="linear")
        .alias("value"),
        n_rows(),
    )


def resolution_median_h(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Median hours to (latest) resolution of tickets created in the period."""
    return _resolved_created(frames, window).select(
        (minutes_between("created_at", "resolved_at") / 60).median().alias("value"), n_rows()
    )


def resolution_p90_h(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """90th percentile (linear) of hours to resolution."""
    return _resolved_created(frames, window).select(
        (minutes_between("created_at", "resolved_at") / 60)
        .quantile(0.9, interpolation="linear")
        .alias("value"),
        n_rows(),
    )


def _sla_attainment(frames: KpiFrames, window: Window, done_at: str, target: str) -> pl.LazyFrame:
    """Met / (met + breached); tickets without `done_at` still inside their target are left out."""
    elapsed = minutes_between("created_at", done_at)
    age = (pl.lit(window.data_as_of) - pl.col("created_at")).dt.total_microseconds() / MINUTE_US
    met = pl.col(done_at).is_not_null() & (elapsed <= pl.col(target))
    breached = (pl.col(done_at).is_not_null() & (elapsed > pl.col(target))) | (
        pl.col(done_at).is_null() & (age > pl.col(target))
    )
    return (
        _created(frames, window)
        .join(frames.sla_policies, on="priority", how="inner")
        .filter(met | breached)
        .select(share_pct(met), n_rows())
    )


def sla_first_response_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """First-response SLA attainment by priority policy."""
    return _sla_attainment(frames, window, "first_response_at", "first_response_target_min")


def sla_resolution_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Resolution SLA attainment by priority policy."""
    return _sla_attainment(frames, window, "resolved_at", "resolution_target_min")


def tickets(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Tickets created in the period."""
    return _created(frames, window).select(pl.len().cast(pl.Float64).alias("value"), n_rows())


def complaints(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Complaint tickets created in the period."""
    return (
        _created(frames, window)
        .filter(pl.col("is_complaint"))
        .select(pl.len().cast(pl.Float64).alias("value"), n_rows())
    )


def complaint_rate_per_1k_orders(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """1000 × complaints / completed orders in the period; N = completed orders."""
    return (
        _created(frames, window)
        .select(pl.col("is_complaint").sum().alias("complaints"))
        .join(
            _completed_orders(frames).filter(in_window("ordered_at", window)).select(n_rows()),
            how="cross",
        )
        .select(
            pl.when(pl.col("n") > 0).then(1000 * pl.col("complaints") / pl.col("n")).alias("value"),
            "n",
            "complaints",
        )
    )


def reopen_rate_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of resolved tickets (created in the period) that were ever reopened."""
    return _resolved_created(frames, window).select(share_pct(pl.col("reopen_count") > 0), n_rows())


def one_touch_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of resolved tickets (created in the period) with at most one public agent reply."""
    return _resolved_created(frames, window).select(share_pct(pl.col("agent_replies") <= 1), n_rows())


def escalation_rate_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of tickets created in the period that were escalated."""
    return _created(frames, window).select(share_pct(pl.col("escalated")), n_rows())


def backlog_open(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Tickets created by as_of and not resolved by as_of."""
    return frames.tickets.filter(
        (pl.col("created_at") <= window.as_of)
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > window.as_of))
    ).select(pl.len().cast(pl.Float64).alias("value"), n_rows())


def revenue(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Sum of completed orders' amounts in the period, to the cent; N = orders."""
    return (
        _completed_orders(frames)
        .filter(in_window("ordered_at", window))
        .select(pl.col("amount").sum().round(2).alias("value"), n_rows())
    )


def conversion_rate_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of customers who signed up in the period with a completed order by as_of."""
    first_orders = (
        _completed_orders(frames)
        .group_by("customer_id")
        .agg(pl.col("ordered_at").min().alias("first_order_at"))
    )
    return (
        frames.customers.filter(in_window("signup_at", window))
        .join(first_orders, on="customer_id", how="left")
        .select(share_pct(pl.col("first_order_at") <= window.as_of), n_rows())
    )


def _buyers_between(frames: KpiFrames, after: datetime, until: datetime) -> pl.LazyFrame:
    """Distinct customers with a completed order in (after, until]."""
    return (
        _completed_orders(frames)
        .filter((pl.col("ordered_at") > after) & (pl.col("ordered_at") <= until))
        .select("customer_id")
        .unique()
    )


def active_customers(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Customers with a completed order in the W days up to as_of."""
    since = window.as_of - timedelta(days=options.churn_window_days)
    return _buyers_between(frames, since, window.as_of).select(
        pl.len().cast(pl.Float64).alias("value"), n_rows()
    )


def churn_rate_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of customers active at the period start who are no longer active at as_of."""
    w = timedelta(days=options.churn_window_days)
    still_active = _buyers_between(frames, window.as_of - w, window.as_of).with_columns(
        pl.lit(True).alias("still_active")
    )
    return (
        _buyers_between(frames, window.start - w, window.start)
        .join(still_active, on="customer_id", how="left")
        .select(share_pct(pl.col("still_active").is_null()), n_rows())
    )


def repeat_purchase_rate_pct(frames: KpiFrames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of buyers of the 365 days up to as_of with two or more completed orders."""
    return (
        _completed_orders(frames)
        .filter(
            (pl.col("ordered_at") > window.as_of - timedelta(days=365))
            & (pl.col("ordered_at") <= window.as_of)
        )
        .group_by("customer_id")
        .agg(pl.len().alias("orders"))
        .select(share_pct(pl.col("orders") >= 2), n_rows())
    )


KpiFunction = Callable[[KpiFrames, Window, KpiOptions], pl.LazyFrame]
# How a change between two periods is tested (METRICS.md): none for medians, stocks and sums.
ChangeTest = Literal["proportion", "mean", "nps", "count", "rate_per_order", "none"]


@dataclass(frozen=True, slots=True)
class KpiSpec:
    name: str
    compute: KpiFunction
    unit: str  # "%", "points", "score", "min", "h", "count", "currency", "per 1k orders"
    higher_is_better: bool | None  # None: neither (volumes)
    test: ChangeTest = "none"


HEADLINE_KPIS: tuple[KpiSpec, ...] = (
    KpiSpec("csat_pct", csat_pct, "%", True, "proportion"),
    KpiSpec("csat_mean", csat_mean, "score", True, "mean"),
    KpiSpec("csat_response_rate_pct", csat_response_rate_pct, "%", True, "proportion"),
    KpiSpec("nps", nps, "points", True, "nps"),
    KpiSpec("ces_mean", ces_mean, "score", True, "mean"),
    KpiSpec("frt_median_min", frt_median_min, "min", False),
    KpiSpec("frt_p90_min", frt_p90_min, "min", False),
    KpiSpec("resolution_median_h", resolution_median_h, "h", False),
    KpiSpec("resolution_p90_h", resolution_p90_h, "h", False),
    KpiSpec("sla_first_response_pct", sla_first_response_pct, "%", True, "proportion"),
    KpiSpec("sla_resolution_pct", sla_resolution_pct, "%", True, "proportion"),
    KpiSpec("tickets", tickets, "count", None, "count"),
    KpiSpec("complaints", complaints, "count", False, "count"),
    KpiSpec(
        "complaint_rate_per_1k_orders", complaint_rate_per_1k_orders, "per 1k orders", False, "rate_per_order"
    ),
    KpiSpec("reopen_rate_pct", reopen_rate_pct, "%", False, "proportion"),
    KpiSpec("one_touch_pct", one_touch_pct, "%", True, "proportion"),
    KpiSpec("escalation_rate_pct", escalation_rate_pct, "%", False, "proportion"),
    KpiSpec("backlog_open", backlog_open, "count", False),
    KpiSpec("revenue", revenue, "currency", True),
    KpiSpec("conversion_rate_pct", conversion_rate_pct, "%", True, "proportion"),
    KpiSpec("active_customers", active_customers, "count", True),
    KpiSpec("churn_rate_pct", churn_rate_pct, "%", False, "proportion"),
    KpiSpec("repeat_purchase_rate_pct", repeat_purchase_rate_pct, "%", True, "proportion"),
)
KPI_BY_NAME = {spec.name: spec for spec in HEADLINE_KPIS}


@dataclass(frozen=True, slots=True)
class KpiValue:
    value: float | None
    n: int
    extra: dict[str, float] = field(default_factory=dict)  # sd, promoters, … for significance tests


def headline_kpis(
    frames: KpiFrames, window: Window, options: KpiOptions = DEFAULT_OPTIONS
) -> dict[str, KpiValue]:
    """Every headline KPI of one period and scope."""
    return headline_kpis_many(frames, [window], options)[0]


def headline_kpis_many(
    frames: KpiFrames, windows: Sequence[Window], options: KpiOptions = DEFAULT_OPTIONS
) -> list[dict[str, KpiValue]]:
    """Every headline KPI for several periods, computed in one parallel collect."""
    results = pl.collect_all([spec.compute(frames, w, options) for w in windows for spec in HEADLINE_KPIS])
    per_window = len(HEADLINE_KPIS)
    return [
        {
            spec.name: _kpi_value(result)
            for spec, result in zip(
                HEADLINE_KPIS, results[i * per_window : (i + 1) * per_window], strict=True
            )
        }
        for i in range(len(windows))
    ]


def _kpi_value(result: pl.DataFrame) -> KpiValue:
    return KpiValue(
        value=_plain(result["value"][0]),
        n=int(result["n"][0]),
        extra={c: _plain(result[c][0]) for c in result.columns if c not in ("value", "n")},
    )


def _plain(value: object) -> float | None:
    """A float, or None for null and NaN."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
