"""Charts of the Loyalty page, built with graph_objects (cheap on the slider's hot path): tier sizes
under the current and the what-if rules, the migration matrix, the lifecycle Sankey, cohort retention,
CLV by tier. Texts from data are shown as written."""

import plotly.graph_objects as go
import polars as pl

from cxdash.charts.satisfaction import SERIES_COLOURS
from cxdash.charts.theme import MUTED, PRIMARY, base_layout
from cxdash.plain_text import plotly_plain

STAGE_COLOURS = {
    "new": "#94a3b8",
    "prospect": "#cbd5e1",
    "active": "#16a34a",
    "at_risk": "#f59e0b",
    "churned": "#dc2626",
    "won_back": "#2563eb",
}


def _closest(fig: go.Figure, title: str, height: int) -> go.Figure:
    return base_layout(fig, title=plotly_plain(title), height=height).update_layout(hovermode="closest")


def tier_size_bars(
    current: pl.DataFrame,
    proposed: pl.DataFrame,
    *,
    names: dict[str, str],
    series: tuple[str, str],
    title: str,
) -> go.Figure:
    """Customers per tier under the current rules and the what-if rules, side by side."""
    fig = go.Figure()
    for table, name, colour in ((current, series[0], MUTED), (proposed, series[1], PRIMARY)):
        fig.add_trace(
            go.Bar(
                x=[plotly_plain(names[t]) for t in table["tier"].cast(pl.String).to_list()],
                y=table["customers"].to_list(),
                name=plotly_plain(name),
                marker={"color": colour},
                hovertemplate="%{x}: %{y:,}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    return _closest(fig, title, 320)


def migration_heatmap(
    matrix: pl.DataFrame, *, names: dict[str, str], tiers: list[str], title: str, axes: tuple[str, str]
) -> go.Figure:
    """Customers per (current tier → what-if tier); the diagonal is those who stay."""
    cells = {(r["tier_from"], r["tier_to"]): r["customers"] for r in matrix.iter_rows(named=True)}
    z = [[cells.get((a, b), 0) for b in tiers] for a in tiers]
    labels = [plotly_plain(names[t]) for t in tiers]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            colorscale="Blues",
            text=z,
            texttemplate="%{text:,}",
            hovertemplate=f"{plotly_plain(axes[0])}: %{{y}}<br>{plotly_plain(axes[1])}: %{{x}}<br>%{{z:,}}"
            "<extra></extra>",
            showscale=False,
        )
    )
    fig.update_yaxes(title=plotly_plain(axes[0]), autorange="reversed")
    fig.update_xaxes(title=plotly_plain(axes[1]), side="top")
    return _closest(fig, title, 320)


def lifecycle_sankey(flow: pl.DataFrame, *, stage_names: dict[str, str], title: str) -> go.Figure:
    """Customers moving between lifecycle stages from one quarter end to the next: a column per quarter
    end, sign-ups of a quarter entering beside the quarter before it."""
    periods = list(dict.fromkeys([*flow["period_from"].to_list(), *flow["period_to"].to_list()]))
    nodes: dict[tuple[str, str], tuple[int, float]] = {}  # (period, stage) → (index, column)
    for row in flow.iter_rows(named=True):
        new = str(row["stage_from"]) == "new"
        ends = (
            (
                row["period_to"] if new else row["period_from"],
                str(row["stage_from"]),
                periods.index(row["period_from"]),
            ),
            (row["period_to"], str(row["stage_to"]), periods.index(row["period_to"])),
        )
        for period, stage, column in ends:
            nodes.setdefault((period, stage), (len(nodes), column))
    order = {stage: i for i, stage in enumerate(STAGE_COLOURS)}
    columns = max(len(periods) - 1, 1)
    placed = sorted(nodes.items(), key=lambda item: (item[1][1], order.get(item[0][1], 99)))
    per_column = {c: [k for k, (_, col) in placed if col == c] for c in range(len(periods))}
    x = [0.001 + 0.998 * column / columns for (_, column) in nodes.values()]
    y = [
        (per_column[column].index(key) + 0.5) / len(per_column[column]) for key, (_, column) in nodes.items()
    ]
    labels = [
        f"{plotly_plain(period)} · {plotly_plain(stage_names.get(stage, stage))}" for period, stage in nodes
    ]
    link_rows = list(flow.iter_rows(named=True))

    def source(row: dict) -> int:
        period = row["period_to"] if str(row["stage_from"]) == "new" else row["period_from"]
        return nodes[(period, str(row["stage_from"]))][0]

    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": [STAGE_COLOURS.get(stage, MUTED) for _, stage in nodes],
                "pad": 12,
                "x": x,
                "y": y,
            },
            link={
                "source": [source(r) for r in link_rows],
                "target": [nodes[(r["period_to"], str(r["stage_to"]))][0] for r in link_rows],
                "value": flow["customers"].to_list(),
                "color": "rgba(148, 163, 184, 0.35)",
            },
        )
    )
    return base_layout(fig, title=plotly_plain(title), height=480)


def retention_lines(table: pl.DataFrame, *, title: str, x_title: str, y_title: str) -> go.Figure:
    """One line per signup cohort: retention (%) by quarters since signup; running quarters hollow."""
    fig = go.Figure()
    for i, cohort in enumerate(table["cohort"].unique().sort().to_list()):
        rows = table.filter(pl.col("cohort") == cohort).sort("k")
        fig.add_trace(
            go.Scatter(
                x=rows["k"].to_list(),
                y=rows["retention_pct"].to_list(),
                mode="lines+markers",
                name=plotly_plain(cohort),
                line={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
                marker={"symbol": ["circle-open" if r else "circle" for r in rows["running"].to_list()]},
                customdata=rows["cohort_size"].to_list(),
                hovertemplate=f"{plotly_plain(cohort)} · %{{x}}<br>%{{y:.1f}}% (N = %{{customdata:,}})"
                "<extra></extra>",
            )
        )
    fig.update_xaxes(title=plotly_plain(x_title), dtick=1)
    fig.update_yaxes(title=plotly_plain(y_title), rangemode="tozero")
    return _closest(fig, title, 380)


def clv_boxes(
    table: pl.DataFrame, *, names: dict[str, str], tiers: list[str], title: str, value: str
) -> go.Figure:
    """The distribution of historic CLV per tier (buyers only), as box plots of pre-computed quartiles."""
    fig = go.Figure()
    for tier in tiers:
        row = table.filter(pl.col("tier") == tier)
        if row.is_empty() or row["n"][0] == 0:
            continue
        r = row.row(0, named=True)
        fig.add_trace(
            go.Box(
                name=plotly_plain(names[tier]),
                q1=[r["q1"]],
                median=[r["median"]],
                q3=[r["q3"]],
                lowerfence=[r["p05"]],
                upperfence=[r["p95"]],
                mean=[r["mean"]],
                marker={"color": PRIMARY},
            )
        )
    fig.update_yaxes(title=plotly_plain(value))
    fig.update_layout(showlegend=False)
    return _closest(fig, title, 340)
