"""The Complaints page's content as data (PRODUCT.md view 3): cards, volume and rate, severity grading,
the Pareto of root causes with its drill path, the handling workflow, emerging causes, and complaints
crossed with customer value (revenue at risk, what complainers did next). Each section on its own, so a
control redraws only its section."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.compare import compare_periods, resolve_targets
from cxdash.metrics.complaints import (
    cause_by_tier,
    closed_unresolved_expr,
    complaint_churn,
    complaint_volume,
    complaints_created,
    customer_value,
    revenue_at_risk,
    severity_table,
)
from cxdash.metrics.emerging import cause_counts, emerging_causes
from cxdash.metrics.kpis import KpiOptions, Window, with_sla_outcome
from cxdash.metrics.pareto import pareto_path_filter, root_cause_pareto, with_product_category
from cxdash.metrics.tiers import TierRules
from cxdash.metrics.workflow import (
    repeats_and_skips,
    stage_durations,
    stage_reach,
    stage_time_summary,
    stalled_now,
)
from cxdash.periods import DataSpan, Period, PeriodKind
from cxdash.views.overview import KpiCard, kpi_cards

DRILL_LEVELS = ("category", "root_cause", "product_category")
TICKET_LIMIT = 500  # ticket rows shown and downloadable at once, newest first
AT_RISK_LIMIT = 200


def _window(period: Period, span: DataSpan, tz: str) -> Window:
    return Window.of(period, tz=tz, data_as_of=span.data_as_of)


@dataclass(frozen=True, slots=True)
class ComplaintCards:
    cards: list[KpiCard]  # complaints and the rate per 1,000 orders, with comparisons and targets
    open_now: int  # complaints open at as_of (backlog), any creation date
    closed_unresolved: int  # complaints of the period closed without a resolution
    severe_pct: float | None  # share of the period's complaints graded 1 (critical) or 2 (major)
    sla_pct: float | None  # resolution SLA attainment of the period's complaints
    sla_n: int
    running: bool
    has_data: bool


def complaint_cards(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, teams: Sequence[str]
) -> ComplaintCards:
    """The headline complaint figures of the period."""
    compared = compare_periods(
        frames,
        period,
        span=span,
        tz=tz,
        options=options,
        names=("complaints", "complaint_rate_per_1k_orders"),
    )
    targets = resolve_targets(frames.kpi_targets.collect(), period_label=period.label, teams=teams)
    window = _window(period, span, tz)
    created = complaints_created(frames, window.start, window.end)
    as_of = window.as_of
    open_now = frames.tickets.filter(
        pl.col("is_complaint")
        & (pl.col("created_at") <= as_of)
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > as_of))
        & (pl.col("closed_at").is_null() | (pl.col("closed_at") > as_of))
    ).select(pl.len().alias("open_now"))
    period_figures = created.select(
        (closed_unresolved_expr() & (pl.col("closed_at") <= as_of)).sum().alias("closed_unresolved"),
        pl.when(pl.len() > 0)
        .then(100 * pl.col("severity").is_in([1, 2]).sum() / pl.len())
        .alias("severe_pct"),
    )
    sla = (
        with_sla_outcome(frames, created, window, options, "resolved_at", "resolution_target_min")
        .filter(pl.col("sla_counted"))
        .select(
            pl.when(pl.len() > 0).then(100 * pl.col("sla_met").sum() / pl.len()).alias("sla_pct"),
            pl.len().alias("sla_n"),
        )
    )
    a, b, c = pl.collect_all([open_now, period_figures, sla])
    return ComplaintCards(
        cards=kpi_cards(compared, targets, ticket_filtered=frames.ticket_filtered),
        open_now=int(a["open_now"][0]),
        closed_unresolved=int(b["closed_unresolved"][0] or 0),
        severe_pct=b["severe_pct"][0],
        sla_pct=c["sla_pct"][0],
        sla_n=int(c["sla_n"][0]),
        running=window.running,
        has_data=compared.current.kpis["complaints"].n > 0,
    )


def complaint_trend(
    frames: Frames,
    periods: Sequence[Period],
    *,
    kind: PeriodKind,
    dimension: str | None,
    span: DataSpan,
    tz: str,
) -> pl.DataFrame:
    """Complaints (and the rate per 1,000 orders where defined) per period and group; `running` marks
    a period still running, `per_day` is complaints per day of data (fair for a running period)."""
    if not periods:
        return pl.DataFrame(schema={"period": pl.String, "group": pl.String, "complaints": pl.Int64})
    first, last = _window(periods[0], span, tz), _window(periods[-1], span, tz)
    table = complaint_volume(
        frames, first.start, last.end, dimension=dimension, period_kind=kind, tz=tz
    ).collect()
    windows = {p.label: _window(p, span, tz) for p in periods}
    days = {label: w.exposure_days for label, w in windows.items()}
    running = {label: w.running for label, w in windows.items()}
    return (
        table.filter(pl.col("period").is_in(list(windows)))
        .with_columns(
            pl.col("period").replace_strict(running, return_dtype=pl.Boolean).alias("running"),
            (pl.col("complaints") / pl.col("period").replace_strict(days, return_dtype=pl.Float64)).alias(
                "per_day"
            ),
        )
        .sort("period", "group", nulls_last=True)
    )


def severity_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions
) -> pl.DataFrame:
    """Severity grading of the period's complaints (cxdash.metrics.complaints.severity_table)."""
    return severity_table(frames, _window(period, span, tz), options).collect()


