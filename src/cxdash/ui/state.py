"""Session state: the language and the global filters, drawn in the sidebar and read by every page.

They also live in the URL's query parameters, so that a reload keeps them and a copied link opens the
same view: read once when a session starts (`seed_from_query`), written back after the sidebar is drawn
(`write_query`). The language is also saved per user (`user_language`).
"""

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from cxdash.auth.roles import allowed_scope, sees_all_data
from cxdash.auth.store import User, get_pref, set_pref
from cxdash.business_hours import CLOCKS
from cxdash.config import Settings, current_settings, with_definitions
from cxdash.db.definitions import read_definitions
from cxdash.domain import CHANNELS, SEGMENTS
from cxdash.errors import CxdashError, InputError
from cxdash.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, normalise_language
from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import Period, PeriodKind, custom_period, local_date, parse_period
from cxdash.plain_text import markdown_plain
from cxdash.ui.auth import auth_engine, client_id
from cxdash.ui.loaders import Dataset, available_periods
from cxdash.ui.widgets import CLOCK_KEY, CLOCK_PARAM, ExportRecord

log = logging.getLogger("cxdash.ui")
PERIOD_KINDS: tuple[PeriodKind, ...] = ("quarter", "month", "custom")
DEFAULT_KIND: Final = "quarter"
# Query parameter → the session key of the filter it holds (values as the widgets' options).
QUERY_FILTERS: Final = {"team": "f_teams", "ch": "f_channels", "seg": "f_segments", "reg": "f_regions"}
QUERY_KEYS: Final = frozenset({"k", "p", "lang", *QUERY_FILTERS})
MAX_QUERY_VALUES: Final = 50  # more values than any filter has options: the rest cannot be valid
QUERY_SEEDED_KEY: Final = "query_seeded"


@dataclass(frozen=True, slots=True)
class PageContext:
    """What a page needs: settings, translator, the chosen period and scope, and the data's version."""

    settings: Settings
    t: Translator
    period: Period
    scope: Scope
    options: KpiOptions
    version: str
    user: User


def settings() -> Settings:
    """The process's settings with the definitions an admin set in the database; settings the app
    cannot run with (e.g. CXDASH_CLOCK=weekly) are said on the page, which then stops (no traceback)."""
    try:
        config = current_settings()
    except InputError as exc:
        t = Translator(normalise_language(os.environ.get("CXDASH_LANG")))
        st.error(t("app.bad_settings"), icon=":material/gpp_bad:")
        st.markdown(f"- {markdown_plain(exc.translated(t, t.has))}")
        st.stop()
    return with_definitions(config, stored_definitions(config.db_url))


def stored_definitions(url: str) -> dict[str, str]:
    """The admin-set definitions (one small read per call); none while the database is unreachable
    (the page then says why through its own checks)."""
    try:
        return {key: d.value for key, d in read_definitions(auth_engine(url)).items()}
    except (CxdashError, SQLAlchemyError):
        return {}


LANG_KEY = "lang"  # the session's language; the switch widget itself is keyed LANG_SWITCH_KEY
LANG_SWITCH_KEY = "lang_switch"
LANG_CHOSEN_KEY = "lang_chosen"  # the URL or the switch named the language: it beats the saved one
LANG_UNSAVED_KEY = "lang_unsaved"  # switched while signed in: save it as the user's language
LANG_USER_KEY = "lang_user"  # the user whose saved language this session has looked up
LANG_PREF: Final = "lang"


def default_language() -> str:
    """CXDASH_LANG: the language of a session that names none (and of a user who saved none)."""
    return normalise_language(settings().lang)


def translator() -> Translator:
    """The session's language: the switch's newest value, else the remembered one, else CXDASH_LANG.

    The value is kept under a key of its own because the switch is drawn by different pages (the
    login page, then the app's frame) and Streamlit forgets a widget's state when a run does not draw it.
    """
    for key in (LANG_SWITCH_KEY, LANG_KEY):
        if st.session_state.get(key) in LANGUAGES:
            st.session_state[LANG_KEY] = st.session_state[key]
            return Translator(st.session_state[key])
    st.session_state[LANG_KEY] = default_language()
    return Translator(st.session_state[LANG_KEY])


