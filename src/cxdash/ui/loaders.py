"""Cached reads at the I/O boundary, and the one way pages get business data.

Raw tables are held once per process and data version in `st.cache_resource` (no copy per rerun). They
never leave this module as they are: `user_frames` applies the user's scope and personal-data masking
(cxdash.auth.access) and is the only accessor of business rows. Results go through `st.cache_data`,
bounded, with the scope, the roles and every option in the key.
"""

from dataclasses import dataclass

import polars as pl
import streamlit as st

from cxdash.auth.access import frames_for_counting, frames_for_user, rows_for_user
from cxdash.auth.store import User
from cxdash.db.engine import check_schema, shared_engine
from cxdash.db.version import read_data_version
from cxdash.errors import InputError
from cxdash.load import Frames, read_frames, read_span
from cxdash.metrics.kpis import KpiOptions, Window
from cxdash.metrics.quality import CHECK_BY_ID, offending_rows, quality_report
from cxdash.metrics.satisfaction import CommentKind
from cxdash.metrics.scope import Scope
from cxdash.metrics.tiers import TierRules
from cxdash.periods import DataSpan, Period, PeriodKind, periods_with_data
from cxdash.views.complaints import (
    ComplaintCards,
    EmergingView,
    ValueView,
    WorkflowView,
    complaint_cards,
    complaint_trend,
    emerging_view,
    pareto_view,
    path_tickets,
    severity_view,
    value_view,
    workflow_view,
)
from cxdash.views.loyalty import (
    LifecycleView,
    PointsView,
    clv_view,
    cohort_view,
    lifecycle_view,
    loyalty_facts,
    points_view,
)
from cxdash.views.overview import OverviewData, overview, overview_trends
from cxdash.views.review import review
from cxdash.views.satisfaction import (
    CommentView,
    DriverView,
    SatisfactionCards,
    comment_view,
    drill_rows,
    driver_view,
    rating_items,
    satisfaction_breakdown,
    satisfaction_cards,
    satisfaction_trend,
)
from cxdash.views.service_map import ServiceMap, service_map
from cxdash.views.team import (
    Backlog,
    Replay,
    Scorecards,
    backlog_view,
    frt_trend,
    replay,
    sla_over_time,
    team_scorecards,
    workload,
)


def data_version(url: str) -> str:
    """The business data's version (app_meta's counter, moved by every write of business data and by
    `python -m cxdash refresh`): one primary-key read per run, so a change shows at the next rerun."""
    return str(read_data_version(shared_engine(url)))


@dataclass(frozen=True, slots=True)
class _Raw:
    """Every business table as read, unscoped and unmasked: never handed to a page."""

    frames: Frames
    span: DataSpan | None  # None: no tickets or orders yet


# Failures are never cached: st.cache_resource keeps only returned values, so a read that raised
# (database locked, removed, server down) is simply retried at the next rerun. Each entry is computed
# under a lock of its own key: a session waits here only for the very data it needs and another session
# is already loading; other sessions, other keys and every cached entry go on meanwhile.
@st.cache_resource(max_entries=2, show_spinner=False)
def _raw(url: str, version: str) -> _Raw:
    check_schema(shared_engine(url))
    frames = read_frames(url, version=version)
    try:
        span = read_span(url)
    except InputError as exc:
        if exc.key != "errors.no_data_yet":
            raise
        span = None  # users, sessions and the audit log can be managed before the first import
    return _Raw(frames=frames, span=span)


@dataclass(frozen=True, slots=True)
class Dataset:
    """What the frame needs of the data: its span and the filters' options (no business rows)."""

    span: DataSpan | None  # None: no tickets or orders yet (the sidebar says so, Admin works on)
    regions: tuple[str, ...]
    team_names: dict[str, str]  # team_id → name, every team (the sidebar narrows it to the user's)


@st.cache_resource(max_entries=2, show_spinner=False)
def dataset(url: str, version: str) -> Dataset:
    if current_settings().aggregates_only:  # CXDASH_SOURCE=aggregates: no raw rows in this process
        return aggregates_dataset(url, version)
    raw = _raw(url, version)
    customers, teams = pl.collect_all([raw.frames.customers.select("region"), raw.frames.teams])
    regions = tuple(sorted(customers["region"].cast(pl.String).drop_nulls().unique().to_list()))
    return Dataset(
        span=raw.span, regions=regions, team_names=dict(teams.select("team_id", "name").iter_rows())
    )


