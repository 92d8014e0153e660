"""Surveys of the demo: CSAT and CES after tickets, NPS each quarter, with response bias and comments."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from cxdash.demo.arrays import masked, to_datetime
from cxdash.demo.calendar import DAY, HOUR, Timeline, TimeSampler
from cxdash.demo.people import Customers
from cxdash.demo.vocab import COMMENTS, NPS_COMMENTS

DRIVERS = ("resolution", "speed", "attitude", "knowledge")


@dataclass(frozen=True, slots=True)
class SurveyStories:
    """Parameters of the planted stories that live in surveys (documented in data/README.md)."""

    # (c) weights of the four rating items in the CSAT score: resolution first, speed second.
    weight_resolution: float = 0.55
    weight_speed: float = 0.30
    weight_attitude: float = 0.12
    weight_knowledge: float = 0.10
    # (f) NPS points added per unit of a customer's value percentile (0…1, centred).
    nps_value_effect: float = 4.0
    nps_unresolved_penalty: float = 2.5


def _rating(rng: np.random.Generator, mean: np.ndarray, sd: float) -> np.ndarray:
    return np.clip(np.rint(mean + rng.normal(0, sd, len(mean))), 1, 5).astype(np.int64)


def _epoch(series: pl.Series) -> np.ndarray:
    return series.dt.epoch("s").fill_null(-1).to_numpy()


def _comment(
    rng: np.random.Generator, driver_scores: np.ndarray, score_pos: np.ndarray, locale: str
) -> np.ndarray:
    """A verbatim about the weakest driver for unhappy respondents, the strongest for happy ones."""
    n = len(score_pos)
    weakest, strongest = driver_scores.argmin(axis=1), driver_scores.argmax(axis=1)
    pick = rng.integers(0, 100, n)
    out = np.empty(n, dtype=object)
    for k, driver in enumerate(DRIVERS):
        negative, positive = COMMENTS[locale][driver]
        for rows, texts in (
            (np.flatnonzero(~score_pos & (weakest == k)), negative),
            (np.flatnonzero(score_pos & (strongest == k)), positive),
        ):
            out[rows] = np.array(texts, dtype=object)[pick[rows] % len(texts)]
    return out


def build_ticket_surveys(
    rng: np.random.Generator,
    timeline: Timeline,
    tickets: pl.DataFrame,
    *,
    locale: str,
    stories: SurveyStories,
) -> pl.DataFrame:
    """A CSAT survey after every resolved ticket and a CES survey after about a third of them."""
    done = tickets.filter(pl.col("resolved_at").is_not_null())
    n = done.height
    created, resolved = _epoch(done["created_at"]), _epoch(done["resolved_at"])
    first = _epoch(done["first_response_at"])
    frt_h = np.where(first >= 0, (first - created) / HOUR, 0.05)
    res_h = (resolved - created) / HOUR
    quality = done["_quality"].to_numpy()
    reopened = done["reopen_count"].to_numpy() > 0
    complaint = done["is_complaint"].to_numpy()

    res = _rating(rng, 4.3 - 1.0 * reopened - 0.5 * complaint + 1.6 * quality, 0.9)
    spd = _rating(rng, 4.6 - 0.35 * np.log1p(frt_h) - 0.25 * np.log1p(res_h / 24), 0.9)
    att = _rating(rng, 4.4 + 2.0 * quality, 0.8)
    kno = _rating(rng, 4.2 + 1.6 * quality, 0.8)
    s = stories
    weights = np.array([s.weight_resolution, s.weight_speed, s.weight_attitude, s.weight_knowledge])
    drivers = np.column_stack([res, spd, att, kno])
    latent = 1 + (drivers - 1) @ (weights / weights.sum()) + rng.normal(0, 0.45, n)
    score = np.clip(np.rint(latent), 1, 5).astype(np.int64)

    sent = resolved + rng.integers(30 * 60, 3 * HOUR, n)
    # Response bias: the very unhappy and the delighted answer more often.
    answer_p = np.clip(0.2 + 0.09 * np.abs(latent - 3.6), 0.05, 0.75)
    responded = sent + np.exp(rng.normal(np.log(5 * HOUR), 1.0, n)).astype(np.int64)
    answered = (rng.random(n) < answer_p) & (responded < timeline.end)
    comment = masked(
        pl.Series(_comment(rng, drivers, score >= 4, locale).astype(str)), answered & (rng.random(n) < 0.4)
    )
    keep = sent < timeline.end

    csat = pl.DataFrame(
        {
            "kind": "csat",
            "customer_id": done["customer_id"],
            "ticket_id": done["ticket_id"],
            "sent_at": to_datetime(sent),
            "responded_at": masked(to_datetime(responded), answered),
            "score": masked(pl.Series(score), answered),
            "rating_speed": masked(pl.Series(spd), answered),
            "rating_resolution": masked(pl.Series(res), answered),
            "rating_attitude": masked(pl.Series(att), answered),
            "rating_knowledge": masked(pl.Series(kno), answered),
            "comment": comment,
        }
    ).filter(pl.Series(keep))

    ces_rows = rng.random(n) < 0.35
    effort = (
        6.3
        - 0.8 * reopened
        - 0.35 * np.log1p(res_h / 24)
        - 0.4 * done["reassign_count"].to_numpy()
        + rng.normal(0, 1.0, n)
    )
    ces_answered = answered & (rng.random(n) < 0.8)
    ces = pl.DataFrame(
        {
            "kind": "ces",
            "customer_id": done["customer_id"],
            "ticket_id": done["ticket_id"],
            "sent_at": to_datetime(sent),
            "responded_at": masked(to_datetime(responded), ces_answered),
            "score": masked(pl.Series(np.clip(np.rint(effort), 1, 7).astype(np.int64)), ces_answered),
        }
    ).filter(pl.Series(keep & ces_rows))
    return pl.concat([csat, ces], how="diagonal")


def build_nps_surveys(
    rng: np.random.Generator,
    timeline: Timeline,
    sampler: TimeSampler,
    customers: Customers,
    unresolved_at: np.ndarray,
    *,
    locale: str,
    stories: SurveyStories,
) -> pl.DataFrame:
    """Each quarter, 6% of the customers who have bought are asked how likely they are to recommend us.

    `unresolved_at` is, per customer row, when they were left with an unresolved complaint (or +inf).
    """
    value = customers.propensity * customers.spend
    value_pct = (np.argsort(np.argsort(value)) + 0.5) / len(value)
    frames = []
    for quarter in timeline.quarters:
        q_start, q_end = (
            quarter.start(timeline.tz).timestamp(),
            min(quarter.end(timeline.tz).timestamp(), timeline.end),
        )
        eligible = np.flatnonzero((customers.propensity > 0) & (customers.signup < q_start))
        chosen = np.sort(rng.choice(eligible, size=int(len(eligible) * 0.06), replace=False))
        m = len(chosen)
        sent = sampler.draw(rng, np.full(m, q_start), np.full(m, q_end))
        responded = sent + np.exp(rng.normal(np.log(DAY), 1.0, m)).astype(np.int64)
        answered = (rng.random(m) < 0.28) & (responded < timeline.end)
        member = customers.frame["is_loyalty_member"].to_numpy()[chosen]
        latent = (
            8.1
            + stories.nps_value_effect * (value_pct[chosen] - 0.5)
            + 0.4 * member
            - stories.nps_unresolved_penalty * (unresolved_at[chosen] < sent)
            + rng.normal(0, 1.9, m)
        )
        score = np.clip(np.rint(latent), 0, 10).astype(np.int64)
        negative, positive = NPS_COMMENTS[locale]
        pick = rng.integers(0, 100, m)
        text = np.where(
            score >= 9, np.array(positive)[pick % len(positive)], np.array(negative)[pick % len(negative)]
        )
        comment = masked(pl.Series(text), answered & ((score >= 9) | (score <= 6)) & (rng.random(m) < 0.3))
        frames.append(
            pl.DataFrame(
                {
                    "kind": "nps",
                    "customer_id": customers.frame["customer_id"].to_numpy()[chosen],
                    "ticket_id": pl.Series([None] * m, dtype=pl.String),
                    "sent_at": to_datetime(sent),
                    "responded_at": masked(to_datetime(responded), answered),
                    "score": masked(pl.Series(score), answered),
                    "comment": comment,
                }
            )
        )
    return pl.concat(frames)
