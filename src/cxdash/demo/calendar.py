"""When things happen: the demo's time window and its hour-by-hour intensity (weekday, hour, 618, 双十一)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from cxdash.periods import Period, local_midnight_utc, period_containing

HOUR = 3600
DAY = 86400

# Relative activity by local hour: shoppers peak late morning and evening, service desks in office hours.
_ORDER_HOURS = np.array(
    [3, 2, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 10, 9, 9, 9, 8, 8, 9, 11, 13, 14, 11, 6], dtype=float
)
_TICKET_HOURS = np.array(
    [1, 1, 1, 1, 1, 1, 2, 4, 8, 12, 13, 12, 9, 10, 12, 12, 11, 10, 8, 7, 7, 6, 4, 2], dtype=float
)
_ORDER_WEEKDAYS = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 1.15, 1.1])
_TICKET_WEEKDAYS = np.array([1.15, 1.1, 1.05, 1.0, 1.0, 0.8, 0.75])

Rhythm = Literal["orders", "tickets"]


@dataclass(frozen=True, slots=True)
class Timeline:
    """The demo's window in UTC epoch seconds (end exclusive) and its calendar landmarks."""

    start: int
    end: int
    tz: str
    quarters: tuple[Period, ...]
    last_complete_quarter: Period
    vendor_change_day: date

    def epoch(self, day: date) -> int:
        """Local midnight of `day` as UTC epoch seconds."""
        return int(local_midnight_utc(day, self.tz).timestamp())

    @property
    def hours(self) -> int:
        return (self.end - self.start) // HOUR


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
        .then(4.5)
        .when((pl.col("month") == 11) & (pl.col("dom") < 11))
        .then(1.7)
        .when((pl.col("month") == 11) & (pl.col("dom") <= 25))
        .then(1.4)
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


def hourly_intensity(timeline: Timeline, rhythm: Rhythm) -> np.ndarray:
    """Relative activity per hour of the window: hour of day × weekday × season × 12%/year growth."""
    starts = pl.Series(
        "t", (timeline.start + np.arange(timeline.hours) * HOUR) * 1_000_000, dtype=pl.Int64
    ).cast(pl.Datetime("us", "UTC"))
    local = starts.dt.convert_time_zone(timeline.tz)
    hours_of_day = local.dt.hour().to_numpy()
    weekdays = local.dt.weekday().to_numpy() - 1
    hour_w, weekday_w = (
        (_ORDER_HOURS, _ORDER_WEEKDAYS) if rhythm == "orders" else (_TICKET_HOURS, _TICKET_WEEKDAYS)
    )
    growth = 1 + 0.12 * np.arange(timeline.hours) / (365 * 24)
    return hour_w[hours_of_day] * weekday_w[weekdays] * _seasonal_factor(local.dt.date()) * growth


@dataclass(frozen=True, slots=True)
class TimeSampler:
    """Draws instants with a given hourly intensity, optionally restricted to [lo, hi)."""

    edges: np.ndarray  # epoch seconds of hour boundaries, len hours + 1
    cdf: np.ndarray  # cumulative share of intensity at each edge

    @classmethod
    def of(cls, timeline: Timeline, rhythm: Rhythm) -> "TimeSampler":
        weights = hourly_intensity(timeline, rhythm)
        cdf = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
        edges = timeline.start + np.arange(timeline.hours + 1, dtype=np.float64) * HOUR
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