def user_frames(url: str, version: str, user: User, scope: Scope) -> Frames:
    """Every business table as this user may see it: their scope with the chosen filters, masked."""
    raw = _raw(url, version)
    return frames_for_user(raw.frames, roles=user.roles, lead_teams=user.teams, chosen=scope)


def available_periods(url: str, kind: PeriodKind, tz: str) -> list[Period]:
    return periods_with_data(kind, dataset(url, data_version(url)).span, tz)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False, hash_funcs={User: lambda u: (u.roles, u.teams)})
def overview_data(
    url: str,
    version: str,
    period: Period,
    trend_kind: PeriodKind,
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
) -> OverviewData:
    """The Overview of one period, scope and user (roles and teams are in the cache key); the trends are
    cached apart, so a period change computes three periods, not eleven."""
    span = dataset(url, version).span
    frames = user_frames(url, version, user, scope)
    return overview(
        frames,
        period,
        trend_periods(span, trend_kind, tz),
        span=span,
        tz=tz,
        options=options,
        teams=scope.teams,
        series=overview_trends_data(url, version, trend_kind, scope, options, tz, user),
    )


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs={User: lambda u: (u.roles, u.teams)})
def overview_trends_data(
    url: str, version: str, trend_kind: PeriodKind, scope: Scope, options: KpiOptions, tz: str, user: User
) -> pl.DataFrame:
    """The Overview's trend series: the same for every chosen period."""
    span = dataset(url, version).span
    frames = user_frames(url, version, user, scope)
    return overview_trends(frames, trend_periods(span, trend_kind, tz), span=span, tz=tz, options=options)


# The Satisfaction page: one cached entry per section, so a control redraws only its own section.
USER_KEY = {User: lambda u: (u.roles, u.teams)}


def trend_periods(span: DataSpan, kind: PeriodKind, tz: str) -> list[Period]:
    """The periods a trend shows: the last 8 quarters or 24 months with data."""
    return periods_with_data(kind, span, tz)[-8 if kind == "quarter" else -24 :]


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def satisfaction_cards_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> SatisfactionCards:
    frames = user_frames(url, version, user, scope)
    span = dataset(url, version).span
    return satisfaction_cards(frames, period, span=span, tz=tz, options=options, teams=scope.teams)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def satisfaction_trend_data(
    url: str,
    version: str,
    kind: PeriodKind,
    split: str | None,
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
    rules: TierRules,
) -> pl.DataFrame:
    span = dataset(url, version).span
    frames = user_frames(url, version, user, scope)
    periods = trend_periods(span, kind, tz)
    return satisfaction_trend(
        frames, periods, kind=kind, split=split, span=span, tz=tz, options=options, rules=rules
    )


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def satisfaction_breakdown_data(
    url: str,
    version: str,
    period: Period,
    dimension: str,
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
    rules: TierRules,
) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    return satisfaction_breakdown(
        frames,
        period,
        dimension=dimension,
        span=dataset(url, version).span,
        tz=tz,
        options=options,
        rules=rules,
    )


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def rating_items_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    return rating_items(frames, period, span=dataset(url, version).span, tz=tz, options=options)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def driver_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> DriverView:
    frames = user_frames(url, version, user, scope)
    return driver_view(frames, period, span=dataset(url, version).span, tz=tz, options=options)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def comment_data(
    url: str,
    version: str,
    period: Period,
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
    kind: CommentKind,
    scores: tuple[int, ...],
    weakest: str | None,
) -> CommentView:
    frames = user_frames(url, version, user, scope)
    return comment_view(
        frames,
        period,
        span=dataset(url, version).span,
        tz=tz,
        options=options,
        kind=kind,
        scores=scores,
        weakest=weakest,
    )


