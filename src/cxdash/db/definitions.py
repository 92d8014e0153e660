"""The definitions in force that admins may change (the ledger's editable part): the CSAT threshold,
the churn window, the severity weights and the OLA targets in `app_settings`, the SLA targets in
`sla_policies`.

Each change is validated, written with its audit record in one transaction (both or neither), and
read back into Settings by `config.with_definitions`, so every page, export and `kpis` follow it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cxdash.auth.store import write_audit
from cxdash.db.schema import AppSetting, SlaPolicy
from cxdash.domain import PRIORITIES
from cxdash.errors import InputError
from cxdash.metrics.ola import parse_ola_targets

EDITABLE: Final = ("csat_threshold", "churn_window_days", "severity_weights", "ola_targets")
CHURN_WINDOW_RANGE: Final = (30, 730)


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    key: str
    value: str
    changed_by: str | None
    changed_at: datetime


def parse_definition(key: str, text: str) -> object:
    """The typed value of an editable definition; InputError saying the allowed values."""
    value = str(text).strip()
    if key == "csat_threshold":
        if value not in ("3", "4", "5"):
            raise _bad(key, value, "3, 4 or 5 (satisfied = score ≥ it, of 5)")
        return int(value)
    if key == "churn_window_days":
        low, high = CHURN_WINDOW_RANGE
        if not value.isdigit() or not low <= int(value) <= high:
            raise _bad(key, value, f"a whole number of days from {low} to {high}")
        return int(value)
    if key == "severity_weights":
        parts = [p.strip() for p in value.replace("，", ",").split(",")]
        try:
            weights = tuple(float(p) for p in parts)
        except ValueError:
            weights = ()
        if len(weights) != 4 or any(not 0 < w <= 100 for w in weights):
            raise _bad(key, value, "four weights above 0 and at most 100 for severities 1–4, e.g. 8, 4, 2, 1")
        return weights
    if key == "ola_targets":
        targets = parse_ola_targets(value)  # InputError ola.bad_targets, saying what is allowed
        return (targets.assign_min, targets.first_action_min, targets.feedback_request_min)
    raise InputError(f"'{key}' is not an editable definition; they are {', '.join(EDITABLE)}.")


def _bad(key: str, value: str, allowed: str) -> InputError:
    return InputError(
        f"{key} cannot be '{value}': it must be {allowed}.",
        key="definitions.bad_value",
        name=key,
        value=value,
        allowed=allowed,
    )


def read_definitions(conn_or_engine: Connection | Engine) -> dict[str, StoredDefinition]:
    """The admin-set definitions; empty when there are none or the table does not exist yet."""
    query = sa.select(AppSetting.key, AppSetting.value, AppSetting.changed_by, AppSetting.changed_at)
    try:
        if isinstance(conn_or_engine, Engine):
            with conn_or_engine.connect() as conn:
                rows = conn.execute(query).all()
        else:
            rows = conn_or_engine.execute(query).all()
    except sa.exc.SQLAlchemyError:
        return {}  # an older schema or no database yet: the built-in and environment definitions hold
    return {
        r.key: StoredDefinition(r.key, r.value, r.changed_by, r.changed_at) for r in rows if r.key in EDITABLE
    }


def save_definitions(
    engine: Engine,
    changes: Mapping[str, str],
    *,
    username: str,
    client: str | None,
    now: datetime | None = None,
) -> dict[str, tuple[str | None, str]]:
    """Store changed definitions with one audit record (old → new); returns what changed."""
    for key, value in changes.items():
        parse_definition(key, value)
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        before = {k: d.value for k, d in read_definitions(conn).items()}
        changed = {
            k: (before.get(k), str(v).strip()) for k, v in changes.items() if before.get(k) != str(v).strip()
        }
        for key, (old, new) in changed.items():
            if old is None:
                conn.execute(
                    sa.insert(AppSetting).values(key=key, value=new, changed_by=username, changed_at=at)
                )
            else:
                conn.execute(
                    sa.update(AppSetting).where(AppSetting.key == key)
                    .values(value=new, changed_by=username, changed_at=at)
                )  # fmt: skip
        if changed:
            write_audit(
                conn, now=at, action="definitions", username=username, client=client,
                changes={k: {"from": old, "to": new} for k, (old, new) in changed.items()},
            )  # fmt: skip
    return changed


def sla_targets(conn: Connection) -> dict[str, tuple[int, int]]:
    """priority → (first response, resolution) targets in minutes."""
    rows = conn.execute(
        sa.select(SlaPolicy.priority, SlaPolicy.first_response_target_min, SlaPolicy.resolution_target_min)
    )
    return {p: (int(f), int(r)) for p, f, r in rows}


def save_sla_targets(
    engine: Engine,
    targets: Mapping[str, tuple[int, int]],
    *,
    username: str,
    client: str | None,
    now: datetime | None = None,
) -> dict[str, tuple[tuple[int, int] | None, tuple[int, int]]]:
    """Replace the SLA targets of the given priorities (audited; the data version moves, as for any
    write to a business table); InputError for unknown priorities or targets that are not whole
    minutes ≥ 1 with first response ≤ resolution."""
    for priority, (first, resolution) in targets.items():
        if priority not in PRIORITIES:
            raise InputError(f"Unknown priority '{priority}'; they are {', '.join(PRIORITIES)}.")
        if not (isinstance(first, int) and isinstance(resolution, int)) or first < 1 or resolution < first:
            raise InputError(
                f"The {priority} targets must be whole minutes, at least 1, with the first response "
                f"({first}) no later than the resolution ({resolution}).",
                key="definitions.bad_sla",
                priority=priority,
                first=first,
                resolution=resolution,
            )
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        before = sla_targets(conn)
        changed = {p: (before.get(p), v) for p, v in targets.items() if before.get(p) != tuple(v)}
        for priority, (old, (first, resolution)) in changed.items():
            values = {"first_response_target_min": first, "resolution_target_min": resolution}
            if old is None:
                conn.execute(sa.insert(SlaPolicy).values(priority=priority, **values))
            else:
                conn.execute(sa.update(SlaPolicy).where(SlaPolicy.priority == priority).values(**values))
        if changed:
            write_audit(
                conn, now=at, action="sla_policy", username=username, client=client,
                changes={p: {"from": old, "to": list(new)} for p, (old, new) in changed.items()},
            )  # fmt: skip
    return changed
