"""SMART goals in `kpi_targets` (metric, team_id, period, target), set by admins in the browser.

The table has no key (team_id may be null: the whole company), so a goal replaces the rows of the same
metric, team and period by a delete and an insert, in one transaction with its audit record (both or
neither). kpi_targets is a business table: its triggers move the data version, so every cached page
shows the change at its next rerun (and the version is moved here where no trigger did it).
"""

from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cxdash.auth.store import write_audit
from cxdash.db.schema import kpi_targets
from cxdash.db.version import bump_data_version, read_data_version
from cxdash.metrics.goals import Goal

GOALS_SCHEMA = {"metric": pl.String, "team_id": pl.String, "period": pl.String, "target": pl.Float64}


def _same_goal(metric: str, team_id: str | None, period: str) -> sa.ColumnElement[bool]:
    """The rows of one goal; a null team_id (the whole company) matches only null."""
    team = kpi_targets.c.team_id.is_(None) if team_id is None else kpi_targets.c.team_id == team_id
    return sa.and_(kpi_targets.c.metric == metric, team, kpi_targets.c.period == period)


def list_goals(conn: Connection) -> pl.DataFrame:
    """Every row of kpi_targets (goals and the `*` standing targets): the company's first, then by team,
    period and metric."""
    rows = conn.execute(
        sa.select(kpi_targets.c.metric, kpi_targets.c.team_id, kpi_targets.c.period, kpi_targets.c.target)
        .order_by(
            kpi_targets.c.team_id.is_not(None), kpi_targets.c.team_id, kpi_targets.c.period,
            kpi_targets.c.metric,
        )
    ).all()  # fmt: skip
    return pl.DataFrame([tuple(row) for row in rows], schema=GOALS_SCHEMA, orient="row")


def _data_version_moved(conn: Connection, before: int) -> int:
    """The data version after a write to kpi_targets: moved by its triggers, else here."""
    after = read_data_version(conn)
    return after if after != before else bump_data_version(conn)


def save_goal(
    engine: Engine, goal: Goal, *, username: str, client: str | None, now: datetime | None = None
) -> list[float]:
    """Store a validated goal in place of any row of the same metric, team and period (audited
    "goal_saved"); returns the targets it replaced."""
    at = now or datetime.now(UTC)
    match = _same_goal(goal.metric, goal.team_id, goal.period)
    with engine.begin() as conn:
        before = read_data_version(conn)
        replaced = [float(v) for v in conn.scalars(sa.select(kpi_targets.c.target).where(match))]
        conn.execute(sa.delete(kpi_targets).where(match))
        conn.execute(
            sa.insert(kpi_targets).values(
                metric=goal.metric, team_id=goal.team_id, period=goal.period, target=goal.target
            )
        )
        version = _data_version_moved(conn, before)
        write_audit(
            conn, now=at, action="goal_saved", username=username, client=client, metric=goal.metric,
            team_id=goal.team_id, period=goal.period, target=goal.target, replaced=replaced,
            data_version=version,
        )  # fmt: skip
    return replaced


def delete_goal(
    engine: Engine,
    metric: str,
    team_id: str | None,
    period: str,
    *,
    username: str,
    client: str | None,
    now: datetime | None = None,
) -> int:
    """Delete the rows of one goal (audited "goal_deleted"); returns how many there were (0: nothing
    written, nothing audited)."""
    at = now or datetime.now(UTC)
    match = _same_goal(metric, team_id, period)
    with engine.begin() as conn:
        before = read_data_version(conn)
        targets = [float(v) for v in conn.scalars(sa.select(kpi_targets.c.target).where(match))]
        if not targets:
            return 0
        conn.execute(sa.delete(kpi_targets).where(match))
        version = _data_version_moved(conn, before)
        write_audit(
            conn, now=at, action="goal_deleted", username=username, client=client, metric=metric,
            team_id=team_id, period=period, targets=targets, data_version=version,
        )  # fmt: skip
    return len(targets)
