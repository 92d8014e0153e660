"""The Complaints and root causes page (PRODUCT.md view 3): does registering, handling, answering and
finding the root cause of complaints work? Cards, then lazy tabs: volume and rate, severity, the Pareto
with its drill-down to tickets, the handling workflow, emerging causes, and complaints × customer value."""

from dataclasses import replace
from functools import partial

import polars as pl
import streamlit as st

from cxdash.charts.complaints import (
    ParetoLabels,
    VolumeLabels,
    churn_bars,
    emerging_bars,
    funnel_chart,
    pareto_chart,
    severity_bars,
    stage_time_bars,
    tier_heatmap,
    volume_bars,
)
from cxdash.domain import CHANNELS
from cxdash.i18n import Translator
from cxdash.labels import joined_labels, label_expr, with_label
from cxdash.metrics.complaints import SEVERITIES, VOLUME_DIMENSIONS
from cxdash.metrics.tiers import TIERS, TierRules
from cxdash.metrics.workflow import WORKFLOW_STAGES
from cxdash.periods import Period
from cxdash.plain_text import markdown_plain
from cxdash.stats import two_proportion_p, wilson_interval
from cxdash.ui.loaders import (
    complaint_cards_data,
    complaint_trend_data,
    dataset,
    emerging_data,
    pareto_data,
    path_tickets_data,
    severity_data,
    trend_periods,
    value_data,
    workflow_data,
)
from cxdash.ui.ola import ola_section
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record, remembered
from cxdash.ui.widgets import (
    THRESHOLD_KEY,
    chart_free_table,
    chart_with_table,
    clock_control,
    clock_label,
    empty_state,
    kpi_card,
    lazy_tabs,
)
from cxdash.views.complaints import DRILL_LEVELS, ValueView

TAB_KEY = "cmp_tab"
PATH_KEY = "cmp_path"  # the Pareto's drill path: [(level, value), …], language-free


def render() -> None:
    run_page("complaints", _render)


def name_of(t: Translator, prefix: str, value: object) -> str:
    """The translated name of a coded value (a category, cause, product category…), else the value."""
    if value is None:
        return t("complaints.unknown")
    key = f"{prefix}.{value}"
    return t(key) if t.has(key) else str(value)


def _render(context: PageContext, t: Translator) -> None:
    st.title(t("complaints.title"))
    clock = clock_control(t, default=context.options.clock)
    # The satisfied threshold chosen on the Satisfaction page also decides who is "dissatisfied" here.
    threshold = st.session_state.get(THRESHOLD_KEY, context.options.csat_threshold)
    options = replace(context.options, clock=clock, csat_threshold=threshold)
    context = replace(context, options=options)
    st.caption(
        t("complaints.caption", period=t.period(context.period), previous=t.period(context.period.previous()))
    )
    if not _cards(context, t):
        empty_state(t("complaints.empty"))
        return
    lazy_tabs(
        t,
        TAB_KEY,
        {
            "trends": partial(_trends, context, t),
            "severity": partial(_severity, context, t),
            "pareto": partial(_pareto, context, t),
            "workflow": partial(_workflow, context, t),
            "emerging": partial(_emerging, context, t),
            "value": partial(_value, context, t),
        },
        label=lambda tab: t(f"complaints.tab_{tab}"),
    )


def _args(context: PageContext) -> tuple[str, str, str]:
    return context.settings.db_url, context.version, context.settings.display_tz


