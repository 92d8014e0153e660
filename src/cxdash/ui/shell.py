"""The app frame: page config, navigation, the sidebar (language, data as-of, global filters)."""

import threading
from pathlib import Path

import streamlit as st

from cxdash.errors import CxdashError
from cxdash.i18n import Translator
from cxdash.ui.loaders import data_version, dataset
from cxdash.ui.state import PageContext, kpi_options, language_switch, settings, sidebar_filters, translator
from cxdash.ui.widgets import error_boundary

PAGES = Path(__file__).resolve().parents[3] / "pages"
# Main script and page script of one run share the script thread; this hands the frame's context over.
_this_run = threading.local()
# A local favicon: a Material or emoji icon would be fetched from a CDN, which a closed network refuses.
ICON = Path(__file__).resolve().parent / "static" / "icon.png"


def run_app() -> None:
    """Everything app.py does: one call so that app.py stays a router."""
    st.set_page_config(
        page_title="cxdash",
        page_icon=str(ICON),
        layout="wide",
        initial_sidebar_state="expanded",
    )
    t = translator()
    navigation = st.navigation(
        [
            st.Page(
                "pages/overview.py", title=t("nav.overview"), icon=":material/dashboard:",
                url_path="overview", default=True,
            ),
        ]
    )  # fmt: skip
    _this_run.context = frame()
    navigation.run()


def frame() -> PageContext | None:
    """The sidebar (language, data as-of, global filters) and the context it yields for the page."""
    t = translator()  # before the switch is drawn: it may repair the session's language
    with st.sidebar:
        language_switch()
        with error_boundary(t):
            return _sidebar(t)
    return None


def _sidebar(t: Translator) -> PageContext | None:
    config = settings()
    try:
        version = data_version(config.db_url)
        data = dataset(config.db_url, version)
    except CxdashError as exc:
        st.error(t("app.no_database", detail=str(exc)), icon=":material/database:")
        return None
    st.caption(t("app.as_of", when=t.datetime(data.span.data_as_of, config.display_tz)))
    chosen = sidebar_filters(t, data, config.db_url, config.display_tz)
    if chosen is None:
        return None
    period, scope = chosen
    return PageContext(
        settings=config, t=t, period=period, scope=scope, options=kpi_options(config), version=version
    )


def page_context() -> PageContext | None:
    """The context the frame prepared in this run. A page script can also run without the entry
    script (Streamlit serves `pages/` files directly on a fresh server, and AppTest reruns only the
    page): then the page draws the frame itself, so it never works from a stale context."""
    if hasattr(_this_run, "context"):
        return _this_run.__dict__.pop("context")
    return frame()
