"""The Service map page through AppTest: draws in both languages for every role's scope with no raw
message keys, a team lead's map holds only their teams' tickets (the same count as `kpis` for that
scope), the node table is the view's, and a node card's button takes the sidebar to its filter."""

import re

import polars as pl
import pytest

from cxdash.i18n import Translator
from cxdash.kpi_report import kpi_report
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import parse_period
from tests.app.session import page_opener

RAW_KEY = re.compile(r"\b(map|nav|channel|category)\.[a-z_]+")


@pytest.fixture
def page(monkeypatch, small_db):
    return page_opener(monkeypatch, small_db, "pages/service_map.py")


def texts(at) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning"):
        found += [element.value for element in getattr(at, kind)]
    return found + [b.label for b in at.button]


def node_table(at, t: Translator) -> pl.DataFrame:
    for element in at.dataframe:
        value = element.value if isinstance(element.value, pl.DataFrame) else pl.from_pandas(element.value)
        if t("map.col_node") in value.columns:
            return value
    raise AssertionError("no node table")


def scoped_tickets(url: str, teams: tuple[str, ...]) -> int:
    frames, span = read_frames(url), read_span(url)
    from cxdash.metrics.scope import scoped

    report = kpi_report(
        scoped(frames, Scope(teams=teams)), parse_period("2026Q3"), span=span, tz="Asia/Shanghai",
        scope=Scope(teams=teams), options=KpiOptions(),
    )  # fmt: skip
    return int(report["kpis"]["tickets"]["value"])


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", ["manager", "lead_t01", "analyst", "viewer"])
def test_the_map_draws_in_both_languages(page, user, lang):
    at = page(user=user, lang=lang)
    t = Translator(lang)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == t("nav.service_map")
    assert len(at.get("plotly_chart")) == 1
    assert not [text for text in texts(at) if RAW_KEY.search(text)]


def test_a_team_lead_sees_only_their_teams_tickets(page, small_db):
    t = Translator("en")
    lead = node_table(page(user="lead_t01", lang="en"), t)
    manager = node_table(page(user="manager", lang="en"), t)
    channel = t("map.stage_channel")
    lead_total = lead.filter(pl.col(t("map.col_stage")) == channel)[t("map.col_tickets")].sum()
    manager_total = manager.filter(pl.col(t("map.col_stage")) == channel)[t("map.col_tickets")].sum()
    assert lead_total == scoped_tickets(small_db, ("T01",)) < manager_total == scoped_tickets(small_db, ())


def test_a_channel_card_sets_the_sidebar_to_that_channel_and_period(page):
    at = page(user="manager", lang="en")
    chat = next(b for b in at.button if b.key and b.key.startswith("map_go_channel_"))
    chat.click().run()
    assert not at.exception
    chosen = [at.session_state[k] for k in ("f_kind", "f_period_quarter", "f_channels")]
    assert chosen[0] == "quarter" and chosen[1] == "2026Q3" and len(chosen[2]) == 1
