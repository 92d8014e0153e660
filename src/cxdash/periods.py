"""Calendar periods (quarter, month, ISO week) in the display timezone, as half-open UTC windows."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from cxdash.errors import InputError

PeriodKind = Literal["quarter", "month", "week", "custom"]

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")


@dataclass(frozen=True, slots=True)
class DataSpan:
    """From the earliest ticket or order to data_as_of (the latest timestamp in the data)."""

    first: datetime
    data_as_of: datetime


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar period: `label` like 2026Q3, 2026-07 or 2026-W27; local start/end dates (end exclusive)."""

    kind: PeriodKind
    label: str
    start_date: date
    end_date: date

    def start(self, tz: str) -> datetime:
        """Start instant in UTC (inclusive)."""
        return local_midnight_utc(self.start_date, tz)

    def end(self, tz: str) -> datetime:
        """End instant in UTC (exclusive)."""
        return local_midnight_utc(self.end_date, tz)

    def previous(self) -> "Period":
        """The period of the same kind just before this one (a custom range: as many days before it)."""
        if self.kind == "custom":
            length = self.end_date - self.start_date
            return custom_period(self.start_date - length, self.start_date - timedelta(days=1))
        return period_containing(self.kind, self.start_date - timedelta(days=1))

    def same_last_year(self) -> "Period":
        """The period of the same kind one year earlier (same quarter, month or ISO week number)."""
        if self.kind == "custom":
            return custom_period(
                _year_earlier(self.start_date), _year_earlier(self.end_date) - timedelta(days=1)
            )
        if self.kind == "week":
            year, week = int(self.label[:4]), int(self.label[-2:])
            prior_year_weeks = date(year - 1, 12, 28).isocalendar().week
            return parse_period(f"{year - 1}-W{min(week, prior_year_weeks):02d}")
        return period_containing(self.kind, self.start_date.replace(year=self.start_date.year - 1))


def _year_earlier(day: date) -> date:
    return (
        day.replace(year=day.year - 1, day=28)
        if (day.month, day.day) == (2, 29)
        else day.replace(year=day.year - 1)
    )


def custom_period(first: date, last: date) -> Period:
    """A custom range of whole local days, `first` to `last` inclusive."""
    if last < first:
        raise InputError(
            f"The range ends ({last}) before it starts ({first}).",
            key="errors.range_reversed",
            first=first.isoformat(),
            last=last.isoformat(),
        )
    return Period("custom", f"{first.isoformat()}..{last.isoformat()}", first, last + timedelta(days=1))


def local_midnight_utc(day: date, tz: str) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def parse_period(text: str) -> Period:
    """Parse `2026Q3`, `2026-07` or `2026-W27`; anything else raises InputError."""
    cleaned = text.strip().upper()
    if m := _QUARTER.match(cleaned):
        year, quarter = int(m[1]), int(m[2])
        return period_containing("quarter", date(year, 3 * quarter - 2, 1))
    if m := _MONTH.match(cleaned):
        return period_containing("month", date(int(m[1]), int(m[2]), 1))
    if m := _WEEK.match(cleaned):
        year, week = int(m[1]), int(m[2])
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise InputError(
                f"{year} has no ISO week {week}.", key="errors.no_iso_week", year=year, week=week
            ) from None
        return period_containing("week", monday)
    raise InputError(
        f"'{text}' is not a period. Use a quarter like 2026Q3, a month like 2026-07 "
        "or an ISO week like 2026-W27.",
        key="errors.not_a_period",
        text=text,
    )


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The period of `kind` that contains local date `day`."""
    if kind == "quarter":
        quarter = (day.month - 1) // 3 + 1
        start = date(day.year, 3 * quarter - 2, 1)
        end = date(day.year + 1, 1, 1) if quarter == 4 else date(day.year, 3 * quarter + 1, 1)
        return Period("quarter", f"{day.year}Q{quarter}", start, end)
    if kind == "month":
        start = day.replace(day=1)
        end = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
        return Period("month", f"{day.year}-{day.month:02d}", start, end)
    iso = day.isocalendar()
    start = day - timedelta(days=iso.weekday - 1)
    return Period("week", f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=7))


def periods_between(kind: PeriodKind, first: date, last: date) -> list[Period]:
    """Every period of `kind` from the one containing `first` to the one containing `last`."""
    periods = [period_containing(kind, first)]
    while periods[-1].end_date <= last:
        periods.append(period_containing(kind, periods[-1].end_date))
    return periods


def local_date(instant: datetime, tz: str) -> date:
    """The calendar date of a UTC instant in the display timezone."""
    return instant.astimezone(ZoneInfo(tz)).date()


def periods_with_data(kind: PeriodKind, span: DataSpan, tz: str) -> list[Period]:
    """Every period of `kind` that overlaps the data."""
    return periods_between(kind, local_date(span.first, tz), local_date(span.data_as_of, tz))


def check_period(period: Period, span: DataSpan, tz: str) -> None:
    """InputError unless the period overlaps the data."""
    if period.end(tz) <= span.first or period.start(tz) > span.data_as_of:
        known = periods_with_data(period.kind, span, tz)
        raise InputError(
            f"No data in {period.label}: the data covers {known[0].label} to {known[-1].label}.",
            key="errors.period_without_data",
            period=period.label,
            first=known[0].label,
            last=known[-1].label,
        )


def is_running(period: Period, span: DataSpan, tz: str) -> bool:
    """A period whose end is after data_as_of is still running (METRICS.md)."""
    return period.end(tz) > span.data_as_of
