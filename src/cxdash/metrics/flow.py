"""The service flow (客户服务运作图) of the tickets created in a period: each ticket's path through six
stages, as a Sankey diagram (nodes and links) and with live KPIs per node.

LazyFrames in, LazyFrame out; the caller collects. The caller passes already-scoped Frames, so a team
or channel filter narrows the flow like every other view. Everything is as seen at `as_of`; pass
`window.data_as_of` to follow the tickets as far as the data goes.

Stages, in order (STAGES), and the one node each ticket lands in:

- `channel`: the ticket's channel.
- `ticket_type`: `inquiry` when not a complaint, else `complaint:<category>` (`complaint:unknown`
  without a category).
- `handling`: `bot` when the bot handled it and no agent replied; else `escalated` when escalated;
  else `first_line`. The bot path comes first, so an escalated ticket the bot closed on its own is
  `bot`: escalated tickets here are at most the `escalation_rate_pct` numerator.
- `outcome` at as_of: `open` (neither resolved nor closed by as_of, as `backlog_open`);
  `closed_unresolved` (closed by as_of without a resolution by then); among those resolved by as_of,
  `reopened` (reopen_count > 0), then `first_touch` (agent_replies ≤ 1, Zendesk one-touch), else
  `resolved_later`. Reopen and reply counts are the tickets' current counts (the data has no history
  of them).
- `feedback`: the ticket's csat surveys sent by as_of, by the latest one answered with a score by as_of:
  `satisfied` (score ≥ T), else `dissatisfied` (score ≤ 2), else `neutral`; `no_answer` when surveys
  were sent but none answered; `not_asked` when none was sent.
- `next_step`: `repurchased` (a completed order of the customer in (created_at, as_of]); else
  `churned` (the customer's last completed order by as_of is more than W days before as_of, or there
  is none); else `at_risk` (no order since the ticket, but still active within W).
"""

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Final

import polars as pl

from cxdash.load import WORKING_SECONDS, Frames
from cxdash.metrics.kpis import KpiOptions, Window, elapsed_minutes_expr, in_window, with_sla_outcome

STAGES: Final = ("channel", "ticket_type", "handling", "outcome", "feedback", "next_step")
HANDLING: Final = ("bot", "escalated", "first_line")
OUTCOMES: Final = ("open", "closed_unresolved", "reopened", "first_touch", "resolved_later")
FEEDBACK: Final = ("satisfied", "neutral", "dissatisfied", "no_answer", "not_asked")
NEXT_STEPS: Final = ("repurchased", "at_risk", "churned")
# The stages with a fixed vocabulary (channel and ticket_type take their values from the data).
STAGE_NODES: Final[dict[str, tuple[str, ...]]] = {
    "handling": HANDLING,
    "outcome": OUTCOMES,
    "feedback": FEEDBACK,
    "next_step": NEXT_STEPS,
}
INQUIRY: Final = "inquiry"
COMPLAINT_PREFIX: Final = "complaint:"
# Feedback nodes with an answer: the denominator of csat_pct.
ANSWERED: Final = ("satisfied", "neutral", "dissatisfied")
STAGE_DTYPE: Final = pl.Enum(STAGES)
PATH_COLUMNS: Final = ("ticket_id", "customer_id", "team_id", *STAGES)


def _by(as_of: datetime, column: str) -> pl.Expr:
    """`column` happened at or before as_of (false when null)."""
    return pl.col(column).is_not_null() & (pl.col(column) <= as_of)


def _ticket_type_expr() -> pl.Expr:
    category = pl.col("category").cast(pl.String).fill_null("unknown")
    return (
        pl.when(pl.col("is_complaint"))
        .then(pl.lit(COMPLAINT_PREFIX) + category)
        .otherwise(pl.lit(INQUIRY))
        .alias("ticket_type")
    )


def _handling_expr() -> pl.Expr:
    return (
        pl.when(pl.col("bot_handled") & (pl.col("agent_replies") == 0))
        .then(pl.lit("bot"))
        .when(pl.col("escalated"))
        .then(pl.lit("escalated"))
        .otherwise(pl.lit("first_line"))
        .alias("handling")
    )


def _outcome_expr(as_of: datetime) -> pl.Expr:
    resolved = _by(as_of, "resolved_at")
    return (
        pl.when(~resolved & ~_by(as_of, "closed_at"))
        .then(pl.lit("open"))
        .when(~resolved)
        .then(pl.lit("closed_unresolved"))
        .when(pl.col("reopen_count") > 0)
        .then(pl.lit("reopened"))
        .when(pl.col("agent_replies") <= 1)
        .then(pl.lit("first_touch"))
        .otherwise(pl.lit("resolved_later"))
        .alias("outcome")
    )


