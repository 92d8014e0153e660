"""管理 / Admin (admins only)."""

from cxdash.ui.pages.admin import render

render()
