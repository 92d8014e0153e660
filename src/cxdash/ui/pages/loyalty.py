"""The Loyalty and customer value page (PRODUCT.md view 4): value tiers with what-if sliders for every
threshold that answer at once, the service policy they would cost, and below, in lazy tabs, the
lifecycle flow, cohort retention, historic CLV and the points programme.

The sliders live in a fragment: a move reruns only it, on per-customer facts held once per filter
change (cxdash.ui.loaders.loyalty_facts_data); the re-tier and its summaries take milliseconds.
"""

from dataclasses import replace
from functools import partial

import polars as pl
import streamlit as st

from cxdash.charts.loyalty import (
    clv_boxes,
    lifecycle_sankey,
    migration_heatmap,
    retention_lines,
    tier_size_bars,
)
from cxdash.i18n import Translator
from cxdash.metrics.loyalty import FLOW_STAGES
from cxdash.metrics.tiers import TIERS, TierRules
from cxdash.ui.loaders import clv_data, cohort_data, lifecycle_data, loyalty_facts_data, points_data
from cxdash.ui.pages.complaints import churn_gap
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record
from cxdash.ui.widgets import THRESHOLD_KEY, chart_free_table, chart_with_table, empty_state, lazy_tabs
from cxdash.views.loyalty import what_if

TAB_KEY = "loy_tab"
# The what-if sliders: rule field → (min, max, step); money in the currency, counts, days.
SLIDERS: dict[str, tuple[int, int, int]] = {
    "m_vip": (1_000, 100_000, 500),
    "f_vip": (1, 60, 1),
    "m_high": (500, 50_000, 250),
    "f_high": (1, 60, 1),
    "r_risk_days": (7, 365, 1),
    "churn_window_days": (30, 720, 10),
}
VIP_PER_AGENT_KEY = "loy_vip_per_agent"
DEFAULT_VIP_PER_AGENT = 200


def render() -> None:
    run_page("loyalty", _render)


def _threshold(context: PageContext) -> int:
    """The satisfied threshold chosen on the Satisfaction page, else the setting."""
    return int(st.session_state.get(THRESHOLD_KEY, context.settings.csat_threshold))


def _defaults(context: PageContext) -> TierRules:
    return TierRules.from_settings(context.settings.tiers, context.options.churn_window_days)


def _render(context: PageContext, t: Translator) -> None:
    st.title(t("loyalty.title"))
    st.caption(t("loyalty.caption", period=t.period(context.period)))
    _what_if(context, t)
    lazy_tabs(
        t,
        TAB_KEY,
        {
            "lifecycle": partial(_lifecycle, context, t),
            "retention": partial(_retention, context, t),
            "clv": partial(_clv, context, t),
            "points": partial(_points, context, t),
        },
        label=lambda tab: t(f"loyalty.tab_{tab}"),
    )


def _slider_value(name: str, default: int) -> int:
    return int(st.session_state.get(f"loy_{name}", default))


def _reset(defaults: TierRules) -> None:
    for name in SLIDERS:
        value = int(getattr(defaults, name))
        st.session_state[f"loy_{name}"] = value
        for lang in ("zh", "en"):
            st.session_state.pop(f"loy_{name}__{lang}", None)


def _sliders(t: Translator, defaults: TierRules) -> TierRules:
    """The what-if rules from the sliders (values kept across languages), each with its default."""
    values = {}
    columns = st.columns(3)
    for i, (name, (low, high, step)) in enumerate(SLIDERS.items()):
        default = int(getattr(defaults, name))
        current = min(max(_slider_value(name, default), low), high)
        with columns[i % 3]:
            value = st.slider(
                t(f"loyalty.rule_{name}"),
                min_value=low,
                max_value=max(high, default),
                step=step,
                value=current,
                key=f"loy_{name}__{t.lang}",
                help=t(f"loyalty.rule_{name}_help"),
            )
            st.caption(t("loyalty.default", value=_rule_text(t, name, default)))
        st.session_state[f"loy_{name}"] = value
        values[name] = value
    return TierRules(**values)


