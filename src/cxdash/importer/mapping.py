"""What a file's columns mean: the import kinds, their target columns, and mappings as data (YAML).

Three kinds of file:
- `table`: rows of one SCHEMA.md table (`table: tickets`), columns mapped one to one;
- `flat_tickets`: one row per ticket with the customer (`customer.*`) and the satisfaction answer
  (`survey.*`) in it, as helpdesks export them: fills customers, tickets and surveys at once;
- `order_lines`: one row per invoice line (invoice, customer, time, quantity, unit price), summed
  into orders; cancellations and refunds recognised by an invoice prefix or a negative quantity.
"""

import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import sqlalchemy as sa
import yaml

from cxdash.db.schema import Base
from cxdash.domain import ENUM_COLUMNS, ORDER_STATUSES
from cxdash.errors import InputError

Kind = Literal["table", "flat_tickets", "order_lines"]
KINDS: Final[tuple[Kind, ...]] = ("table", "flat_tickets", "order_lines")
ColumnType = Literal["text", "enum", "int", "money", "float", "bool", "timestamp", "date"]
IMPORTABLE_TABLES: Final = (
    "teams",
    "agents",
    "customers",
    "orders",
    "tickets",
    "ticket_events",
    "surveys",
    "loyalty_ledger",
    "sla_policies",
    "kpi_targets",
    "annotations",
)
OnExisting = Literal["update", "skip", "error"]
ON_EXISTING: Final = ("update", "skip", "error")
DATE_ORDERS: Final = ("ymd", "dmy", "mdy")


@dataclass(frozen=True, slots=True)
class Target:
    """A column a file may fill: its table and column in the schema, its type and whether a row
    without it is an error (`required`), or has a default described in `default`."""

    name: str  # as in a mapping: "channel", "customer.email", "quantity"
    table: str
    column: str
    type: ColumnType
    required: bool
    default: str | None = None  # what a row gets when the column is not mapped (described)
    choices: tuple[str, ...] = ()


def _column_type(table: str, column: sa.Column) -> ColumnType:
    if (table, column.name) in ENUM_COLUMNS:
        return "enum"
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return "bool"
    if isinstance(kind, sa.DateTime):
        return "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Float):
        return "float"
    if isinstance(kind, sa.Numeric):
        return "money"
    if isinstance(kind, sa.Integer):
        return "int"
    return "text"


# Columns the importer fills when a file does not say: (table, column) → described default.
BUILT_IN_DEFAULTS: Final[dict[tuple[str, str], str]] = {
    ("customers", "name"): "",
    ("customers", "email"): "",
    ("customers", "phone"): "",
    ("customers", "city"): "unknown",
    ("customers", "region"): "unknown",
    ("customers", "segment"): "consumer",
    ("customers", "acquisition_channel"): "unknown",
    ("customers", "is_loyalty_member"): "false",
    ("agents", "active"): "true",
    ("tickets", "status"): "resolved if resolved_at, else open",
    ("tickets", "is_complaint"): "false",
    ("tickets", "reopen_count"): "0",
    ("tickets", "agent_replies"): "1 if first_response_at, else 0",
    ("tickets", "reassign_count"): "0",
    ("tickets", "escalated"): "false",
    ("tickets", "bot_handled"): "false",
    ("tickets", "subject"): "",
    ("tickets", "category"): "unknown",
    ("tickets", "priority"): "normal",
    ("orders", "product_category"): "unknown",
    ("orders", "status"): "completed",
    ("surveys", "kind"): "csat",
    ("surveys", "sent_at"): "responded_at",
    ("ticket_events", "event_id"): "numbered after the database's last",
    ("loyalty_ledger", "entry_id"): "numbered after the database's last",
    ("annotations", "annotation_id"): "numbered after the database's last",
}


def table_targets(table: str, *, prefix: str = "") -> tuple[Target, ...]:
    """The targets of one schema table (names prefixed, e.g. "customer.")."""
    sa_table = Base.metadata.tables[table]
    targets = []
    for column in sa_table.columns:
        default = BUILT_IN_DEFAULTS.get((table, column.name))
        targets.append(
            Target(
                name=prefix + column.name,
                table=table,
                column=column.name,
                type=_column_type(table, column),
                required=not column.nullable and default is None,
                default=default,
                choices=ENUM_COLUMNS.get((table, column.name), ()),
            )
        )
    return tuple(targets)


def _optional(targets: Iterable[Target], **defaults: str) -> tuple[Target, ...]:
    return tuple(replace(t, required=False, default=defaults.get(t.column, t.default)) for t in targets)


