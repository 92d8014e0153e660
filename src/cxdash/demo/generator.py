"""Builds every table of the demo database from (scale, seed, end date, locale): same inputs, same data."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from faker import Faker

from cxdash.business_hours import compile_working_hours
from cxdash.demo.calendar import Timeline, TimeSampler, build_timeline
from cxdash.demo.commerce import build_loyalty_ledger, build_orders
from cxdash.demo.feedback import SurveyStories, build_nps_surveys, build_ticket_surveys
from cxdash.demo.people import build_agents, build_customers, build_teams
from cxdash.demo.service import TicketStories, build_events, build_tickets
from cxdash.demo.staffing import demo_setup
from cxdash.demo.vocab import ANNOTATIONS
from cxdash.errors import InputError


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    customers: int
    orders: int
    tickets: int
    agents: int


SCALES = {
    # Orders include the year of history before the window.
    "small": ScaleSpec(customers=6_000, orders=40_000, tickets=20_000, agents=30),
    "medium": ScaleSpec(customers=60_000, orders=400_000, tickets=200_000, agents=80),
    "large": ScaleSpec(customers=240_000, orders=1_600_000, tickets=1_000_000, agents=200),
}
LOCALES = ("zh_CN", "en_US")


@dataclass(frozen=True, slots=True)
class DemoConfig:
    scale: str
    seed: int
    end_date: date
    locale: str = "zh_CN"
    tz: str = "Asia/Shanghai"
    tickets: TicketStories = field(default_factory=TicketStories)
    surveys: SurveyStories = field(default_factory=SurveyStories)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise InputError(f"Unknown scale '{self.scale}'. Use one of: {', '.join(SCALES)}.")
        if self.locale not in LOCALES:
            raise InputError(f"Unknown locale '{self.locale}'. Use one of: {', '.join(LOCALES)}.")


SLA_POLICIES = pl.DataFrame(
    {
        "priority": ["urgent", "high", "normal", "low"],
        "first_response_target_min": [15, 60, 240, 480],
        "resolution_target_min": [240, 1440, 2880, 4320],
    },
    schema_overrides={"first_response_target_min": pl.Int32, "resolution_target_min": pl.Int32},
)

# Company-wide targets for every period, plus a few team and period overrides.
KPI_TARGETS = [
    ("csat_pct", None, "*", 85.0),
    ("csat_mean", None, "*", 4.2),
    ("csat_response_rate_pct", None, "*", 30.0),
    ("nps", None, "*", 30.0),
    ("ces_mean", None, "*", 5.5),
    ("frt_median_min", None, "*", 15.0),
    ("frt_p90_min", None, "*", 480.0),
    ("resolution_median_h", None, "*", 24.0),
    ("resolution_p90_h", None, "*", 120.0),
    ("sla_first_response_pct", None, "*", 85.0),
    ("sla_resolution_pct", None, "*", 80.0),
    ("complaint_rate_per_1k_orders", None, "*", 60.0),
    ("reopen_rate_pct", None, "*", 6.0),
    ("one_touch_pct", None, "*", 45.0),
    ("escalation_rate_pct", None, "*", 8.0),
    ("churn_rate_pct", None, "*", 25.0),
    ("repeat_purchase_rate_pct", None, "*", 60.0),
    ("frt_median_min", "T02", "*", 3.0),
    ("frt_median_min", "T01", "*", 2.0),
    ("csat_pct", "T04", "*", 75.0),
]


def _kpi_targets(timeline: Timeline) -> pl.DataFrame:
    rows = list(KPI_TARGETS)
    rows.append(("csat_pct", None, timeline.last_complete_quarter.label, 87.0))
    return pl.DataFrame(
        rows,
        schema={"metric": pl.String, "team_id": pl.String, "period": pl.String, "target": pl.Float64},
        orient="row",
    )


def _annotations(timeline: Timeline, locale: str) -> pl.DataFrame:
    labels = ANNOTATIONS[locale]
    days: list[tuple[date, str]] = []
    for year in sorted({q.start_date.year for q in timeline.quarters}):
        days += [(date(year, 6, 18), labels["618"]), (date(year, 11, 11), labels["1111"])]
    days += [
        (timeline.vendor_change_day, labels["vendor"]),
        (timeline.quarters[3].start_date + timedelta(days=20), labels["price"]),
        (timeline.quarters[5].start_date + timedelta(days=5), labels["kb"]),
    ]
    first, last = timeline.quarters[0].start_date, timeline.quarters[-1].end_date
    kept = sorted(d for d in days if first <= d[0] < last)
    return pl.DataFrame(
        {
            "annotation_id": list(range(1, len(kept) + 1)),
            "on_date": [d for d, _ in kept],
            "label": [label for _, label in kept],
        },
        schema_overrides={"annotation_id": pl.Int32},
    )


def _apply_unresolved_churn(
    rng: np.random.Generator, orders: pl.DataFrame, tickets: pl.DataFrame, n_customers: int, share: float
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """Story (e): a share of customers left with an unresolved complaint stop buying and contacting us
    from the day they complained (they wait for an answer that never comes, then go).

    Returns orders and tickets without their later activity, and per customer row the time they were
    left unresolved (epoch seconds, +inf for everyone else).
    """
    left = (
        tickets.filter(pl.col("_unresolved"))
        .group_by("_row")
        .agg(pl.col("created_at").min().alias("left_at"))
        .sort("_row")
    )
    churners = left.filter(pl.Series(rng.random(left.height) < share))

    def before_leaving(frame: pl.DataFrame, at: str) -> pl.DataFrame:
        return (
            frame.join(churners, on="_row", how="left")
            .filter(pl.col("left_at").is_null() | (pl.col(at) <= pl.col("left_at")))
            .drop("left_at")
        )

    unresolved_at = np.full(n_customers, np.inf)
    unresolved_at[left["_row"].to_numpy()] = left["left_at"].dt.epoch("s").to_numpy()
    return before_leaving(orders, "ordered_at"), before_leaving(tickets, "created_at"), unresolved_at


def generate(config: DemoConfig, progress: Callable[[str], None] = lambda _: None) -> dict[str, pl.DataFrame]:
    """Every business table of the demo, keyed by table name, in the column order of SCHEMA.md."""
    spec = SCALES[config.scale]
    rng = np.random.default_rng(config.seed)
    faker = Faker(config.locale)
    faker.seed_instance(config.seed)
    timeline = build_timeline(config.end_date, config.tz)
    order_rhythm = TimeSampler.of(timeline, "orders")
    ticket_rhythm = TimeSampler.of(timeline, "contacts")

    progress("customers and agents")
    teams = build_teams(config.locale)
    agents = build_agents(
        rng, faker, timeline, spec.agents, locale=config.locale, bad_agent=config.tickets.bad_agent
    )
    customers = build_customers(rng, faker, timeline, order_rhythm, spec.customers, locale=config.locale)
    progress(f"{spec.orders:,} orders")
    orders = build_orders(rng, timeline, order_rhythm, customers, spec.orders)
    progress(f"{spec.tickets:,} tickets")
    setup = demo_setup(config.tz, config.locale)
    working = compile_working_hours(
        setup,
        first_day=timeline.quarters[0].start_date - timedelta(days=1),
        last_day=config.end_date + timedelta(days=60),
    )
    tickets = build_tickets(
        rng,
        timeline,
        ticket_rhythm,
        customers,
        orders,
        agents,
        working,
        spec.tickets,
        locale=config.locale,
        stories=config.tickets,
    )
    orders, tickets, unresolved_at = _apply_unresolved_churn(
        rng, orders, tickets, spec.customers, config.tickets.churn_after_unresolved
    )
    progress("surveys")
    surveys = (
        pl.concat(
            [
                build_ticket_surveys(rng, timeline, tickets, locale=config.locale, stories=config.surveys),
                build_nps_surveys(
                    rng,
                    timeline,
                    ticket_rhythm,
                    customers,
                    unresolved_at,
                    locale=config.locale,
                    stories=config.surveys,
                ),
            ],
            how="diagonal",
        )
        .sort("sent_at", "kind", "customer_id", maintain_order=True)
        .with_columns(
            pl.format("S{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(9)).alias("survey_id")
        )
    )
    progress("ticket events")
    events = build_events(rng, timeline, tickets, surveys.filter(pl.col("kind") == "csat"))
    progress("loyalty ledger")
    ledger = build_loyalty_ledger(rng, timeline, orders, customers.frame)
    survey_columns = [
        "survey_id",
        "kind",
        "customer_id",
        "ticket_id",
        "sent_at",
        "responded_at",
        "score",
        "rating_speed",
        "rating_resolution",
        "rating_attitude",
        "rating_knowledge",
        "comment",
    ]
    int_columns = ["score", "rating_speed", "rating_resolution", "rating_attitude", "rating_knowledge"]
    return {
        "teams": teams,
        "agents": agents.frame,
        "customers": customers.frame,
        "orders": orders.drop("_row"),
        "tickets": tickets.drop(pl.selectors.starts_with("_")),
        "ticket_events": events,
        "surveys": surveys.select(survey_columns).with_columns(pl.col(int_columns).cast(pl.Int32)),
        "loyalty_ledger": ledger,
        "sla_policies": SLA_POLICIES,
        "kpi_targets": _kpi_targets(timeline),
        "annotations": _annotations(timeline, config.locale),
    }