def _set_language(lang: str) -> None:
    """Make `lang` the session's language; only before the switch is drawn in this run."""
    st.session_state[LANG_KEY] = lang
    st.session_state[LANG_SWITCH_KEY] = lang


def _language_switched(signed_in: bool) -> None:
    st.session_state[LANG_CHOSEN_KEY] = True
    if signed_in:  # on the login page there is no one to save it for yet
        st.session_state[LANG_UNSAVED_KEY] = True


def language_switch(*, signed_in: bool) -> None:
    lang = translator().lang
    if st.session_state.get(LANG_SWITCH_KEY) not in LANGUAGES:
        st.session_state[LANG_SWITCH_KEY] = lang
    st.segmented_control(
        Translator(lang)("filters.language"),
        LANGUAGES,
        format_func=LANGUAGE_NAMES.get,
        key=LANG_SWITCH_KEY,
        required=True,
        on_change=_language_switched,
        args=(signed_in,),
    )


def user_language(url: str, username: str) -> Translator:
    """The signed-in user's language: their saved one at their first run in this session (unless the
    URL or the switch named one), and the one they switch to is saved for their next visit."""
    try:
        if st.session_state.get(LANG_USER_KEY) != username:
            st.session_state[LANG_USER_KEY] = username
            if not st.session_state.get(LANG_CHOSEN_KEY):
                with auth_engine(url).connect() as conn:
                    saved = get_pref(conn, username, LANG_PREF)
                if saved in LANGUAGES:
                    _set_language(saved)
        if st.session_state.pop(LANG_UNSAVED_KEY, False):
            set_pref(auth_engine(url), username, LANG_PREF, translator().lang)
    except SQLAlchemyError:
        # A saved language is a convenience: the app works on without it.
        log.warning("could not read or save the language of %s", username, exc_info=True)
    return translator()


def seed_from_query() -> None:
    """At a session's first run: the language and filters the URL names, as if chosen in the sidebar.

    Values are only stored here; each widget keeps those among its options (`remembered`) and the
    user's access narrows the scope (`allowed_scope`), so a tampered or foreign link never widens it.
    """
    if st.session_state.get(QUERY_SEEDED_KEY):
        return
    st.session_state[QUERY_SEEDED_KEY] = True
    params = st.query_params
    if (lang := params.get("lang")) in LANGUAGES:
        _set_language(lang)
        st.session_state[LANG_CHOSEN_KEY] = True
    period = params.get("p")
    kind = params.get("k")
    kind = kind if kind in PERIOD_KINDS else _kind_of(period)
    if kind is not None:
        st.session_state["f_kind"] = kind
    if period and kind == "custom":
        if (picked := _range_of(period)) is not None:
            st.session_state["f_range"] = picked
    elif period:
        st.session_state[f"f_period_{kind or DEFAULT_KIND}"] = period
    for name, key in QUERY_FILTERS.items():
        if values := params.get_all(name)[:MAX_QUERY_VALUES]:
            st.session_state[key] = values
    if (clock := params.get(CLOCK_PARAM)) in CLOCKS:  # the page's clock control keeps it in the URL
        st.session_state[CLOCK_KEY] = clock


def _kind_of(label: str | None) -> PeriodKind | None:
    """The kind of a period label (2026Q3, 2026-07 or 2026-07-01..2026-07-31); None if it is none."""
    if not label:
        return None
    if _range_of(label) is not None:
        return "custom"
    try:
        kind = parse_period(label).kind
    except InputError:
        return None
    return kind if kind in PERIOD_KINDS else None


def _range_of(label: str) -> tuple[date, date] | None:
    """The days of a custom range label `first..last`; None if it is not one."""
    first, sep, last = label.partition("..")
    try:
        picked = (date.fromisoformat(first), date.fromisoformat(last))
    except ValueError:
        return None
    return picked if sep and picked[0] <= picked[1] else None


