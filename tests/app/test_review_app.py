"""The Quarterly review page through AppTest: draws in both languages for every role's scope, defaults
to the last complete quarter, links each statement to its page, freezes a review that keeps its numbers
after new data arrives, and lets only the owner delete it."""

import re
import sqlite3

import polars as pl
import pytest

from cxdash.db.engine import make_engine
from cxdash.db.reviews import list_snapshots
from cxdash.i18n import Translator
from cxdash.load import read_frames, read_span
from cxdash.metrics.kpis import HEADLINE_KPIS, KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import parse_period
from cxdash.views.review import review
from tests.app.session import page_opener

RAW_KEY = re.compile(r"\b(review|kpi|overview)\.[a-z_]+")


@pytest.fixture
def lite(small_copy):
    return small_copy


@pytest.fixture
def page(monkeypatch, lite):
    return page_opener(monkeypatch, lite, "pages/review.py")


def texts(at) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    return found


def kpi_table(at) -> pl.DataFrame:
    value = at.dataframe[0].value
    return value if isinstance(value, pl.DataFrame) else pl.from_pandas(value)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", ["manager", "lead_t01"])
def test_the_review_draws_in_both_languages(page, user, lang):
    at = page(user=user, lang=lang)
    t = Translator(lang)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == t("review.title")
    assert at.selectbox(key="rev_quarter").value == "2026Q3"  # the last complete quarter
    assert kpi_table(at).height == len(HEADLINE_KPIS)
    assert not [text for text in texts(at) if RAW_KEY.search(text)]


def test_a_frozen_review_keeps_its_numbers_after_new_data(page, lite):
    at = page(user="manager", lang="en")
    before = kpi_table(at)
    at.text_input[0].input("QBR 2026Q3")
    at.button[[b.label for b in at.button].index("Freeze this review")].click().run()
    assert not at.exception and any("Frozen as" in s.value for s in at.success)
    with make_engine(lite).connect() as conn:
        (snapshot,) = list_snapshots(conn, username="manager", sees_all=True)
    with sqlite3.connect(lite.removeprefix("sqlite:///")) as conn:  # new data: every Q3 ticket doubled
        conn.execute(
            "INSERT INTO tickets SELECT 'X' || ticket_id, customer_id, order_id, channel, created_at, "
            "first_response_at, resolved_at, closed_at, status, priority, is_complaint, category, "
            "root_cause, severity, team_id, agent_id, reopen_count, agent_replies, reassign_count, "
            "escalated, bot_handled, subject FROM tickets "
            "WHERE created_at >= '2026-06-30 16:00' AND created_at < '2026-09-30 16:00'"
        )
    live = page(user="manager", lang="en")
    tickets = pl.col("KPI") == "Tickets"
    assert (
        kpi_table(live).filter(tickets)["This quarter"].item()
        != before.filter(tickets)["This quarter"].item()
    )
    frozen = page(user="manager", lang="en", rev_source=snapshot.snapshot_id)
    assert not frozen.exception and any("Frozen review" in i.value for i in frozen.info)
    assert kpi_table(frozen).equals(before)
    lead = page(user="lead_t01", lang="en")
    assert snapshot.snapshot_id not in lead.selectbox(key="rev_source").options  # not theirs, not all data


def test_only_the_owner_deletes_a_frozen_review(page, lite):
    at = page(user="manager", lang="en")
    at.text_input[0].input("mine")
    at.button[[b.label for b in at.button].index("Freeze this review")].click().run()
    with make_engine(lite).connect() as conn:
        (snapshot,) = list_snapshots(conn, username="manager", sees_all=True)
    admin = page(user="admin", lang="en", rev_source=snapshot.snapshot_id)
    assert "Delete this frozen review" not in [b.label for b in admin.button]
    owner = page(user="manager", lang="en", rev_source=snapshot.snapshot_id)
    owner.button(key="rev_delete").click().run()
    assert not owner.exception
    with make_engine(lite).connect() as conn:
        assert list_snapshots(conn, username="manager", sees_all=True) == []


def test_the_top_movers_are_the_most_significant_changes(page, lite):
    at = page(user="manager", lang="en")
    url = lite
    quarter = review(
        read_frames(url), parse_period("2026Q3"), span=read_span(url), tz="Asia/Shanghai", scope=Scope(),
        options=KpiOptions(),
    )  # fmt: skip
    expected = [Translator("en")(f"kpi.{m['kpi']}.label") for m in quarter["movers"][:5]]
    assert expected  # the small demo has at least one significant change
    assert [m.label for m in at.metric] == expected


def test_the_owner_renames_a_frozen_review_and_no_one_else_sees_the_form(page, lite):
    at = page(user="manager", lang="en")
    at.text_input[0].input("draft")
    at.button[[b.label for b in at.button].index("Freeze this review")].click().run()
    with make_engine(lite).connect() as conn:
        (snapshot,) = list_snapshots(conn, username="manager", sees_all=True)
    admin = page(user="admin", lang="en", rev_source=snapshot.snapshot_id)
    assert "Rename this frozen review" not in [b.label for b in admin.button]
    owner = page(user="manager", lang="en", rev_source=snapshot.snapshot_id)
    owner.text_input(key="rev_new_name").input("   ")
    owner.button[[b.label for b in owner.button].index("Rename this frozen review")].click().run()
    assert owner.error and "name of 1 to 120" in owner.error[0].value  # nothing renamed
    owner.text_input(key="rev_new_name").input("QBR  2026Q3 final")
    owner.button[[b.label for b in owner.button].index("Rename this frozen review")].click().run()
    assert not owner.exception
    with make_engine(lite).connect() as conn:
        (renamed,) = list_snapshots(conn, username="manager", sees_all=True)
        actions = [r[0] for r in conn.exec_driver_sql("select action from app_audit").all()]
    assert renamed.name == "QBR 2026Q3 final" and "review_renamed" in actions
