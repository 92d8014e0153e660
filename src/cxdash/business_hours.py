"""Business hours: working calendars (weekly hours, Chinese public holidays and swaps) and working time.

A `CalendarSetup` compiles once into `WorkingHours`: every calendar's working intervals over a date
range as UTC instants in one sorted key space (key = calendar index × OFFSET + epoch microseconds)
with the working microseconds before each interval (cum). The working time before an instant is
B(key) = cum[i] + min(key − start[i], length[i]) with i = search_sorted(starts, key, side="right") − 1,
and a duration is B(end) − B(start): vectorised, no loop over tickets (the Polars expression finds i
through an hourly bucket table, see `_row_expr`). Instants outside the compiled range count no
working time (B is constant there).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import polars as pl

from cxdash.errors import InputError

Clock = Literal["calendar", "business"]
CLOCKS: tuple[Clock, ...] = ("calendar", "business")
PUBLIC_HOLIDAYS = ("CN",)

DAY_MINUTES = 1440
MINUTE_US = 60_000_000
DAY_US = 86_400_000_000
# One key space per calendar: 10**17 µs is about 3,169 years, so calendar × OFFSET + epoch µs never
# collides while instants are clipped to ±LIMIT (years 386–3554); int64 then holds MAX_CALENDARS.
OFFSET = 10**17
LIMIT = OFFSET // 2 - 1
MAX_CALENDARS = 90
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
BUCKET_US = 3_600_000_000  # the Polars look-up's bucket: one hour


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Weekly working hours in a time zone, with public holidays and company days off / on."""

    calendar_id: str
    name: str
    tz: str  # IANA zone, e.g. "Asia/Shanghai"
    # ISO weekday 1..7 -> working intervals (open_minute, close_minute) from local midnight,
    # 0 <= open < close <= 1440, sorted, non-overlapping; a weekday absent (or empty) is closed.
    hours: Mapping[int, tuple[tuple[int, int], ...]]
    # "CN": mainland China statutory holidays and working-day swaps (调休) from `chinese_calendar`.
    public_holidays: str | None = "CN"
    closed_days: frozenset[date] = frozenset()  # extra days off; win over everything
    open_days: frozenset[date] = frozenset()  # extra working days (e.g. a swap the package lacks)


@dataclass(frozen=True, slots=True)
class CalendarSetup:
    """The calendars (the first is the default), which team works which, and each SLA policy's clock."""

    calendars: tuple[BusinessCalendar, ...]
    team_calendars: Mapping[str, str] = field(default_factory=dict)  # team_id -> calendar_id
    # priority -> clock of that SLA policy's targets under the business clock; missing = "business"
    sla_clocks: Mapping[str, Clock] = field(default_factory=dict)


_WEEKDAY_9_TO_6 = ((9 * 60, 18 * 60),)
DEFAULT_CALENDAR = BusinessCalendar(
    calendar_id="standard",
    name="Standard (Mon–Fri 09:00–18:00)",
    tz="Asia/Shanghai",
    hours=dict.fromkeys(range(1, 6), _WEEKDAY_9_TO_6),
    public_holidays="CN",
)
DEFAULT_SETUP = CalendarSetup(calendars=(DEFAULT_CALENDAR,))


