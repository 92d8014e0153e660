"""The Satisfaction page's content as data (PRODUCT.md view 2): cards, trends, breakdowns, rating items,
key drivers and what customers say, each section computed on its own so a control redraws only it."""

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.compare import compare_periods, resolve_targets
from cxdash.metrics.drivers import DriverAnalysis, importance_performance, key_drivers
from cxdash.metrics.kpis import KpiOptions, Window
from cxdash.metrics.satisfaction import (
    CATEGORICAL_DRIVERS,
    OPERATIONAL_DRIVERS,
    RATING_ITEMS,
    SURVEY_KPIS,
    CommentKind,
    comment_rows,
    customer_tiers,
    driver_frame,
    driver_performance,
    rows_behind,
    satisfaction_table,
    survey_kpis,
)
from cxdash.metrics.themes import comment_themes
from cxdash.metrics.tiers import TierRules
from cxdash.periods import DataSpan, Period, PeriodKind
from cxdash.views.overview import KpiCard, kpi_cards

THRESHOLDS = {5: "top1", 4: "top2", 3: "top3"}  # the satisfied threshold as a what-if setting
DRIVERS = (*RATING_ITEMS, *OPERATIONAL_DRIVERS, *CATEGORICAL_DRIVERS)


def _window(period: Period, span: DataSpan, tz: str) -> Window:
    return Window.of(period, tz=tz, data_as_of=span.data_as_of)


@dataclass(frozen=True, slots=True)
class SatisfactionCards:
    cards: list[KpiCard]
    nps_mix: dict[str, float | None]  # promoters, passives, detractors: % of NPS responses
    running: bool
    has_data: bool


def satisfaction_cards(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, teams: Sequence[str]
) -> SatisfactionCards:
    """The five survey KPIs of the period against the previous period, last year and their targets."""
    compared = compare_periods(frames, period, span=span, tz=tz, options=options, names=SURVEY_KPIS)
    targets = resolve_targets(frames.kpi_targets.collect(), period_label=period.label, teams=teams)
    nps = compared.current.kpis["nps"]
    shares: dict[str, float | None] = dict.fromkeys(("promoters", "passives", "detractors"))
    if nps.n:
        promoters, detractors = nps.extra["promoters"] or 0.0, nps.extra["detractors"] or 0.0
        shares = {
            "promoters": 100 * promoters / nps.n,
            "passives": 100 * (nps.n - promoters - detractors) / nps.n,
            "detractors": 100 * detractors / nps.n,
        }
    return SatisfactionCards(
        cards=kpi_cards(compared, targets, ticket_filtered=frames.ticket_filtered),
        nps_mix=shares,
        running=compared.current.running,
        has_data=any(v.n for v in compared.current.kpis.values()),
    )


def _tiers(frames: Frames, dimension: str | None, window: Window, rules: TierRules) -> pl.LazyFrame | None:
    return customer_tiers(frames, as_of=window.as_of, rules=rules) if dimension == "tier" else None


def satisfaction_trend(
    frames: Frames,
    periods: Sequence[Period],
    *,
    kind: PeriodKind,
    split: str | None,
    span: DataSpan,
    tz: str,
    options: KpiOptions,
    rules: TierRules,
) -> pl.DataFrame:
    """Every survey KPI per period (and per group of `split`), with intervals; `running` marks a period
    still running; value tiers are the customers' tiers at the end of the last period."""
    if not periods:
        return satisfaction_table([]).with_columns(pl.lit(None, pl.Boolean).alias("running"))
    first, last = _window(periods[0], span, tz), _window(periods[-1], span, tz)
    parts = survey_kpis(
        frames, first.start, last.end, options, dimension=split, period_kind=kind, tz=tz,
        tiers=_tiers(frames, split, last, rules), items=False,
    )  # fmt: skip
    running = {p.label: _window(p, span, tz).running for p in periods}
    table = satisfaction_table(pl.collect_all(parts))
    return table.filter(pl.col("period").is_in(list(running))).with_columns(
        pl.col("period").replace_strict(running, return_dtype=pl.Boolean).alias("running")
    )