def _feedback_expr(threshold: int) -> pl.Expr:
    """From `_csat_by_ticket`'s `surveys_sent` and `latest_score` (null: nothing sent / answered)."""
    score = pl.col("latest_score")
    return (
        pl.when(pl.col("surveys_sent").fill_null(0) == 0)
        .then(pl.lit("not_asked"))
        .when(score.is_null())
        .then(pl.lit("no_answer"))
        .when(score >= threshold)  # before ≤ 2: with T ≤ 2 satisfied wins
        .then(pl.lit("satisfied"))
        .when(score <= 2)
        .then(pl.lit("dissatisfied"))
        .otherwise(pl.lit("neutral"))
        .alias("feedback")
    )


def _next_step_expr(as_of: datetime, churn_window_days: int) -> pl.Expr:
    """From `last_order_at`, the customer's last completed order at or before as_of."""
    last = pl.col("last_order_at")
    return (
        pl.when(last > pl.col("created_at"))  # the last order by as_of is after the ticket
        .then(pl.lit("repurchased"))
        .when(last.is_null() | (last < as_of - timedelta(days=churn_window_days)))
        .then(pl.lit("churned"))
        .otherwise(pl.lit("at_risk"))
        .alias("next_step")
    )


def _csat_by_ticket(surveys: pl.LazyFrame, as_of: datetime) -> pl.LazyFrame:
    """Per ticket: csat surveys sent by as_of and the score of the latest one answered by then (ties in
    responded_at: the higher score)."""
    answered = _by(as_of, "responded_at") & pl.col("score").is_not_null()
    latest = pl.col("responded_at").filter(answered).max()
    return (
        surveys.filter((pl.col("kind") == "csat") & pl.col("ticket_id").is_not_null() & _by(as_of, "sent_at"))
        .group_by("ticket_id")
        .agg(
            pl.len().alias("surveys_sent"),
            pl.col("score").filter(answered & (pl.col("responded_at") == latest)).max().alias("latest_score"),
        )
    )


def _last_orders(orders: pl.LazyFrame, as_of: datetime) -> pl.LazyFrame:
    """Per customer: the last completed order at or before as_of."""
    return (
        orders.filter((pl.col("status") == "completed") & (pl.col("ordered_at") <= as_of))
        .group_by("customer_id")
        .agg(pl.col("ordered_at").max().alias("last_order_at"))
    )


def ticket_paths(frames: Frames, window: Window, *, as_of: datetime, options: KpiOptions) -> pl.LazyFrame:
    """One row per ticket created in [start, end): ticket_id, customer_id, team_id and its node (text)
    in each of STAGES. No tickets → no rows."""
    tickets = frames.tickets.filter(in_window("created_at", window))
    # Only the surveys of these tickets and the orders of their customers: a semi join first is far
    # cheaper than grouping every survey and order of the data.
    surveys = frames.surveys.join(tickets.select("ticket_id"), on="ticket_id", how="semi")
    orders = frames.orders.join(tickets.select("customer_id").unique(), on="customer_id", how="semi")
    return (
        tickets.join(_csat_by_ticket(surveys, as_of), on="ticket_id", how="left")
        .join(_last_orders(orders, as_of), on="customer_id", how="left")
        .select(
            "ticket_id",
            "customer_id",
            "team_id",
            pl.col("channel").cast(pl.String).alias("channel"),
            _ticket_type_expr(),
            _handling_expr(),
            _outcome_expr(as_of),
            _feedback_expr(options.csat_threshold),
            _next_step_expr(as_of, options.churn_window_days),
        )
    )


def _node_order() -> pl.LazyFrame:
    """(stage, node, order): the position of each fixed node in its stage, for a stable Sankey layout."""
    rows = [(stage, node, i) for stage, nodes in STAGE_NODES.items() for i, node in enumerate(nodes)]
    return pl.LazyFrame(
        {"stage": [r[0] for r in rows], "node": [r[1] for r in rows], "order": [r[2] for r in rows]},
        schema={"stage": STAGE_DTYPE, "node": pl.String, "order": pl.Int64},
    )


def _long(paths: pl.LazyFrame) -> pl.LazyFrame:
    """(ticket_id, customer_id, stage, node): one row per ticket and stage."""
    return paths.unpivot(
        on=list(STAGES), index=["ticket_id", "customer_id"], variable_name="stage", value_name="node"
    ).with_columns(pl.col("stage").cast(STAGE_DTYPE))


