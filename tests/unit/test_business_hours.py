"""Business hours: calendars, holidays and swaps, working seconds (Polars and numpy) and their inverse."""

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxdash.business_hours import (
    CLOCKS,
    DEFAULT_CALENDAR,
    DEFAULT_SETUP,
    BusinessCalendar,
    CalendarSetup,
    add_business_seconds,
    business_seconds,
    business_seconds_expr,
    calendar_problems,
    compile_working_hours,
    day_hours,
    holiday_years,
    setup_problems,
)
from cxdash.errors import InputError

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600.0
WEEKDAYS = range(1, 6)

LUNCH = BusinessCalendar(
    "lunch", "Lunch break", "Asia/Shanghai", dict.fromkeys(WEEKDAYS, ((9 * 60, 12 * 60), (13 * 60, 18 * 60)))
)
NEW_YORK_9_TO_5 = BusinessCalendar(
    "new_york", "New York", "America/New_York", dict.fromkeys(WEEKDAYS, ((9 * 60, 17 * 60),)), None
)
OVERRIDES = BusinessCalendar(
    "overrides",
    "Standard with company days",
    "Asia/Shanghai",
    DEFAULT_CALENDAR.hours,
    "CN",
    closed_days=frozenset({date(2025, 6, 4)}),  # a Wednesday off
    open_days=frozenset({date(2025, 6, 7)}),  # a Saturday on
)
SETUP = CalendarSetup(
    calendars=(DEFAULT_CALENDAR, LUNCH, NEW_YORK_9_TO_5, OVERRIDES),
    team_calendars={"T2": "lunch", "T3": "new_york", "T4": "overrides"},
    sla_clocks={"P1": "calendar"},
)
STANDARD, LUNCH_I, NEW_YORK_I, OVERRIDES_I = range(4)


@cache
def hours():
    return compile_working_hours(SETUP, first_day=date(2025, 1, 1), last_day=date(2026, 12, 31))


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def frame(rows: list[tuple[int, datetime | None, datetime | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(c, s and s.astimezone(UTC), e and e.astimezone(UTC)) for c, s, e in rows],
        schema={"calendar": pl.Int64, "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC")},
        orient="row",
    )


def working_seconds(df: pl.DataFrame) -> list[float | None]:
    expr = business_seconds_expr(pl.col("start"), pl.col("end"), pl.col("calendar"), hours())
    return df.lazy().select(expr.alias("seconds")).collect()["seconds"].to_list()


def epoch_us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


