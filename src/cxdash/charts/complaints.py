"""Charts of the Complaints page: volume with the rate per 1,000 orders, severity, the Pareto with its
cumulative line and 80% mark, the workflow funnel and stage times, emerging causes, causes × tiers and
the churn gap. Every text from data is shown as written (plotly_plain)."""

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from cxdash.charts.satisfaction import SERIES_COLOURS
from cxdash.charts.theme import ANNOTATION, MUTED, PRIMARY, STATUS_COLOURS, base_layout
from cxdash.plain_text import plotly_plain

SEVERITY_COLOURS = {1: "#991b1b", 2: "#dc2626", 3: "#f59e0b", 4: "#94a3b8"}


def _plain(values: list) -> list[str]:
    return [plotly_plain(v) for v in values]


def _closest(fig: go.Figure, title: str, height: int) -> go.Figure:
    return base_layout(fig, title=plotly_plain(title), height=height).update_layout(hovermode="closest")


@dataclass(frozen=True, slots=True)
class VolumeLabels:
    title: str
    complaints: str
    rate: str
    period: str


def volume_bars(table: pl.DataFrame, *, labels: VolumeLabels) -> go.Figure:
    """Complaints per period stacked by group (`group_label`; one bar when no breakdown), and the rate per
    1,000 orders as a line on the right axis where defined; `table`: period_text, group_label,
    complaints, rate_per_1k, running."""
    fig = go.Figure()
    groups = table["group_label"].unique(maintain_order=True).to_list()
    for i, group in enumerate(groups):
        rows = table.filter(pl.col("group_label").eq_missing(group))
        fig.add_trace(
            go.Bar(
                x=_plain(rows["period_text"].to_list()),
                y=rows["complaints"].to_list(),
                name=plotly_plain(group if group is not None else labels.complaints),
                marker={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)] if len(groups) > 1 else PRIMARY},
                hovertemplate="%{x}<br>%{fullData.name}: %{y:,}<extra></extra>",
            )
        )
    if len(groups) == 1 and table["rate_per_1k"].drop_nulls().len():
        fig.add_trace(
            go.Scatter(
                x=_plain(table["period_text"].to_list()),
                y=table["rate_per_1k"].to_list(),
                yaxis="y2",
                mode="lines+markers",
                name=plotly_plain(labels.rate),
                line={"color": ANNOTATION, "width": 2.2},
                marker={
                    "symbol": ["circle-open" if r else "circle" for r in table["running"].to_list()],
                    "size": 8,
                },
                hovertemplate=f"%{{x}}<br>{plotly_plain(labels.rate)}: %{{y:.2f}}<extra></extra>",
            )
        )
        fig.update_layout(
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "title": plotly_plain(labels.rate),
                "rangemode": "tozero",
            }
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=plotly_plain(labels.complaints), selector={"anchor": "x"})
    return _closest(fig, labels.title, 360)


def severity_bars(table: pl.DataFrame, *, title: str, median: str, p90: str) -> go.Figure:
    """Median and p90 resolution hours per severity (`label`), coloured by severity."""
    fig = go.Figure()
    for name, column, opacity in ((median, "resolution_median_h", 1.0), (p90, "resolution_p90_h", 0.45)):
        fig.add_trace(
            go.Bar(
                x=_plain(table["label"].to_list()),
                y=table[column].to_list(),
                name=plotly_plain(name),
                opacity=opacity,
                marker={"color": [SEVERITY_COLOURS.get(s, MUTED) for s in table["severity"].to_list()]},
                hovertemplate=f"%{{x}}<br>{plotly_plain(name)}: %{{y:.1f}} h<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="h")
    return _closest(fig, title, 320)


@dataclass(frozen=True, slots=True)
class ParetoLabels:
    title: str
    value: str
    cumulative: str
    vital: str  # the 80% line


def pareto_chart(table: pl.DataFrame, *, labels: ParetoLabels) -> go.Figure:
    """Bars (`label`, `value`), the vital few in the primary colour, the cumulative share on the right
    axis and the 80% line; a bar's customdata[0] is its `key` (for drill-down selection)."""
    fig = go.Figure(
        go.Bar(
            x=_plain(table["label"].to_list()),
            y=table["value"].to_list(),
            marker={"color": [PRIMARY if v else MUTED for v in table["is_vital_few"].to_list()]},
            name=plotly_plain(labels.value),
            customdata=[
                [k, c] for k, c in zip(table["key"].to_list(), table["complaints"].to_list(), strict=True)
            ],
            hovertemplate=f"%{{x}}<br>{plotly_plain(labels.value)}: %{{y:,.0f}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_plain(table["label"].to_list()),
            y=table["cumulative_pct"].to_list(),
            yaxis="y2",
            mode="lines+markers",
            name=plotly_plain(labels.cumulative),
            line={"color": ANNOTATION, "width": 2},
            hovertemplate=f"%{{x}}<br>{plotly_plain(labels.cumulative)}: %{{y:.1f}}%<extra></extra>",
        )
    )
    fig.add_hline(
        y=80,
        yref="y2",
        line={"color": STATUS_COLOURS["red"], "dash": "dot"},
        annotation_text=plotly_plain(labels.vital),
        annotation_position="top left",
    )
    fig.update_layout(
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 105],
            "dtick": 20,
            "ticksuffix": "%",
            "showgrid": False,
        },
        clickmode="event+select",
    )
    fig.update_yaxes(title=plotly_plain(labels.value), selector={"anchor": "x"})
    return _closest(fig, labels.title, 380)


