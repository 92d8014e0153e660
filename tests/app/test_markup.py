"""No markup from data is rendered: payloads in a team name, a user's display name and annotation
labels reach captions and charts only escaped (cxdash.plain_text)."""

import json
import shutil

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cxdash.plain_text import markdown_plain, plotly_plain
from tests.app.session import ROOT, token_for

PAYLOADS = [
    "![x](http://evil.test/p.png)",
    "[x](javascript:alert(1))",
    ":red[x]",
    "$$x$$",
    "<img src=x onerror=alert(1)>",
    '<a href="http://evil">x</a>',
    "**b**",
]
TEAM_PAYLOAD = "![x](http://evil.test/team.png) :red[T] <b>b</b>"
NAME_PAYLOAD = "[me](javascript:alert(1)) $$x$$ **b**"


@pytest.fixture
def markup_db(small_db, tmp_path) -> str:
    """A copy of the small demo with payloads in a team name, a display name and every annotation."""
    target = tmp_path / "markup.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), target)
    url = f"sqlite:///{target}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE teams SET name = :n WHERE team_id = 'T01'"), {"n": TEAM_PAYLOAD})
        conn.execute(
            sa.text("UPDATE app_users SET display_name = :n WHERE username = 'manager'"), {"n": NAME_PAYLOAD}
        )
        ids = [row[0] for row in conn.execute(sa.text("SELECT annotation_id FROM annotations ORDER BY 1"))]
        for i, annotation_id in enumerate(ids):
            conn.execute(
                sa.text("UPDATE annotations SET label = :l WHERE annotation_id = :i"),
                {"l": PAYLOADS[i % len(PAYLOADS)], "i": annotation_id},
            )
    engine.dispose()
    return url


@pytest.fixture
def run(monkeypatch, markup_db):
    monkeypatch.setenv("CXDASH_DB_URL", markup_db)
    monkeypatch.setenv("CXDASH_LANG", "zh")

    def run_app(**state) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["cxdash_token"] = token_for(markup_db, "manager")
        for key, value in state.items():
            at.session_state[key] = value
        return at.run()

    return run_app


def markdown_texts(at: AppTest) -> list[str]:
    texts = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        texts += [element.value for element in getattr(at, kind)]
    texts += [m.label for m in at.metric]
    texts += [w.label for w in (*at.selectbox, *at.multiselect, *at.segmented_control)]
    return texts


def test_a_team_name_in_the_overview_caption_is_escaped(run):
    at = run(f_teams=["T01"])
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any(markdown_plain(TEAM_PAYLOAD) in text for text in captions), captions
    assert not any(TEAM_PAYLOAD in text for text in markdown_texts(at))
    # option labels of a multiselect are plain text in Streamlit: the name is offered as written
    teams = next(w for w in at.multiselect if w.value == ["T01"])
    assert f"{TEAM_PAYLOAD} (T01)" in teams.options


def test_the_signed_in_name_is_escaped(run):
    at = run()
    assert not at.exception
    shown = markdown_texts(at)
    assert any(markdown_plain(NAME_PAYLOAD) in text for text in shown)
    assert not any(NAME_PAYLOAD in text for text in shown)


def chart_texts(at: AppTest) -> list[str]:
    """Every hover text, name and title of the Overview's charts."""
    texts = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec["data"]:
            texts += [str(x) for x in trace.get("text") or []] + [str(trace.get("name", ""))]
        title = spec["layout"].get("title", {})
        texts.append(str(title.get("text", "")) if isinstance(title, dict) else str(title))
    return texts


def test_annotation_labels_in_chart_hovers_are_escaped(run):
    at = run(f_period_quarter="2026Q3")
    assert not at.exception
    texts = chart_texts(at)
    assert texts
    shown = [p for p in PAYLOADS if plotly_plain(p) in texts]
    assert shown, texts  # at least one annotation falls in the charted range
    assert not [t for t in texts if "<" in t or ">" in t]
