"""Business hours in the app: the Overview's clock control (labels, figures, the URL) and the Admin
page's business-hours editor (a valid setup saved and audited, an invalid one refused with each
problem and nothing written)."""

import json
import shutil

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cxdash.business_hours import DEFAULT_SETUP
from cxdash.db.calendars import read_calendar_setup
from cxdash.db.engine import dispose_engines, make_engine
from cxdash.db.version import read_data_version
from cxdash.i18n import Translator
from cxdash.kpi_report import kpi_report
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import DURATION_KPIS, HEADLINE_KPIS, KpiOptions
from cxdash.periods import parse_period
from cxdash.ui.pages.admin import editor_key
from tests.app.session import ROOT, token_for

ZH, EN = Translator("zh"), Translator("en")


def plain(markdown: str) -> str:
    """Text shown through cxdash.plain_text.markdown_plain, as the reader sees it."""
    return markdown.replace("\\", "").replace("\u2060", "")


@pytest.fixture
def db(small_db, tmp_path, monkeypatch) -> str:
    """A private copy of the small demo with the default calendar (the Admin tests write to it)."""
    path = tmp_path / "copy.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with engine.begin() as conn:  # the demo's own calendars removed: the default applies
        for table in (
            "app_calendar_days",
            "app_calendar_hours",
            "app_calendar_teams",
            "app_sla_clocks",
            "app_calendars",
        ):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    engine.dispose()
    monkeypatch.setenv("CXDASH_DB_URL", url)
    monkeypatch.setenv("CXDASH_LANG", "zh")
    yield url
    dispose_engines()


