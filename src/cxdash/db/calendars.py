"""Business calendars as data: the `app_calendar*` and `app_sla_clocks` tables ↔ a CalendarSetup.

`write_calendar_setup` validates the whole setup first and then replaces every row inside the caller's
transaction, moving the data version with it: the cached Frames carry the working hours compiled from
the setup, so a new setup must be read afresh exactly like new business data.
"""

from collections.abc import Mapping
from datetime import date
from itertools import pairwise
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cxdash.business_hours import (
    CLOCKS,
    DEFAULT_SETUP,
    MAX_CALENDARS,
    PUBLIC_HOLIDAYS,
    BusinessCalendar,
    CalendarSetup,
    calendar_problems,
    setup_problems,
)
from cxdash.db.schema import (
    AppCalendar,
    AppCalendarDay,
    AppCalendarHours,
    AppCalendarTeam,
    AppSlaClock,
    SlaPolicy,
    Team,
)
from cxdash.db.version import bump_data_version
from cxdash.errors import InputError, unreadable_database

# Children before their calendars (foreign keys).
CALENDAR_TABLES = (AppCalendarHours, AppCalendarDay, AppCalendarTeam, AppSlaClock, AppCalendar)
DayLabels = Mapping[tuple[str, date], str]  # (calendar_id, date) → label of a closed or open day


class CalendarSetupError(InputError):
    """A setup that cannot be saved; `problems` lists each reason (with its message key)."""

    def __init__(self, problems: list[InputError]) -> None:
        super().__init__(
            "The business-hours setup was not saved: " + "; ".join(str(p) for p in problems) + ".",
            key="calendars.not_saved",
            count=len(problems),
        )
        self.problems = tuple(problems)


def saving_problems(
    setup: CalendarSetup, *, teams: set[str] | None = None, priorities: set[str] | None = None
) -> list[InputError]:
    """Why `setup` cannot be saved ([] when it can), each with a message key: each calendar valid and
    its id unique, teams and priorities known (when given), assigned to existing calendars and clocks."""
    problems: list[InputError] = []
    if not setup.calendars:
        problems.append(InputError("There must be at least one calendar", key="calendars.none"))
    seen: set[str] = set()
    for calendar in setup.calendars:
        if calendar.calendar_id in seen:
            problems.append(
                InputError(
                    f"Calendar id {calendar.calendar_id} is used twice",
                    key="calendars.duplicate_id",
                    calendar=calendar.calendar_id,
                )
            )
        seen.add(calendar.calendar_id)
        # The usual mistakes in words of the user's language; anything else in the engine's words.
        own = _calendar_mistakes(calendar)
        problems += own or [
            InputError(
                f"Calendar {calendar.calendar_id or '?'}: {detail}",
                key="calendars.calendar_problem",
                calendar=calendar.calendar_id or "?",
                detail=detail,
            )
            for detail in calendar_problems(calendar)
        ]
    if len(setup.calendars) > MAX_CALENDARS:
        problems.append(
            InputError(
                f"{len(setup.calendars)} calendars; at most {MAX_CALENDARS} are supported",
                key="calendars.too_many",
                count=len(setup.calendars),
                most=MAX_CALENDARS,
            )
        )
    for team, calendar_id in setup.team_calendars.items():
        if teams is not None and team not in teams:
            problems.append(InputError(f"Unknown team {team}", key="calendars.unknown_team", team=team))
        if calendar_id not in seen:
            problems.append(
                InputError(
                    f"Team {team} is assigned to unknown calendar {calendar_id}",
                    key="calendars.team_unknown_calendar",
                    team=team,
                    calendar=calendar_id,
                )
            )
    for priority, clock in setup.sla_clocks.items():
        if priorities is not None and priority not in priorities:
            problems.append(
                InputError(
                    f"No SLA policy for priority {priority}",
                    key="calendars.unknown_priority",
                    priority=priority,
                )
            )
        if clock not in CLOCKS:
            problems.append(
                InputError(
                    f"The clock of priority {priority} must be one of {', '.join(CLOCKS)}, not {clock!r}",
                    key="calendars.bad_clock",
                    priority=priority,
                    clock=clock,
                )
            )
    if not problems:  # whatever else the engine refuses to compile (its own words)
        problems = [InputError(problem) for problem in setup_problems(setup)]
    return problems


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _calendar_mistakes(calendar: BusinessCalendar) -> list[InputError]:
    """An unknown time zone or public-holiday set, a span that closes before it opens, overlapping spans."""
    name = calendar.calendar_id or "?"
    mistakes = []
    try:
        ZoneInfo(calendar.tz)
    except (KeyError, ValueError, TypeError):  # ZoneInfoNotFoundError is a KeyError
        mistakes.append(
            InputError(
                f"Calendar {name}: unknown time zone {calendar.tz!r} (use an IANA name, e.g. Asia/Shanghai)",
                key="calendars.bad_timezone",
                calendar=name,
                tz=calendar.tz,
            )
        )
    if calendar.public_holidays is not None and calendar.public_holidays not in PUBLIC_HOLIDAYS:
        mistakes.append(
            InputError(
                f"Calendar {name}: unknown public holidays {calendar.public_holidays!r} "
                f"(use {', '.join(PUBLIC_HOLIDAYS)} or none)",
                key="calendars.bad_public_holidays",
                calendar=name,
                value=calendar.public_holidays,
            )
        )
    for weekday, spans in sorted(calendar.hours.items(), key=lambda item: str(item[0])):
        for opens, closes in spans:
            if isinstance(opens, int) and isinstance(closes, int) and opens >= closes:
                mistakes.append(
                    InputError(
                        f"Calendar {name}, weekday {weekday}: closes ({_hhmm(closes)}) before it opens "
                        f"({_hhmm(opens)})",
                        key="calendars.closes_before_opening",
                        calendar=name,
                        weekday=weekday,
                        opens=_hhmm(opens),
                        closes=_hhmm(closes),
                    )
                )
        if any(later[0] < earlier[1] for earlier, later in pairwise(sorted(spans))):
            mistakes.append(
                InputError(
                    f"Calendar {name}, weekday {weekday}: opening spans overlap",
                    key="calendars.spans_overlap",
                    calendar=name,
                    weekday=weekday,
                )
            )
    return mistakes


