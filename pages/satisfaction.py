"""满意度 / Satisfaction."""

from cxdash.ui.pages.satisfaction import render

render()
