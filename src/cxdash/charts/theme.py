"""One look for every chart: CJK-capable fonts, quiet grid, the product's colours."""

import plotly.graph_objects as go

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
PRIMARY = "#2563eb"
MUTED = "#94a3b8"
TARGET = "#16a34a"
ANNOTATION = "#f59e0b"
STATUS_COLOURS = {"green": "#16a34a", "amber": "#f59e0b", "red": "#dc2626"}


def base_layout(fig: go.Figure, *, title: str, height: int = 320) -> go.Figure:
    """Apply the shared layout; returns the same figure."""
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        font={"family": FONT_FAMILY, "size": 12},
        height=height,
        margin={"l": 48, "r": 16, "t": 48, "b": 84},
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.32, "x": 0},
    )
    fig.update_xaxes(showgrid=False, linecolor="#cbd5e1")
    fig.update_yaxes(gridcolor="#e2e8f0", zeroline=False)
    return fig