def _rule_text(t: Translator, name: str, value: int) -> str:
    if name.startswith("m_"):
        return t.money(value, compact=False)
    if name.startswith("f_"):
        return t("loyalty.orders_n", n=value)
    return t("loyalty.days_n", n=value)


@st.fragment
def _what_if(context: PageContext, t: Translator) -> None:
    url, version, tz = context.settings.db_url, context.version, context.settings.display_tz
    defaults = _defaults(context)
    header, button = st.columns([5, 1])
    header.subheader(t("loyalty.whatif"))
    button.button(
        t("loyalty.reset"), on_click=_reset, args=(defaults,), icon=":material/restart_alt:", key="loy_reset"
    )
    st.caption(t("loyalty.whatif_note"))
    proposed = _sliders(t, defaults)
    threshold = _threshold(context)
    # The facts depend on the churn window only (not on the value thresholds): keyed by it alone, so
    # moving a value slider is a cache hit and only the re-tier runs.
    facts_rules = replace(defaults, churn_window_days=proposed.churn_window_days)
    facts = loyalty_facts_data(
        url, version, context.period, context.scope, tz, context.user, facts_rules, threshold
    )
    if facts.is_empty():
        empty_state(t("loyalty.empty"))
        return
    per_agent = st.number_input(
        t("loyalty.vip_per_agent"),
        min_value=1,
        max_value=100_000,
        step=50,
        value=int(st.session_state.get(VIP_PER_AGENT_KEY, DEFAULT_VIP_PER_AGENT)),
        key=f"{VIP_PER_AGENT_KEY}__{t.lang}",
        help=t("loyalty.vip_per_agent_help"),
    )
    st.session_state[VIP_PER_AGENT_KEY] = per_agent
    # The stages and churn flags depend on the churn window: the current rules are read on their own facts.
    current_facts = (
        facts
        if proposed.churn_window_days == defaults.churn_window_days
        else loyalty_facts_data(
            url, version, context.period, context.scope, tz, context.user, defaults, threshold
        )
    )
    result = what_if(facts, current=defaults, proposed=proposed, vip_customers_per_agent=int(per_agent))
    if current_facts is not facts:
        result = replace(
            result,
            current=what_if(
                current_facts, current=defaults, proposed=defaults, vip_customers_per_agent=int(per_agent)
            ).current,
        )
    _tier_tables(context, t, result)
    _policy(t, result.cost)
    _migration(context, t, result)


def _tier_names(t: Translator) -> dict[str, str]:
    return {tier: t(f"tier.{tier}") for tier in TIERS}


def _tier_tables(context: PageContext, t: Translator, result) -> None:
    names = _tier_names(t)
    series = (t("loyalty.current_rules"), t("loyalty.whatif_rules"))
    left, right = st.columns([2, 3])
    with left:
        fig = tier_size_bars(
            result.current, result.proposed, names=names, series=series, title=t("loyalty.tier_sizes")
        )
        st.plotly_chart(fig, key="loy_tier_sizes", config={"displaylogo": False}, width="stretch")
    with right:
        table = _summary_table(t, result.current, result.proposed, names)
        chart_free_table(
            table,
            t=t,
            key="loy_tiers",
            file_name="cxdash_tiers_whatif.csv",
            record=export_record(context, "loyalty.tiers"),
        )


def _summary_table(
    t: Translator, current: pl.DataFrame, proposed: pl.DataFrame, names: dict[str, str]
) -> pl.DataFrame:
    """Per tier: the what-if value of each measure, the current one in brackets where it differs."""
    joined = proposed.join(current, on="tier", suffix="_now")

    def both(column: str, decimals: int) -> pl.Expr:
        now, then = pl.col(f"{column}_now").round(decimals), pl.col(column).round(decimals)
        shown = then.cast(pl.String).fill_null("—")
        return (
            pl.when(now.eq_missing(then))
            .then(shown)
            .otherwise(shown + pl.lit(" (") + now.cast(pl.String).fill_null("—") + pl.lit(")"))
        )

    return joined.select(
        pl.col("tier").cast(pl.String).replace_strict(names).alias(t("satisfaction.dim_tier")),
        both("customers", 0).alias(t("loyalty.customers")),
        both("revenue_share_pct", 1).alias(t("loyalty.revenue_share")),
        both("csat_pct", 1).alias(t("kpi.csat_pct.label")),
        both("nps", 1).alias(t("kpi.nps.label")),
        both("complaint_rate_per_1k_orders", 1).alias(t("kpi.complaint_rate_per_1k_orders.label")),
        both("churn_rate_pct", 1).alias(t("kpi.churn_rate_pct.label")),
    )


