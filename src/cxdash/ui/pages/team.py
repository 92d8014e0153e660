"""The Team performance page (PRODUCT.md view 5): scorecards per team and agent with their N, the fair
comparison instead of a raw leaderboard, SLA over time, backlog and what is about to breach, the
workload heatmap, the SLA-target what-if and an agent's own scorecard. A team lead sees only their
teams (the data layer's scope)."""

from dataclasses import replace
from functools import partial

import polars as pl
import streamlit as st

from cxdash.charts.team import backlog_bars, fair_dots, replay_bars, sla_lines, workload_heat
from cxdash.domain import CHANNELS, PRIORITIES
from cxdash.i18n import Translator
from cxdash.metrics.team import SCORECARD_N
from cxdash.ui.loaders import (
    backlog_data,
    dataset,
    frt_trend_data,
    replay_data,
    sla_trend_data,
    team_scorecards_data,
    trend_periods,
    user_frames,
    workload_data,
)
from cxdash.ui.shell import run_page
from cxdash.ui.state import PageContext, export_record, remembered
from cxdash.ui.widgets import (
    chart_free_table,
    chart_with_table,
    clock_control,
    clock_label,
    empty_state,
    lazy_tabs,
)

TAB_KEY = "team_tab"
FIGURES = (
    "tickets",
    "resolved",
    "frt_median_min",
    "frt_p90_min",
    "resolution_median_h",
    "resolution_p90_h",
    "sla_first_response_pct",
    "sla_resolution_pct",
    "csat_pct",
    "reopen_rate_pct",
    "one_touch_pct",
    "escalation_rate_pct",
)
DURATIONS = ("frt_median_min", "frt_p90_min", "resolution_median_h", "resolution_p90_h")
SLA_GROUPS = {"team_id": ("team_id",), "priority": ("priority",), "channel": ("channel",)}


def render() -> None:
    run_page("team", _render)


def _args(context: PageContext) -> tuple[str, str, str]:
    return context.settings.db_url, context.version, context.settings.display_tz


def _team_names(context: PageContext) -> dict[str, str]:
    teams = dataset(context.settings.db_url, context.version).team_names
    return {team: f"{name} ({team})" for team, name in teams.items()}


def _render(context: PageContext, t: Translator) -> None:
    st.title(t("team.title"))
    clock = clock_control(t, default=context.options.clock)
    context = replace(context, options=replace(context.options, clock=clock))
    st.caption(t("team.caption", period=t.period(context.period), clock=t(f"clock.{clock}")))
    url, version, tz = _args(context)
    cards = team_scorecards_data(
        url, version, context.period, context.scope, context.options, tz, context.user
    )
    if cards.teams.is_empty():
        empty_state(t("team.empty"))
        return
    _scorecards(context, t, cards)
    lazy_tabs(
        t,
        TAB_KEY,
        {
            "fair": partial(_fair, context, t, cards),
            "sla": partial(_sla, context, t),
            "workload": partial(_workload, context, t),
            "whatif": partial(_whatif, context, t),
            "agent": partial(_agent, context, t, cards),
        },
        label=lambda tab: t(f"team.tab_{tab}"),
    )


def _figure_name(t: Translator, name: str, clock: str) -> str:
    label = t(f"kpi.{name}.label") if t.has(f"kpi.{name}.label") else t(f"team.figure_{name}")
    return clock_label(t, label, clock) if name in DURATIONS else label  # type: ignore[arg-type]


def _scorecard_table(
    t: Translator, table: pl.DataFrame, first: pl.Expr, first_name: str, clock: str
) -> pl.DataFrame:
    """Each figure and, beside it, the N it rests on (counts need none)."""
    columns = [first.alias(first_name)]
    for name in FIGURES:
        columns.append(pl.col(name).round(1).alias(_figure_name(t, name, clock)))
        n = SCORECARD_N[name]
        if n != name and name not in ("frt_p90_min", "resolution_p90_h", "resolved"):
            columns.append(pl.col(n).alias(f"{_figure_name(t, name, clock)} · N"))
    return table.select(columns)


def _scorecards(context: PageContext, t: Translator, cards) -> None:
    clock = context.options.clock
    names = _team_names(context)
    st.subheader(t("team.teams"))
    teams = cards.teams.filter(pl.col("team_id").is_not_null()).sort("team_id")
    label = pl.col("team_id").replace_strict(names, default=pl.col("team_id"))
    chart_free_table(
        _scorecard_table(t, teams, label, t("team.team"), clock),
        t=t,
        key="team_teams",
        file_name="cxdash_team_scorecards.csv",
        record=export_record(context, "team.teams"),
    )
    st.subheader(t("team.agents"))
    agents = cards.agents.filter(pl.col("agent_id").is_not_null())
    agent = pl.col("agent_name").fill_null("") + pl.lit(" (") + pl.col("agent_id") + pl.lit(")")
    table = _scorecard_table(t, agents.sort("agent_team", "agent_id"), agent, t("team.agent"), clock)
    table = table.insert_column(1, agents.sort("agent_team", "agent_id")["agent_team"].alias(t("team.team")))
    chart_free_table(
        table,
        t=t,
        key="team_agents",
        file_name="cxdash_agent_scorecards.csv",
        record=export_record(context, "team.agents"),
    )
    st.caption(t("team.scorecards_note"))


