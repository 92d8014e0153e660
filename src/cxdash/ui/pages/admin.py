"""The Admin page (admins only): users, roles and team scope, live sessions, the audit log, the data
version, the business hours (calendars, team calendars, SLA clocks) and SMART goals (kpi_targets)."""

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
from cxdash.db.goals import delete_goal, list_goals, save_goal
from cxdash.db.schema import SlaPolicy
from cxdash.db.version import bump_data_version
from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.kpi_report import period_text
from cxdash.metrics.goals import EVERY_PERIOD, validate_goal
from cxdash.metrics.kpis import KPI_BY_NAME
from cxdash.periods import local_date, parse_period
from cxdash.plain_text import markdown_plain
from cxdash.ui import auth
from cxdash.ui.loaders import dataset, goal_baseline_data
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record, remembered
from cxdash.ui.widgets import chart_free_table
from cxdash.views.business_hours import (
    WEEKDAYS,
    EditorTables,
    editor_tables,
    setup_from_tables,
    uncovered_data_years,
)
from cxdash.views.goals import GOAL_KINDS, goal_period_choices


def render() -> None:
    run_page("admin", _render, needs_data=False)  # users can be managed before the first import


def _render(context: PageContext, t: Translator) -> None:
    url = context.settings.db_url
    engine = auth.auth_engine(url)
    st.title(t("admin.title"))
    users_tab, sessions_tab, audit_tab, data_tab, hours_tab, goals_tab = st.tabs(
        [
            t("admin.users"), t("admin.sessions"), t("admin.audit"), t("admin.data"), t("calendars.title"),
            t("goals.title"),
        ]
    )  # fmt: skip
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
    with goals_tab:
        _goals(context, t, engine)


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


# Goals ---------------------------------------------------------------------------------------------
COMPANY = ""  # the team choice that means the whole company (team_id null)
GOAL_SAID_KEY = "goal_said"  # what a save or delete said, shown after the rerun that follows it
UNIT_KEYS = {"%": "pct", "per 1k orders": "per_1k_orders"}


def _team_text(t: Translator, team_id: str | None, names: dict[str, str]) -> str:
    """The whole company, or a team as "name (id)" (plain text: names come from data)."""
    if team_id in (None, COMPANY):
        return t("goals.company")
    return t("goals.team_option", name=names.get(team_id, team_id), team=team_id)


def _kpi_text(t: Translator, metric: str) -> str:
    """A KPI's label; a row's own text for a metric that is no KPI (written outside cxdash)."""
    return t(f"kpi.{metric}.label") if metric in KPI_BY_NAME else metric


def _target_label(t: Translator, unit: str) -> str:
    text = t(f"unit.{UNIT_KEYS.get(unit, unit)}")
    return t("goals.target_unit", unit=text) if text else t("goals.target")


