"""Charts of the Satisfaction page: values with 95% intervals per group or period, the NPS mix, rating
items, driver importance and the importance × performance quadrant. Every text from data is shown as
written (plotly_plain); small samples are drawn greyed with their N instead of a number."""

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from cxdash.charts.theme import MUTED, PRIMARY, base_layout
from cxdash.labels import label_expr
from cxdash.plain_text import plotly_plain

NPS_COLOURS = {"promoters": "#16a34a", "passives": "#cbd5e1", "detractors": "#dc2626"}
QUADRANT_COLOURS = {
    "fix_first": "#dc2626",
    "keep_up": "#16a34a",
    "maintain": "#2563eb",
    "lower_priority": MUTED,
}
SERIES_COLOURS = ("#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d")
PREVIOUS = "#93c5fd"
LABEL_SIDES = ("top center", "bottom center", "middle right", "middle left")


@dataclass(frozen=True, slots=True)
class ValueLabels:
    """Texts of a value chart, already translated."""

    title: str
    value: str
    n: str
    interval: str
    too_few: str  # shown instead of a value under the minimum N, e.g. "N < 30"


def _hover(labels: ValueLabels, value_format: str) -> str:
    return (
        f"%{{customdata[1]}}<br>{labels.value}: %{{x:{value_format}}}"
        f"<br>{labels.interval}: %{{customdata[2]}}<br>{labels.n}: %{{customdata[3]:,}}<extra></extra>"
    )


def _interval_text(low: float | None, high: float | None, value_format: str) -> str:
    return "—" if low is None or high is None else f"{low:{value_format}} – {high:{value_format}}"