def _policy(t: Translator, cost: dict) -> None:
    st.markdown(f"**{t('loyalty.policy')}**")
    now = cost.get("current") or {}
    cols = st.columns(3)
    cols[0].metric(
        t("loyalty.vip_customers"),
        f"{cost['vip_customers']:,}",
        delta=_delta(cost["vip_customers"], now.get("vip_customers")),
        delta_color="off",
    )
    cols[1].metric(
        t("loyalty.vip_agents"),
        f"{cost['vip_agents']:,}",
        delta=_delta(cost["vip_agents"], now.get("vip_agents")),
        delta_color="inverse",
    )
    share = cost["priority_ticket_share_pct"]
    cols[2].metric(
        t("loyalty.priority_share"),
        "—" if share is None else f"{share:.1f}%",
        delta=_share_delta(share, now.get("priority_ticket_share_pct")),
        delta_color="off",
        help=t("loyalty.priority_share_help"),
    )


def _share_delta(share: float | None, current: float | None) -> str | None:
    """The change in percentage points, none when there is nothing to compare or it rounds to 0."""
    if share is None or current is None or round(share - current, 1) == 0:
        return None
    return f"{share - current:+.1f} pp"


def _delta(value: int, current: int | None) -> str | None:
    return None if current is None or value == current else f"{value - current:+,}"


def _migration(context: PageContext, t: Translator, result) -> None:
    names = _tier_names(t)
    left, right = st.columns([2, 3])
    with left:
        fig = migration_heatmap(
            result.matrix,
            names=names,
            tiers=list(TIERS),
            title=t("loyalty.migration"),
            axes=(t("loyalty.current_rules"), t("loyalty.whatif_rules")),
        )
        st.plotly_chart(fig, key="loy_migration", config={"displaylogo": False}, width="stretch")
    with right:
        st.markdown(f"**{t('loyalty.changes', n=f'{result.changes_total:,}')}**")
        shown = result.changes.select(
            pl.col("customer_id").alias(t("complaints.col_customer_id")),
            pl.col("tier_before").cast(pl.String).replace_strict(names).alias(t("loyalty.current_rules")),
            pl.col("tier_after").cast(pl.String).replace_strict(names).alias(t("loyalty.whatif_rules")),
            pl.col("monetary").round(2).alias(t("loyalty.monetary")),
            pl.col("frequency").alias(t("loyalty.frequency")),
            pl.col("recency_days").alias(t("loyalty.recency")),
        )
        chart_free_table(
            shown,
            t=t,
            key="loy_changes",
            file_name="cxdash_tier_changes.csv",
            record=export_record(context, "loyalty.changes"),
        )


def _args(context: PageContext) -> tuple[str, str, str]:
    return context.settings.db_url, context.version, context.settings.display_tz


