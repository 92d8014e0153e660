"""The Satisfaction page (PRODUCT.md view 2): are customers happier than last quarter, and what would make
them happier? Cards, then lazy tabs (only the open one is computed): trends, breakdowns with drill-down,
rating items, key drivers, and what customers say."""

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import polars as pl
import streamlit as st

from cxdash.charts.satisfaction import (
    ValueLabels,
    group_bars,
    importance_bars,
    item_bars,
    labelled,
    nps_mix_bars,
    quadrant_scatter,
    trend_lines,
)
from cxdash.domain import CHANNELS
from cxdash.i18n import Translator
from cxdash.labels import label_expr, with_label
from cxdash.metrics.drivers import DRIVER_MIN_RESPONSES, QUADRANTS
from cxdash.metrics.satisfaction import DIMENSIONS, MIN_N, RATING_ITEMS, SURVEY_KPIS
from cxdash.metrics.tiers import TIERS, TierRules
from cxdash.periods import Period
from cxdash.plain_text import markdown_plain
from cxdash.ui.loaders import (
    comment_data,
    dataset,
    driver_data,
    rating_items_data,
    satisfaction_breakdown_data,
    satisfaction_cards_data,
    satisfaction_drill_data,
    satisfaction_trend_data,
    trend_periods,
)
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record, remembered
from cxdash.ui.widgets import (
    chart_free_table,
    chart_with_table,
    clock_control,
    clock_label,
    empty_state,
    kpi_card,
    lazy_tabs,
    threshold_control,
)

TAB_KEY = "sat_tab"  # the open tab's id, language-free; the tabs widget is keyed per language
VALUE_FORMAT = {
    "csat_pct": ".1f",
    "csat_response_rate_pct": ".1f",
    "nps": ".1f",
    "csat_mean": ".2f",
    "ces_mean": ".2f",
}
ITEM_FORMAT = ".2f"
DRILL_COLUMNS = (
    "survey_id",
    "responded_at",
    "sent_at",
    "score",
    *RATING_ITEMS,
    "comment",
    "ticket_id",
    "channel",
    "category",
    "team_id",
    "agent_id",
    "priority",
    "customer_id",
    "customer_name",
)


def render() -> None:
    run_page("satisfaction", _render)


def _rules(context: PageContext) -> TierRules:
    return TierRules.from_settings(context.settings.tiers, context.options.churn_window_days)


def _render(context: PageContext, t: Translator) -> None:
    st.title(t("satisfaction.title"))
    left, right = st.columns(2)
    with left:
        threshold = threshold_control(t, default=context.settings.csat_threshold)
    with right:
        clock = clock_control(t, default=context.options.clock)
    # Both are definitions, so part of the options and of every cache key computed from them.
    context = replace(context, options=replace(context.options, csat_threshold=threshold, clock=clock))
    st.caption(
        t(
            "satisfaction.caption",
            period=t.period(context.period),
            previous=t.period(context.period.previous()),
        )
        + " · "
        + t(f"satisfaction.definition_{threshold}")
    )
    if not _cards(context, t):
        empty_state(t("satisfaction.empty"))
        return
    lazy_tabs(
        t,
        TAB_KEY,
        {
            "trends": partial(_trends, context, t),
            "breakdown": partial(_breakdown, context, t),
            "items": partial(_items, context, t),
            "drivers": partial(_drivers, context, t),
            "comments": partial(_comments, context, t),
        },
        label=lambda tab: t(f"satisfaction.tab_{tab}"),
    )


def _cards(context: PageContext, t: Translator) -> bool:
    url, tz = context.settings.db_url, context.settings.display_tz
    data = satisfaction_cards_data(
        url, context.version, context.period, context.scope, context.options, tz, context.user
    )
    if not data.has_data:
        return False
    if data.running:
        st.caption(t("overview.running", as_of=t.datetime(dataset(url, context.version).span.data_as_of, tz)))
    columns = st.columns(len(data.cards))
    for column, card in zip(columns, data.cards, strict=True):
        with column:
            help_text = t(
                f"kpi.{card.name}.help",
                threshold=context.options.csat_threshold,
                window=context.options.churn_window_days,
            )
            kpi_card(t, card, [], help_text=help_text)
    mix = data.nps_mix
    if mix["promoters"] is not None:
        st.caption(
            t(
                "satisfaction.nps_mix",
                promoters=f"{mix['promoters']:.1f}",
                passives=f"{mix['passives']:.1f}",
                detractors=f"{mix['detractors']:.1f}",
            )
        )
    return True


