"""The app frame: start-up checks, login gate, navigation by role, and the sidebar (user, language,
data as-of, global filters)."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from cxdash.auth import store
from cxdash.auth.roles import pages_for
from cxdash.auth.startup import startup_problems
from cxdash.db.engine import check_schema
from cxdash.errors import CxdashError
from cxdash.i18n import Translator
from cxdash.ui import auth
from cxdash.ui.loaders import data_version, dataset
from cxdash.ui.state import PageContext, kpi_options, language_switch, settings, sidebar_filters, translator
from cxdash.ui.widgets import error_boundary

# A local favicon: a Material or emoji icon would be fetched from a CDN, which a closed network refuses.
ICON = Path(__file__).resolve().parent / "static" / "icon.png"
# Main script and page script of one run share the script thread; this hands the frame's context over.
_this_run = threading.local()
STARTUP_OPTIONS = ("client.showErrorDetails", "server.enableCORS", "server.enableXsrfProtection")


@dataclass(frozen=True, slots=True)
class Gate:
    """Who is here: the signed-in user (or None), whether this is a demo database, the session policy."""

    user: store.User | None
    demo: bool
    policy: store.SessionPolicy
    url: str


def run_app() -> None:
    """Everything app.py does: one call so that app.py stays a router."""
    st.set_page_config(
        page_title="cxdash", page_icon=str(ICON), layout="wide", initial_sidebar_state="expanded"
    )
    t = translator()
    gate = _gate(t)
    if gate.user is None:
        login = st.Page(
            lambda: auth.render_login(t, gate.url, gate.policy, demo=gate.demo),
            title=t("nav.login"), icon=":material/login:", url_path="login", default=True,
        )  # fmt: skip
        with st.sidebar:
            language_switch()
        st.navigation([login], position="hidden").run()
        return
    allowed = pages_for(gate.user.roles)
    overview = st.Page(
        "pages/overview.py",
        title=t("nav.overview"),
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    )
    pages = [overview]
    if "admin" in allowed:
        pages.append(
            st.Page(
                "pages/admin.py",
                title=t("nav.admin"),
                icon=":material/admin_panel_settings:",
                url_path="admin",
            )
        )
    navigation = st.navigation(pages)
    _this_run.context = frame(gate, t)
    navigation.run()


def _gate(t: Translator) -> Gate:
    """Refuse to start on unsafe settings, then find the signed-in user; stops the run otherwise."""
    config = settings()
    auth.apply_cookie_action()
    try:
        engine = auth.auth_engine(config.db_url)
        check_schema(engine)
        demo = store.is_demo(engine)
    except CxdashError as exc:
        st.error(t("app.no_database", detail=str(exc)), icon=":material/database:")
        st.stop()
    problems = startup_problems(
        demo=demo,
        secret=config.session_secret,
        options={name: st.get_option(name) for name in STARTUP_OPTIONS},
    )
    if problems:
        st.error(t("app.refused"), icon=":material/gpp_bad:")
        for problem in problems:
            st.markdown(f"- {problem}")
        st.stop()
    policy = auth.policy(config, demo=demo)
    return Gate(user=auth.current_user(config.db_url, policy), demo=demo, policy=policy, url=config.db_url)


def frame(gate: Gate, t: Translator) -> PageContext | None:
    """The sidebar (user, language, data as-of, global filters) and the context it yields for the page."""
    with st.sidebar:
        if gate.demo:
            st.badge(t("app.demo_badge"), icon=":material/science:", color="orange")
        st.caption(
            t(
                "app.signed_in",
                name=gate.user.display_name,
                roles=", ".join(t(f"role.{r}") for r in gate.user.roles),
            )
        )
        if st.button(t("app.logout"), icon=":material/logout:", key="logout"):
            auth.logout(gate.url, gate.policy)
            st.rerun()
        language_switch()
        with error_boundary(t):
            return _sidebar(t, gate.user)
    return None


def _sidebar(t: Translator, user: store.User) -> PageContext | None:
    config = settings()
    try:
        version = data_version(config.db_url)
        data = dataset(config.db_url, version)
    except CxdashError as exc:
        st.error(t("app.no_database", detail=str(exc)), icon=":material/database:")
        return None
    st.caption(t("app.as_of", when=t.datetime(data.span.data_as_of, config.display_tz)))
    chosen = sidebar_filters(t, data, config.db_url, config.display_tz, user)
    if chosen is None:
        return None
    period, scope = chosen
    return PageContext(
        settings=config,
        t=t,
        period=period,
        scope=scope,
        options=kpi_options(config),
        version=version,
        user=user,
    )


def page_context(page: str) -> PageContext | None:
    """The context the frame prepared in this run, for a page the user may see.

    A page script can also run without the entry script (Streamlit serves `pages/` files directly on a
    fresh server, and AppTest reruns only the page): then the page checks the session and draws the
    frame itself, so it never works from a stale context or without a login.
    """
    if hasattr(_this_run, "context"):
        context = _this_run.__dict__.pop("context")
    else:
        t = translator()
        gate = _gate(t)
        if gate.user is None:
            st.warning(t("login.required"), icon=":material/lock:")
            st.page_link("app.py", label=t("nav.login"), icon=":material/login:")
            st.stop()
        context = frame(gate, t)
    if context is not None and page not in pages_for(context.user.roles):
        st.error(context.t("app.forbidden"), icon=":material/block:")
        st.stop()
    return context


def run_page(page: str, body: Callable[[PageContext, Translator], None]) -> None:
    """A page script's whole life: the session and role check, then the body inside the error boundary."""
    context = page_context(page)
    if context is None:
        st.stop()
    with error_boundary(context.t):
        body(context, context.t)
