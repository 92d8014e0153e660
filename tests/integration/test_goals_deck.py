"""The quarterly deck with goals: when the review carries goal_rows (under "goals"), a Goals slide with a
native table whose figures are goal_rows' own, in the deck's language; also from a frozen (JSON) review;
no such slide without goals."""

import io
import json

import polars as pl
import pytest
from pptx import Presentation
from pptx.oxml.ns import qn

from cxdash.demo.staffing import demo_setup
from cxdash.i18n import Translator
from cxdash.kpi_report import shown_value
from cxdash.load import frames_from_tables
from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import DataSpan, parse_period
from cxdash.reports.deck import GOAL_COLUMNS, goal_table_rows, review_deck
from cxdash.views.goals import goal_rows
from cxdash.views.review import AREAS, review
from tests.conftest import SMALL

QUARTER = parse_period("2026Q3")
NEW_GOALS = pl.DataFrame(
    [
        ("frt_median_min", "T02", "2026Q3", 2.5),
        ("tickets", "T01", "2026Q3", 900.0),
        ("nps", None, "2026Q3", 40.0),
    ],
    schema={"metric": pl.String, "team_id": pl.String, "period": pl.String, "target": pl.Float64},
    orient="row",
)


@pytest.fixture(scope="module")
def small(small_frames):
    """The small demo's frames with three more goals of 2026Q3, and its span."""
    tables = {**small_frames, "kpi_targets": pl.concat([small_frames["kpi_targets"], NEW_GOALS])}
    frames = frames_from_tables(tables, demo_setup(SMALL.tz, SMALL.locale))
    tickets = small_frames["tickets"]
    latest = max(
        frame.select(pl.col(c).max()).item()
        for frame, c in (
            (tickets, "created_at"),
            (tickets, "closed_at"),
            (small_frames["surveys"], "responded_at"),
        )
    )
    return frames, DataSpan(first=tickets["created_at"].min(), data_as_of=latest)


@pytest.fixture(scope="module")
def with_goals(small):
    frames, span = small
    options = KpiOptions()
    data = review(frames, QUARTER, span=span, tz=SMALL.tz, scope=Scope(), options=options)
    goals = goal_rows(frames, QUARTER, span=span, tz=SMALL.tz, scope=Scope(), options=options)
    return {**data, "goals": goals.to_dicts()}, goals


def slide_titles(deck) -> list[str]:
    return [slide.shapes.title.text_frame.text for slide in deck.slides]


def table_cells(slide) -> list[list[str]]:
    [table] = [shape.table for shape in slide.shapes if shape.has_table]
    return [[cell.text_frame.text for cell in row.cells] for row in table.rows]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_goals_slide_has_goal_rows_figures(with_goals, lang):
    data, goals = with_goals
    t = Translator(lang)
    assert goals.select("metric", "team_id").rows() == [
        ("csat_pct", None), ("nps", None), ("tickets", "T01"), ("frt_median_min", "T02"),
    ]  # fmt: skip
    deck = Presentation(io.BytesIO(review_deck(data, lang=lang)))
    titles = slide_titles(deck)
    goals_title = t("goals.deck_title", period=t.period(QUARTER))
    assert titles == [
        t("review.deck_title", period=t.period(QUARTER)),
        t("review.summary"),
        t("review.narrative"),
        *(t(f"review.area_{area}") for area in AREAS),
        goals_title,
        t("review.appendix"),
    ]
    cells = table_cells(deck.slides[titles.index(goals_title)])
    assert cells[0] == [t(f"goals.col_{c}") for c in GOAL_COLUMNS]
    assert cells == goal_table_rows(t, data["goals"])
    for row, goal in zip(cells[1:], goals.iter_rows(named=True), strict=True):
        unit = goal["unit"]
        kpi, team, baseline, current, target, progress, achieved = row
        assert kpi == t(f"kpi.{goal['metric']}.label")
        assert team == (goal["team_name"] or t("goals.company"))
        assert baseline == shown_value(t, goal["baseline"], unit)
        assert current == shown_value(t, goal["current"], unit)
        assert target == shown_value(t, goal["target"], unit)
        assert progress == ("—" if goal["progress_pct"] is None else f"{goal['progress_pct']:,.0f}%")
        expected = {True: t("goals.achieved_yes"), False: t("goals.achieved_no"), None: "—"}
        assert achieved == expected[goal["achieved"]]
    # hand-checked: the demo's company CSAT goal of 87 % is the first row
    assert cells[1][4] == "87.0%"
    assert cells[2][0] == t("kpi.nps.label") and cells[3][1] == "电话客服组"


def test_a_frozen_review_keeps_its_goals_slide(with_goals):
    data, _ = with_goals
    frozen = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    deck = Presentation(io.BytesIO(review_deck(frozen, lang="zh")))
    t = Translator("zh")
    slide = next(s for s in deck.slides if s.shapes.title.text_frame.text.endswith("目标进展"))
    assert table_cells(slide) == goal_table_rows(t, data["goals"])
    run = (
        next(shape for shape in slide.shapes if shape.has_table)
        .table.cell(0, 0)
        .text_frame.paragraphs[0]
        .runs[0]
    )
    assert run._r.find(qn("a:rPr")).find(qn("a:ea")).get("typeface")


@pytest.mark.parametrize("goals", [None, []])
def test_no_goals_no_goals_slide(with_goals, goals):
    data, _ = with_goals
    review_data = {k: v for k, v in data.items() if k != "goals"}
    if goals is not None:
        review_data["goals"] = goals
    deck = Presentation(io.BytesIO(review_deck(review_data, lang="en")))
    assert Translator("en")("goals.deck_title", period="2026 Q3") not in slide_titles(deck)
    assert len(deck.slides) == 3 + len(AREAS) + 1
