"""总览 / Overview."""

from cxdash.ui.pages.overview import render

render()
