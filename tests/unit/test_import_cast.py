"""Text cells → the schema's types, with one error per bad cell (row numbers: the header is row 1)."""

import io
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from cxdash.importer.cast import (
    bool_expr,
    cast_file,
    enum_expr,
    float_expr,
    int_expr,
    money_expr,
    timestamp_expr,
)
from cxdash.importer.files import read_text_table
from cxdash.importer.mapping import Mapping


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cast_csv(text: str, mapping: Mapping) -> tuple[pl.DataFrame, pl.DataFrame]:
    table = read_text_table(text.encode(), "f.csv")
    return cast_file(table.frame, mapping, inexact=table.inexact_numbers)


def errors_of(errors: pl.DataFrame) -> list[tuple]:
    return errors.select("row", "column", "value", "problem").rows()


def one(values: list[str | None], expr) -> list:
    return (
        pl.DataFrame({"x": values}, schema={"x": pl.String}).select(expr(pl.col("x"))).to_series().to_list()
    )


KPI_TARGETS = Mapping(table="kpi_targets", columns={"metric": "指标", "period": "期间", "target": "目标"})


@pytest.mark.parametrize("bad", ["N/A", "-", "无", "n.a.", "1.2.3x", "--1", "nan", "inf"])
def test_not_a_number_is_a_row_error(bad):
    typed, errors = cast_csv(f"指标,期间,目标\ncsat_pct,*,85\nfcr_pct,*,{bad}\n", KPI_TARGETS)
    assert errors_of(errors) == [(3, "目标", bad, "not_float")]
    assert typed.get_column("target").to_list() == [85.0, None]


def test_numeric_errors_name_their_rows_and_columns():
    mapping = Mapping(
        table="surveys",
        columns={
            "survey_id": "编号",
            "customer_id": "客户",
            "sent_at": "发送",
            "score": "评分",
            "kind": "类型",
        },
    )
    text = (
        "编号,客户,发送,评分,类型\n"
        "S1,C1,2024-01-05,N/A,csat\n"
        "S2,C1,2024-01-05,5,csat\n"
        "S3,C1,2024-01-05,-,nps\n"
        "S4,C1,2024-01-05,无,ces\n"
    )
    _, errors = cast_csv(text, mapping)
    assert errors_of(errors) == [
        (2, "评分", "N/A", "not_int"),
        (4, "评分", "-", "not_int"),
        (5, "评分", "无", "not_int"),
    ]
    assert set(errors.get_column("expected")) == {"a whole number"}


@pytest.mark.parametrize("bad", ["N/A", "-", "无", "¥", "12.3.4"])
def test_money_errors(bad):
    mapping = Mapping(
        table="orders",
        columns={"order_id": "id", "customer_id": "c", "ordered_at": "t", "amount": "amt"},
    )
    typed, errors = cast_csv(f'id,c,t,amt\nO1,C1,2024-01-05,"¥1,234.5"\nO2,C1,2024-01-05,{bad}\n', mapping)
    assert errors_of(errors) == [(3, "amt", bad, "not_money")]
    assert typed.get_column("amount").to_list() == [1234.5, None]


def test_negative_amount_is_out_of_range():
    mapping = Mapping(
        table="orders", columns={"order_id": "id", "customer_id": "c", "ordered_at": "t", "amount": "amt"}
    )
    _, errors = cast_csv("id,c,t,amt\nO1,C1,2024-01-05,-5\n", mapping)
    assert errors_of(errors) == [(2, "amt", "-5", "out_of_range")]


def test_required_blank_cells_and_unmapped_required_columns():
    mapping = Mapping(table="teams", columns={"team_id": "id"})
    _, errors = cast_csv("id\nT1\n  \nT3\n", mapping)
    # the blank row 3 is skipped as a blank line; `name` is required and not mapped: one error on row 1
    assert errors_of(errors) == [(1, "name", None, "not_mapped")]
    _, errors = cast_csv(
        "id,name\nT1,\n,Two\n", Mapping(table="teams", columns={"team_id": "id", "name": "name"})
    )
    assert errors_of(errors) == [(2, "name", None, "missing"), (3, "id", None, "missing")]


def test_enum_values_are_matched_loosely_or_translated():
    mapping = Mapping(
        table="sla_policies",
        columns={"priority": "p", "first_response_target_min": "f", "resolution_target_min": "r"},
        values={"priority": {"紧急": "urgent"}},
    )
    typed, errors = cast_csv("p,f,r\n紧急,10,60\nHigh,30,240\n Normal ,60,480\nsoon,1,1\n", mapping)
    assert typed.get_column("priority").to_list() == ["urgent", "high", "normal", None]
    assert errors_of(errors) == [(5, "p", "soon", "unknown_value")]
    assert errors.get_column("expected").to_list() == ["urgent, high, normal, low"]


