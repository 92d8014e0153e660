"""The Quarterly review's content as data, JSON-ready so that a frozen snapshot keeps it as it is: every
KPI against the previous quarter and the same quarter last year with significance and target (the
`kpis` report), the movers, the evidence behind them, and the narrative — statements as message keys
with their numbers and the page that shows them, made only where a test supports them at `alpha`.

No cause is invented: a change is said to come with a team, a channel or a root cause only when that
team's, channel's or cause's own change is significant in the same direction; otherwise the narrative
says that no single one of them moved significantly.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

import polars as pl

from cxdash import stats
from cxdash.config import TierThresholds
from cxdash.i18n import Translator
from cxdash.kpi_report import kpi_report, shown_change, shown_value
from cxdash.load import Frames
from cxdash.metrics.compare import PeriodResult, compare
from cxdash.metrics.grouped import GroupKey, ShareCells, grouped_kpis, share_cells
from cxdash.metrics.kpis import HEADLINE_KPIS, KPI_BY_NAME, KpiOptions, KpiSpec, KpiValue, Window
from cxdash.metrics.scope import Scope, scoped
from cxdash.metrics.tiers import TIERS, TierRules, customer_rfm, tier_expr
from cxdash.periods import DataSpan, Period
from cxdash.views.complaints import emerging_view
from cxdash.views.goals import goal_rows
from cxdash.views.satisfaction import driver_view

# The review's areas: its sections, the deck's slides, and the page that explains each KPI.
AREAS: Final[dict[str, tuple[str, ...]]] = {
    "satisfaction": ("csat_pct", "csat_mean", "nps", "ces_mean", "csat_response_rate_pct"),
    "complaints": (
        "tickets", "complaints", "complaint_rate_per_1k_orders", "escalation_rate_pct", "backlog_open",
    ),
    "loyalty": (
        "revenue", "active_customers", "churn_rate_pct", "repeat_purchase_rate_pct", "conversion_rate_pct",
    ),
    "team": (
        "frt_median_min", "frt_p90_min", "resolution_median_h", "resolution_p90_h",
        "sla_first_response_pct", "sla_resolution_pct", "reopen_rate_pct", "one_touch_pct",
    ),
}  # fmt: skip
AREA_OF: Final = {kpi: area for area, kpis in AREAS.items() for kpi in kpis}
# Where the evidence for a KPI of each area is looked for.
TEAM_KPIS: Final = (
    "csat_pct",
    "sla_first_response_pct",
    "sla_resolution_pct",
    "reopen_rate_pct",
    "one_touch_pct",
)
CHANNEL_KPIS: Final = ("csat_pct", "sla_first_response_pct", "sla_resolution_pct", "one_touch_pct")
COMPLAINT_KPIS: Final = ("complaints", "complaint_rate_per_1k_orders")
# The value-tier evidence: CSAT and complaints of each tier's customers (KPIs they back in the narrative).
TIER_KPIS: Final = ("csat_pct", "complaints")
TIER_BACKS: Final = {
    "csat_pct": "csat_pct",
    "csat_mean": "csat_pct",
    **dict.fromkeys(COMPLAINT_KPIS, "complaints"),
}
NO_ROWS: Final = KpiValue(value=None, n=0)
MOVERS_SHOWN: Final = 5
BENEATH_SHOWN: Final = 3


def movers(report: dict, *, alpha: float = stats.ALPHA) -> list[dict]:
    """Every significant change (p < alpha) against the previous quarter or last year, most significant
    first: kpi, against, value, other, delta, p_value and `better` (None for volumes)."""
    rows = []
    for name, kpi in report["kpis"].items():
        for against, other, delta, p_value in (
            ("previous", kpi["previous"], kpi["change"], kpi["p_value"]),
            ("last_year", kpi["last_year"], kpi["change_vs_last_year"], kpi["p_value_vs_last_year"]),
        ):
            if p_value is None or delta is None or delta == 0 or p_value >= alpha:
                continue
            higher = KPI_BY_NAME[name].higher_is_better
            rows.append(
                {
                    "kpi": name, "against": against, "value": kpi["value"], "other": other,
                    "delta": delta, "p_value": p_value, "unit": kpi["unit"],
                    "better": None if higher is None else (delta > 0) == higher,
                }
            )  # fmt: skip
    return sorted(rows, key=lambda r: (r["p_value"], r["kpi"], r["against"]))


def _quarters(period: Period, *, span: DataSpan, tz: str) -> list[Window]:
    """The quarter's window and the previous quarter's."""
    return [Window.of(p, tz=tz, data_as_of=span.data_as_of) for p in (period, period.previous())]


def evidence_cells(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, scope: Scope
) -> ShareCells:
    """The share KPIs' counts per team × channel of the quarter and the previous one, in the scope's
    segments and regions: the teams' and the channels' evidence are sums of them."""
    base = scoped(frames, replace(scope, teams=(), channels=()))
    return share_cells(base, _quarters(period, span=span, tz=tz), options)


def _group_changes(
    counted: ShareCells, period: Period, *, span: DataSpan, tz: str, key: GroupKey, groups: Sequence[str],
    names: Sequence[str], within: Sequence[str], alpha: float,
) -> list[dict]:  # fmt: skip
    """Significant changes against the previous quarter of `names` within each of `groups` (teams or
    channels), tested as compare_periods tests a scope of that one group (the other key `within`).
    In group order, then KPI order, then by p-value."""
    now_window, before_window = _quarters(period, span=span, tz=tz)
    current, previous = grouped_kpis(counted, key=key, names=names, within=within)
    specs = [spec for spec in HEADLINE_KPIS if spec.name in names]
    before = period.previous()
    has_previous = before.end(tz) > span.first  # as compare_periods: no previous quarter before the data
    found = []
    for group in groups:
        now = PeriodResult(period, now_window, _values(current.get(group, {}), specs))
        then = (
            PeriodResult(before, before_window, _values(previous.get(group, {}), specs))
            if has_previous
            else None
        )
        for spec in specs:
            change = compare(spec, now, then)
            if change.p_value is None or change.delta is None or change.p_value >= alpha or change.delta == 0:
                continue
            value = now.kpis[spec.name]
            found.append(
                {
                    "kpi": spec.name, "where": group, "value": value.value, "other": change.other,
                    "delta": change.delta, "p_value": change.p_value, "n": value.n,
                }
            )  # fmt: skip
    return sorted(found, key=lambda r: r["p_value"])


def _values(kpis: dict[str, KpiValue], specs: Sequence[KpiSpec]) -> dict[str, KpiValue]:
    """Each KPI's value, null with N = 0 where the group had no rows for it."""
    return {spec.name: kpis.get(spec.name, NO_ROWS) for spec in specs}