# (case, calendar, start, end, expected hours); the arithmetic is in the comments.
CASES = [
    # Tue 10:00 → 15:30 the same day.
    ("one day", STANDARD, sh(2025, 6, 3, 10), sh(2025, 6, 3, 15, 30), 5.5),
    # Tue 16:00–18:00 = 2, Wed 09:00–10:00 = 1.
    ("across a night", STANDARD, sh(2025, 6, 3, 16), sh(2025, 6, 4, 10), 3),
    # Fri 17:00–18:00 = 1, Sat and Sun closed, Mon 09:00–10:00 = 1.
    ("across a weekend", STANDARD, sh(2025, 6, 6, 17), sh(2025, 6, 9, 10), 2),
    # Tue 30 Sep 17:00–18:00 = 1, National Day 1–8 Oct closed, Thu 9 Oct 09:00–10:00 = 1.
    ("across National Day", STANDARD, sh(2025, 9, 30, 17), sh(2025, 10, 9, 10), 2),
    # Fri 26 Sep 1, Sat 27 closed, Sun 28 Sep a swapped working day with Monday's hours 9, Mon 29 1.
    ("swapped working Sunday", STANDARD, sh(2025, 9, 26, 17), sh(2025, 9, 29, 10), 11),
    # Fri 13 Feb 17:00–18:00 = 1, Sat 14 Feb swapped, Monday's hours with lunch: 09:00–12:00 = 3.
    ("swapped Saturday, lunch", LUNCH_I, sh(2026, 2, 13, 17), sh(2026, 2, 14, 12, 30), 4),
    # Created 07:00, counts from the 09:00 opening: 09:00–10:00 = 1.
    ("created before opening", STANDARD, sh(2025, 6, 3, 7), sh(2025, 6, 3, 10), 1),
    # 19:00 to 08:00 the next morning: nothing open in between.
    ("both outside, one night", STANDARD, sh(2025, 6, 3, 19), sh(2025, 6, 4, 8), 0),
    # 15:30 back to 10:00: minus the 5.5 hours of the first case.
    ("end before start", STANDARD, sh(2025, 6, 3, 15, 30), sh(2025, 6, 3, 10), -5.5),
    # 11:00–12:00 = 1, lunch 12:00–13:00 closed, 13:00–14:00 = 1.
    ("lunch break", LUNCH_I, sh(2025, 6, 3, 11), sh(2025, 6, 3, 14), 2),
    # Fri 7 Mar 09:00–17:00 EST = 8, weekend (clocks go forward Sun 9 Mar), Mon 09:00–17:00 EDT = 8.
    ("New York across DST", NEW_YORK_I, ny(2025, 3, 7, 9), ny(2025, 3, 10, 17), 16),
    # Mon 10 Mar 13:00–21:00 UTC is 09:00–17:00 EDT = 8 (a fixed UTC−5 would give 7).
    (
        "New York after DST, UTC",
        NEW_YORK_I,
        datetime(2025, 3, 10, 13, tzinfo=UTC),
        datetime(2025, 3, 10, 21, tzinfo=UTC),
        8,
    ),
    # Fri 7 Mar 09:00–18:00 = 9, Mon 10 Mar 09:00–18:00 = 9; Shanghai has no DST.
    ("Shanghai, no DST", STANDARD, sh(2025, 3, 7, 9), sh(2025, 3, 10, 18), 18),
    # Tue 17:00–18:00 = 1, Wed 4 Jun a company day off, Thu 09:00–10:00 = 1.
    ("closed day", OVERRIDES_I, sh(2025, 6, 3, 17), sh(2025, 6, 5, 10), 2),
    # Fri 1, Sat 7 Jun a company working day with Monday's hours 9, Mon 1.
    ("open day", OVERRIDES_I, sh(2025, 6, 6, 17), sh(2025, 6, 9, 10), 11),
    # The same Wednesday in the standard calendar is an ordinary day: 17–18 = 1, Wed 9, Thu 1.
    ("no closed day in standard", STANDARD, sh(2025, 6, 3, 17), sh(2025, 6, 5, 10), 11),
]


def test_the_package_agrees_with_the_dates_used():
    assert chinese_calendar.get_holiday_detail(date(2025, 10, 1)) == (True, "National Day")
    assert chinese_calendar.get_holiday_detail(date(2025, 10, 8)) == (True, "National Day")
    assert chinese_calendar.is_workday(date(2025, 10, 9))
    assert chinese_calendar.get_holiday_detail(date(2025, 9, 28)) == (False, "National Day")
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 14)) == (False, "Spring Festival")
    for day in (date(2025, 6, 3), date(2025, 6, 6), date(2025, 6, 9), date(2025, 3, 7), date(2026, 2, 13)):
        assert chinese_calendar.get_holiday_detail(day) == (False, None)


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected_h"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_business_seconds_expr(calendar, start, end, expected_h):
    assert working_seconds(frame([(calendar, start, end)])) == [expected_h * HOUR]


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected_h"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_business_seconds_numpy(calendar, start, end, expected_h):
    got = business_seconds(
        hours(), np.array([calendar]), np.array([epoch_us(start)]), np.array([epoch_us(end)])
    )
    assert got.tolist() == [expected_h * HOUR]


def test_every_case_in_one_frame_uses_each_rows_calendar():
    rows = [c[1:4] for c in CASES]
    assert working_seconds(frame(rows)) == [c[4] * HOUR for c in CASES]


def test_null_in_null_out():
    rows = [
        (STANDARD, None, sh(2025, 6, 3, 10)),
        (STANDARD, sh(2025, 6, 3, 10), None),
        (STANDARD, None, None),
    ]
    assert working_seconds(frame(rows)) == [None, None, None]