def test_range_checks():
    mapping = Mapping(
        table="sla_policies",
        columns={"priority": "p", "first_response_target_min": "f", "resolution_target_min": "r"},
    )
    _, errors = cast_csv("p,f,r\nhigh,0,240\n", mapping)
    assert errors_of(errors) == [(2, "f", "0", "out_of_range")]


def test_formula_and_html_text_is_kept_verbatim():
    payloads = ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(1)", "<img src=x onerror=alert(1)>", "-2+3"]
    mapping = Mapping(table="teams", columns={"team_id": "id", "name": "name"})
    body = "".join(f'T{i},"{p.replace(chr(34), chr(34) * 2)}"\n' for i, p in enumerate(payloads))
    typed, errors = cast_csv("id,name\n" + body, mapping)
    assert errors.is_empty()
    assert typed.get_column("name").to_list() == payloads


# Dates and times -----------------------------------------------------------------------------------

EVENTS = Mapping(
    table="ticket_events",
    columns={"event_id": "id", "ticket_id": "t", "occurred_at": "at", "stage": "s"},
)


def test_impossible_dates_are_row_errors():
    text = (
        "id,t,at,s\n"
        "1,T1,2024/02/30,registered\n"
        "2,T1,2023-02-29 10:00,registered\n"
        "3,T1,2024-02-29,registered\n"
    )
    typed, errors = cast_csv(text, EVENTS)
    assert errors_of(errors) == [
        (2, "at", "2024/02/30", "not_timestamp"),
        (3, "at", "2023-02-29 10:00", "not_timestamp"),
    ]
    assert typed.get_column("occurred_at").to_list()[2] == utc(2024, 2, 28, 16)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("45296.5", utc(2024, 1, 5, 4)),  # Excel day number: noon in Shanghai
        ("45296", utc(2024, 1, 4, 16)),
        ("2024年1月5日", utc(2024, 1, 4, 16)),
        ("2024年1月5日 10:30", utc(2024, 1, 5, 2, 30)),
        ("2024年1月5日 10时30分", utc(2024, 1, 5, 2, 30)),
        ("2024/1/5 9:05", utc(2024, 1, 5, 1, 5)),
        ("2024.01.05", utc(2024, 1, 4, 16)),
        ("2024-01-05T10:00:00", utc(2024, 1, 5, 2)),
        ("2024-01-05 10:00:00.250", utc(2024, 1, 5, 2, 0, 0, 250_000)),
        ("2024-01-05T10:00:00+08:00", utc(2024, 1, 5, 2)),
        ("2024-01-05 02:00:00Z", utc(2024, 1, 5, 2)),
        ("2024-01-05T02:00:00.000000+0000", utc(2024, 1, 5, 2)),
        ("2024-01-05 10:00-05:00", utc(2024, 1, 5, 15)),
    ],
)
def test_accepted_timestamps_are_the_right_instant(text, instant):
    assert one([text], timestamp_expr) == [instant]


@pytest.mark.parametrize(
    "text", ["2024/02/30", "2024-13-01", "2024-01-05 25:00", "yesterday", "12345", "45296.5x", "无", "N/A"]
)
def test_rejected_timestamps(text):
    assert one([text], timestamp_expr) == [None]


def test_naive_times_are_in_the_mapping_time_zone():
    mapping = Mapping(table="ticket_events", columns=EVENTS.columns, timezone="UTC")
    typed, _ = cast_csv("id,t,at,s\n1,T1,2024-01-05 10:00,registered\n", mapping)
    assert typed.get_column("occurred_at").to_list() == [utc(2024, 1, 5, 10)]
    typed, _ = cast_csv("id,t,at,s\n1,T1,2024-01-05 10:00,registered\n", EVENTS)
    assert typed.get_column("occurred_at").to_list() == [utc(2024, 1, 5, 2)]


@pytest.mark.parametrize(
    ("order", "expected"),
    [("dmy", utc(2024, 1, 4, 16)), ("mdy", utc(2024, 4, 30, 16)), ("ymd", None)],
)
def test_date_order(order, expected):
    assert one(["05/01/2024"], lambda e: timestamp_expr(e, date_order=order)) == [expected]


def test_dmy_rejects_what_only_mdy_allows():
    assert one(["12/31/2024"], lambda e: timestamp_expr(e, date_order="dmy")) == [None]
    assert one(["12/31/2024"], lambda e: timestamp_expr(e, date_order="mdy")) == [utc(2024, 12, 30, 16)]