def team_changes(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, scope: Scope,
    alpha: float, counted: ShareCells | None = None,
) -> list[dict]:  # fmt: skip
    """Per team in scope: its significant changes of TEAM_KPIS against the previous quarter (`counted`:
    evidence_cells of the same arguments, when already counted)."""
    names = dict(frames.teams.select("team_id", "name").collect().iter_rows())
    teams = scope.teams or tuple(names)
    found = _group_changes(
        counted or evidence_cells(frames, period, span=span, tz=tz, options=options, scope=scope),
        period, span=span, tz=tz, key="team_id", groups=sorted(teams), names=TEAM_KPIS,
        within=scope.channels, alpha=alpha,
    )  # fmt: skip
    return [{**change, "name": names.get(change["where"])} for change in found]


def channel_changes(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, scope: Scope,
    alpha: float, counted: ShareCells | None = None,
) -> list[dict]:  # fmt: skip
    """Per channel in scope: its significant changes of CHANNEL_KPIS against the previous quarter
    (`counted`: evidence_cells of the same arguments, when already counted)."""
    channels = scope.channels or tuple(
        sorted(
            frames.tickets.select(pl.col("channel").unique().cast(pl.String))
            .collect()["channel"]
            .drop_nulls()
        )
    )
    return _group_changes(
        counted or evidence_cells(frames, period, span=span, tz=tz, options=options, scope=scope),
        period, span=span, tz=tz, key="channel", groups=channels, names=CHANNEL_KPIS,
        within=scope.teams, alpha=alpha,
    )  # fmt: skip


def cause_changes(frames: Frames, period: Period, *, span: DataSpan, tz: str, alpha: float) -> list[dict]:
    """Root causes whose complaints per day of data grew significantly against the previous quarter."""
    table = emerging_view(frames, period, span=span, tz=tz).table
    grown = table.filter(pl.col("p_value") < alpha, pl.col("change_per_day") > 0)
    return [
        {"cause": row["root_cause"], "count": row["count_now"], "before": row["count_before"],
         "growth_pct": row["growth_pct"], "p_value": row["p_value"]}
        for row in grown.iter_rows(named=True)
    ]  # fmt: skip


