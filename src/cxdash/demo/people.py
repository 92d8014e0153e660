"""Teams, agents and customers of the demo, with the hidden traits that drive their behaviour."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from faker import Faker

from cxdash.demo.calendar import DAY, Timeline, TimeSampler
from cxdash.demo.vocab import ACQUISITION_CHANNELS, CITIES, TEAMS

# Share of agents per team, following each team's expected ticket volume.
TEAM_AGENT_SHARE = {"T01": 0.18, "T02": 0.30, "T03": 0.14, "T04": 0.12, "T05": 0.12, "T06": 0.14}


@dataclass(frozen=True, slots=True)
class Agents:
    frame: pl.DataFrame  # the agents table
    quality: np.ndarray  # attitude/knowledge/resolution skill, 0 = typical
    speed: np.ndarray  # multiplier on handling times, 1 = typical


@dataclass(frozen=True, slots=True)
class Customers:
    frame: pl.DataFrame  # the customers table
    signup: np.ndarray  # epoch seconds
    lapse: np.ndarray  # epoch seconds after which the customer no longer buys
    propensity: np.ndarray  # orders a year at the baseline rhythm, relative (0 = never buys)
    spend: np.ndarray  # multiplier on order amounts
    one_time: np.ndarray  # bool: buys once, days after signing up, and never again


def name_pool(faker: Faker, rng: np.random.Generator, n: int, *, locale: str) -> np.ndarray:
    """`n` personal names built from Faker's pools (fast and deterministic for any n)."""
    surnames = np.array([faker.last_name() for _ in range(300)])
    given = np.array([faker.first_name() for _ in range(600)])
    s = surnames[rng.integers(0, len(surnames), n)]
    g = given[rng.integers(0, len(given), n)]
    if locale == "zh_CN":
        return np.char.add(s, g)
    return np.char.add(np.char.add(g, " "), s)


def build_teams(locale: str) -> pl.DataFrame:
    names = TEAMS[locale]
    return pl.DataFrame({"team_id": list(names), "name": list(names.values())})


def build_agents(
    rng: np.random.Generator, faker: Faker, timeline: Timeline, n_agents: int, *, locale: str, bad_agent: str
) -> Agents:
    """Agents per team, ids `A<team><nn>` (so the planted weak agent keeps its id at every scale)."""
    ids, teams = [], []
    for team, share in TEAM_AGENT_SHARE.items():
        for k in range(max(3, round(n_agents * share))):
            ids.append(f"A{team[1:]}{k + 1:02d}")
            teams.append(team)
    n = len(ids)
    window_start = datetime.fromtimestamp(timeline.start, UTC).date()
    hired = [window_start - timedelta(days=int(d)) for d in rng.integers(30, 2400, n)]
    active = rng.random(n) > 0.05
    quality = rng.normal(0, 0.08, n)
    speed = np.exp(rng.normal(0, 0.15, n))
    bad = np.array(ids) == bad_agent
    active[bad] = True
    speed[bad] = 1.0
    quality[bad] = -0.18
    frame = pl.DataFrame(
        {
            "agent_id": ids,
            "name": name_pool(faker, rng, n, locale=locale),
            "team_id": teams,
            "hired_on": hired,
            "active": active,
        }
    )
    return Agents(frame=frame, quality=quality, speed=speed)


def _weighted_choice(rng: np.random.Generator, options: list, weights: list[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p / p.sum())]


def build_customers(
    rng: np.random.Generator,
    faker: Faker,
    timeline: Timeline,
    orders_sampler: TimeSampler,
    n: int,
    *,
    locale: str,
) -> Customers:
    """Customers with signup times, places, segments, and hidden purchase propensity and lapse times."""
    before = rng.random(n) < 0.6
    signup = np.where(
        before,
        timeline.start - rng.integers(1, 1100 * DAY, n),
        orders_sampler.draw(rng, np.full(n, timeline.start), np.full(n, timeline.end)),
    ).astype(np.int64)
    signup.sort()  # ids in signup order, as a CRM assigns them
    business = rng.random(n) < 0.15
    prospect = rng.random(n) < 0.12
    # Purchase rates are skewed as in retail: most buyers order once or twice a year, a loyal minority
    # (and business accounts restocking) every few weeks and carries most of the volume.
    kind = rng.random(n)
    one_time = ~business & ~prospect & (kind < 0.7)  # buy once soon after signing up, never again
    loyal = ~business & ~prospect & (kind > 0.93)
    propensity = (
        np.where(
            business,
            np.exp(rng.normal(np.log(4.0), 1.0, n)),
            np.where(
                loyal, np.exp(rng.normal(np.log(18.0), 0.5, n)), np.exp(rng.normal(np.log(0.8), 0.5, n))
            ),
        )
        * ~prospect
    )
    spend = np.exp(rng.normal(0, 0.35, n)) * np.where(business, 3.0, 1.0)
    lapse = signup + (rng.exponential(2500, n) * DAY).astype(np.int64)
    member = rng.random(n) < np.clip(0.12 + 0.25 * np.log1p(propensity), 0.05, 0.8)

    cities = CITIES[locale]
    city_idx = rng.choice(len(cities), size=n, p=np.array([c[2] for c in cities]) / sum(c[2] for c in cities))
    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    names = name_pool(faker, rng, n, locale=locale)
    handles = np.array([faker.user_name() for _ in range(2000)])
    domains = np.array([faker.free_email_domain() for _ in range(12)])
    email = np.char.add(
        np.char.add(handles[rng.integers(0, len(handles), n)], rng.integers(1, 9999, n).astype(str)),
        np.char.add("@", domains[rng.integers(0, len(domains), n)]),
    )
    if locale == "zh_CN":
        prefix = np.array(["13", "15", "17", "18", "19"])[rng.integers(0, 5, n)]
        phone = np.char.add(prefix, np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9))
    else:
        phone = np.char.add(
            np.char.add("+1 ", rng.integers(201, 990, n).astype(str)),
            np.char.add(" 555 ", np.char.zfill(rng.integers(0, 10**4, n).astype(str), 4)),
        )
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "name": names,
            "email": email,
            "phone": phone,
            "city": [cities[i][0] for i in city_idx],
            "region": [cities[i][1] for i in city_idx],
            "segment": np.where(business, "business", "consumer"),
            "acquisition_channel": _weighted_choice(
                rng, [c for c, _ in ACQUISITION_CHANNELS], [w for _, w in ACQUISITION_CHANNELS], n
            ).astype(str),
            "signup_at": pl.Series(signup * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "is_loyalty_member": member,
        }
    )
    return Customers(
        frame=frame, signup=signup, lapse=lapse, propensity=propensity, spend=spend, one_time=one_time
    )


BUCKET = 30 * DAY


def customers_at(
    rng: np.random.Generator, customers: Customers, rate: np.ndarray, when: np.ndarray, start: int, end: int
) -> np.ndarray:
    """For each instant (sorted), a customer acting then: in 30-day buckets, chosen in proportion to
    `rate` × the share of the bucket they were a customer and had not lapsed."""
    edges = np.arange(start, end + BUCKET, BUCKET)
    counts = np.bincount(np.searchsorted(edges, when, side="right") - 1, minlength=len(edges) - 1)
    who = np.empty(len(when), dtype=np.int64)
    position = 0
    for lo, hi, k in zip(edges[:-1], edges[1:], counts, strict=False):
        overlap = np.clip(np.minimum(customers.lapse, hi) - np.maximum(customers.signup, lo), 0, None)
        weight = rate * overlap
        who[position : position + k] = rng.choice(len(weight), size=k, p=weight / weight.sum())
        position += k
    return who
