"""cxdash — the Streamlit entry point: the frame and the router, nothing else (see cxdash.ui.shell)."""

from cxdash.ui.shell import run_app

run_app()
