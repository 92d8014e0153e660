"""Links that keep their state: period, filters and language live in the URL's query parameters, read
when a session starts and written back after the sidebar is drawn, never wider than the viewer's own
scope; the language is also remembered per user."""

import shutil
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cxdash.auth import store
from cxdash.db.engine import make_engine
from tests.app.session import ROOT, token_for


def start(
    monkeypatch, url: str, user: str | None = "manager", *, query: dict | None = None, **state
) -> AppTest:
    """A new session (a reload or an opened link) with these query parameters and session state."""
    monkeypatch.setenv("CXDASH_DB_URL", url)
    monkeypatch.setenv("CXDASH_LANG", "zh")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if user:
        at.session_state["cxdash_token"] = token_for(url, user)
    at.query_params.update(query or {})
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def copy_db(url: str, tmp_path: Path) -> str:
    target = tmp_path / "copy.db"
    shutil.copy(url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def saved_language(url: str, username: str) -> str | None:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = store.get_pref(conn, username, "lang")
    engine.dispose()
    return value


def test_query_params_seed_the_period_filters_and_language(monkeypatch, small_db):
    query = {"k": "month", "p": "2026-06", "ch": ["chat", "app"], "seg": "business", "lang": "en"}
    at = start(monkeypatch, small_db, query=query)
    assert not at.exception and not at.error
    assert at.title[0].value == "Overview"
    assert at.segmented_control(key="f_kind__en").value == "month"
    assert at.selectbox(key="f_period_month__en").value == "2026-06"
    assert at.multiselect(key="f_channels__en").value == ["chat", "app"]
    assert at.multiselect(key="f_segments__en").value == ["business"]
    # the same numbers as the same choices made in the sidebar
    chosen = start(
        monkeypatch, small_db, lang="en", f_kind="month", f_period_month="2026-06",
        f_channels=["chat", "app"], f_segments=["business"],
    )  # fmt: skip
    assert metric_values(at) and metric_values(at) == metric_values(chosen)
    assert at.query_params == query  # and the link stays as it came


def test_choices_are_written_to_the_url_with_short_names_and_only_when_not_default(monkeypatch, small_db):
    assert start(monkeypatch, small_db).query_params == {}
    at = start(
        monkeypatch,
        small_db,
        f_period_quarter="2026Q1",
        f_teams=["T02", "T03"],
        f_regions=["华东"],
        lang="en",
    )
    assert not at.exception
    assert at.query_params == {"p": "2026Q1", "team": ["T02", "T03"], "reg": "华东", "lang": "en"}
    # choosing the default period again takes it out of the link
    at.selectbox(key="f_period_quarter__en").set_value("2026Q3").run()
    assert at.query_params == {"team": ["T02", "T03"], "reg": "华东", "lang": "en"}


def test_a_period_kind_is_read_from_the_period_itself(monkeypatch, small_db):
    at = start(monkeypatch, small_db, query={"p": "2026-06"})
    assert at.segmented_control(key="f_kind__zh").value == "month"
    assert at.selectbox(key="f_period_month__zh").value == "2026-06"
    assert at.query_params == {"k": "month", "p": "2026-06"}


def test_a_custom_range_link(monkeypatch, small_db):
    at = start(monkeypatch, small_db, query={"k": "custom", "p": "2026-09-01..2026-09-30"})
    assert not at.exception and not at.error
    assert at.date_input(key="f_range").value == (date(2026, 9, 1), date(2026, 9, 30))
    assert at.metric
    assert at.query_params == {"k": "custom", "p": "2026-09-01..2026-09-30"}


@pytest.mark.parametrize("period", ["2099-01-01..2099-02-01", "2026-09-30..2026-09-01", "soon..later", "x"])
def test_a_custom_range_outside_the_data_or_nonsense_falls_back(monkeypatch, small_db, period):
    at = start(monkeypatch, small_db, query={"k": "custom", "p": period})
    assert not at.exception and not at.error
    first, last = at.date_input(key="f_range").value
    assert first <= last <= date(2026, 11, 15)
    assert at.metric
    assert at.query_params == {"k": "custom"}


def test_a_tampered_link_does_not_widen_a_team_leads_scope_or_crash(monkeypatch, small_db):
    tampered = {
        "team": ["T02", "T03", "'; DROP TABLE tickets; --", *["T99"] * 500],
        "p": "1999Q1",
        "k": "decade",
        "ch": "<img src=x onerror=alert(1)>",
        "seg": "",
        "lang": "fr",
    }
    at = start(monkeypatch, small_db, "lead_t01", query=tampered)
    assert not at.exception and not at.error
    assert at.title[0].value == "总览"
    teams = at.multiselect(key="f_teams__zh")
    assert teams.value == [] and teams.options == ["电话客服组 (T01)"]
    assert at.selectbox(key="f_period_quarter__zh").value == "2026Q3"
    assert at.multiselect(key="f_channels__zh").value == []
    own = start(monkeypatch, small_db, "lead_t01")
    assert metric_values(at) and metric_values(at) == metric_values(own)
    assert at.query_params == {}  # nothing invalid survives in the link


def test_a_colleagues_link_opens_within_the_openers_scope(monkeypatch, small_db):
    link = start(
        monkeypatch, small_db, "manager", f_teams=["T01", "T02"], f_period_quarter="2026Q2"
    ).query_params
    assert link == {"team": ["T01", "T02"], "p": "2026Q2"}
    lead = start(monkeypatch, small_db, "lead_t02", query=link)
    assert not lead.exception
    assert lead.multiselect(key="f_teams__zh").value == ["T02"]
    assert lead.selectbox(key="f_period_quarter__zh").value == "2026Q2"
    same = start(monkeypatch, small_db, "lead_t02", f_teams=["T02"], f_period_quarter="2026Q2")
    assert metric_values(lead) == metric_values(same)
    assert lead.query_params == {"team": "T02", "p": "2026Q2"}


def test_the_link_language_applies_on_the_login_page(monkeypatch, small_db):
    at = start(monkeypatch, small_db, None, query={"lang": "en", "team": "T01"})
    assert not at.exception
    assert [w.label for w in at.text_input][:2] == ["Username", "Password"]
    assert at.query_params == {"lang": "en", "team": "T01"}  # kept for after the login


def test_the_language_preference_survives_a_new_session(monkeypatch, small_db, tmp_path):
    url = copy_db(small_db, tmp_path)
    first = start(monkeypatch, url)
    assert first.title[0].value == "总览"
    assert saved_language(url, "manager") is None
    first.segmented_control(key="lang_switch").set_value("en").run()
    assert not first.exception
    assert first.title[0].value == "Overview"
    assert saved_language(url, "manager") == "en"

    later = start(monkeypatch, url)  # a new session: a new login, no language in the URL
    assert later.title[0].value == "Overview"
    assert later.query_params == {"lang": "en"}
    linked = start(monkeypatch, url, query={"lang": "zh"})  # a language in the URL beats the saved one
    assert linked.title[0].value == "总览"
    assert saved_language(url, "manager") == "en"  # and opening a link does not change it
    assert start(monkeypatch, url, "viewer").title[0].value == "总览"  # each user has their own

    later.segmented_control(key="lang_switch").set_value("zh").run()
    assert later.title[0].value == "总览" and saved_language(url, "manager") == "zh"
    assert later.query_params == {}
