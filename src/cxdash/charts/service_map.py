"""The Service map's Sankey: one column per stage, volumes on the links, each node coloured by its lead
KPI against target (grey without one), and the paths that end in pain (reopened, dissatisfied,
churned) tinted so that the eye follows them."""

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from cxdash.charts.theme import FONT_FAMILY, MUTED, STATUS_COLOURS

PAIN_NODES = frozenset({("outcome", "reopened"), ("feedback", "dissatisfied"), ("next_step", "churned")})
LINK_GREY = "rgba(148, 163, 184, 0.25)"
LINK_PAIN = "rgba(220, 38, 38, 0.30)"


def service_sankey(
    nodes: pl.DataFrame,
    links: pl.DataFrame,
    *,
    labels: Sequence[str],
    hovers: Sequence[str],
    title: str,
    height: int = 620,
) -> go.Figure:
    """`nodes` (stage, node, status) in layout order with their display `labels` and `hovers` (plain
    text, one per node); `links` (source_stage, source, target_stage, target, tickets)."""
    index = {(r["stage"], r["node"]): i for i, r in enumerate(nodes.iter_rows(named=True))}
    colours = [STATUS_COLOURS.get(status or "", MUTED) for status in nodes["status"].to_list()]
    rows = list(links.iter_rows(named=True))
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",  # nodes stay put, so that a click on one is a click (ui.node_clicks)
            valueformat=",d",
            node={
                "label": list(labels),
                "color": colours,
                "pad": 14,
                "thickness": 16,
                "line": {"color": "white", "width": 0.5},
                "customdata": list(hovers),
                "hovertemplate": "%{customdata}<extra></extra>",
            },
            link={
                "source": [index[(r["source_stage"], r["source"])] for r in rows],
                "target": [index[(r["target_stage"], r["target"])] for r in rows],
                "value": [r["tickets"] for r in rows],
                "color": [
                    LINK_PAIN if (r["target_stage"], r["target"]) in PAIN_NODES else LINK_GREY for r in rows
                ],
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,d}<extra></extra>",
            },
        )
    )
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        font={"family": FONT_FAMILY, "size": 12},
        height=height,
        margin={"l": 8, "r": 8, "t": 48, "b": 16},
        paper_bgcolor="white",
    )
    return fig