def funnel_chart(table: pl.DataFrame, *, title: str) -> go.Figure:
    """Tickets that reached each workflow stage (`label`, `tickets`), with the share of all."""
    fig = go.Figure(
        go.Funnel(
            y=_plain(table["label"].to_list()),
            x=table["tickets"].to_list(),
            textinfo="value+percent initial",
            marker={"color": PRIMARY},
        )
    )
    return _closest(fig, title, 340)


def stage_time_bars(table: pl.DataFrame, *, title: str, median: str, p90: str) -> go.Figure:
    """Median and p90 hours spent in each stage (`label`)."""
    fig = go.Figure()
    for name, column, colour in ((median, "median_h", PRIMARY), (p90, "p90_h", "#93c5fd")):
        fig.add_trace(
            go.Bar(
                y=_plain(table["label"].to_list()),
                x=table[column].to_list(),
                orientation="h",
                name=plotly_plain(name),
                marker={"color": colour},
                hovertemplate=f"%{{y}}<br>{plotly_plain(name)}: %{{x:.1f}} h<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="h")
    return _closest(fig, title, 340)


def emerging_bars(table: pl.DataFrame, *, title: str, now: str, before: str) -> go.Figure:
    """Complaints per day now against before for each cause (`label`); significant growers in red."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=_plain(table["label"].to_list()),
            x=table["rate_before_per_day"].to_list(),
            orientation="h",
            name=plotly_plain(before),
            marker={"color": "#cbd5e1"},
            hovertemplate=f"%{{y}}<br>{plotly_plain(before)}: %{{x:.2f}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=_plain(table["label"].to_list()),
            x=table["rate_now_per_day"].to_list(),
            orientation="h",
            name=plotly_plain(now),
            marker={
                "color": [STATUS_COLOURS["red"] if s else PRIMARY for s in table["significant"].to_list()]
            },
            hovertemplate=f"%{{y}}<br>{plotly_plain(now)}: %{{x:.2f}}<extra></extra>",
        )
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed")
    return _closest(fig, title, max(300, 80 + 34 * table.height))


def tier_heatmap(table: pl.DataFrame, *, title: str, tiers: list[str], tier_names: list[str]) -> go.Figure:
    """Complaints per cause (rows, `label`) and value tier (columns, in `tiers` order)."""
    causes = table["label"].unique(maintain_order=True).to_list()
    cells = {(r["label"], r["tier"]): r["complaints"] for r in table.iter_rows(named=True)}
    z = [[cells.get((cause, tier), 0) for tier in tiers] for cause in causes]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=_plain(tier_names),
            y=_plain(causes),
            colorscale="Blues",
            text=z,
            texttemplate="%{text}",
            hovertemplate="%{y} · %{x}: %{z:,}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _closest(fig, title, max(320, 90 + 26 * len(causes)))


def churn_bars(table: pl.DataFrame, *, title: str, value: str) -> go.Figure:
    """Churn share per outcome (`label`, churn_pct, low, high, customers) with its 95% interval."""
    fig = go.Figure(
        go.Bar(
            x=_plain(table["label"].to_list()),
            y=table["churn_pct"].to_list(),
            marker={"color": [STATUS_COLOURS["red"], PRIMARY][: table.height]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (table["high"] - table["churn_pct"]).to_list(),
                "arrayminus": (table["churn_pct"] - table["low"]).to_list(),
            },
            customdata=table["customers"].to_list(),
            hovertemplate=f"%{{x}}<br>{plotly_plain(value)}: %{{y:.1f}}%<br>N = %{{customdata:,}}"
            "<extra></extra>",
        )
    )
    fig.update_yaxes(title=plotly_plain(value), range=[0, 100])
    return _closest(fig, title, 320)
