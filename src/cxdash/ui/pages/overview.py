"""The Overview page (PRODUCT.md view 1): KPI cards against target, previous period and last year;
progress towards the period's SMART goals; trend charts with annotations; a warning when a KPI rests
on poor data and a data-quality summary (cxdash.metrics.quality)."""

from collections.abc import Sequence
from dataclasses import replace

import polars as pl
import streamlit as st

from cxdash.auth.roles import NO_TEAM
from cxdash.business_hours import Clock
from cxdash.charts.trends import TrendLabels, kpi_trend_line
from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.kpi_report import period_text
from cxdash.labels import joined_labels, label_expr
from cxdash.metrics.kpis import DURATION_KPIS, KPI_BY_NAME
from cxdash.metrics.scope import Scope
from cxdash.periods import parse_period
from cxdash.plain_text import markdown_plain
from cxdash.ui.loaders import (
    OverviewData,
    aggregate_overview_data,
    dataset,
    goals_data,
    overview_data,
    quality_data,
    user_frames,
)
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record, remembered, remembered_value
from cxdash.ui.widgets import (
    chart_free_table,
    chart_with_table,
    clock_control,
    clock_label,
    empty_state,
    kpi_card,
)
from cxdash.views.overview import KPI_GROUPS, KpiCard, OverviewQuality, QualityWarning, overview_quality

DEFAULT_TRENDS = ["csat_pct", "nps", "frt_median_min", "complaints"]
GOAL_COLUMNS = ("kpi", "team", "baseline", "current", "target", "progress", "achieved", "n", "note")
TREND_KINDS = ("quarter", "month")
HOVER_FORMAT = {"%": ".1f", "score": ".2f", "currency": ",.2f", "count": ",.0f"}


def render() -> None:
    run_page("overview", _render)


def _scope_text(t: Translator, scope: Scope, teams: dict[str, str]) -> str:
    """The scope for a caption (Markdown): team names and regions come from data, so shown as text."""
    parts = [", ".join(markdown_plain(teams.get(v, v)) for v in scope.teams if v != NO_TEAM)]
    parts += [", ".join(t(f"channel.{v}") for v in scope.channels)]
    parts += [
        ", ".join(t(f"segment.{v}") for v in scope.segments),
        ", ".join(markdown_plain(region) for region in scope.regions),
    ]
    return " / ".join(p for p in parts if p) or t("overview.scope_all")


def _help(t: Translator, card: KpiCard, context: PageContext, clock: Clock) -> str:
    definition = t(
        f"kpi.{card.name}.help",
        threshold=context.options.csat_threshold,
        window=context.options.churn_window_days,
    )
    if card.name in DURATION_KPIS:
        definition += f" {t(f'clock.{clock}_help')}"
    target = (
        t("overview.no_target")
        if card.target is None
        else t("overview.target", target=t.kpi_value(card.target, card.unit))
    )
    return f"{definition}\n\n{t('overview.n', n=f'{card.n:,}')} · {target}"


def _render(context: PageContext, t: Translator) -> None:
    config = context.settings
    if config.aggregates_only:  # CXDASH_SOURCE=aggregates: the cards and trends, no raw rows
        _render_from_aggregates(context, t)
        return
    url, tz = config.db_url, config.display_tz
    granularity = remembered_value("trend_kind", t, "quarter")
    st.title(t("overview.title"))
    clock = clock_control(t, default=context.options.clock)
    # The clock is part of the options, so of the cache key of everything computed from them.
    context = replace(context, options=replace(context.options, clock=clock))
    data: OverviewData = overview_data(
        url, context.version, context.period, granularity, context.scope, context.options, tz, context.user
    )
    teams = dataset(url, context.version).team_names
    _caption(t, context, teams)
    if data.current.running:
        st.caption(
            t("overview.running", as_of=t.datetime(data.current.window.data_as_of, tz)),
            help=t("overview.running_help"),
        )
    if any(card.served for card in data.cards):
        st.caption(t("overview.served_note", scope=_scope_text(t, context.scope, teams)))
    if not data.has_data:
        empty_state(t("overview.empty"))
        return
    # The same cached report as the Data page's: counted on the scope's unmasked rows, so duplicate
    # customers are found for every role (only counts leave it).
    report = quality_data(url, context.version, context.period, context.scope, tz, context.user)
    quality = overview_quality(report, data.cards)
    _quality_warning(t, quality)
    _cards(context, t, data, clock)
    _goals(context, t)
    _trends(context, t, data)
    _quality(t, quality)


def _caption(t: Translator, context: PageContext, teams: dict[str, str]) -> None:
    """The period, what it is compared with, and the scope."""
    st.caption(
        t(
            "overview.caption",
            period=t.period(context.period),
            previous=t.period(context.period.previous()),
            last_year=t.period(context.period.same_last_year()),
            scope=_scope_text(t, context.scope, teams),
        )
    )


