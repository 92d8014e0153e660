"""Tickets and their handling workflow (ticket_events) for the demo."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from cxdash.demo.arrays import masked, to_datetime
from cxdash.demo.calendar import DAY, HOUR, Timeline, TimeSampler
from cxdash.demo.people import Agents, Customers
from cxdash.demo.vocab import CATEGORIES, ROOT_CAUSES, SUBJECTS

MINUTE = 60
CHANNEL_SHARE = {"phone": 0.22, "email": 0.14, "chat": 0.30, "social": 0.08, "web_form": 0.10, "app": 0.16}
# Median first-response minutes by channel; priority and the agent scale it.
FRT_MEDIAN_MIN = {"phone": 1.5, "chat": 2.5, "app": 20, "social": 45, "email": 300, "web_form": 360}
PRIORITY_FRT_FACTOR = {"urgent": 0.35, "high": 0.6, "normal": 1.0, "low": 1.4}
RESOLUTION_MEDIAN_H = {"urgent": 3, "high": 10, "normal": 26, "low": 50}
CATEGORY_RESOLUTION_FACTOR = {
    "billing": 1.0,
    "delivery": 1.3,
    "product_quality": 1.5,
    "account": 0.6,
    "after_sales": 1.8,
}
COMPLAINT_CATEGORY_SHARE = {
    "billing": 0.22,
    "delivery": 0.30,
    "product_quality": 0.25,
    "account": 0.08,
    "after_sales": 0.15,
}
INQUIRY_CATEGORY_SHARE = {
    "billing": 0.15,
    "delivery": 0.25,
    "product_quality": 0.10,
    "account": 0.30,
    "after_sales": 0.20,
}
PRIORITIES = np.array(["urgent", "high", "normal", "low"])


@dataclass(frozen=True, slots=True)
class TicketStories:
    """Parameters of the planted stories that live in tickets (documented in data/README.md)."""

    double_charge_share_factor: float = 1.6  # (a) share of complaints, last complete quarter
    bad_agent: str = "A0203"  # (b)
    bad_agent_reopen_prob: float = 0.28  # (b), peers ≈ 0.05–0.10
    chat_frt_factor: float = 2.2  # (d) chat first response after the vendor change
    unresolved_complaint_share: float = 0.07  # (e) complaints closed without resolution
    churn_after_unresolved: float = 0.6  # (e) such customers who stop buying


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(shares))
    p = np.array(list(shares.values()))
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _arrival(
    rng: np.random.Generator,
    timeline: Timeline,
    sampler: TimeSampler,
    customers: Customers,
    orders: pl.DataFrame,
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer row, order row or -1, created epoch) for `n` tickets: 65% about an order, days after it."""
    want_linked, want_free = int(n * 0.65 * 1.1), int(n * 0.35 * 1.1)
    order_rows = rng.integers(0, orders.height, want_linked)
    ordered = orders["ordered_at"].dt.epoch("s").to_numpy()[order_rows]
    linked_at = ordered + np.exp(rng.normal(np.log(3 * DAY), 0.9, want_linked)).astype(np.int64)
    free_rows = rng.choice(
        len(customers.propensity),
        size=want_free,
        p=(0.3 + customers.propensity) / (0.3 + customers.propensity).sum(),
    )
    lo = np.maximum(customers.signup[free_rows], timeline.start).astype(float)
    free_at = sampler.draw(rng, lo, np.full(want_free, float(timeline.end)))
    who = np.concatenate([orders["_row"].to_numpy()[order_rows], free_rows])
    about = np.concatenate([order_rows, np.full(want_free, -1)])
    at = np.concatenate([linked_at, free_at])
    keep = np.flatnonzero((at < timeline.end) & (at >= timeline.start))
    keep = np.sort(rng.choice(keep, size=min(n, len(keep)), replace=False))
    order = np.argsort(at[keep], kind="stable")
    keep = keep[order]
    return who[keep], about[keep], at[keep]