def write_query(
    *, kind: str, period: str | None, default_period: str | None, chosen: Scope, lang: str
) -> None:
    """Put the current choices into the URL: short names, only values that differ from the defaults.

    Other query parameters (a page's own) are kept; nothing is sent when the URL already says it.
    """
    wanted: dict[str, list[str]] = {}
    if kind != DEFAULT_KIND:
        wanted["k"] = [kind]
    if period is not None and period != default_period:
        wanted["p"] = [period]
    for name, values in zip(
        QUERY_FILTERS, (chosen.teams, chosen.channels, chosen.segments, chosen.regions), strict=True
    ):
        if values:
            wanted[name] = list(values)
    if lang != default_language():
        wanted["lang"] = [lang]
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    kept = {key: values for key, values in current.items() if key not in QUERY_KEYS}
    if {**kept, **wanted} != current:
        st.query_params.from_dict({**kept, **wanted})


def _default_period(periods: list[Period], data: Dataset, tz: str) -> Period:
    """The latest complete period (the one before the current, partial one), else the latest."""
    last_day = local_date(data.span.data_as_of, tz)
    complete = [p for p in periods if p.end_date <= last_day]
    return (complete or periods)[-1]


def sidebar_filters(
    t: Translator, data: Dataset, url: str, tz: str, user: User
) -> tuple[Period, Scope] | None:
    """Period (quarter, month or a custom range) and the scope the user chose, narrowed to what they may
    see; None while a custom range is incomplete."""
    st.header(t("filters.header"))
    kind = remembered(
        st.segmented_control,
        "f_kind",
        t,
        list(PERIOD_KINDS),
        fallback="quarter",
        label=t("filters.period_kind"),
        options=PERIOD_KINDS,
        format_func=lambda k: t(f"filters.kind_{k}"),
        required=True,
    )
    period: Period | None
    if kind == "custom":
        first, last = local_date(data.span.first, tz), local_date(data.span.data_as_of, tz)
        default_range = (max(first, _days_before(last, 29)), last)
        if not _within(st.session_state.get("f_range"), first, last):  # none yet, or from a link
            st.session_state["f_range"] = default_range
        picked = st.date_input(t("filters.custom_range"), min_value=first, max_value=last, key="f_range")
        period = _custom(picked, t)
        default_label = custom_period(*default_range).label
    else:
        periods = available_periods(url, kind, tz)
        default_label = _default_period(periods, data, tz).label
        labels = [p.label for p in periods][::-1]
        by_label = {p.label: p for p in periods}
        chosen = remembered(
            st.selectbox,
            f"f_period_{kind}",
            t,
            labels,
            fallback=default_label,
            label=t("filters.period"),
            options=labels,
            format_func=lambda label: t.period(by_label[label]),
        )
        period = by_label[chosen]
    teams = {
        team: name
        for team, name in data.team_names.items()
        if sees_all_data(user.roles) or team in user.teams
    }
    chosen = Scope(
        teams=_picked("f_teams", t("filters.team"), list(teams), lambda v: f"{teams[v]} ({v})", t),
        channels=_picked("f_channels", t("filters.channel"), list(CHANNELS), lambda v: t(f"channel.{v}"), t),
        segments=_picked("f_segments", t("filters.segment"), list(SEGMENTS), lambda v: t(f"segment.{v}"), t),
        regions=_picked("f_regions", t("filters.region"), list(data.regions), str, t),
    )
    write_query(
        kind=kind,
        period=None if period is None else period.label,
        default_period=default_label,
        chosen=chosen,
        lang=t.lang,
    )
    scope = allowed_scope(user.roles, user.teams, chosen)
    return None if period is None else (period, scope)


def _within(picked: object, first: date, last: date) -> bool:
    """A date_input range value (one or both days picked) inside [first, last]."""
    return (
        isinstance(picked, tuple | list)
        and 1 <= len(picked) <= 2
        and all(isinstance(day, date) and first <= day <= last for day in picked)
        and list(picked) == sorted(picked)
    )