def _tier_counts(frames: Frames, window: Window, tiers: pl.LazyFrame, threshold: int) -> pl.LazyFrame:
    """Per tier: csat responses, satisfied among them, and complaints created in the window."""
    csat = (
        frames.surveys.filter(
            (pl.col("kind") == "csat")
            & pl.col("score").is_not_null()
            & (pl.col("responded_at") >= window.start)
            & (pl.col("responded_at") < window.end)
        )
        .join(tiers, on="customer_id")
        .group_by("tier")
        .agg(pl.len().alias("responses"), (pl.col("score") >= threshold).sum().alias("satisfied"))
    )
    complaints = (
        frames.tickets.filter(
            pl.col("is_complaint")
            & (pl.col("created_at") >= window.start)
            & (pl.col("created_at") < window.end)
        )
        .join(tiers, on="customer_id")
        .group_by("tier")
        .agg(pl.len().alias("complaints"))
    )
    every = pl.LazyFrame({"tier": list(TIERS)})
    return (
        every.join(csat, on="tier", how="left")
        .join(complaints, on="tier", how="left")
        .with_columns(pl.col("responses", "satisfied", "complaints").fill_null(0).cast(pl.Int64))
    )


def review_tiers(frames: Frames, window: Window, rules: TierRules) -> pl.LazyFrame:
    """Each customer's value tier at the window's as_of (customer_id, tier): customer_value's tier
    without its CLV, which needs a year-ago RFM and the tiers' churn that the review does not use."""
    rfm = customer_rfm(
        frames.orders, frames.customers, as_of=window.as_of, churn_window_days=rules.churn_window_days
    )
    return rfm.select("customer_id", tier_expr(rules).cast(pl.String))


def tier_changes(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, rules: TierRules,
    alpha: float,
) -> list[dict]:  # fmt: skip
    """Per value tier: significant changes against the previous quarter of its customers' CSAT (two-
    proportion test) and complaints (exact Poisson test per day of data). The tiers are those at the
    quarter's end for both quarters, so the same customers are compared (the change is theirs, not a
    tier's changing membership)."""
    now = Window.of(period, tz=tz, data_as_of=span.data_as_of)
    before = Window.of(period.previous(), tz=tz, data_as_of=span.data_as_of)
    tiers = review_tiers(frames, now, rules)
    current, previous = (_tier_counts(frames, w, tiers, options.csat_threshold) for w in (now, before))
    both = current.join(previous, on="tier", suffix="_before").sort("tier").collect()
    days_now, days_before = ((w.as_of - w.start).total_seconds() / 86_400 for w in (now, before))
    found = []
    for row in both.iter_rows(named=True):
        old = {k: row[f"{k}_before"] for k in ("satisfied", "responses", "complaints")}
        tests = {
            "csat_pct": (
                _share(row["satisfied"], row["responses"]), _share(old["satisfied"], old["responses"]),
                stats.two_proportion_p(
                    row["satisfied"], row["responses"], old["satisfied"], old["responses"]
                ),
                row["responses"],
            ),
            "complaints": (
                row["complaints"], old["complaints"],
                stats.poisson_rate_p(row["complaints"], days_now, old["complaints"], days_before),
                row["complaints"],
            ),
        }  # fmt: skip
        for kpi, (value, other, p_value, n) in tests.items():
            if value is None or other is None or p_value is None or p_value >= alpha:
                continue
            # Counts move by their rate per day of data (a running quarter has fewer days).
            delta = value - other * (days_now / days_before if kpi == "complaints" else 1)
            if delta == 0:
                continue
            found.append(
                {"kpi": kpi, "tier": row["tier"], "value": value, "other": other, "delta": delta,
                 "p_value": p_value, "n": n}
            )  # fmt: skip
    return sorted(found, key=lambda r: (r["p_value"], r["tier"], r["kpi"]))


def _share(hits: int, n: int) -> float | None:
    return 100 * hits / n if n else None


def top_drivers(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, alpha: float
) -> list[dict]:
    """The key drivers of CSAT this quarter, most important first, when the fit itself is significant."""
    view = driver_view(frames, period, span=span, tz=tz, options=options)
    fit = view.analysis
    if fit.status != "ok" or fit.f_p_value is None or fit.f_p_value >= alpha:
        return []
    kept = view.table.filter(pl.col("kept"), pl.col("importance").is_not_null(), pl.col("p_value") < alpha)
    return [
        {"driver": row["driver"], "importance": row["importance"], "performance_pct": row["performance_pct"],
         "r2": fit.r2, "n": fit.n}
        for row in kept.sort("importance", descending=True).head(3).iter_rows(named=True)
    ]  # fmt: skip


