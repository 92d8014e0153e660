"""The business clock in the KPIs, on a small hand-built frame whose answers are worked out below, and
the CXDASH_CLOCK setting.

Two calendars (times below are UTC; Asia/Shanghai is UTC+8):
- "office" (the default, team T01): Mon–Fri 09:00–18:00 Shanghai = 01:00–10:00 UTC, mainland China
  holidays: Fri 25 Sep 2026 is Mid-Autumn (closed), Sun 20 Sep 2026 a swapped working day (Monday's hours).
- "late" (team T02): every day 12:00–24:00 Shanghai = 04:00–16:00 UTC, no public holidays.
SLA policies: normal first response 60 min (business clock), urgent 15 min on the *calendar* clock.
"""

from datetime import UTC, datetime

import polars as pl
import pytest

from cxdash.business_hours import BusinessCalendar, CalendarSetup, business_seconds_expr
from cxdash.config import Settings, settings_from
from cxdash.errors import InputError
from cxdash.metrics import kpis as k
from cxdash.metrics.kpis import DURATION_KPIS, HEADLINE_KPIS, KpiOptions, Window, headline_kpis
from tests.kpi_frames import Q3, kpi_frames

OFFICE = BusinessCalendar(
    "office", "Office", "Asia/Shanghai", dict.fromkeys(range(1, 6), ((540, 1080),)), public_holidays="CN"
)
LATE = BusinessCalendar("late", "Late", "Asia/Shanghai", dict.fromkeys(range(1, 8), ((720, 1440),)), None)
SETUP = CalendarSetup((OFFICE, LATE), team_calendars={"T02": "late"}, sla_clocks={"urgent": "calendar"})
ALL_BUSINESS = CalendarSetup((OFFICE, LATE), team_calendars={"T02": "late"})

BUSINESS = KpiOptions(clock="business")
CALENDAR = KpiOptions(clock="calendar")
# data_as_of Mon 28 Sep 01:30 UTC = 09:30 Shanghai; the period Q3 is still running.
NOW = datetime(2026, 9, 28, 1, 30, tzinfo=UTC)
WINDOW = Window(start=Q3.start, end=Q3.end, as_of=NOW, data_as_of=NOW)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ticket(created: str, responded: str | None = None, resolved: str | None = None, **extra) -> dict:
    return {
        "created_at": utc(created),
        "first_response_at": utc(responded) if responded else None,
        "resolved_at": utc(resolved) if resolved else None,
        **extra,
    }


TICKETS = [
    # business min | calendar min
    # t1 Mon 10:00 → 10:30 local: 30 | 30; resolved Mon 18:00 local: 8 h | 8 h
    ticket("2026-09-07 02:00", "2026-09-07 02:30", "2026-09-07 10:00"),
    # t2 Fri 17:30 → Mon 09:30 local: 30 + 30 = 60 | 64 h = 3840; resolved Mon 11:30: 0.5 + 2.5 = 3 h | 66 h
    ticket("2026-09-11 09:30", "2026-09-14 01:30", "2026-09-14 03:30"),
    # t3 Sat 10:00 (closed) → Sun 20 Sep 10:00 local, a swapped working day (09:00–18:00): 60 | 1440
    ticket("2026-09-19 02:00", "2026-09-20 02:00"),
    # t4 Thu 17:00 → Mon 09:20 local, over the Mid-Autumn Friday and the weekend: 60 + 20 = 80 | 5300
    ticket("2026-09-24 09:00", "2026-09-28 01:20"),
    # t5 team T02 ("late", no holidays) Fri 25 Sep 10:00 → 13:00 local: 12:00–13:00 = 60 | 180
    ticket("2026-09-25 02:00", "2026-09-25 05:00", team_id="T02"),
    # t6 urgent, Sat 12:00 → 12:20 local: 0 on the business calendar | 20
    ticket("2026-09-12 04:00", "2026-09-12 04:20", priority="urgent"),
    # t7 unanswered, Thu 24 Sep 17:50 local; age at data_as_of (Mon 09:30 local): 10 + 30 = 40 | 87 h 40 m
    ticket("2026-09-24 09:50"),
]


def value_n(kpi, options, setup=SETUP):
    row = kpi(kpi_frames(tickets=TICKETS, setup=setup), WINDOW, options).collect()
    return row["value"][0], row["n"][0]


def test_first_response_in_business_minutes():
    # business: 30, 60, 60, 80, 60, 0 → sorted 0, 30, 60, 60, 60, 80: median (60 + 60) / 2 = 60;
    # p90 at 0.9 × 5 = 4.5 → 60 + 0.5 × (80 − 60) = 70
    assert value_n(k.frt_median_min, BUSINESS) == (60.0, 6)
    assert value_n(k.frt_p90_min, BUSINESS) == (pytest.approx(70.0), 6)


