"""The demo database's accounts: one per role, passwords printed in the README."""

from datetime import datetime

from cxdash.auth import store
from cxdash.db.engine import make_engine

DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    # username, password, roles, teams, display name
    ("admin", "demo-admin-2026", "admin", (), "系统管理员 Admin"),
    ("manager", "demo-manager-2026", "manager", (), "客服总监 Manager"),
    ("lead_t01", "demo-lead-t01-2026", "team_lead", ("T01",), "电话组组长 Lead T01"),
    ("lead_t02", "demo-lead-t02-2026", "team_lead", ("T02",), "在线组组长 Lead T02"),
    ("analyst", "demo-analyst-2026", "analyst", (), "数据分析师 Analyst"),
    ("viewer", "demo-viewer-2026", "viewer", (), "访客 Viewer"),
)


def create_demo_users(url: str, *, now: datetime) -> None:
    """Add the demo accounts (and mark the database as a demo) unless they exist."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            existing = {u.username for u in store.list_users(conn)}
        for username, password, roles, teams, name in DEMO_USERS:
            if username not in existing:
                store.add_user(
                    engine,
                    username,
                    password,
                    roles=roles,
                    teams=teams,
                    display_name=name,
                    now=now,
                    actor="demo",
                )
        store.mark_demo(engine)
    finally:
        engine.dispose()