def build_tickets(
    rng: np.random.Generator,
    timeline: Timeline,
    sampler: TimeSampler,
    customers: Customers,
    orders: pl.DataFrame,
    agents: Agents,
    n: int,
    *,
    locale: str,
    stories: TicketStories,
) -> pl.DataFrame:
    """Tickets with consistent timestamps, status and handling counts; hidden `_`-columns feed later steps."""
    who, about, created = _arrival(rng, timeline, sampler, customers, orders, n)
    n = len(who)
    channel = _choice(rng, CHANNEL_SHARE, n)
    complaint = rng.random(n) < np.where(about >= 0, 0.19, 0.08)
    category = np.where(
        complaint, _choice(rng, COMPLAINT_CATEGORY_SHARE, n), _choice(rng, INQUIRY_CATEGORY_SHARE, n)
    )
    root_cause = np.empty(n, dtype=object)
    for cat in CATEGORIES:
        rows = np.flatnonzero(category == cat)
        codes, weights = zip(*ROOT_CAUSES[cat], strict=True)
        root_cause[rows] = np.array(codes)[rng.choice(len(codes), size=len(rows), p=weights)]

    # (a) In the last complete quarter, turn a share q of other complaints into double charges so
    # that the share of billing.double_charge among complaints is `factor` times its usual share.
    lcq = timeline.last_complete_quarter
    in_lcq = (created >= lcq.start(timeline.tz).timestamp()) & (created < lcq.end(timeline.tz).timestamp())
    base_share = (
        COMPLAINT_CATEGORY_SHARE["billing"]
        / sum(COMPLAINT_CATEGORY_SHARE.values())
        * dict(ROOT_CAUSES["billing"])["billing.double_charge"]
    )
    q = (stories.double_charge_share_factor - 1) * base_share / (1 - base_share)
    switch = complaint & in_lcq & (root_cause != "billing.double_charge") & (rng.random(n) < q)
    category[switch] = "billing"
    root_cause[switch] = "billing.double_charge"

    severity = np.where(complaint, rng.choice([1, 2, 3, 4], size=n, p=[0.06, 0.18, 0.40, 0.36]), 0)
    inquiry_priority = rng.choice(4, size=n, p=[0.03, 0.12, 0.60, 0.25])
    sev_priority = np.select(
        [severity == 1, severity == 2, severity == 3],
        [0, 1, np.where(rng.random(n) < 0.3, 1, 2)],
        default=np.where(rng.random(n) < 0.4, 3, 2),
    )
    priority_idx = np.where(complaint, sev_priority, inquiry_priority)
    priority = PRIORITIES[priority_idx]

    team = np.select(
        [
            complaint & (severity <= 2),
            category == "billing",
            category == "after_sales",
            channel == "phone",
            np.isin(channel, ["chat", "social", "app"]),
        ],
        ["T04", "T06", "T05", "T01", "T02"],
        default="T03",
    )
    agent_ids = agents.frame["agent_id"].to_numpy()
    agent_teams = agents.frame["team_id"].to_numpy()
    agent_row = np.empty(n, dtype=np.int64)
    for t in np.unique(team):
        rows = np.flatnonzero(team == t)
        pool = np.flatnonzero(agent_teams == t)
        agent_row[rows] = pool[rng.integers(0, len(pool), len(rows))]
    quality, speed = agents.quality[agent_row], agents.speed[agent_row]
    bad = agent_ids[agent_row] == stories.bad_agent

    bot = np.isin(channel, ["chat", "app"]) & (rng.random(n) < 0.45)
    bot_resolved = bot & ~complaint & (rng.random(n) < 0.4)

    frt_median = np.vectorize(FRT_MEDIAN_MIN.get)(channel) * np.vectorize(PRIORITY_FRT_FACTOR.get)(priority)
    vendor_at = timeline.epoch(timeline.vendor_change_day)
    frt_median = frt_median * np.where(
        (channel == "chat") & (created >= vendor_at), stories.chat_frt_factor, 1.0
    )
    frt_s = np.exp(rng.normal(np.log(frt_median * MINUTE), 1.0)) * speed + np.where(bot, 3 * MINUTE, 0)

    res_median = (
        np.vectorize(RESOLUTION_MEDIAN_H.get)(priority)
        * np.vectorize(CATEGORY_RESOLUTION_FACTOR.get)(category)
        * np.where(complaint, 1.4, 1.0)
    )
    reopen_p = np.where(
        bad, stories.bad_agent_reopen_prob, 0.05 + 0.05 * (category == "product_quality") - 0.1 * quality
    )
    reopens = (
        np.where(rng.random(n) < np.clip(reopen_p, 0.01, 0.5), 1 + (rng.random(n) < 0.2), 0) * ~bot_resolved
    )
    res_s = np.exp(rng.normal(np.log(res_median * HOUR), 0.9)) * speed + reopens * rng.exponential(
        24 * HOUR, n
    )
    res_s = np.maximum(res_s, frt_s + 5 * MINUTE)
    unresolved = complaint & (rng.random(n) < stories.unresolved_complaint_share)

    first_response = np.where(bot_resolved, -1, created + frt_s.astype(np.int64))
    resolved = np.where(
        bot_resolved, created + rng.integers(2 * MINUTE, 15 * MINUTE, n), created + res_s.astype(np.int64)
    )
    resolved = np.where(unresolved, -1, resolved)
    # Complaints closed unresolved: the customer gave up 5–20 days in, always after a first reply.
    closed = np.where(
        unresolved,
        np.maximum(created + rng.integers(5 * DAY, 20 * DAY, n), first_response + DAY),
        resolved + 3 * DAY,
    )
    end = timeline.end
    answered = (first_response >= 0) & (first_response < end)
    is_resolved = (resolved >= 0) & (resolved < end)
    is_closed = (closed < end) & (is_resolved | unresolved)
    status = np.select(
        [is_closed, is_resolved, answered & (rng.random(n) < 0.3), answered | bot_resolved],
        ["closed", "resolved", "pending", "open"],
        default="new",
    )
    reopen_count = np.where(is_resolved, reopens, 0)
    replies_lambda = {"phone": 0.3, "chat": 0.6, "app": 0.7, "social": 0.9, "email": 1.2, "web_form": 1.2}
    agent_replies = np.where(
        bot_resolved | ~answered,
        0,
        1 + rng.poisson(np.vectorize(replies_lambda.get)(channel) + 0.8 * complaint) + reopen_count,
    )
    has_agent = answered | (is_resolved & ~bot_resolved) | is_closed & ~bot_resolved
    subjects = SUBJECTS[locale]
    subject = np.array(
        [subjects[c][i % len(subjects[c])] for c, i in zip(category, rng.integers(0, 100, n), strict=True)]
    )
    known_cause = is_resolved | (unresolved & is_closed)

    return pl.DataFrame(
        {
            "ticket_id": np.char.add("T", np.char.zfill(np.arange(1, n + 1).astype(str), 9)),
            "customer_id": customers.frame["customer_id"].to_numpy()[who],
            "order_id": masked(pl.Series(orders["order_id"].to_numpy()[np.maximum(about, 0)]), about >= 0),
            "channel": channel,
            "created_at": to_datetime(created),
            "first_response_at": masked(to_datetime(first_response), answered),
            "resolved_at": masked(to_datetime(resolved), is_resolved),
            "closed_at": masked(to_datetime(closed), is_closed),
            "status": status,
            "priority": priority,
            "is_complaint": complaint,
            "category": category.astype(str),
            "root_cause": masked(pl.Series(root_cause.astype(str)), known_cause),
            "severity": masked(pl.Series(severity, dtype=pl.Int32), complaint),
            "team_id": team,
            "agent_id": masked(pl.Series(agent_ids[agent_row]), has_agent),
            "reopen_count": reopen_count.astype(np.int32),
            "agent_replies": agent_replies.astype(np.int32),
            "reassign_count": (rng.poisson(0.25 + 0.5 * complaint, n) * has_agent).astype(np.int32),
            "escalated": rng.random(n) < np.where(complaint & (severity <= 2), 0.5, 0.04),
            "bot_handled": bot,
            "subject": subject,
            "_row": who,
            "_quality": quality,
            "_unresolved": unresolved & is_closed,
        }
    )