def write_calendar_setup(
    conn: Connection, setup: CalendarSetup, *, day_labels: DayLabels | None = None
) -> int:
    """Replace the stored setup with `setup` inside the caller's transaction and move the data version;
    return the new version. CalendarSetupError (nothing written) when it is not valid."""
    teams = set(conn.scalars(sa.select(Team.team_id)))
    priorities = set(conn.scalars(sa.select(SlaPolicy.priority)))
    problems = saving_problems(setup, teams=teams, priorities=priorities)
    if problems:
        raise CalendarSetupError(problems)
    for table in CALENDAR_TABLES:
        conn.execute(sa.delete(table))
    conn.execute(
        sa.insert(AppCalendar),
        [
            {
                "calendar_id": c.calendar_id,
                "name": c.name,
                "timezone": c.tz,
                "public_holidays": c.public_holidays,
                "position": position,
            }
            for position, c in enumerate(setup.calendars)
        ],
    )
    hours = [
        {"calendar_id": c.calendar_id, "weekday": weekday, "opens_min": opens, "closes_min": closes}
        for c in setup.calendars
        for weekday, spans in sorted(c.hours.items())
        for opens, closes in spans
    ]
    days = [
        {
            "calendar_id": c.calendar_id,
            "on_date": day,
            "working": working,
            "label": (day_labels or {}).get((c.calendar_id, day), ""),
        }
        for c in setup.calendars
        for working, chosen in ((False, c.closed_days), (True, c.open_days))
        for day in sorted(chosen)
    ]
    teams_rows = [{"team_id": t, "calendar_id": c} for t, c in sorted(setup.team_calendars.items())]
    clocks = [{"priority": p, "clock": c} for p, c in sorted(setup.sla_clocks.items())]
    for table, rows in (
        (AppCalendarHours, hours),
        (AppCalendarDay, days),
        (AppCalendarTeam, teams_rows),
        (AppSlaClock, clocks),
    ):
        if rows:
            conn.execute(sa.insert(table), rows)
    return bump_data_version(conn)


def read_calendar_setup(source: Engine | Connection) -> CalendarSetup:
    """The stored setup; DEFAULT_SETUP while no calendar has been saved."""
    try:
        if isinstance(source, Engine):
            with source.connect() as conn:
                return _read(conn)
        return _read(source)
    except sa.exc.SQLAlchemyError as exc:
        raise unreadable_database(exc, "the business-hours setup") from exc


def read_day_labels(conn: Connection) -> dict[tuple[str, date], str]:
    """(calendar_id, date) → the label of each stored closed or open day."""
    rows = conn.execute(sa.select(AppCalendarDay.calendar_id, AppCalendarDay.on_date, AppCalendarDay.label))
    return {(calendar_id, _day(on_date)): label or "" for calendar_id, on_date, label in rows}


def _day(value: date | str) -> date:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _read(conn: Connection) -> CalendarSetup:
    calendars = conn.execute(sa.select(AppCalendar.__table__).order_by(AppCalendar.position)).mappings().all()
    if not calendars:
        return DEFAULT_SETUP
    hours: dict[str, dict[int, list[tuple[int, int]]]] = {}
    for row in conn.execute(
        sa.select(AppCalendarHours.calendar_id, AppCalendarHours.weekday, AppCalendarHours.opens_min,
                  AppCalendarHours.closes_min)
        .order_by(AppCalendarHours.calendar_id, AppCalendarHours.weekday, AppCalendarHours.opens_min)
    ):  # fmt: skip
        hours.setdefault(row.calendar_id, {}).setdefault(int(row.weekday), []).append(
            (int(row.opens_min), int(row.closes_min))
        )
    days: dict[tuple[str, bool], set[date]] = {}
    for calendar_id, on_date, working in conn.execute(
        sa.select(AppCalendarDay.calendar_id, AppCalendarDay.on_date, AppCalendarDay.working)
    ):
        days.setdefault((calendar_id, bool(working)), set()).add(_day(on_date))
    return CalendarSetup(
        calendars=tuple(
            BusinessCalendar(
                calendar_id=row["calendar_id"],
                name=row["name"],
                tz=row["timezone"],
                hours={wd: tuple(spans) for wd, spans in hours.get(row["calendar_id"], {}).items()},
                public_holidays=row["public_holidays"],
                closed_days=frozenset(days.get((row["calendar_id"], False), ())),
                open_days=frozenset(days.get((row["calendar_id"], True), ())),
            )
            for row in calendars
        ),
        team_calendars=dict(
            conn.execute(sa.select(AppCalendarTeam.team_id, AppCalendarTeam.calendar_id)).all()
        ),
        sla_clocks=dict(conn.execute(sa.select(AppSlaClock.priority, AppSlaClock.clock)).all()),
    )