def _in_layout_order(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """Sorted by stage, then fixed nodes in their order, data-driven ones by tickets (most first)."""
    return (
        nodes.join(_node_order(), on=["stage", "node"], how="left")
        .sort(["stage", "order", "tickets", "node"], descending=[False, False, True, False], nulls_last=True)
        .drop("order")
    )


def flow_nodes(paths: pl.LazyFrame) -> pl.LazyFrame:
    """(stage, node, tickets) for every node with tickets; the tickets of each stage add up to all
    paths. In stage order; no paths → no rows."""
    nodes = _long(paths).group_by("stage", "node").agg(pl.len().cast(pl.Int64).alias("tickets"))
    return _in_layout_order(nodes)


def flow_links(paths: pl.LazyFrame) -> pl.LazyFrame:
    """The Sankey links between consecutive stages: (source_stage, source, target_stage, target,
    tickets), only links with tickets; the links out of (into) a node add up to its tickets."""
    links = [
        paths.group_by(source, target)
        .agg(pl.len().cast(pl.Int64).alias("tickets"))
        .select(
            pl.lit(source, STAGE_DTYPE).alias("source_stage"),
            pl.col(source).alias("source"),
            pl.lit(target, STAGE_DTYPE).alias("target_stage"),
            pl.col(target).alias("target"),
            "tickets",
        )
        for source, target in pairwise(STAGES)
    ]
    return pl.concat(links).sort(
        ["source_stage", "tickets", "source", "target"], descending=[False, True, False, False]
    )


def _with_first_response_kpis(
    frames: Frames, window: Window, as_of: datetime, options: KpiOptions
) -> pl.LazyFrame:
    """The tickets created in the period with `frt_min` and the first-response SLA outcome (`sla_met`,
    `sla_counted`, null without a policy), by the rules of kpis.frt_median_min and
    kpis.sla_first_response_pct with as_of as the moment the data describes: a first response after
    as_of has not happened yet."""
    responded = _by(as_of, "first_response_at")
    known = frames.tickets.filter(in_window("created_at", window)).select(
        "ticket_id",
        "team_id",
        "priority",
        "created_at",
        WORKING_SECONDS["created_at"],
        *(
            pl.when(responded).then(pl.col(column)).alias(column)
            for column in ("first_response_at", WORKING_SECONDS["first_response_at"])
        ),
    )
    sla = with_sla_outcome(
        frames,
        known,
        replace(window, data_as_of=as_of),
        options,
        "first_response_at",
        "first_response_target_min",
    ).select("ticket_id", "sla_met", "sla_counted")
    return known.join(sla, on="ticket_id", how="left").select(
        "ticket_id",
        elapsed_minutes_expr(frames, options.clock, "created_at", "first_response_at").alias("frt_min"),
        "sla_met",
        "sla_counted",
    )


def node_kpis(
    frames: Frames, paths: pl.LazyFrame, window: Window, *, as_of: datetime, options: KpiOptions
) -> pl.LazyFrame:
    """Per (stage, node) of `paths` (from ticket_paths with the same window, as_of and options):
    tickets; frt_median_min with frt_n (tickets with a first response by as_of); sla_first_response_pct
    with sla_n (met + breached at as_of); csat_pct with csat_n (share satisfied of the answered
    feedback); churn_pct with customers (share of the node's distinct customers whose ticket there is
    `churned`; a customer churned on one ticket is churned on every later one).

    With as_of = window.data_as_of the FRT and SLA figures of a node equal the headline KPIs over its
    tickets. Ratios and medians are null when their N is 0. Layout order as flow_nodes.
    """
    minutes = pl.col("frt_min")
    sla_n = pl.col("sla_counted").fill_null(False).sum().cast(pl.Int64)
    csat_n = pl.col("_feedback").is_in(ANSWERED).sum().cast(pl.Int64)
    customers = pl.col("customer_id").n_unique().cast(pl.Int64)
    churned = pl.col("customer_id").filter(pl.col("_next_step") == "churned").n_unique()
    measures = ["frt_min", "sla_met", "sla_counted", "_feedback", "_next_step"]
    nodes = (
        paths.join(_with_first_response_kpis(frames, window, as_of, options), on="ticket_id", how="left")
        .with_columns(pl.col("feedback").alias("_feedback"), pl.col("next_step").alias("_next_step"))
        .unpivot(on=list(STAGES), index=["ticket_id", "customer_id", *measures], variable_name="stage")
        .select(pl.col("stage").cast(STAGE_DTYPE), pl.col("value").alias("node"), "customer_id", *measures)
        .group_by("stage", "node")
        .agg(
            pl.len().cast(pl.Int64).alias("tickets"),
            minutes.median().alias("frt_median_min"),
            minutes.count().cast(pl.Int64).alias("frt_n"),
            pl.when(sla_n > 0)
            .then(100 * pl.col("sla_met").fill_null(False).sum() / sla_n)
            .alias("sla_first_response_pct"),
            sla_n.alias("sla_n"),
            pl.when(csat_n > 0)
            .then(100 * (pl.col("_feedback") == "satisfied").sum() / csat_n)
            .alias("csat_pct"),
            csat_n.alias("csat_n"),
            (100 * churned / customers).alias("churn_pct"),
            customers.alias("customers"),
        )
    )
    return _in_layout_order(nodes)