def group_bars(table: pl.DataFrame, *, labels: ValueLabels, value_format: str) -> go.Figure:
    """Horizontal bars per group with 95% interval whiskers; `table`: key, label, value, low, high, n,
    small. A small group gets no bar, only a grey "too few" note with its N. A bar's customdata[0] is
    its key (for drill-down selection)."""
    shown = table.filter(~pl.col("small") & pl.col("value").is_not_null())
    hidden = table.filter(pl.col("small") | pl.col("value").is_null())
    fmt = value_format.lstrip(",")
    fig = go.Figure(
        go.Bar(
            y=[plotly_plain(v) for v in shown["label"].to_list()],
            x=shown["value"].to_list(),
            orientation="h",
            marker={"color": PRIMARY},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (shown["high"] - shown["value"]).to_list(),
                "arrayminus": (shown["value"] - shown["low"]).to_list(),
                "color": "#1e3a8a",
                "thickness": 1.2,
            },
            customdata=[
                [
                    row["key"],
                    plotly_plain(row["label"]),
                    _interval_text(row["low"], row["high"], fmt),
                    row["n"],
                ]
                for row in shown.iter_rows(named=True)
            ],
            hovertemplate=_hover(labels, fmt),
            name=plotly_plain(labels.value),
        )
    )
    if hidden.height:
        fig.add_trace(
            go.Scatter(
                y=[plotly_plain(v) for v in hidden["label"].to_list()],
                x=[0] * hidden.height,
                mode="text",
                text=[f"{plotly_plain(labels.too_few)} (N = {n:,})" for n in hidden["n"].to_list()],
                textposition="middle right",
                textfont={"color": MUTED},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    order = table.sort("value", nulls_last=False)["label"].to_list()
    fig.update_yaxes(categoryorder="array", categoryarray=[plotly_plain(v) for v in order], title=None)
    fig.update_xaxes(title=plotly_plain(labels.value))
    fig.update_layout(showlegend=False, clickmode="event+select")
    return base_layout(
        fig, title=plotly_plain(labels.title), height=max(260, 70 + 34 * table.height)
    ).update_layout(hovermode="closest")


def _gaps(values: list, bounds: list, *, above: bool) -> list:
    """Whisker lengths from each value to its bound (none where the value is hidden)."""
    pairs = zip(values, bounds, strict=True)
    return [None if v is None or b is None else (b - v if above else v - b) for v, b in pairs]


def trend_lines(
    table: pl.DataFrame, *, labels: ValueLabels, value_format: str, period_text: dict[str, str]
) -> go.Figure:
    """One line per group (a single line when `group` is all null) over the periods, with an interval
    band for a single line and whiskers otherwise; points under the minimum N are left out (gaps), a
    running period has a hollow marker. `table`: period, group_label, value, low, high, n, small,
    running. customdata[0] is the period (for drill-down selection)."""
    fmt = value_format.lstrip(",")
    fig = go.Figure()
    groups = table["group_label"].unique(maintain_order=True).to_list()
    single = len(groups) == 1
    for i, group in enumerate(groups):
        rows = table.filter(pl.col("group_label").eq_missing(group)).sort("period")
        values = [
            None if s else v for v, s in zip(rows["value"].to_list(), rows["small"].to_list(), strict=True)
        ]
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        x = [period_text.get(p, p) for p in rows["period"].to_list()]
        symbols = ["circle-open" if r else "circle" for r in rows["running"].to_list()]
        if single:
            fig.add_trace(
                go.Scatter(
                    x=x + x[::-1],
                    y=rows["high"].to_list() + rows["low"].to_list()[::-1],
                    fill="toself",
                    fillcolor="rgba(37, 99, 235, 0.12)",
                    line={"width": 0},
                    hoverinfo="skip",
                    name=plotly_plain(labels.interval),
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                mode="lines+markers",
                name=plotly_plain(group if group is not None else labels.value),
                line={"color": colour, "width": 2.2},
                marker={"symbol": symbols, "size": 8},
                error_y=None
                if single
                else {
                    "type": "data",
                    "symmetric": False,
                    "array": _gaps(values, rows["high"].to_list(), above=True),
                    "arrayminus": _gaps(values, rows["low"].to_list(), above=False),
                    "thickness": 1,
                },
                customdata=[
                    [p, plotly_plain(group if group is not None else ""), _interval_text(lo, hi, fmt), n]
                    for p, lo, hi, n in zip(rows["period"].to_list(), rows["low"].to_list(),
                                            rows["high"].to_list(), rows["n"].to_list(), strict=True)
                ],
                hovertemplate=(
                    f"%{{x}} %{{customdata[1]}}<br>{plotly_plain(labels.value)}: %{{y:{fmt}}}"
                    f"<br>{plotly_plain(labels.interval)}: %{{customdata[2]}}"
                    f"<br>{plotly_plain(labels.n)}: %{{customdata[3]:,}}<extra></extra>"
                ),
                connectgaps=False,
            )
        )  # fmt: skip
    fig.update_layout(clickmode="event+select")
    fig.update_yaxes(title=plotly_plain(labels.value))
    return base_layout(fig, title=plotly_plain(labels.title), height=360).update_layout(hovermode="closest")


def nps_mix_bars(table: pl.DataFrame, *, title: str, names: dict[str, str], share: str, n: str) -> go.Figure:
    """100% stacked bars of promoters, passives and detractors per group; `table`: label, promoters,
    passives, detractors (% of responses), n."""
    fig = go.Figure()
    labels = [plotly_plain(v) for v in table["label"].to_list()]
    for part in ("detractors", "passives", "promoters"):
        fig.add_trace(
            go.Bar(
                y=labels,
                x=table[part].to_list(),
                orientation="h",
                name=plotly_plain(names[part]),
                marker={"color": NPS_COLOURS[part]},
                customdata=table["n"].to_list(),
                hovertemplate=f"%{{y}}<br>{plotly_plain(names[part])}: %{{x:.1f}}%<br>{plotly_plain(n)}: "
                "%{customdata:,}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title=plotly_plain(share), range=[0, 100])
    return base_layout(fig, title=plotly_plain(title), height=max(240, 90 + 30 * table.height)).update_layout(
        hovermode="closest"
    )


def item_bars(
    table: pl.DataFrame, *, title: str, series: dict[str, str], value: str, n: str, interval: str
) -> go.Figure:
    """Grouped bars of the four rating items, current against previous period, with interval
    whiskers; `table`: which, label, value, low, high, n, small (small bars are left out)."""
    fig = go.Figure()
    for which, colour in (("previous", PREVIOUS), ("current", PRIMARY)):
        rows = table.filter((pl.col("which") == which) & ~pl.col("small"))
        fig.add_trace(
            go.Bar(
                x=[plotly_plain(v) for v in rows["label"].to_list()],
                y=rows["value"].to_list(),
                name=plotly_plain(series[which]),
                marker={"color": colour},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (rows["high"] - rows["value"]).to_list(),
                    "arrayminus": (rows["value"] - rows["low"]).to_list(),
                    "thickness": 1.2,
                },
                customdata=rows["n"].to_list(),
                hovertemplate=f"%{{x}}<br>{plotly_plain(value)}: %{{y:.2f}}<br>{plotly_plain(n)}: "
                "%{customdata:,}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=plotly_plain(value), range=[1, 5])
    return base_layout(fig, title=plotly_plain(title), height=320).update_layout(hovermode="closest")


def importance_bars(table: pl.DataFrame, *, title: str, importance: str, beta: str) -> go.Figure:
    """Each kept driver's share of R² (%), largest on top; colour: helps (β > 0) or hurts (β < 0)."""
    rows = table.filter(pl.col("kept")).sort("importance")
    colours = ["#dc2626" if (b is not None and b < 0) else PRIMARY for b in rows["beta"].to_list()]
    fig = go.Figure(
        go.Bar(
            y=[plotly_plain(v) for v in rows["label"].to_list()],
            x=(100 * rows["importance"]).to_list(),
            orientation="h",
            marker={"color": colours},
            customdata=[["—" if b is None else f"{b:+.2f}"] for b in rows["beta"].to_list()],
            hovertemplate=f"%{{y}}<br>{plotly_plain(importance)}: %{{x:.1f}}%<br>{plotly_plain(beta)}: "
            "%{customdata[0]}<extra></extra>",
        )
    )
    fig.update_xaxes(title=plotly_plain(importance))
    fig.update_layout(showlegend=False)
    return base_layout(fig, title=plotly_plain(title), height=max(260, 80 + 30 * rows.height)).update_layout(
        hovermode="closest"
    )


def quadrant_scatter(
    table: pl.DataFrame, *, title: str, importance: str, performance: str, quadrant_names: dict[str, str],
    lines: tuple[float | None, float | None],
) -> go.Figure:  # fmt: skip
    """Importance (x, % of R²) × performance (y, %) per driver, coloured by quadrant, with the `lines`
    (importance share, performance %) that divide the quadrants."""
    # Neighbouring points get their labels on different sides, so that close drivers stay readable.
    rows = (
        table.filter(pl.col("quadrant").is_not_null())
        .sort("importance")
        .with_columns(pl.int_range(pl.len()).mod(len(LABEL_SIDES)).alias("side"))
    )
    fig = go.Figure()
    for quadrant, colour in QUADRANT_COLOURS.items():
        part = rows.filter(pl.col("quadrant") == quadrant)
        if part.height == 0:
            continue
        fig.add_trace(
            go.Scatter(
                x=(100 * part["importance"]).to_list(),
                y=part["performance_pct"].to_list(),
                mode="markers+text",
                text=[plotly_plain(v) for v in part["label"].to_list()],
                textposition=[LABEL_SIDES[i] for i in part["side"].to_list()],
                marker={"size": 13, "color": colour},
                name=plotly_plain(quadrant_names[quadrant]),
                hovertemplate=f"%{{text}}<br>{plotly_plain(importance)}: %{{x:.1f}}%"
                f"<br>{plotly_plain(performance)}: %{{y:.1f}}%<extra></extra>",
            )
        )
    if lines[0] is not None and lines[1] is not None:
        fig.add_vline(x=100 * lines[0], line={"color": MUTED, "dash": "dot"})
        fig.add_hline(y=lines[1], line={"color": MUTED, "dash": "dot"})
    fig.update_xaxes(title=plotly_plain(importance))
    fig.update_yaxes(title=plotly_plain(performance))
    return base_layout(fig, title=plotly_plain(title), height=400).update_layout(hovermode="closest")


def labelled(table: pl.DataFrame, column: str, names: dict[str, str] | None, unknown: str) -> pl.DataFrame:
    """`table` with `label`: the translated name of `column`'s value (its own text when not in
    `names`), `unknown` for null."""
    names = names or {}
    return table.with_columns(
        label_expr(table, column, lambda v: names.get(v, v)).fill_null(unknown).alias("label")
    )
