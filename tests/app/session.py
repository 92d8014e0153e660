"""Signing a demo account in for AppTest, as the login form would."""

from datetime import UTC, datetime
from pathlib import Path

from cxdash.auth import store
from cxdash.auth.demo import DEMO_USERS
from cxdash.auth.startup import DEMO_SECRET
from cxdash.db.engine import make_engine

ROOT = Path(__file__).resolve().parents[2]


def token_for(url: str, username: str) -> str:
    """Log a demo account in and return its session token."""
    password = next(p for u, p, *_ in DEMO_USERS if u == username)
    engine = make_engine(url)
    result = store.login(
        engine, username, password, client="apptest", policy=store.SessionPolicy(secret=DEMO_SECRET.encode()),
        now=datetime.now(UTC),
    )  # fmt: skip
    engine.dispose()
    assert result.ok
    return result.token
