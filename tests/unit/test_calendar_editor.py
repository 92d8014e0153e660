"""The Admin page's business-hours editor as data (tables ↔ setup, each problem with its key), the checks
before saving, and the clock in the `kpis` report and table."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from cxdash.business_hours import DEFAULT_SETUP, BusinessCalendar, CalendarSetup
from cxdash.db.calendars import saving_problems
from cxdash.kpi_report import format_table, kpi_report
from cxdash.metrics.kpis import DURATION_KPIS, KpiOptions
from cxdash.periods import DataSpan, parse_period
from cxdash.views.business_hours import (
    EditorTables,
    editor_tables,
    hhmm,
    minutes_of,
    setup_from_tables,
    uncovered_data_years,
)
from tests.kpi_frames import kpi_frames

TEAMS = {"T01": "电话客服组", "T02": "在线客服组"}
PRIORITIES = ["high", "normal", "urgent"]
LATE = BusinessCalendar(
    "late",
    "Late shift",
    "Asia/Shanghai",
    {1: ((480, 720), (780, 1440)), 6: ((600, 960),)},
    public_holidays=None,
    closed_days=frozenset({date(2026, 12, 24)}),
    open_days=frozenset({date(2026, 12, 27)}),
)
SETUP = CalendarSetup(
    (DEFAULT_SETUP.calendars[0], LATE), team_calendars={"T02": "late"}, sla_clocks={"urgent": "calendar"}
)
LABELS = {("late", date(2026, 12, 24)): "年会", ("late", date(2026, 12, 27)): ""}


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("09:00", 540), ("9:30", 570), (" 18:00 ", 1080), ("00:00", 0), ("24:00", 1440), ("24:30", None),
     ("9h", None), ("12:60", None), ("", None), (None, None), (540, None)],
)  # fmt: skip
def test_times_are_hh_mm(text, minutes):
    assert minutes_of(text) == minutes
    if minutes is not None:
        assert minutes_of(hhmm(minutes)) == minutes


def test_the_default_setup_as_tables():
    tables = editor_tables(DEFAULT_SETUP, {}, teams=TEAMS, priorities=PRIORITIES)
    assert tables.calendars.to_dicts() == [
        {"calendar_id": "standard", "name": DEFAULT_SETUP.calendars[0].name, "timezone": "Asia/Shanghai",
         "public_holidays": "CN"}
    ]  # fmt: skip
    assert tables.hours.rows() == [("standard", d, "09:00", "18:00") for d in range(1, 6)]
    assert tables.days.height == 0
    assert tables.teams.rows() == [("T01", "电话客服组", ""), ("T02", "在线客服组", "")]
    assert tables.clocks.rows() == [("high", "business"), ("normal", "business"), ("urgent", "business")]


def test_tables_round_trip_to_the_same_setup_and_labels():
    setup, labels, problems = setup_from_tables(
        editor_tables(SETUP, LABELS, teams=TEAMS, priorities=PRIORITIES)
    )
    assert problems == []
    assert setup.calendars == SETUP.calendars
    assert setup.team_calendars == {"T02": "late"}
    assert setup.sla_clocks == {"high": "business", "normal": "business", "urgent": "calendar"}
    assert labels == LABELS


def edited(**changes) -> EditorTables:
    tables = editor_tables(SETUP, LABELS, teams=TEAMS, priorities=PRIORITIES)
    return EditorTables(**{**{f: getattr(tables, f) for f in EditorTables.__slots__}, **changes})


def keys(problems) -> list[tuple[str, dict]]:
    return [(p.key, p.values) for p in problems]


def test_each_problem_of_the_tables_is_named_with_its_row():
    calendars = pl.DataFrame(
        {"calendar_id": ["standard", "late", " ", None], "name": ["a", "b", "no id", None],
         "timezone": ["Asia/Shanghai"] * 3 + [None], "public_holidays": ["CN", None, None, None]}
    )  # fmt: skip
    hours = pl.DataFrame(
        {"calendar_id": ["standard", "standard", "nope", "late"], "weekday": [1, None, 2, 3],
         "opens": ["9h", "09:00", "09:00", "10:00"], "closes": ["18:00", "18:00", "18:00", "24:30"]}
    )  # fmt: skip
    new_year = date(2026, 1, 1)
    days = pl.DataFrame(
        {"calendar_id": ["late", "late", "late", "gone"],
         "on_date": [new_year, new_year, None, date(2026, 1, 2)],
         "working": [False, True, False, False], "label": ["", "", "x", ""]}
    )  # fmt: skip
    _, _, problems = setup_from_tables(edited(calendars=calendars, hours=hours, days=days))
    assert keys(problems) == [
        ("calendars.row_without_id", {"row": 3}),  # row 4 is blank: no row at all
        ("calendars.bad_time", {"row": 1, "value": "9h"}),
        ("calendars.bad_weekday", {"row": 2}),
        ("calendars.hours_unknown_calendar", {"row": 3, "calendar": "nope"}),
        ("calendars.bad_time", {"row": 4, "value": "24:30"}),
        ("calendars.date_twice", {"row": 2, "day": "2026-01-01", "calendar": "late"}),
        ("calendars.bad_date", {"row": 3}),
        ("calendars.days_unknown_calendar", {"row": 4, "calendar": "gone"}),
    ]


def test_checks_before_saving():
    bad = CalendarSetup(
        (
            LATE,
            BusinessCalendar(
                "late",
                "again",
                "Mars/Olympus",
                {2: ((600, 540),), 3: ((540, 720), (700, 1080))},
                public_holidays="US",
            ),
            BusinessCalendar("odd", "odd", "UTC", {1: ((0, 1500),)}, public_holidays=None),
        ),
        team_calendars={"T09": "late", "T01": "nowhere"},
        sla_clocks={"normal": "weekly", "vip": "business"},
    )
    found = keys(saving_problems(bad, teams=set(TEAMS), priorities=set(PRIORITIES)))
    assert found == [
        ("calendars.duplicate_id", {"calendar": "late"}),
        ("calendars.bad_timezone", {"calendar": "late", "tz": "Mars/Olympus"}),
        ("calendars.bad_public_holidays", {"calendar": "late", "value": "US"}),
        ("calendars.closes_before_opening", {"calendar": "late", "weekday": 2, "opens": "10:00",
                                             "closes": "09:00"}),
        ("calendars.spans_overlap", {"calendar": "late", "weekday": 3}),
        # what the checks with a message of their own do not name, in the engine's words
        ("calendars.calendar_problem", {"calendar": "odd", "detail": found[5][1]["detail"]}),
        ("calendars.unknown_team", {"team": "T09"}),
        ("calendars.team_unknown_calendar", {"team": "T01", "calendar": "nowhere"}),
        ("calendars.bad_clock", {"priority": "normal", "clock": "weekly"}),
        ("calendars.unknown_priority", {"priority": "vip"}),
    ]  # fmt: skip
    assert "outside the day" in found[5][1]["detail"]
    assert keys(saving_problems(CalendarSetup(()))) == [("calendars.none", {})]
    assert saving_problems(SETUP, teams=set(TEAMS), priorities=set(PRIORITIES)) == []


def test_years_the_holiday_data_lacks():
    assert uncovered_data_years(SETUP, first_year=2024, last_year=2028, covered=(2004, 2026)) == [2027, 2028]
    no_holidays = CalendarSetup((LATE,))
    assert uncovered_data_years(no_holidays, first_year=2024, last_year=2028, covered=(2004, 2026)) == []


def test_the_report_says_which_clock_and_which_holiday_years_are_missing():
    # Tickets in 2031, a year the installed holiday data cannot cover.
    created = datetime(2031, 2, 3, 2, tzinfo=UTC)
    frames = kpi_frames(
        tickets=[{"created_at": created, "first_response_at": datetime(2031, 2, 3, 3, tzinfo=UTC)}]
    )
    span = DataSpan(first=created, data_as_of=datetime(2031, 2, 10, tzinfo=UTC))
    period = parse_period("2031Q1")
    business = kpi_report(frames, period, span=span, tz="Asia/Shanghai", options=KpiOptions(clock="business"))
    calendar = kpi_report(frames, period, span=span, tz="Asia/Shanghai")
    assert business["clock"] == business["options"]["clock"] == "business"
    assert calendar["clock"] == "calendar" and calendar["warnings"] == []
    assert business["uncovered_holiday_years"] == [2031]
    assert "2031" in business["warnings"][0]
    for name in DURATION_KPIS:
        assert business["kpis"][name]["clock"] == "business"
        assert "business hours" in business["kpis"][name]["definition"]
    assert "clock" not in business["kpis"]["tickets"]
    assert business["kpis"]["frt_median_min"]["value"] == 60.0  # Mon 10:00 → 11:00 Shanghai
    assert calendar["kpis"]["frt_median_min"]["value"] == 60.0
    heading = format_table(business, lang="zh").splitlines()[2:4]
    assert heading[0] == "时长口径：工作时间（按各团队的工作日历）"
    assert "2031" in heading[1]
    assert format_table(calendar, lang="en").splitlines()[2] == "Durations: calendar hours"
