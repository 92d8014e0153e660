"""SMART goals in the app: an admin sets a goal on the Admin page's Goals tab with its baseline beside
the target (a bad one refused with its message and nothing written; a good one written, audited, the
data version moved), the Overview shows it with its progress as goal_rows computes it, deleting one;
in Chinese and English with no raw message keys. Also the store itself (db.goals)."""

import json
import re
from datetime import UTC, datetime

import polars as pl
import pytest
import sqlalchemy as sa

from cxdash.db.engine import make_engine
from cxdash.db.goals import delete_goal, list_goals, save_goal
from cxdash.db.version import read_data_version
from cxdash.i18n import Translator
from cxdash.load import read_frames, read_span
from cxdash.metrics.goals import Goal
from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import parse_period
from cxdash.views.goals import baseline_for, goal_rows
from tests.app.session import page_opener

TZ = "Asia/Shanghai"
RAW_KEY = re.compile(r"\b(goals|kpi|overview|admin|filters|reason|unit)\.[a-z_]+")
# The form's choices, as a session that picked them keeps them (cxdash.ui.state.remembered).
FORM = {"goal_metric": "frt_median_min", "goal_team": "T02", "goal_period_quarter": "2026Q3"}
TARGET_KEY = "goal_target_frt_median_min"


@pytest.fixture
def db(small_copy):
    return small_copy


@pytest.fixture
def admin_page(monkeypatch, db):
    return page_opener(monkeypatch, db, "pages/admin.py")


@pytest.fixture
def overview_page(monkeypatch, db):
    return page_opener(monkeypatch, db, "pages/overview.py")


def texts(at) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    found += [m.label for m in at.metric] + [m.value for m in at.metric]
    found += [w.label for w in (*at.selectbox, *at.number_input, *at.segmented_control, *at.button)]
    found += [tab.label for tab in at.tabs]
    return found


def plain(markdown: str) -> str:
    """Text shown through cxdash.plain_text.markdown_plain, as the reader sees it."""
    return markdown.replace("\\", "").replace("\u2060", "")


def frame(element) -> pl.DataFrame:
    value = element.value
    return value if isinstance(value, pl.DataFrame) else pl.from_pandas(value)


