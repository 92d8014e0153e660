"""OLA targets through AppTest: the Complaints page's workflow tab shows attainment per stage and per
team × stage in both languages; an admin changes the targets on the Data page and the Complaints page
then measures against them; bad values are refused with a clear message and never stored."""

import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from cxdash.db.definitions import read_definitions
from cxdash.db.engine import make_engine
from cxdash.i18n import Translator
from cxdash.load import read_frames, read_span
from cxdash.metrics.ola import OLA_STAGES, OlaTargets
from cxdash.periods import parse_period
from cxdash.plain_text import markdown_plain
from cxdash.views.ola import ola_view
from tests.app.session import page_opener

RAW_KEY = re.compile(r"\b(ola|complaints|definitions|data|chart|kpi)\.[a-z_]+")


def texts(at: AppTest) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    found += [m.label for m in at.metric] + [m.value for m in at.metric]
    found += [n.label for n in at.number_input]
    return found


def frames_shown(at: AppTest) -> list[pl.DataFrame]:
    return [d.value if isinstance(d.value, pl.DataFrame) else pl.from_pandas(d.value) for d in at.dataframe]


def ola_tables(at: AppTest, t: Translator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The per-stage and the per-team × stage OLA tables shown."""
    tables = [f for f in frames_shown(at) if t("ola.col_attainment") in f.columns]
    by_stage = next(f for f in tables if t("ola.col_team") not in f.columns)
    by_team = next(f for f in tables if t("ola.col_team") in f.columns)
    return by_stage, by_team


def stored(url: str) -> dict[str, str]:
    engine = make_engine(url)
    try:
        return {k: d.value for k, d in read_definitions(engine).items()}
    finally:
        engine.dispose()


def expected_by_stage(url: str, targets: OlaTargets) -> pl.DataFrame:
    """The period's complaint OLA attainment as the view computes it over every team (a manager's scope)."""
    view = ola_view(
        read_frames(url),
        parse_period("2026Q3"),
        span=read_span(url),
        tz="Asia/Shanghai",
        targets=targets,
        complaints_only=True,
    )
    return view.by_stage


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workflow_tab_shows_the_ola_tables(monkeypatch, small_db, lang):
    at = page_opener(monkeypatch, small_db, "pages/complaints.py")(lang=lang, cmp_tab="workflow")
    t = Translator(lang)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert t("ola.title") in [s.value for s in at.subheader]
    caption = next(c.value for c in at.caption if "1,440" in c.value)  # the targets in force
    assert " 30 " in caption and " 240 " in caption
    by_stage, by_team = ola_tables(at, t)
    stages = [t(f"ola.stage_{s}") for s in OLA_STAGES]
    assert by_stage[t("ola.col_stage")].to_list() == stages
    assert by_stage[t("ola.col_target")].to_list() == [30, 240, 1440]
    expected = expected_by_stage(small_db, OlaTargets())
    assert by_stage[t("ola.col_met")].to_list() == expected["met"].to_list()
    assert by_stage[t("ola.col_n")].to_list() == expected["n"].to_list()
    assert set(by_team[t("ola.col_stage")]) == set(stages)
    assert by_team[t("ola.col_team")].null_count() == 0  # every demo team has a name
    assert [m.label for m in at.metric if m.label in stages] == stages
    assert not [text for text in texts(at) if RAW_KEY.search(text)]


def test_a_team_lead_sees_only_their_teams(monkeypatch, small_db):
    at = page_opener(monkeypatch, small_db, "pages/complaints.py")(user="lead_t01", cmp_tab="workflow")
    t = Translator("zh")
    assert not at.exception and not at.error
    _, by_team = ola_tables(at, t)
    assert set(by_team[t("ola.col_team_id")]) == {"T01"}


def test_an_admin_changes_the_targets_and_the_complaints_page_uses_them(monkeypatch, small_copy):
    t = Translator("en")
    data = page_opener(monkeypatch, small_copy, "pages/data.py")
    at = data(user="admin", lang="en", data_tab="definitions")
    assert not at.exception and not at.error
    labels = [n.label for n in at.number_input]
    assert t("ola.target_label", stage=t("ola.stage_assign")) in labels
    for stage, minutes in zip(OLA_STAGES, (60, 300, 2000), strict=True):
        at.number_input(key=f"def_ola_{stage}").set_value(minutes)
    at.button[[b.label for b in at.button].index(t("definitions.save"))].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("changed" in s.value for s in at.success)
    assert stored(small_copy)["ola_targets"] == "60, 300, 2000"

    again = data(user="admin", lang="en", data_tab="definitions")
    in_force = frames_shown(again)[0]
    row = in_force.filter(pl.col(t("definitions.col_setting")) == t("ola.setting_ola_targets"))
    assert row[t("definitions.col_value")].item() == "60, 300, 2000"
    assert row[t("definitions.col_set_by")].item() == "admin"
    assert again.number_input(key="def_ola_assign").value == 60  # the form starts from what is in force

    complaints = page_opener(monkeypatch, small_copy, "pages/complaints.py")(lang="en", cmp_tab="workflow")
    assert not complaints.exception and not complaints.error
    by_stage, by_team = ola_tables(complaints, t)
    assert by_stage[t("ola.col_target")].to_list() == [60, 300, 2000]
    assert set(by_team[t("ola.col_target")]) == {60, 300, 2000}
    expected = expected_by_stage(small_copy, OlaTargets(60, 300, 2000))
    assert by_stage[t("ola.col_met")].to_list() == expected["met"].to_list()
    assert by_stage[t("ola.col_breached")].to_list() == expected["breached"].to_list()
    before = expected_by_stage(small_copy, OlaTargets())
    assert expected["met"].to_list() != before["met"].to_list()  # the new targets change the figures
    caption = next(c.value for c in complaints.caption if "2,000 min" in c.value)
    assert "60 min" in caption and "300 min" in caption


def test_a_value_out_of_range_is_never_stored(monkeypatch, small_copy):
    # The form's inputs only take 1 … 43,200 minutes: a value outside keeps the last valid one.
    at = page_opener(monkeypatch, small_copy, "pages/data.py")(
        user="admin", lang="en", data_tab="definitions"
    )
    at.number_input(key="def_ola_assign").set_value(0)
    at.number_input(key="def_ola_feedback_request").set_value(50_000)
    at.button[[b.label for b in at.button].index("Save definitions")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert stored(small_copy)["ola_targets"] == "30, 240, 1440"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_targets_get_the_clear_message_and_nothing_is_saved(monkeypatch, small_copy, lang):
    # A bad value reaches the app through the environment (CXDASH_OLA_TARGETS): the page says what is
    # allowed, in the user's language, instead of running with it.
    monkeypatch.setenv("CXDASH_OLA_TARGETS", "0, 240, 1440")
    at = page_opener(monkeypatch, small_copy, "pages/data.py")(
        user="admin", lang=lang, data_tab="definitions"
    )
    t = Translator(lang)
    assert not at.exception
    assert t("app.bad_settings") in [e.value for e in at.error]
    message = t("ola.bad_targets", text="0, 240, 1440", low=1, high=43_200)
    assert any(markdown_plain(message) in m.value for m in at.markdown)
    assert t("definitions.save") not in [b.label for b in at.button]
    assert "ola_targets" not in stored(small_copy)