def flat_ticket_targets() -> tuple[Target, ...]:
    """Tickets, plus the customer (`customer.*`, keyed by id, else e-mail, else phone) and the survey
    answer (`survey.*`, one per ticket whose score is given)."""
    tickets = tuple(
        replace(t, required=False, default="derived from customer.email or customer.phone")
        if t.column == "customer_id"
        else t
        for t in table_targets("tickets")
    )
    customers = _optional(
        (t for t in table_targets("customers", prefix="customer.") if t.column != "customer_id"),
        signup_at="the customer's first ticket in the file",
    )
    surveys = _optional(
        (
            t
            for t in table_targets("surveys", prefix="survey.")
            if t.column not in ("customer_id", "ticket_id")
        ),
        survey_id="csat-<ticket_id>",
        sent_at="responded_at, else resolved_at",
        responded_at="sent_at when a score is given",
    )
    return tickets + customers + surveys


def order_line_targets() -> tuple[Target, ...]:
    """Invoice lines summed into orders (amount = Σ quantity × unit price), with optional customers."""
    lines = (
        Target("order_id", "orders", "order_id", "text", True),
        Target("customer_id", "orders", "customer_id", "text", True),
        Target("ordered_at", "orders", "ordered_at", "timestamp", True),
        Target("quantity", "order_lines", "quantity", "float", True),
        Target("unit_price", "order_lines", "unit_price", "money", True),
        Target("product_category", "orders", "product_category", "text", False, "unknown"),
        Target("status", "orders", "status", "enum", False, "by the cancellation rules", ORDER_STATUSES),
    )  # fmt: skip
    customers = _optional(
        (t for t in table_targets("customers", prefix="customer.") if t.column != "customer_id"),
        signup_at="the customer's first order in the file",
    )
    return lines + customers


def targets_for(kind: Kind, table: str | None = None) -> tuple[Target, ...]:
    if kind == "flat_tickets":
        return flat_ticket_targets()
    if kind == "order_lines":
        return order_line_targets()
    if table not in IMPORTABLE_TABLES:
        raise InputError(
            f"Unknown table {table!r}; the tables are {', '.join(IMPORTABLE_TABLES)}.",
            key="import.unknown_table",
            table=str(table),
        )
    return table_targets(table)


@dataclass(frozen=True, slots=True)
class Mapping:
    """How a file becomes rows: target → source header, value translations, constants and rules."""

    kind: Kind = "table"
    table: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"  # of times in the file written without an offset
    date_order: str = "ymd"  # how to read 05/01/2024: dmy (5 January) or mdy (May 1)
    create_missing: tuple[str, ...] = ()  # "teams", "agents", "customers": create referenced rows
    skip_rows_without: tuple[str, ...] = ()  # rows missing these targets are skipped and counted
    on_existing: dict[str, str] = field(default_factory=dict)  # table → update | skip | error
    cancel_prefix: str | None = None  # order lines: invoices starting with it are cancellations
    negative_quantity: str = "refunded"  # order lines: an invoice whose quantity sums below 0
    encoding: str | None = None  # of a CSV that is neither UTF-8 nor GB18030 (e.g. cp1252)

    def targets(self) -> tuple[Target, ...]:
        return targets_for(self.kind, self.table)

    def policy(self, table: str) -> OnExisting:
        return self.on_existing.get(table, "update")  # type: ignore[return-value]