def _lifecycle(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    view = lifecycle_data(url, version, context.period, context.scope, tz, context.user, _defaults(context))
    stages = {s: t(f"loyalty.stage_{s}") for s in FLOW_STAGES}
    rate = view.win_back
    st.metric(
        t("loyalty.win_back"),
        "—" if rate["value"] is None else f"{rate['value']:.1f}%",
        help=t("loyalty.win_back_help", n=f"{rate['n']:,}"),
    )
    if view.flow.is_empty():
        empty_state(t("loyalty.empty"))
        return
    fig = lifecycle_sankey(view.flow, stage_names=stages, title=t("loyalty.flow_title"))
    out = view.flow.select(
        pl.col("period_from").alias(t("loyalty.from")),
        pl.col("stage_from").cast(pl.String).replace_strict(stages).alias(t("loyalty.stage_from")),
        pl.col("period_to").alias(t("loyalty.to")),
        pl.col("stage_to").cast(pl.String).replace_strict(stages).alias(t("loyalty.stage_to")),
        pl.col("customers").alias(t("loyalty.customers")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="loy_flow",
        file_name="cxdash_lifecycle_flow.csv",
        record=export_record(context, "loyalty.flow"),
    )
    st.caption(t("loyalty.flow_note"))
    churn_gap(
        context, t, view.churn, view.churn_period, _defaults(context).churn_window_days, key="loy_churn"
    )


def _retention(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    table = cohort_data(url, version, context.period, context.scope, tz, context.user)
    if table.is_empty():
        empty_state(t("loyalty.empty"))
        return
    fig = retention_lines(
        table,
        title=t("loyalty.retention_title"),
        x_title=t("loyalty.quarters_since"),
        y_title=t("loyalty.retention"),
    )
    out = table.select(
        pl.col("cohort").alias(t("loyalty.cohort")),
        pl.col("cohort_size").alias(t("loyalty.cohort_size")),
        pl.col("k").alias(t("loyalty.quarters_since")),
        pl.col("buyers").alias(t("loyalty.buyers")),
        pl.col("retention_pct").round(1).alias(t("loyalty.retention")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="loy_retention",
        file_name="cxdash_cohort_retention.csv",
        record=export_record(context, "loyalty.retention"),
    )
    st.caption(t("loyalty.retention_note"))


def _clv(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    table = clv_data(
        url, version, context.period, context.scope, tz, context.user, _defaults(context), _threshold(context)
    )
    names = _tier_names(t)
    fig = clv_boxes(
        table, names=names, tiers=list(TIERS), title=t("loyalty.clv_title"), value=t("complaints.clv")
    )
    out = table.select(
        pl.col("tier").replace_strict(names, default=None).alias(t("satisfaction.dim_tier")),
        pl.col("n").alias(t("loyalty.customers")),
        pl.col("mean").round(2).alias(t("loyalty.clv_mean")),
        pl.col("median").round(2).alias(t("loyalty.clv_median")),
        pl.col("total").round(2).alias(t("loyalty.clv_total")),
        (100 * pl.col("annual_churn_rate")).round(1).alias(t("loyalty.annual_churn")),
        pl.col("lifetime_years").round(1).alias(t("loyalty.lifetime")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="loy_clv",
        file_name="cxdash_clv_by_tier.csv",
        record=export_record(context, "loyalty.clv"),
    )
    st.dataframe(out, hide_index=True, width="stretch", key="loy_clv_table")
    st.caption(t("loyalty.clv_note"))


def _points(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    view = points_data(url, version, context.period, context.scope, tz, context.user, _threshold(context))
    cols = st.columns(4)
    for column, name in zip(
        cols, ("earned_points", "redeemed_points", "expired_points", "liability_points"), strict=True
    ):
        column.metric(t(f"loyalty.{name}"), f"{int(view.points[name] or 0):,}")
    groups = {"member": t("loyalty.member"), "non_member": t("loyalty.non_member")}
    out = view.members.select(
        pl.col("group").cast(pl.String).replace_strict(groups).alias(t("loyalty.group")),
        pl.col("customers").alias(t("loyalty.customers")),
        pl.col("buyers").alias(t("loyalty.buyers")),
        pl.col("repeat_purchase_rate_pct").round(1).alias(t("kpi.repeat_purchase_rate_pct.label")),
        pl.col("csat_pct").round(1).alias(t("kpi.csat_pct.label")),
        pl.col("csat_n").alias("CSAT N"),
        pl.col("nps").round(1).alias(t("kpi.nps.label")),
        pl.col("nps_n").alias("NPS N"),
        pl.col("annual_revenue_per_buyer").round(2).alias(t("loyalty.revenue_per_buyer")),
    )
    st.markdown(f"**{t('loyalty.members_title')}**")
    chart_free_table(
        out,
        t=t,
        key="loy_members",
        file_name="cxdash_members_vs_non_members.csv",
        record=export_record(context, "loyalty.members"),
    )
    st.caption(t("loyalty.points_note"))
