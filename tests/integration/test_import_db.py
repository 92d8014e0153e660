"""Imports against a database (SECURITY.md "Import"): flat exports, order lines, keys already there,
one transaction, the same file twice, the batch and audit records and the data version."""

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa
import xlsxwriter

from cxdash.db.engine import create_schema, make_engine
from cxdash.db.schema import BUSINESS_TABLES, AppAudit, AppImportBatch, Base
from cxdash.db.version import read_data_version
from cxdash.demo.writer import write_tables
from cxdash.errors import InputError
from cxdash.importer.files import Limits
from cxdash.importer.mapping import Mapping, suggest_columns, targets_for
from cxdash.importer.run import commit_import, prepare_import
from tests.conftest import PG_URL, _reachable, need

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    """An empty cxdash database with teams T1 and T2 and customer 007."""
    if request.param == "postgres":
        need(_reachable(PG_URL), f"no PostgreSQL at CXDASH_TEST_PG_URL={PG_URL!r}")
        write_tables(PG_URL, {}, force=True)  # every table dropped and created empty
        eng = make_engine(PG_URL)
    else:
        eng = make_engine(f"sqlite:///{tmp_path / 'import.db'}", must_exist=False)
        create_schema(eng)
    with eng.begin() as conn:
        conn.execute(
            sa.insert(table("teams")), [{"team_id": "T1", "name": "一组"}, {"team_id": "T2", "name": "二组"}]
        )
        conn.execute(
            sa.insert(table("customers")),
            [
                {
                    "customer_id": "007", "name": "老客户", "email": "old@x.com", "phone": "", "city": "北京",
                    "region": "华北", "segment": "consumer", "acquisition_channel": "search",
                    "signup_at": datetime(2023, 1, 1, tzinfo=UTC), "is_loyalty_member": False,
                }
            ],
        )  # fmt: skip
    yield eng
    eng.dispose()


def table(name: str) -> sa.Table:
    return Base.metadata.tables[name]


def counts(engine) -> dict[str, int]:
    names = (*BUSINESS_TABLES, "app_import_batches", "app_audit")
    with engine.connect() as conn:
        return {n: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(n))) for n in names}


def rows(engine, name: str, *columns: str, order: str | None = None) -> list[tuple]:
    t = table(name)
    with engine.connect() as conn:
        query = sa.select(*(t.c[c] for c in columns)).order_by(t.c[order or columns[0]])
        return [tuple(r) for r in conn.execute(query)]


def run(engine, data: bytes, name: str, mapping: Mapping, **kwargs):
    prepared = prepare_import(engine, data, name, mapping, **kwargs)
    assert prepared.errors.is_empty(), prepared.errors.to_dicts()
    assert prepared.ok
    return prepared, commit_import(engine, prepared, username="alice")


def problems(prepared) -> list[tuple]:
    return prepared.errors.select("row", "column", "value", "problem").rows()