@st.cache_data(ttl=600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def satisfaction_drill_data(
    url: str,
    version: str,
    period: Period,
    scope: Scope,
    tz: str,
    user: User,
    rules: TierRules,
    *,
    kpi: str,
    dimension: str | None,
    group: str | None,
    trend_kind: PeriodKind | None,
    tier_period: Period | None,
) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    span = dataset(url, version).span
    return drill_rows(
        frames,
        period,
        kpi=kpi,
        dimension=dimension,
        group=group,
        span=span,
        tz=tz,
        rules=rules,
        trend_kind=trend_kind,
        tier_period=tier_period,
    )


# The Complaints page: one cached entry per section.
@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def complaint_cards_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> ComplaintCards:
    frames = user_frames(url, version, user, scope)
    return complaint_cards(
        frames, period, span=dataset(url, version).span, tz=tz, options=options, teams=scope.teams
    )


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def complaint_trend_data(
    url: str, version: str, kind: PeriodKind, dimension: str | None, scope: Scope, tz: str, user: User
) -> pl.DataFrame:
    span = dataset(url, version).span
    frames = user_frames(url, version, user, scope)
    return complaint_trend(
        frames, trend_periods(span, kind, tz), kind=kind, dimension=dimension, span=span, tz=tz
    )


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def severity_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    return severity_view(frames, period, span=dataset(url, version).span, tz=tz, options=options)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False, hash_funcs=USER_KEY)
def pareto_data(
    url: str,
    version: str,
    period: Period,
    path: tuple[tuple[str, str | None], ...],
    weights: tuple[tuple[int, float], ...] | None,
    scope: Scope,
    tz: str,
    user: User,
) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    return pareto_view(
        frames,
        period,
        path=path,
        span=dataset(url, version).span,
        tz=tz,
        weights=dict(weights) if weights is not None else None,
    )


