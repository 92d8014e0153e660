"""客户服务运作图 / Service map."""

from cxdash.ui.pages.service_map import render

render()