def build_events(
    rng: np.random.Generator, timeline: Timeline, tickets: pl.DataFrame, csat: pl.DataFrame
) -> pl.DataFrame:
    """The handling workflow of every ticket, agreeing with its timestamps, status and reopen count.

    registered → assigned → in_progress → (pending_customer) → resolved [→ reopened → in_progress →
    resolved]… → feedback → closed; a first resolution before each reopen cycle.
    """
    t = tickets.select(
        "ticket_id",
        "created_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "status",
        "agent_id",
        "reopen_count",
    ).with_columns(pending_mid=pl.Series(rng.random(tickets.height) < 0.2))
    data_end = to_datetime(np.array([timeline.end]))[0]
    fr, res, created = pl.col("first_response_at"), pl.col("resolved_at"), pl.col("created_at")
    agent = pl.col("agent_id")

    def stage(frame: pl.DataFrame, at: pl.Expr, name: str, who: pl.Expr = agent) -> pl.DataFrame:
        return frame.select(
            "ticket_id", at.alias("occurred_at"), pl.lit(name).alias("stage"), who.alias("agent_id")
        )

    answered = t.filter(fr.is_not_null())
    pending = pl.concat(
        [
            stage(
                t.filter(pl.col("status") == "pending"),
                pl.min_horizontal(fr + pl.duration(minutes=30), fr + (pl.lit(data_end) - fr) / 2),
                "pending_customer",
            ),
            stage(
                answered.filter(res.is_not_null() & pl.col("pending_mid")),
                fr + (res - fr) * 0.3,
                "pending_customer",
            ),
        ]
    )
    cycles = (
        answered.filter(pl.col("reopen_count") > 0)
        .with_columns(cycle=pl.int_ranges(0, pl.col("reopen_count")), first_resolution=fr + (res - fr) * 0.4)
        .explode("cycle")
        .with_columns(
            step=(res - pl.col("first_resolution")) / pl.col("reopen_count").cast(pl.Int64),
        )
        .with_columns(resolved_j=pl.col("first_resolution") + pl.col("step") * pl.col("cycle"))
    )
    feedback = (
        csat.filter(pl.col("responded_at").is_not_null())
        .select("ticket_id", "responded_at")
        .join(t.select("ticket_id", "agent_id"), on="ticket_id")
    )
    events = pl.concat(
        [
            stage(t, created, "registered", pl.lit(None, pl.String)),
            stage(answered.filter(agent.is_not_null()), created + (fr - created) * 0.5, "assigned"),
            stage(answered, fr, "in_progress"),
            pending,
            stage(cycles, pl.col("resolved_j"), "resolved"),
            stage(cycles, pl.col("resolved_j") + pl.col("step") * 0.3, "reopened"),
            stage(cycles, pl.col("resolved_j") + pl.col("step") * 0.4, "in_progress"),
            stage(t.filter(res.is_not_null()), res, "resolved"),
            stage(feedback, pl.col("responded_at"), "feedback"),
            stage(t.filter(pl.col("closed_at").is_not_null()), pl.col("closed_at"), "closed"),
        ]
    )
    return (
        events.with_columns(pl.col("occurred_at").dt.truncate("1s"))
        .sort("ticket_id", "occurred_at", maintain_order=True)
        .with_columns(pl.int_range(1, pl.len() + 1).alias("event_id"))
        .select("event_id", "ticket_id", "occurred_at", "stage", "agent_id")
    )
