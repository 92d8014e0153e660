"""The Admin page (admins only): users, roles and team scope, live sessions, the audit log."""

from datetime import UTC, datetime

import polars as pl
import streamlit as st

from cxdash.auth import store
from cxdash.auth.roles import ROLES
from cxdash.db.version import bump_data_version
from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.plain_text import markdown_plain
from cxdash.ui import auth
from cxdash.ui.loaders import dataset
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record
from cxdash.ui.widgets import chart_free_table


def render() -> None:
    run_page("admin", _render, needs_data=False)  # users can be managed before the first import


def _render(context: PageContext, t: Translator) -> None:
    url = context.settings.db_url
    engine = auth.auth_engine(url)
    st.title(t("admin.title"))
    users_tab, sessions_tab, audit_tab, data_tab = st.tabs(
        [t("admin.users"), t("admin.sessions"), t("admin.audit"), t("admin.data")]
    )
    with users_tab:
        _users(context, t, engine)
    with sessions_tab:
        policy = auth.policy(context.settings, demo=store.is_demo(engine))
        with engine.connect() as conn:
            sessions = store.active_sessions(conn, now=datetime.now(UTC), policy=policy)
        frame = pl.DataFrame(
            sessions,
            schema={
                "username": pl.String,
                "created_at": pl.Datetime("us", "UTC"),
                "last_seen_at": pl.Datetime("us", "UTC"),
            },
        ).rename(
            {
                "username": t("login.username"),
                "created_at": t("admin.created"),
                "last_seen_at": t("admin.last_seen"),
            }
        )
        chart_free_table(
            frame,
            t=t,
            key="sessions",
            file_name="cxdash_sessions.csv",
            record=export_record(context, "admin.sessions"),
        )
    with audit_tab:
        _audit(context, t, engine)
    with data_tab:
        _data_version(context, t, engine)


def _data_version(context: PageContext, t: Translator, engine) -> None:
    """The data's version and as-of time, and a reload for data changed outside cxdash."""
    span = dataset(context.settings.db_url, context.version).span
    if span is None:  # no tickets or orders yet
        st.caption(t("errors.no_data_yet"))
    else:
        as_of = t.datetime(span.data_as_of, context.settings.display_tz)
        st.caption(t("admin.data_version", version=context.version, as_of=as_of))
    st.caption(t("admin.refresh_help"))
    if st.button(t("admin.refresh"), icon=":material/refresh:", key="refresh_data"):
        with engine.begin() as conn:  # the audit record and the new version, or neither
            version = bump_data_version(conn)
            store.write_audit(
                conn, now=datetime.now(UTC), action="refresh", username=context.user.username,
                client=auth.client_id(), data_version=version,
            )  # fmt: skip
        st.success(t("admin.refreshed", version=version))


def _users(context: PageContext, t: Translator, engine) -> None:
    actor = {"actor": context.user.username, "client": auth.client_id()}
    with engine.connect() as conn:
        users = store.list_users(conn)
    teams = list(dataset(context.settings.db_url, context.version).team_names)
    table = pl.DataFrame(
        {
            t("login.username"): [u.username for u in users],
            t("admin.name"): [u.display_name for u in users],
            t("admin.roles"): [", ".join(u.roles) for u in users],
            t("admin.teams"): [", ".join(u.teams) for u in users],
            t("admin.disabled"): [u.disabled for u in users],
        }
    )
    chart_free_table(
        table, t=t, key="users", file_name="cxdash_users.csv", record=export_record(context, "admin.users")
    )
    now = datetime.now(UTC)
    left, right = st.columns(2)
    with left, st.form("add_user", clear_on_submit=True):
        st.subheader(t("admin.add_user"))
        username = st.text_input(t("login.username"))
        name = st.text_input(t("admin.name"))
        roles = st.multiselect(
            t("admin.roles"), ROLES, format_func=lambda r: t(f"role.{r}"), placeholder=t("admin.choose")
        )
        lead_teams = st.multiselect(t("admin.teams"), teams, placeholder=t("admin.choose"))
        password = st.text_input(t("login.password"), type="password")
        if st.form_submit_button(t("admin.add_user"), icon=":material/person_add:"):
            _apply(
                t,
                lambda: store.add_user(
                    engine, username.strip(), password, roles=roles, teams=tuple(lead_teams),
                    display_name=name, now=now, **actor,
                ),
            )  # fmt: skip
    with right:
        st.subheader(t("admin.edit_user"))
        names = [u.username for u in users]
        chosen = st.selectbox(t("login.username"), names, key="admin_user")
        user = next((u for u in users if u.username == chosen), None)
        if user is None:
            return
        with st.form("roles_form"):
            roles = st.multiselect(
                t("admin.roles"), ROLES, default=list(user.roles), format_func=lambda r: t(f"role.{r}"),
                placeholder=t("admin.choose"),
            )  # fmt: skip
            lead_teams = st.multiselect(
                t("admin.teams"),
                teams,
                default=[x for x in user.teams if x in teams],
                placeholder=t("admin.choose"),
            )
            if st.form_submit_button(t("admin.save_roles")):
                _apply(
                    t,
                    lambda: store.set_roles(
                        engine, user.username, roles, teams=tuple(lead_teams), now=now, **actor
                    ),
                )
        with st.form("password_form", clear_on_submit=True):
            password = st.text_input(t("admin.new_password"), type="password")
            if st.form_submit_button(t("admin.set_password")):
                _apply(t, lambda: store.set_password(engine, user.username, password, now=now, **actor))
        label = t("admin.enable") if user.disabled else t("admin.disable")
        if user.username != context.user.username and st.button(label, key="toggle_disabled"):
            _apply(t, lambda: store.set_disabled(engine, user.username, not user.disabled, now=now, **actor))


def _apply(t: Translator, change) -> None:
    try:
        change()
    except InputError as exc:
        st.error(exc.translated(t, t.has))
        return
    except ValueError as exc:
        st.error(markdown_plain(exc))  # may quote what was typed
        return
    st.success(t("admin.saved"))
    st.rerun()


def _audit(context: PageContext, t: Translator, engine) -> None:
    left, right = st.columns(2)
    action = left.text_input(t("admin.filter_action"), key="audit_action")
    username = right.text_input(t("admin.filter_user"), key="audit_user")
    with engine.connect() as conn:
        rows = store.read_audit(conn, action=action.strip() or None, username=username.strip() or None)
    frame = pl.DataFrame(
        rows,
        schema={
            "audit_id": pl.Int64, "at": pl.Datetime("us", "UTC"), "username": pl.String,
            "action": pl.String, "client": pl.String, "detail": pl.String,
        },
    )  # fmt: skip
    frame = frame.rename({column: t(f"admin.col_{column}") for column in frame.columns})
    chart_free_table(
        frame, t=t, key="audit", file_name="cxdash_audit.csv", record=export_record(context, "admin.audit")
    )
