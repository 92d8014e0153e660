"""Frozen quarterly reviews (app_review_snapshots): stored as the JSON the page and the deck draw from,
so a snapshot shows the same numbers after the data changes; listed to whoever may see them, renamed
and deleted by their owner only, every change audited."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cxdash.auth.store import write_audit
from cxdash.db.schema import AppReviewSnapshot
from cxdash.errors import InputError

NAME_LIMIT = 120


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    snapshot_id: int
    name: str
    owner: str
    created_at: datetime
    period: str
    scope: dict


def _name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_LIMIT:
        raise InputError(
            f"Give the review a name of 1 to {NAME_LIMIT} characters.",
            key="review.bad_name",
            limit=NAME_LIMIT,
        )
    return cleaned


def freeze_review(
    engine: Engine, review: dict, *, name: str, owner: str, client: str | None, now: datetime | None = None
) -> int:
    """Store a review as it is now (with its audit record); returns the snapshot's id."""
    at = now or datetime.now(UTC)
    report = review["report"]
    with engine.begin() as conn:
        snapshot_id = conn.execute(
            sa.insert(AppReviewSnapshot).values(
                name=_name(name), owner=owner, created_at=at, period=report["period"],
                scope=json.dumps(report["scope"], ensure_ascii=False, sort_keys=True),
                data_as_of=datetime.fromisoformat(report["data_as_of"]),
                review=json.dumps(review, ensure_ascii=False, default=str),
            )
        ).inserted_primary_key[0]  # fmt: skip
        write_audit(
            conn, now=at, action="review_frozen", username=owner, client=client,
            snapshot=snapshot_id, name=_name(name), period=report["period"], scope=report["scope"],
        )  # fmt: skip
    return int(snapshot_id)


def list_snapshots(conn: Connection, *, username: str, sees_all: bool) -> list[SnapshotInfo]:
    """The snapshots a user may open: their own, and everyone's for roles that see all data."""
    query = sa.select(
        AppReviewSnapshot.snapshot_id, AppReviewSnapshot.name, AppReviewSnapshot.owner,
        AppReviewSnapshot.created_at, AppReviewSnapshot.period, AppReviewSnapshot.scope,
    ).order_by(AppReviewSnapshot.created_at.desc(), AppReviewSnapshot.snapshot_id.desc())  # fmt: skip
    if not sees_all:
        query = query.where(AppReviewSnapshot.owner == username)
    rows = conn.execute(query).all()
    return [
        SnapshotInfo(r.snapshot_id, r.name, r.owner, r.created_at, r.period, json.loads(r.scope))
        for r in rows
    ]


def open_snapshot(conn: Connection, snapshot_id: int, *, username: str, sees_all: bool) -> dict | None:
    """The frozen review, or None when it does not exist or the user may not open it."""
    query = sa.select(AppReviewSnapshot.review).where(AppReviewSnapshot.snapshot_id == snapshot_id)
    if not sees_all:
        query = query.where(AppReviewSnapshot.owner == username)
    text = conn.scalar(query)
    return None if text is None else json.loads(text)


def delete_snapshot(engine: Engine, snapshot_id: int, *, username: str, client: str | None) -> bool:
    """Delete the user's own snapshot (audited); False when it is not theirs or does not exist."""
    with engine.begin() as conn:
        deleted = conn.execute(
            sa.delete(AppReviewSnapshot).where(
                AppReviewSnapshot.snapshot_id == snapshot_id, AppReviewSnapshot.owner == username
            )
        ).rowcount
        if deleted:
            write_audit(
                conn, now=datetime.now(UTC), action="review_deleted", username=username, client=client,
                snapshot=snapshot_id,
            )  # fmt: skip
    return bool(deleted)


def rename_snapshot(
    engine: Engine, snapshot_id: int, name: str, *, username: str, client: str | None
) -> bool:
    """Rename the user's own snapshot (audited); False when it is not theirs or does not exist."""
    cleaned = _name(name)
    with engine.begin() as conn:
        renamed = conn.execute(
            sa.update(AppReviewSnapshot)
            .where(AppReviewSnapshot.snapshot_id == snapshot_id, AppReviewSnapshot.owner == username)
            .values(name=cleaned)
        ).rowcount
        if renamed:
            write_audit(
                conn, now=datetime.now(UTC), action="review_renamed", username=username, client=client,
                snapshot=snapshot_id, name=cleaned,
            )  # fmt: skip
    return bool(renamed)
