"""The Admin page's business-hours editor as data: a CalendarSetup as five editable tables and back,
with every problem of the edited tables (row by row, with message keys) and the years whose public
holidays the installed holiday data lacks."""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from cxdash.business_hours import BusinessCalendar, CalendarSetup
from cxdash.db.calendars import DayLabels
from cxdash.errors import InputError

CALENDARS_SCHEMA = {"calendar_id": pl.String, "name": pl.String, "timezone": pl.String,
                    "public_holidays": pl.String}  # fmt: skip
HOURS_SCHEMA = {"calendar_id": pl.String, "weekday": pl.Int64, "opens": pl.String, "closes": pl.String}
DAYS_SCHEMA = {"calendar_id": pl.String, "on_date": pl.Date, "working": pl.Boolean, "label": pl.String}
TEAMS_SCHEMA = {"team_id": pl.String, "team_name": pl.String, "calendar_id": pl.String}
CLOCKS_SCHEMA = {"priority": pl.String, "clock": pl.String}
TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
WEEKDAYS = tuple(range(1, 8))  # ISO: 1 = Monday … 7 = Sunday


@dataclass(frozen=True, slots=True)
class EditorTables:
    """One table per kind, in the editors' column names."""

    calendars: pl.DataFrame  # CALENDARS_SCHEMA, in order: the first is the default calendar
    hours: pl.DataFrame  # HOURS_SCHEMA, times as "HH:MM"
    days: pl.DataFrame  # DAYS_SCHEMA: working false = closed that day, true = open that day
    teams: pl.DataFrame  # TEAMS_SCHEMA, calendar_id empty = the default calendar
    clocks: pl.DataFrame  # CLOCKS_SCHEMA