def _fair(context: PageContext, t: Translator, cards) -> None:
    fair = cards.fair.filter(pl.col("agent_id").is_not_null()).with_columns(
        (pl.col("agent_name").fill_null("") + pl.lit(" (") + pl.col("agent_id") + pl.lit(")")).alias("label")
    )
    if fair.is_empty():
        empty_state(t("team.empty"))
        return
    st.info(t("team.fair_why"), icon=":material/balance:")
    below = fair.filter(pl.col("significant_below") & ~pl.col("small"))
    if below.height:
        st.warning(
            t("team.fair_below", agents=", ".join(below.sort("diff_pct")["label"].to_list())),
            icon=":material/flag:",
        )
    fig = fair_dots(fair, title=t("team.fair_title"), x_title=t("team.fair_x"))
    out = fair.sort("rank", nulls_last=True).select(
        pl.col("label").alias(t("team.agent")),
        pl.col("agent_team").alias(t("team.team")),
        pl.col("n").alias(t("chart.n")),
        pl.col("csat_pct").round(1).alias(t("team.actual")),
        pl.col("expected_pct").round(1).alias(t("team.expected")),
        pl.col("diff_pct").round(1).alias(t("team.difference")),
        pl.col("diff_low").round(1).alias(t("satisfaction.ci_low")),
        pl.col("diff_high").round(1).alias(t("satisfaction.ci_high")),
        pl.col("rank").alias(t("team.rank")),
        pl.when(pl.col("small")).then(pl.lit(t("team.small", n=30))).alias(t("chart.note")),
    )
    chart_with_table(
        fig,
        out,
        t=t,
        key="team_fair",
        file_name="cxdash_fair_comparison.csv",
        record=export_record(context, "team.fair"),
    )


