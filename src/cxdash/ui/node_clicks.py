"""Clicks on the nodes of a Plotly Sankey, sent to Python: Streamlit's chart selections do not cover
Sankey diagrams, so a script-only component (st.components.v2) listens to Plotly's own `plotly_click`
on every Sankey on the page and sends the clicked node's index as a one-rerun trigger value. Link
clicks are ignored. The Sankey must use arrangement "fixed" (a draggable node swallows the click).
"""

from collections.abc import Callable

import streamlit as st

# Trusted, constant code: nothing from data or users reaches it.
_JS = """
export default function (component) {
    const { setTriggerValue } = component;
    const onClick = (event) => {
        const point = event && event.points && event.points[0];
        if (point && 'sourceLinks' in point) setTriggerValue('node', point.pointNumber);
    };
    // Charts are drawn (and redrawn) after this mounts: keep the listener on every Sankey there is.
    const bind = () => {
        document.querySelectorAll('.js-plotly-plot').forEach((plot) => {
            if (!plot.on || !plot.querySelector('.sankey')) return;
            const bound = plot._ev && plot._ev.listeners ? plot._ev.listeners('plotly_click') : [];
            if (!bound.includes(onClick)) plot.on('plotly_click', onClick);
        });
    };
    bind();
    const timer = setInterval(bind, 400);
    return () => clearInterval(timer);
}
"""
_node_clicks = st.components.v2.component("cxdash_sankey_node_clicks", js=_JS)


def sankey_node_clicks(key: str, on_node: Callable[[int], None]) -> None:
    """Call `on_node(index)` (as a callback, before the next run) when a Sankey node is clicked."""

    def clicked() -> None:
        index = st.session_state[key].node
        if isinstance(index, int):
            on_node(index)

    _node_clicks(key=key, on_node_change=clicked)
