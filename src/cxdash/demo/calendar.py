"""When things happen: the demo's time window and its hour-by-hour intensity (weekday, hour, 618, 双十一)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from cxdash.demo.arrays import to_datetime
from cxdash.periods import Period, local_midnight_utc, period_containing

HOUR = 3600
DAY = 86400
# Orders are generated this many days before the window too, so that the first quarter shown has the
# full look-back of METRICS.md (365 days for the repeat rate, W days for churn).
HISTORY_DAYS = 400
REPEAT_GROWTH = 0.22

# Relative activity by local hour: shoppers peak late morning and evening, service desks in office hours.
_ORDER_HOURS = np.array(
    [3, 2, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 10, 9, 9, 9, 8, 8, 9, 11, 13, 14, 11, 6], dtype=float
)
_ORDER_WEEKDAYS = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 1.15, 1.1])
# Contacts not about an order: fewer at the weekend.
TICKET_WEEKDAYS = np.array([1.15, 1.1, 1.05, 1.0, 1.0, 0.8, 0.75])

Rhythm = Literal["orders", "contacts"]

# When customers contact us, by channel and local hour: the phone line rings only while it is open
# (08–22), chat is offered 08–24, while e-mail, web forms, the app and social media arrive round the
# clock (mostly in office hours and evenings) and wait for the morning.
CHANNEL_HOURS = {
    "phone": [0, 0, 0, 0, 0, 0, 0, 0, 6, 11, 13, 12, 8, 9, 12, 12, 11, 9, 7, 7, 8, 6, 0, 0],
    "chat": [0, 0, 0, 0, 0, 0, 0, 0, 4, 7, 9, 9, 8, 8, 9, 9, 9, 8, 8, 9, 11, 12, 10, 7],
    "app": [2, 1, 0.6, 0.4, 0.4, 0.6, 1.5, 3, 5, 7, 8, 8, 7, 7, 8, 8, 8, 8, 8, 9, 11, 12, 10, 6],
    "social": [3, 1.5, 1, 0.6, 0.5, 0.6, 1.5, 3, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 8, 9, 11, 12, 10, 6],
    "email": [1.5, 1, 0.6, 0.5, 0.5, 0.8, 1.5, 3, 7, 11, 12, 11, 8, 9, 11, 11, 10, 8, 6, 5, 5, 4, 3, 2],
    "web_form": [2, 1, 0.7, 0.5, 0.5, 0.8, 1.5, 3, 6, 10, 11, 10, 8, 9, 10, 10, 9, 8, 7, 6, 6, 5, 4, 3],
}


@dataclass(frozen=True, slots=True)
class Timeline:
    """The demo's window in UTC epoch seconds (end exclusive) and its calendar landmarks."""

    start: int
    end: int
    history_start: int  # orders begin HISTORY_DAYS before the window
    tz: str
    quarters: tuple[Period, ...]
    last_complete_quarter: Period
    vendor_change_day: date

    def epoch(self, day: date) -> int:
        """Local midnight of `day` as UTC epoch seconds."""
        return timeline_day(day, self.tz)

    @property
    def hours(self) -> int:
        return (self.end - self.start) // HOUR


def timeline_day(day: date, tz: str) -> int:
    return int(local_midnight_utc(day, tz).timestamp())


def build_timeline(end_date: date, tz: str) -> Timeline:
    """Eight quarters up to and including `end_date` (the last one may be partial)."""
    last = period_containing("quarter", end_date)
    quarters = [last]
    for _ in range(7):
        quarters.insert(0, quarters[0].previous())
    complete = last if end_date + timedelta(days=1) >= last.end_date else last.previous()
    start = int(quarters[0].start(tz).timestamp())
    return Timeline(
        start=start,
        end=int(local_midnight_utc(end_date + timedelta(days=1), tz).timestamp()),
        history_start=timeline_day(quarters[0].start_date - timedelta(days=HISTORY_DAYS), tz),
        tz=tz,
        quarters=tuple(quarters),
        last_complete_quarter=complete,
        vendor_change_day=complete.start_date + timedelta(days=10),
    )


def _seasonal_factor(days: pl.Series) -> np.ndarray:
    """Shopping-festival multipliers by local date: 618, 双十一 (11.11), 双十二, Spring Festival dip."""
    frame = pl.DataFrame({"day": days}).with_columns(
        month=pl.col("day").dt.month(), dom=pl.col("day").dt.day()
    )
    factor = frame.select(
        pl.when((pl.col("month") == 6) & (pl.col("dom") == 18))
        .then(2.6)
        .when((pl.col("month") == 6) & (pl.col("dom") < 18))
        .then(1.35)
        .when((pl.col("month") == 11) & (pl.col("dom") == 11))
        .then(5.0)
        .when((pl.col("month") == 11) & (pl.col("dom") < 11))
        .then(2.0)
        .when((pl.col("month") == 11) & (pl.col("dom") <= 25))
        .then(1.5)
        .when((pl.col("month") == 12) & (pl.col("dom") == 12))
        .then(1.8)
        .when(
            ((pl.col("month") == 1) & (pl.col("dom") >= 20))
            | ((pl.col("month") == 2) & (pl.col("dom") <= 15))
        )
        .then(0.75)
        .otherwise(1.0)
        .alias("factor")
    )
    return factor["factor"].to_numpy()


