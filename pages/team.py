"""团队绩效 / Team performance."""

from cxdash.ui.pages.team import render

render()
