"""The app through Streamlit's AppTest: the Overview renders in both languages, its figures equal
`python -m cxdash kpis` for the same period and scope, and it warns when a KPI rests on poor data."""

import re
import shutil
import sqlite3

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from cxdash.i18n import Translator
from cxdash.kpi_report import kpi_report
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import HEADLINE_KPIS, Window
from cxdash.metrics.quality import quality_report
from cxdash.metrics.scope import Scope
from cxdash.periods import parse_period
from tests.app.session import ROOT, token_for

RAW_KEY = re.compile(r"\b(app|nav|filters|overview|chart|unit|kpi|dq|period|channel|segment|reason)\.[a-z_]+")


@pytest.fixture
def app(monkeypatch, small_db):
    monkeypatch.setenv("CXDASH_DB_URL", small_db)
    monkeypatch.setenv("CXDASH_LANG", "zh")
    tokens = {}

    def run(user: str = "manager", **state) -> AppTest:
        # One run per state: with a pages/ folder AppTest reruns only the page script (Streamlit's
        # pages-directory mode), so each test sets the filters first and runs the whole app once.
        # Clicking through the widgets is covered by the browser tests.
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        if user:
            tokens.setdefault(user, token_for(small_db, user))
            at.session_state["cxdash_token"] = tokens[user]
        for key, value in state.items():
            at.session_state[key] = value
        return at.run()

    return run


def shown_texts(at: AppTest) -> list[str]:
    texts = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        texts += [element.value for element in getattr(at, kind)]
    texts += [m.label for m in at.metric] + [m.value for m in at.metric]
    texts += [w.label for w in (*at.selectbox, *at.multiselect, *at.segmented_control)]
    return texts


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_values(url: str, lang: str, period: str, scope: Scope | None = None) -> dict[str, str]:
    t = Translator(lang)
    report = kpi_report(
        read_frames(url),
        parse_period(period),
        span=read_span(url),
        tz="Asia/Shanghai",
        scope=scope or Scope(),
    )
    kpis = report["kpis"]
    return {
        t(f"kpi.{spec.name}.label"): (
            "—" if "reason" in kpis[spec.name] else t.kpi_value(kpis[spec.name]["value"], spec.unit)
        )
        for spec in HEADLINE_KPIS
    }


def test_overview_renders_in_chinese_with_every_kpi(app):
    app = app()
    assert not app.exception
    assert app.title[0].value == "总览"
    assert len(app.metric) == len(HEADLINE_KPIS)
    assert "满意度 CSAT" in metric_values(app)
    assert not [text for text in shown_texts(app) if RAW_KEY.search(text)]


def test_english(app):
    app = app(lang="en")
    assert not app.exception
    assert app.title[0].value == "Overview"
    assert "CSAT" in metric_values(app) and "Open backlog" in metric_values(app)
    assert not [text for text in shown_texts(app) if RAW_KEY.search(text)]


def test_english_matches_kpis(app, small_db):
    assert metric_values(app(lang="en")) == expected_values(small_db, "en", "2026Q3")


def test_an_unknown_language_in_the_session_falls_back_to_the_setting(app):
    assert app(lang="fr").title[0].value == "总览"


def test_default_period_is_the_last_complete_quarter_and_matches_kpis(app, small_db):
    app = app()
    assert app.selectbox(key="f_period_quarter__zh").value == "2026Q3"
    assert metric_values(app) == expected_values(small_db, "zh", "2026Q3")


def test_changing_period_and_team_changes_the_numbers_as_kpis_says(app, small_db):
    assert metric_values(app(f_period_quarter="2026Q1")) == expected_values(small_db, "zh", "2026Q1")
    scoped = app(f_period_quarter="2026Q1", f_teams=["T02"])
    assert not scoped.exception
    assert metric_values(scoped) == expected_values(small_db, "zh", "2026Q1", Scope(teams=("T02",)))


def test_month_period_and_channel_scope(app, small_db):
    app = app(f_kind="month", f_period_month="2026-06", f_channels=["chat", "app"])
    assert not app.exception
    assert metric_values(app) == expected_values(small_db, "zh", "2026-06", Scope(channels=("chat", "app")))


def test_segment_and_region_scope(app, small_db):
    app = app(f_segments=["business"], f_regions=["华东"])
    expected = expected_values(small_db, "zh", "2026Q3", Scope(segments=("business",), regions=("华东",)))
    assert metric_values(app) == expected


def test_tampered_filter_values_are_ignored(app, small_db):
    app = app(f_teams=["T02", "'; DROP TABLE tickets; --"], f_period_quarter="1999Q1")
    assert not app.exception
    assert app.selectbox(key="f_period_quarter__zh").value == "2026Q3"
    assert metric_values(app) == expected_values(small_db, "zh", "2026Q3", Scope(teams=("T02",)))


def test_empty_scope_gets_a_friendly_message(app):
    app = app(f_teams=["T01"], f_channels=["chat"])  # the phone team never handles chat
    assert not app.exception
    assert any("没有数据" in info.value for info in app.info)
    assert len(app.metric) == 0


def test_custom_range(app):
    app = app(f_kind="custom")
    assert not app.exception
    assert len(app.metric) == len(HEADLINE_KPIS)