def _goals(context: PageContext, t: Translator, engine) -> None:
    """Set a goal (KPI, company or team, period, target) with its baseline beside the target; the goals
    set, downloadable, and deleting one. Every write validated (validate_goal) and audited."""
    url, tz = context.settings.db_url, context.settings.display_tz
    data = dataset(url, context.version)
    names = data.team_names
    if (said := st.session_state.pop(GOAL_SAID_KEY, None)) is not None:
        st.success(said, icon=":material/flag:")
    st.caption(t("goals.intro"))
    left, right = st.columns(2)
    with left:
        metric = remembered(
            st.selectbox, "goal_metric", t, list(KPI_BY_NAME), fallback="csat_pct", label=t("goals.metric"),
            options=list(KPI_BY_NAME), format_func=lambda k: t(f"kpi.{k}.label"),
        )  # fmt: skip
        teams = [COMPANY, *names]
        team = remembered(
            st.selectbox, "goal_team", t, teams, fallback=COMPANY, label=t("goals.team"), options=teams,
            format_func=lambda v: _team_text(t, v, names),
        )  # fmt: skip
        kind = remembered(
            st.segmented_control, "goal_kind", t, list(GOAL_KINDS), fallback="quarter",
            label=t("goals.period_kind"), options=GOAL_KINDS, format_func=lambda k: t(f"filters.kind_{k}"),
            required=True,
        )  # fmt: skip
        today = local_date(datetime.now(UTC), tz)
        choices, default = goal_period_choices(kind, data.span, tz, today=today)
        by_label = {p.label: p for p in choices}
        labels = list(reversed(by_label))
        label = remembered(
            st.selectbox, f"goal_period_{kind}", t, labels, fallback=default.label, label=t("goals.period"),
            options=labels, format_func=lambda v: t.period(by_label[v]),
        )  # fmt: skip
    unit = KPI_BY_NAME[metric].unit
    team_id = team or None
    with engine.connect() as conn:
        rows = list_goals(conn)
    with right:
        if data.span is None:
            st.caption(t("goals.no_data"))
        else:
            baseline = goal_baseline_data(
                url, context.version, metric, team_id, by_label[label], context.options, tz, context.user
            )
            shown = t.period(parse_period(baseline.period))
            value = t.kpi_value(baseline.value, unit)
            if baseline.value is None and baseline.reason:
                value = f"— ({t(f'reason.{baseline.reason}')})"
            st.metric(
                t("goals.baseline", period=shown), value, help=t("goals.baseline_help", period=shown),
                border=True,
            )  # fmt: skip
            st.caption(t("overview.n", n=f"{baseline.n:,}"))
        target = st.number_input(_target_label(t, unit), value=None, step=0.1, key=f"goal_target_{metric}")
        current = rows.filter(
            (pl.col("metric") == metric)
            & (pl.col("team_id").is_null() if team_id is None else pl.col("team_id") == team_id)
            & (pl.col("period") == label)
        )
        if not current.is_empty():
            st.caption(t("goals.replaces", target=t.kpi_value(current["target"][-1], unit)))
        if st.button(t("goals.save"), icon=":material/flag:", key="goal_save", type="primary"):
            _save_goal(context, t, engine, metric, team_id, label, target, names)
    _goal_list(context, t, engine, rows, names)


def _save_goal(
    context: PageContext, t: Translator, engine, metric: str, team_id: str | None, period: str,
    target: float | None, names: dict[str, str],
) -> None:  # fmt: skip
    try:
        goal = validate_goal(metric, team_id, period, target, teams=list(names))
        save_goal(engine, goal, username=context.user.username, client=auth.client_id())
    except InputError as exc:
        st.error(markdown_plain(exc.translated(t, t.has)), icon=":material/flag:")
        return
    st.session_state[GOAL_SAID_KEY] = t(
        "goals.saved",
        kpi=t(f"kpi.{goal.metric}.label"),
        team=markdown_plain(_team_text(t, goal.team_id, names)),
        period=t.period(parse_period(goal.period)),
        target=t.kpi_value(goal.target, KPI_BY_NAME[goal.metric].unit),
    )
    st.rerun()


def _goal_list(
    context: PageContext, t: Translator, engine, rows: pl.DataFrame, names: dict[str, str]
) -> None:
    """The goals set (the `*` standing targets are counted, not listed), downloadable; deleting one."""
    st.subheader(t("goals.list"))
    goals = rows.filter(pl.col("period") != EVERY_PERIOD)
    standing = rows.height - goals.height
    if standing:
        st.caption(t("goals.standing_note", count=standing))
    if goals.is_empty():
        st.caption(t("goals.list_empty"))
        return
    records = goals.to_dicts()
    table = pl.DataFrame(
        {
            t("goals.col_kpi"): [_kpi_text(t, g["metric"]) for g in records],
            t("goals.col_team"): [_team_text(t, g["team_id"], names) for g in records],
            t("goals.col_period"): [period_text(t, g["period"]) for g in records],
            t("goals.col_target"): [
                t.kpi_value(g["target"], KPI_BY_NAME[g["metric"]].unit) if g["metric"] in KPI_BY_NAME else
                f"{g['target']:g}"
                for g in records
            ],
        }
    )  # fmt: skip
    chart_free_table(
        table, t=t, key="goals", file_name="cxdash_goals.csv", record=export_record(context, "admin.goals")
    )
    choice = st.selectbox(
        t("goals.delete_pick"),
        range(len(records)),
        format_func=lambda i: " · ".join(table.row(i)),
        key=f"goal_delete_pick__{t.lang}",
    )
    if choice is not None and st.button(t("goals.delete"), icon=":material/delete:", key="goal_delete"):
        goal = records[choice]
        delete_goal(
            engine, goal["metric"], goal["team_id"], goal["period"], username=context.user.username,
            client=auth.client_id(),
        )  # fmt: skip
        st.session_state[GOAL_SAID_KEY] = t(
            "goals.deleted", goal=markdown_plain(" · ".join(table.row(choice)))
        )
        st.rerun()
