"""Column mappings as data: targets per kind, YAML in and out, suggestions from real-world headers."""

import pytest

from cxdash.errors import InputError
from cxdash.importer.files import clean_header
from cxdash.importer.mapping import (
    IMPORTABLE_TABLES,
    Mapping,
    dump_mapping,
    load_mapping,
    suggest_columns,
    targets_for,
)


def test_table_targets_follow_the_schema():
    by_name = {t.name: t for t in targets_for("table", "tickets")}
    assert by_name["ticket_id"].required and by_name["ticket_id"].type == "text"
    assert by_name["created_at"].type == "timestamp" and by_name["created_at"].required
    assert by_name["channel"].type == "enum" and "web_form" in by_name["channel"].choices
    assert not by_name["status"].required and by_name["status"].default
    assert not by_name["order_id"].required
    assert by_name["severity"].type == "int" and by_name["is_complaint"].type == "bool"
    assert {t.type for t in targets_for("table", "orders") if t.name == "amount"} == {"money"}


def test_every_importable_table_has_targets():
    for table in IMPORTABLE_TABLES:
        assert targets_for("table", table)
    with pytest.raises(InputError, match="Unknown table 'app_users'"):
        targets_for("table", "app_users")


def test_flat_ticket_and_order_line_targets():
    flat = {t.name: t for t in targets_for("flat_tickets")}
    assert {"ticket_id", "customer.email", "customer.phone", "survey.score"} <= set(flat)
    assert not flat["customer_id"].required and not flat["customer.email"].required
    assert "survey.customer_id" not in flat and "survey.ticket_id" not in flat
    lines = {t.name: t for t in targets_for("order_lines")}
    assert {n for n, t in lines.items() if t.required} == {
        "order_id",
        "customer_id",
        "ordered_at",
        "quantity",
        "unit_price",
    }


FULL = """\
kind: order_lines
columns:
  order_id: 发票号
  customer_id: 客户编号
  ordered_at: 日期
  quantity: 数量
  unit_price: 单价
values:
  status:
    退货: refunded
defaults:
  product_category: 礼品
timezone: Europe/London
date_order: dmy
create_missing: [customers]
skip_rows_without: [customer_id]
on_existing:
  orders: skip
  customers: error
cancel_prefix: C
negative_quantity: cancelled
encoding: cp1252
"""


def test_yaml_round_trip():
    mapping = load_mapping(FULL)
    assert mapping == Mapping(
        kind="order_lines",
        columns={
            "order_id": "发票号",
            "customer_id": "客户编号",
            "ordered_at": "日期",
            "quantity": "数量",
            "unit_price": "单价",
        },
        values={"status": {"退货": "refunded"}},
        defaults={"product_category": "礼品"},
        timezone="Europe/London",
        date_order="dmy",
        create_missing=("customers",),
        skip_rows_without=("customer_id",),
        on_existing={"orders": "skip", "customers": "error"},
        cancel_prefix="C",
        negative_quantity="cancelled",
        encoding="cp1252",
    )
    assert load_mapping(dump_mapping(mapping)) == mapping
    assert "发票号" in dump_mapping(mapping)  # readable, not \u escapes
    assert mapping.policy("orders") == "skip" and mapping.policy("tickets") == "update"


def test_minimal_yaml_dump_leaves_defaults_out():
    mapping = Mapping(table="teams", columns={"team_id": "id", "name": "name"})
    text = dump_mapping(mapping)
    assert "timezone" not in text and "date_order" not in text
    assert load_mapping(text) == mapping


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("kind: tickets", "kind must be one of"),
        ("kind: table\ntable: app_users", "table must be one of"),
        ("table: teams\ncolour: red", "unknown key(s) colour"),
        ("table: teams\ncolumns: [a, b]", "columns must be a mapping"),
        ("table: teams\ncolumns:\n  nom: name", "columns: nom is not a column"),
        ("table: teams\nvalues:\n  colour: {a: b}", "values: colour is not a column"),
        ("table: teams\ntimezone: Mars/Olympus", "is not a time zone"),
        ("table: teams\ndate_order: ydm", "date_order must be one of"),
        ("table: teams\ncreate_missing: [orders]", "create_missing may hold"),
        ("table: teams\non_existing: {teams: replace}", "on_existing values must be"),
        ("table: teams\non_existing: {app_users: skip}", "on_existing: app_users is not a table"),
        ("table: teams\nskip_rows_without: [colour]", "skip_rows_without: colour is not a column"),
        ("kind: order_lines\nnegative_quantity: ignored", "negative_quantity must be"),
        ("table: teams\ncolumns: {a: [", "not valid YAML"),
        ("- just\n- a list", "must be a YAML mapping"),
    ],
)
def test_bad_mappings_say_what_is_wrong(text, phrase):
    with pytest.raises(InputError, match="The column mapping is not valid") as caught:
        load_mapping(text)
    assert phrase in str(caught.value)
    assert caught.value.key == "import.bad_mapping"


def test_yaml_cannot_construct_objects():
    with pytest.raises(InputError, match="not valid YAML"):
        load_mapping("table: !!python/object/apply:os.system ['echo hi']")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            [
                "工单号",
                "客户邮箱",
                "客户姓名",
                "渠道",
                "创建时间",
                "解决时间",
                "优先级",
                "团队",
                "满意度",
                "主题",
            ],
            {
                "ticket_id": "工单号",
                "customer.email": "客户邮箱",
                "customer.name": "客户姓名",
                "channel": "渠道",
                "created_at": "创建时间",
                "resolved_at": "解决时间",
                "priority": "优先级",
                "team_id": "团队",
                "survey.score": "满意度",
                "subject": "主题",
            },
        ),
        (
            [
                "Ticket ID",
                "Customer Email",
                "Customer Name",
                "Ticket Channel",
                "Created At",
                "Ticket Priority",
                "Team",
                "Customer Satisfaction Rating",
                "Ticket Subject",
            ],
            {
                "ticket_id": "Ticket ID",
                "customer.email": "Customer Email",
                "customer.name": "Customer Name",
                "channel": "Ticket Channel",
                "created_at": "Created At",
                "priority": "Ticket Priority",
                "team_id": "Team",
                "survey.score": "Customer Satisfaction Rating",
                "subject": "Ticket Subject",
            },
        ),
    ],
)
def test_suggestions_for_flat_ticket_exports(headers, expected):
    suggested = suggest_columns(headers, targets_for("flat_tickets"))
    assert {k: v for k, v in suggested.items() if k in expected} == expected


def test_suggestions_for_order_lines_and_full_width_headers():
    headers = [
        clean_header(h)
        for h in ["ＩｎｖｏｉｃｅＮｏ", " StockCode ", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    ]
    suggested = suggest_columns(headers, targets_for("order_lines"))
    assert suggested == {
        "order_id": "InvoiceNo",
        "customer_id": "CustomerID",
        "ordered_at": "InvoiceDate",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
    }


def test_a_header_is_suggested_once():
    suggested = suggest_columns(["id", "name"], targets_for("table", "teams"))
    assert suggested == {"name": "name"} or len(set(suggested.values())) == len(suggested)


def test_identical_names_map_one_to_one():
    targets = targets_for("table", "tickets")
    names = [t.name for t in targets]
    assert suggest_columns(names, targets) == {n: n for n in names}