def _kpi_label(t: Translator, kpi: str) -> str:
    if kpi in RATING_ITEMS:
        return t(f"satisfaction.item_{kpi}")
    return t(f"kpi.{kpi}.label")


def _channels(t: Translator) -> dict[str, str]:
    return {c: t(f"channel.{c}") for c in CHANNELS}


def _group_names(t: Translator, dimension: str | None, context: PageContext) -> dict[str, str]:
    """Translated names of a dimension's values (data values such as regions show as they are)."""
    if dimension == "channel":
        return _channels(t)
    if dimension == "segment":
        return {s: t(f"segment.{s}") for s in ("consumer", "business")}
    if dimension == "tier":
        return {tier: t(f"tier.{tier}") for tier in TIERS}
    if dimension == "team_id":
        teams = dataset(context.settings.db_url, context.version).team_names
        return {team: f"{name} ({team})" for team, name in teams.items()}
    if dimension == "category":
        known = ("billing", "delivery", "product_quality", "account", "after_sales")
        return {c: t(f"category.{c}") for c in known}
    return {}


def _value_labels(t: Translator, kpi: str, title: str) -> ValueLabels:
    return ValueLabels(
        title=title,
        value=_kpi_label(t, kpi),
        n=t("chart.n"),
        interval=t("satisfaction.ci"),
        too_few=t("satisfaction.too_few", n=MIN_N),
    )


def _value_table(t: Translator, table: pl.DataFrame, first: str, first_name: str) -> pl.DataFrame:
    """What a chart's table shows: value, interval and N, a note instead of a value under the minimum N."""
    return table.select(
        pl.col(first).alias(first_name),
        pl.when(~pl.col("small")).then(pl.col("value").round(2)).alias(t("chart.value")),
        pl.when(~pl.col("small")).then(pl.col("low").round(2)).alias(t("satisfaction.ci_low")),
        pl.when(~pl.col("small")).then(pl.col("high").round(2)).alias(t("satisfaction.ci_high")),
        pl.col("n").alias(t("chart.n")),
        pl.when(pl.col("small")).then(pl.lit(t("satisfaction.too_few", n=MIN_N))).alias(t("chart.note")),
    )


def _pick_kpi(t: Translator, key: str, options: tuple[str, ...]) -> str:
    return remembered(
        st.selectbox,
        key,
        t,
        list(options),
        fallback=options[0],
        label=t("satisfaction.kpi"),
        options=options,
        format_func=lambda k: _kpi_label(t, k),
    )


def _pick_dimension(t: Translator, key: str, *, allow_none: bool, fallback: str) -> str | None:
    options = (["none"] if allow_none else []) + list(DIMENSIONS)
    chosen = remembered(
        st.selectbox,
        key,
        t,
        options,
        fallback=fallback,
        label=t(f"satisfaction.{key}"),
        options=options,
        format_func=lambda d: t(f"satisfaction.dim_{d}"),
    )
    return None if chosen == "none" else chosen