def _cards(context: PageContext, t: Translator, data: OverviewData, clock: Clock) -> None:
    cards = {card.name: card for card in data.cards}
    for group, names in KPI_GROUPS.items():
        st.subheader(t(f"overview.group_{group}"))
        columns = st.columns(4)
        for i, name in enumerate(names):
            with columns[i % 4]:
                sparkline = data.series.filter(pl.col("kpi") == name)["value"].to_list()
                kpi_card(
                    t, cards[name], sparkline, help_text=_help(t, cards[name], context, clock),
                    clock=clock if name in DURATION_KPIS else None,
                )  # fmt: skip


def _render_from_aggregates(context: PageContext, t: Translator) -> None:
    """The cards and trend lines read from the per-day aggregates (calendar clock; goals and data
    quality need the raw rows). Missing or stale aggregates, or a segment or region filter: a message
    saying what to do."""
    config = context.settings
    st.title(t("overview.title"))
    if context.scope.filters_customers:
        st.info(t("aggregates.no_customer_filters"), icon=":material/filter_alt_off:")
        return
    context = replace(context, options=replace(context.options, clock="calendar"))
    try:
        found = aggregate_overview_data(
            config.db_url, context.version, context.period, remembered_value("trend_kind", t, "quarter"),
            context.scope, context.options, config.display_tz, context.user,
        )  # fmt: skip
    except InputError as exc:  # no set yet, or one of another data version: name the command
        st.warning(exc.translated(t, t.has), icon=":material/database:")
        return
    teams = dataset(config.db_url, context.version).team_names
    _caption(t, context, teams)
    st.info(
        t(
            "aggregates.note",
            built=t.datetime(found.meta.built_at, config.display_tz),
            version=found.meta.data_version,
        ),
        icon=":material/stacked_bar_chart:",
    )
    if found.data.current.running:
        st.caption(t("overview.running", as_of=t.datetime(found.meta.data_as_of, config.display_tz)))
    if not found.data.has_data:
        empty_state(t("overview.empty"))
        return
    _cards(context, t, found.data, "calendar")
    _trends(context, t, found.data, found.annotations)


def _goal_note(t: Translator, goal: dict) -> str:
    """Why a goal's current value is missing, or that its period is still running."""
    if not goal["measured"]:
        return t("goals.not_measured")
    if goal["current"] is None and goal["reason"]:
        return t(f"reason.{goal['reason']}")
    return t("overview.running_short") if goal["running"] else ""


def _achieved_text(t: Translator, achieved: bool | None) -> str:
    return "—" if achieved is None else t("goals.achieved_yes" if achieved else "goals.achieved_no")


def _goals(context: PageContext, t: Translator) -> None:
    """The goals of the period and scope: baseline, current value, target, progress and whether it is
    achieved; nothing when there are none."""
    config = context.settings
    goals = goals_data(
        config.db_url, context.version, context.period, context.scope, context.options, config.display_tz,
        context.user,
    )  # fmt: skip
    if goals.is_empty():
        return
    rows = goals.to_dicts()
    first = rows[0]
    st.subheader(t("goals.title"))
    st.caption(
        t(
            "goals.overview_caption",
            period=t.period(context.period),
            baseline_period=period_text(t, first["baseline_period"]),
        )
    )
    if first["running"]:
        st.caption(t("goals.running", period=t.period(context.period)))
    column = {name: t(f"goals.col_{name}") for name in GOAL_COLUMNS}
    table = pl.DataFrame(
        {
            column["kpi"]: [t(f"kpi.{g['metric']}.label") for g in rows],
            column["team"]: [g["team_name"] or g["team_id"] or t("goals.company") for g in rows],
            column["baseline"]: [t.kpi_value(g["baseline"], g["unit"]) for g in rows],
            column["current"]: [t.kpi_value(g["current"], g["unit"]) for g in rows],
            column["target"]: [t.kpi_value(g["target"], g["unit"]) for g in rows],
            column["progress"]: [
                None if g["progress_pct"] is None else round(g["progress_pct"], 1) for g in rows
            ],
            column["achieved"]: [_achieved_text(t, g["achieved"]) for g in rows],
            column["n"]: [g["n"] for g in rows],
            column["note"]: [_goal_note(t, g) for g in rows],
        },
        schema_overrides={column["progress"]: pl.Float64},
    )
    chart_free_table(
        table,
        t=t,
        key="goals",
        file_name=f"cxdash_goals_{context.period.label}.csv",
        record=export_record(context, "overview.goals"),
        column_config={
            column["progress"]: st.column_config.ProgressColumn(
                column["progress"], help=t("goals.progress_help"), format="%.0f%%", min_value=0, max_value=100
            ),
        },
    )