def satisfaction_breakdown(
    frames: Frames, period: Period, *, dimension: str, span: DataSpan, tz: str, options: KpiOptions,
    rules: TierRules,
) -> pl.DataFrame:  # fmt: skip
    """Every survey KPI and rating item of the period per group of `dimension`, with intervals."""
    window = _window(period, span, tz)
    parts = survey_kpis(frames, window.start, window.end, options, dimension=dimension, tz=tz,
                        tiers=_tiers(frames, dimension, window, rules))  # fmt: skip
    return satisfaction_table(pl.collect_all(parts)).drop("period")


def rating_items(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions
) -> pl.DataFrame:
    """The four rating items (mean with interval, share ≥ the threshold) in the period and the one
    before: `which` is "current" or "previous"."""
    tables = []
    for which, p in (("current", period), ("previous", period.previous())):
        window = _window(p, span, tz)
        parts = survey_kpis(frames, window.start, window.end, options, tz=tz)
        table = satisfaction_table(pl.collect_all(parts)).filter(pl.col("kpi").is_in(RATING_ITEMS))
        tables.append(table.with_columns(pl.lit(which).alias("which")))
    return pl.concat(tables).select(
        "which", pl.col("kpi").alias("item"), "value", "low", "high", "n", "small",
        pl.when(pl.col("n") > 0).then(100 * pl.col("hits") / pl.col("n")).alias("top_box_pct"),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DriverView:
    analysis: DriverAnalysis
    table: pl.DataFrame  # driver, beta, p_value, importance, r2_part, kept, note, performance_pct, quadrant
    cut_importance: float | None  # the quadrant lines: mean importance and performance of the items
    cut_performance: float | None


def driver_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions
) -> DriverView:
    """Key drivers of the csat score in the period with each driver's performance and quadrant."""
    window = _window(period, span, tz)
    rows = driver_frame(frames, window.start, window.end, options).collect()
    analysis = key_drivers(
        rows, outcome="score", numeric=(*RATING_ITEMS, *OPERATIONAL_DRIVERS), categorical=CATEGORICAL_DRIVERS
    )
    performance = driver_performance(rows)
    table = analysis.drivers.with_columns(
        pl.col("driver").replace_strict(performance, return_dtype=pl.Float64).alias("performance_pct")
    )
    # The cut lines come from the rating items: their performances share one scale (mean rating), and
    # the operational drivers' tiny shares of R² would otherwise make every item look important.
    placed = table.filter(
        pl.col("driver").is_in(RATING_ITEMS) & pl.col("kept") & pl.col("importance").is_not_null()
    ).select(pl.col("importance").mean(), pl.col("performance_pct").mean())
    return DriverView(
        analysis=analysis,
        table=importance_performance(table, reference=RATING_ITEMS),
        cut_importance=placed["importance"][0],
        cut_performance=placed["performance_pct"][0],
    )


@dataclass(frozen=True, slots=True)
class CommentView:
    themes: pl.DataFrame  # THEME_SCHEMA of cxdash.metrics.themes
    comments: pl.DataFrame  # comment_rows
    total: int


COMMENT_LIMIT = 500  # rows shown and downloadable at once, newest first


def comment_view(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, kind: CommentKind,
    scores: Sequence[int] = (), weakest: str | None = None,
) -> CommentView:  # fmt: skip
    """Themes (terms separating detractors from promoters) and the newest comments matching the filters."""
    window = _window(period, span, tz)
    rows = comment_rows(frames, window.start, window.end, options, kind=kind, scores=scores, weakest=weakest)
    collected = rows.collect()
    return CommentView(
        themes=comment_themes(collected.select("group", "comment")),
        comments=collected.head(COMMENT_LIMIT),
        total=collected.height,
    )


def drill_rows(
    frames: Frames, period: Period, *, kpi: str, dimension: str | None, group: str | None, span: DataSpan,
    tz: str, rules: TierRules, trend_kind: PeriodKind | None = None, tier_period: Period | None = None,
) -> pl.DataFrame:  # fmt: skip
    """The survey responses (with ticket and customer) behind one cell: a group of the breakdown of
    `period`, or with `trend_kind` the period `period` of the trend (whose tiers are those at the end of
    `tier_period`, the trend's last period)."""
    window = _window(period, span, tz)
    tier_window = _window(tier_period, span, tz) if tier_period is not None else window
    return rows_behind(
        frames, window.start, window.end, kpi=kpi, dimension=dimension, group=group,
        period_kind=trend_kind, period=period.label if trend_kind else None, tz=tz,
        tiers=_tiers(frames, dimension, tier_window, rules),
    ).collect()  # fmt: skip