def test_the_calendar_clock_is_elapsed_time():
    # calendar: 30, 3840, 1440, 5300, 180, 20 → sorted 20, 30, 180, 1440, 3840, 5300: median (180 + 1440) / 2
    assert value_n(k.frt_median_min, CALENDAR) == (810.0, 6)
    assert value_n(k.frt_median_min, KpiOptions()) == (810.0, 6)  # the default clock


def test_resolution_in_business_hours():
    # business 8 h and 3 h → median 5.5; calendar 8 h and 66 h → median 37
    assert value_n(k.resolution_median_h, BUSINESS) == (pytest.approx(5.5), 2)
    assert value_n(k.resolution_median_h, CALENDAR) == (pytest.approx(37.0), 2)


def test_sla_measures_each_priority_on_its_policys_clock():
    # business (normal target 60 business min): t1 30 met, t2 60 met (≤), t3 60 met, t4 80 breached,
    # t5 60 met; t6 urgent on the calendar clock: 20 > 15 breached (on business time it would be 0, met);
    # t7 unanswered, 40 working minutes old: still inside its target, left out → 4 met / 6 = 66.67 %
    assert value_n(k.sla_first_response_pct, BUSINESS) == (pytest.approx(400 / 6), 6)


def test_sla_with_every_policy_on_the_business_clock():
    # the same but t6 urgent on business time: 0 ≤ 15 met → 5 / 6
    assert value_n(k.sla_first_response_pct, BUSINESS, ALL_BUSINESS) == (pytest.approx(500 / 6), 6)


def test_sla_on_the_calendar_clock_is_unchanged():
    # calendar: only t1 (30 ≤ 60) met; t2–t6 late; t7 unanswered for 87 h: breached → 1 / 7
    assert value_n(k.sla_first_response_pct, CALENDAR) == (pytest.approx(100 / 7), 7)


def test_other_kpis_do_not_depend_on_the_clock():
    frames = kpi_frames(tickets=TICKETS, setup=SETUP)
    business, calendar = headline_kpis(frames, WINDOW, BUSINESS), headline_kpis(frames, WINDOW, CALENDAR)
    assert set(business) == {spec.name for spec in HEADLINE_KPIS}
    for name in business:
        if name not in DURATION_KPIS:
            assert business[name] == calendar[name], name
    for name in ("frt_median_min", "frt_p90_min", "resolution_median_h", "sla_first_response_pct"):
        assert business[name].value != calendar[name].value, name


def test_a_duration_outside_hours_is_zero_and_nulls_stay_null():
    frames = kpi_frames(
        tickets=[ticket("2026-09-12 04:00", "2026-09-12 05:00"), ticket("2026-09-12 04:00")], setup=SETUP
    )
    row = frames.tickets.select(
        k.elapsed_minutes_expr(frames, "business", "created_at", "first_response_at").alias("m")
    ).collect()
    assert row["m"].to_list() == [0.0, None]


@pytest.mark.parametrize(
    ("env", "clock"),
    [
        ({}, "calendar"),
        ({"CXDASH_CLOCK": "business"}, "business"),
        ({"CXDASH_CLOCK": " Business "}, "business"),
    ],
)
def test_the_clock_setting(env, clock):
    assert settings_from(env).clock == clock
    assert Settings().clock == "calendar"


@pytest.mark.parametrize("value", ["weekly", "", "工作时间"])
def test_an_unknown_clock_setting_is_a_clear_error(value):
    with pytest.raises(InputError, match="CXDASH_CLOCK must be calendar or business") as info:
        settings_from({"CXDASH_CLOCK": value})
    assert info.value.key == "errors.bad_clock_setting"


def test_the_working_seconds_computed_at_load_equal_the_engine():
    frames = kpi_frames(tickets=TICKETS, setup=SETUP)
    hours = frames.working_hours
    direct = business_seconds_expr(
        pl.col("created_at"), pl.col("first_response_at"), hours.calendar_index_expr(pl.col("team_id")), hours
    )
    both = frames.tickets.select(
        (k.elapsed_minutes_expr(frames, "business", "created_at", "first_response_at") * 60).alias("loaded"),
        direct.alias("direct"),
    ).collect()
    assert both["loaded"].to_list() == both["direct"].to_list()
    assert both["direct"].to_list() == [1800.0, 3600.0, 3600.0, 4800.0, 3600.0, 0.0, None]