def _trends(context: PageContext, t: Translator) -> None:
    url, tz = context.settings.db_url, context.settings.display_tz
    columns = st.columns(3)
    with columns[0]:
        kind = remembered(
            st.segmented_control,
            "sat_trend_kind",
            t,
            ["quarter", "month"],
            fallback="quarter",
            label=t("overview.trend_granularity"),
            options=("quarter", "month"),
            format_func=lambda k: t(f"overview.trend_{k}"),
            required=True,
        )
    with columns[1]:
        kpi = _pick_kpi(t, "sat_trend_kpi", SURVEY_KPIS)
    with columns[2]:
        split = _pick_dimension(t, "sat_split", allow_none=True, fallback="none")
    rules = _rules(context)
    table = satisfaction_trend_data(
        url, context.version, kind, split, context.scope, context.options, tz, context.user, rules
    ).filter(pl.col("kpi") == kpi)
    if table.is_empty():
        empty_state(t("satisfaction.empty"))
        return
    names = _group_names(t, split, context)
    table = (
        labelled(table, "group", names, t("satisfaction.unknown"))
        if split
        else table.with_columns(pl.lit(None, pl.String).alias("label"))
    )
    table = table.rename({"label": "group_label"})
    periods = {p.label: p for p in trend_periods(dataset(url, context.version).span, kind, tz)}
    period_text = {label: t.period(p) for label, p in periods.items()}
    title = _kpi_label(t, kpi) + (f" · {t(f'satisfaction.dim_{split}')}" if split else "")
    fig = trend_lines(
        table, labels=_value_labels(t, kpi, title), value_format=VALUE_FORMAT[kpi], period_text=period_text
    )
    shown = table.with_columns(
        pl.col("period").replace_strict(period_text, default=pl.col("period")).alias("period_text")
    )
    first, first_name = ("period_text", t("chart.period"))
    out = _value_table(t, shown, first, first_name)
    if split:
        out = out.insert_column(1, shown["group_label"].alias(t(f"satisfaction.dim_{split}")))
    event = _chart(
        context, t, fig, out, key=f"sat_trend_{kpi}", file_name=f"cxdash_satisfaction_{kpi}_{kind}.csv"
    )
    picked = _picked_point(event)
    st.caption(t("satisfaction.trend_note", n=MIN_N))
    if split == "tier":
        st.caption(t("satisfaction.tier_note"))
    labels = list(periods)
    chosen = _drill_choice(t, "sat_trend_drill", labels, picked[0] if picked else None, period_text.get)
    if chosen is not None:
        group = None
        if split:
            groups = table.filter(pl.col("period") == chosen)["group"].to_list()
            group = _drill_group(t, "sat_trend_drill_group", groups, names)
            if group is _NOTHING:
                return
        _drill_table(
            context,
            t,
            periods[chosen],
            kpi=kpi,
            dimension=split,
            group=group,
            trend_kind=kind,
            tier_period=list(periods.values())[-1],
        )


_NOTHING = object()


def _chart(
    context: PageContext, t: Translator, fig, table: pl.DataFrame, *, key: str, file_name: str
) -> dict:
    """A selectable chart (clicking a bar or point selects it) with its table and download."""
    event = st.plotly_chart(
        fig,
        key=f"chart_{key}",
        on_select="rerun",
        selection_mode="points",
        config={"displaylogo": False},
        width="stretch",
    )
    with st.expander(t("chart.show_table")):
        chart_free_table(table, t=t, key=key, file_name=file_name, record=export_record(context, key))
    return event


def _picked_point(event: object) -> list | None:
    """The customdata of the first selected point, if any."""
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    for point in points:
        data = point.get("customdata")
        if data:
            return data if isinstance(data, list) else [data]
    return None


def _drill_choice(
    t: Translator, key: str, options: list[str], picked: str | None, text: Callable[[str], str | None]
) -> str | None:
    """The cell to drill into: a selected bar or point sets it; a select box offers the same (and works
    where a click cannot)."""
    widget_key = f"{key}__{t.lang}"
    if picked is not None and picked in options and st.session_state.get(f"{key}_picked") != picked:
        st.session_state[widget_key] = picked  # a new click wins over the box
        st.session_state[f"{key}_picked"] = picked
    if st.session_state.get(widget_key) not in [None, *options]:
        st.session_state[widget_key] = None
    return st.selectbox(
        t("satisfaction.drill"),
        options,
        index=None,
        key=widget_key,
        placeholder=t("satisfaction.drill_placeholder"),
        format_func=lambda v: text(v) or v,
    )


def _drill_group(t: Translator, key: str, groups: list, names: dict[str, str]) -> object:
    options = ["" if g is None else g for g in groups]
    if not options:
        return _NOTHING
    chosen = st.selectbox(
        t("satisfaction.drill_group"),
        options,
        key=f"{key}__{t.lang}",
        format_func=lambda v: names.get(v, v) if v else t("satisfaction.unknown"),
    )
    return chosen or None