def _picked(
    key: str, label: str, options: list[str], fmt: Callable[[str], str], t: Translator
) -> tuple[str, ...]:
    """A multiselect whose empty choice means all; values not offered (tampered state) are dropped."""
    chosen = remembered(
        st.multiselect, key, t, options, fallback=[], label=label, options=options, format_func=fmt,
        placeholder=t("filters.all"),
    )  # fmt: skip
    return tuple(v for v in chosen if v in options)


def _widget_key(key: str, t: Translator) -> str:
    return f"{key}__{t.lang}"


def choose_period(kind: str, label: str, channels: Sequence[str] | None = None) -> None:
    """Make the sidebar's period (and, given, its channels) these on the next run: a button's callback,
    because a link's `p=` is read only at a session's first run, so a link within a session cannot.
    Written to the widgets' own state, before any is drawn, so that the browser is sent the new value
    and shows it."""
    chosen: dict[str, Any] = {"f_kind": kind}
    if kind == "custom":
        st.session_state["f_range"] = _range_of(label)
    else:
        chosen[f"f_period_{kind}"] = label
    if channels is not None:
        chosen["f_channels"] = list(channels)
    for key, value in chosen.items():
        st.session_state[key] = value
        for lang in LANGUAGES:
            st.session_state[f"{key}__{lang}"] = value


def choose_quarter(label: str) -> None:
    """The sidebar's period this quarter on the next run (see choose_period)."""
    choose_period("quarter", label)


def remembered_value(key: str, t: Translator, fallback: Any) -> Any:
    """The current value of a `remembered` widget, also before it is drawn in this run."""
    return st.session_state.get(_widget_key(key, t), st.session_state.get(key, fallback))


def remembered(
    widget: Callable[..., Any], key: str, t: Translator, valid: list[str], *, fallback: Any, **kwargs: Any
) -> Any:
    """A filter widget whose value survives page and language changes.

    The value lives under `key`; the widget itself is keyed per language, because Streamlit keeps a
    keyed widget's option texts when only `format_func` changes. Values that are not among the
    options (from another data set, or tampered with) fall back.

    The value reaches the widget as its default (`index` of a select box, `default` otherwise), never
    by writing the widget's state before it exists: a state written so is sent to the browser once
    (`set_value`), and when that run is superseded by a quick rerun the browser draws the widget with
    its default instead — showing one period while the page computes another, until the next click
    sends the shown one. For a keyed widget the default does not change its identity.
    """
    widget_key = _widget_key(key, t)
    value = st.session_state.get(widget_key, st.session_state.get(key, fallback))
    if isinstance(fallback, list):
        value = [v for v in (value if isinstance(value, list | tuple) else []) if v in valid]
    elif value not in valid:
        value = fallback
    if widget is st.selectbox:
        kwargs["index"] = list(kwargs["options"]).index(value)
    else:
        kwargs["default"] = value
    value = widget(key=widget_key, **kwargs)
    st.session_state[key] = value
    return value


def _days_before(day: date, days: int) -> date:
    return date.fromordinal(day.toordinal() - days)


def _custom(picked: object, t: Translator) -> Period | None:
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.info(t("filters.custom_incomplete"))
        return None
    try:
        return custom_period(picked[0], picked[1])
    except InputError as exc:
        st.warning(exc.translated(t, t.has))
        return None


def kpi_options(config: Settings) -> KpiOptions:
    """The settings' definitions; a page with a clock control replaces the clock with the chosen one."""
    return KpiOptions(
        csat_threshold=config.csat_threshold, churn_window_days=config.churn_window_days, clock=config.clock
    )


def export_record(context: PageContext, view: str) -> ExportRecord:
    """The audit record of a download on a page: the user, the view and its filters."""
    return ExportRecord(
        url=context.settings.db_url,
        username=context.user.username,
        client=client_id(),
        view=view,
        filters={
            "period": context.period.label,
            "scope": context.scope.as_dict(),
            "clock": context.options.clock,
            "csat_threshold": context.options.csat_threshold,
            "churn_window_days": context.options.churn_window_days,
        },
    )
