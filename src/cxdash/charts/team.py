"""Charts of the Team performance page: the fair comparison (actual − expected CSAT with 95% intervals),
SLA over time, backlog by age, the weekday × hour workload and the SLA replay. Texts from data are shown
as written."""

import plotly.graph_objects as go
import polars as pl

from cxdash.charts.satisfaction import SERIES_COLOURS
from cxdash.charts.theme import MUTED, PRIMARY, STATUS_COLOURS, base_layout
from cxdash.plain_text import plotly_plain

BUCKET_COLOURS = ("#93c5fd", "#3b82f6", "#f59e0b", "#dc2626")


def _closest(fig: go.Figure, title: str, height: int) -> go.Figure:
    return base_layout(fig, title=plotly_plain(title), height=height).update_layout(hovermode="closest")


def fair_dots(table: pl.DataFrame, *, title: str, x_title: str) -> go.Figure:
    """Per agent (`label`), actual − expected CSAT (points) with the 95% interval (whiskers); red when
    significantly below, green above, grey under the minimum N (flagged, not ranked)."""
    rows = table.sort("diff_pct", nulls_last=True)
    colours = [
        MUTED if small else STATUS_COLOURS["red"] if below else STATUS_COLOURS["green"] if above else PRIMARY
        for small, below, above in zip(
            rows["small"], rows["significant_below"], rows["significant_above"], strict=True
        )
    ]
    fig = go.Figure(
        go.Scatter(
            x=rows["diff_pct"].to_list(),
            y=[plotly_plain(v) for v in rows["label"].to_list()],
            mode="markers",
            marker={"color": colours, "size": 9},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (rows["diff_high"] - rows["diff_pct"]).to_list(),
                "arrayminus": (rows["diff_pct"] - rows["diff_low"]).to_list(),
                "color": "#64748b",
                "thickness": 1,
            },
            customdata=list(
                zip(
                    rows["n"].to_list(),
                    rows["csat_pct"].to_list(),
                    rows["expected_pct"].to_list(),
                    strict=True,
                )
            ),
            hovertemplate="%{y}<br>%{x:+.1f} pp<br>N = %{customdata[0]:,} · %{customdata[1]:.1f}% vs "
            "%{customdata[2]:.1f}%<extra></extra>",
        )
    )
    fig.add_vline(x=0, line={"color": MUTED, "dash": "dot"})
    fig.update_xaxes(title=plotly_plain(x_title))
    return _closest(fig, title, max(320, 60 + 16 * rows.height))


def sla_lines(table: pl.DataFrame, *, title: str, value: str, period_text: dict[str, str]) -> go.Figure:
    """Attainment (%) per period, one line per group (`label`)."""
    fig = go.Figure()
    for i, group in enumerate(table["label"].unique(maintain_order=True).to_list()):
        rows = table.filter(pl.col("label") == group).sort("period")
        fig.add_trace(
            go.Scatter(
                x=[period_text.get(p, p) for p in rows["period"].to_list()],
                y=rows["pct"].to_list(),
                mode="lines+markers",
                name=plotly_plain(group),
                line={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
                customdata=rows["n"].to_list(),
                hovertemplate="%{x}<br>%{y:.1f}% (N = %{customdata:,})<extra></extra>",
            )
        )
    fig.update_yaxes(title=plotly_plain(value))
    return _closest(fig, title, 360)


def backlog_bars(table: pl.DataFrame, *, title: str, buckets: dict[str, str]) -> go.Figure:
    """Open tickets at each instant (`when`), stacked by age bucket."""
    fig = go.Figure()
    for (code, name), colour in zip(buckets.items(), BUCKET_COLOURS, strict=False):
        rows = table.filter(pl.col("bucket") == code)
        fig.add_trace(
            go.Bar(
                x=rows["when"].to_list(),
                y=rows["tickets"].to_list(),
                name=plotly_plain(name),
                marker={"color": colour},
                hovertemplate=f"%{{x}}<br>{plotly_plain(name)}: %{{y:,}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    return _closest(fig, title, 340)


def workload_heat(table: pl.DataFrame, *, title: str, weekdays: list[str], value: str) -> go.Figure:
    """`value` (arrivals or handled) per weekday (rows) × hour (columns)."""
    z = [[0] * 24 for _ in range(7)]
    for row in table.iter_rows(named=True):
        z[row["weekday"] - 1][row["hour"]] = row[value]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(24)),
            y=[plotly_plain(w) for w in weekdays],
            colorscale="Blues",
            hovertemplate="%{y} %{x}:00 · %{z:,}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(dtick=2)
    return _closest(fig, title, 300)


def replay_bars(table: pl.DataFrame, *, title: str, names: tuple[str, str]) -> go.Figure:
    """Attainment per group (`label`) under the current policy and the proposed targets."""
    fig = go.Figure()
    for column, name, colour in (("current_pct", names[0], MUTED), ("proposed_pct", names[1], PRIMARY)):
        fig.add_trace(
            go.Bar(
                x=[plotly_plain(v) for v in table["label"].to_list()],
                y=table[column].to_list(),
                name=plotly_plain(name),
                marker={"color": colour},
                hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return _closest(fig, title, 320)
