"""The closed vocabularies of SCHEMA.md: one place for every enumerated text column."""

from typing import Final

CHANNELS: Final = ("phone", "email", "chat", "social", "web_form", "app")
TICKET_STATUSES: Final = ("new", "open", "pending", "resolved", "closed")
PRIORITIES: Final = ("urgent", "high", "normal", "low")
EVENT_STAGES: Final = (
    "registered",
    "assigned",
    "in_progress",
    "pending_customer",
    "resolved",
    "feedback",
    "closed",
    "reopened",
)
SURVEY_KINDS: Final = ("csat", "nps", "ces")
ORDER_STATUSES: Final = ("completed", "refunded", "cancelled")
SEGMENTS: Final = ("consumer", "business")
LOYALTY_REASONS: Final = ("purchase", "bonus", "redeem", "expire")
SCORE_RANGES: Final = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}  # each survey kind's scale

# Columns whose values come from the tuples above, read as pl.Enum.
ENUM_COLUMNS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("tickets", "channel"): CHANNELS,
    ("tickets", "status"): TICKET_STATUSES,
    ("tickets", "priority"): PRIORITIES,
    ("ticket_events", "stage"): EVENT_STAGES,
    ("surveys", "kind"): SURVEY_KINDS,
    ("orders", "status"): ORDER_STATUSES,
    ("customers", "segment"): SEGMENTS,
    ("loyalty_ledger", "reason"): LOYALTY_REASONS,
    ("sla_policies", "priority"): PRIORITIES,
}
# Open-ended text columns with few distinct values, read as pl.Categorical.
CATEGORICAL_COLUMNS: Final = frozenset(
    {
        ("tickets", "category"),
        ("tickets", "root_cause"),
        ("customers", "city"),
        ("customers", "region"),
        ("customers", "acquisition_channel"),
        ("orders", "product_category"),
    }
)