def narrative(report: dict, evidence: dict, *, alpha: float = stats.ALPHA) -> list[dict]:
    """The statements of the review, in order: each significant change against the previous quarter
    with what moved with it, then those against last year; or that nothing changed significantly."""
    said = []
    for mover in movers(report, alpha=alpha):
        kpi = mover["kpi"]
        if mover["against"] == "last_year":
            said.append({**mover, "key": "vs_last_year", "page": _page(kpi), "evidence": []})
            continue
        rising = mover["delta"] > 0
        key = (
            ("rose" if rising else "fell")
            if mover["better"] is None
            else ("improved" if mover["better"] else "worsened")
        )

        backing = [
            {"key": "team_moved", **change, "page": "team"}
            for change in _along(evidence.get("teams", []), kpi, rising)
        ] + [
            {"key": "channel_moved", **change, "page": _page(kpi)}
            for change in _along(evidence.get("channels", []), kpi, rising)
        ]
        if kpi in TIER_BACKS:
            backing += [
                {"key": "tier_moved", **change, "page": _tier_page(change)}
                for change in _along(evidence.get("tiers", []), TIER_BACKS[kpi], rising)
            ]
        if kpi in COMPLAINT_KPIS and rising:
            backing += [
                {"key": "cause_grew", **cause, "page": "complaints"} for cause in evidence.get("causes", [])
            ]
        if kpi in ("csat_pct", "csat_mean") and evidence.get("drivers"):
            backing.append({"key": "top_driver", **evidence["drivers"][0], "page": "satisfaction"})
        if not backing:
            backing.append({"key": "no_single_source", "page": _page(kpi)})
        said.append({**mover, "key": key, "page": _page(kpi), "evidence": backing})
    said.sort(key=lambda s: (s["key"] == "vs_last_year", s["p_value"]))
    return (said or [{"key": "steady", "page": "overview", "evidence": []}]) + _beneath(said, evidence)


def _beneath(said: list[dict], evidence: dict) -> list[dict]:
    """What moved significantly beneath the totals and was not said with a company change: causes that
    grew, and tiers', channels' and teams' own changes (at most BENEATH_SHOWN each, first the most
    significant)."""

    def mark(key: str, item: dict) -> tuple:
        return key, item.get("where"), item.get("cause"), item.get("tier"), item.get("kpi")

    cited = {mark(e["key"], e) for s in said for e in s["evidence"]}
    found = []
    for key, page, items in (
        ("cause_grew", "complaints", evidence.get("causes", [])),
        ("tier_moved", None, evidence.get("tiers", [])),
        ("channel_moved", None, evidence.get("channels", [])),
        ("team_moved", "team", evidence.get("teams", [])),
    ):
        fresh = [i for i in items if mark(key, i) not in cited]
        for item in fresh[:BENEATH_SHOWN]:
            better = _better(item)
            shown_on = page or (_tier_page(item) if key == "tier_moved" else _page(item["kpi"]))
            found.append({**item, "key": key, "page": shown_on, "better": better, "evidence": []})
    return found


def _better(item: dict) -> bool | None:
    """Whether a team's or channel's change is for the better (None for a cause: growth is worse)."""
    if "kpi" not in item:
        return False
    higher = KPI_BY_NAME[item["kpi"]].higher_is_better
    return None if higher is None else (item["delta"] > 0) == higher


def _along(found: list[dict], kpi: str, rising: bool) -> list[dict]:
    """The changes of the same KPI in the same direction."""
    return [c for c in found if c["kpi"] == kpi and (c["delta"] > 0) == rising]


def _tier_page(change: dict) -> str:
    """Complaints by tier are on the complaints page (which tiers each cause hits), CSAT by tier on
    loyalty."""
    return "complaints" if change["kpi"] == "complaints" else "loyalty"


def _page(kpi: str) -> str:
    return AREA_OF.get(kpi, "overview")


