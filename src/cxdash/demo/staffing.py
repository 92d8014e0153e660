"""When the demo's teams work and how busy they are: their business calendars and queue waits by hour."""

import numpy as np

from cxdash.business_hours import BusinessCalendar, CalendarSetup

WEEKDAYS = (1, 2, 3, 4, 5)
EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)


def _calendar(
    calendar_id: str, name: str, days: tuple[int, ...], opens: int, closes: int, *, holidays: bool, tz: str
) -> BusinessCalendar:
    return BusinessCalendar(
        calendar_id=calendar_id,
        name=name,
        tz=tz,
        hours=dict.fromkeys(days, ((opens * 60, closes * 60),)),
        public_holidays="CN" if holidays else None,
    )


CALENDAR_NAMES = {
    "zh_CN": {
        "office": "办公时间 09–18",
        "phone": "电话热线 每天 08–22",
        "online": "在线服务 每天 08–24",
        "complaints": "投诉处理 周一至周六 09–18",
    },
    "en_US": {
        "office": "Office hours 09–18",
        "phone": "Phone line 08–22, every day",
        "online": "Online service 08–24, every day",
        "complaints": "Complaints desk Mon–Sat 09–18",
    },
}


def demo_setup(tz: str, locale: str = "zh_CN") -> CalendarSetup:
    """The demo company's calendars: office hours by default, longer hours on the front lines.

    Phone and chat are staffed every day including public holidays; the back-office teams work office
    hours and keep the Chinese public holidays with their working-day swaps (调休); the complaints desk
    also works on Saturdays. Urgent tickets are handled by an on-call rota, so the urgent SLA is measured
    on the calendar clock.
    """
    names = CALENDAR_NAMES[locale]
    calendars = (
        _calendar("office", names["office"], WEEKDAYS, 9, 18, holidays=True, tz=tz),
        _calendar("phone", names["phone"], EVERY_DAY, 8, 22, holidays=False, tz=tz),
        _calendar("online", names["online"], EVERY_DAY, 8, 24, holidays=False, tz=tz),
        _calendar("complaints", names["complaints"], (*WEEKDAYS, 6), 9, 18, holidays=True, tz=tz),
    )
    return CalendarSetup(
        calendars=calendars,
        team_calendars={"T01": "phone", "T02": "online", "T03": "office", "T04": "complaints"},
        sla_clocks={"urgent": "calendar", "high": "business", "normal": "business", "low": "business"},
    )


# The front line that answers each channel first (the owning team may be a specialist one).
FRONT_LINE_TEAM = {
    "phone": "T01",
    "chat": "T02",
    "social": "T02",
    "app": "T02",
    "email": "T03",
    "web_form": "T03",
}
# Median working seconds a contact waits for its first agent reply, before load and priority.
FIRST_REPLY_WAIT_S = {
    "phone": 50,
    "chat": 75,
    "app": 12 * 60,
    "social": 30 * 60,
    "email": 1.5 * 3600,
    "web_form": 2 * 3600,
}
# Queue pressure by local hour (arrivals against agents on shift): mid-morning and mid-afternoon peaks,
# the lunch break and the evening shift change wait longest; early hours are quick.
HOUR_LOAD = np.array(
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 1.3, 1.7, 1.5, 1.8, 1.2, 1.5, 1.6, 1.3, 1.1, 1.4, 1.2,
     1.5, 1.7, 1.4, 1.2]
)  # fmt: skip
# Mondays carry the weekend's backlog; weekends run on a thinner rota.
WEEKDAY_LOAD = np.array([1.3, 1.05, 1.0, 1.0, 1.0, 1.15, 1.2])
PRIORITY_WAIT = {"urgent": 0.3, "high": 0.2, "normal": 0.8, "low": 1.6}
# Urgent tickets page the on-call rota whatever the channel: median wait in calendar seconds.
ON_CALL_WAIT_S = 150
# Same-session resolution: the share of non-complaint contacts settled in the first conversation, and
# how long that conversation takes (median seconds).
SAME_SESSION = {"phone": 0.72, "chat": 0.62, "app": 0.40, "social": 0.25, "email": 0.0, "web_form": 0.0}
SESSION_LENGTH_S = {
    "phone": 7 * 60,
    "chat": 11 * 60,
    "app": 15 * 60,
    "social": 20 * 60,
    "email": 0,
    "web_form": 0,
}
# Median working hours from the first reply to resolution for the rest, by priority (urgent: calendar).
RESOLUTION_WORK_H = {"urgent": 1.1, "high": 2.5, "normal": 7.0, "low": 14.0}
