"""客户分层与忠诚度 / Loyalty and customer value."""

from cxdash.ui.pages.loyalty import render

render()
