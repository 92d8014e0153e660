"""Data quality for the Data page and the Overview's warning: per check, the share of a table's rows in
the period that are usable, which KPIs rest on them, and the offending rows for download.

The checks are data (CHECKS). Each checks the rows of one table in the period: tickets by `created_at`,
surveys by `responded_at` or `sent_at` (a survey counts in the period of either, since both its
response KPIs and its response rate can rest on it), orders by `ordered_at`, ticket events by
`occurred_at`, customers all. Keys are looked up in the whole other table, not just its rows in the
period. A check whose condition is null for a row (a missing timestamp it compares) does not fail it.
`kpis` are the headline KPIs (METRICS.md) whose company figure a failing row makes wrong or leaves out;
`breakdowns` are the cuts (per agent, per region, …) it affects although no company figure changes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import polars as pl

from cxdash.domain import SCORE_RANGES
from cxdash.load import TABLE_COLUMNS, Frames
from cxdash.metrics.kpis import Window, in_window

RATING_COLUMNS: Final = ("rating_speed", "rating_resolution", "rating_attitude", "rating_knowledge")
ABSURD_FIRST_RESPONSE: Final = timedelta(days=90)
DEFAULT_WARN_BELOW_PCT: Final = 95.0

# Where a table's rows fall in the period; surveys are special-cased, customers have no period.
PERIOD_COLUMN: Final = {"tickets": "created_at", "orders": "ordered_at", "ticket_events": "occurred_at"}

_FAILS = "__quality_fails"
_KEY = "__quality_key"
_MATCHED = "__quality_matched"


@dataclass(frozen=True, slots=True)
class Flag:
    """A row fails when `fails` is true (null: passes)."""

    fails: pl.Expr


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A row meeting `among` fails when no row of table `other` (meeting `other_rows`) has its `column`
    value in `other_column`: an orphan key, or a ticket nobody surveyed. A null key never matches."""

    column: str
    other: str
    other_column: str
    among: pl.Expr
    other_rows: pl.Expr


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Every row whose normalised `key` (null when blank) is shared with another row fails."""

    key: pl.Expr


Rule = Flag | Unmatched | Duplicate


@dataclass(frozen=True, slots=True)
class Check:
    """One data-quality check of one table; `problem` is the text shown next to an offending row."""

    id: str
    table: str
    problem: str
    rule: Rule
    kpis: tuple[str, ...] = ()
    breakdowns: tuple[str, ...] = ()


def _blank(column: str) -> pl.Expr:
    """`column` is null or only whitespace."""
    return pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == "")


def _orphan(column: str, other: str, *, optional: bool = False) -> Unmatched:
    """`column` names no row of `other` (its key column of the same name); `optional`: null is fine."""
    among = pl.col(column).is_not_null() if optional else pl.lit(True)
    return Unmatched(column, other, column, among=among, other_rows=pl.lit(True))


def _null_if_empty(text: pl.Expr) -> pl.Expr:
    return pl.when(text != "").then(text)


def email_key_expr() -> pl.Expr:
    """E-mail trimmed and lower-cased; null when blank."""
    return _null_if_empty(pl.col("email").str.strip_chars().str.to_lowercase())


def phone_key_expr() -> pl.Expr:
    """The digits of the phone number; null when it has none."""
    return _null_if_empty(pl.col("phone").str.replace_all(r"\D", ""))


def _score_out_of_range() -> pl.Expr:
    return pl.any_horizontal(
        (pl.col("kind") == kind) & ~pl.col("score").is_between(lo, hi)
        for kind, (lo, hi) in SCORE_RANGES.items()
    )


_FRT = ("frt_median_min", "frt_p90_min", "sla_first_response_pct")
_RESOLUTION = ("resolution_median_h", "resolution_p90_h", "sla_resolution_pct")
_RESPONSES = ("csat_pct", "csat_mean", "nps", "ces_mean")
_BUYERS = ("active_customers", "churn_rate_pct", "repeat_purchase_rate_pct")
_TICKET_CUTS = ("team", "channel", "agent", "drivers")
_CUSTOMER_CUTS = ("segment", "region")

CHECKS: Final[tuple[Check, ...]] = (
    Check(
        "tickets.no_category",
        "tickets",
        "ticket without a category",
        Flag(_blank("category")),
        breakdowns=("category", "agent_fairness"),
    ),
    Check(
        "tickets.no_agent_resolved",
        "tickets",
        "resolved by an agent but no agent_id (bot-only resolutions are fine)",
        Flag(
            pl.col("resolved_at").is_not_null()
            & pl.col("agent_id").is_null()
            & ~(pl.col("bot_handled") & (pl.col("agent_replies") == 0))
        ),
        breakdowns=("agent",),
    ),
    Check(
        "tickets.negative_frt",
        "tickets",
        "first response before the ticket was created",
        Flag(pl.col("first_response_at") < pl.col("created_at")),
        kpis=_FRT,
    ),
    Check(
        "tickets.absurd_frt",
        "tickets",
        "first response more than 90 days after the ticket was created",
        Flag(pl.col("first_response_at") - pl.col("created_at") > ABSURD_FIRST_RESPONSE),
        kpis=_FRT,
    ),
    Check(
        "tickets.replied_without_first_response",
        "tickets",
        "agent replies but no first_response_at",
        Flag(pl.col("first_response_at").is_null() & (pl.col("agent_replies") > 0)),
        kpis=_FRT,
    ),
    Check(
        "tickets.resolved_before_created",
        "tickets",
        "resolved before the ticket was created",
        Flag(pl.col("resolved_at") < pl.col("created_at")),
        kpis=_RESOLUTION,
    ),
    Check(
        "tickets.status_without_time",
        "tickets",
        "status resolved without resolved_at, or closed without closed_at",
        Flag(
            ((pl.col("status") == "resolved") & pl.col("resolved_at").is_null())
            | ((pl.col("status") == "closed") & pl.col("closed_at").is_null())
        ),
        kpis=("backlog_open", *_RESOLUTION, "reopen_rate_pct", "one_touch_pct"),
    ),
    Check(
        "tickets.no_sla_policy",
        "tickets",
        "no SLA policy for the ticket's priority",
        Unmatched("priority", "sla_policies", "priority", among=pl.lit(True), other_rows=pl.lit(True)),
        kpis=("sla_first_response_pct", "sla_resolution_pct"),
    ),
    Check(
        "tickets.orphan_customer",
        "tickets",
        "customer_id not in customers",
        _orphan("customer_id", "customers"),
        breakdowns=_CUSTOMER_CUTS,
    ),
    Check(
        "tickets.orphan_team",
        "tickets",
        "team_id not in teams",
        _orphan("team_id", "teams"),
        breakdowns=("team",),
    ),
    Check(
        "tickets.orphan_agent",
        "tickets",
        "agent_id not in agents",
        _orphan("agent_id", "agents", optional=True),
        breakdowns=("agent",),
    ),
    Check(
        "tickets.complaint_no_root_cause",
        "tickets",
        "resolved complaint without a root cause",
        Flag(pl.col("is_complaint") & pl.col("resolved_at").is_not_null() & _blank("root_cause")),
        breakdowns=("root_cause",),
    ),
    Check(
        "tickets.complaint_no_severity",
        "tickets",
        "complaint without a severity 1–4",
        Flag(pl.col("is_complaint") & ~pl.col("severity").is_between(1, 4).fill_null(False)),
        breakdowns=("severity",),
    ),
    Check(
        "tickets.resolved_without_csat_survey",
        "tickets",
        "resolved ticket without a csat survey",
        Unmatched(
            "ticket_id",
            "surveys",
            "ticket_id",
            among=pl.col("resolved_at").is_not_null(),
            other_rows=pl.col("kind") == "csat",
        ),
        kpis=("csat_pct", "csat_mean"),
    ),
    Check(
        "surveys.responded_before_sent",
        "surveys",
        "response before the survey was sent",
        Flag(pl.col("responded_at") < pl.col("sent_at")),
        kpis=(*_RESPONSES, "csat_response_rate_pct"),
    ),
    Check(
        "surveys.score_out_of_range",
        "surveys",
        "score outside its kind's scale (csat 1–5, nps 0–10, ces 1–7)",
        Flag(_score_out_of_range()),
        kpis=_RESPONSES,
    ),
    Check(
        "surveys.rating_out_of_range",
        "surveys",
        "a driver rating outside 1–5",
        Flag(pl.any_horizontal(~pl.col(c).is_between(1, 5) for c in RATING_COLUMNS)),
        breakdowns=("drivers",),
    ),
    Check(
        "surveys.csat_without_ticket",
        "surveys",
        "csat or ces survey without a ticket",
        Flag(pl.col("kind").is_in(["csat", "ces"]) & pl.col("ticket_id").is_null()),
        breakdowns=_TICKET_CUTS,
    ),
    Check(
        "surveys.orphan_ticket",
        "surveys",
        "ticket_id not in tickets",
        _orphan("ticket_id", "tickets", optional=True),
        breakdowns=_TICKET_CUTS,
    ),
    Check(
        "surveys.orphan_customer",
        "surveys",
        "customer_id not in customers",
        _orphan("customer_id", "customers"),
        breakdowns=_CUSTOMER_CUTS,
    ),
    Check(
        "orders.negative_amount",
        "orders",
        "negative amount",
        Flag(pl.col("amount") < 0),
        kpis=("revenue",),
        breakdowns=("tiers",),
    ),
    Check(
        "orders.unknown_status",
        "orders",
        "order without a known status",
        Flag(pl.col("status").is_null()),
        kpis=("revenue", "complaint_rate_per_1k_orders", "conversion_rate_pct", *_BUYERS),
        breakdowns=("tiers",),
    ),
    Check(
        "orders.orphan_customer",
        "orders",
        "customer_id not in customers",
        _orphan("customer_id", "customers"),
        kpis=_BUYERS,
        breakdowns=(*_CUSTOMER_CUTS, "tiers"),
    ),
    Check(
        "customers.duplicate_email",
        "customers",
        "e-mail shared with another customer",
        Duplicate(email_key_expr()),
        kpis=(*_BUYERS, "conversion_rate_pct"),
        breakdowns=("tiers",),
    ),
    Check(
        "customers.duplicate_phone",
        "customers",
        "phone number shared with another customer",
        Duplicate(phone_key_expr()),
        kpis=(*_BUYERS, "conversion_rate_pct"),
        breakdowns=("tiers",),
    ),
    Check(
        "customers.no_region",
        "customers",
        "customer without a region",
        Flag(_blank("region")),
        breakdowns=("region",),
    ),
    Check(
        "customers.no_signup",
        "customers",
        "customer without signup_at",
        Flag(pl.col("signup_at").is_null()),
        kpis=("conversion_rate_pct",),
    ),
    Check(
        "ticket_events.orphan_ticket",
        "ticket_events",
        "ticket_id not in tickets",
        _orphan("ticket_id", "tickets"),
        breakdowns=("workflow",),
    ),
)
CHECK_BY_ID: Final[Mapping[str, Check]] = {check.id: check for check in CHECKS}

REPORT_SCHEMA: Final = {
    "check": pl.String,
    "table": pl.String,
    "problem": pl.String,
    "kpis": pl.List(pl.String),
    "breakdowns": pl.List(pl.String),
    "rows_checked": pl.Int64,
    "rows_failing": pl.Int64,
    "usable_pct": pl.Float64,
}


def rows_in_period(frames: Frames, window: Window, table: str) -> pl.LazyFrame:
    """The rows of `table` a check looks at: in the window by its period column (customers: all)."""
    rows = getattr(frames, table)
    if table == "surveys":
        return rows.filter(in_window("responded_at", window) | in_window("sent_at", window))
    if table in PERIOD_COLUMN:
        return rows.filter(in_window(PERIOD_COLUMN[table], window))
    return rows


def _with_fails(frames: Frames, rows: pl.LazyFrame, rule: Rule) -> pl.LazyFrame:
    """`rows` with a Boolean _FAILS column (never null)."""
    if isinstance(rule, Flag):
        return rows.with_columns(rule.fails.fill_null(False).alias(_FAILS))
    if isinstance(rule, Duplicate):
        shared = rule.key.is_not_null() & (pl.len().over(rule.key) > 1)
        return rows.with_columns(shared.fill_null(False).alias(_FAILS))
    keys = (
        getattr(frames, rule.other)
        .filter(rule.other_rows)
        .select(pl.col(rule.other_column).cast(pl.String).alias(_KEY))
        .unique()
        .with_columns(pl.lit(True).alias(_MATCHED))
    )
    return (
        rows.with_columns(pl.col(rule.column).cast(pl.String).alias(_KEY))
        .join(keys, on=_KEY, how="left", maintain_order="left")
        .with_columns((rule.among & pl.col(_MATCHED).is_null()).fill_null(False).alias(_FAILS))
        .drop(_KEY, _MATCHED)
    )


def flagged_rows(frames: Frames, window: Window, check: Check) -> pl.LazyFrame:
    """The rows `check` looks at, with a Boolean column `__quality_fails`; no rows for an empty table."""
    return _with_fails(frames, rows_in_period(frames, window, check.table), check.rule)


def quality_report(frames: Frames, window: Window) -> pl.DataFrame:
    """One row per check (CHECKS order): rows checked and failing, usable_pct (null when no rows)."""
    counts = pl.collect_all(
        [
            flagged_rows(frames, window, check).select(
                pl.len().cast(pl.Int64).alias("rows_checked"),
                pl.col(_FAILS).sum().cast(pl.Int64).alias("rows_failing"),
            )
            for check in CHECKS
        ]
    )
    meta = pl.DataFrame(
        {
            "check": [c.id for c in CHECKS],
            "table": [c.table for c in CHECKS],
            "problem": [c.problem for c in CHECKS],
            "kpis": [list(c.kpis) for c in CHECKS],
            "breakdowns": [list(c.breakdowns) for c in CHECKS],
        },
        schema={name: REPORT_SCHEMA[name] for name in ("check", "table", "problem", "kpis", "breakdowns")},
    )
    checked, failing = pl.col("rows_checked"), pl.col("rows_failing")
    return pl.concat([meta, pl.concat(counts)], how="horizontal").with_columns(
        pl.when(checked > 0).then(100 * (checked - failing) / checked).cast(pl.Float64).alias("usable_pct")
    )


def kpi_usability(report: pl.DataFrame, *, warn_below_pct: float = DEFAULT_WARN_BELOW_PCT) -> pl.DataFrame:
    """Per KPI named by a check (sorted by name): the worst usable_pct (null when none had rows), the
    checks below `warn_below_pct` (worst first) and `warn`; no rows for an empty report."""
    below = pl.col("usable_pct") < warn_below_pct
    return (
        report.select("check", "kpis", "usable_pct")
        .explode("kpis")
        .drop_nulls("kpis")
        .sort("usable_pct", nulls_last=True, maintain_order=True)
        .group_by("kpis", maintain_order=True)
        .agg(
            pl.col("usable_pct").min().alias("worst_usable_pct"),
            pl.col("check").filter(below.fill_null(False)).alias("checks_below"),
        )
        .rename({"kpis": "kpi"})
        .with_columns((pl.col("checks_below").list.len() > 0).alias("warn"))
        .sort("kpi")
    )


def offending_rows(frames: Frames, window: Window, check_id: str) -> pl.DataFrame:
    """The rows failing check `check_id` (the table's columns and `problem`; duplicates grouped by
    their key); no rows when none fail; KeyError for an unknown check."""
    if check_id not in CHECK_BY_ID:
        raise KeyError(f"unknown data-quality check {check_id!r}; known: {', '.join(CHECK_BY_ID)}")
    check = CHECK_BY_ID[check_id]
    rows = flagged_rows(frames, window, check).filter(pl.col(_FAILS))
    if isinstance(check.rule, Duplicate):
        rows = rows.sort(check.rule.key, maintain_order=True)
    return (
        rows.select(*TABLE_COLUMNS[check.table])
        .with_columns(pl.lit(check.problem, dtype=pl.String).alias("problem"))
        .collect()
    )
