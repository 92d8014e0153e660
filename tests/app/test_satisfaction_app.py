"""The Satisfaction page through AppTest: its cards equal `kpis` under the chosen threshold, every tab
draws in both languages, a team lead sees only their teams, and the planted stories show (resolution
the top driver, speed second; VIP NPS above the rest)."""

import re
from datetime import date

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from cxdash.i18n import Translator
from cxdash.kpi_report import kpi_report
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import KpiOptions
from cxdash.periods import parse_period
from tests.app.session import page_opener

TABS = ("trends", "breakdown", "items", "drivers", "comments")
RAW_KEY = re.compile(r"\b(satisfaction|tier|category|chart|kpi|channel|segment)\.[a-z_]+")
SURVEY_KPIS = ("csat_pct", "csat_mean", "csat_response_rate_pct", "nps", "ces_mean")


@pytest.fixture
def page(monkeypatch, small_db):
    return page_opener(monkeypatch, small_db, "pages/satisfaction.py")


def texts(at: AppTest) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    found += [m.label for m in at.metric] + [m.value for m in at.metric]
    found += [w.label for w in (*at.selectbox, *at.multiselect, *at.segmented_control)]
    return found


def frames_shown(at: AppTest) -> list[pl.DataFrame]:
    return [
        pl.from_pandas(d.value) if not isinstance(d.value, pl.DataFrame) else d.value for d in at.dataframe
    ]


def expected_cards(url: str, lang: str, period: str, threshold: int) -> dict[str, str]:
    t = Translator(lang)
    report = kpi_report(
        read_frames(url), parse_period(period), span=read_span(url), tz="Asia/Shanghai",
        options=KpiOptions(csat_threshold=threshold),
    )  # fmt: skip
    units = {
        "csat_pct": "%",
        "csat_mean": "score",
        "csat_response_rate_pct": "%",
        "nps": "points",
        "ces_mean": "score",
    }
    return {t(f"kpi.{k}.label"): t.kpi_value(report["kpis"][k]["value"], units[k]) for k in SURVEY_KPIS}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_draws_in_both_languages(page, tab, lang):
    at = page(lang=lang, sat_tab=tab)
    assert not at.exception and not at.error, [e.value for e in at.error]
    t = Translator(lang)
    assert at.title[0].value == t("satisfaction.title")
    assert len(at.metric) >= 5
    assert not [text for text in texts(at) if RAW_KEY.search(text)]
    assert at.tabs[0].label == t("satisfaction.tab_trends")


@pytest.mark.parametrize("threshold", [5, 4, 3])
def test_the_threshold_setting_changes_the_csat_card(page, small_db, threshold):
    at = page(csat_threshold=threshold)
    t = Translator("zh")
    shown = {m.label: m.value for m in at.metric}
    expected = expected_cards(small_db, "zh", "2026Q3", threshold)
    for label, value in expected.items():
        assert shown[label] == value, label
    assert any(t(f"satisfaction.definition_{threshold}") in c.value for c in at.caption)


def test_the_threshold_changes_the_csat_figure(page, small_db):
    top1 = {m.label: m.value for m in page(csat_threshold=5).metric}
    top3 = {m.label: m.value for m in page(csat_threshold=3).metric}
    label = Translator("zh")("kpi.csat_pct.label")
    assert float(top1[label].rstrip("%")) < float(top3[label].rstrip("%"))


def test_the_key_drivers_tab_names_resolution_then_speed(page):
    at = page(sat_tab="drivers")
    t = Translator("zh")
    summary = at.success[0].value
    first, second = t("satisfaction.item_rating_resolution"), t("satisfaction.item_rating_speed")
    assert first in summary and second in summary
    assert summary.index(first) < summary.index(second)
    table = next(f for f in frames_shown(at) if t("satisfaction.driver") in f.columns)
    ranked = table.sort(t("satisfaction.importance"), descending=True, nulls_last=True)[
        t("satisfaction.driver")
    ]
    assert ranked[:2].to_list() == [first, second]


def test_vip_nps_is_above_the_rest_over_a_year(page):
    at = page(
        sat_tab="breakdown", f_kind="custom", f_range=(date(2025, 11, 16), date(2026, 11, 15)),
        sat_dimension="tier", sat_breakdown_kpi="nps",
    )  # fmt: skip
    assert not at.exception and not at.error
    t = Translator("zh")
    table = next(
        f
        for f in frames_shown(at)
        if t("satisfaction.dim_tier") in f.columns and t("chart.value") in f.columns
    )
    nps = dict(zip(table[t("satisfaction.dim_tier")], table[t("chart.value")], strict=True))
    vip = nps[t("tier.vip")]
    others = [v for k, v in nps.items() if k != t("tier.vip") and v is not None]
    assert vip is not None and vip > max(others) - 10 and vip >= min(others) + 12


def test_a_team_lead_sees_only_their_teams(page):
    at = page(user="lead_t01", sat_tab="breakdown", sat_dimension="team_id", sat_breakdown_kpi="csat_pct")
    assert not at.exception and not at.error
    t = Translator("zh")
    table = next(f for f in frames_shown(at) if t("satisfaction.dim_team_id") in f.columns)
    assert table.height >= 1
    assert all(label.endswith("(T01)") for label in table[t("satisfaction.dim_team_id")].to_list())


@pytest.mark.parametrize("user", ["lead_t01", "analyst"])
def test_a_drill_down_shows_the_responses_behind_a_bar(page, user):
    at = page(user=user, sat_tab="breakdown", sat_dimension="channel", sat_breakdown_kpi="csat_pct")
    t = Translator("zh")
    drill = next(s for s in at.selectbox if s.label == t("satisfaction.drill"))
    first = drill.options[0]  # the first bar's channel (a lead's team may serve one channel only)
    at = drill.select_index(0).run()
    assert not at.exception and not at.error
    rows = next(f for f in frames_shown(at) if t("satisfaction.col_survey_id") in f.columns)
    assert rows.height > 0
    assert set(rows[t("satisfaction.col_channel")]) == {first}
    names = rows[t("satisfaction.col_customer_name")].drop_nulls()
    if user == "lead_t01":  # only their teams; they may see personal data
        assert set(rows[t("satisfaction.col_team_id")]) == {"T01"}
        assert any(set(name[1:]) - {"*"} for name in names)
    else:  # an analyst sees every team, personal data masked (first character kept)
        assert len(set(rows[t("satisfaction.col_team_id")])) > 1
        assert names.len() and all(set(name[1:]) <= {"*"} for name in names)