def hourly_intensity(
    timeline: Timeline, *, start: int, hour_weights: np.ndarray, weekday_weights: np.ndarray
) -> np.ndarray:
    """Relative activity per hour from `start` to the window's end: hour of day × weekday × season ×
    12%/year growth."""
    hours = (timeline.end - start) // HOUR
    starts = pl.Series("t", (start + np.arange(hours) * HOUR) * 1_000_000, dtype=pl.Int64).cast(
        pl.Datetime("us", "UTC")
    )
    local = starts.dt.convert_time_zone(timeline.tz)
    hours_of_day = local.dt.hour().to_numpy()
    weekdays = local.dt.weekday().to_numpy() - 1
    # The repeat buyers' rhythm grows a little faster than the 12% a year the business grows as a whole:
    # one-time buyers follow sign-ups, which do not grow.
    growth = 1 + REPEAT_GROWTH * (start - timeline.start + np.arange(hours) * HOUR) / (365 * DAY)
    return hour_weights[hours_of_day] * weekday_weights[weekdays] * _seasonal_factor(local.dt.date()) * growth


def _local(timeline: Timeline, instants: np.ndarray) -> pl.Series:
    return to_datetime(instants).dt.convert_time_zone(timeline.tz)


def season_at(timeline: Timeline, instants: np.ndarray) -> np.ndarray:
    """The shopping-calendar multiplier of each instant's local day (busy days load the service desk)."""
    return _seasonal_factor(_local(timeline, instants).dt.date())


def local_hour_weekday(timeline: Timeline, instants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(local hour 0–23, weekday 0 = Monday) of epoch-second instants."""
    local = _local(timeline, instants)
    return local.dt.hour().cast(pl.Int64).to_numpy(), local.dt.weekday().cast(pl.Int64).to_numpy() - 1


def at_local_hour(
    rng: np.random.Generator, timeline: Timeline, instants: np.ndarray, channels: np.ndarray
) -> np.ndarray:
    """Each instant moved to a time of the same local day drawn from its channel's hour profile."""
    hour, _ = local_hour_weekday(timeline, instants)
    local_seconds = (hour * HOUR + (instants - timeline.start) % HOUR).astype(np.int64)
    day_start = instants - local_seconds  # local midnight (DST-free zones; exact for the demo's zone)
    drawn = np.empty(len(instants), dtype=np.int64)
    for channel, weights in CHANNEL_HOURS.items():
        rows = np.flatnonzero(channels == channel)
        p = np.asarray(weights, dtype=float)
        drawn[rows] = rng.choice(24, size=len(rows), p=p / p.sum()) * HOUR
    return day_start + drawn + rng.integers(0, HOUR, len(instants))


@dataclass(frozen=True, slots=True)
class TimeSampler:
    """Draws instants with a given hourly intensity, optionally restricted to [lo, hi)."""

    edges: np.ndarray  # epoch seconds of hour boundaries, len hours + 1
    cdf: np.ndarray  # cumulative share of intensity at each edge

    @classmethod
    def of(cls, timeline: Timeline, rhythm: Rhythm) -> "TimeSampler":
        """Orders from the start of the history; contacts (tickets not about an order, NPS mailings)
        over the window, by day (their hour of day is drawn per channel)."""
        if rhythm == "orders":
            start, hours, weekdays = timeline.history_start, _ORDER_HOURS, _ORDER_WEEKDAYS
        else:
            start, hours, weekdays = timeline.start, np.ones(24), TICKET_WEEKDAYS
        weights = hourly_intensity(timeline, start=start, hour_weights=hours, weekday_weights=weekdays)
        cdf = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
        edges = start + np.arange(len(weights) + 1, dtype=np.float64) * HOUR
        return cls(edges=edges, cdf=cdf)

    def share(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Share of the total intensity between lo and hi (0 where hi ≤ lo)."""
        return np.clip(np.interp(hi, self.edges, self.cdf) - np.interp(lo, self.edges, self.cdf), 0, 1)

    def draw(self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """One instant per (lo, hi) pair, following the intensity; epoch seconds as int64."""
        f_lo = np.interp(lo, self.edges, self.cdf)
        f_hi = np.interp(hi, self.edges, self.cdf)
        u = f_lo + rng.random(len(f_lo)) * (f_hi - f_lo)
        instants = np.interp(u, self.cdf, self.edges)
        return np.clip(
            instants.astype(np.int64), lo.astype(np.int64), np.maximum(hi.astype(np.int64) - 1, lo)
        )