def _cards(context: PageContext, t: Translator) -> bool:
    url, version, tz = _args(context)
    data = complaint_cards_data(
        url, version, context.period, context.scope, context.options, tz, context.user
    )
    if not data.has_data:
        return False
    if data.running:
        st.caption(t("overview.running", as_of=t.datetime(dataset(url, version).span.data_as_of, tz)))
    columns = [*st.columns(3), *st.columns(3)]
    for column, card in zip(columns, data.cards, strict=False):
        with column:
            kpi_card(t, card, [], help_text=t(f"kpi.{card.name}.help"))
    extras = (
        ("open_now", f"{data.open_now:,}", t("complaints.open_now_help")),
        ("closed_unresolved", f"{data.closed_unresolved:,}", t("complaints.closed_unresolved_help")),
        (
            "severe",
            "—" if data.severe_pct is None else f"{data.severe_pct:.1f}%",
            t("complaints.severe_help"),
        ),
        ("sla", "—" if data.sla_pct is None else f"{data.sla_pct:.1f}%", t("complaints.sla_help")),
    )
    for column, (name, value, help_text) in zip(columns[2:], extras, strict=True):
        with column, st.container(border=True):
            st.metric(t(f"complaints.card_{name}"), value, help=help_text)
            if name == "sla":
                st.caption(f"{t('overview.n', n=f'{data.sla_n:,}')} · {t(f'clock.{context.options.clock}')}")
    return True


def _period_texts(t: Translator, context: PageContext, kind: str) -> dict[str, str]:
    url, version, tz = _args(context)
    return {p.label: t.period(p) for p in trend_periods(dataset(url, version).span, kind, tz)}  # type: ignore[arg-type]