def review(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, scope: Scope, options: KpiOptions,
    alpha: float = stats.ALPHA, thresholds: TierThresholds | None = None,
) -> dict:  # fmt: skip
    """The whole review of a quarter and scope: the report, movers, evidence and narrative (JSON-ready).
    Value tiers are cut at `thresholds` (the settings' defaults, not a session's what-if values)."""
    report = kpi_report(frames, period, span=span, tz=tz, scope=scope, options=options)
    in_scope = scoped(frames, scope)
    rules = TierRules.from_settings(thresholds or TierThresholds(), options.churn_window_days)
    # the teams' and channels' evidence: one count per team × channel, summed up to each
    counted = evidence_cells(frames, period, span=span, tz=tz, options=options, scope=scope)
    grouped = {"span": span, "tz": tz, "options": options, "scope": scope, "alpha": alpha, "counted": counted}
    evidence = {
        "teams": team_changes(frames, period, **grouped),
        "channels": channel_changes(frames, period, **grouped),
        "causes": cause_changes(in_scope, period, span=span, tz=tz, alpha=alpha),
        "tiers": tier_changes(in_scope, period, span=span, tz=tz, options=options, rules=rules, alpha=alpha),
        "drivers": top_drivers(in_scope, period, span=span, tz=tz, options=options, alpha=alpha),
    }
    return {
        "report": report,
        "alpha": alpha,
        "movers": movers(report, alpha=alpha)[: MOVERS_SHOWN * 2],
        "evidence": evidence,
        "narrative": narrative(report, evidence, alpha=alpha),
        "areas": {area: [k for k in kpis if k in report["kpis"]] for area, kpis in AREAS.items()},
        # the goals of the quarter with their progress, for the deck's Goals slide (and frozen with it)
        "goals": goal_rows(frames, period, span=span, tz=tz, scope=scope, options=options).to_dicts(),
    }


# Wording -------------------------------------------------------------------------------------------


def _p(p_value: float) -> str:
    """The p-value with its relation, as in "p < 0.001" or "p = 0.031"."""
    return "< 0.001" if p_value < 0.001 else f"= {p_value:.3f}"


def _driver_label(t: Translator, driver: str) -> str:
    for key in (f"satisfaction.item_{driver}", f"satisfaction.driver_{driver}"):
        if t.has(key):
            return t(key)
    return driver


def statement_text(t: Translator, said: dict) -> str:
    """One statement of the narrative in the translator's language (plain text, no markup)."""
    key = said["key"]
    if key == "steady":
        return t("review.say.steady")
    if key == "no_single_source":
        return t("review.say.no_single_source")
    if key == "cause_grew":
        growth = said.get("growth_pct")
        return t(
            "review.say.cause_grew" if growth is not None else "review.say.cause_new",
            cause=said["cause"], count=t.number(said["count"]), before=t.number(said["before"]),
            growth=t.number(growth or 0, 0), p=_p(said["p_value"]),
        )  # fmt: skip
    if key == "top_driver":
        return t(
            "review.say.top_driver", driver=_driver_label(t, said["driver"]),
            share=t.number(said["importance"], 0), r2=t.number(said["r2"], 2),
            performance=t.number(said["performance_pct"], 0),
        )  # fmt: skip
    unit = KPI_BY_NAME[said["kpi"]].unit
    numbers = {
        "kpi": t(f"kpi.{said['kpi']}.label"),
        "value": shown_value(t, said["value"], unit),
        "other": shown_value(t, said["other"], unit),
        "change": shown_change(t, said["delta"], unit),
        "p": _p(said["p_value"]),
    }
    if key == "tier_moved":
        tier = t(f"tier.{said['tier']}")
        if said["kpi"] == "complaints":
            return t(
                "review.say.tier_complaints", tier=tier, value=t.number(said["value"]),
                other=t.number(said["other"]), p=_p(said["p_value"]),
            )  # fmt: skip
        return t("review.say.tier_moved", tier=tier, **numbers)
    if key == "team_moved":
        team = f"{said['name']} ({said['where']})" if said.get("name") else said["where"]
        return t("review.say.team_moved", team=team, **numbers)
    if key == "channel_moved":
        channel = t(f"channel.{said['where']}") if t.has(f"channel.{said['where']}") else said["where"]
        return t("review.say.channel_moved", channel=channel, **numbers)
    return t(f"review.say.{key}", **numbers)


def narrative_lines(t: Translator, review_data: dict) -> list[tuple[str, list[str]]]:
    """The narrative as (statement, its evidence) lines, in the translator's language."""
    return [
        (statement_text(t, said), [statement_text(t, e) for e in said.get("evidence", [])])
        for said in review_data["narrative"]
    ]
