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


def page_opener(monkeypatch, url: str, script: str):
    """A function that opens `script` (e.g. "pages/loyalty.py") in a new AppTest session of a demo
    account, language and session state, as a page's own tests do."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CXDASH_DB_URL", url)
    tokens: dict[str, str] = {}

    def run(user: str = "manager", lang: str = "zh", **state) -> AppTest:
        monkeypatch.setenv("CXDASH_LANG", lang)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
        tokens.setdefault(user, token_for(url, user))
        at.session_state["cxdash_token"] = tokens[user]
        for key, value in state.items():
            at.session_state[key] = value
        at.switch_page(script)
        return at.run()

    return run
