"""The headline KPIs of METRICS.md: one Polars chain each, LazyFrames in, a one-row (value, n) LazyFrame out.

Ratios, means and percentiles are null when N = 0; counts and sums are 0 (a count of nothing is 0).
A KPI that is null for another reason says why in a `reason` column (not enough history, or not
defined under a ticket filter).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import polars as pl

from cxdash.business_hours import Clock, business_seconds_expr
from cxdash.load import WORKING_SECONDS, Frames
from cxdash.periods import Period

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000

# Why a KPI has no value although there is data (METRICS.md "History" and "Scope").
NOT_ENOUGH_HISTORY = "not_enough_history"
UNDEFINED_UNDER_TICKET_FILTER = "undefined_under_ticket_filter"
# Under a ticket filter these are about the customers served in the period ("customers served by …").
SERVED_CUSTOMER_KPIS = ("nps", "revenue", "active_customers", "churn_rate_pct", "repeat_purchase_rate_pct")
# Measured on the chosen clock (calendar or business hours): every label of these says which.
DURATION_KPIS = (
    "frt_median_min", "frt_p90_min", "resolution_median_h", "resolution_p90_h",
    "sla_first_response_pct", "sla_resolution_pct",
)  # fmt: skip


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

    @property
    def running(self) -> bool:
        """The period ends after data_as_of: it is still running."""
        return self.end > self.data_as_of

    @property
    def exposure_days(self) -> float:
        """Days of data in the period (start to as_of), the exposure for per-day comparisons."""
        return max((self.as_of - self.start).total_seconds() / 86400, 0.0)


@dataclass(frozen=True, slots=True)
class KpiOptions:
    """User-changeable definitions (METRICS.md): CSAT threshold, churn window, and the clock durations
    are measured on ("calendar": elapsed time; "business": working time of each ticket's team calendar)."""

    csat_threshold: int = 4
    churn_window_days: int = 180
    clock: Clock = "calendar"


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


def _instant(value: str | pl.Expr) -> pl.Expr:
    return pl.col(value) if isinstance(value, str) else value


def elapsed_minutes_expr(frames: Frames, clock: Clock, start: str | pl.Expr, end: str | pl.Expr) -> pl.Expr:
    """Minutes from `start` to `end` of each ticket (columns or instants): elapsed on the calendar
    clock, working minutes of the ticket's team calendar (`team_id`) on the business clock. Null if
    either is null."""
    if (
        clock == "business"
        and isinstance(start, str)
        and isinstance(end, str)
        and {start, end} <= set(WORKING_SECONDS)
    ):
        return (pl.col(WORKING_SECONDS[end]) - pl.col(WORKING_SECONDS[start])) / 60  # computed at load
    start, end = _instant(start), _instant(end)
    if clock == "calendar":
        return (end - start).dt.total_microseconds() / MINUTE_US
    hours = frames.working_hours
    team = pl.col("team_id").cast(pl.String)
    return business_seconds_expr(start, end, hours.calendar_index_expr(team), hours) / 60


def unavailable(reason: str) -> pl.LazyFrame:
    """The one-row result of a KPI that is not computed, with the reason."""
    return pl.LazyFrame(
        {"value": [None], "n": [0], "reason": [reason]},
        schema={"value": pl.Float64, "n": pl.Int64, "reason": pl.String},
    )


def lacks_history(frames: Frames, since: datetime) -> bool:
    """A look-back window that starts before the first completed order in the data."""
    return frames.history_from is not None and since < frames.history_from


def served_customers(frames: Frames, window: Window) -> pl.LazyFrame:
    """Customers with a ticket in scope created in the period (customer_id, unique)."""
    return _created(frames, window).select("customer_id").unique()


def _of_served(frames: Frames, window: Window, rows: pl.LazyFrame) -> pl.LazyFrame:
    """Under a ticket filter, only the rows of the customers served in the period."""
    if not frames.ticket_filtered:
        return rows
    return rows.join(served_customers(frames, window), on="customer_id", how="semi")


def _responses(frames: Frames, window: Window, kind: str) -> pl.LazyFrame:
    return frames.surveys.filter(
        (pl.col("kind") == kind) & in_window("responded_at", window) & pl.col("score").is_not_null()
    )


def _created(frames: Frames, window: Window) -> pl.LazyFrame:
    return frames.tickets.filter(in_window("created_at", window))


def _resolved_created(frames: Frames, window: Window) -> pl.LazyFrame:
    return _created(frames, window).filter(pl.col("resolved_at").is_not_null())


def _completed_orders(frames: Frames) -> pl.LazyFrame:
    return frames.orders.filter(pl.col("status") == "completed")


def csat_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of csat responses with score ≥ threshold."""
    return _responses(frames, window, "csat").select(
        share_pct(pl.col("score") >= options.csat_threshold), n_rows()
    )


def csat_mean(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Mean csat score (1–5)."""
    return _responses(frames, window, "csat").select(*mean_with_sd("score"), n_rows())


def csat_response_rate_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Answered share of csat surveys sent in the period."""
    return frames.surveys.filter((pl.col("kind") == "csat") & in_window("sent_at", window)).select(
        share_pct(pl.col("responded_at").is_not_null()), n_rows()
    )


def nps(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Promoters (9–10) minus detractors (0–6), in points; passives count in N."""
    promoters = (pl.col("score") >= 9).sum().cast(pl.Int64)
    detractors = (pl.col("score") <= 6).sum().cast(pl.Int64)
    return _of_served(frames, window, _responses(frames, window, "nps")).select(
        pl.when(pl.len() > 0).then(100 * (promoters - detractors) / pl.len()).alias("value"),
        n_rows(),
        promoters.alias("promoters"),
        detractors.alias("detractors"),
    )


def ces_mean(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Mean ces score (1–7, 7 = easiest)."""
    return _responses(frames, window, "ces").select(*mean_with_sd("score"), n_rows())


def _first_response_minutes(frames: Frames, window: Window) -> pl.LazyFrame:
    return _created(frames, window).filter(pl.col("first_response_at").is_not_null())


def frt_median_min(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Median minutes to first response of tickets created in the period."""
    return _first_response_minutes(frames, window).select(
        elapsed_minutes_expr(frames, options.clock, "created_at", "first_response_at")
        .median()
        .alias("value"),
        n_rows(),
    )


def frt_p90_min(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """90th percentile (linear) of minutes to first response."""
    return _first_response_minutes(frames, window).select(
        elapsed_minutes_expr(frames, options.clock, "created_at", "first_response_at")
        .quantile(0.9, interpolation="linear")
        .alias("value"),
        n_rows(),
    )


def resolution_median_h(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Median hours to (latest) resolution of tickets created in the period."""
    return _resolved_created(frames, window).select(
        (elapsed_minutes_expr(frames, options.clock, "created_at", "resolved_at") / 60)
        .median()
        .alias("value"),
        n_rows(),
    )


def resolution_p90_h(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """90th percentile (linear) of hours to resolution."""
    return _resolved_created(frames, window).select(
        (elapsed_minutes_expr(frames, options.clock, "created_at", "resolved_at") / 60)
        .quantile(0.9, interpolation="linear")
        .alias("value"),
        n_rows(),
    )


def sla_minutes_expr(frames: Frames, clock: Clock, start: str | pl.Expr, end: str | pl.Expr) -> pl.Expr:
    """Minutes counted against an SLA target: on the business clock each priority's policy keeps its own
    clock (`app_sla_clocks`: a 24×7 policy stays on calendar time); on the calendar clock, elapsed."""
    business = elapsed_minutes_expr(frames, clock, start, end)
    if clock == "calendar":
        return business
    setup = frames.working_hours.setup
    on_calendar = [p for p in setup.sla_clocks if frames.working_hours.sla_clock(p) == "calendar"]
    if not on_calendar:
        return business
    return (
        pl.when(pl.col("priority").cast(pl.String).is_in(on_calendar))
        .then(elapsed_minutes_expr(frames, "calendar", start, end))
        .otherwise(business)
    )


def with_sla_outcome(
    frames: Frames, tickets: pl.LazyFrame, window: Window, options: KpiOptions, done_at: str, target: str
) -> pl.LazyFrame:
    """`tickets` (with `priority`, `team_id` and the timestamps) that have a policy, with `sla_met` and
    `sla_counted`: met = done within the target (≤); breached = done late, or not done and older than
    the target at data_as_of; not counted = not done and still inside the target."""
    # One duration per ticket: minutes to `done_at`, or while not done its age at data_as_of (computed
    # for those few only). Breached = over the target either way; met = done within it.
    tickets = tickets.join(frames.sla_policies, on="priority", how="inner")
    done = pl.col(done_at).is_not_null()
    counted = pl.concat(
        [
            tickets.filter(done).with_columns(
                sla_minutes_expr(frames, options.clock, "created_at", done_at).alias("counted_min")
            ),
            tickets.filter(~done).with_columns(
                sla_minutes_expr(frames, options.clock, "created_at", pl.lit(window.data_as_of)).alias(
                    "counted_min"
                )
            ),
        ]
    )
    over = pl.col("counted_min") > pl.col(target)
    met = done & ~over
    return counted.with_columns(met.alias("sla_met"), (met | over).alias("sla_counted"))


def _sla_attainment(
    frames: Frames, window: Window, options: KpiOptions, done_at: str, target: str
) -> pl.LazyFrame:
    """Met / (met + breached); tickets without `done_at` still inside their target are left out."""
    outcome = with_sla_outcome(frames, _created(frames, window), window, options, done_at, target)
    return outcome.filter(pl.col("sla_counted")).select(share_pct(pl.col("sla_met")), n_rows())


def sla_first_response_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """First-response SLA attainment by priority policy."""
    return _sla_attainment(frames, window, options, "first_response_at", "first_response_target_min")


def sla_resolution_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Resolution SLA attainment by priority policy."""
    return _sla_attainment(frames, window, options, "resolved_at", "resolution_target_min")


def tickets(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Tickets created in the period."""
    return _created(frames, window).select(pl.len().cast(pl.Float64).alias("value"), n_rows())


def complaints(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Complaint tickets created in the period."""
    return (
        _created(frames, window)
        .filter(pl.col("is_complaint"))
        .select(pl.len().cast(pl.Float64).alias("value"), n_rows())
    )


def complaint_rate_per_1k_orders(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """1000 × complaints / completed orders in the period; N = completed orders."""
    if frames.ticket_filtered:
        return unavailable(UNDEFINED_UNDER_TICKET_FILTER)
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


def reopen_rate_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of resolved tickets (created in the period) that were ever reopened."""
    return _resolved_created(frames, window).select(share_pct(pl.col("reopen_count") > 0), n_rows())


def one_touch_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of resolved tickets (created in the period) with at most one public agent reply."""
    return _resolved_created(frames, window).select(share_pct(pl.col("agent_replies") <= 1), n_rows())


def escalation_rate_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of tickets created in the period that were escalated."""
    return _created(frames, window).select(share_pct(pl.col("escalated")), n_rows())


def backlog_open(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Tickets open at as_of: created by then, neither resolved nor closed by then."""
    return frames.tickets.filter(
        (pl.col("created_at") <= window.as_of)
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > window.as_of))
        & (pl.col("closed_at").is_null() | (pl.col("closed_at") > window.as_of))
    ).select(pl.len().cast(pl.Float64).alias("value"), n_rows())


def revenue(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Sum of completed orders' amounts in the period, to the cent; N = orders."""
    return (
        _of_served(frames, window, _completed_orders(frames))
        .filter(in_window("ordered_at", window))
        .select(pl.col("amount").sum().round(2).alias("value"), n_rows())
    )


def conversion_rate_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of customers who signed up in the period with a completed order by as_of."""
    if frames.ticket_filtered:
        return unavailable(UNDEFINED_UNDER_TICKET_FILTER)
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


def _buyers_between(frames: Frames, window: Window, after: datetime, until: datetime) -> pl.LazyFrame:
    """Distinct customers (served in the period, under a ticket filter) with a completed order in
    (after, until]."""
    return (
        _of_served(frames, window, _completed_orders(frames))
        .filter((pl.col("ordered_at") > after) & (pl.col("ordered_at") <= until))
        .select("customer_id")
        .unique()
    )


def active_customers(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Customers with a completed order in the W days up to as_of."""
    since = window.as_of - timedelta(days=options.churn_window_days)
    if lacks_history(frames, since):
        return unavailable(NOT_ENOUGH_HISTORY)
    return _buyers_between(frames, window, since, window.as_of).select(
        pl.len().cast(pl.Float64).alias("value"), n_rows()
    )


def churn_rate_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of customers active at the period start who are no longer active at as_of."""
    w = timedelta(days=options.churn_window_days)
    if lacks_history(frames, window.start - w):
        return unavailable(NOT_ENOUGH_HISTORY)
    still_active = _buyers_between(frames, window, window.as_of - w, window.as_of).with_columns(
        pl.lit(True).alias("still_active")
    )
    return (
        _buyers_between(frames, window, window.start - w, window.start)
        .join(still_active, on="customer_id", how="left")
        .select(share_pct(pl.col("still_active").is_null()), n_rows())
    )


def repeat_purchase_rate_pct(frames: Frames, window: Window, options: KpiOptions) -> pl.LazyFrame:
    """Share of buyers of the 365 days up to as_of with two or more completed orders."""
    if lacks_history(frames, window.as_of - timedelta(days=365)):
        return unavailable(NOT_ENOUGH_HISTORY)
    return (
        _of_served(frames, window, _completed_orders(frames))
        .filter(
            (pl.col("ordered_at") > window.as_of - timedelta(days=365))
            & (pl.col("ordered_at") <= window.as_of)
        )
        .group_by("customer_id")
        .agg(pl.len().alias("orders"))
        .select(share_pct(pl.col("orders") >= 2), n_rows())
    )


KpiFunction = Callable[[Frames, Window, KpiOptions], pl.LazyFrame]
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
    reason: str | None = None  # why the value is null although there is data


def headline_kpis(
    frames: Frames, window: Window, options: KpiOptions = DEFAULT_OPTIONS
) -> dict[str, KpiValue]:
    """Every headline KPI of one period and scope."""
    return headline_kpis_many(frames, [window], options)[0]


def headline_kpis_many(
    frames: Frames,
    windows: Sequence[Window],
    options: KpiOptions = DEFAULT_OPTIONS,
    *,
    names: Sequence[str] | None = None,
) -> list[dict[str, KpiValue]]:
    """Every headline KPI (or those `names`, in HEADLINE_KPIS order) for several periods, in one
    parallel collect."""
    specs = [spec for spec in HEADLINE_KPIS if names is None or spec.name in names]
    results = pl.collect_all([spec.compute(frames, w, options) for w in windows for spec in specs])
    per_window = len(specs)
    return [
        {
            spec.name: _kpi_value(result)
            for spec, result in zip(specs, results[i * per_window : (i + 1) * per_window], strict=True)
        }
        for i in range(len(windows))
    ]


def _kpi_value(result: pl.DataFrame) -> KpiValue:
    return KpiValue(
        value=_plain(result["value"][0]),
        n=int(result["n"][0]),
        extra={c: _plain(result[c][0]) for c in result.columns if c not in ("value", "n", "reason")},
        reason=result["reason"][0] if "reason" in result.columns else None,
    )


def _plain(value: object) -> float | None:
    """A float, or None for null and NaN."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