def test_exact_to_the_microsecond():
    # Seconds are µs × 1e-6 (what Polars makes of / 1e6): whole seconds exact, µs back by rounding.
    start = sh(2025, 6, 3, 10)
    rows = [(STANDARD, start, start + timedelta(hours=1, microseconds=us)) for us in (0, 1, 7, 999_999)]
    got = working_seconds(frame(rows))
    assert got[0] == 3600.0
    assert [round(s * 1e6) for s in got] == [3_600_000_000, 3_600_000_001, 3_600_000_007, 3_600_999_999]


def test_any_time_zone_and_unit_of_the_columns():
    df = frame([(STANDARD, sh(2025, 6, 3, 10), sh(2025, 6, 3, 15, 30))]).with_columns(
        pl.col("start").dt.convert_time_zone("Asia/Shanghai").dt.cast_time_unit("ms"),
        pl.col("end").dt.cast_time_unit("ns"),
    )
    assert working_seconds(df) == [5.5 * HOUR]


def test_outside_the_compiled_range_counts_nothing():
    # 2024-12-31 is before the range and 2027-01-04 after it: only the range's own hours count,
    # Thu 31 Dec 2026 09:00–18:00 = 9.
    rows = [
        (STANDARD, sh(2024, 12, 31, 9), sh(2024, 12, 31, 18)),
        (STANDARD, sh(2026, 12, 31, 9), sh(2027, 1, 4, 18)),
    ]
    assert working_seconds(frame(rows)) == [0, 9 * HOUR]


def test_an_uncovered_year_is_reported_and_has_no_holidays():
    assert holiday_years()[1] < 2031, "the package knows 2031 now: pick a later year"
    compiled = compile_working_hours(DEFAULT_SETUP, first_day=date(2031, 1, 1), last_day=date(2031, 1, 31))
    assert compiled.uncovered_years == (2031,)
    # Wed 1 Jan 2031 is New Year's Day, but without the package's data an ordinary Wednesday: 9 hours.
    start, end = sh(2031, 1, 1, 0), sh(2031, 1, 2, 0)
    got = business_seconds(compiled, np.array([0]), np.array([epoch_us(start)]), np.array([epoch_us(end)]))
    assert got.tolist() == [9 * HOUR]


def test_covered_years_and_calendars_without_cn_report_nothing():
    assert hours().uncovered_years == ()
    no_cn = CalendarSetup((NEW_YORK_9_TO_5,))
    assert (
        compile_working_hours(no_cn, first_day=date(2031, 1, 1), last_day=date(2031, 1, 2)).uncovered_years
        == ()
    )


def test_holiday_years_come_from_the_package():
    years = sorted(day.year for day in chinese_calendar.holidays)
    assert holiday_years() == (years[0], years[-1])
    assert holiday_years()[0] <= 2025 <= holiday_years()[1]


MONDAY_CLOSED = BusinessCalendar("tue_sat", "Tue–Sat", "Asia/Shanghai", {2: ((600, 1140),), 6: ((600, 900),)})


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (DEFAULT_CALENDAR, date(2025, 6, 3), ((540, 1080),)),  # an ordinary Tuesday
        (DEFAULT_CALENDAR, date(2025, 6, 7), ()),  # an ordinary Saturday
        (DEFAULT_CALENDAR, date(2025, 10, 1), ()),  # National Day
        (DEFAULT_CALENDAR, date(2025, 9, 28), ((540, 1080),)),  # swapped Sunday: Monday's hours
        (LUNCH, date(2026, 2, 14), ((540, 720), (780, 1080))),  # swapped Saturday with lunch
        (MONDAY_CLOSED, date(2025, 9, 28), ((600, 1140),)),  # Monday closed: the first weekday with hours
        (MONDAY_CLOSED, date(2025, 10, 4), ()),  # a Saturday inside National Day: the holiday wins
        (NEW_YORK_9_TO_5, date(2025, 10, 1), ((540, 1020),)),  # no public holidays
        (NEW_YORK_9_TO_5, date(2025, 9, 28), ()),  # a Chinese swap means nothing there
        (OVERRIDES, date(2025, 6, 4), ()),  # closed day
        (OVERRIDES, date(2025, 6, 7), ((540, 1080),)),  # open day: Monday's hours
        (
            BusinessCalendar(
                "x", "x", "Asia/Shanghai", {1: ((540, 1080),)}, closed_days=frozenset({date(2025, 9, 28)})
            ),
            date(2025, 9, 28),
            (),
        ),  # a closed day wins over a swap
        (
            BusinessCalendar(
                "x", "x", "Asia/Shanghai", {1: ((540, 1080),)}, open_days=frozenset({date(2025, 10, 1)})
            ),
            date(2025, 10, 1),
            ((540, 1080),),
        ),  # an open day wins over a holiday
    ],
)
def test_day_hours(calendar, day, expected):
    assert day_hours(calendar, day) == expected


