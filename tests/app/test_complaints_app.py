"""The Complaints page through AppTest: every tab draws in both languages, the cards equal `kpis`, the
Pareto drills down to a team lead's own tickets, and on the medium demo the page shows the planted
stories (the double charge emerging; unresolved complainers stop buying far more often)."""

import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from cxdash.i18n import Translator
from cxdash.kpi_report import kpi_report
from cxdash.load import read_frames, read_span
from cxdash.periods import parse_period
from tests.app.session import page_opener

TABS = ("trends", "severity", "pareto", "workflow", "emerging", "value")
RAW_KEY = re.compile(r"\b(complaints|cause|product|tier|category|chart|kpi|channel)\.[a-z_]+")


def opener(monkeypatch, url):
    return page_opener(monkeypatch, url, "pages/complaints.py")


@pytest.fixture
def page(monkeypatch, small_db):
    return opener(monkeypatch, small_db)


def texts(at: AppTest) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    found += [m.label for m in at.metric] + [m.value for m in at.metric]
    found += [w.label for w in (*at.selectbox, *at.multiselect, *at.segmented_control)]
    return found


def frames_shown(at: AppTest) -> list[pl.DataFrame]:
    return [d.value if isinstance(d.value, pl.DataFrame) else pl.from_pandas(d.value) for d in at.dataframe]


def table_with(at: AppTest, column: str) -> pl.DataFrame:
    return next(f for f in frames_shown(at) if column in f.columns)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_draws_in_both_languages(page, tab, lang):
    at = page(lang=lang, cmp_tab=tab)
    assert not at.exception and not at.error, [e.value for e in at.error]
    t = Translator(lang)
    assert at.title[0].value == t("complaints.title")
    assert at.tabs[0].label == t("complaints.tab_trends")
    assert not [text for text in texts(at) if RAW_KEY.search(text)]


def test_the_cards_equal_the_kpis(page, small_db):
    at = page()
    t = Translator("zh")
    report = kpi_report(
        read_frames(small_db), parse_period("2026Q3"), span=read_span(small_db), tz="Asia/Shanghai"
    )
    shown = {m.label: m.value for m in at.metric}
    assert shown[t("kpi.complaints.label")] == t.kpi_value(report["kpis"]["complaints"]["value"], "count")
    rate = report["kpis"]["complaint_rate_per_1k_orders"]["value"]
    assert shown[t("kpi.complaint_rate_per_1k_orders.label")] == t.kpi_value(rate, "per 1k orders")


def test_the_pareto_drills_down_to_a_team_leads_own_tickets(page):
    t = Translator("zh")
    at = page(user="lead_t01", cmp_tab="pareto")
    assert not at.exception and not at.error
    drill = next(s for s in at.selectbox if s.label == t("complaints.drill"))
    category = drill.options[0]
    at = drill.select_index(0).run()
    assert not at.exception and not at.error
    tickets = table_with(at, t("complaints.col_ticket_id"))
    assert tickets.height > 0
    assert set(tickets[t("complaints.dim_category")]) == {category}
    assert set(tickets[t("complaints.col_team_id")]) == {"T01"}
    # one more level: the root causes of that category
    assert any(category in m.value for m in at.markdown)
    pareto = table_with(at, t("complaints.dim_root_cause"))
    assert pareto.height >= 1


def test_the_stalled_list_and_the_at_risk_list_are_a_team_leads_own(page):
    t = Translator("zh")
    at = page(user="lead_t01", cmp_tab="workflow")
    stalled = table_with(at, t("complaints.hours_in_stage"))
    assert set(stalled[t("complaints.col_team_id")]) <= {"T01"}


@pytest.fixture
def medium_page(monkeypatch, medium_db):
    return opener(monkeypatch, medium_db)


def test_the_planted_stories_show_on_the_medium_demo(medium_page):
    t = Translator("zh")
    at = medium_page(cmp_tab="emerging", f_period_quarter="2026Q3")
    assert not at.exception and not at.error
    assert t("cause.billing.double_charge") in at.warning[0].value
    at = medium_page(cmp_tab="value", f_period_quarter="2026Q3")
    assert not at.exception and not at.error
    gap = next(w.value for w in at.warning if "倍" in w.value)
    ratio = float(re.search(r"([\d.]+) 倍", gap).group(1))
    assert ratio >= 2.4
