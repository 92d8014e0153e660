"""The app frame: start-up checks, login gate, navigation from the page registry by role, and the
sidebar (user, language, data as-of, global filters)."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from cxdash.auth import store
from cxdash.auth.startup import startup_problems
from cxdash.db.engine import check_schema
from cxdash.errors import CxdashError
from cxdash.i18n import Translator
from cxdash.ui import auth
from cxdash.ui.loaders import data_version, dataset
from cxdash.ui.registry import PAGES, may_open, pages_for
from cxdash.ui.state import (
    PageContext,
    kpi_options,
    language_switch,
    seed_from_query,
    settings,
    sidebar_filters,
    translator,
    user_language,
)
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
    gate, t = _open()
    navigation = _navigation(gate, t)
    if gate.user is not None:
        _this_run.frame = (gate.user, frame(gate, t))
    try:
        navigation.run()
    finally:
        _this_run.__dict__.pop("frame", None)  # never handed to a later run on this thread


def _open() -> tuple[Gate, Translator]:
    """Page config, the URL's choices at a session's start, the gate and the user's language."""
    st.set_page_config(
        page_title="cxdash", page_icon=str(ICON), layout="wide", initial_sidebar_state="expanded"
    )
    seed_from_query()
    gate = _gate(translator())
    t = translator() if gate.user is None else user_language(gate.url, gate.user.username)
    return gate, t


def _navigation(gate: Gate, t: Translator) -> StreamlitPage:
    """The pages of the registry the user's roles allow, with translated titles; without a user, the
    login form at every page's address (a link to a page logs in there, then opens it)."""
    if gate.user is None:

        def login() -> None:
            auth.render_login(t, gate.url, gate.policy, demo=gate.demo)

        with st.sidebar:
            language_switch(signed_in=False)
        pages = [
            st.Page(login, title=t("nav.login"), icon=":material/login:", url_path="login", default=True)
        ]
        pages += [st.Page(login, title=t("nav.login"), url_path=spec.id) for spec in PAGES]
        return st.navigation(pages, position="hidden")
    specs = pages_for(gate.user.roles)
    if not specs:  # parse_roles admits no such user; refuse rather than guess a page
        st.error(t("app.forbidden"), icon=":material/block:")
        st.stop()
    start = specs[0]
    return st.navigation(
        [
            st.Page(start.script, title=t(start.title_key), icon=start.icon, url_path="", default=True),
            # The start page lives at "/"; Streamlit would answer its own address (/overview) with "page
            # not found", so a hidden twin serves it there.
            st.Page(start.script, title=t(start.title_key), url_path=start.id, visibility="hidden"),
            *(st.Page(s.script, title=t(s.title_key), icon=s.icon, url_path=s.id) for s in specs[1:]),
        ]
    )


def _gate(t: Translator) -> Gate:
    """Refuse to start on unsafe settings, then find the signed-in user; stops the run otherwise."""
    config = settings()
    auth.apply_cookie_action()
    try:
        engine = auth.auth_engine(config.db_url)
        check_schema(engine)
        demo = store.is_demo(engine)
    except CxdashError as exc:
        st.error(t("app.no_database", detail=exc.translated(t, t.has)), icon=":material/database:")
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
        language_switch(signed_in=True)
        with error_boundary(t):
            return _sidebar(t, gate.user)
    return None


def _sidebar(t: Translator, user: store.User) -> PageContext | None:
    config = settings()
    try:
        version = data_version(config.db_url)
        data = dataset(config.db_url, version)
    except CxdashError as exc:
        st.error(t("app.no_database", detail=exc.translated(t, t.has)), icon=":material/database:")
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
    """The context the frame prepared in this run, for a page the user may open.

    A page script can also run without the entry script (Streamlit serves `pages/` files directly on a
    fresh server, and AppTest reruns only the page): then the page does the entry script's work itself
    (the translated navigation replaces the file names Streamlit shows, the login form, the frame), so
    it never works from a stale context or without a login.
    """
    if hasattr(_this_run, "frame"):
        user, context = _this_run.__dict__.pop("frame")
    else:
        gate, t = _open()
        navigation = _navigation(gate, t)
        if gate.user is None:
            navigation.run()  # the login form, at this page's address
            st.stop()
        user, context = gate.user, frame(gate, t)
    if not may_open(user.roles, page):
        st.error(translator()("app.forbidden"), icon=":material/block:")
        st.stop()
    return context


def run_page(page: str, body: Callable[[PageContext, Translator], None]) -> None:
    """A page script's whole life: the session and role check, then the body inside the error boundary."""
    context = page_context(page)
    if context is None:
        st.stop()
    with error_boundary(context.t):
        body(context, context.t)