@st.cache_data(ttl=600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def path_tickets_data(
    url: str,
    version: str,
    period: Period,
    path: tuple[tuple[str, str | None], ...],
    scope: Scope,
    tz: str,
    user: User,
) -> tuple[pl.DataFrame, int]:
    frames = user_frames(url, version, user, scope)
    return path_tickets(frames, period, path=path, span=dataset(url, version).span, tz=tz)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def workflow_data(url: str, version: str, period: Period, scope: Scope, tz: str, user: User) -> WorkflowView:
    frames = user_frames(url, version, user, scope)
    return workflow_view(frames, period, span=dataset(url, version).span, tz=tz)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def emerging_data(url: str, version: str, period: Period, scope: Scope, tz: str, user: User) -> EmergingView:
    frames = user_frames(url, version, user, scope)
    return emerging_view(frames, period, span=dataset(url, version).span, tz=tz)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def value_data(
    url: str,
    version: str,
    period: Period,
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
    rules: TierRules,
) -> ValueView:
    frames = user_frames(url, version, user, scope)
    return value_view(frames, period, span=dataset(url, version).span, tz=tz, options=options, rules=rules)


# The Loyalty page. The per-customer facts are the what-if's input: held once per filter change in
# cache_resource (no copy per slider move; read-only), keyed like everything else by scope and user.
@st.cache_resource(ttl=3600, max_entries=8, show_spinner=False, hash_funcs=USER_KEY)
def loyalty_facts_data(
    url: str,
    version: str,
    period: Period,
    scope: Scope,
    tz: str,
    user: User,
    rules: TierRules,
    csat_threshold: int,
) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    span = dataset(url, version).span
    return loyalty_facts(frames, period, span=span, tz=tz, rules=rules, csat_threshold=csat_threshold)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def lifecycle_data(
    url: str, version: str, period: Period, scope: Scope, tz: str, user: User, rules: TierRules
) -> LifecycleView:
    frames = user_frames(url, version, user, scope)
    return lifecycle_view(frames, period, span=dataset(url, version).span, tz=tz, rules=rules)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def cohort_data(url: str, version: str, period: Period, scope: Scope, tz: str, user: User) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    return cohort_view(frames, period, span=dataset(url, version).span, tz=tz)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def clv_data(
    url: str,
    version: str,
    period: Period,
    scope: Scope,
    tz: str,
    user: User,
    rules: TierRules,
    csat_threshold: int,
) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    facts = loyalty_facts_data(url, version, period, scope, tz, user, rules, csat_threshold)
    return clv_view(frames, period, span=dataset(url, version).span, tz=tz, rules=rules, facts=facts)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def points_data(
    url: str, version: str, period: Period, scope: Scope, tz: str, user: User, csat_threshold: int
) -> PointsView:
    frames = user_frames(url, version, user, scope)
    return points_view(frames, period, span=dataset(url, version).span, tz=tz, csat_threshold=csat_threshold)


# The Team performance page.
@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def team_scorecards_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> Scorecards:
    frames = user_frames(url, version, user, scope)
    return team_scorecards(frames, period, span=dataset(url, version).span, tz=tz, options=options)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def sla_trend_data(
    url: str,
    version: str,
    kind: PeriodKind,
    by: tuple[str, ...],
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
) -> pl.DataFrame:
    span = dataset(url, version).span
    frames = user_frames(url, version, user, scope)
    return sla_over_time(
        frames, trend_periods(span, kind, tz), kind=kind, span=span, tz=tz, options=options, by=by
    )


@st.cache_data(ttl=600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def backlog_data(url: str, version: str, scope: Scope, options: KpiOptions, tz: str, user: User) -> Backlog:
    span = dataset(url, version).span
    frames = user_frames(url, version, user, scope)
    return backlog_view(frames, trend_periods(span, "month", tz)[-6:], span=span, tz=tz, options=options)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def workload_data(url: str, version: str, period: Period, scope: Scope, tz: str, user: User) -> pl.DataFrame:
    frames = user_frames(url, version, user, scope)
    return workload(frames, period, span=dataset(url, version).span, tz=tz)


@st.cache_data(ttl=600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def replay_data(
    url: str,
    version: str,
    period: Period,
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
    targets: tuple[tuple[str, float, float], ...],
) -> Replay:
    frames = user_frames(url, version, user, scope)
    proposed = {priority: (first, resolution) for priority, first, resolution in targets}
    return replay(frames, period, span=dataset(url, version).span, tz=tz, options=options, targets=proposed)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def frt_trend_data(
    url: str, version: str, kind: PeriodKind, by: str, scope: Scope, options: KpiOptions, tz: str, user: User
) -> pl.DataFrame:
    span = dataset(url, version).span
    frames = user_frames(url, version, user, scope)
    return frt_trend(
        frames, trend_periods(span, kind, tz), kind=kind, span=span, tz=tz, options=options, by=by
    )


# The Data page: data quality of the user's scope (duplicates compare unmasked values; rows leave masked).
def _counting_frames(url: str, version: str, period: Period, scope: Scope, tz: str, user: User):
    raw = _raw(url, version)
    frames = frames_for_counting(raw.frames, roles=user.roles, lead_teams=user.teams, chosen=scope)
    span = dataset(url, version).span
    return frames, Window.of(period, tz=tz, data_as_of=span.data_as_of)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def quality_data(url: str, version: str, period: Period, scope: Scope, tz: str, user: User) -> pl.DataFrame:
    frames, window = _counting_frames(url, version, period, scope, tz, user)
    return quality_report(frames, window)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def quality_rows_data(
    url: str, version: str, period: Period, scope: Scope, tz: str, user: User, check_id: str
) -> pl.DataFrame:
    frames, window = _counting_frames(url, version, period, scope, tz, user)
    rows = offending_rows(frames, window, check_id)
    return rows_for_user(CHECK_BY_ID[check_id].table, rows, roles=user.roles)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def review_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> dict:
    """The quarterly review of the user's scope (the user's frames: scope and masking applied)."""
    frames = user_frames(url, version, user, scope)
    return review(frames, period, span=dataset(url, version).span, tz=tz, scope=scope, options=options)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=USER_KEY)
def service_map_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> ServiceMap:
    """The service map of the user's scope (the user's frames: scope and masking applied)."""
    frames = user_frames(url, version, user, scope)
    span = dataset(url, version).span
    return service_map(frames, period, span=span, tz=tz, options=options, teams=scope.teams)


# OLA attainment (internal targets per workflow stage): the Complaints page's workflow tab (complaints
# only); the Service map may use it for every ticket. Imported here because this block was appended.
from cxdash.metrics.ola import OlaTargets  # noqa: E402
from cxdash.views.ola import OlaView, ola_view  # noqa: E402


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def ola_data(
    url: str,
    version: str,
    period: Period,
    scope: Scope,
    tz: str,
    user: User,
    targets: tuple[int, int, int],
    complaints_only: bool,
) -> OlaView:
    """OLA attainment per stage and per team × stage of the user's scope (the user's frames: scope and
    masking applied); `targets` are Settings.ola_targets (minutes: assign, first action, feedback request)."""
    frames = user_frames(url, version, user, scope)
    return ola_view(
        frames,
        period,
        span=dataset(url, version).span,
        tz=tz,
        targets=OlaTargets(*targets),
        complaints_only=complaints_only,
    )


# SMART goals: their progress on the Overview and the baseline of the admin's goal form. Goals are
# measured on their own scope (the company or one team): the user's data without the chosen filters.
from cxdash.views.goals import Baseline, baseline_for, goal_rows  # noqa: E402


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def goals_data(
    url: str, version: str, period: Period, scope: Scope, options: KpiOptions, tz: str, user: User
) -> pl.DataFrame:
    """The goals of the period that apply to the chosen scope, with baseline, current value and progress."""
    frames = user_frames(url, version, user, Scope())
    return goal_rows(frames, period, span=dataset(url, version).span, tz=tz, scope=scope, options=options)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False, hash_funcs=USER_KEY)
def goal_baseline_data(
    url: str,
    version: str,
    metric: str,
    team_id: str | None,
    period: Period,
    options: KpiOptions,
    tz: str,
    user: User,
) -> Baseline:
    """A proposed goal's baseline: the KPI of the company or the team in the period before `period`."""
    frames = user_frames(url, version, user, Scope())
    span = dataset(url, version).span
    return baseline_for(frames, metric, team_id, period, span=span, tz=tz, options=options)


# CXDASH_SOURCE=aggregates (issue 14): the frame and the Overview read the per-day aggregates and three
# small tables (teams, targets and annotations); no raw rows are loaded in this process.
from cxdash.aggregates.commands import aggregates_span, current_meta  # noqa: E402
from cxdash.aggregates.kpis import rows_for  # noqa: E402
from cxdash.aggregates.overview import (  # noqa: E402
    AggregateOverview,
    overview_from_aggregates,
    overview_periods,
    overview_windows,
)
from cxdash.aggregates.store import read_aggregates  # noqa: E402
from cxdash.auth.roles import allowed_scope  # noqa: E402
from cxdash.config import current_settings  # noqa: E402
from cxdash.load import TABLE_COLUMNS, read_table  # noqa: E402
from cxdash.metrics.compare import resolve_targets  # noqa: E402


@st.cache_resource(max_entries=2, show_spinner=False)
def aggregates_dataset(url: str, version: str) -> Dataset:
    """What the frame needs, without the raw rows: the span the current aggregates were built on (while
    they are missing or stale, the raw span by SQL: the Overview then names the command to run), the
    team names; no regions (a region filter needs the raw rows)."""
    check_schema(shared_engine(url))
    try:
        current_meta(url, current_settings().display_tz)
        span: DataSpan | None = aggregates_span(url)
    except InputError:
        try:
            span = read_span(url)
        except InputError as exc:
            if exc.key != "errors.no_data_yet":
                raise
            span = None
    teams = read_table(url, "teams", ["team_id", "name"])
    return Dataset(span=span, regions=(), team_names=dict(teams.iter_rows()))


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=USER_KEY)
def aggregate_overview_data(
    url: str,
    version: str,
    period: Period,
    trend_kind: PeriodKind,
    scope: Scope,
    options: KpiOptions,
    tz: str,
    user: User,
) -> AggregateOverview:
    """The Overview's cards and trends of one period, team/channel scope and user, read from the per-day
    aggregates (only the days they need); InputError naming `python -m cxdash aggregates` when the set
    is missing or stale."""
    meta = current_meta(url, tz)
    span = aggregates_span(url)
    trends = trend_periods(span, trend_kind, tz)
    allowed = allowed_scope(user.roles, user.teams, scope)
    windows = overview_windows(overview_periods(period, trends), tz=tz, data_as_of=meta.data_as_of)
    aggregates = read_aggregates(url, rows=rows_for(windows, meta, options))
    targets = resolve_targets(
        read_table(url, "kpi_targets", TABLE_COLUMNS["kpi_targets"]),
        period_label=period.label,
        teams=allowed.teams,
    )
    data = overview_from_aggregates(
        aggregates, period, trends, span=span, tz=tz, scope=allowed, options=options, targets=targets
    )
    annotations = read_table(url, "annotations", TABLE_COLUMNS["annotations"])
    return AggregateOverview(data=data, annotations=annotations, meta=meta)