VALID = BusinessCalendar("ok", "OK", "Asia/Shanghai", {1: ((540, 720), (720, 1080)), 7: ((0, 1440),)})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),
        ({"public_holidays": None}, None),
        ({"tz": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'"),
        ({"tz": ""}, "Unknown time zone ''"),
        ({"public_holidays": "US"}, "Unknown public holidays 'US'"),
        ({"calendar_id": ""}, "no id"),
        ({"hours": {0: ((540, 1080),)}}, "Weekday 0 is not an ISO weekday"),
        ({"hours": {8: ((540, 1080),)}}, "Weekday 8 is not an ISO weekday"),
        ({"hours": {1: ((1080, 540),)}}, "Weekday 1: opens at minute 1080, not before it closes"),
        ({"hours": {1: ((540, 540),)}}, "Weekday 1: opens at minute 540, not before it closes"),
        ({"hours": {1: ((540, 800), (720, 1080))}}, "Weekday 1: intervals overlap or are out of order"),
        ({"hours": {1: ((780, 1080), (540, 720))}}, "Weekday 1: intervals overlap or are out of order"),
        ({"hours": {1: ((-60, 540),)}}, "Weekday 1: -60–540 is outside the day"),
        ({"hours": {1: ((540, 1441),)}}, "Weekday 1: 540–1441 is outside the day"),
    ],
)
def test_calendar_problems(changes, expected):
    fields = {
        "calendar_id": VALID.calendar_id,
        "name": VALID.name,
        "tz": VALID.tz,
        "hours": VALID.hours,
        "public_holidays": VALID.public_holidays,
    }
    problems = calendar_problems(BusinessCalendar(**(fields | changes)))
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert expected in problems[0]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (DEFAULT_SETUP, None),
        (SETUP, None),
        (CalendarSetup(()), "There is no calendar"),
        (CalendarSetup((DEFAULT_CALENDAR, DEFAULT_CALENDAR)), "Calendar id 'standard' is used twice"),
        (CalendarSetup((DEFAULT_CALENDAR,), {"T1": "night"}), "Team 'T1' works calendar 'night'"),
        (CalendarSetup((DEFAULT_CALENDAR,), sla_clocks={"P1": "wall"}), "Priority 'P1' has clock 'wall'"),
        (
            CalendarSetup((BusinessCalendar("bad", "Bad", "Nowhere/City", {}),)),
            "Calendar 'bad': Unknown time zone",
        ),
    ],
)
def test_setup_problems_and_compile_refuses_them(setup, expected):
    problems = setup_problems(setup)
    if expected is None:
        assert problems == []
        return
    assert len(problems) == 1
    assert expected in problems[0]
    with pytest.raises(InputError, match=expected):
        compile_working_hours(setup, first_day=date(2025, 1, 1), last_day=date(2025, 1, 31))


def test_compile_refuses_a_reversed_range():
    with pytest.raises(InputError, match="ends"):
        compile_working_hours(DEFAULT_SETUP, first_day=date(2025, 2, 1), last_day=date(2025, 1, 1))


def test_default_calendar():
    assert DEFAULT_CALENDAR.calendar_id == "standard"
    assert DEFAULT_CALENDAR.tz == "Asia/Shanghai"
    assert DEFAULT_CALENDAR.public_holidays == "CN"
    assert {d: DEFAULT_CALENDAR.hours.get(d, ()) for d in range(1, 8)} == {
        **dict.fromkeys(WEEKDAYS, ((540, 1080),)),
        6: (),
        7: (),
    }
    assert calendar_problems(DEFAULT_CALENDAR) == []
    assert DEFAULT_SETUP.calendars == (DEFAULT_CALENDAR,)


