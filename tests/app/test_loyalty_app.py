"""The Loyalty page through AppTest: the what-if and every tab draw in both languages, a slider move
changes the tier sizes and the migration matrix and the customers who change tier are listed, reset
brings the defaults back, and the page shows VIP NPS above the rest and the churn gap."""

import re
from datetime import date

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from cxdash.i18n import Translator
from tests.app.session import page_opener

TABS = ("lifecycle", "retention", "clv", "points")
RAW_KEY = re.compile(r"\b(loyalty|complaints|tier|chart|kpi)\.[a-z_]+")


@pytest.fixture
def page(monkeypatch, small_db):
    return page_opener(monkeypatch, small_db, "pages/loyalty.py")


def texts(at: AppTest) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    found += [m.label for m in at.metric] + [m.value for m in at.metric]
    found += [w.label for w in (*at.selectbox, *at.slider, *at.number_input)]
    return found


def tier_table(at: AppTest, t: Translator) -> pl.DataFrame:
    frames = [d.value if isinstance(d.value, pl.DataFrame) else pl.from_pandas(d.value) for d in at.dataframe]
    return next(f for f in frames if t("loyalty.revenue_share") in f.columns)


def customers(table: pl.DataFrame, t: Translator, tier: str) -> int:
    row = table.filter(pl.col(t("satisfaction.dim_tier")) == t(f"tier.{tier}"))
    return int(str(row[t("loyalty.customers")][0]).split(" ")[0])


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_draws_in_both_languages(page, tab, lang):
    at = page(lang=lang, loy_tab=tab)
    assert not at.exception and not at.error, [e.value for e in at.error]
    t = Translator(lang)
    assert at.title[0].value == t("loyalty.title")
    assert len(at.slider) == 6
    assert not [text for text in texts(at) if RAW_KEY.search(text)]


def test_a_slider_move_changes_the_tiers_and_lists_who_moves(page):
    t = Translator("zh")
    at = page()
    before = tier_table(at, t)
    vip_before = customers(before, t, "vip")
    slider = next(s for s in at.slider if s.label == t("loyalty.rule_m_vip"))
    at = slider.set_value(5_000).run()
    assert not at.exception and not at.error
    after = tier_table(at, t)
    vip_after = customers(after, t, "vip")
    assert vip_after > vip_before
    # the current count is kept in brackets beside the what-if one
    vip_cell = after.filter(pl.col(t("satisfaction.dim_tier")) == t("tier.vip"))[t("loyalty.customers")][0]
    assert f"({vip_before})" in str(vip_cell)
    moved = next(m.value for m in at.markdown if "位客户的分层会改变" in m.value)
    assert int(moved.strip("*").split(" ")[0].replace(",", "")) == vip_after - vip_before
    at = next(b for b in at.button if b.label == t("loyalty.reset")).click().run()
    assert customers(tier_table(at, t), t, "vip") == vip_before


def test_vip_nps_is_above_the_rest(page):
    t = Translator("zh")
    at = page(f_kind="custom", f_range=(date(2025, 11, 16), date(2026, 11, 15)))
    table = tier_table(at, t)
    nps = {
        row[t("satisfaction.dim_tier")]: float(str(row[t("kpi.nps.label")]).split(" ")[0])
        for row in table.iter_rows(named=True)
        if str(row[t("kpi.nps.label")]) != "—"
    }
    others = [v for k, v in nps.items() if k not in (t("tier.vip"), t("tier.high_value"))]
    assert nps[t("tier.vip")] >= max(others) + 12


def test_the_lifecycle_tab_shows_the_churn_gap(page):
    at = page(loy_tab="lifecycle")
    assert not at.exception and not at.error
    gap = next(w.value for w in at.warning if "倍" in w.value)
    assert float(re.search(r"([\d.]+) 倍", gap).group(1)) >= 2


def test_a_team_lead_sees_only_the_customers_their_teams_served(page):
    t = Translator("zh")
    everyone = sum(
        customers(tier_table(page(), t), t, tier) for tier in ("vip", "high_value", "regular", "prospect")
    )
    lead = sum(
        customers(tier_table(page(user="lead_t01"), t), t, tier)
        for tier in ("vip", "high_value", "regular", "prospect")
    )
    assert 0 < lead < everyone