def _drill_table(
    context: PageContext,
    t: Translator,
    period: Period,
    *,
    kpi: str,
    dimension: str | None,
    group: str | None,
    trend_kind: str | None = None,
    tier_period: Period | None = None,
) -> None:
    url, tz = context.settings.db_url, context.settings.display_tz
    rows = satisfaction_drill_data(
        url,
        context.version,
        period,
        context.scope,
        tz,
        context.user,
        _rules(context),
        kpi=kpi,
        dimension=dimension,
        group=group,
        trend_kind=trend_kind,
        tier_period=tier_period,
    )
    st.caption(t("satisfaction.drill_rows", n=f"{rows.height:,}"))
    local = [c for c in ("responded_at", "sent_at") if c in rows.columns]
    shown = rows.with_columns(
        *(pl.col(c).dt.convert_time_zone(tz) for c in local),
        pl.col("channel").cast(pl.String).replace_strict(_channels(t), default=None),
        pl.col("category").replace_strict(_group_names(t, "category", context), default=pl.col("category")),
    ).select(pl.col(c).alias(t(f"satisfaction.col_{c}")) for c in DRILL_COLUMNS)
    key = f"sat_drill_{kpi}_{dimension or 'period'}"
    chart_free_table(
        shown,
        t=t,
        key=key,
        file_name=f"cxdash_satisfaction_{kpi}_responses.csv",
        record=export_record(context, f"satisfaction.drill.{kpi}"),
    )


def _breakdown(context: PageContext, t: Translator) -> None:
    url, tz = context.settings.db_url, context.settings.display_tz
    columns = st.columns(2)
    with columns[0]:
        dimension = _pick_dimension(t, "sat_dimension", allow_none=False, fallback="channel")
    with columns[1]:
        kpi = _pick_kpi(t, "sat_breakdown_kpi", (*SURVEY_KPIS, *RATING_ITEMS))
    assert dimension is not None
    table = satisfaction_breakdown_data(
        url,
        context.version,
        context.period,
        dimension,
        context.scope,
        context.options,
        tz,
        context.user,
        _rules(context),
    )
    names = _group_names(t, dimension, context)
    table = labelled(table, "group", names, t("satisfaction.unknown"))
    rows = table.filter(pl.col("kpi") == kpi).with_columns(pl.col("group").fill_null("").alias("key"))
    if rows.is_empty():
        empty_state(t("satisfaction.empty"))
        return
    dim_name = t(f"satisfaction.dim_{dimension}")
    title = f"{_kpi_label(t, kpi)} · {dim_name} · {t.period(context.period)}"
    fig = group_bars(
        rows, labels=_value_labels(t, kpi, title), value_format=VALUE_FORMAT.get(kpi, ITEM_FORMAT)
    )
    event = _chart(
        context,
        t,
        fig,
        _value_table(t, rows, "label", dim_name),
        key=f"sat_by_{dimension}_{kpi}",
        file_name=f"cxdash_satisfaction_{kpi}_by_{dimension}.csv",
    )
    picked = _picked_point(event)
    st.caption(t("satisfaction.small_note", n=MIN_N))
    if dimension == "tier":
        st.caption(t("satisfaction.tier_note"))
    label_of = dict(zip(rows["key"].to_list(), rows["label"].to_list(), strict=True))
    chosen = _drill_choice(
        t, f"sat_drill_{dimension}", list(label_of), picked[0] if picked else None, label_of.get
    )
    if chosen is not None:
        _drill_table(context, t, context.period, kpi=kpi, dimension=dimension, group=chosen or None)
    _nps_mix(context, t, table, dimension, dim_name)
    _all_kpis_table(context, t, table, dimension, dim_name)