@cache
def holiday_years() -> tuple[int, int]:
    """First and last year the installed `chinese_calendar` has holidays for."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def _zone_problem(tz: str) -> str | None:
    try:
        ZoneInfo(tz)
    except (KeyError, ValueError, TypeError):  # ZoneInfoNotFoundError is a KeyError
        return f"Unknown time zone '{tz}' (use an IANA name such as Asia/Shanghai)."
    return None


def _weekday_problems(weekday: object, intervals: Sequence[tuple[int, int]]) -> list[str]:
    if not isinstance(weekday, int) or not 1 <= weekday <= 7:
        return [f"Weekday {weekday!r} is not an ISO weekday (1 = Monday … 7 = Sunday)."]
    problems = []
    for open_minute, close_minute in intervals:
        if not (0 <= open_minute <= DAY_MINUTES and 0 <= close_minute <= DAY_MINUTES):
            problems.append(
                f"Weekday {weekday}: {open_minute}–{close_minute} is outside the day (minutes 0–1440)."
            )
        elif open_minute >= close_minute:
            problems.append(f"Weekday {weekday}: opens at minute {open_minute}, not before it closes.")
    for (_, close_minute), (next_open, _) in pairwise(intervals):
        if next_open < close_minute:
            problems.append(
                f"Weekday {weekday}: intervals overlap or are out of order ({next_open} < {close_minute})."
            )
    return problems


def calendar_problems(calendar: BusinessCalendar) -> list[str]:
    """What is wrong with a calendar, in plain English; [] when it is valid."""
    problems = []
    if not calendar.calendar_id:
        problems.append("The calendar has no id.")
    if zone := _zone_problem(calendar.tz):
        problems.append(zone)
    if calendar.public_holidays is not None and calendar.public_holidays not in PUBLIC_HOLIDAYS:
        problems.append(
            f"Unknown public holidays '{calendar.public_holidays}' (use one of {', '.join(PUBLIC_HOLIDAYS)} "
            "or none)."
        )
    for weekday, intervals in sorted(calendar.hours.items(), key=lambda item: str(item[0])):
        problems.extend(_weekday_problems(weekday, intervals))
    return problems


def setup_problems(setup: CalendarSetup) -> list[str]:
    """What is wrong with a setup (each calendar, ids, team assignments, clocks); [] when it is valid."""
    if not setup.calendars:
        return ["There is no calendar (the first one is the default)."]
    problems = [
        f"Calendar '{calendar.calendar_id}': {problem}"
        for calendar in setup.calendars
        for problem in calendar_problems(calendar)
    ]
    ids = [calendar.calendar_id for calendar in setup.calendars]
    problems.extend(f"Calendar id '{i}' is used twice." for i in sorted({i for i in ids if ids.count(i) > 1}))
    if len(ids) > MAX_CALENDARS:
        problems.append(f"{len(ids)} calendars; at most {MAX_CALENDARS} are supported.")
    problems.extend(
        f"Team '{team}' works calendar '{calendar_id}', which does not exist."
        for team, calendar_id in sorted(setup.team_calendars.items())
        if calendar_id not in ids
    )
    problems.extend(
        f"Priority '{priority}' has clock '{clock}'; use 'calendar' or 'business'."
        for priority, clock in sorted(setup.sla_clocks.items())
        if clock not in CLOCKS
    )
    return problems


def _swap_day_hours(calendar: BusinessCalendar) -> tuple[tuple[int, int], ...]:
    """The hours of an extra working day: Monday's, or the first weekday that has hours."""
    for weekday in range(1, 8):
        if intervals := calendar.hours.get(weekday):
            return tuple(intervals)
    return ()


def day_hours(calendar: BusinessCalendar, day: date) -> tuple[tuple[int, int], ...]:
    """The working intervals (minutes from local midnight) of one local date, after holidays and swaps."""
    if day in calendar.closed_days:
        return ()
    own = tuple(calendar.hours.get(day.isoweekday(), ()))
    if day in calendar.open_days:
        return own or _swap_day_hours(calendar)
    if calendar.public_holidays == "CN":
        first_year, last_year = holiday_years()
        # The package's own precedence (get_holiday_detail): a swapped workday first, then a holiday;
        # read from its tables because its functions raise outside the covered years.
        if first_year <= day.year <= last_year:
            if day in chinese_calendar.workdays:
                return own or _swap_day_hours(calendar)
            if day in chinese_calendar.holidays:
                return ()
    return own


@dataclass(frozen=True, slots=True, eq=False)  # holds arrays: compared and hashed by identity
class WorkingHours:
    """A CalendarSetup compiled to sorted working intervals over a date range (UTC, microseconds)."""

    setup: CalendarSetup
    first_day: date
    last_day: date
    # One row per interval, a zero-length sentinel first; key = calendar index × OFFSET + epoch µs.
    starts: np.ndarray  # int64 keys, sorted
    lengths: np.ndarray  # int64 µs, > 0 but for the sentinel
    cum: np.ndarray  # int64 working µs before each interval (over the whole array)
    first_interval: np.ndarray  # int64 per calendar: its first row
    last_interval: np.ndarray  # int64 per calendar: its last row (first − 1 when it has none)
    last_close: np.ndarray  # int64 per calendar: epoch µs of its last closing (−LIMIT when none)
    team_index: Mapping[str, int]
    uncovered_years: tuple[int, ...]  # years in range with a CN calendar whose holidays the package lacks
    # For Polars, search_sorted is replaced by an hourly bucket table (see _row_expr).
    bucket_base_us: int  # epoch µs where bucket 1 starts (bucket 0 holds everything earlier)
    bucket_count: int  # buckets 1..bucket_count cover the range; bucket_count + 1 holds everything later
    bucket_rows: pl.Series  # per (calendar, bucket): the row search_sorted gives at the bucket's start
    probe_steps: int  # most interval starts inside one bucket after its start
    probe_starts: pl.Series  # starts, padded with probe_steps never-reached keys
    # Struct per row (shift = start − cum, cum_end = cum + length): B(key) = min(key − shift, cum_end).
    rows: pl.Series

    def calendar_index(self, team_id: str | None) -> int:
        """The index of the calendar a team works; 0 (the default) for an unknown or missing team."""
        return self.team_index.get(team_id, 0) if team_id is not None else 0

    def calendar_index_expr(self, team: pl.Expr) -> pl.Expr:
        """team_id column → calendar index (Int64); 0 (the default) for unknown or null teams."""
        return team.replace_strict(
            list(self.team_index), list(self.team_index.values()), default=0, return_dtype=pl.Int64
        )

    def sla_clock(self, priority: str) -> Clock:
        """The clock of a priority's SLA targets under the business clock ("business" unless set)."""
        return self.setup.sla_clocks.get(priority, "business")