def start(url: str, user: str, *, page: str | None = None, query: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["cxdash_token"] = token_for(url, user)
    at.query_params.update(query or {})
    for key, value in state.items():
        at.session_state[key] = value
    if page:
        at.switch_page(page)
    return at.run()


def expected(url: str, clock: str) -> dict[str, str]:
    report = kpi_report(
        read_frames(url), parse_period("2026Q3"), span=read_span(url), tz="Asia/Shanghai",
        options=KpiOptions(clock=clock),
    )  # fmt: skip
    return {
        ZH(f"kpi.{spec.name}.label"): "—"
        if "reason" in report["kpis"][spec.name]
        else ZH.kpi_value(report["kpis"][spec.name]["value"], spec.unit)
        for spec in HEADLINE_KPIS
    }


def card_clocks(at: AppTest) -> list[str]:
    """The clock each duration card names in its caption (N · clock …)."""
    shown = [c.value for c in at.caption if c.value.startswith("N = ")]
    return [
        part
        for text in shown
        for part in text.split(" · ")
        if part in (ZH("clock.calendar"), ZH("clock.business"))
    ]


def test_the_clock_control_defaults_to_the_setting_and_labels_the_durations(db):
    at = start(db, "manager")
    assert not at.exception and not at.error
    control = at.segmented_control(key="clock__zh")
    assert control.value == "calendar" and control.label == "时长口径"
    assert card_clocks(at) == ["自然时间"] * len(DURATION_KPIS)
    assert {m.label: m.value for m in at.metric} == expected(db, "calendar")
    assert "clock" not in at.query_params


def test_choosing_business_hours_changes_labels_figures_and_the_url(db):
    at = start(db, "manager")
    at.segmented_control(key="clock__zh").set_value("business").run()
    assert not at.exception and not at.error
    assert card_clocks(at) == ["工作时间"] * len(DURATION_KPIS)
    assert {m.label: m.value for m in at.metric} == expected(db, "business")
    assert at.query_params["clock"] == "business"
    # the trend chart of a duration and its table say which clock
    assert any("首次响应时长(中位数) · 工作时间" in str(df.value.columns.tolist()) for df in at.dataframe)


def test_a_link_with_the_clock_opens_with_it_and_keeps_it(db):
    at = start(db, "manager", query={"clock": "business", "lang": "en"})
    assert not at.exception and not at.error
    assert at.segmented_control(key="clock__en").value == "business"
    assert any("business hours" in c.value for c in at.caption)
    assert at.query_params["clock"] == "business"
    tampered = start(db, "manager", query={"clock": "weekly"})
    assert tampered.segmented_control(key="clock__zh").value == "calendar"


def test_the_setting_changes_the_default(db, monkeypatch):
    monkeypatch.setenv("CXDASH_CLOCK", "business")
    at = start(db, "manager")
    assert at.segmented_control(key="clock__zh").value == "business"
    assert "clock" not in at.query_params  # the default needs no parameter


def test_a_bad_clock_setting_is_a_message(db, monkeypatch):
    monkeypatch.setenv("CXDASH_CLOCK", "weekly")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert any("CXDASH_CLOCK 只能是 calendar 或 business" in plain(m.value) for m in at.markdown)
    assert [e.value for e in at.error] == [ZH("app.bad_settings")] and not at.metric


# Admin ---------------------------------------------------------------------------------------------


def admin(url: str, **edits) -> AppTest:
    """The Admin page with these editor edits (kind → edit state) typed in, before Save."""
    version = str(read_data_version(make_engine(url)))
    state = {
        editor_key(kind, version, "zh"): {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edit}
        for kind, edit in edits.items()
    }
    at = start(url, "admin", page="pages/admin.py", **state)
    assert not at.exception and not at.error
    return at


def audit_actions(url: str) -> list[dict]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT detail FROM app_audit WHERE action = 'calendars'")).scalars()
        return [json.loads(detail) for detail in rows]


def test_admin_shows_the_default_calendar_and_the_holiday_years(db):
    at = admin(db)
    editors = {e.key: e for e in at.data_editor}
    version = str(read_data_version(make_engine(db)))
    hours = editors[editor_key("hours", version, "zh")].value
    assert hours["calendar_id"].tolist() == ["standard"] * 5
    assert hours["opens"].tolist() == ["09:00"] * 5
    assert any("已安装的节假日数据" in c.value for c in at.caption)
    teams = editors[editor_key("teams", version, "zh")].value
    assert "T01" in teams["team_id"].tolist()


def test_admin_saves_a_valid_setup_with_an_audit_record(db):
    before = read_data_version(make_engine(db))
    at = admin(
        db,
        calendars={"added_rows": [{"calendar_id": "late", "name": "晚班", "timezone": "Asia/Shanghai"}]},
        hours={"added_rows": [{"calendar_id": "late", "weekday": d, "opens": "12:00", "closes": "24:00"}
                              for d in range(1, 8)]},
        days={"added_rows": [{"calendar_id": "standard", "on_date": "2026-12-31", "working": False,
                              "label": "年会"}]},
        teams={"edited_rows": {1: {"calendar_id": "late"}}},
        clocks={"edited_rows": {3: {"clock": "calendar"}}},
    )  # fmt: skip
    at.button(key="calendars_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("已保存工作时间设置" in s.value for s in at.success)
    setup = read_calendar_setup(make_engine(db))
    assert [c.calendar_id for c in setup.calendars] == ["standard", "late"]
    assert setup.calendars[1].hours == dict.fromkeys(range(1, 8), ((720, 1440),))
    assert setup.calendars[1].public_holidays is None
    assert [str(d) for d in setup.calendars[0].closed_days] == ["2026-12-31"]
    assert setup.team_calendars == {"T02": "late"}
    assert setup.sla_clocks["urgent"] == "calendar"
    after = read_data_version(make_engine(db))
    assert after == before + 1
    [record] = audit_actions(db)
    assert record["data_version"] == after and record["team_calendars"] == {"T02": "late"}


def test_admin_refuses_an_invalid_setup_and_names_each_problem(db):
    before = read_data_version(make_engine(db))
    at = admin(
        db,
        calendars={"edited_rows": {0: {"timezone": "Mars/Olympus"}}},
        hours={"edited_rows": {0: {"opens": "9h"}}},
        teams={"edited_rows": {0: {"calendar_id": "nowhere"}}},
    )
    at.button(key="calendars_save").click().run()
    assert not at.exception
    [error] = at.error
    shown = plain(error.value)
    assert shown.startswith("未保存（3 个问题），原设置保持不变")
    assert "- 每周营业时间第 1 行：“9h”不是 HH:MM 格式的时间" in shown
    assert "- 团队 T01 指定的日历 nowhere 不存在" in shown
    assert "- 日历 standard：时区“Mars/Olympus”不存在" in shown
    assert read_calendar_setup(make_engine(db)) == DEFAULT_SETUP
    assert read_data_version(make_engine(db)) == before
    assert audit_actions(db) == []