def hhmm(minutes: int) -> str:
    """Minutes from midnight as "HH:MM" (1440 → "24:00")."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes_of(text: object) -> int | None:
    """ "HH:MM" (00:00 to 24:00) as minutes from midnight; None when it is not such a time."""
    match = TIME.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def editor_tables(
    setup: CalendarSetup, labels: DayLabels, *, teams: Mapping[str, str], priorities: Sequence[str]
) -> EditorTables:
    """The setup as the editors show it: every team and every SLA priority has a row."""
    calendars = setup.calendars
    return EditorTables(
        calendars=pl.DataFrame(
            [(c.calendar_id, c.name, c.tz, c.public_holidays) for c in calendars],
            schema=CALENDARS_SCHEMA,
            orient="row",
        ),
        hours=pl.DataFrame(
            [
                (c.calendar_id, weekday, hhmm(opens), hhmm(closes))
                for c in calendars
                for weekday, spans in sorted(c.hours.items())
                for opens, closes in sorted(spans)
            ],
            schema=HOURS_SCHEMA,
            orient="row",
        ),
        days=pl.DataFrame(
            sorted(
                (c.calendar_id, day, working, labels.get((c.calendar_id, day), ""))
                for c in calendars
                for working, chosen in ((False, c.closed_days), (True, c.open_days))
                for day in chosen
            ),
            schema=DAYS_SCHEMA,
            orient="row",
        ),
        teams=pl.DataFrame(
            [(team, name, setup.team_calendars.get(team, "")) for team, name in teams.items()],
            schema=TEAMS_SCHEMA,
            orient="row",
        ),
        clocks=pl.DataFrame(
            [(p, setup.sla_clocks.get(p, "business")) for p in priorities], schema=CLOCKS_SCHEMA, orient="row"
        ),
    )


def _text(value: object) -> str:
    """A cell as stripped text ("" for empty cells: None, NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def _weekday(value: object) -> int | None:
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() and int(number) in WEEKDAYS else None


def _problem(key: str, text: str, **values: object) -> InputError:
    return InputError(text, key=f"calendars.{key}", **values)


def _rows(frame: pl.DataFrame) -> Iterable[tuple[int, dict]]:
    """(row number from 1, row) of the non-empty rows: a row added and left blank is no row."""
    for number, row in enumerate(frame.to_dicts(), start=1):
        if any(_text(v) for v in row.values()):
            yield number, row


def setup_from_tables(
    tables: EditorTables,
) -> tuple[CalendarSetup, dict[tuple[str, date], str], list[InputError]]:
    """The setup the edited tables describe, the labels of its days, and the problems of the tables
    themselves (blank ids, unreadable times, days or weekdays, rows of unknown calendars, a date
    twice). The setup's own rules (cxdash.db.calendars.saving_problems) are checked on saving."""
    problems: list[InputError] = []
    ids: list[str] = []
    calendar_rows: list[dict] = []
    for number, row in _rows(tables.calendars):
        calendar_id = _text(row.get("calendar_id"))
        if not calendar_id:
            problems.append(_problem("row_without_id", f"Calendars, row {number}: no id", row=number))
            continue
        ids.append(calendar_id)
        calendar_rows.append(row)
    known = set(ids)

    def known_calendar(table: str, number: int, calendar_id: str) -> bool:
        if calendar_id in known:
            return True
        problems.append(
            _problem(
                f"{table}_unknown_calendar",
                f"{table.capitalize()}, row {number}: no calendar {calendar_id or '(empty)'}",
                row=number,
                calendar=calendar_id or "—",
            )
        )
        return False

    hours: dict[str, dict[int, list[tuple[int, int]]]] = {}
    for number, row in _rows(tables.hours):
        calendar_id = _text(row.get("calendar_id"))
        weekday = _weekday(row.get("weekday"))
        opens, closes = minutes_of(row.get("opens")), minutes_of(row.get("closes"))
        if weekday is None:
            problems.append(_problem("bad_weekday", f"Hours, row {number}: no weekday 1–7", row=number))
        for value, minutes in ((row.get("opens"), opens), (row.get("closes"), closes)):
            if minutes is None:
                problems.append(
                    _problem(
                        "bad_time",
                        f"Hours, row {number}: {_text(value) or '(empty)'} is not a time HH:MM",
                        row=number,
                        value=_text(value) or "—",
                    )
                )
        if known_calendar("hours", number, calendar_id) and None not in (weekday, opens, closes):
            hours.setdefault(calendar_id, {}).setdefault(weekday, []).append((opens, closes))

    days: dict[tuple[str, bool], set[date]] = {}
    labels: dict[tuple[str, date], str] = {}
    for number, row in _rows(tables.days):
        calendar_id = _text(row.get("calendar_id"))
        day = _day(row.get("on_date"))
        if day is None:
            problems.append(_problem("bad_date", f"Days, row {number}: no date", row=number))
        if not known_calendar("days", number, calendar_id) or day is None:
            continue
        if (calendar_id, day) in labels:
            problems.append(
                _problem(
                    "date_twice",
                    f"Days, row {number}: {day} is listed twice for {calendar_id}",
                    row=number,
                    day=day.isoformat(),
                    calendar=calendar_id,
                )
            )
            continue
        days.setdefault((calendar_id, bool(row.get("working"))), set()).add(day)
        labels[(calendar_id, day)] = _text(row.get("label"))

    calendars = tuple(
        BusinessCalendar(
            calendar_id=_text(row.get("calendar_id")),
            name=_text(row.get("name")) or _text(row.get("calendar_id")),
            tz=_text(row.get("timezone")),
            hours={
                wd: tuple(sorted(spans))
                for wd, spans in sorted(hours.get(_text(row["calendar_id"]), {}).items())
            },
            public_holidays=_text(row.get("public_holidays")) or None,
            closed_days=frozenset(days.get((_text(row["calendar_id"]), False), ())),
            open_days=frozenset(days.get((_text(row["calendar_id"]), True), ())),
        )
        for row in calendar_rows
    )
    team_calendars = {
        _text(row.get("team_id")): _text(row.get("calendar_id"))
        for _, row in _rows(tables.teams)
        if _text(row.get("team_id")) and _text(row.get("calendar_id"))
    }
    sla_clocks = {
        _text(row.get("priority")): _text(row.get("clock"))
        for _, row in _rows(tables.clocks)
        if _text(row.get("priority")) and _text(row.get("clock"))
    }
    setup = CalendarSetup(calendars=calendars, team_calendars=team_calendars, sla_clocks=sla_clocks)
    return setup, labels, problems


def uncovered_data_years(
    setup: CalendarSetup, *, first_year: int, last_year: int, covered: tuple[int, int]
) -> list[int]:
    """The data's years outside the holiday data's `covered` (first, last) years, when a calendar of
    `setup` observes public holidays; [] otherwise."""
    if not any(c.public_holidays for c in setup.calendars):
        return []
    return [y for y in range(first_year, last_year + 1) if not covered[0] <= y <= covered[1]]
