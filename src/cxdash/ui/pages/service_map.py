"""The Service map page (客户服务运作图, PRODUCT.md view 9): the whole service system of the period and
scope as one live diagram — channels → ticket types → handling → outcome → feedback → what the
customer did next — with volumes on the links, each node's KPI against its target, node cards that
open the page (and filter) that explains them, and OLA attainment per workflow stage."""

from functools import partial

import polars as pl
import streamlit as st

from cxdash.charts.service_map import service_sankey
from cxdash.i18n import Translator
from cxdash.labels import label_expr, row_labels
from cxdash.metrics.flow import COMPLAINT_PREFIX, STAGES
from cxdash.metrics.kpis import KPI_BY_NAME
from cxdash.periods import Period
from cxdash.plain_text import markdown_plain
from cxdash.ui.loaders import service_map_data
from cxdash.ui.node_clicks import sankey_node_clicks
from cxdash.ui.ola import ola_section
from cxdash.ui.registry import PAGE_BY_ID
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, choose_period, export_record
from cxdash.ui.widgets import chart_free_table, chart_with_table, empty_state
from cxdash.views.service_map import KPI_N, LEAD_KPI, ServiceMap, explained_on

GOTO_KEY = "map_goto"  # the page a clicked node opens, switched to at the start of the next run
STATUS_BADGE = {"green": "green", "amber": "orange", "red": "red"}
# Units of the node KPIs (churn_pct is a share like the KPIs in %).
NODE_UNITS = {"frt_median_min": "min", "sla_first_response_pct": "%", "csat_pct": "%", "churn_pct": "%"}


def render() -> None:
    run_page("service_map", _render)


def node_label(t: Translator, stage: str, node: str) -> str:
    """A node's name in the user's language (channels and categories from their own sections)."""
    if stage == "channel":
        return t(f"channel.{node}") if t.has(f"channel.{node}") else node
    if stage == "ticket_type" and node.startswith(COMPLAINT_PREFIX):
        category = node.removeprefix(COMPLAINT_PREFIX)
        name = t(f"category.{category}") if t.has(f"category.{category}") else category
        return t("map.complaint_of", category=name)
    return t(f"map.node_{node}") if t.has(f"map.node_{node}") else node


def _stage_name(t: Translator, frame: pl.DataFrame, column: str) -> pl.Expr:
    """A stage column of `frame` in the user's language (few distinct values: mapped one by one)."""
    return label_expr(frame, column, lambda s: t(f"map.stage_{s}"))


def _node_name(t: Translator, frame: pl.DataFrame, stage: str, node: str) -> pl.Series:
    """A node column of `frame` named in the user's language (node_label), keeping the column's name."""
    return row_labels(frame, (stage, node), partial(node_label, t), node)


def _kpi_text(t: Translator, name: str, value: float | None, n: int) -> str:
    return t("map.kpi_n", kpi=t(f"map.kpi_{name}"), value=t.kpi_value(value, NODE_UNITS[name]), n=f"{n:,}")


def _hover(t: Translator, row: dict) -> str:
    lines = [f"{node_label(t, row['stage'], row['node'])}: {row['tickets']:,} ({row['share_pct']:.1f}%)"]
    lines += [_kpi_text(t, name, row[name], row[n]) for name, n in KPI_N.items() if row[n]]
    return "<br>".join(lines)


def _render(context: PageContext, t: Translator) -> None:
    if target := st.session_state.pop(GOTO_KEY, None):  # a node was clicked (_open_node)
        st.switch_page(target)
    st.title(t("nav.service_map"))
    config = context.settings
    data = service_map_data(
        config.db_url, context.version, context.period, context.scope, context.options, config.display_tz,
        context.user,
    )  # fmt: skip
    if data.tickets == 0:
        empty_state(t("map.empty", period=t.period(context.period)))
        return
    st.caption(
        t(
            "map.caption",
            period=t.period(context.period),
            n=f"{data.tickets:,}",
            as_of=t.datetime(data.window.data_as_of, config.display_tz),
            threshold=context.options.csat_threshold,
            window=context.options.churn_window_days,
        )
    )
    _diagram(context, t, data)
    _cards(context, t, data)
    ola_section(context, t, complaints_only=False, key="map_ola", view="service_map.ola")


