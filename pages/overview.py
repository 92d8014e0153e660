"""总览 / Overview."""

from cxdash.ui.overview_page import render

render()