def _midnight_offset_us(tz: ZoneInfo, day: date) -> int:
    return datetime.combine(day, datetime.min.time(), tz).utcoffset() // timedelta(microseconds=1)


def _utc_offsets_us(tz: ZoneInfo, first_day: date, days: int) -> list[int]:
    """UTC offset (µs) at local midnight of each of `days` + 1 consecutive days."""
    # Sampled weekly and filled in day by day only across a change: a zone changes its clock at most
    # a few times a year and never twice within a week; a zoneinfo call per day was most of compiling.
    weekly = [_midnight_offset_us(tz, first_day + timedelta(days=n)) for n in range(0, days + 8, 7)]
    offsets = []
    for week, (offset, next_offset) in enumerate(pairwise(weekly)):
        if offset == next_offset:
            offsets.extend([offset] * 7)
        else:
            start = first_day + timedelta(days=7 * week)
            offsets.extend(
                [offset] + [_midnight_offset_us(tz, start + timedelta(days=n)) for n in range(1, 7)]
            )
    return offsets[: days + 1]


def _local_to_utc_us(tz: ZoneInfo, day: date, minute: int) -> int:
    """Epoch µs of a local wall time, with zoneinfo's rule for gaps and folds (fold = 0)."""
    local = datetime.combine(day, datetime.min.time(), tz) + timedelta(minutes=minute)
    return (local.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _calendar_intervals(calendar: BusinessCalendar, first_day: date, last_day: date) -> np.ndarray:
    """One calendar's working intervals over the range as an (n, 2) int64 array of UTC epoch µs."""
    tz = ZoneInfo(calendar.tz)
    days = (last_day - first_day).days + 1
    offsets = _utc_offsets_us(tz, first_day, days)
    rows = []
    for n in range(days):
        day = first_day + timedelta(days=n)
        intervals = day_hours(calendar, day)
        if not intervals:
            continue
        if offsets[n] == offsets[n + 1]:  # no clock change that day: one offset for all its times
            midnight = (day.toordinal() - _EPOCH_ORDINAL) * DAY_US - offsets[n]
            rows.extend((midnight + o * MINUTE_US, midnight + c * MINUTE_US) for o, c in intervals)
        else:
            rows.extend((_local_to_utc_us(tz, day, o), _local_to_utc_us(tz, day, c)) for o, c in intervals)
    spans = np.array(rows, dtype=np.int64).reshape(-1, 2)
    # A clock change can make wall-time intervals overlap or invert in UTC: never count a µs twice.
    if len(spans):
        previous_end = np.maximum.accumulate(np.concatenate(([-LIMIT], spans[:-1, 1])))
        spans[:, 0] = np.maximum(spans[:, 0], previous_end)
    return spans[spans[:, 1] > spans[:, 0]]


def _uncovered_years(setup: CalendarSetup, first_day: date, last_day: date) -> tuple[int, ...]:
    if not any(calendar.public_holidays == "CN" for calendar in setup.calendars):
        return ()
    first_year, last_year = holiday_years()
    return tuple(
        year for year in range(first_day.year, last_day.year + 1) if not first_year <= year <= last_year
    )


def _bucket_table(starts: np.ndarray, calendars: int, base_us: int, count: int) -> tuple[np.ndarray, int]:
    """search_sorted(starts, ·, "right") − 1 at each bucket start, and the most starts inside one bucket."""
    offsets = np.arange(-1, count + 1, dtype=np.int64) * BUCKET_US + base_us
    bucket_keys = (np.arange(calendars, dtype=np.int64)[:, None] * OFFSET + offsets[None, :]).ravel()
    bucket_keys[:: count + 2] = np.arange(calendars, dtype=np.int64) * OFFSET - LIMIT  # all earlier times
    rows = np.searchsorted(starts, bucket_keys, side="right") - 1
    real = np.arange(1, len(starts))
    calendar = (starts[1:] + OFFSET // 2) // OFFSET
    bucket = np.clip((starts[1:] - calendar * OFFSET - base_us + BUCKET_US) // BUCKET_US, 0, count + 1)
    probe_steps = int(np.max(real - rows[calendar * (count + 2) + bucket], initial=0))
    return rows, probe_steps


def compile_working_hours(setup: CalendarSetup, *, first_day: date, last_day: date) -> WorkingHours:
    """Compile a setup's calendars over [first_day, last_day] (local dates); InputError if invalid."""
    if problems := setup_problems(setup):
        raise InputError("The business calendars are not valid: " + " ".join(problems))
    if last_day < first_day:
        raise InputError(f"The business-hours range ends ({last_day}) before it starts ({first_day}).")
    if first_day.year < 387 or last_day.year > 3553:
        raise InputError(f"Business hours cover years 387–3553, not {first_day.year}–{last_day.year}.")
    spans = [_calendar_intervals(c, first_day, last_day) for c in setup.calendars]
    sizes = np.array([len(s) for s in spans], dtype=np.int64)
    first_interval = 1 + np.concatenate(([0], np.cumsum(sizes)[:-1]))
    keys = np.concatenate(
        [np.array([[-OFFSET, -OFFSET]], dtype=np.int64)]
        + [s + index * OFFSET for index, s in enumerate(spans)]
    )
    starts, lengths = keys[:, 0].copy(), keys[:, 1] - keys[:, 0]
    cum = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    # Local dates lie within a day of UTC dates (offsets are −12 h to +14 h): a margin of two.
    base_us = (first_day.toordinal() - 2 - _EPOCH_ORDINAL) * DAY_US
    count = -(-((last_day.toordinal() + 3 - _EPOCH_ORDINAL) * DAY_US - base_us) // BUCKET_US)
    bucket_rows, probe_steps = _bucket_table(starts, len(spans), base_us, count)
    index = {calendar.calendar_id: n for n, calendar in enumerate(setup.calendars)}
    return WorkingHours(
        setup=setup,
        first_day=first_day,
        last_day=last_day,
        starts=starts,
        lengths=lengths,
        cum=cum,
        first_interval=first_interval,
        last_interval=first_interval + sizes - 1,
        last_close=np.array([s[-1, 1] if len(s) else -LIMIT for s in spans], dtype=np.int64),
        team_index={team: index[calendar_id] for team, calendar_id in setup.team_calendars.items()},
        uncovered_years=_uncovered_years(setup, first_day, last_day),
        bucket_base_us=base_us,
        bucket_count=count,
        bucket_rows=pl.Series("bucket_rows", bucket_rows),
        probe_steps=probe_steps,
        probe_starts=pl.Series(
            "probe_starts", np.concatenate((starts, np.full(probe_steps, np.iinfo(np.int64).max)))
        ),
        rows=pl.DataFrame({"shift": starts - cum, "cum_end": cum + lengths}).to_struct("rows"),
    )


def _row_expr(calendar: str, instant: str, key: str, hours: WorkingHours) -> pl.Expr:
    """search_sorted(starts, key, "right") − 1 from struct fields, as a bucket look-up plus a few probes.

    Polars' search_sorted into a literal costs ~0.13 s per million keys and is not shared between
    uses, while a gather costs ~5 ms: the row at the start of the key's hour, then one probe per
    interval that can start inside that hour (probe_steps, 0 or 1 for ordinary calendars).
    """
    shifted = (pl.field(instant) - hours.bucket_base_us + BUCKET_US).clip(
        0, (hours.bucket_count + 1) * BUCKET_US
    )
    bucket_row = pl.lit(hours.bucket_rows).gather(
        pl.field(calendar) * (hours.bucket_count + 2) + shifted // BUCKET_US
    )
    probes = (
        (pl.lit(hours.probe_starts).gather(bucket_row + step) <= pl.field(key)).cast(pl.Int64)
        for step in range(1, hours.probe_steps + 1)
    )
    return pl.sum_horizontal(bucket_row, *probes) if hours.probe_steps else bucket_row


def _working_us_expr(key: str, row: str) -> pl.Expr:
    """B(key) from the gathered row struct: min(key − shift, cum_end); null for a null key."""
    return (pl.field(key) - pl.field(row).struct.field("shift")).clip(
        upper_bound=pl.field(row).struct.field("cum_end")
    )


def business_seconds_expr(
    start: pl.Expr, end: pl.Expr, calendar_index: pl.Expr, hours: WorkingHours
) -> pl.Expr:
    """Working seconds from start to end (Float64, negative if end is earlier); null if either is null."""
    # One struct whose fields are computed once each: Polars does not share subexpressions that
    # hold a literal Series, so a plain expression would repeat every look-up it uses twice.
    fields = pl.struct(
        calendar=calendar_index.cast(pl.Int64),
        start=start.dt.epoch("us").clip(-LIMIT, LIMIT),
        end=end.dt.epoch("us").clip(-LIMIT, LIMIT),
    )
    fields = fields.struct.with_fields(
        start_key=pl.field("calendar") * OFFSET + pl.field("start"),
        end_key=pl.field("calendar") * OFFSET + pl.field("end"),
    )
    fields = fields.struct.with_fields(
        start_row=pl.lit(hours.rows).gather(_row_expr("calendar", "start", "start_key", hours)),
        end_row=pl.lit(hours.rows).gather(_row_expr("calendar", "end", "end_key", hours)),
    )
    working_us = _working_us_expr("end_key", "end_row") - _working_us_expr("start_key", "start_row")
    seconds = fields.struct.with_fields(working_us=working_us).struct.field("working_us").cast(pl.Float64)
    # × 1e-6 is what Polars makes of / 1e6 (whole seconds stay exact); written out so the numpy twin
    # matches it bit for bit. Named business_seconds unless the caller aliases it.
    return (seconds * 1e-6).alias("business_seconds")


def _keys(calendar_index: np.ndarray, instant_us: np.ndarray) -> np.ndarray:
    return np.asarray(calendar_index, dtype=np.int64) * OFFSET + np.clip(
        np.asarray(instant_us, dtype=np.int64), -LIMIT, LIMIT
    )


def _working_us_before(hours: WorkingHours, keys: np.ndarray) -> np.ndarray:
    row = np.searchsorted(hours.starts, keys, side="right") - 1
    return hours.cum[row] + np.minimum(keys - hours.starts[row], hours.lengths[row])


def business_seconds(
    hours: WorkingHours, calendar_index: np.ndarray, start_us: np.ndarray, end_us: np.ndarray
) -> np.ndarray:
    """Working seconds from start to end (epoch µs, int64) per row, as float; the twin of the expression."""
    working_us = _working_us_before(hours, _keys(calendar_index, end_us)) - _working_us_before(
        hours, _keys(calendar_index, start_us)
    )
    return working_us.astype(np.float64) * 1e-6


def add_business_seconds(
    hours: WorkingHours, calendar_index: np.ndarray, start_us: np.ndarray, seconds: np.ndarray
) -> np.ndarray:
    """Epoch µs (int64) when `seconds` (≥ 0) of working time have passed after start.

    The result always lies in working hours [open, close): a start outside hours waits for the next
    opening, and a target reached exactly at a closing is the next opening. Past the compiled range
    there are no hours to count, so the rest runs as calendar time after the calendar's last closing.
    """
    seconds = np.asarray(seconds, dtype=np.float64)
    if not np.isfinite(seconds).all() or (seconds < 0).any():
        raise ValueError("add_business_seconds needs finite seconds >= 0.")
    calendar_index = np.asarray(calendar_index, dtype=np.int64)
    start_us = np.asarray(start_us, dtype=np.int64)
    target = _working_us_before(hours, _keys(calendar_index, start_us)) + np.rint(seconds * 1e6).astype(
        np.int64
    )
    # side="right": the first interval whose end lies beyond the target holds it strictly before closing.
    row = np.searchsorted(hours.cum + hours.lengths, target, side="right")
    last = hours.last_interval[calendar_index]
    inside = row <= last
    row = np.minimum(row, len(hours.starts) - 1)
    within = hours.starts[row] - calendar_index * OFFSET + (target - hours.cum[row])
    calendar_total = hours.cum[last] + hours.lengths[last]
    beyond = np.maximum(start_us, hours.last_close[calendar_index]) + (target - calendar_total)
    return np.where(inside, within, beyond)
