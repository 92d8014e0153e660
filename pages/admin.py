"""管理 / Admin (admins only)."""

from cxdash.ui.admin_page import render

render()
