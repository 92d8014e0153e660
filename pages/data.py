"""数据 / Data: import, data quality, the definitions ledger."""

from cxdash.ui.pages.data import render

render()
