"""投诉与根因 / Complaints and root causes."""

from cxdash.ui.pages.complaints import render

render()
