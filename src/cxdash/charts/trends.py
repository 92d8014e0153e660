"""KPI trend lines with targets and annotated events."""

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from cxdash.charts.theme import ANNOTATION, PRIMARY, TARGET, base_layout
from cxdash.plain_text import plotly_plain


@dataclass(frozen=True, slots=True)
class TrendLabels:
    """Every text a trend chart shows, already translated."""

    title: str
    period: str
    value: str
    n: str
    target: str
    annotation: str


def kpi_trend_line(
    series: pl.DataFrame,
    annotations: pl.DataFrame,
    *,
    labels: TrendLabels,
    value_format: str,
    target: float | None = None,
) -> go.Figure:
    """`series`: period (short label), period_start (date), period_label, value, n, running (bool).
    `annotations`: on_date, label.

    Points sit at each period's start; a period still running has a hollow marker; events
    are dashed vertical lines with their label on hover. Every text is shown as written: Plotly's
    HTML subset (`<a href>`, `<b>`, `<br>`) in labels or annotations is escaped, never rendered.
    """
    labels = TrendLabels(*(plotly_plain(text) for text in (
        labels.title, labels.period, labels.value, labels.n, labels.target, labels.annotation,
    )))  # fmt: skip
    running = series["running"].to_list() if "running" in series.columns else [False] * series.height
    fig = go.Figure(
        go.Scatter(
            x=series["period_start"].to_list(),
            y=series["value"].to_list(),
            mode="lines+markers",
            line={"color": PRIMARY, "width": 2.5},
            marker={
                "size": 8,
                "symbol": ["circle-open" if r else "circle" for r in running],
                "line": {"width": 2, "color": PRIMARY},
            },
            name=labels.value,
            customdata=list(
                zip(
                    [plotly_plain(label) for label in series["period_label"].to_list()],
                    series["n"].to_list(),
                    strict=True,
                )
            ),
            hovertemplate=(
                f"{labels.period}: %{{customdata[0]}}<br>{labels.value}: %{{y:{value_format}}}"
                f"<br>{labels.n}: %{{customdata[1]:,}}<extra></extra>"
            ),
        )
    )
    if target is not None and series.height:
        fig.add_trace(
            go.Scatter(
                x=[series["period_start"].min(), series["period_start"].max()],
                y=[target, target],
                mode="lines",
                line={"color": TARGET, "dash": "dot", "width": 1.5},
                name=labels.target,
                hovertemplate=f"{labels.target}: %{{y:{value_format}}}<extra></extra>",
            )
        )
    if series.height:
        first, last = series["period_start"].min(), series["period_start"].max()
        inside = annotations.filter((pl.col("on_date") >= first) & (pl.col("on_date") <= last))
        for day in inside["on_date"].to_list():
            fig.add_shape(
                type="line",
                x0=day,
                x1=day,
                y0=0,
                y1=1,
                yref="paper",
                line={"color": ANNOTATION, "dash": "dash"},
            )
        if inside.height:
            fig.add_trace(
                go.Scatter(
                    x=inside["on_date"].to_list(),
                    y=[1.0] * inside.height,
                    yaxis="y2",
                    mode="markers",
                    marker={"symbol": "triangle-down", "size": 10, "color": ANNOTATION},
                    name=labels.annotation,
                    text=[plotly_plain(label) for label in inside["label"].to_list()],
                    hovertemplate=f"{labels.annotation}: %{{text}}<extra></extra>",
                )
            )
            fig.update_layout(yaxis2={"overlaying": "y", "range": [0, 1.05], "visible": False})
    fig.update_xaxes(
        tickvals=series["period_start"].to_list(),
        ticktext=[plotly_plain(label) for label in series["period"].to_list()],
        title=labels.period,
    )
    fig.update_yaxes(title=labels.value)
    return base_layout(fig, title=labels.title)