def test_team_calendars_and_clocks():
    compiled = hours()
    assert [compiled.calendar_index(t) for t in ("T2", "T3", "T4", "T9", None)] == [1, 2, 3, 0, 0]
    teams = pl.DataFrame({"team_id": ["T2", "T3", "T4", "T9", None]})
    got = teams.select(compiled.calendar_index_expr(pl.col("team_id")).alias("i"))["i"]
    assert got.dtype == pl.Int64
    assert got.to_list() == [1, 2, 3, 0, 0]
    assert compiled.sla_clock("P1") == "calendar"
    assert compiled.sla_clock("P2") == "business"
    assert CLOCKS == ("calendar", "business")


# (case, start, seconds, expected result) in the standard calendar.
ADD_CASES = [
    # Inside hours, nothing to add: the start itself.
    ("zero inside hours", sh(2025, 6, 3, 10, 15), 0, sh(2025, 6, 3, 10, 15)),
    # At night, nothing to add: the next opening.
    ("zero at night", sh(2025, 6, 3, 20), 0, sh(2025, 6, 4, 9)),
    # Fri evening: Sat/Sun closed, Monday opens at 09:00.
    ("zero on Friday evening", sh(2025, 6, 6, 19), 0, sh(2025, 6, 9, 9)),
    # Tue 17:00 + 2 h: 1 h on Tuesday, 1 h on Wednesday from 09:00.
    ("across a night", sh(2025, 6, 3, 17), 2 * HOUR, sh(2025, 6, 4, 10)),
    # Tue 17:00 + 1 h reaches 18:00 exactly: the result is the next opening, still 1 working hour later.
    ("to a closing", sh(2025, 6, 3, 17), HOUR, sh(2025, 6, 4, 9)),
    # Tue 30 Sep 17:00 + 1.5 h: 1 h, then National Day, then Thu 9 Oct 09:00 + 0.5 h.
    ("across National Day", sh(2025, 9, 30, 17), 1.5 * HOUR, sh(2025, 10, 9, 9, 30)),
    # Thu 31 Dec 2026 17:00 + 3 h: 1 h in range, then 2 h of calendar time after the 18:00 closing.
    ("past the range", sh(2026, 12, 31, 17), 3 * HOUR, sh(2026, 12, 31, 20)),
]


@pytest.mark.parametrize(
    ("start", "seconds", "expected"), [c[1:] for c in ADD_CASES], ids=[c[0] for c in ADD_CASES]
)
def test_add_business_seconds(start, seconds, expected):
    got = add_business_seconds(
        hours(), np.array([STANDARD]), np.array([epoch_us(start)]), np.array([seconds])
    )
    assert got.dtype == np.int64
    assert got.tolist() == [epoch_us(expected)]


def test_add_business_seconds_refuses_negative_seconds():
    with pytest.raises(ValueError, match="finite seconds >= 0"):
        add_business_seconds(
            hours(), np.array([0]), np.array([epoch_us(sh(2025, 6, 3, 10))]), np.array([-1.0])
        )


# Odd calendars for the properties: half-hour zone, DST at 02:00 inside hours, several openings in one
# hour (more than one probe per bucket), a night shift across midnight, and one that is never open.
ODD = CalendarSetup(
    calendars=(
        DEFAULT_CALENDAR,
        LUNCH,
        NEW_YORK_9_TO_5,
        OVERRIDES,
        BusinessCalendar(
            "kolkata", "Kolkata", "Asia/Kolkata", dict.fromkeys(range(1, 7), ((570, 1110),)), None
        ),
        BusinessCalendar(
            "slots",
            "Quarter-hour slots",
            "Europe/London",
            dict.fromkeys(WEEKDAYS, ((540, 550), (555, 565), (570, 580), (585, 600), (600, 1000))),
            None,
        ),
        BusinessCalendar(
            "nights",
            "Nights",
            "America/New_York",
            dict.fromkeys(range(1, 8), ((0, 150), (180, 240), (1200, 1440))),
            None,
        ),
        BusinessCalendar("never", "Never open", "Asia/Shanghai", {}, None),
    )
)
FIRST, LAST = date(2025, 1, 1), date(2026, 6, 30)
RANGE_US = (epoch_us(datetime(2024, 12, 25, tzinfo=UTC)), epoch_us(datetime(2026, 7, 5, tzinfo=UTC)))


