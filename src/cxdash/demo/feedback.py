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


# Cut points of the latent answers: 1–5 in a J shape (many 5s, a tail of 1s longer than the 2s).
RATING_CUTS = np.array([-1.2, -0.9, -0.45, 0.3])
SCORE_CUTS = np.array([-1.05, -0.85, -0.6, 0.15])
RESPONSE_RATE = {"chat": 0.30, "app": 0.27, "email": 0.19, "web_form": 0.17, "phone": 0.14, "social": 0.11}


def _cut(latent: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    return 1 + np.searchsorted(cuts, latent).astype(np.int64)


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

    # A halo shared by the four items (one good or bad experience colours every answer), the item's own
    # part, and what happened on the ticket; cut into J-shaped 1–5 answers with a real tail of 1s.
    halo = rng.normal(0, 1, n)

    def item(effect: np.ndarray) -> np.ndarray:
        return 0.8 * halo + 0.65 * rng.normal(0, 1, n) + effect

    channel = done["channel"].to_numpy()
    z_res = item(0.45 - 1.3 * reopened - 0.5 * complaint + 3.0 * quality)
    z_spd = item(0.9 - 0.3 * np.log1p(frt_h) - 0.35 * np.log1p(res_h / 24))
    z_att = item(0.5 + 2.5 * quality)
    z_kno = item(0.4 + 2.0 * quality)
    res, spd, att, kno = (_cut(z, RATING_CUTS) for z in (z_res, z_spd, z_att, z_kno))
    s = stories
    weights = np.array([s.weight_resolution, s.weight_speed, s.weight_attitude, s.weight_knowledge])
    latent = np.column_stack([z_res, z_spd, z_att, z_kno]) @ (weights / weights.sum()) + rng.normal(
        0, 0.35, n
    )
    score = _cut(latent, SCORE_CUTS)
    drivers = np.column_stack([res, spd, att, kno])

    sent = resolved + rng.integers(30 * 60, 3 * HOUR, n)
    # Response rates differ by channel (a chat survey is one tap away) and by outcome: the very unhappy,
    # the delighted and those whose ticket came back answer more often.
    answer_p = np.clip(
        np.vectorize(RESPONSE_RATE.get, otypes=[float])(channel)
        * (1 + 0.45 * np.abs(latent - np.median(latent)))
        * np.where(reopened, 1.3, 1.0),
        0.02,
        0.8,
    )
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


NPS_RATE = 0.09  # share of customers asked for an NPS each quarter
KEY_ACCOUNTS = 0.9  # value percentile from which a customer is a key account
KEY_ACCOUNT_NPS_RATE = 0.25


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
    """Each quarter, 9% of the customers who have bought are asked how likely they are to recommend us,
    and 25% of the most valuable tenth (key accounts are surveyed more often, so that a quarter's NPS of
    the top tiers rests on enough answers).

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
        eligible = (customers.propensity > 0) & (customers.signup < q_start)
        rate = np.where(value_pct >= KEY_ACCOUNTS, KEY_ACCOUNT_NPS_RATE, NPS_RATE)
        chosen = np.flatnonzero(eligible & (rng.random(len(value)) < rate))
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
