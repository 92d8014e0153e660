from datetime import UTC, date, datetime

import pytest

from cxdash.errors import InputError
from cxdash.periods import local_date, parse_period, period_containing, periods_between


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026Q3", "quarter", date(2026, 7, 1), date(2026, 10, 1)),
        ("2026q4", "quarter", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026-02", "month", date(2026, 2, 1), date(2026, 3, 1)),
        ("2026-12", "month", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-W01", "week", date(2025, 12, 29), date(2026, 1, 5)),
        ("2026-W53", "week", date(2026, 12, 28), date(2027, 1, 4)),
    ],
)
def test_parse_period(text, kind, start, end):
    period = parse_period(text)
    assert (period.kind, period.start_date, period.end_date) == (kind, start, end)


@pytest.mark.parametrize("text", ["2026Q5", "2026-13", "2025-W53", "Q3 2026", "", "2026-7"])
def test_bad_period_is_a_clear_error(text):
    with pytest.raises(InputError):
        parse_period(text)


def test_quarter_bounds_are_local_midnight_in_utc():
    period = parse_period("2026Q3")
    assert period.start("Asia/Shanghai") == datetime(2026, 6, 30, 16, tzinfo=UTC)
    assert period.end("Asia/Shanghai") == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert period.start("UTC") == datetime(2026, 7, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "previous", "last_year"),
    [
        ("2026Q1", "2025Q4", "2025Q1"),
        ("2026Q3", "2026Q2", "2025Q3"),
        ("2026-01", "2025-12", "2025-01"),
        ("2026-W01", "2025-W52", "2025-W01"),
        ("2026-W53", "2026-W52", "2025-W52"),
    ],
)
def test_previous_and_same_last_year(text, previous, last_year):
    period = parse_period(text)
    assert period.previous().label == previous
    assert period.same_last_year().label == last_year


def test_periods_between_covers_both_ends():
    labels = [p.label for p in periods_between("quarter", date(2025, 2, 3), date(2026, 1, 1))]
    assert labels == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    assert period_containing("month", date(2026, 3, 31)).label == "2026-03"


def test_local_date_uses_display_timezone():
    instant = datetime(2026, 6, 30, 17, tzinfo=UTC)  # 01:00 on 1 July in Shanghai
    assert local_date(instant, "Asia/Shanghai") == date(2026, 7, 1)
    assert local_date(instant, "UTC") == date(2026, 6, 30)


def test_custom_range_previous_and_last_year():
    from cxdash.periods import custom_period

    period = custom_period(date(2026, 7, 10), date(2026, 7, 19))
    assert (period.start_date, period.end_date) == (date(2026, 7, 10), date(2026, 7, 20))
    assert period.previous().start_date == date(2026, 6, 30)
    assert period.previous().end_date == date(2026, 7, 10)
    assert period.same_last_year().start_date == date(2025, 7, 10)
    with pytest.raises(InputError):
        custom_period(date(2026, 7, 10), date(2026, 7, 1))