def _in_period(frames: Frames, period: Period, span: DataSpan, tz: str) -> pl.LazyFrame:
    window = _window(period, span, tz)
    return with_product_category(complaints_created(frames, window.start, window.end), frames.orders)


def pareto_view(
    frames: Frames,
    period: Period,
    *,
    path: Sequence[tuple[str, str | None]],
    span: DataSpan,
    tz: str,
    weights: Mapping[int, float] | None,
) -> pl.DataFrame:
    """The Pareto at the next level of the drill path (category, then root cause, then product
    category) over the period's complaints on that path; by count, or severity-weighted with `weights`."""
    level = DRILL_LEVELS[min(len(path), len(DRILL_LEVELS) - 1)]
    rows = _in_period(frames, period, span, tz).filter(pareto_path_filter(path))
    return root_cause_pareto(rows, by=level, weights=weights).collect()


def path_tickets(
    frames: Frames, period: Period, *, path: Sequence[tuple[str, str | None]], span: DataSpan, tz: str
) -> tuple[pl.DataFrame, int]:
    """The period's complaints on the drill path, newest first (at most TICKET_LIMIT), with their
    customer's name (masked by role upstream), and how many there are in all."""
    rows = _in_period(frames, period, span, tz).filter(pareto_path_filter(path))
    names = frames.customers.select("customer_id", pl.col("name").alias("customer_name"))
    listed = (
        rows.join(names, on="customer_id", how="left")
        .select(
            "ticket_id",
            "created_at",
            "channel",
            pl.col("category").cast(pl.String),
            pl.col("root_cause").cast(pl.String),
            pl.col("product_category").cast(pl.String),
            "severity",
            "priority",
            "status",
            "team_id",
            "agent_id",
            "resolved_at",
            "closed_at",
            "customer_id",
            "customer_name",
            "subject",
        )
        .sort("created_at", "ticket_id", descending=True)
    )
    shown, total = pl.collect_all([listed.head(TICKET_LIMIT), rows.select(pl.len())])
    return shown, int(total.item())


@dataclass(frozen=True, slots=True)
class WorkflowView:
    reach: pl.DataFrame  # stage, tickets, share_pct, n
    times: pl.DataFrame  # stage, tickets, median_h, p90_h
    repeats: dict[str, float | int | None]  # n, repeats, repeats_pct, skips, skips_pct
    stalled: pl.DataFrame  # ticket_id, stage, entered_at, hours_in_stage, …


