"""The quarterly review on the medium demo and its PowerPoint deck: the narrative finds the planted
root-cause story and says only tested changes; the deck opens with python-pptx, has its slides, native
charts whose data are the `kpis` figures, Chinese titles with an East Asian typeface, and every
definition; `python -m cxdash report` writes it."""

import io

import pytest
from pptx import Presentation
from pptx.oxml.ns import qn

from cxdash.cli import main
from cxdash.i18n import Translator
from cxdash.kpi_report import kpi_report
from cxdash.metrics.kpis import KpiOptions
from cxdash.metrics.scope import Scope
from cxdash.periods import parse_period
from cxdash.reports.deck import chart_kpis, review_deck
from cxdash.views.review import AREAS, review
from tests.conftest import MEDIUM

PLANTED = parse_period("2026Q3")


@pytest.fixture(scope="module")
def planted_review(medium_demo, medium_span):
    return review(medium_demo, PLANTED, span=medium_span, tz=MEDIUM.tz, scope=Scope(), options=KpiOptions())


def test_the_narrative_finds_the_planted_root_cause_and_says_only_tested_changes(planted_review):
    said = planted_review["narrative"]
    grown = [e for s in said for e in [s, *s["evidence"]] if e["key"] == "cause_grew"]
    assert grown[0]["cause"] == "billing.double_charge" and grown[0]["p_value"] < 0.05
    for statement in said:
        if statement["key"] in ("improved", "worsened", "rose", "fell", "vs_last_year"):
            assert statement["p_value"] < planted_review["alpha"]
            figures = planted_review["report"]["kpis"][statement["kpi"]]
            assert statement["value"] == figures["value"]


def test_the_review_figures_are_the_kpis_figures(planted_review, medium_demo, medium_span):
    report = kpi_report(medium_demo, PLANTED, span=medium_span, tz=MEDIUM.tz)
    assert planted_review["report"]["kpis"] == report["kpis"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_deck_has_its_slides_native_charts_with_the_kpis_figures_and_the_definitions(
    planted_review, lang
):
    t = Translator(lang)
    deck = Presentation(io.BytesIO(review_deck(planted_review, lang=lang)))
    titles = [slide.shapes.title.text_frame.text for slide in deck.slides]
    assert titles == [
        t("review.deck_title", period=t.period(PLANTED)),
        t("review.summary"),
        t("review.narrative"),
        *(t(f"review.area_{area}") for area in AREAS),
        *([t("goals.deck_title", period=t.period(PLANTED))] if planted_review["goals"] else []),
        t("review.appendix"),
    ]
    assert planted_review["goals"]  # the demo's goals of the quarter are in the review, so on a slide
    kpis = planted_review["report"]["kpis"]
    for area, slide in zip(AREAS, list(deck.slides)[3:7], strict=True):
        charts = [shape.chart for shape in slide.shapes if shape.has_chart]
        assert len(charts) == 1  # a native chart part, not a picture
        drawn = chart_kpis(planted_review, area)
        plot = charts[0].plots[0]
        assert list(plot.categories) == [t(f"kpi.{k}.label") for k in drawn]
        values = {series.name: list(series.values) for series in plot.series}
        assert values[t("review.series_now")] == pytest.approx([kpis[k]["value"] for k in drawn])
        assert values[t("review.series_previous")] == pytest.approx([kpis[k]["previous"] for k in drawn])
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text
    appendix = deck.slides[-1].placeholders[1].text_frame.text
    assert all(f"({name})" in appendix for name in kpis)


def test_chinese_text_has_an_east_asian_typeface(planted_review):
    deck = Presentation(io.BytesIO(review_deck(planted_review, lang="zh")))
    title = deck.slides[0].shapes.title.text_frame.paragraphs[0].runs[0]
    assert "季度复盘" in title.text
    assert title._r.find(qn("a:rPr")).find(qn("a:ea")).get("typeface")


def test_the_report_command_writes_the_deck(small_db, tmp_path, capsys):
    out = tmp_path / "review.pptx"
    command = ["report", "--db", small_db, "--period", "2026Q3", "--team", "T01", "--lang", "en"]
    assert main([*command, "--out", str(out)]) == 0
    assert "2026Q3" in capsys.readouterr().out
    deck = Presentation(str(out))
    assert "T01" in deck.slides[0].placeholders[1].text_frame.text
    assert main(["report", "--db", small_db, "--period", "2026-07", "--out", str(out)]) == 2
    assert "quarter" in capsys.readouterr().err