def stored(url: str) -> tuple[pl.DataFrame, int, list[dict]]:
    """kpi_targets, the data version and the goal audit records."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            audit = conn.execute(
                sa.text(
                    "SELECT action, username, detail FROM app_audit WHERE action LIKE 'goal_%' "
                    "ORDER BY audit_id"
                )
            ).all()
            return (
                list_goals(conn),
                read_data_version(conn),
                [{"action": a, "username": u, **json.loads(d)} for a, u, d in audit],
            )
    finally:
        engine.dispose()


def expected_goals(url: str, period: str = "2026Q3", scope: Scope | None = None) -> pl.DataFrame:
    return goal_rows(
        read_frames(url), parse_period(period), span=read_span(url), tz=TZ, scope=scope or Scope(),
        options=KpiOptions(),
    )  # fmt: skip


def goals_table(at, t: Translator) -> pl.DataFrame | None:
    """The Overview's goals table, or None."""
    return next(
        (frame(df) for df in at.dataframe if t("goals.col_progress") in frame(df).columns),
        None,
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_sets_a_goal_a_bad_one_is_refused_and_the_overview_shows_its_progress(
    admin_page, overview_page, db, lang
):
    t = Translator(lang)
    at = admin_page(user="admin", lang=lang, **FORM)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert t("goals.title") in [tab.label for tab in at.tabs]
    # the baseline beside the target: T02's median first response in the quarter before
    baseline = baseline_for(
        read_frames(db), "frt_median_min", "T02", parse_period("2026Q3"), span=read_span(db), tz=TZ,
        options=KpiOptions(),
    )  # fmt: skip
    assert baseline.period == "2026Q2" and baseline.value is not None
    [shown] = [
        m for m in at.metric if m.label == t("goals.baseline", period=t.period(parse_period("2026Q2")))
    ]
    assert shown.value == t.kpi_value(baseline.value, "min")
    assert at.number_input(key=TARGET_KEY).label == t("goals.target_unit", unit=t("unit.min"))
    assert not [text for text in texts(at) if RAW_KEY.search(text)]
    goals_before, version_before, _ = stored(db)

    # a target the KPI cannot take: refused with the message, nothing written
    at.number_input(key=TARGET_KEY).set_value(-1.0)
    at.button(key="goal_save").click().run()
    assert not at.exception
    [error] = [plain(e.value) for e in at.error]
    assert error == t("goals.out_of_range", metric="frt_median_min", target="-1.0", allowed="≥ 0", unit="min")
    goals_after, version_after, audit = stored(db)
    assert goals_after.equals(goals_before) and version_after == version_before and audit == []

    # a good one: written (in place of none), audited, the data version moved
    at.number_input(key=TARGET_KEY).set_value(2.5)
    at.button(key="goal_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    said = t(
        "goals.saved", kpi=t("kpi.frt_median_min.label"),
        team=t("goals.team_option", name="在线客服组", team="T02"), period=t.period(parse_period("2026Q3")),
        target=t.kpi_value(2.5, "min"),
    )  # fmt: skip
    assert [plain(s.value) for s in at.success] == [said]
    goals_after, version_after, audit = stored(db)
    new = goals_after.filter(pl.col("period") == "2026Q3", pl.col("team_id") == "T02")
    assert new.rows() == [("frt_median_min", "T02", "2026Q3", 2.5)]
    assert goals_after.height == goals_before.height + 1
    assert version_after > version_before
    [record] = audit
    assert record["action"] == "goal_saved" and record["username"] == "admin"
    assert (record["metric"], record["team_id"], record["period"], record["target"]) == (
        "frt_median_min", "T02", "2026Q3", 2.5,
    )  # fmt: skip
    listed = frame(next(df for df in at.dataframe if t("goals.col_target") in frame(df).columns))
    assert listed[t("goals.col_period")].to_list().count(t.period(parse_period("2026Q3"))) == 2
    assert not [text for text in texts(at) if RAW_KEY.search(text)]

    # the Overview of that quarter: the company's CSAT goal (demo) and the new one, with their progress
    overview = overview_page(user="manager", lang=lang, f_period_quarter="2026Q3")
    assert not overview.exception and not overview.error, [e.value for e in overview.error]
    table = goals_table(overview, t)
    expected = expected_goals(db)
    assert expected.select("metric", "team_id").rows() == [("csat_pct", None), ("frt_median_min", "T02")]
    assert table is not None and table.height == 2
    assert table[t("goals.col_kpi")].to_list() == [t("kpi.csat_pct.label"), t("kpi.frt_median_min.label")]
    assert table[t("goals.col_team")].to_list() == [t("goals.company"), "在线客服组"]
    shown = [None if v is None else round(v, 1) for v in expected["progress_pct"].to_list()]
    assert table[t("goals.col_progress")].to_list() == pytest.approx(shown)  # shown to 0.1 point
    assert table[t("goals.col_target")].to_list() == [t.kpi_value(87.0, "%"), t.kpi_value(2.5, "min")]
    assert table[t("goals.col_current")].to_list() == [
        t.kpi_value(v, u) for v, u in expected.select("current", "unit").rows()
    ]
    assert table[t("goals.col_baseline")].to_list() == [
        t.kpi_value(v, u) for v, u in expected.select("baseline", "unit").rows()
    ]
    achieved = [
        "—" if a is None else t("goals.achieved_yes" if a else "goals.achieved_no")
        for a in expected["achieved"]
    ]
    assert table[t("goals.col_achieved")].to_list() == achieved
    assert t("goals.title") in [s.value for s in overview.subheader]
    assert not [text for text in texts(overview) if RAW_KEY.search(text)]


def test_a_team_filter_shows_that_teams_goals_and_the_companys(overview_page, db):
    engine = make_engine(db)
    for goal in (Goal("frt_median_min", "T02", "2026Q3", 2.5), Goal("csat_pct", "T01", "2026Q3", 90.0)):
        save_goal(engine, goal, username="admin", client="test")
    engine.dispose()
    t = Translator("zh")
    at = overview_page(user="manager", lang="zh", f_teams=["T01"])
    table = goals_table(at, t)
    assert table[t("goals.col_team")].to_list() == [t("goals.company"), "电话客服组"]
    lead = overview_page(
        user="lead_t02", lang="zh"
    )  # a team lead: their team's goal; the company's unmeasured
    table = goals_table(lead, t)
    assert table[t("goals.col_team")].to_list() == [t("goals.company"), "在线客服组"]
    assert table[t("goals.col_current")].to_list()[0] == "—"
    assert table[t("goals.col_note")].to_list()[0] == t("goals.not_measured")
    assert not [text for text in texts(lead) if RAW_KEY.search(text)]


def test_a_period_without_goals_draws_no_goals_section(overview_page):
    t = Translator("en")
    at = overview_page(user="manager", lang="en", f_period_quarter="2026Q2")
    assert not at.exception and not at.error
    assert goals_table(at, t) is None
    assert t("goals.title") not in [s.value for s in at.subheader]


def test_an_admin_deletes_a_goal(admin_page, db):
    t = Translator("en")
    at = admin_page(user="admin", lang="en")
    assert not at.exception and not at.error
    goals_before, version_before, _ = stored(db)
    [only] = goals_before.filter(pl.col("period") != "*").rows()  # the demo's company CSAT goal
    pick = at.selectbox(key="goal_delete_pick__en")
    assert pick.value == 0
    at.button(key="goal_delete").click().run()
    assert not at.exception and not at.error
    goals_after, version_after, audit = stored(db)
    assert only not in goals_after.rows() and goals_after.height == goals_before.height - 1
    assert version_after > version_before
    assert [(r["action"], r["metric"], r["team_id"], r["period"]) for r in audit] == [
        ("goal_deleted", "csat_pct", None, only[2])
    ]
    assert t("goals.list_empty") in [c.value for c in at.caption]
    assert any(s.value.startswith("Goal deleted") for s in at.success)


# The store ----------------------------------------------------------------------------------------


def test_saving_replaces_the_rows_of_the_same_goal_only(db):
    engine = make_engine(db)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:  # a duplicate written outside cxdash (kpi_targets has no key)
        conn.execute(
            sa.text(
                "INSERT INTO kpi_targets (metric, team_id, period, target) VALUES ('nps', NULL, '2027Q1', 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO kpi_targets (metric, team_id, period, target) VALUES ('nps', NULL, '2027Q1', 2)"
            )
        )
    save_goal(engine, Goal("nps", "T01", "2027Q1", 40.0), username="admin", client="c", now=at)
    version = read_data_version(engine)
    replaced = save_goal(engine, Goal("nps", None, "2027Q1", 35.0), username="admin", client="c", now=at)
    assert replaced == [1.0, 2.0]
    assert read_data_version(engine) > version
    with engine.connect() as conn:
        nps = list_goals(conn).filter(pl.col("metric") == "nps", pl.col("period") == "2027Q1")
    assert nps.rows() == [
        ("nps", None, "2027Q1", 35.0),
        ("nps", "T01", "2027Q1", 40.0),
    ]  # the company's first
    assert delete_goal(engine, "nps", "T09", "2027Q1", username="admin", client="c") == 0
    assert delete_goal(engine, "nps", None, "2027Q1", username="admin", client="c") == 1
    with engine.connect() as conn:
        left = list_goals(conn).filter(pl.col("metric") == "nps", pl.col("period") == "2027Q1")
    assert left.rows() == [("nps", "T01", "2027Q1", 40.0)]
    _, _, audit = stored(db)
    assert [(r["action"], r["team_id"], r.get("replaced"), r.get("targets")) for r in audit] == [
        ("goal_saved", "T01", [], None),
        ("goal_saved", None, [1.0, 2.0], None),
        ("goal_deleted", None, None, [35.0]),
    ]
    engine.dispose()