def _trends(
    context: PageContext, t: Translator, data: OverviewData, annotations: pl.DataFrame | None = None
) -> None:
    st.subheader(t("overview.trends"))
    left, right = st.columns([1, 3])
    with left:
        remembered(
            st.segmented_control,
            "trend_kind",
            t,
            list(TREND_KINDS),
            fallback="quarter",
            label=t("overview.trend_granularity"),
            options=TREND_KINDS,
            format_func=lambda k: t(f"overview.trend_{k}"),
            required=True,
        )
    with right:
        chosen = remembered(
            st.multiselect,
            "trend_kpis",
            t,
            list(KPI_BY_NAME),
            fallback=DEFAULT_TRENDS,
            label=t("overview.trend_pick"),
            options=list(KPI_BY_NAME),
            format_func=lambda k: t(f"kpi.{k}.label"),
            placeholder=t("overview.trend_pick_placeholder"),
        )
    if annotations is None:
        annotations = user_frames(
            context.settings.db_url, context.version, context.user, context.scope
        ).annotations.collect()
    kind = remembered_value("trend_kind", t, "quarter")
    cards = {card.name: card for card in data.cards}
    columns = st.columns(2)
    clock = context.options.clock
    for i, name in enumerate(chosen):
        spec = KPI_BY_NAME[name]
        label = t(f"kpi.{name}.label")
        if name in DURATION_KPIS:  # title, axis, table column and file say which clock
            label = clock_label(t, label, clock)
        running_mark = f" ({t('overview.running_short')})"
        series = data.series.filter(pl.col("kpi") == name)
        series = series.with_columns(
            (
                label_expr(series, "period", lambda label: t.period(parse_period(label)))
                + pl.when(pl.col("running")).then(pl.lit(running_mark)).otherwise(pl.lit(""))
            ).alias("period_label"),
            label_expr(series, "reason", lambda code: t(f"reason.{code}")).alias("note"),
        )
        labels = TrendLabels(
            title=label,
            period=t("chart.period"),
            value=label,
            n=t("chart.n"),
            target=t("chart.target"),
            annotation=t("chart.annotation"),
        )
        fig = kpi_trend_line(
            series, annotations, labels=labels, value_format=HOVER_FORMAT.get(spec.unit, ".1f"),
            target=cards[name].target,
        )  # fmt: skip
        table = series.select(
            pl.col("period_label").alias(t("chart.period")),
            pl.col("value").alias(label),
            pl.col("n").alias(t("chart.n")),
            pl.col("note").alias(t("chart.note")),
        )
        suffix = f"_{clock}" if name in DURATION_KPIS else ""
        with columns[i % 2]:
            chart_with_table(
                fig, table, t=t, key=f"trend_{name}", file_name=f"cxdash_{name}_{kind}{suffix}.csv",
                record=export_record(context, f"overview.trend.{name}"),
            )  # fmt: skip


def _kpi_list(t: Translator, kpis: Sequence[str]) -> str:
    return t("dq.kpi_separator").join(t(f"kpi.{name}.label") for name in kpis)


def _kpi_lists(t: Translator, frame: pl.DataFrame, column: str) -> pl.Series:
    """A list column of KPI names as _kpi_list texts (computed here, not in a Polars UDF)."""
    return joined_labels(frame, column, lambda name: t(f"kpi.{name}.label"), t("dq.kpi_separator"))


def _warning_line(t: Translator, warning: QualityWarning) -> str:
    share = t(
        f"dq.share.{warning.table}",
        pct=t.kpi_value(100 - warning.usable_pct, "%"),
        failing=f"{warning.rows_failing:,}",
        checked=f"{warning.rows_checked:,}",
    )
    key = "dq.warning_one" if len(warning.kpis) == 1 else "dq.warning_many"
    return t(key, kpis=_kpi_list(t, warning.kpis), share=share, check=t(f"dq.check.{warning.check}"))


def _quality_warning(t: Translator, quality: OverviewQuality) -> None:
    """Which KPIs on this page rest on poor data (catalogue text and numbers only, no text from data)."""
    if not quality.warnings:
        return
    lines = "\n".join(f"- {_warning_line(t, warning)}" for warning in quality.warnings)
    st.warning(f"{t('dq.warning_intro')}\n\n{lines}", icon=":material/warning:")


def _quality(t: Translator, quality: OverviewQuality) -> None:
    failing = quality.failing
    with st.expander(t("overview.data_quality"), icon=":material/fact_check:"):
        if failing.is_empty():
            st.success(t("overview.dq_ok"))
            return
        st.caption(t("dq.list_intro"))
        table = failing.select(
            label_expr(failing, "check", lambda c: t(f"dq.check.{c}")),
            pl.col("rows_failing"),
            pl.col("rows_checked"),
            pl.col("usable_pct").round(1),
            _kpi_lists(t, failing, "kpis"),
        )
        st.dataframe(
            table.rename(
                {
                    "check": t("dq.col_check"),
                    "rows_failing": t("dq.col_failing"),
                    "rows_checked": t("dq.col_checked"),
                    "usable_pct": t("dq.col_usable"),
                    "kpis": t("dq.col_kpis"),
                }
            ),
            hide_index=True,
        )
