"""CXDASH_SOURCE=aggregates through AppTest: the Overview's cards come from the per-day aggregates (the
values of `kpis --from-aggregates`; tickets and CSAT also equal the raw ones), no raw rows are loaded,
the other pages say why they are not shown, and without aggregates the page names the command."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from cxdash.aggregates.commands import build_set, kpis_from_aggregates
from cxdash.aggregates.store import write_aggregates
from cxdash.db.engine import dispose_engines
from cxdash.i18n import Translator
from cxdash.metrics.kpis import DEFAULT_OPTIONS, HEADLINE_KPIS
from cxdash.metrics.scope import Scope
from cxdash.periods import parse_period
from tests.app.session import ROOT, token_for
from tests.app.test_overview import expected_values, metric_values

TZ = "Asia/Shanghai"
COMMAND = "python -m cxdash aggregates"
EVERYTHING = Scope()


@pytest.fixture(scope="module")
def agg_db(small_db, tmp_path_factory) -> str:
    """A copy of the small demo with its per-day aggregates built."""
    db = tmp_path_factory.mktemp("agg_app") / "small.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    write_aggregates(url, build_set(url, tz=TZ))
    yield url
    dispose_engines()


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("CXDASH_SOURCE", "aggregates")
    monkeypatch.setenv("CXDASH_LANG", "en")

    def no_raw_rows(*args, **kwargs):
        raise AssertionError("CXDASH_SOURCE=aggregates loaded the raw rows")

    # The app's only way to the raw rows: any call fails the run (AppTest shows it as an exception).
    monkeypatch.setattr("cxdash.ui.loaders.read_frames", no_raw_rows)
    tokens: dict[str, str] = {}

    def run(url: str, *, page: str | None = None, user: str = "manager", **state) -> AppTest:
        monkeypatch.setenv("CXDASH_DB_URL", url)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        tokens.setdefault(url + user, token_for(url, user))
        at.session_state["cxdash_token"] = tokens[url + user]
        for key, value in state.items():
            at.session_state[key] = value
        if page:
            at.switch_page(page)
        return at.run()

    return run


def from_aggregates(url: str, period: str, scope: Scope = EVERYTHING) -> dict[str, str]:
    """Card label → shown value, as `kpis --from-aggregates` reports them."""
    t = Translator("en")
    found = kpis_from_aggregates(url, parse_period(period), tz=TZ, scope=scope, options=DEFAULT_OPTIONS)
    kpis = found["kpis"]
    return {
        t(f"kpi.{spec.name}.label"): (
            "—" if "reason" in kpis[spec.name] else t.kpi_value(kpis[spec.name]["value"], spec.unit)
        )
        for spec in HEADLINE_KPIS
    }


def infos(at: AppTest) -> list[str]:
    return [element.value for element in at.info]


def test_overview_cards_are_the_aggregates_kpis(app, agg_db):
    at = app(agg_db, f_period_quarter="2026Q2")
    assert not at.exception
    shown = metric_values(at)
    assert shown == from_aggregates(agg_db, "2026Q2")
    raw = expected_values(agg_db, "en", "2026Q2")  # exact KPIs (counts, shares) equal the raw ones
    t = Translator("en")
    for name in ("tickets", "complaints", "csat_pct", "nps", "revenue"):
        assert shown[t(f"kpi.{name}.label")] == raw[t(f"kpi.{name}.label")], name
    note = next(text for text in infos(at) if "per-day aggregates built" in text)
    assert "(data version " in note and "±1 %" in note
    assert at.subheader[-1].value == t("overview.trends")  # the trend lines, from the aggregates too
    assert not [w.value for w in at.warning]


def test_a_team_scope_reads_that_teams_rows(app, agg_db):
    at = app(agg_db, f_period_quarter="2026Q1", f_teams=["T02"])
    assert not at.exception
    shown = metric_values(at)
    assert shown == from_aggregates(agg_db, "2026Q1", Scope(teams=("T02",)))
    t = Translator("en")
    raw = expected_values(agg_db, "en", "2026Q1", Scope(teams=("T02",)))
    assert shown[t("kpi.tickets.label")] == raw[t("kpi.tickets.label")]
    assert shown[t("kpi.csat_pct.label")] == raw[t("kpi.csat_pct.label")]


def test_a_segment_filter_says_it_needs_the_raw_rows(app, agg_db):
    at = app(agg_db, f_segments=["business"])
    assert not at.exception
    assert not at.metric
    assert any("Segment and region filters need the raw rows" in text for text in infos(at))


def test_other_pages_say_they_need_the_raw_rows(app, agg_db):
    at = app(agg_db, page="pages/satisfaction.py")
    assert not at.exception
    assert not at.metric
    (message,) = [text for text in infos(at) if "needs the raw rows" in text]
    assert "Unset CXDASH_SOURCE" in message


def test_without_aggregates_the_overview_names_the_command(app, small_db):
    at = app(small_db)
    assert not at.exception
    assert not at.metric
    assert any(COMMAND in w.value for w in at.warning)
