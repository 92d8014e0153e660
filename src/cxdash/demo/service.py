"""Tickets and their handling workflow (ticket_events) for the demo."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from cxdash.business_hours import WorkingHours, add_business_seconds
from cxdash.demo.arrays import masked, to_datetime
from cxdash.demo.calendar import (
    DAY,
    HOUR,
    TICKET_WEEKDAYS,
    Timeline,
    TimeSampler,
    at_local_hour,
    local_hour_weekday,
    season_at,
)
from cxdash.demo.people import Agents, Customers, customers_at
from cxdash.demo.staffing import (
    FIRST_REPLY_WAIT_S,
    FRONT_LINE_TEAM,
    HOUR_LOAD,
    ON_CALL_WAIT_S,
    PRIORITY_WAIT,
    RESOLUTION_WORK_H,
    SAME_SESSION,
    SESSION_LENGTH_S,
    WEEKDAY_LOAD,
)
from cxdash.demo.vocab import CATEGORIES, ROOT_CAUSES, SUBJECTS

MINUTE = 60
CHANNEL_SHARE = {"phone": 0.22, "email": 0.14, "chat": 0.30, "social": 0.08, "web_form": 0.10, "app": 0.16}
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

    double_charge_share_factor: float = 2.0  # (a) share of complaints, last complete quarter
    bad_agent: str = "A0203"  # (b)
    bad_agent_reopen_prob: float = 0.28  # (b), peers ≈ 0.05–0.10
    chat_frt_factor: float = 2.8  # (d) chat first response after the vendor change
    unresolved_complaint_share: float = 0.07  # (e) complaints closed without resolution
    churn_after_unresolved: float = 0.7  # (e) such customers who stop buying


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(customer row, order row or -1, created epoch, channel) for about `n` tickets.

    Half are about an order, a log-normal ≈ 2.5 days after it (refunds and cancellations draw more), so
    ticket volume follows orders; the rest (account questions, pre-sales) follow the contact rhythm.
    Each ticket's hour of day comes from its channel's opening hours and habits; fewer at the weekend.
    """
    ordered = orders["ordered_at"].dt.epoch("s").to_numpy()
    problem = (orders["status"] != "completed").to_numpy()
    weight = (ordered >= timeline.start - 20 * DAY) * np.where(problem, 2.5, 1.0)
    n_linked, n_free = int(n * 0.5 * 1.25), int(n * 0.5 * 1.12)
    order_rows = rng.choice(len(weight), size=n_linked, replace=False, p=weight / weight.sum())
    linked_at = ordered[order_rows] + np.exp(rng.normal(np.log(2.5 * DAY), 0.9, n_linked)).astype(np.int64)
    free_at = np.sort(
        sampler.draw(rng, np.full(n_free, float(timeline.start)), np.full(n_free, float(timeline.end)))
    )
    free_rows = customers_at(
        rng, customers, 0.5 + customers.propensity, free_at, timeline.start, timeline.end
    )
    who = np.concatenate([orders["_row"].to_numpy()[order_rows], free_rows])
    about = np.concatenate([order_rows, np.full(n_free, -1)])
    channel = _choice(rng, CHANNEL_SHARE, len(who))
    at = at_local_hour(rng, timeline, np.concatenate([linked_at, free_at]), channel)
    _, weekday = local_hour_weekday(timeline, at)
    # Order-linked contacts thin out at the weekend like the others.
    weekday_keep = np.where(about >= 0, TICKET_WEEKDAYS[weekday] / TICKET_WEEKDAYS.max(), 1.0)
    keep = np.flatnonzero((at < timeline.end) & (at >= timeline.start) & (rng.random(len(at)) < weekday_keep))
    keep = np.sort(rng.choice(keep, size=min(n, len(keep)), replace=False))
    keep = keep[np.argsort(at[keep], kind="stable")]
    return who[keep], about[keep], at[keep], channel[keep]


def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(rng.normal(np.log(median), sigma))


def _after_working(
    working: WorkingHours, team: np.ndarray, start: np.ndarray, seconds: np.ndarray
) -> np.ndarray:
    """Epoch seconds when `seconds` of the team's working time have passed after `start`."""
    teams, row_team = np.unique(team, return_inverse=True)
    index = np.array([working.calendar_index(t) for t in teams])[row_team]
    done_us = add_business_seconds(working, index, start.astype(np.int64) * 1_000_000, seconds.astype(float))
    return done_us // 1_000_000