def test_dates_ignore_the_time_zone():
    mapping = Mapping(table="annotations", columns={"on_date": "d", "label": "l"})
    typed, errors = cast_csv("d,l\n2024年1月5日,a\n2024-01-06,b\n45299,c\n2024/02/30,d\n", mapping)
    assert typed.get_column("on_date").to_list() == [
        date(2024, 1, 5),
        date(2024, 1, 6),
        date(2024, 1, 8),
        None,
    ]
    assert errors_of(errors) == [(5, "d", "2024/02/30", "not_date")]


# Other types ---------------------------------------------------------------------------------------


def test_bool_words():
    words = ["是", "否", "yes", "NO", "True", "0", "1", "√", "maybe"]
    assert one(words, bool_expr) == [True, False, True, False, True, False, True, True, None]


def test_enum_expr():
    assert one(["Web Form", "web-form", "WEB_FORM", "form"], lambda e: enum_expr(e, ("web_form",))) == [
        "web_form",
        "web_form",
        "web_form",
        None,
    ]


def test_int_expr_accepts_excel_style_whole_numbers_only():
    assert one(["12", "12.0", "+3", "-4", "1,234", "1.5", "1e3", "", "9223372036854775808"], int_expr) == [
        12,
        12,
        3,
        -4,
        1234,
        None,
        None,
        None,
        None,
    ]


def test_money_expr():
    assert one(["¥1,234.50", "1234.5元", "RMB 10", "$0.125", "€3", "1.2.3"], money_expr) == [
        1234.5,
        1234.5,
        10.0,
        0.13,
        3.0,
        None,
    ]


# Excel ---------------------------------------------------------------------------------------------


def test_an_18_digit_id_stored_as_an_excel_number_is_a_row_error():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, (team_id, name) in enumerate([("id", "name"), ("007", "a"), ("123456789012345678", "b")]):
        sheet.write_string(r, 0, team_id)
        sheet.write_string(r, 1, name)
    sheet.write_number(3, 0, 123456789012345678)
    sheet.write_string(3, 1, "c")
    book.close()
    table = read_text_table(buffer.getvalue(), "teams.xlsx")
    typed, errors = cast_file(
        table.frame,
        Mapping(table="teams", columns={"team_id": "id", "name": "name"}),
        inexact=table.inexact_numbers,
    )
    assert typed.get_column("team_id").to_list()[:2] == ["007", "123456789012345678"]
    assert errors_of(errors) == [(4, "id", "123456789012345696", "inexact_excel_number")]


# Properties ----------------------------------------------------------------------------------------


@settings(deadline=None)  # Polars' first call of an expression can take longer
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_int_expr_round_trips_str_int(n):
    assert one([str(n)], int_expr) == [n]


@settings(deadline=None)  # Polars' first call of an expression can take longer
@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_int_expr_round_trips_thousands_separators(n):
    assert one([f"{n:,}"], int_expr) == [n]


@settings(deadline=None)  # Polars' first call of an expression can take longer
@given(st.integers(min_value=0, max_value=10**11))
def test_money_expr_round_trips_cents(cents):
    assert one([f"¥{cents // 100:,}.{cents % 100:02d}"], money_expr) == [cents / 100]


@settings(deadline=None)  # Polars' first call of an expression can take longer
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_float_expr_round_trips_repr(x):
    assert one([repr(x)], float_expr) == [x]


instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


@settings(deadline=None)  # Polars' first call of an expression can take longer
@given(instants)
def test_timestamp_expr_reads_iso_with_offsets(t):
    assert one([t.isoformat()], timestamp_expr) == [t]
    assert one([t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "Z"], timestamp_expr) == [t]


@settings(deadline=None)  # Polars' first call of an expression can take longer
@given(instants)
def test_timestamp_expr_reads_local_times_in_the_time_zone(t):
    local = (t + timedelta(hours=8)).replace(tzinfo=None)  # Shanghai has had no DST since 1991
    if t.year < 1992:
        return
    formats = [
        local.strftime("%Y-%m-%d %H:%M:%S.%f"),
        f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S.%f}",
        f"{local.year}/{local.month}/{local.day} {local:%H:%M:%S.%f}",
    ]
    assert one(formats, timestamp_expr) == [t, t, t]


@settings(deadline=None)  # Polars' first call of an expression can take longer
@given(st.dates(min_value=date(1960, 1, 1), max_value=date(2099, 12, 31)))
def test_timestamp_expr_date_orders(d):
    shanghai_midnight = datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(hours=8)
    if d.year < 1992:  # DST years in Shanghai: midnight is not always UTC+8
        return
    assert one([f"{d.day:02d}/{d.month:02d}/{d.year}"], lambda e: timestamp_expr(e, date_order="dmy")) == [
        shanghai_midnight
    ]
    assert one([f"{d.month}-{d.day}-{d.year}"], lambda e: timestamp_expr(e, date_order="mdy")) == [
        shanghai_midnight
    ]
