"""The app frame: start-up checks, login gate, navigation from the page registry by role, and the
sidebar (user, language, data as-of, global filters)."""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import adbc_driver_manager
import streamlit as st
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from streamlit.navigation.page import StreamlitPage

from cxdash.auth import store
from cxdash.auth.startup import startup_problems
from cxdash.db.engine import check_schema
from cxdash.errors import CxdashError, DatabaseError, driver_message
from cxdash.i18n import Translator
from cxdash.metrics.scope import Scope
from cxdash.periods import Period
from cxdash.plain_text import markdown_plain
from cxdash.ui import auth
from cxdash.ui.loaders import Dataset, data_version, dataset
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
log = logging.getLogger("cxdash.ui")
# What a database that is down, locked, removed or replaced raises besides cxdash's DatabaseError:
# SQLAlchemy wraps the drivers' (sqlite3, psycopg) connection and lock errors; the ADBC drivers' errors
# share one base class. Other errors (a bad statement: a bug) go to the page's error boundary.
DRIVER_FAULTS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    adbc_driver_manager.Error,
)
# DatabaseErrors that may mean "not reachable right now" rather than "not a usable cxdash database".
UNAVAILABLE_KEYS = frozenset(
    {"errors.no_database_file", "errors.cannot_read_database", "errors.cannot_read_table"}
)


def database_fault(exc: BaseException) -> DatabaseError | None:
    """The user's message for a database that is unavailable right now (locked by another writer,
    removed, server down), or None when `exc` is something else (a schema problem, a bug)."""
    if isinstance(exc, DatabaseError):
        if exc.key == "errors.no_database_file":
            return exc
        if exc.key not in UNAVAILABLE_KEYS:
            return None
        exc = exc.__cause__  # what the driver said
    if not isinstance(exc, DRIVER_FAULTS):
        return None
    reason = driver_message(exc)
    if "locked" in reason or "busy" in reason:  # SQLite: another connection is writing
        return DatabaseError(
            f"The database is locked by another writer: {reason}.", key="errors.database_locked"
        )
    return DatabaseError(
        f"Cannot reach the database: {reason}.", key="errors.database_unreachable", detail=reason
    )


def show_database_fault(t: Translator, fault: DatabaseError) -> None:
    """One clear message in the user's language; the session stays signed in and works again at the
    next rerun once the database is back (nothing is cached from a failed read)."""
    st.error(t("errors.database_unavailable", detail=fault.translated(t, t.has)), icon=":material/database:")


@contextmanager
def database_faults(t: Translator) -> Iterator[None]:
    """Show a database that went away mid-run as a message (no traceback) and end the run there."""
    try:
        yield
    except (CxdashError, *DRIVER_FAULTS) as exc:
        fault = database_fault(exc)
        if fault is None:
            raise
        log.warning("database unavailable: %s", fault)
        show_database_fault(t, fault)
        st.stop()


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
            with database_faults(t):  # a login writes: a locked database says so, nothing half written
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
    visible = [
        st.Page(start.script, title=t(start.title_key), icon=start.icon, url_path="", default=True),
        *(st.Page(s.script, title=t(s.title_key), icon=s.icon, url_path=s.id) for s in specs[1:]),
    ]
    # The start page lives at "/"; Streamlit would answer its own address (/overview) with "page not
    # found", so a hidden twin serves it there.
    twin = st.Page(start.script, title=t(start.title_key), url_path=start.id, visibility="hidden")
    # Streamlit's own page list is off (client.showSidebarNavigation): on a fresh server it would
    # name the pages/ files before login. The menu is drawn here, from the registry, translated.
    navigation = st.navigation([*visible, twin], position="hidden")
    if len(visible) > 1:
        with st.sidebar:
            for page in visible:
                st.page_link(page)
    return navigation


def _gate(t: Translator) -> Gate:
    """Refuse to start on unsafe settings, then find the signed-in user; stops the run otherwise."""
    config = settings()
    auth.apply_cookie_action()
    with database_faults(t):
        try:
            engine = auth.auth_engine(config.db_url)
            _check_schema(engine)
            demo = store.is_demo(engine)
        except CxdashError as exc:
            if database_fault(exc) is not None:
                raise
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
    with database_faults(t):  # the session stays in session state: signed in again once it is back
        user = auth.current_user(config.db_url, policy)
    return Gate(user=user, demo=demo, policy=policy, url=config.db_url)


def _check_schema(engine: Engine) -> None:
    """check_schema, the run's first query, doubling as the pool's liveness check: a PostgreSQL server
    restarted since the last run leaves dead pooled connections, which SQLAlchemy invalidates when it
    meets the first one; one retry then runs on fresh connections, so the user sees no error."""
    try:
        check_schema(engine)
    except DatabaseError as exc:
        if not getattr(exc.__cause__, "connection_invalidated", False):
            raise
        check_schema(engine)


def frame(gate: Gate, t: Translator) -> PageContext | None:
    """The sidebar (user, language, data as-of, global filters) and the context it yields for the page."""
    with st.sidebar:
        if gate.demo:
            st.badge(t("app.demo_badge"), icon=":material/science:", color="orange")
        st.caption(
            t(
                "app.signed_in",
                name=markdown_plain(gate.user.display_name),
                roles=", ".join(t(f"role.{r}") for r in gate.user.roles),
            )
        )
        if st.button(t("app.logout"), icon=":material/logout:", key="logout"):
            with database_faults(t):
                auth.logout(gate.url, gate.policy)
            st.rerun()
        language_switch(signed_in=True)
    version, data = _data(t)
    with st.sidebar, error_boundary(t):
        return _sidebar(t, gate.user, version, data)
    return None


def _data(t: Translator) -> tuple[str, Dataset]:
    """The data's version and what the frame needs of it; a database gone since the gate, or data
    cxdash cannot use, ends the run with a message in the main area."""
    url = settings().db_url
    with database_faults(t):
        try:
            version = data_version(url)
            data = dataset(url, version)
        except CxdashError as exc:
            if database_fault(exc) is not None:
                raise
            st.error(t("app.data_error", detail=exc.translated(t, t.has)), icon=":material/database:")
            st.stop()
    return version, data


# The period of a context on a database without business data yet: no page that needs data runs with
# it (run_page), and the Admin page's audit records say there was no period.
NO_PERIOD = Period(kind="custom", label="-", start_date=date.min, end_date=date.min)


def _sidebar(t: Translator, user: store.User, version: str, data: Dataset) -> PageContext | None:
    config = settings()
    if data.span is None:  # no tickets or orders yet: the frame (and Admin) work on, the filters wait
        st.info(t("errors.no_data_yet"), icon=":material/database:")
        period, scope = NO_PERIOD, Scope()
    else:
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


def run_page(page: str, body: Callable[[PageContext, Translator], None], *, needs_data: bool = True) -> None:
    """A page script's whole life: the session and role check, then the body inside the error boundary
    (a database that goes away meanwhile: its message, no traceback). A page that `needs_data` says
    "no data yet" on a database without business data; the others (Admin) work on it."""
    context = page_context(page)
    if context is None:
        st.stop()
    if context.settings.aggregates_only and page != "overview":  # CXDASH_SOURCE=aggregates: no raw rows
        st.info(context.t("aggregates.page_needs_rows"), icon=":material/database:")
        st.stop()
    if needs_data and context.period is NO_PERIOD:
        st.info(context.t("errors.no_data_yet"), icon=":material/database:")
        st.stop()
    with error_boundary(context.t), database_faults(context.t):
        body(context, context.t)
