"""Session state: the language and the global filters, drawn in the sidebar and read by every page."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from cxdash.auth.roles import allowed_scope, sees_all_data
from cxdash.auth.store import User
from cxdash.config import Settings, current_settings
from cxdash.domain import CHANNELS, SEGMENTS
from cxdash.errors import InputError
from cxdash.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, normalise_language
from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import Period, PeriodKind, custom_period, local_date
from cxdash.ui.auth import client_id
from cxdash.ui.loaders import Dataset, available_periods
from cxdash.ui.widgets import ExportRecord

PERIOD_KINDS: tuple[PeriodKind, ...] = ("quarter", "month", "custom")


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
    return current_settings()


LANG_KEY = "lang"  # the session's language; the switch widget itself is keyed LANG_SWITCH_KEY
LANG_SWITCH_KEY = "lang_switch"


def translator() -> Translator:
    """The session's language: the switch's newest value, else the remembered one, else CXDASH_LANG.

    The value is kept under a key of its own because the switch is drawn by different pages (the
    login page, then the app's frame) and Streamlit forgets a widget's state when a run does not draw it.
    """
    for key in (LANG_SWITCH_KEY, LANG_KEY):
        if st.session_state.get(key) in LANGUAGES:
            st.session_state[LANG_KEY] = st.session_state[key]
            return Translator(st.session_state[key])
    st.session_state[LANG_KEY] = normalise_language(settings().lang)
    return Translator(st.session_state[LANG_KEY])


def language_switch() -> None:
    lang = translator().lang
    if st.session_state.get(LANG_SWITCH_KEY) not in LANGUAGES:
        st.session_state[LANG_SWITCH_KEY] = lang
    st.segmented_control(
        Translator(lang)("filters.language"),
        LANGUAGES,
        format_func=LANGUAGE_NAMES.get,
        key=LANG_SWITCH_KEY,
        required=True,
    )


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
        picked = st.date_input(
            t("filters.custom_range"), value=(max(first, _days_before(last, 29)), last),
            min_value=first, max_value=last, key="f_range",
        )  # fmt: skip
        period = _custom(picked, t)
    else:
        periods = available_periods(url, kind, tz)
        default = _default_period(periods, data, tz)
        labels = [p.label for p in periods][::-1]
        by_label = {p.label: p for p in periods}
        chosen = remembered(
            st.selectbox,
            f"f_period_{kind}",
            t,
            labels,
            fallback=default.label,
            label=t("filters.period"),
            options=labels,
            format_func=lambda label: t.period(by_label[label]),
        )
        period = by_label[chosen]
    teams = {
        team: name
        for team, name in data.reference["teams"].select("team_id", "name").iter_rows()
        if sees_all_data(user.roles) or team in user.teams
    }
    chosen = Scope(
        teams=_picked("f_teams", t("filters.team"), list(teams), lambda v: f"{teams[v]} ({v})", t),
        channels=_picked("f_channels", t("filters.channel"), list(CHANNELS), lambda v: t(f"channel.{v}"), t),
        segments=_picked("f_segments", t("filters.segment"), list(SEGMENTS), lambda v: t(f"segment.{v}"), t),
        regions=_picked("f_regions", t("filters.region"), list(data.regions), str, t),
    )
    scope = allowed_scope(user.roles, user.teams, chosen)
    return None if period is None else (period, scope)


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
    """
    widget_key = _widget_key(key, t)
    if widget_key not in st.session_state:
        stored = st.session_state.get(key, fallback)
        if isinstance(fallback, list):
            stored = [v for v in (stored if isinstance(stored, list | tuple) else []) if v in valid]
        elif stored not in valid:
            stored = fallback
        st.session_state[widget_key] = stored
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
        st.warning(str(exc))
        return None


def kpi_options(config: Settings) -> KpiOptions:
    return KpiOptions(csat_threshold=config.csat_threshold, churn_window_days=config.churn_window_days)


def export_record(context: PageContext, view: str) -> ExportRecord:
    """The audit record of a download on a page: the user, the view and its filters."""
    return ExportRecord(
        url=context.settings.db_url,
        username=context.user.username,
        client=client_id(),
        view=view,
        filters={"period": context.period.label, "scope": context.scope.as_dict()},
    )