def as_utc(value: datetime) -> datetime:
    """SQLite gives naive UTC back, PostgreSQL aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


TEAMS = Mapping(table="teams", columns={"team_id": "id", "name": "name"})


# Flat ticket exports -------------------------------------------------------------------------------

FLAT = (
    "工单号,客户邮箱,客户电话,客户姓名,渠道,创建时间,解决时间,优先级,团队,满意度,主题\n"
    'T001,a@x.com,,张三,电话,2024年1月5日 10:00,2024/1/5 12:00,高,T1,5,"=HYPERLINK(""http://x"",""y"")"\n'
    "T002, A@X.com ,,张三,chat,2024-01-06 09:00,,normal,T1,,+cmd\n"
    "T003,,138-0013-8000,李四,email,45296.5,,low,T3,3,@SUM(1)\n"
    "T004,,13800138000,李四,web form,2024-01-07,2024-01-08,low,T3,,<img src=x onerror=alert(1)>\n"
)
PAYLOADS = ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(1)", "<img src=x onerror=alert(1)>"]


def flat_mapping(**kwargs) -> Mapping:
    headers = FLAT.splitlines()[0].split(",")
    columns = suggest_columns(headers, targets_for("flat_tickets"))
    assert columns["customer.email"] == "客户邮箱" and columns["customer.phone"] == "客户电话"
    assert columns["survey.score"] == "满意度" and columns["team_id"] == "团队"
    return Mapping(
        kind="flat_tickets",
        columns=columns,
        values={"channel": {"电话": "phone"}, "priority": {"高": "high"}},
        **kwargs,
    )


def test_flat_export_unknown_team_is_a_row_error(engine):
    before = counts(engine)
    prepared = prepare_import(engine, FLAT.encode("gb18030"), "工单.csv", flat_mapping())
    assert prepared.source_format == "csv (gb18030)"
    assert problems(prepared) == [
        (4, "tickets.team_id", "T3", "unknown_reference"),
        (5, "tickets.team_id", "T3", "unknown_reference"),
    ]
    assert not prepared.ok
    with pytest.raises(InputError, match="2 problem"):
        commit_import(engine, prepared, username="alice")
    assert counts(engine) == before


def test_flat_export_fills_customers_tickets_and_surveys(engine):
    prepared, done = run(engine, FLAT.encode("gb18030"), "工单.csv", flat_mapping(create_missing=("teams",)))
    assert prepared.plan.select("table", "rows", "new", "existing").rows() == [
        ("teams", 1, 1, 0),
        ("customers", 2, 2, 0),
        ("tickets", 4, 4, 0),
        ("surveys", 2, 2, 0),
    ]
    assert done.written["tickets"] == {"inserted": 4, "updated": 0, "unchanged": 0}
    assert rows(engine, "teams", "team_id", "name") == [("T1", "一组"), ("T2", "二组"), ("T3", "T3")]
    tickets = rows(engine, "tickets", "ticket_id", "customer_id", "channel", "priority", "status", "subject")
    by_customer = {}
    for ticket_id, customer_id, *_ in tickets:
        by_customer.setdefault(customer_id, []).append(ticket_id)
    # the e-mail without case and blanks, else the phone's digits, is one customer
    assert sorted(by_customer.values()) == [["T001", "T002"], ["T003", "T004"]]
    assert [t[2:5] for t in tickets] == [
        ("phone", "high", "resolved"),
        ("chat", "normal", "open"),
        ("email", "low", "open"),
        ("web_form", "low", "resolved"),
    ]
    assert [t[5] for t in tickets] == PAYLOADS  # stored verbatim
    customers = rows(engine, "customers", "customer_id", "name", "email", "phone", "signup_at")
    derived = {c[0]: c for c in customers if c[0] != "007"}
    assert {c[1] for c in derived.values()} == {"张三", "李四"}
    first = derived[tickets[0][1]]
    assert first[0].startswith("c_") and "@" not in first[0]
    assert as_utc(first[4]) == datetime(2024, 1, 5, 2, tzinfo=UTC)  # the first ticket, Shanghai time
    created = dict(rows(engine, "tickets", "ticket_id", "created_at"))
    assert as_utc(created["T003"]) == datetime(2024, 1, 5, 4, tzinfo=UTC)  # Excel serial 45296.5
    surveys = rows(engine, "surveys", "survey_id", "kind", "ticket_id", "score", "customer_id")
    assert [s[:4] for s in surveys] == [("csat-T001", "csat", "T001", 5), ("csat-T003", "csat", "T003", 3)]
    assert surveys[0][4] == tickets[0][1]


def test_flat_export_score_out_of_scale_and_missing_customer(engine):
    text = (
        "工单号,客户邮箱,渠道,创建时间,团队,满意度\n"
        "T1,a@x.com,chat,2024-01-05,T1,6\n"
        "T2,,chat,2024-01-05,T1,5\n"
    )
    mapping = Mapping(
        kind="flat_tickets",
        columns={
            "ticket_id": "工单号", "customer.email": "客户邮箱", "channel": "渠道", "created_at": "创建时间",
            "team_id": "团队", "survey.score": "满意度",
        },
    )  # fmt: skip
    prepared = prepare_import(engine, text.encode(), "t.csv", mapping)
    assert [(r, p) for r, _, _, p in problems(prepared)] == [(2, "out_of_range"), (3, "no_customer_key")]


# Order lines ---------------------------------------------------------------------------------------

LINES = """InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
536365,A,6,2010-12-01 08:26,2.55,17850
536365,B,2,2010-12-01 08:26,3.39,17850
C536379,D,-1,2010-12-01 09:41,27.50,14527
536380,E,-3,2010-12-01 09:45,1.25,14527
536381,F,1,2010-12-01 09:50,1.00,
536382,G,1,2010-12-01 10:00,0.005,007
"""
LINE_MAPPING = Mapping(
    kind="order_lines",
    columns={
        "order_id": "InvoiceNo", "customer_id": "CustomerID", "ordered_at": "InvoiceDate",
        "quantity": "Quantity", "unit_price": "UnitPrice",
    },
    cancel_prefix="C",
    skip_rows_without=("customer_id",),
    create_missing=("customers",),
    timezone="Europe/London",
)  # fmt: skip


def test_order_lines_become_orders(engine):
    prepared, done = run(engine, LINES.encode(), "Online Retail.csv", LINE_MAPPING)
    assert prepared.rows_read == 6 and prepared.rows_skipped == 1
    assert rows(engine, "orders", "order_id", "customer_id", "amount", "status") == [
        ("536365", "17850", Decimal("22.08"), "completed"),  # 6 × 2.55 + 2 × 3.39
        ("536380", "14527", Decimal("3.75"), "refunded"),  # negative quantity
        ("536382", "007", Decimal("0.01"), "completed"),  # an existing customer, kept
        ("C536379", "14527", Decimal("27.50"), "cancelled"),  # cancellation prefix
    ]
    ordered = dict(rows(engine, "orders", "order_id", "ordered_at"))
    assert as_utc(ordered["536365"]) == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)  # London in winter
    assert rows(engine, "customers", "customer_id", "name") == [
        ("007", "老客户"),
        ("14527", ""),
        ("17850", ""),
    ]
    assert done.written["customers"] == {"inserted": 2, "updated": 0, "unchanged": 1}
    with engine.connect() as conn:
        batch = conn.execute(sa.select(AppImportBatch.__table__)).one()
    assert (batch.rows_read, batch.rows_skipped, batch.kind) == (6, 1, "order_lines")


def test_an_invoice_with_two_customers_is_an_error(engine):
    text = LINES + "536382,H,1,2010-12-01 10:00,2.00,17850\n"
    prepared = prepare_import(engine, text.encode(), "lines.csv", LINE_MAPPING)
    assert problems(prepared) == [(7, "CustomerID", "536382", "several_customers")]


def test_order_lines_without_the_skip_rule_report_the_missing_customer(engine):
    mapping = Mapping(
        kind="order_lines", columns=LINE_MAPPING.columns, cancel_prefix="C", create_missing=("customers",)
    )
    prepared = prepare_import(engine, LINES.encode(), "lines.csv", mapping)
    assert problems(prepared) == [(6, "CustomerID", None, "missing")]


# Keys ----------------------------------------------------------------------------------------------


def test_duplicate_keys_in_the_file_are_errors_on_their_rows(engine):
    prepared = prepare_import(engine, b"id,name\nT5,a\nT6,b\nT5,c\n", "teams.csv", TEAMS)
    assert problems(prepared) == [
        (2, "teams.team_id", "T5", "duplicate_key"),
        (4, "teams.team_id", "T5", "duplicate_key"),
    ]


def test_duplicate_ticket_ids_in_a_flat_export(engine):
    text = FLAT + "T001,z@x.com,,王五,chat,2024-01-09,,low,T1,,again\n"
    prepared = prepare_import(engine, text.encode(), "t.csv", flat_mapping(create_missing=("teams",)))
    assert [(r, c, p) for r, c, _, p in problems(prepared)] == [
        (2, "tickets.ticket_id", "duplicate_key"),
        (6, "tickets.ticket_id", "duplicate_key"),
    ]


UPDATE_FILE = "id,name\nT1,新一组\nT9,九组\n".encode()


def test_existing_keys_are_updated_by_default(engine):
    prepared, done = run(engine, UPDATE_FILE, "teams.csv", TEAMS)
    assert prepared.plan.rows() == [("teams", 2, 1, 1, "update")]
    assert done.written == {"teams": {"inserted": 1, "updated": 1, "unchanged": 0}}
    assert rows(engine, "teams", "team_id", "name") == [("T1", "新一组"), ("T2", "二组"), ("T9", "九组")]


def test_existing_keys_are_skipped(engine):
    mapping = Mapping(table="teams", columns=TEAMS.columns, on_existing={"teams": "skip"})
    prepared, done = run(engine, UPDATE_FILE, "teams.csv", mapping)
    assert prepared.plan.rows() == [("teams", 2, 1, 1, "skip")]
    assert done.written == {"teams": {"inserted": 1, "updated": 0, "unchanged": 1}}
    assert rows(engine, "teams", "team_id", "name") == [("T1", "一组"), ("T2", "二组"), ("T9", "九组")]


def test_existing_keys_are_errors_when_asked(engine):
    before = counts(engine)
    mapping = Mapping(table="teams", columns=TEAMS.columns, on_existing={"teams": "error"})
    prepared = prepare_import(engine, UPDATE_FILE, "teams.csv", mapping)
    assert problems(prepared) == [(2, "teams.team_id", "T1", "already_in_database")]
    with pytest.raises(InputError, match="nothing was written"):
        commit_import(engine, prepared, username="alice")
    assert counts(engine) == before


def test_an_update_leaves_columns_the_file_does_not_give(engine):
    text = "客户编号,注册时间,城市\n007,2023-01-01 08:00,上海\n"
    mapping = Mapping(
        table="customers", columns={"customer_id": "客户编号", "signup_at": "注册时间", "city": "城市"}
    )
    run(engine, text.encode(), "c.csv", mapping)
    assert rows(engine, "customers", "customer_id", "name", "email", "city") == [
        ("007", "老客户", "old@x.com", "上海")
    ]


def test_unknown_references_are_row_errors(engine):
    text = (
        "ticket_id,customer_id,channel,created_at,team_id\n"
        "X1,007,chat,2024-01-05,T1\n"
        "X2,008,chat,2024-01-05,T7\n"
    )
    mapping = Mapping(table="tickets", columns={c: c for c in text.split("\n", 1)[0].split(",")})
    prepared = prepare_import(engine, text.encode(), "t.csv", mapping)
    assert problems(prepared) == [
        (3, "tickets.customer_id", "008", "unknown_reference"),
        (3, "tickets.team_id", "T7", "unknown_reference"),
    ]


# Ids -----------------------------------------------------------------------------------------------


def workbook(cells: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write_number(r, c, value)
    book.close()
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_leading_zero_and_18_digit_ids_are_stored_exactly(engine, kind):
    cells = [["id", "name"], ["0042", "零"], ["123456789012345678", "十八位"], ["000000000000000001", "x"]]
    data = workbook(cells) if kind == "xlsx" else "\n".join(",".join(r) for r in cells).encode()
    run(engine, data, f"teams.{kind}", TEAMS)
    assert [r[0] for r in rows(engine, "teams", "team_id")] == [
        "000000000000000001",
        "0042",
        "123456789012345678",
        "T1",
        "T2",
    ]


def test_an_18_digit_id_stored_as_an_excel_number_is_refused(engine):
    data = workbook([["id", "name"], ["0042", "a"], [123456789012345678, "b"]])
    prepared = prepare_import(engine, data, "teams.xlsx", TEAMS)
    assert problems(prepared) == [(3, "id", "123456789012345696", "inexact_excel_number")]


# One transaction -----------------------------------------------------------------------------------


def many_tickets(last: str) -> bytes:
    lines = ["ticket_id,customer_id,channel,created_at,team_id"]
    lines += [f"K{i:03d},007,chat,2024-01-05 10:{i % 60:02d},T1" for i in range(50)]
    lines.append(f"K999,007,chat,{last},T1")
    return "\n".join(lines).encode()


TICKETS = Mapping(
    table="tickets", columns={c: c for c in ("ticket_id", "customer_id", "channel", "created_at", "team_id")}
)


def test_a_bad_last_row_writes_nothing(engine):
    before, version = counts(engine), read_data_version(engine)
    prepared = prepare_import(engine, many_tickets("2024/02/30"), "t.csv", TICKETS)
    assert problems(prepared) == [(52, "created_at", "2024/02/30", "not_timestamp")]
    assert prepared.plan.filter(pl.col("table") == "tickets").get_column("rows").to_list() == [50]
    with pytest.raises(InputError, match="1 problem"):
        commit_import(engine, prepared, username="alice")
    assert counts(engine) == before
    assert read_data_version(engine) == version


def test_a_failing_audit_record_undoes_the_whole_import(engine, monkeypatch):
    import cxdash.importer.run as run_module

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO app_audit", {}, Exception("disk I/O error"))

    before, version = counts(engine), read_data_version(engine)
    prepared = prepare_import(engine, many_tickets("2024-02-29"), "t.csv", TICKETS)
    assert prepared.ok
    monkeypatch.setattr(run_module, "write_audit", broken)
    with pytest.raises(InputError, match=r"refused the import.*disk I/O error.*nothing was written"):
        commit_import(engine, prepared, username="alice")
    assert counts(engine) == before
    assert read_data_version(engine) == version


def test_the_same_file_twice_is_already_imported(engine):
    data = many_tickets("2024-02-29")
    first, done = run(engine, data, "t.csv", TICKETS)
    after = counts(engine)
    assert after["tickets"] == 51 and after["app_import_batches"] == 1
    again = prepare_import(engine, data, "renamed.csv", TICKETS)
    assert again.previous is not None and again.previous.batch_id == done.batch_id
    assert again.previous.username == "alice" and not again.ok
    with pytest.raises(InputError, match="already imported") as caught:
        commit_import(engine, again, username="bob")
    assert caught.value.key == "import.already_imported"
    with pytest.raises(InputError, match="already imported"):  # a stale preparation is refused too
        commit_import(engine, first, username="bob")
    assert counts(engine) == after


def test_the_data_version_moves_exactly_when_an_import_commits(engine):
    version = read_data_version(engine)
    prepared = prepare_import(engine, UPDATE_FILE, "teams.csv", TEAMS)
    assert read_data_version(engine) == version
    done = commit_import(engine, prepared, username="alice", client="10.0.0.1")
    assert read_data_version(engine) > version
    with engine.connect() as conn:
        batch = conn.execute(sa.select(AppImportBatch.__table__)).one()
        audit = conn.execute(sa.select(AppAudit.__table__).where(AppAudit.action == "import")).one()
    assert batch.batch_id == done.batch_id
    assert (batch.file_name, batch.kind, batch.username, batch.rows_read) == (
        "teams.csv",
        "teams",
        "alice",
        2,
    )
    assert batch.file_hash == prepared.file_hash and "table: teams" in batch.mapping
    assert json.loads(batch.written) == done.written
    detail = json.loads(audit.detail)
    assert (audit.username, audit.client) == ("alice", "10.0.0.1")
    assert detail["sha256"] == prepared.file_hash and detail["batch"] == done.batch_id
    assert detail["file"] == "teams.csv" and detail["rows"] == 2


def test_limits_reach_prepare(engine):
    with pytest.raises(InputError, match="more than 1 rows"):
        prepare_import(engine, UPDATE_FILE, "teams.csv", TEAMS, limits=Limits(max_rows=1))


def test_a_mapped_header_the_file_lacks_is_named(engine):
    mapping = Mapping(table="teams", columns={"team_id": "编号", "name": "name"})
    with pytest.raises(InputError, match="does not have: 编号"):
        prepare_import(engine, UPDATE_FILE, "teams.csv", mapping)


def test_a_latin1_file_imports_with_its_encoding(engine):
    data = "id,name\nT7,Müller & Söhne\n".encode("latin-1")
    with pytest.raises(InputError, match="encoding"):
        prepare_import(engine, data, "teams.csv", TEAMS)
    mapping = Mapping(table="teams", columns=TEAMS.columns, encoding="latin-1")
    run(engine, data, "teams.csv", mapping)
    assert ("T7", "Müller & Söhne") in rows(engine, "teams", "team_id", "name")


def test_keys_added_between_prepare_and_commit(engine):
    """Someone adds a key between prepare and commit: updated by default, refused under `error`."""
    data = b"id,name\nT5,five\nT6,six\n"
    strict = Mapping(table="teams", columns=TEAMS.columns, on_existing={"teams": "error"})
    prepared, lenient = (prepare_import(engine, data, "teams.csv", m) for m in (strict, TEAMS))
    assert prepared.ok and lenient.ok
    with engine.begin() as conn:
        conn.execute(sa.insert(table("teams")).values(team_id="T6", name="raced"))
    before, version = counts(engine), read_data_version(engine)
    with pytest.raises(InputError, match="added to the database since the file was checked") as caught:
        commit_import(engine, prepared, username="alice")
    assert caught.value.key == "import.added_since_check"
    assert counts(engine) == before and read_data_version(engine) == version
    done = commit_import(engine, lenient, username="alice")
    assert done.written == {"teams": {"inserted": 1, "updated": 1, "unchanged": 0}}


@pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_row_the_database_refuses_at_commit_writes_nothing(engine):
    """A referenced customer deleted between prepare and commit: the foreign key refuses the rows (on
    PostgreSQL; SQLite does not enforce foreign keys unless asked, the importer's own check does)."""
    prepared = prepare_import(engine, many_tickets("2024-02-29"), "t.csv", TICKETS)
    assert prepared.ok
    with engine.begin() as conn:
        conn.execute(sa.delete(table("customers")).where(table("customers").c.customer_id == "007"))
    before, version = counts(engine), read_data_version(engine)
    with pytest.raises(InputError, match=r"refused the import.*foreign key.*nothing was written") as caught:
        commit_import(engine, prepared, username="alice")
    assert caught.value.key == "import.database_refused"
    assert counts(engine) == before
    assert read_data_version(engine) == version