@cache
def odd_hours():
    return compile_working_hours(ODD, first_day=FIRST, last_day=LAST)


def test_the_odd_setup_needs_probes():
    assert odd_hours().probe_steps >= 2


def test_a_clock_change_inside_hours_counts_no_microsecond_twice():
    # New York nights on Sun 9 Mar 2025 (clocks jump from 02:00 EST to 03:00 EDT): 00:00–02:30 is
    # 05:00–07:30 UTC (02:30 read as EST), 03:00–04:00 EDT is 07:00–08:00 UTC, overlapping by 30 min,
    # so 05:00–08:00 UTC = 3 h, plus 20:00–24:00 EDT = 4 h: 7 h for the local day.
    nights = [c.calendar_id for c in ODD.calendars].index("nights")
    start, end = ny(2025, 3, 9), ny(2025, 3, 10)
    got = business_seconds(
        odd_hours(), np.array([nights]), np.array([epoch_us(start)]), np.array([epoch_us(end)])
    )
    assert got.tolist() == [7 * HOUR]


rows_strategy = st.lists(
    st.tuples(
        st.integers(0, len(ODD.calendars) - 1),
        st.one_of(st.none(), st.integers(*RANGE_US)),
        st.one_of(st.none(), st.integers(*RANGE_US)),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(rows_strategy)
def test_expression_equals_numpy_twin(rows):
    compiled = odd_hours()
    df = pl.DataFrame(rows, schema={"calendar": pl.Int64, "start": pl.Int64, "end": pl.Int64}, orient="row")
    df = df.with_columns(pl.col("start", "end").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
    expr = business_seconds_expr(pl.col("start"), pl.col("end"), pl.col("calendar"), compiled)
    got = df.lazy().select(expr.alias("s")).collect()["s"].to_list()
    expected = [
        None
        if s is None or e is None
        else business_seconds(compiled, np.array([c]), np.array([s]), np.array([e])).item()
        for c, s, e in rows
    ]
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(ODD.calendars) - 1),
            st.integers(*RANGE_US),
            st.integers(0, 40 * 86_400_000_000),  # up to 40 days of working time, in µs
        ),
        min_size=1,
        max_size=40,
    )
)
def test_add_is_the_inverse_of_business_seconds(rows):
    compiled = odd_hours()
    calendar, start, working_us = (np.array(column, dtype=np.int64) for column in zip(*rows, strict=True))
    reached = add_business_seconds(compiled, calendar, start, working_us / 1e6)
    assert (reached >= start).all()
    inside = reached < compiled.last_close[calendar]
    elapsed = business_seconds(compiled, calendar, start, reached)
    assert np.array_equal(np.rint(elapsed[inside] * 1e6).astype(np.int64), working_us[inside])
    # The result lies in working hours: the next microsecond is working time.
    next_us = business_seconds(compiled, calendar[inside], reached[inside], reached[inside] + 1)
    assert np.array_equal(np.rint(next_us * 1e6), np.ones(inside.sum()))


def test_compiled_intervals_are_sorted_and_apart():
    compiled = odd_hours()
    assert (np.diff(compiled.starts) > 0).all()
    assert (compiled.starts[:-1] + compiled.lengths[:-1] <= compiled.starts[1:]).all()
    assert (compiled.lengths[1:] > 0).all()
    assert np.array_equal(compiled.cum[1:], np.cumsum(compiled.lengths)[:-1])


def test_expression_equals_numpy_twin_on_many_rows():
    compiled = odd_hours()
    rng = np.random.default_rng(42)
    n = 100_000
    calendar = rng.integers(0, len(ODD.calendars), n)
    start, end = rng.integers(*RANGE_US, n), rng.integers(*RANGE_US, n)
    df = pl.DataFrame({"calendar": calendar, "start": start, "end": end}).with_columns(
        pl.col("start", "end").cast(pl.Datetime("us", "UTC"))
    )
    expr = business_seconds_expr(pl.col("start"), pl.col("end"), pl.col("calendar"), compiled)
    got = df.lazy().select(expr.alias("s")).collect()["s"].to_numpy()
    assert np.array_equal(got, business_seconds(compiled, calendar, start, end))
