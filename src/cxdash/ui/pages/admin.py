"""The Admin page (admins only): users, roles and team scope, live sessions, the audit log, the data
version, and the business hours (calendars, team calendars, SLA clocks)."""

from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
import streamlit as st

from cxdash.auth import store
from cxdash.auth.roles import ROLES
from cxdash.business_hours import CLOCKS, holiday_years
from cxdash.db.calendars import (
    CalendarSetupError,
    read_calendar_setup,
    read_day_labels,
    saving_problems,
    write_calendar_setup,
)
from cxdash.db.schema import SlaPolicy
from cxdash.db.version import bump_data_version
from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.plain_text import markdown_plain
from cxdash.ui import auth
from cxdash.ui.loaders import dataset
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record
from cxdash.ui.widgets import chart_free_table
from cxdash.views.business_hours import (
    WEEKDAYS,
    EditorTables,
    editor_tables,
    setup_from_tables,
    uncovered_data_years,
)


def render() -> None:
    run_page("admin", _render, needs_data=False)  # users can be managed before the first import


def _render(context: PageContext, t: Translator) -> None:
    url = context.settings.db_url
    engine = auth.auth_engine(url)
    st.title(t("admin.title"))
    users_tab, sessions_tab, audit_tab, data_tab, hours_tab = st.tabs(
        [t("admin.users"), t("admin.sessions"), t("admin.audit"), t("admin.data"), t("calendars.title")]
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
    with hours_tab:
        _business_hours(context, t, engine)


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


SAVED_KEY = "calendars_saved"  # the data version a save made, shown after the rerun that follows it


def editor_key(kind: str, version: str, lang: str) -> str:
    """An editor's key: per data version (a save, anyone's, starts the edits afresh) and language."""
    return f"calendars_{kind}_{version}_{lang}"


def _business_hours(context: PageContext, t: Translator, engine) -> None:
    """One editor per kind, the holiday data's years, and a Save that writes all or nothing."""
    url = context.settings.db_url
    setup = read_calendar_setup(engine)
    with engine.connect() as conn:
        labels = read_day_labels(conn)
        priorities = list(conn.scalars(sa.select(SlaPolicy.priority).order_by(SlaPolicy.priority)))
    data = dataset(url, context.version)
    st.caption(t("calendars.intro"))
    first, last = holiday_years()
    st.caption(t("calendars.holiday_years", first=first, last=last))
    if data.span is not None:
        missing = uncovered_data_years(
            setup, first_year=data.span.first.year, last_year=data.span.data_as_of.year, covered=(first, last)
        )
        if missing:
            st.warning(
                t("calendars.holidays_missing", years=t("table.list_separator").join(map(str, missing))),
                icon=":material/event_busy:",
            )
    if (saved := st.session_state.pop(SAVED_KEY, None)) is not None:
        st.success(t("calendars.saved", version=saved))
    shown = editor_tables(setup, labels, teams=data.team_names, priorities=priorities)
    edited = _editors(t, shown, context.version)
    if st.button(t("calendars.save"), icon=":material/save:", key="calendars_save", type="primary"):
        _save(context, t, engine, edited)


def _editor(
    t: Translator, name: str, frame: pl.DataFrame, version: str, columns: dict, *, fixed: tuple[str, ...] = ()
) -> pl.DataFrame:
    """One titled editor of the setup: rows can be added and removed unless some columns are `fixed`
    (then the rows are given and those columns are read-only)."""
    st.subheader(t(f"calendars.{name}"))
    st.caption(t(f"calendars.{name}_help"))
    return st.data_editor(
        frame,
        key=editor_key(name, version, t.lang),
        num_rows="fixed" if fixed else "dynamic",
        hide_index=True,
        width="stretch",
        disabled=list(fixed),
        column_config=columns,
    )


def _editors(t: Translator, shown: EditorTables, version: str) -> EditorTables:
    def text(key: str, **kwargs) -> st.column_config.Column:
        return st.column_config.TextColumn(t(f"calendars.col_{key}"), **kwargs)

    calendars = _editor(t, "calendars", shown.calendars, version, {
        "calendar_id": text("calendar_id", required=True),
        "name": text("name"),
        "timezone": text("timezone", default="Asia/Shanghai", help=t("calendars.timezone_help")),
        "public_holidays": st.column_config.SelectboxColumn(
            t("calendars.col_public_holidays"), options=["CN"], default="CN",
            help=t("calendars.public_holidays_help"),
        ),
    })  # fmt: skip
    hours = _editor(t, "hours", shown.hours, version, {
        "calendar_id": text("calendar_id", required=True),
        "weekday": st.column_config.SelectboxColumn(
            t("calendars.col_weekday"), options=list(WEEKDAYS), required=True,
            format_func=lambda d: t(f"calendars.weekday_{d}"),
        ),
        "opens": text("opens", required=True, default="09:00"),
        "closes": text("closes", required=True, default="18:00"),
    })  # fmt: skip
    days = _editor(t, "days", shown.days, version, {
        "calendar_id": text("calendar_id", required=True),
        "on_date": st.column_config.DateColumn(
            t("calendars.col_on_date"), required=True, format="YYYY-MM-DD"
        ),
        "working": st.column_config.CheckboxColumn(t("calendars.col_working"), default=False),
        "label": text("label"),
    })  # fmt: skip
    left, right = st.columns(2)
    with left:
        teams = _editor(t, "teams", shown.teams, version, {
            "team_id": text("team_id"), "team_name": text("team_name"), "calendar_id": text("calendar_id"),
        }, fixed=("team_id", "team_name"))  # fmt: skip
    with right:
        clocks = _editor(t, "clocks", shown.clocks, version, {
            "priority": text("priority"),
            "clock": st.column_config.SelectboxColumn(
                t("calendars.col_clock"), options=list(CLOCKS), required=True,
                format_func=lambda c: t(f"clock.{c}"),
            ),
        }, fixed=("priority",))  # fmt: skip
    return EditorTables(calendars=calendars, hours=hours, days=days, teams=teams, clocks=clocks)


def _save(context: PageContext, t: Translator, engine, edited: EditorTables) -> None:
    """Validate everything, then write the setup, its audit record and a new data version in one
    transaction; or show every problem and write nothing."""
    setup, labels, problems = setup_from_tables(edited)
    with engine.connect() as conn:
        teams = set(dataset(context.settings.db_url, context.version).team_names)
        priorities = set(conn.scalars(sa.select(SlaPolicy.priority)))
    problems += saving_problems(setup, teams=teams, priorities=priorities)
    try:
        if problems:
            raise CalendarSetupError(problems)
        with engine.begin() as conn:  # the setup, its audit record and the new version, or nothing
            version = write_calendar_setup(conn, setup, day_labels=labels)
            store.write_audit(
                conn, now=datetime.now(UTC), action="calendars", username=context.user.username,
                client=auth.client_id(), data_version=version,
                calendars=[c.calendar_id for c in setup.calendars],
                team_calendars=dict(setup.team_calendars), sla_clocks=dict(setup.sla_clocks),
            )  # fmt: skip
    except CalendarSetupError as exc:
        listed = "\n".join(f"- {markdown_plain(p.translated(t, t.has))}" for p in exc.problems)
        st.error(
            f"{t('calendars.not_saved', count=len(exc.problems))}\n\n{listed}", icon=":material/event_busy:"
        )
        return
    st.session_state[SAVED_KEY] = version
    st.rerun()