def _handling_times(
    rng: np.random.Generator,
    timeline: Timeline,
    working: WorkingHours,
    channel: np.ndarray,
    priority: np.ndarray,
    category: np.ndarray,
    team: np.ndarray,
    created: np.ndarray,
    *,
    complaint: np.ndarray,
    bot: np.ndarray,
    bot_resolved: np.ndarray,
    reopens: np.ndarray,
    speed: np.ndarray,
    chat_frt_factor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(first agent reply, latest resolution) in epoch seconds, staffed as the teams' calendars say.

    The front line of the channel replies after a queue wait in its working time that grows with the
    hour's load (and on festival days); phone and chat settle most simple contacts in that first
    session; the owning team works the rest in its working hours. Urgent tickets go to the on-call
    rota: calendar time, no waiting for the morning.
    """
    n = len(created)
    urgent = priority == "urgent"
    hour, weekday = local_hour_weekday(timeline, created)
    load = HOUR_LOAD[hour] * WEEKDAY_LOAD[weekday] * (1 + 0.4 * (season_at(timeline, created) - 1))
    vendor = np.where(
        (channel == "chat") & (created >= timeline.epoch(timeline.vendor_change_day)), chat_frt_factor, 1
    )
    channel_wait = _lookup(FIRST_REPLY_WAIT_S, channel) * _lookup(PRIORITY_WAIT, priority)
    queue_wait = np.where(urgent, np.minimum(channel_wait, ON_CALL_WAIT_S), channel_wait)
    wait = _lognormal(rng, queue_wait * load * speed * vendor, 0.8)
    greeted = created + np.where(bot, rng.integers(60, 240, n), 0)  # the bot talks first
    front = np.vectorize(FRONT_LINE_TEAM.get)(channel)
    first_reply = np.where(
        urgent, greeted + wait.astype(np.int64), _after_working(working, front, greeted, wait)
    )

    session = ~complaint & (reopens == 0) & (rng.random(n) < _lookup(SAME_SESSION, channel))
    session_end = first_reply + _lognormal(
        rng, np.maximum(_lookup(SESSION_LENGTH_S, channel), 60), 0.6
    ).astype(np.int64)
    work_h = (
        _lookup(RESOLUTION_WORK_H, priority)
        * _lookup(CATEGORY_RESOLUTION_FACTOR, category)
        * np.where(complaint, 1.4, 1.0)
        * speed
    )
    work = _lognormal(rng, work_h * HOUR, 0.9) + reopens * _lognormal(rng, np.full(n, 5.0 * HOUR), 0.7)
    worked = np.where(
        urgent, first_reply + work.astype(np.int64), _after_working(working, team, first_reply, work)
    )
    resolved = np.where(session, session_end, np.maximum(worked, first_reply + 5 * MINUTE))
    resolved = np.where(bot_resolved, created + rng.integers(2 * MINUTE, 15 * MINUTE, n), resolved)
    return first_reply, resolved


def _lookup(table: dict, keys: np.ndarray) -> np.ndarray:
    return np.vectorize(table.get, otypes=[float])(keys)


def build_tickets(
    rng: np.random.Generator,
    timeline: Timeline,
    sampler: TimeSampler,
    customers: Customers,
    orders: pl.DataFrame,
    agents: Agents,
    working: WorkingHours,
    n: int,
    *,
    locale: str,
    stories: TicketStories,
) -> pl.DataFrame:
    """Tickets with consistent timestamps, status and handling counts; hidden `_`-columns feed later steps."""
    who, about, created, channel = _arrival(rng, timeline, sampler, customers, orders, n)
    n = len(who)
    complaint = rng.random(n) < np.where(about >= 0, 0.12, 0.04)
    category = np.where(
        complaint, _choice(rng, COMPLAINT_CATEGORY_SHARE, n), _choice(rng, INQUIRY_CATEGORY_SHARE, n)
    )
    root_cause = np.empty(n, dtype=object)
    for cat in CATEGORIES:
        rows = np.flatnonzero(category == cat)
        codes, weights = zip(*ROOT_CAUSES[cat], strict=True)
        root_cause[rows] = np.array(codes)[rng.choice(len(codes), size=len(rows), p=weights)]

    # (a) In the last complete quarter, turn just enough other complaints into double charges that the
    # share of billing.double_charge among its complaints is `factor` times its share in the other
    # quarters (an exact count, so the story does not depend on the quarter's sampling noise).
    lcq = timeline.last_complete_quarter
    in_lcq = (created >= lcq.start(timeline.tz).timestamp()) & (created < lcq.end(timeline.tz).timestamp())
    double = root_cause == "billing.double_charge"
    usual = double[complaint & ~in_lcq].mean() if (complaint & ~in_lcq).any() else 0.0
    wanted = round(float(stories.double_charge_share_factor * usual * (complaint & in_lcq).sum()))
    candidates = np.flatnonzero(complaint & in_lcq & ~double)
    extra = max(0, min(len(candidates), wanted - int((double & complaint & in_lcq).sum())))
    switch = np.sort(rng.choice(candidates, size=extra, replace=False))
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
    reopen_p = np.where(
        bad, stories.bad_agent_reopen_prob, 0.05 + 0.05 * (category == "product_quality") - 0.1 * quality
    )
    reopens = (
        np.where(rng.random(n) < np.clip(reopen_p, 0.01, 0.5), 1 + (rng.random(n) < 0.2), 0) * ~bot_resolved
    )
    first_response, resolved = _handling_times(
        rng, timeline, working, channel, priority, category, team, created,
        complaint=complaint, bot=bot, bot_resolved=bot_resolved, reopens=reopens, speed=speed,
        chat_frt_factor=stories.chat_frt_factor,
    )  # fmt: skip
    unresolved = complaint & (rng.random(n) < stories.unresolved_complaint_share)

    resolved = np.where(unresolved, -1, resolved)
    first_response = np.where(bot_resolved, -1, first_response)
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
