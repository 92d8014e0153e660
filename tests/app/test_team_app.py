"""The Team performance page through AppTest: every tab draws in both languages, the planted agent
(A0203) stands out as significantly below what their ticket mix predicts, and a team lead sees only
their own teams."""

import re
from datetime import date

import polars as pl
import pytest

from cxdash.i18n import Translator
from tests.app.session import page_opener

TABS = ("fair", "sla", "workload", "whatif", "agent")
RAW_KEY = re.compile(r"\b(team|chart|kpi|channel|calendars)\.[a-z_]+")
YEAR = {"f_kind": "custom", "f_range": (date(2025, 11, 16), date(2026, 11, 15))}


@pytest.fixture
def page(monkeypatch, small_db):
    return page_opener(monkeypatch, small_db, "pages/team.py")


def texts(at) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    found += [m.label for m in at.metric] + [w.label for w in (*at.selectbox, *at.slider)]
    return found


def frames_shown(at) -> list[pl.DataFrame]:
    return [d.value if isinstance(d.value, pl.DataFrame) else pl.from_pandas(d.value) for d in at.dataframe]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_draws_in_both_languages(page, tab, lang):
    at = page(lang=lang, team_tab=tab)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == Translator(lang)("team.title")
    assert not [text for text in texts(at) if RAW_KEY.search(text)]


def test_the_planted_agent_is_significantly_below_expected(page):
    at = page(team_tab="fair", **YEAR)
    assert not at.exception and not at.error
    assert "(A0203)" in next(w.value for w in at.warning if "A0" in w.value)


def test_a_team_lead_sees_only_their_teams(page):
    t = Translator("zh")
    at = page(user="lead_t01")
    teams = next(
        f for f in frames_shown(at) if t("team.team") in f.columns and t("kpi.tickets.label") in f.columns
    )
    assert teams[t("team.team")].to_list() == [
        next(v for v in teams[t("team.team")].to_list() if "(T01)" in v)
    ]


def test_the_chat_first_response_rise_shows_on_the_medium_demo(monkeypatch, medium_db):
    t = Translator("zh")
    at = page_opener(monkeypatch, medium_db, "pages/team.py")(
        team_tab="sla", team_sla_by="channel", team_sla_kind="quarter"
    )
    assert not at.exception and not at.error
    title = next(
        c for f in frames_shown(at) for c in f.columns if c.startswith(t("kpi.frt_median_min.label"))
    )
    table = next(f for f in frames_shown(at) if title in f.columns and t("team.by_channel") in f.columns)
    chat = table.filter(pl.col(t("team.by_channel")) == t("channel.chat"))
    by_period = dict(zip(chat[t("chart.period")], chat[title], strict=True))
    assert (
        by_period[t("period.quarter", year=2026, quarter=3)]
        >= 1.5 * by_period[t("period.quarter", year=2026, quarter=2)]
    )
