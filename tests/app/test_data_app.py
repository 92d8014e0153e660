"""The Data page through AppTest: who sees the import, the data-quality tab (warning, masked offending
rows), and the definitions ledger (admins edit; the change is stored, audited and in force)."""

import re
import sqlite3

import polars as pl
import pytest

from cxdash.db.definitions import read_definitions
from cxdash.db.engine import make_engine
from cxdash.i18n import Translator
from tests.app.session import page_opener

RAW_KEY = re.compile(r"\b(data|import|definitions|dq|kpi)\.[a-z_]+")


@pytest.fixture
def lite(small_copy):
    return small_copy


@pytest.fixture
def page(monkeypatch, lite):
    return page_opener(monkeypatch, lite, "pages/data.py")


def tab_labels(at) -> list[str]:
    return [tab.label for tab in at.tabs]


def texts(at) -> list[str]:
    found = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        found += [element.value for element in getattr(at, kind)]
    return found


def frames_shown(at) -> list[pl.DataFrame]:
    return [d.value if isinstance(d.value, pl.DataFrame) else pl.from_pandas(d.value) for d in at.dataframe]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("tab", ["import", "quality", "definitions"])
def test_every_tab_draws_in_both_languages(page, tab, lang):
    at = page(user="admin", lang=lang, data_tab=tab)
    t = Translator(lang)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == t("data.title")
    assert tab_labels(at)[:3] == [t("data.tab_import"), t("data.tab_quality"), t("data.tab_definitions")]
    assert not [text for text in texts(at) if RAW_KEY.search(text)]


@pytest.mark.parametrize(
    ("user", "imports"), [("admin", True), ("analyst", True), ("manager", False), ("viewer", False)]
)
def test_only_roles_that_may_import_see_the_import(page, user, imports):
    at = page(user=user, lang="en")
    assert not at.exception
    assert ("Import" in tab_labels(at)) is imports


def test_the_quality_tab_warns_on_poor_data_and_masks_the_offending_rows_for_an_analyst(page, lite):
    with sqlite3.connect(lite.removeprefix("sqlite:///")) as conn:  # two customers share an e-mail
        ids = [r[0] for r in conn.execute("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 2")]
        conn.execute("UPDATE customers SET email = 'same@example.com' WHERE customer_id IN (?, ?)", ids)
        conn.execute(
            "UPDATE surveys SET responded_at = datetime(sent_at, '-1 hour') WHERE kind = 'csat' "
            "AND sent_at >= '2026-07-01' AND sent_at < '2026-10-01' AND responded_at IS NOT NULL"
        )
    at = page(user="analyst", lang="en", data_tab="quality")
    assert not at.exception and not at.error
    warning = next(w.value for w in at.warning if "poor data" in w.value)
    assert "CSAT" in warning
    at.selectbox(key="dq_check").select("customers.duplicate_email").run()
    rows = frames_shown(at)[-1]
    assert rows.height == 2 and set(rows["customer_id"]) == set(ids)
    assert all(e.endswith("***@example.com") for e in rows["email"])  # an analyst sees no personal data
    manager = page(user="manager", lang="en", data_tab="quality")
    manager.selectbox(key="dq_check").select("customers.duplicate_email").run()
    assert set(frames_shown(manager)[-1]["email"]) == {"same@example.com"}


def test_an_admin_changes_a_definition_and_it_is_in_force(page, lite):
    at = page(user="admin", lang="en", data_tab="definitions")
    assert not at.exception and not at.error
    form_threshold = next(s for s in at.selectbox if s.label.startswith("CSAT"))
    form_threshold.select(5)
    at.button[[b.label for b in at.button].index("Save definitions")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("changed" in s.value for s in at.success)
    assert {k: d.value for k, d in read_definitions(make_engine(lite)).items()}["csat_threshold"] == "5"
    again = page(user="admin", lang="en", data_tab="definitions")
    in_force = frames_shown(again)[0]
    row = in_force.filter(pl.col("Definition").str.starts_with("CSAT"))
    assert row["Value"].item() == "5" and row["Set by"].item() == "admin"


def test_others_read_the_ledger_but_cannot_change_it(page):
    at = page(user="viewer", lang="en", data_tab="definitions")
    assert not at.exception and not at.error
    assert "Save definitions" not in [b.label for b in at.button]
    assert any("Only admins" in c.value for c in at.caption)
    ledger = frames_shown(at)[1]
    assert (
        ledger.filter(pl.col("Name") == "csat_pct")["Definition"].item().startswith("Share of CSAT answers")
    )