def workflow_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, limit: int = 10
) -> WorkflowView:
    """The handling workflow of the period's complaints (first pass through the stages, calendar
    hours) and the complaints open at as_of that have waited longest in their current stage."""
    window = _window(period, span, tz)
    as_of = window.as_of
    created = complaints_created(frames, window.start, window.end)
    open_now = frames.tickets.filter(
        pl.col("is_complaint")
        & (pl.col("created_at") <= as_of)
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") > as_of))
        & (pl.col("closed_at").is_null() | (pl.col("closed_at") > as_of))
    )
    # Only these tickets' events are read: a few percent of all events, so a period change stays fast.
    events, open_events = (
        frames.ticket_events.join(tickets.select("ticket_id"), on="ticket_id", how="semi")
        for tickets in (created, open_now)
    )
    reach, times, repeats, stalled = pl.collect_all(
        [
            stage_reach(events, created, as_of=as_of),
            stage_time_summary(stage_durations(events, created, as_of=as_of)),
            repeats_and_skips(events, created, as_of=as_of),
            stalled_now(open_events, open_now, as_of=as_of, limit=limit),
        ]
    )
    return WorkflowView(reach=reach, times=times, repeats=repeats.row(0, named=True), stalled=stalled)


@dataclass(frozen=True, slots=True)
class EmergingView:
    table: pl.DataFrame  # emerging_causes' columns
    days_now: float
    days_before: float
    running: bool


def emerging_view(frames: Frames, period: Period, *, span: DataSpan, tz: str) -> EmergingView:
    """Root causes against the previous period, per day of data (a running period compared fairly)."""
    now, before = _window(period, span, tz), _window(period.previous(), span, tz)
    current, previous = pl.collect_all(
        [
            cause_counts(frames.tickets, now.start, now.end),
            cause_counts(frames.tickets, before.start, before.end),
        ]
    )
    table = emerging_causes(
        current,
        previous,
        exposure_current_days=now.exposure_days,
        exposure_previous_days=before.exposure_days,
    )
    return EmergingView(
        table=table, days_now=now.exposure_days, days_before=before.exposure_days, running=now.running
    )


@dataclass(frozen=True, slots=True)
class ValueView:
    by_tier: pl.DataFrame  # root_cause, tier, complaints
    at_risk: pl.DataFrame  # revenue_at_risk, first AT_RISK_LIMIT rows
    at_risk_customers: int
    at_risk_revenue: float
    at_risk_vip: int
    churn: pl.DataFrame  # outcome, customers, churned, churn_pct
    churn_period: Period | None  # the period whose complainers' next W days are known
    window_days: int


def followed_up(period: Period, span: DataSpan, tz: str, days: int) -> Period | None:
    """The period itself, or the latest one before it, whose complaints all have `days` days of data after."""
    candidate = period
    for _ in range(12):
        if candidate.end(tz) + timedelta(days=days) <= span.data_as_of:
            return candidate if candidate.end(tz) > span.first else None
        candidate = candidate.previous()
    return None


def value_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, rules: TierRules
) -> ValueView:
    """Which value tiers each cause hits, the customers whose revenue is at risk, and the churn gap
    between complainers left unresolved and those resolved (for the latest period with W days after)."""
    window = _window(period, span, tz)
    value = customer_value(frames, as_of=window.as_of, rules=rules).collect().lazy()
    created = complaints_created(frames, window.start, window.end)
    at_risk = revenue_at_risk(frames, window, options, value)
    churn_period = followed_up(period, span, tz, rules.churn_window_days)
    churn = (
        complaint_churn(
            frames,
            *(_window(churn_period, span, tz).start, _window(churn_period, span, tz).end),
            data_as_of=span.data_as_of,
            window_days=rules.churn_window_days,
        )
        if churn_period is not None
        else pl.LazyFrame(
            schema={"outcome": pl.String, "customers": pl.Int64, "churned": pl.Int64, "churn_pct": pl.Float64}
        )
    )
    by_tier, shown, totals, churned = pl.collect_all(
        [
            cause_by_tier(created, value),
            at_risk.head(AT_RISK_LIMIT),
            at_risk.select(
                pl.len().alias("n"),
                pl.col("annual_revenue").sum().alias("revenue"),
                (pl.col("tier") == "vip").sum().alias("vip"),
            ),
            churn,
        ]
    )
    return ValueView(
        by_tier=by_tier,
        at_risk=shown,
        at_risk_customers=int(totals["n"][0]),
        at_risk_revenue=float(totals["revenue"][0] or 0.0),
        at_risk_vip=int(totals["vip"][0] or 0),
        churn=churned,
        churn_period=churn_period,
        window_days=rules.churn_window_days,
    )