def test_trend_tables_and_downloads_are_offered(app):
    quarters = app()
    assert len(quarters.expander) >= 4
    assert any(len(frame.value) == 8 for frame in quarters.dataframe)  # eight quarters
    months = app(trend_kind="month")
    assert not months.exception
    assert any(len(frame.value) > 20 for frame in months.dataframe)


def test_missing_database_is_a_message_not_a_crash(monkeypatch, tmp_path):
    monkeypatch.setenv("CXDASH_DB_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("demo" in error.value for error in at.error)


def test_a_team_lead_sees_served_customer_kpis_reasons_and_the_running_marker(app, small_db):
    lead = app("lead_t01", f_period_quarter="2026Q4")  # 2026Q4 runs past the data's end (15 Nov)
    assert not lead.exception
    assert metric_values(lead) == expected_values(small_db, "zh", "2026Q4", Scope(teams=("T01",)))
    texts = shown_texts(lead)
    assert any("进行中的周期" in text for text in texts)
    assert any("仅统计本期由" in text for text in texts)  # customer-side KPIs: the customers served
    assert any("按团队/渠道筛选时不适用" in text for text in texts)  # conversion, complaints per 1k orders
    assert any("按日折算" in text for text in texts)  # counts of a running quarter, per day of data
    first = app(f_period_quarter="2025Q1")  # the demo's order history reaches a year before it
    assert not any("历史数据不足" in text for text in shown_texts(first))


# Data quality -------------------------------------------------------------------------------------
Q3_UTC = ("2026-06-30 16:00:00", "2026-09-30 16:00:00")  # 2026Q3 in Asia/Shanghai, as stored (UTC)


@pytest.fixture
def poor_db(small_db, tmp_path) -> str:
    """A copy of the small demo where 12 % of 2026Q3's surveys were answered an hour before they were
    sent (the UPDATE moves the data version through the database's triggers, so caches reload)."""
    path = tmp_path / "poor.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), path)
    with sqlite3.connect(path) as conn:
        in_q3 = "(sent_at >= ? AND sent_at < ?) OR (responded_at >= ? AND responded_at < ?)"
        (count,) = conn.execute(f"SELECT COUNT(*) FROM surveys WHERE {in_q3}", Q3_UTC * 2).fetchone()
        ids = conn.execute(
            "SELECT survey_id FROM surveys WHERE responded_at IS NOT NULL AND sent_at >= ? AND sent_at < ?"
            " ORDER BY survey_id LIMIT ?",
            (*Q3_UTC, round(count * 0.12)),
        ).fetchall()
        conn.executemany(
            "UPDATE surveys SET responded_at = datetime(sent_at, '-1 hour') WHERE survey_id = ?", ids
        )
    return f"sqlite:///{path}"


def open_overview(monkeypatch, url: str, *, user: str = "manager", lang: str = "zh") -> AppTest:
    monkeypatch.setenv("CXDASH_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["cxdash_token"] = token_for(url, user)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception
    return at


def quality_table(at: AppTest, t: Translator):
    """The data-quality expander's table of failing checks, or None."""
    return next((f.value for f in at.dataframe if t("dq.col_check") in f.value.columns), None)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_kpi_resting_on_poor_data_gets_a_warning(monkeypatch, poor_db, lang):
    t = Translator(lang)
    window = Window.of(parse_period("2026Q3"), tz="Asia/Shanghai", data_as_of=read_span(poor_db).data_as_of)
    row = quality_report(read_frames(poor_db), window).filter(
        pl.col("check") == "surveys.responded_before_sent"
    )
    checked, failing = row["rows_checked"].item(), row["rows_failing"].item()
    assert 0.11 < failing / checked < 0.13
    at = open_overview(monkeypatch, poor_db, lang=lang)
    assert len(at.metric) == len(HEADLINE_KPIS)
    [warning] = [w.value for w in at.warning if t("dq.warning_intro") in w.value]
    assert t("dq.check.surveys.responded_before_sent") in warning
    share = t(
        "dq.share.surveys",
        pct=t.kpi_value(100 * failing / checked, "%"),
        failing=f"{failing:,}",
        checked=f"{checked:,}",
    )
    assert share in warning
    for kpi in ("csat_pct", "nps", "ces_mean", "csat_mean", "csat_response_rate_pct"):
        assert t(f"kpi.{kpi}.label") in warning
    assert t("kpi.frt_median_min.label") not in warning
    said = {"en": ("rest on poor data", "Data → Data quality"), "zh": ("数据质量不佳", "数据 → 数据质量")}
    assert all(text in warning for text in said[lang])
    table = quality_table(at, t)
    assert table is not None
    assert table.iloc[0].tolist()[:3] == [t("dq.check.surveys.responded_before_sent"), failing, checked]
    assert not [text for text in shown_texts(at) if RAW_KEY.search(text)]


@pytest.mark.parametrize("user", ["manager", "viewer"])
def test_the_clean_demo_shows_no_quality_warning(monkeypatch, small_db, user):
    """Also for a viewer, who sees e-mails and phone numbers masked (duplicates count unmasked)."""
    t = Translator("en")
    at = open_overview(monkeypatch, small_db, user=user, lang="en")
    assert len(at.metric) == len(HEADLINE_KPIS)
    assert not [w.value for w in at.warning if t("dq.warning_intro") in w.value]
    assert quality_table(at, t) is None
    assert any(s.value == t("overview.dq_ok") for s in at.success)