def _nps_mix(context: PageContext, t: Translator, table: pl.DataFrame, dimension: str, dim_name: str) -> None:
    nps = table.filter((pl.col("kpi") == "nps") & ~pl.col("small")).select(
        "label",
        (100 * pl.col("promoters") / pl.col("n")).alias("promoters"),
        (100 * (pl.col("n") - pl.col("promoters") - pl.col("detractors")) / pl.col("n")).alias("passives"),
        (100 * pl.col("detractors") / pl.col("n")).alias("detractors"),
        "n",
        pl.col("value").alias("nps"),
    )
    if nps.is_empty():
        st.caption(t("satisfaction.nps_mix_too_few", n=MIN_N))
        return
    parts = {p: t(f"satisfaction.{p}") for p in ("promoters", "passives", "detractors")}
    fig = nps_mix_bars(
        nps.sort("nps"),
        title=f"{t('satisfaction.nps_mix_title')} · {dim_name}",
        names=parts,
        share=t("satisfaction.share"),
        n=t("chart.n"),
    )
    out = nps.select(
        pl.col("label").alias(dim_name),
        *(pl.col(p).round(1).alias(parts[p]) for p in parts),
        pl.col("nps").round(1).alias(t("kpi.nps.label")),
        pl.col("n").alias(t("chart.n")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key=f"sat_nps_mix_{dimension}",
        file_name=f"cxdash_nps_mix_by_{dimension}.csv",
        record=export_record(context, f"satisfaction.nps_mix.{dimension}"),
    )
    if dimension in ("channel", "category", "team_id"):
        st.caption(t("satisfaction.nps_served_note"))


def _all_kpis_table(
    context: PageContext, t: Translator, table: pl.DataFrame, dimension: str, dim_name: str
) -> None:
    """Every KPI of the breakdown side by side (value, or the note under the minimum N, and N)."""
    st.subheader(t("satisfaction.all_kpis"))
    kpis = (*SURVEY_KPIS, *RATING_ITEMS)
    cell = (
        pl.when(pl.col("small"))
        .then(pl.lit(t("satisfaction.too_few", n=MIN_N)))
        .otherwise(
            pl.col("value").round(2).cast(pl.String)
            + pl.lit(" (N=")
            + pl.col("n").cast(pl.String)
            + pl.lit(")")
        )
    )
    wide = (
        table.with_columns(cell.alias("cell"))
        .pivot(on="kpi", index="label", values="cell")
        .select("label", *(k for k in kpis if k in table["kpi"].unique().to_list()))
    )
    wide = wide.rename({"label": dim_name, **{k: _kpi_label(t, k) for k in kpis if k in wide.columns}})
    chart_free_table(
        wide,
        t=t,
        key=f"sat_all_{dimension}",
        file_name=f"cxdash_satisfaction_by_{dimension}.csv",
        record=export_record(context, f"satisfaction.all.{dimension}"),
    )


def _items(context: PageContext, t: Translator) -> None:
    url, tz = context.settings.db_url, context.settings.display_tz
    table = rating_items_data(
        url, context.version, context.period, context.scope, context.options, tz, context.user
    )
    if table.filter(pl.col("which") == "current")["n"].sum() == 0:
        empty_state(t("satisfaction.empty"))
        return
    table = with_label(table, "item", lambda i: t(f"satisfaction.item_{i}"), "label")
    series = {"current": t.period(context.period), "previous": t.period(context.period.previous())}
    fig = item_bars(
        table,
        title=t("satisfaction.items_title"),
        series=series,
        value=t("satisfaction.mean_rating"),
        n=t("chart.n"),
        interval=t("satisfaction.ci"),
    )
    out = table.select(
        pl.col("which").replace_strict(series).alias(t("chart.period")),
        pl.col("label").alias(t("satisfaction.item")),
        pl.col("value").round(2).alias(t("satisfaction.mean_rating")),
        pl.col("low").round(2).alias(t("satisfaction.ci_low")),
        pl.col("high").round(2).alias(t("satisfaction.ci_high")),
        pl.col("top_box_pct").round(1).alias(t(f"satisfaction.top_box_{context.options.csat_threshold}")),
        pl.col("n").alias(t("chart.n")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="sat_items",
        file_name="cxdash_rating_items.csv",
        record=export_record(context, "satisfaction.items"),
    )
    current = table.filter(pl.col("which") == "current").sort("value")
    if current.height:
        weakest = current.row(0, named=True)
        st.info(
            t("satisfaction.items_weakest", item=weakest["label"], value=f"{weakest['value']:.2f}"),
            icon=":material/lightbulb:",
        )


def _driver_name(t: Translator, driver: str, clock: str) -> str:
    if driver == "log_first_response_h":
        return clock_label(t, t("satisfaction.driver_log_first_response_h"), clock)  # type: ignore[arg-type]
    if driver in RATING_ITEMS:
        return t(f"satisfaction.item_{driver}")
    return t(f"satisfaction.driver_{driver}")


def _drivers(context: PageContext, t: Translator) -> None:
    url, tz = context.settings.db_url, context.settings.display_tz
    view = driver_data(url, context.version, context.period, context.scope, context.options, tz, context.user)
    analysis = view.analysis
    if analysis.status == "too_few":
        st.info(
            t("satisfaction.drivers_too_few", n=f"{analysis.n:,}", min=DRIVER_MIN_RESPONSES),
            icon=":material/info:",
        )
        return
    if analysis.status != "ok":
        st.info(t("satisfaction.drivers_no_variance"), icon=":material/info:")
        return
    cols = st.columns(3)
    cols[0].metric(t("satisfaction.r2"), f"{analysis.r2:.2f}", help=t("satisfaction.r2_help"))
    cols[1].metric(t("chart.n"), f"{analysis.n:,}")
    cols[2].metric(t("satisfaction.f_p"), _p_text(analysis.f_p_value))
    table = with_label(view.table, "driver", lambda d: _driver_name(t, d, context.options.clock), "label")
    quadrants = {q: t(f"satisfaction.quadrant_{q}") for q in QUADRANTS}
    left, right = st.columns(2)
    out = table.select(
        pl.col("label").alias(t("satisfaction.driver")),
        pl.col("beta").round(3).alias(t("satisfaction.beta")),
        pl.col("p_value").round(4).alias(t("chart.p_value")),
        (100 * pl.col("importance")).round(1).alias(t("satisfaction.importance")),
        pl.col("performance_pct").round(1).alias(t("satisfaction.performance")),
        pl.col("quadrant").replace_strict(quadrants, default=None).alias(t("satisfaction.quadrant")),
        label_expr(table, "note", lambda n: t(f"satisfaction.note_{n}")).alias(t("chart.note")),
    )
    with left:
        fig = importance_bars(
            table,
            title=t("satisfaction.importance_title"),
            importance=t("satisfaction.importance"),
            beta=t("satisfaction.beta"),
        )
        chart_with_table(
            fig,
            out,
            t=t,
            key="sat_drivers",
            file_name="cxdash_key_drivers.csv",
            record=export_record(context, "satisfaction.drivers"),
        )
    with right:
        # The quadrant is read for the rating items (one performance scale); the table has them all.
        items = table.filter(pl.col("driver").is_in(RATING_ITEMS))
        fig = quadrant_scatter(
            items,
            title=t("satisfaction.quadrant_title"),
            importance=t("satisfaction.importance"),
            performance=t("satisfaction.performance"),
            quadrant_names=quadrants,
            lines=(view.cut_importance, view.cut_performance),
        )
        chart_with_table(
            fig,
            out,
            t=t,
            key="sat_quadrant",
            file_name="cxdash_importance_performance.csv",
            record=export_record(context, "satisfaction.quadrant"),
        )
    _driver_summary(t, table, quadrants)
    st.caption(t("satisfaction.drivers_note"))


def _p_text(p: float | None) -> str:
    return "—" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _driver_summary(t: Translator, table: pl.DataFrame, quadrants: dict[str, str]) -> None:
    """The reading in words: the top drivers, and what to fix first."""
    kept = table.filter(pl.col("kept")).sort("importance", descending=True)
    if kept.is_empty():
        return
    top = kept.head(2)["label"].to_list()
    lines = [t("satisfaction.top_drivers", drivers=" · ".join(markdown_plain(d) for d in top))]
    fix = kept.filter(pl.col("quadrant") == "fix_first")["label"].to_list()
    if fix:
        lines.append(t("satisfaction.fix_first", drivers=" · ".join(markdown_plain(d) for d in fix)))
    st.success("\n\n".join(lines), icon=":material/insights:")


def _comments(context: PageContext, t: Translator) -> None:
    url, tz = context.settings.db_url, context.settings.display_tz
    columns = st.columns(3)
    with columns[0]:
        kind = remembered(
            st.segmented_control,
            "sat_comment_kind",
            t,
            ["csat", "nps"],
            fallback="csat",
            label=t("satisfaction.comment_kind"),
            options=("csat", "nps"),
            format_func=lambda k: t(f"satisfaction.comment_kind_{k}"),
            required=True,
        )
    score_options = list(range(1, 6)) if kind == "csat" else list(range(0, 11))
    with columns[1]:
        scores = st.multiselect(
            t("satisfaction.scores"),
            score_options,
            key=f"sat_scores_{kind}__{t.lang}",
            placeholder=t("filters.all"),
        )
    with columns[2]:
        weakest = st.selectbox(
            t("satisfaction.weakest"),
            [None, *RATING_ITEMS],
            key=f"sat_weakest__{t.lang}",
            disabled=kind != "csat",
            format_func=lambda i: t("filters.all") if i is None else t(f"satisfaction.item_{i}"),
            help=t("satisfaction.weakest_help"),
        )
    view = comment_data(
        url,
        context.version,
        context.period,
        context.scope,
        context.options,
        tz,
        context.user,
        kind,
        tuple(sorted(scores)),
        weakest if kind == "csat" else None,
    )
    if view.total == 0:
        empty_state(t("satisfaction.no_comments"))
        return
    st.subheader(t("satisfaction.themes"))
    st.caption(t(f"satisfaction.themes_note_{kind}", threshold=context.options.csat_threshold))
    _themes(context, t, view.themes, kind)
    st.subheader(t("satisfaction.comments"))
    st.caption(t("satisfaction.comments_count", shown=f"{view.comments.height:,}", total=f"{view.total:,}"))
    groups = {g: t(f"satisfaction.group_{kind}_{g}") for g in ("promoter", "passive", "detractor")}
    shown = view.comments.select(
        pl.col("responded_at").dt.convert_time_zone(tz).alias(t("satisfaction.col_responded_at")),
        pl.col("score").alias(t("satisfaction.col_score")),
        pl.col("group").replace_strict(groups, default=None).alias(t("satisfaction.group")),
        pl.col("comment").alias(t("satisfaction.col_comment")),
        pl.col("weakest")
        .list.eval(
            pl.element().replace_strict(
                {i: t(f"satisfaction.item_{i}") for i in RATING_ITEMS}, default=pl.element()
            )
        )
        .list.join(", ")
        .alias(t("satisfaction.weakest")),
        pl.col("channel")
        .cast(pl.String)
        .replace_strict(_channels(t), default=None)
        .alias(t("satisfaction.col_channel")),
        pl.col("ticket_id").alias(t("satisfaction.col_ticket_id")),
        pl.col("survey_id").alias(t("satisfaction.col_survey_id")),
    )
    chart_free_table(
        shown,
        t=t,
        key=f"sat_comments_{kind}",
        file_name=f"cxdash_{kind}_comments.csv",
        record=export_record(context, f"satisfaction.comments.{kind}"),
    )


def _themes(context: PageContext, t: Translator, themes: pl.DataFrame, kind: str) -> None:
    if themes.is_empty():
        st.info(t("satisfaction.no_themes"), icon=":material/info:")
        return
    left, right = st.columns(2)
    for column, leaning in ((left, "detractor"), (right, "promoter")):
        rows = themes.filter(pl.col("leaning") == leaning)
        with column:
            st.markdown(f"**{t(f'satisfaction.leaning_{kind}_{leaning}')}**")
            out = rows.select(
                pl.col("term").alias(t("satisfaction.term")),
                pl.col("detractor_count").alias(t(f"satisfaction.count_{kind}_detractor")),
                pl.col("promoter_count").alias(t(f"satisfaction.count_{kind}_promoter")),
                pl.col("z").abs().round(1).alias("z"),
                pl.col("examples").list.join(" | ").alias(t("satisfaction.examples")),
            )
            chart_free_table(
                out,
                t=t,
                key=f"sat_themes_{kind}_{leaning}",
                file_name=f"cxdash_{kind}_themes_{leaning}.csv",
                record=export_record(context, f"satisfaction.themes.{kind}.{leaning}"),
            )
