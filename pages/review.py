"""季度复盘 / Quarterly review."""

from cxdash.ui.pages.review import render

render()