def _trends(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    left, right = st.columns(2)
    with left:
        kind = remembered(
            st.segmented_control,
            "cmp_trend_kind",
            t,
            ["quarter", "month"],
            fallback="quarter",
            label=t("overview.trend_granularity"),
            options=("quarter", "month"),
            format_func=lambda k: t(f"overview.trend_{k}"),
            required=True,
        )
    with right:
        options = ["none", *VOLUME_DIMENSIONS]
        chosen = remembered(
            st.selectbox,
            "cmp_dimension",
            t,
            options,
            fallback="none",
            label=t("complaints.split"),
            options=options,
            format_func=lambda d: t(f"complaints.dim_{d}"),
        )
    dimension = None if chosen == "none" else chosen
    table = complaint_trend_data(url, version, kind, dimension, context.scope, tz, context.user)
    if table.is_empty():
        empty_state(t("complaints.empty"))
        return
    texts = _period_texts(t, context, kind)
    prefix = {"channel": "channel", "category": "category", "product_category": "product"}.get(
        dimension or "", ""
    )
    shown = table.with_columns(
        pl.col("period").replace_strict(texts, default=pl.col("period")).alias("period_text"),
        label_expr(table, "group", lambda v: name_of(t, prefix, v) if prefix else v).alias("group_label"),
    )
    rate = t("kpi.complaint_rate_per_1k_orders.label")
    fig = volume_bars(
        shown,
        labels=VolumeLabels(
            title=t("complaints.volume_title"),
            complaints=t("kpi.complaints.label"),
            rate=rate,
            period=t("chart.period"),
        ),
    )
    out = shown.select(
        pl.col("period_text").alias(t("chart.period")),
        *([pl.col("group_label").alias(t(f"complaints.dim_{dimension}"))] if dimension else []),
        pl.col("complaints").alias(t("kpi.complaints.label")),
        pl.col("per_day").round(2).alias(t("complaints.per_day")),
        pl.col("orders").alias(t("complaints.orders")),
        pl.col("rate_per_1k").round(2).alias(rate),
        pl.when(pl.col("running")).then(pl.lit(t("overview.running_short"))).alias(t("chart.note")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key=f"cmp_volume_{dimension}",
        file_name=f"cxdash_complaints_{kind}.csv",
        record=export_record(context, "complaints.volume"),
    )
    st.caption(t("complaints.volume_note"))


def _severity(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    table = severity_data(url, version, context.period, context.scope, context.options, tz, context.user)
    if table.is_empty():
        empty_state(t("complaints.empty"))
        return
    names = {s: t(f"complaints.severity_{s}") for s in SEVERITIES}
    table = table.with_columns(
        pl.col("severity")
        .replace_strict(names, default=t("complaints.ungraded"), return_dtype=pl.String)
        .alias("label")
    )
    hours = clock_label(t, t("complaints.resolution_h"), context.options.clock)
    fig = severity_bars(
        table,
        title=f"{t('complaints.severity_title')} · {t(f'clock.{context.options.clock}')}",
        median=t("complaints.median"),
        p90=t("complaints.p90"),
    )
    out = table.select(
        pl.col("label").alias(t("complaints.severity")),
        pl.col("complaints").alias(t("kpi.complaints.label")),
        pl.col("share_pct").round(1).alias(t("complaints.share")),
        pl.col("resolved").alias(t("complaints.resolved")),
        pl.col("resolution_median_h").round(1).alias(f"{hours} · {t('complaints.median')}"),
        pl.col("resolution_p90_h").round(1).alias(f"{hours} · {t('complaints.p90')}"),
        pl.col("sla_pct").round(1).alias(t("kpi.sla_resolution_pct.label")),
        pl.col("sla_counted").alias(f"{t('kpi.sla_resolution_pct.label')} N"),
        pl.col("open_now").alias(t("complaints.card_open_now")),
        pl.col("closed_unresolved").alias(t("complaints.card_closed_unresolved")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="cmp_severity",
        file_name="cxdash_complaints_by_severity.csv",
        record=export_record(context, "complaints.severity"),
    )
    st.dataframe(out, hide_index=True, width="stretch", key="cmp_severity_table")
    st.caption(t("complaints.severity_note"))


def _path(context: PageContext) -> tuple[tuple[str, str | None], ...]:
    """The drill path, kept only as far as its levels are valid."""
    stored = st.session_state.get(PATH_KEY) or []
    path = []
    for level, item in zip(DRILL_LEVELS, stored, strict=False):
        if isinstance(item, list | tuple) and len(item) == 2 and item[0] == level:
            path.append((level, None if item[1] is None else str(item[1])))
    return tuple(path)


def _level_name(t: Translator, level: str, value: str | None) -> str:
    return name_of(
        t, {"category": "category", "root_cause": "cause", "product_category": "product"}[level], value
    )


def _pareto(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    path = _path(context)
    left, right = st.columns([1, 2])
    with left:
        measure = remembered(
            st.segmented_control,
            "cmp_measure",
            t,
            ["count", "weighted"],
            fallback="count",
            label=t("complaints.measure"),
            options=("count", "weighted"),
            format_func=lambda m: t(f"complaints.measure_{m}"),
            required=True,
        )
    with right, st.expander(t("complaints.weights")):
        columns = st.columns(4)
        weights = tuple(
            (
                s,
                float(
                    columns[i].number_input(
                        t(f"complaints.severity_{s}"),
                        min_value=0.0,
                        max_value=100.0,
                        value=float(context.settings.severity_weights[s - 1]),
                        step=1.0,
                        key=f"cmp_weight_{s}",
                    )
                ),
            )
            for i, s in enumerate(SEVERITIES)
        )
    _breadcrumb(t, path)
    level = DRILL_LEVELS[min(len(path), len(DRILL_LEVELS) - 1)]
    table = pareto_data(
        url,
        version,
        context.period,
        path,
        weights if measure == "weighted" else None,
        context.scope,
        tz,
        context.user,
    )
    if table.is_empty():
        empty_state(t("complaints.empty_path"))
        return
    table = table.with_columns(
        pl.col(level).fill_null("").alias("key"),
        label_expr(table, level, lambda v: _level_name(t, level, v)).alias("label"),
    ).with_columns(pl.col("label").fill_null(t("complaints.unknown")))
    value_name = t(f"complaints.measure_{measure}")
    title = f"{t('complaints.pareto_title')} · {t(f'complaints.dim_{level}')} · {t.period(context.period)}"
    fig = pareto_chart(
        table,
        labels=ParetoLabels(
            title=title, value=value_name, cumulative=t("complaints.cumulative"), vital=t("complaints.vital")
        ),
    )
    out = table.select(
        pl.col("label").alias(t(f"complaints.dim_{level}")),
        pl.col(level).alias(t("complaints.code")),
        pl.col("complaints").alias(t("kpi.complaints.label")),
        pl.col("weighted").round(1).alias(t("complaints.measure_weighted")),
        pl.col("share_pct").round(1).alias(t("complaints.share")),
        pl.col("cumulative_pct").round(1).alias(t("complaints.cumulative")),
        pl.col("is_vital_few").alias(t("complaints.vital_few")),
    )
    event = st.plotly_chart(
        fig,
        key=f"cmp_pareto_{len(path)}_{measure}",
        on_select="rerun",
        selection_mode="points",
        config={"displaylogo": False},
        width="stretch",
    )
    with st.expander(t("chart.show_table")):
        chart_free_table(
            out,
            t=t,
            key=f"cmp_pareto_table_{len(path)}",
            file_name=f"cxdash_pareto_{level}.csv",
            record=export_record(context, f"complaints.pareto.{level}"),
        )
    st.caption(t("complaints.pareto_note"))
    if len(path) < len(DRILL_LEVELS):
        _drill_next(t, path, level, table, event)
    _tickets(context, t, path)


def _breadcrumb(t: Translator, path: tuple[tuple[str, str | None], ...]) -> None:
    steps = [t("complaints.all_complaints")] + [_level_name(t, level, value) for level, value in path]
    columns = st.columns([6, 1])
    columns[0].markdown(
        " › ".join(f"**{step}**" if i == len(steps) - 1 else step for i, step in enumerate(_md(steps)))
    )
    if path and columns[1].button(t("complaints.up"), key="cmp_up", icon=":material/arrow_upward:"):
        st.session_state[PATH_KEY] = [list(step) for step in path[:-1]]
        st.rerun()


def _md(texts: list[str]) -> list[str]:
    return [markdown_plain(text) for text in texts]


def _drill_next(t: Translator, path: tuple, level: str, table: pl.DataFrame, event: object) -> None:
    """A selected bar, or the select box, goes one level deeper."""
    keys = table["key"].to_list()
    picked = None
    try:
        points = event["selection"]["points"]  # type: ignore[index]
        picked = points[0]["customdata"][0] if points else None
    except (KeyError, TypeError, IndexError):
        picked = None
    choice = st.selectbox(
        t("complaints.drill"),
        keys,
        index=None,
        key=f"cmp_drill_{len(path)}__{t.lang}",
        format_func=lambda k: _level_name(t, level, k or None),
        placeholder=t("complaints.drill_placeholder"),
    )
    chosen = picked if picked in keys else choice
    if chosen is not None:
        st.session_state[PATH_KEY] = [*[list(step) for step in path], [level, chosen or None]]
        st.rerun()


def _tickets(context: PageContext, t: Translator, path: tuple) -> None:
    url, version, tz = _args(context)
    rows, total = path_tickets_data(url, version, context.period, path, context.scope, tz, context.user)
    st.subheader(t("complaints.tickets"))
    st.caption(t("complaints.tickets_count", shown=f"{rows.height:,}", total=f"{total:,}"))
    channels = {c: t(f"channel.{c}") for c in CHANNELS}
    shown = rows.select(
        pl.col("ticket_id").alias(t("complaints.col_ticket_id")),
        pl.col("created_at").dt.convert_time_zone(tz).alias(t("complaints.col_created_at")),
        pl.col("channel")
        .cast(pl.String)
        .replace_strict(channels, default=None)
        .alias(t("complaints.col_channel")),
        label_expr(rows, "category", partial(name_of, t, "category")).alias(t("complaints.dim_category")),
        label_expr(rows, "root_cause", partial(name_of, t, "cause")).alias(t("complaints.dim_root_cause")),
        label_expr(rows, "product_category", partial(name_of, t, "product")).alias(
            t("complaints.dim_product_category")
        ),
        pl.col("severity").alias(t("complaints.severity")),
        pl.col("priority").cast(pl.String).alias(t("complaints.col_priority")),
        pl.col("status").cast(pl.String).alias(t("complaints.col_status")),
        pl.col("team_id").alias(t("complaints.col_team_id")),
        pl.col("agent_id").alias(t("complaints.col_agent_id")),
        pl.col("resolved_at").dt.convert_time_zone(tz).alias(t("complaints.col_resolved_at")),
        pl.col("customer_id").alias(t("complaints.col_customer_id")),
        pl.col("customer_name").alias(t("complaints.col_customer_name")),
        pl.col("subject").alias(t("complaints.col_subject")),
    )
    chart_free_table(
        shown,
        t=t,
        key=f"cmp_tickets_{len(path)}",
        file_name="cxdash_complaint_tickets.csv",
        record=export_record(context, "complaints.tickets"),
    )


def _stage_names(t: Translator) -> dict[str, str]:
    return {s: t(f"complaints.stage_{s}") for s in (*WORKFLOW_STAGES, "closed", "reopened")}


def _workflow(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    view = workflow_data(url, version, context.period, context.scope, tz, context.user)
    if not view.repeats.get("n"):
        empty_state(t("complaints.empty"))
        return
    stages = _stage_names(t)
    reach = view.reach.with_columns(pl.col("stage").cast(pl.String).replace_strict(stages).alias("label"))
    times = view.times.with_columns(pl.col("stage").cast(pl.String).replace_strict(stages).alias("label"))
    cols = st.columns(3)
    cols[0].metric(t("complaints.workflow_n"), f"{view.repeats['n']:,}")
    cols[1].metric(
        t("complaints.repeats"), f"{view.repeats['repeats_pct'] or 0:.1f}%", help=t("complaints.repeats_help")
    )
    cols[2].metric(
        t("complaints.skips"), f"{view.repeats['skips_pct'] or 0:.1f}%", help=t("complaints.skips_help")
    )
    left, right = st.columns(2)
    with left:
        out = reach.select(
            pl.col("label").alias(t("complaints.stage")),
            pl.col("tickets").alias(t("complaints.reached")),
            pl.col("share_pct").round(1).alias(t("complaints.share")),
        )
        chart_with_table(
            funnel_chart(reach, title=t("complaints.funnel_title")),
            out,
            t=t,
            key="cmp_funnel",
            file_name="cxdash_workflow_reach.csv",
            record=export_record(context, "complaints.funnel"),
        )
    with right:
        out = times.select(
            pl.col("label").alias(t("complaints.stage")),
            pl.col("tickets").alias(t("chart.n")),
            pl.col("median_h").round(1).alias(t("complaints.median_h")),
            pl.col("p90_h").round(1).alias(t("complaints.p90_h")),
        )
        fig = stage_time_bars(
            times,
            title=t("complaints.stage_times_title"),
            median=t("complaints.median"),
            p90=t("complaints.p90"),
        )
        chart_with_table(
            fig,
            out,
            t=t,
            key="cmp_stage_times",
            file_name="cxdash_workflow_stage_times.csv",
            record=export_record(context, "complaints.stage_times"),
        )
    st.caption(t("complaints.workflow_note"))
    st.subheader(t("complaints.stalled"))
    stalled = view.stalled.with_columns(pl.col("stage").cast(pl.String).replace_strict(stages).alias("label"))
    shown = stalled.select(
        pl.col("label").alias(t("complaints.stage")),
        pl.col("ticket_id").alias(t("complaints.col_ticket_id")),
        pl.col("hours_in_stage").round(1).alias(t("complaints.hours_in_stage")),
        pl.col("entered_at").dt.convert_time_zone(tz).alias(t("complaints.entered_at")),
        pl.col("created_at").dt.convert_time_zone(tz).alias(t("complaints.col_created_at")),
        pl.col("priority").cast(pl.String).alias(t("complaints.col_priority")),
        pl.col("severity").alias(t("complaints.severity")),
        label_expr(stalled, "root_cause", partial(name_of, t, "cause")).alias(t("complaints.dim_root_cause")),
        pl.col("team_id").alias(t("complaints.col_team_id")),
        pl.col("agent_id").alias(t("complaints.col_agent_id")),
    )
    st.caption(
        t(
            "complaints.stalled_note",
            as_of=t.datetime(min(context.period.end(tz), dataset(url, version).span.data_as_of), tz),
        )
    )
    chart_free_table(
        shown,
        t=t,
        key="cmp_stalled",
        file_name="cxdash_stalled_complaints.csv",
        record=export_record(context, "complaints.stalled"),
    )
    ola_section(context, t, complaints_only=True, key="cmp_ola", view="complaints.ola")


def _emerging(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    view = emerging_data(url, version, context.period, context.scope, tz, context.user)
    if view.table.is_empty():
        empty_state(t("complaints.empty"))
        return
    table = with_label(view.table, "root_cause", partial(name_of, t, "cause"), "label").with_columns(
        pl.col("label").fill_null(t("complaints.unknown"))
    )
    note = "emerging_note_running" if view.running else "emerging_note"
    st.caption(
        t(
            f"complaints.{note}",
            now=f"{view.days_now:.1f}",
            before=f"{view.days_before:.0f}",
            previous=t.period(context.period.previous()),
        )
    )
    growers = table.filter(pl.col("significant"))
    if growers.height:
        top = growers.row(0, named=True)
        st.warning(
            t(
                "complaints.emerging_top",
                cause=top["label"],
                growth="—" if top["growth_pct"] is None else f"{top['growth_pct']:+.0f}%",
                now=f"{top['count_now']:,}",
                before=f"{top['count_before']:,}",
                p=_p(top["p_value"]),
            ),
            icon=":material/trending_up:",
        )
    else:
        st.success(t("complaints.emerging_none"), icon=":material/check_circle:")
    now, before = t.period(context.period), t.period(context.period.previous())
    fig = emerging_bars(
        table.head(12),
        title=t("complaints.emerging_title"),
        now=f"{now} · {t('complaints.per_day')}",
        before=f"{before} · {t('complaints.per_day')}",
    )
    out = table.select(
        pl.col("label").alias(t("complaints.dim_root_cause")),
        pl.col("root_cause").alias(t("complaints.code")),
        pl.col("count_now").alias(now),
        pl.col("count_before").alias(before),
        pl.col("rate_now_per_day").round(2).alias(f"{now} · {t('complaints.per_day')}"),
        pl.col("rate_before_per_day").round(2).alias(f"{before} · {t('complaints.per_day')}"),
        pl.col("growth_pct").round(1).alias(t("complaints.growth")),
        pl.col("change_per_day").round(2).alias(t("complaints.change_per_day")),
        pl.col("p_value").round(5).alias(t("chart.p_value")),
        pl.col("significant").alias(t("complaints.significant")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="cmp_emerging",
        file_name="cxdash_emerging_causes.csv",
        record=export_record(context, "complaints.emerging"),
    )
    st.dataframe(out, hide_index=True, width="stretch", key="cmp_emerging_table")


def _p(p: float | None) -> str:
    return "—" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _value(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    rules = TierRules.from_settings(context.settings.tiers, context.options.churn_window_days)
    view = value_data(url, version, context.period, context.scope, context.options, tz, context.user, rules)
    tier_names = {tier: t(f"tier.{tier}") for tier in TIERS}
    st.subheader(t("complaints.at_risk"))
    cols = st.columns(3)
    cols[0].metric(t("complaints.at_risk_customers"), f"{view.at_risk_customers:,}")
    cols[1].metric(
        t("complaints.at_risk_revenue"), t.money(view.at_risk_revenue), help=t("complaints.at_risk_help")
    )
    cols[2].metric(t("complaints.at_risk_vip"), f"{view.at_risk_vip:,}")
    stages = {s: t(f"complaints.lifecycle_{s}") for s in ("active", "at_risk", "churned", "won_back")}
    shown = view.at_risk.select(
        pl.col("customer_id").alias(t("complaints.col_customer_id")),
        pl.col("name").alias(t("complaints.col_customer_name")),
        pl.col("tier").replace_strict(tier_names, default=None).alias(t("satisfaction.dim_tier")),
        pl.col("stage").replace_strict(stages, default=None).alias(t("complaints.lifecycle")),
        pl.col("annual_revenue").round(2).alias(t("complaints.annual_revenue")),
        pl.col("clv").round(2).alias(t("complaints.clv")),
        pl.col("open_complaints").alias(t("complaints.open_complaints")),
        pl.col("dissatisfied").alias(t("complaints.dissatisfied")),
        joined_labels(view.at_risk, "causes", partial(name_of, t, "cause")).alias(
            t("complaints.dim_root_cause")
        ),
        pl.col("last_complaint_at").dt.convert_time_zone(tz).alias(t("complaints.last_complaint")),
    )
    st.caption(
        t(
            "complaints.at_risk_note",
            threshold=context.options.csat_threshold,
            shown=f"{view.at_risk.height:,}",
            total=f"{view.at_risk_customers:,}",
        )
    )
    chart_free_table(
        shown,
        t=t,
        key="cmp_at_risk",
        file_name="cxdash_revenue_at_risk.csv",
        record=export_record(context, "complaints.revenue_at_risk"),
    )
    churn_gap(context, t, view.churn, view.churn_period, view.window_days, key="cmp_churn")
    _causes_by_tier(context, t, view, tier_names)


def churn_gap(
    context: PageContext, t: Translator, churn: pl.DataFrame, period: Period | None, days: int, *, key: str
) -> None:
    """What complainers did next: churn of those left unresolved against those resolved, with intervals
    and the test (also on the Loyalty page)."""
    st.subheader(t("complaints.churn_title"))
    if period is None or churn.is_empty():
        st.info(t("complaints.churn_none", days=days), icon=":material/info:")
        return
    rows = []
    for row in churn.iter_rows(named=True):
        low, high = wilson_interval(row["churned"], row["customers"]) or (None, None)
        rows.append(
            {**row, "low": 100 * low, "high": 100 * high, "label": t(f"complaints.outcome_{row['outcome']}")}
        )
    table = pl.DataFrame(rows)
    by = {r["outcome"]: r for r in rows}
    if {"unresolved", "resolved"} <= set(by):
        u, r = by["unresolved"], by["resolved"]
        p = two_proportion_p(u["churned"], u["customers"], r["churned"], r["customers"])
        ratio = u["churn_pct"] / r["churn_pct"] if r["churn_pct"] else None
        st.warning(
            t(
                "complaints.churn_gap",
                unresolved=f"{u['churn_pct']:.1f}",
                resolved=f"{r['churn_pct']:.1f}",
                ratio="—" if ratio is None else f"{ratio:.1f}",
                p=_p(p),
                days=days,
            ),
            icon=":material/person_remove:",
        )
    st.caption(t("complaints.churn_note", period=t.period(period), days=days))
    fig = churn_bars(table, title=t("complaints.churn_title"), value=t("complaints.churn_pct"))
    out = table.select(
        pl.col("label").alias(t("complaints.outcome")),
        pl.col("customers").alias(t("chart.n")),
        pl.col("churned").alias(t("complaints.churned")),
        pl.col("churn_pct").round(1).alias(t("complaints.churn_pct")),
        pl.col("low").round(1).alias(t("satisfaction.ci_low")),
        pl.col("high").round(1).alias(t("satisfaction.ci_high")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key=key,
        file_name="cxdash_complaint_churn.csv",
        record=export_record(context, "complaints.churn"),
    )


def _causes_by_tier(context: PageContext, t: Translator, view: ValueView, tier_names: dict[str, str]) -> None:
    st.subheader(t("complaints.by_tier_title"))
    if view.by_tier.is_empty():
        return
    table = view.by_tier.with_columns(
        label_expr(view.by_tier, "root_cause", partial(name_of, t, "cause")).alias("label"),
        pl.col("tier").fill_null("unknown"),
    ).with_columns(pl.col("label").fill_null(t("complaints.unknown")))
    tiers = [*TIERS, "unknown"]
    names = [*(tier_names[tier] for tier in TIERS), t("complaints.unknown")]
    fig = tier_heatmap(table, title=t("complaints.by_tier_title"), tiers=tiers, tier_names=names)
    out = table.pivot(on="tier", index="label", values="complaints").fill_null(0)
    out = out.rename(
        {
            "label": t("complaints.dim_root_cause"),
            **{k: v for k, v in zip(tiers, names, strict=True) if k in out.columns},
        }
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="cmp_by_tier",
        file_name="cxdash_causes_by_tier.csv",
        record=export_record(context, "complaints.by_tier"),
    )
