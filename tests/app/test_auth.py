"""Login gate, roles, team scope and fail-closed start-up through AppTest (SECURITY.md)."""

import secrets
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cxdash.auth import store
from cxdash.db.engine import make_engine
from cxdash.metrics.scope import Scope
from tests.app.session import ROOT, token_for
from tests.app.test_overview import expected_values, metric_values


def start(monkeypatch, url: str, *, token: str | None = None, page: str | None = None, **state) -> AppTest:
    monkeypatch.setenv("CXDASH_DB_URL", url)
    monkeypatch.setenv("CXDASH_LANG", "zh")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if token:
        at.session_state["cxdash_token"] = token
    for key, value in state.items():
        at.session_state[key] = value
    if page:
        at.switch_page(page)
    return at.run()


def shows_login(at: AppTest) -> bool:
    return [w.label for w in at.text_input][:2] == ["用户名", "密码"] and not at.metric


def test_without_a_session_only_the_login_form_is_shown(monkeypatch, small_db):
    at = start(monkeypatch, small_db)
    assert not at.exception
    assert shows_login(at)
    assert any(
        "demo-admin-2026" in str(table.value) for table in at.table
    )  # demo accounts listed in demo mode


def test_a_forged_token_is_just_logged_out(monkeypatch, small_db):
    at = start(monkeypatch, small_db, token="eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImFkbWluIn0.")
    assert not at.exception and shows_login(at)


def test_the_admin_page_is_for_admins_only(monkeypatch, small_db):
    viewer = start(monkeypatch, small_db, token=token_for(small_db, "viewer"), page="pages/admin.py")
    assert not viewer.exception
    assert any("无权" in e.value for e in viewer.error)
    assert not viewer.tabs
    admin = start(monkeypatch, small_db, token=token_for(small_db, "admin"), page="pages/admin.py")
    assert not admin.exception and not admin.error
    assert admin.title[0].value == "管理"
    users = admin.dataframe[0].value
    assert len(users) >= 6


def test_a_page_opened_directly_without_a_session_asks_for_login(monkeypatch, small_db):
    at = start(monkeypatch, small_db, page="pages/admin.py")
    assert not at.exception
    assert not at.tabs and not at.metric


def test_two_team_leads_one_after_the_other_see_only_their_own_team(monkeypatch, small_db):
    for lead, team in (("lead_t01", "T01"), ("lead_t02", "T02"), ("lead_t01", "T01")):
        at = start(monkeypatch, small_db, token=token_for(small_db, lead))
        assert not at.exception
        assert metric_values(at) == expected_values(small_db, "zh", "2026Q3", Scope(teams=(team,)))
        assert at.multiselect(key="f_teams__zh").options == [
            f"{'电话客服组' if team == 'T01' else '在线客服组'} ({team})"
        ]


def test_a_team_lead_cannot_widen_the_scope_with_tampered_filters(monkeypatch, small_db):
    at = start(monkeypatch, small_db, token=token_for(small_db, "lead_t01"), f_teams=["T02", "T03"])
    assert metric_values(at) == expected_values(small_db, "zh", "2026Q3", Scope(teams=("T01",)))


def test_a_role_change_takes_effect_at_the_next_rerun(monkeypatch, small_db, tmp_path):
    url = _copy(small_db, tmp_path)
    token = token_for(url, "manager")
    assert metric_values(start(monkeypatch, url, token=token))
    store.set_roles(make_engine(url), "manager", "viewer", now=datetime.now(UTC), actor="test")
    after = start(monkeypatch, url, token=token)
    assert shows_login(after)
    assert any("角色" in w.value for w in after.warning)


def test_a_disabled_user_is_out_at_the_next_rerun(monkeypatch, small_db, tmp_path):
    url = _copy(small_db, tmp_path)
    token = token_for(url, "analyst")
    store.set_disabled(make_engine(url), "analyst", True, now=datetime.now(UTC), actor="test")
    assert shows_login(start(monkeypatch, url, token=token))


def _copy(url: str, tmp_path: Path) -> str:
    target = tmp_path / "copy.db"
    shutil.copy(url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def _not_demo(url: str, tmp_path: Path) -> str:
    copy = _copy(url, tmp_path)
    db = sqlite3.connect(copy.removeprefix("sqlite:///"))
    db.execute("DELETE FROM app_meta WHERE key = 'demo'")
    db.commit()
    return copy


@pytest.mark.parametrize("secret", ["", "changeme", "short-secret"])
def test_outside_demo_mode_a_weak_session_secret_refuses_to_start(monkeypatch, small_db, tmp_path, secret):
    url = _not_demo(small_db, tmp_path)
    monkeypatch.setenv("CXDASH_SESSION_SECRET", secret)
    at = start(monkeypatch, url)
    assert not at.exception
    assert any("拒绝启动" in e.value for e in at.error)
    assert any("CXDASH_SESSION_SECRET" in m.value for m in at.markdown)
    assert not at.text_input  # no login form


def test_outside_demo_mode_a_strong_secret_starts(monkeypatch, small_db, tmp_path):
    url = _not_demo(small_db, tmp_path)
    monkeypatch.setenv("CXDASH_SESSION_SECRET", secrets.token_urlsafe(48))
    at = start(monkeypatch, url)
    assert not at.error and shows_login(at)
    assert not at.get("badge")


@pytest.mark.parametrize("kind", ["text file", "directory"])
def test_a_file_that_is_not_a_database_shows_a_clean_message(monkeypatch, tmp_path, kind):
    path = tmp_path / "notes.txt"
    if kind == "text file":
        path.write_text("not a database\n")
    else:
        path.mkdir()
    at = start(monkeypatch, f"sqlite:///{path}")
    assert not at.exception and at.error
    shown = " ".join(e.value for e in at.error)
    assert "[SQL:" not in shown and "sqlalche.me" not in shown and "Background on this error" not in shown
    assert "file is not a database" in shown or "unable to open database file" in shown  # the driver's reason


@pytest.mark.parametrize("secret", ["a" * 32, "cxdash demo mode: sessions of a demo database only "])
def test_the_page_still_refuses_a_weak_secret(monkeypatch, small_db, tmp_path, secret):
    url = _not_demo(small_db, tmp_path)
    monkeypatch.setenv("CXDASH_SESSION_SECRET", secret)
    at = start(monkeypatch, url)
    assert not at.exception and any("拒绝启动" in e.value for e in at.error)
    assert not at.text_input  # the second line of defence: no login form
