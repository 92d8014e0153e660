"""The CRM contract of SCHEMA.md as SQLAlchemy 2 typed models, plus cxdash's own `app_` tables."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Bumped whenever a table or column changes; recorded in app_meta.
# 2: users, sessions, login attempts and the audit log; 3: the data version; 4: business calendars;
# 5: import batches, saved column mappings and the definitions in force (app_settings); 6: frozen reviews
SCHEMA_VERSION = 6

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    team_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class Agent(Base):
    __tablename__ = "agents"
    agent_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    team_id: Mapped[str] = mapped_column(Text, ForeignKey("teams.team_id"))
    hired_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    city: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(Text)
    acquisition_channel: Mapped[str] = mapped_column(Text)
    signup_at: Mapped[datetime] = mapped_column(Timestamp)
    is_loyalty_member: Mapped[bool] = mapped_column(Boolean)


class Order(Base):
    __tablename__ = "orders"
    order_id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text, ForeignKey("customers.customer_id"), index=True)
    ordered_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    product_category: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)


class Ticket(Base):
    __tablename__ = "tickets"
    ticket_id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text, ForeignKey("customers.customer_id"), index=True)
    order_id: Mapped[str | None] = mapped_column(Text, ForeignKey("orders.order_id"))
    channel: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(Timestamp)
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(Text)
    is_complaint: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[int | None] = mapped_column(Integer)
    team_id: Mapped[str] = mapped_column(Text, ForeignKey("teams.team_id"), index=True)
    agent_id: Mapped[str | None] = mapped_column(Text, ForeignKey("agents.agent_id"))
    reopen_count: Mapped[int] = mapped_column(Integer)
    agent_replies: Mapped[int] = mapped_column(Integer)
    reassign_count: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean)
    bot_handled: Mapped[bool] = mapped_column(Boolean)
    subject: Mapped[str] = mapped_column(Text)


class TicketEvent(Base):
    __tablename__ = "ticket_events"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(Text, ForeignKey("tickets.ticket_id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp)
    stage: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(Text)


class Survey(Base):
    __tablename__ = "surveys"
    survey_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[str] = mapped_column(Text, ForeignKey("customers.customer_id"))
    ticket_id: Mapped[str | None] = mapped_column(Text, ForeignKey("tickets.ticket_id"))
    sent_at: Mapped[datetime] = mapped_column(Timestamp)
    responded_at: Mapped[datetime | None] = mapped_column(Timestamp)
    score: Mapped[int | None] = mapped_column(Integer)
    rating_speed: Mapped[int | None] = mapped_column(Integer)
    rating_resolution: Mapped[int | None] = mapped_column(Integer)
    rating_attitude: Mapped[int | None] = mapped_column(Integer)
    rating_knowledge: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


class LoyaltyEntry(Base):
    __tablename__ = "loyalty_ledger"
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text, ForeignKey("customers.customer_id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class SlaPolicy(Base):
    __tablename__ = "sla_policies"
    priority: Mapped[str] = mapped_column(Text, primary_key=True)
    first_response_target_min: Mapped[int] = mapped_column(Integer)
    resolution_target_min: Mapped[int] = mapped_column(Integer)


# The contract gives kpi_targets no key (team_id may be null), so it is a Core table with
# exactly the contract's columns rather than an ORM class that would need a surrogate id.
kpi_targets = Table(
    "kpi_targets",
    Base.metadata,
    Column("metric", Text, nullable=False),
    Column("team_id", Text, ForeignKey("teams.team_id"), nullable=True),
    Column("period", Text, nullable=False),
    Column("target", Float, nullable=False),
)


class Annotation(Base):
    __tablename__ = "annotations"
    annotation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    on_date: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(Text)


class AppUser(Base):
    """A person who may log in. Roles are a comma-separated subset of auth.roles.ROLES."""

    __tablename__ = "app_users"
    username: Mapped[str] = mapped_column(Text, primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class AppUserTeam(Base):
    """The teams a team lead leads (their data scope)."""

    __tablename__ = "app_user_teams"
    username: Mapped[str] = mapped_column(Text, ForeignKey("app_users.username"), primary_key=True)
    team_id: Mapped[str] = mapped_column(Text, primary_key=True)


class AppSession(Base):
    """A server-side session: only a keyed hash of the browser's opaque token is stored."""

    __tablename__ = "app_sessions"
    token_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str] = mapped_column(Text, ForeignKey("app_users.username"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class AppLoginAttempt(Base):
    __tablename__ = "app_login_attempts"
    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(Text, index=True)
    client: Mapped[str] = mapped_column(Text, index=True)
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class AppAudit(Base):
    """Who did what, when, from where; `detail` is JSON."""

    __tablename__ = "app_audit"
    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    username: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)


class AppMeta(Base):
    """cxdash's own key/value facts about the database: `schema_version`, and `data_version`, the
    counter that triggers on the business tables move on every write (cxdash.db.version)."""

    __tablename__ = "app_meta"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


BUSINESS_TABLES = (
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


class AppUserPref(Base):
    """A user's saved setting, one row per user and key (e.g. `lang`: the language they last chose)."""

    __tablename__ = "app_user_prefs"
    username: Mapped[str] = mapped_column(Text, ForeignKey("app_users.username"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# Business hours (cxdash.db.calendars): the calendars durations are measured against under the business
# clock. App tables: no data-version triggers; cxdash's writer bumps the version itself.


class AppCalendar(Base):
    """A business calendar; the one at the lowest `position` is the default for unassigned teams."""

    __tablename__ = "app_calendars"
    calendar_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    public_holidays: Mapped[str | None] = mapped_column(Text)  # "CN", or null: no public holidays
    position: Mapped[int] = mapped_column(Integer)


class AppCalendarHours(Base):
    """An opening span of a weekday (ISO 1 = Monday … 7), in minutes from local midnight."""

    __tablename__ = "app_calendar_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="ck_app_calendar_hours_weekday"),
        CheckConstraint("opens_min >= 0 AND opens_min < closes_min AND closes_min <= 1440",
                        name="ck_app_calendar_hours_span"),
    )  # fmt: skip
    calendar_id: Mapped[str] = mapped_column(Text, ForeignKey("app_calendars.calendar_id"), primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    opens_min: Mapped[int] = mapped_column(Integer, primary_key=True)
    closes_min: Mapped[int] = mapped_column(Integer)


class AppCalendarDay(Base):
    """A date that differs from the weekly hours: closed (`working` false) or open (true)."""

    __tablename__ = "app_calendar_days"
    calendar_id: Mapped[str] = mapped_column(Text, ForeignKey("app_calendars.calendar_id"), primary_key=True)
    on_date: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str] = mapped_column(Text, default="")


class AppCalendarTeam(Base):
    """The calendar a team works by (teams without a row use the default calendar)."""

    __tablename__ = "app_calendar_teams"
    team_id: Mapped[str] = mapped_column(Text, primary_key=True)
    calendar_id: Mapped[str] = mapped_column(Text, ForeignKey("app_calendars.calendar_id"))


class AppSlaClock(Base):
    """The clock of an SLA policy's targets under the business clock: `business` (default) or `calendar`."""

    __tablename__ = "app_sla_clocks"
    priority: Mapped[str] = mapped_column(Text, primary_key=True)
    clock: Mapped[str] = mapped_column(Text)


class AppImportBatch(Base):
    """One completed import: the file's SHA-256 (the same file twice is refused), what it wrote."""

    __tablename__ = "app_import_batches"
    batch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_hash: Mapped[str] = mapped_column(Text, index=True)
    file_name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # a table name, flat_tickets or order_lines
    username: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(Timestamp)
    finished_at: Mapped[datetime] = mapped_column(Timestamp)
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_skipped: Mapped[int] = mapped_column(Integer)
    written: Mapped[str] = mapped_column(Text)  # JSON: table → {inserted, updated, skipped}
    mapping: Mapped[str] = mapped_column(Text)  # the YAML used


class AppImportMapping(Base):
    """A saved column mapping (YAML), reusable for the next file of the same kind."""

    __tablename__ = "app_import_mappings"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    mapping: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str | None] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(Timestamp)


class AppSetting(Base):
    """A definition in force set by an admin (CSAT threshold, churn window, severity weights); absent
    keys take the built-in default or the environment's."""

    __tablename__ = "app_settings"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(Timestamp)


class AppReviewSnapshot(Base):
    """A frozen quarterly review: its figures, narrative, filters and definitions as JSON, so that the
    meeting's numbers do not drift when the data changes."""

    __tablename__ = "app_review_snapshots"
    snapshot_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(Text, index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    period: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)  # JSON of the filters
    data_as_of: Mapped[datetime] = mapped_column(Timestamp)
    review: Mapped[str] = mapped_column(Text)  # JSON of views.review.review