def _sla(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    left, right = st.columns(2)
    with left:
        kind = remembered(
            st.segmented_control,
            "team_sla_kind",
            t,
            ["quarter", "month"],
            fallback="month",
            label=t("overview.trend_granularity"),
            options=("quarter", "month"),
            format_func=lambda k: t(f"overview.trend_{k}"),
            required=True,
        )
    with right:
        group = remembered(
            st.selectbox,
            "team_sla_by",
            t,
            list(SLA_GROUPS),
            fallback="team_id",
            label=t("team.sla_by"),
            options=list(SLA_GROUPS),
            format_func=lambda g: t(f"team.by_{g}"),
        )
    table = sla_trend_data(
        url, version, kind, SLA_GROUPS[group], context.scope, context.options, tz, context.user
    )
    if table.is_empty():
        empty_state(t("team.empty"))
        return
    names = _team_names(context) if group == "team_id" else {}
    periods = {p.label: t.period(p) for p in trend_periods(dataset(url, version).span, kind, tz)}
    for target in ("first_response", "resolution"):
        rows = table.select(
            "period",
            pl.col(group)
            .cast(pl.String)
            .replace_strict(names, default=pl.col(group).cast(pl.String))
            .alias("label"),
            pl.col(f"sla_{target}_pct").alias("pct"),
            pl.col(f"sla_{target}_n").alias("n"),
        ).filter(pl.col("label").is_not_null())
        title = clock_label(t, t(f"kpi.sla_{target}_pct.label"), context.options.clock)  # type: ignore[arg-type]
        out = rows.select(
            pl.col("period").replace_strict(periods, default=pl.col("period")).alias(t("chart.period")),
            pl.col("label").alias(t(f"team.by_{group}")),
            pl.col("pct").round(1).alias(title),
            pl.col("n").alias(t("chart.n")),
        )
        chart_with_table(
            sla_lines(rows, title=title, value="%", period_text=periods),
            out,
            t=t,
            key=f"team_sla_{target}",
            file_name=f"cxdash_sla_{target}_{kind}.csv",
            record=export_record(context, f"team.sla.{target}"),
        )
    _frt(context, t, kind, group)
    _backlog(context, t)


def _frt(context: PageContext, t: Translator, kind: str, group: str) -> None:
    """Median first response per period and group: where a change of tool or staffing shows first."""
    url, version, tz = _args(context)
    table = frt_trend_data(url, version, kind, group, context.scope, context.options, tz, context.user)
    names = _team_names(context) if group == "team_id" else {c: t(f"channel.{c}") for c in CHANNELS}
    rows = table.select(
        "period",
        pl.col("group").replace_strict(names, default=pl.col("group")).alias("label"),
        pl.col("frt_median_min").alias("pct"),
        "n",
    ).filter(pl.col("label").is_not_null())
    periods = {p.label: t.period(p) for p in trend_periods(dataset(url, version).span, kind, tz)}
    title = clock_label(t, t("kpi.frt_median_min.label"), context.options.clock)  # type: ignore[arg-type]
    out = rows.select(
        pl.col("period").replace_strict(periods, default=pl.col("period")).alias(t("chart.period")),
        pl.col("label").alias(t(f"team.by_{group}")),
        pl.col("pct").round(1).alias(title),
        pl.col("n").alias(t("chart.n")),
    )
    chart_with_table(
        sla_lines(rows, title=title, value="min", period_text=periods),
        out,
        t=t,
        key="team_frt",
        file_name=f"cxdash_frt_{kind}.csv",
        record=export_record(context, "team.frt"),
    )
    st.caption(t("team.frt_note"))


def _backlog(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    view = backlog_data(url, version, context.scope, context.options, tz, context.user)
    st.subheader(t("team.backlog"))
    buckets = {b: t(f"team.bucket_{b}") for b in ("lt_1d", "d1_3", "d3_7", "gt_7d")}
    totals = (
        view.at_ends.group_by("instant", "bucket")
        .agg(pl.col("tickets").sum())
        .with_columns(pl.col("instant").dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M").alias("when"))
        .sort("instant")
    )
    out = totals.select(
        pl.col("when").alias(t("team.at")),
        pl.col("bucket").cast(pl.String).replace_strict(buckets).alias(t("team.age")),
        pl.col("tickets").alias(t("team.open")),
    )
    chart_with_table(
        backlog_bars(totals, title=t("team.backlog_title"), buckets=buckets),
        out,
        t=t,
        key="team_backlog",
        file_name="cxdash_backlog.csv",
        record=export_record(context, "team.backlog"),
    )
    st.subheader(t("team.breaching"))
    shown = view.breaching.select(
        pl.col("ticket_id").alias(t("complaints.col_ticket_id")),
        pl.col("team_id").alias(t("team.team")),
        pl.col("agent_id").alias(t("team.agent")),
        pl.col("priority").cast(pl.String).alias(t("complaints.col_priority")),
        pl.col("target")
        .replace_strict(
            {"first_response": t("team.target_first_response"), "resolution": t("team.target_resolution")},
            default=None,
        )
        .alias(t("team.target")),
        pl.col("minutes_left").round(0).alias(t("team.minutes_left")),
        pl.col("created_at").dt.convert_time_zone(tz).alias(t("complaints.col_created_at")),
    )
    st.caption(t("team.breaching_note"))
    chart_free_table(
        shown,
        t=t,
        key="team_breaching",
        file_name="cxdash_breaching_now.csv",
        record=export_record(context, "team.breaching"),
    )


def _workload(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    table = workload_data(url, version, context.period, context.scope, tz, context.user)
    weekdays = [t(f"calendars.weekday_{d}") for d in range(1, 8)]
    left, right = st.columns(2)
    for column, value in ((left, "arrivals"), (right, "handled")):
        with column:
            fig = workload_heat(table, title=t(f"team.heat_{value}"), weekdays=weekdays, value=value)
            out = table.select(
                pl.col("weekday")
                .replace_strict(dict(enumerate(weekdays, start=1)))
                .alias(t("calendars.col_weekday")),
                pl.col("hour").alias(t("team.hour")),
                pl.col(value).alias(t(f"team.heat_{value}")),
            )
            chart_with_table(
                fig,
                out,
                t=t,
                key=f"team_heat_{value}",
                file_name=f"cxdash_workload_{value}.csv",
                record=export_record(context, f"team.workload.{value}"),
            )
    st.caption(t("team.workload_note", tz=tz))


def _policy_targets(context: PageContext) -> dict[str, tuple[int, int]]:
    """The current SLA policy per priority: (first-response, resolution) target minutes."""
    url, version, _ = _args(context)
    policies = user_frames(url, version, context.user, context.scope).sla_policies.collect()
    return {
        str(row["priority"]): (int(row["first_response_target_min"]), int(row["resolution_target_min"]))
        for row in policies.iter_rows(named=True)
    }


@st.fragment
def _whatif(context: PageContext, t: Translator) -> None:
    url, version, tz = _args(context)
    policies = _policy_targets(context)
    st.caption(t("team.whatif_note"))
    proposed = []
    columns = st.columns(len(policies) or 1)
    for column, priority in zip(columns, [p for p in PRIORITIES if p in policies], strict=False):
        first, resolution = policies[priority]
        with column:
            st.markdown(f"**{t('team.priority', priority=priority)}**")
            new_first = st.slider(
                t("team.first_response_min"),
                1,
                max(first * 4, 60),
                first,
                key=f"team_fr_{priority}__{t.lang}",
            )
            new_resolution = st.slider(
                t("team.resolution_min"),
                10,
                max(resolution * 4, 600),
                resolution,
                key=f"team_res_{priority}__{t.lang}",
                step=10,
            )
            st.caption(t("team.policy_now", first=first, resolution=resolution))
        proposed.append((priority, float(new_first), float(new_resolution)))
    result = replay_data(
        url, version, context.period, context.scope, context.options, tz, context.user, tuple(proposed)
    )
    names = _team_names(context)
    cols = st.columns(2)
    for column, target in zip(cols, ("first_response", "resolution"), strict=True):
        rows = result.by_team.filter(pl.col("target") == target)
        now = _overall(rows, "current")
        then = _overall(rows, "proposed")
        column.metric(
            t(f"team.overall_{target}"),
            "—" if then is None else f"{then:.1f}%",
            delta=None if now is None or then is None else f"{then - now:+.1f} pp",
            help=t("team.overall_help"),
        )
    for target in ("first_response", "resolution"):
        rows = result.by_team.filter(pl.col("target") == target).with_columns(
            pl.col("team_id").replace_strict(names, default=pl.col("team_id")).fill_null("—").alias("label")
        )
        fig = replay_bars(
            rows, title=t(f"team.replay_{target}"), names=(t("team.current"), t("team.proposed"))
        )
        out = rows.select(
            pl.col("label").alias(t("team.team")),
            pl.col("current_pct").round(1).alias(t("team.current")),
            pl.col("proposed_pct").round(1).alias(t("team.proposed")),
            pl.col("new_breaches").alias(t("team.new_breaches")),
            pl.col("new_meets").alias(t("team.new_meets")),
        )
        chart_with_table(
            fig,
            out,
            t=t,
            key=f"team_replay_{target}",
            file_name=f"cxdash_sla_replay_{target}.csv",
            record=export_record(context, f"team.replay.{target}"),
        )
    st.markdown(f"**{t('team.changed')}**")
    chart_free_table(
        result.changed.head(200),
        t=t,
        key="team_replay_changed",
        file_name="cxdash_sla_replay_tickets.csv",
        record=export_record(context, "team.replay.tickets"),
    )


def _overall(rows: pl.DataFrame, which: str) -> float | None:
    """Company-wide attainment (%) from the per-team rows: Σ met / Σ counted."""
    met, counted = rows[f"{which}_met"].sum(), rows[f"{which}_n"].sum()
    return 100 * met / counted if counted else None


def _agent(context: PageContext, t: Translator, cards) -> None:
    agents = cards.agents.filter(pl.col("agent_id").is_not_null()).sort("agent_id")
    if agents.is_empty():
        empty_state(t("team.empty"))
        return
    labels = {
        r["agent_id"]: f"{r['agent_name'] or ''} ({r['agent_id']})" for r in agents.iter_rows(named=True)
    }
    chosen = remembered(
        st.selectbox,
        "team_agent",
        t,
        list(labels),
        fallback=next(iter(labels)),
        label=t("team.agent"),
        options=list(labels),
        format_func=labels.get,
    )
    me = agents.filter(pl.col("agent_id") == chosen).row(0, named=True)
    team = cards.teams.filter(pl.col("team_id") == me["agent_team"])
    fair = cards.fair.filter(pl.col("agent_id") == chosen)
    cols = st.columns(4)
    for column, name in zip(
        cols, ("csat_pct", "frt_median_min", "sla_first_response_pct", "reopen_rate_pct"), strict=True
    ):
        mine = me[name]
        theirs = team[name][0] if team.height else None
        column.metric(
            _figure_name(t, name, context.options.clock),
            "—" if mine is None else f"{mine:.1f}",
            delta=None if mine is None or theirs is None else f"{mine - theirs:+.1f} {t('team.vs_team')}",
            delta_color="off",
            help=t("overview.n", n=f"{me[SCORECARD_N[name]] or 0:,}"),
        )
    if fair.height:
        row = fair.row(0, named=True)
        key = "team.agent_small" if row["small"] else "team.agent_fair"
        st.info(
            t(
                key,
                diff=f"{row['diff_pct']:+.1f}",
                low=f"{row['diff_low']:+.1f}",
                high=f"{row['diff_high']:+.1f}",
                n=row["n"],
                expected=f"{row['expected_pct']:.1f}",
            ),
            icon=":material/balance:",
        )