def _diagram(context: PageContext, t: Translator, data: ServiceMap) -> None:
    rows = list(data.nodes.iter_rows(named=True))
    labels = [f"{node_label(t, r['stage'], r['node'])}<br>{r['tickets']:,}" for r in rows]
    fig = service_sankey(
        data.nodes,
        data.links,
        labels=labels,
        hovers=[_hover(t, r) for r in rows],
        title=" → ".join(t(f"map.stage_{s}") for s in STAGES),
    )
    links = data.links.select(
        _stage_name(t, data.links, "source_stage"),
        _node_name(t, data.links, "source_stage", "source"),
        _stage_name(t, data.links, "target_stage"),
        _node_name(t, data.links, "target_stage", "target"),
        "tickets",
    ).rename({c: t(f"map.col_{c}") for c in ("source_stage", "source", "target_stage", "target", "tickets")})
    period = context.period.label
    chart_with_table(
        fig,
        links,
        t=t,
        key="map_flow",
        file_name=f"cxdash_service_map_links_{period}.csv",
        record=export_record(context, f"service_map.links.{period}"),
    )
    st.caption(t("map.colour_note"))
    sankey_node_clicks("map_node_click", partial(_open_node, data, context.period))


def _open_node(data: ServiceMap, period: Period, index: int) -> None:
    """A node was clicked: its page opens with the node's period (and channel) in the sidebar."""
    if not 0 <= index < data.nodes.height:
        return
    row = data.nodes.row(index, named=True)
    page_id, channel = explained_on(row["stage"], row["node"])
    choose_period(period.kind, period.label, None if channel is None else [channel])
    st.session_state[GOTO_KEY] = PAGE_BY_ID[page_id].script


def _node_table(t: Translator, data: ServiceMap) -> pl.DataFrame:
    shown = data.nodes.with_columns(
        _stage_name(t, data.nodes, "stage"),
        _node_name(t, data.nodes, "stage", "node"),
        pl.col("status").replace_strict(
            {s: t(f"overview.status_{s}") for s in STATUS_BADGE}, default=None, return_dtype=pl.String
        ),
    ).select("stage", "node", "tickets", "share_pct", *[c for pair in KPI_N.items() for c in pair], "status")
    return shown.rename({c: t(f"map.col_{c}") for c in shown.columns})


def _cards(context: PageContext, t: Translator, data: ServiceMap) -> None:
    st.subheader(t("map.nodes"))
    st.caption(t("map.nodes_note"))
    tabs = st.tabs([t(f"map.stage_{s}") for s in STAGES])
    period = context.period
    for stage, tab in zip(STAGES, tabs, strict=True):
        with tab, st.container(horizontal=True):
            for i, row in enumerate(data.nodes.filter(pl.col("stage") == stage).iter_rows(named=True)):
                _card(t, row, f"map_go_{stage}_{i}", period)
    with st.expander(t("map.node_table")):
        chart_free_table(
            _node_table(t, data),
            t=t,
            key="map_nodes",
            file_name=f"cxdash_service_map_nodes_{period.label}.csv",
            record=export_record(context, f"service_map.nodes.{period.label}"),
        )


def _card(t: Translator, row: dict, key: str, period: Period) -> None:
    with st.container(border=True, width=250):
        st.markdown(f"**{markdown_plain(node_label(t, row['stage'], row['node']))}**")
        st.caption(t("map.tickets_share", n=f"{row['tickets']:,}", share=f"{row['share_pct']:.1f}"))
        lead = LEAD_KPI[row["stage"]]
        if lead is not None and row["value"] is not None:
            name, unit = lead[0], NODE_UNITS[lead[0]]
            st.caption(t("map.kpi_of", kpi=t(f"map.kpi_{name}"), n=f"{row[KPI_N[name]]:,}"))
            value = t.kpi_value(row["value"], unit)
            if row["status"] in STATUS_BADGE:
                target = t.kpi_value(row["target"], KPI_BY_NAME[lead[1]].unit)
                st.badge(t("map.value_target", value=value, target=target), color=STATUS_BADGE[row["status"]])
            else:
                st.badge(value, color="gray")
        page_id, channel = explained_on(row["stage"], row["node"])
        page = PAGE_BY_ID[page_id]
        if st.button(
            t("map.explain", page=t(page.title_key)),
            key=key,
            icon=":material/arrow_forward:",
            type="tertiary",
            on_click=choose_period,
            args=(period.kind, period.label, None if channel is None else [channel]),
        ):
            st.switch_page(page.script)