def mapping_from_dict(data: MappingABC[str, object]) -> Mapping:
    """A Mapping from its YAML form; InputError naming the wrong key or value."""
    if not isinstance(data, MappingABC):
        raise _bad("the file must be a YAML mapping (key: value lines)")
    known = set(Mapping.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise _bad(f"unknown key(s) {', '.join(map(str, unknown))}; the keys are {', '.join(sorted(known))}")
    kind = data.get("kind", "table")
    if kind not in KINDS:
        raise _bad(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    table = data.get("table")
    if kind == "table" and table not in IMPORTABLE_TABLES:
        raise _bad(f"table must be one of {', '.join(IMPORTABLE_TABLES)}, not {table!r}")
    mapping = Mapping(
        kind=kind,  # type: ignore[arg-type]
        table=table if kind == "table" else None,  # type: ignore[arg-type]
        columns=_str_dict(data.get("columns", {}), "columns"),
        values={
            str(k): _str_dict(v, f"values.{k}") for k, v in _dict(data.get("values", {}), "values").items()
        },
        defaults=_str_dict(data.get("defaults", {}), "defaults"),
        timezone=str(data.get("timezone", "Asia/Shanghai")),
        date_order=str(data.get("date_order", "ymd")),
        create_missing=tuple(map(str, data.get("create_missing", ()) or ())),
        skip_rows_without=tuple(map(str, data.get("skip_rows_without", ()) or ())),
        on_existing=_str_dict(data.get("on_existing", {}), "on_existing"),
        cancel_prefix=None if data.get("cancel_prefix") is None else str(data["cancel_prefix"]),
        negative_quantity=str(data.get("negative_quantity", "refunded")),
        encoding=None if data.get("encoding") is None else str(data["encoding"]),
    )
    check_mapping(mapping)
    return mapping


def check_mapping(mapping: Mapping) -> None:
    """InputError for targets that do not exist, rules with unknown values or a bad time zone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    names = {t.name for t in mapping.targets()}
    for section, keys in (
        ("columns", mapping.columns),
        ("values", mapping.values),
        ("defaults", mapping.defaults),
    ):
        wrong = sorted(set(keys) - names)
        if wrong:
            raise _bad(f"{section}: {', '.join(wrong)} is not a column of this kind of file")
    if mapping.date_order not in DATE_ORDERS:
        raise _bad(f"date_order must be one of {', '.join(DATE_ORDERS)}")
    try:
        ZoneInfo(mapping.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad(f"timezone {mapping.timezone!r} is not a time zone (e.g. Asia/Shanghai, UTC)") from None
    bad_create = sorted(set(mapping.create_missing) - {"teams", "agents", "customers"})
    if bad_create:
        raise _bad("create_missing may hold teams, agents and customers only")
    bad_policy = {k: v for k, v in mapping.on_existing.items() if v not in ON_EXISTING}
    if bad_policy:
        raise _bad(f"on_existing values must be {', '.join(ON_EXISTING)}")
    wrong_skip = sorted(set(mapping.skip_rows_without) - names)
    if wrong_skip:
        raise _bad(f"skip_rows_without: {', '.join(wrong_skip)} is not a column of this kind of file")
    wrong_tables = sorted(set(mapping.on_existing) - set(IMPORTABLE_TABLES))
    if wrong_tables:
        raise _bad(f"on_existing: {', '.join(wrong_tables)} is not a table")
    if mapping.negative_quantity not in ("refunded", "cancelled"):
        raise _bad("negative_quantity must be refunded or cancelled")


def load_mapping(text: str) -> Mapping:
    """A Mapping from YAML text (safe loader: no object construction)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise _bad(f"it is not valid YAML ({str(exc).splitlines()[0]})") from None
    return mapping_from_dict(data)


def dump_mapping(mapping: Mapping) -> str:
    """The YAML form of a mapping (only what differs from the defaults, in a stable order)."""
    data: dict[str, object] = {"kind": mapping.kind}
    if mapping.table:
        data["table"] = mapping.table
    data["columns"] = dict(mapping.columns)
    for key in ("values", "defaults", "on_existing"):
        if getattr(mapping, key):
            data[key] = dict(getattr(mapping, key))
    for key in ("create_missing", "skip_rows_without"):
        if getattr(mapping, key):
            data[key] = list(getattr(mapping, key))
    defaults = Mapping()
    for key in ("timezone", "date_order", "cancel_prefix", "negative_quantity", "encoding"):
        if getattr(mapping, key) != getattr(defaults, key):
            data[key] = getattr(mapping, key)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _bad(why: str) -> InputError:
    return InputError(f"The column mapping is not valid: {why}.", key="import.bad_mapping", why=why)


def _dict(value: object, where: str) -> MappingABC:
    if not isinstance(value, MappingABC):
        raise _bad(f"{where} must be a mapping")
    return value


def _str_dict(value: object, where: str) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in _dict(value, where).items()}


# Suggestions ---------------------------------------------------------------------------------------

# Header names seen in CRM and helpdesk exports (Chinese and English), per target column.
SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "ticket_id": (
        "工单号",
        "工单编号",
        "工单id",
        "ticket id",
        "ticket no",
        "ticket number",
        "case id",
        "case number",
        "id",
    ),
    "customer_id": (
        "客户编号",
        "客户id",
        "客户号",
        "客户代码",
        "会员号",
        "会员编号",
        "customer id",
        "customerid",
        "client id",
        "customer no",
    ),
    "order_id": (
        "订单号",
        "订单编号",
        "订单id",
        "order id",
        "order no",
        "invoice",
        "invoice no",
        "invoiceno",
        "发票号",
    ),
    "team_id": ("团队", "团队编号", "组", "班组", "team", "team id", "group", "queue"),
    "agent_id": ("客服", "客服工号", "工号", "处理人", "坐席", "agent", "agent id", "assignee", "owner"),
    "channel": ("渠道", "来源渠道", "受理渠道", "channel", "ticket channel", "source", "via"),
    "created_at": (
        "创建时间",
        "登记时间",
        "提交时间",
        "受理时间",
        "created",
        "created at",
        "created time",
        "creation date",
        "opened",
    ),
    "first_response_at": (
        "首次响应时间",
        "首次回复时间",
        "first response time",
        "first response at",
        "first reply time",
        "first responded",
    ),
    "resolved_at": (
        "解决时间",
        "完成时间",
        "resolved",
        "resolved at",
        "resolution time",
        "solved at",
        "time to resolution",
    ),
    "closed_at": ("关闭时间", "结案时间", "closed", "closed at", "closed time"),
    "status": ("状态", "工单状态", "订单状态", "status", "ticket status", "state"),
    "priority": ("优先级", "紧急程度", "priority", "ticket priority", "urgency"),
    "is_complaint": ("是否投诉", "投诉", "is complaint", "complaint"),
    "category": ("类别", "分类", "问题类型", "工单类型", "category", "ticket type", "type", "issue type"),
    "root_cause": ("根因", "原因", "根本原因", "root cause", "cause"),
    "severity": ("严重程度", "投诉等级", "等级", "severity", "level"),
    "subject": ("主题", "标题", "subject", "ticket subject", "title", "summary"),
    "amount": ("金额", "订单金额", "实付金额", "amount", "total", "order amount", "value"),
    "ordered_at": (
        "下单时间",
        "订单时间",
        "日期",
        "ordered at",
        "order date",
        "invoice date",
        "invoicedate",
        "date",
    ),
    "quantity": ("数量", "件数", "quantity", "qty"),
    "unit_price": ("单价", "unit price", "unitprice", "price"),
    "product_category": ("商品类别", "产品类别", "品类", "product category", "product", "product purchased"),
    "name": ("姓名", "客户姓名", "名称", "name", "customer name", "full name"),
    "email": ("邮箱", "电子邮件", "email", "e-mail", "customer email"),
    "phone": ("电话", "手机", "手机号", "联系电话", "phone", "mobile", "telephone"),
    "city": ("城市", "city"),
    "region": ("地区", "区域", "省份", "国家", "region", "province", "country", "state"),
    "segment": ("客户类型", "客户分类", "segment", "customer type"),
    "signup_at": ("注册时间", "注册日期", "signup at", "signup date", "registered at", "created"),
    "score": (
        "满意度",
        "满意度评分",
        "评分",
        "csat",
        "rating",
        "score",
        "customer satisfaction rating",
        "satisfaction",
    ),
    "responded_at": ("评价时间", "回复时间", "responded at", "rated at"),
    "comment": ("评价", "评价内容", "备注", "comment", "feedback", "verbatim"),
}


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-./（）()]+", "", unicodedata.normalize("NFKC", text).casefold())


def suggest_columns(headers: Iterable[str], targets: Iterable[Target]) -> dict[str, str]:
    """target → header, for each target a header names plainly: its own name, or a synonym (exact
    first, then a header containing one); each header used at most once."""
    headers = list(headers)
    normalised = {h: _norm(h) for h in headers}
    taken: set[str] = set()
    suggested: dict[str, str] = {}
    targets = list(targets)
    for exact in (True, False):
        for target in targets:
            if target.name in suggested:
                continue
            words = (target.name, target.column, *SYNONYMS.get(target.column, ()))
            wanted = [_norm(w) for w in words if _norm(w)]
            for header in headers:
                if header in taken:
                    continue
                value = normalised[header]
                hit = (
                    value in wanted
                    if exact
                    else any(len(w) >= (3 if w.isascii() else 2) and w in value for w in wanted)
                )
                if hit and (exact or _prefix_fits(target, value)):
                    suggested[target.name] = header
                    taken.add(header)
                    break
    return suggested


def _prefix_fits(target: Target, header: str) -> bool:
    """A customer's e-mail column is not the survey's comment: prefixed targets take plain names, but a
    header that names another entity ('customer name' vs ticket 'name') only fits its own."""
    return not (target.name.startswith("survey.") and "customer" in header)
