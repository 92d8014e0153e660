"""The quarterly review as an editable PowerPoint deck (python-pptx): title, KPI summary, the narrative,
one slide per area with a native chart (its data are the review's figures, editable in PowerPoint) and
the area's narrative as speaker notes, the progress towards the quarter's SMART goals (a native table,
when the review carries goals), and an appendix with every definition used. East Asian text
gets an East Asian typeface, so Chinese renders wherever the deck is opened."""

import io
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from cxdash.i18n import Translator
from cxdash.kpi_report import period_text, scope_text, shown_change, shown_value
from cxdash.views.review import AREAS, narrative_lines, statement_text

LATIN_FONT: Final = "Calibri"
EAST_ASIAN_FONT: Final = "Microsoft YaHei"  # PowerPoint's; LibreOffice maps it to an installed CJK font
WIDE: Final = (Inches(13.333), Inches(7.5))
TITLE_AND_CONTENT, TITLE_ONLY, TITLE = 1, 5, 0


def chart_kpis(review_data: dict, area: str) -> list[str]:
    """The area's KPIs drawn in its chart: those of its most common unit that have a value."""
    kpis = review_data["report"]["kpis"]
    present = [k for k in AREAS[area] if k in kpis and kpis[k]["value"] is not None]
    if not present:
        return []
    units = [kpis[k]["unit"] for k in present]
    unit = max(dict.fromkeys(units), key=units.count)
    return [k for k in present if kpis[k]["unit"] == unit]


def _fonts(runs: Iterable, *, size: int | None = None, bold: bool | None = None) -> None:
    for run in runs:
        run.font.name = LATIN_FONT
        if size:
            run.font.size = Pt(size)
        if bold is not None:
            run.font.bold = bold
        properties = run._r.get_or_add_rPr()
        east_asian = properties.find(qn("a:ea"))
        if east_asian is None:
            east_asian = properties.makeelement(qn("a:ea"), {})
            properties.append(east_asian)
        east_asian.set("typeface", EAST_ASIAN_FONT)


def _text(frame, lines: list[str], *, size: int, bold_first: bool = False) -> None:
    frame.clear()
    frame.word_wrap = True
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        _fonts(paragraph.runs, size=size, bold=bold_first and i == 0)


def _title(slide, text: str) -> None:
    _text(slide.shapes.title.text_frame, [text], size=28)


def _table(slide, rows: list[list[str]], *, left, top, width, height, size: int = 11) -> None:
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, height)
    for row in shape.table.rows:  # the rows share the height given, so the table stays on the slide
        row.height = Emu(int(height / len(rows)))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = shape.table.cell(r, c)
            cell.margin_top = cell.margin_bottom = Pt(1)
            _text(cell.text_frame, [value], size=size, bold_first=r == 0)


def _kpi_rows(t: Translator, review_data: dict, names: list[str]) -> list[list[str]]:
    kpis = review_data["report"]["kpis"]
    alpha = review_data["alpha"]
    header = [
        t(f"review.col_{c}")
        for c in ("kpi", "value", "previous", "change", "last_year", "change_ly", "target")
    ]
    rows = [header]
    for name in names:
        kpi, unit = kpis[name], kpis[name]["unit"]
        rows.append([
            t(f"kpi.{name}.label"), shown_value(t, kpi["value"], unit), shown_value(t, kpi["previous"], unit),
            _marked_change(t, kpi["change"], kpi["p_value"], unit, alpha),
            shown_value(t, kpi["last_year"], unit),
            _marked_change(t, kpi["change_vs_last_year"], kpi["p_value_vs_last_year"], unit, alpha),
            shown_value(t, kpi["target"], unit),
        ])  # fmt: skip
    return rows


def _marked_change(t: Translator, delta: float | None, p_value: float | None, unit: str, alpha: float) -> str:
    """A change in the KPI's unit, starred when significant at alpha."""
    return shown_change(t, delta, unit) + (" *" if p_value is not None and p_value < alpha else "")


def _area_notes(t: Translator, review_data: dict, area: str) -> list[str]:
    lines = []
    for said in review_data["narrative"]:
        kpi = said.get("kpi")
        if kpi in AREAS[area] or (area == "complaints" and said["key"] == "cause_grew"):
            lines.append(statement_text(t, said))
            lines += [f"  – {statement_text(t, e)}" for e in said.get("evidence", [])]
    return lines or [t("review.notes_none")]


GOAL_COLUMNS: Final = ("kpi", "team", "baseline", "current", "target", "progress", "achieved")


def goal_table_rows(t: Translator, goals: list[dict]) -> list[list[str]]:
    """The Goals slide's table: a header, then per goal (views.goals.goal_rows as dicts) its KPI, team,
    baseline, current value, target, progress and whether it is achieved, in the deck's language."""
    rows = [[t(f"goals.col_{c}") for c in GOAL_COLUMNS]]
    for goal in goals:
        unit = goal["unit"]
        progress = goal.get("progress_pct")
        achieved = goal.get("achieved")
        current = shown_value(t, goal.get("current"), unit)
        if not goal.get("measured", True):
            current = t("goals.not_measured_short")
        rows.append([
            t(f"kpi.{goal['metric']}.label"),
            goal.get("team_name") or goal.get("team_id") or t("goals.company"),
            shown_value(t, goal.get("baseline"), unit),
            current,
            shown_value(t, goal["target"], unit),
            "—" if progress is None else f"{t.number(progress, 0)}%",
            "—" if achieved is None else t("goals.achieved_yes" if achieved else "goals.achieved_no"),
        ])  # fmt: skip
    return rows


def _goals_slide(deck, t: Translator, goals: list[dict], *, margin, width) -> None:
    """The Goals slide: the table, and what the baseline is (and that the quarter is running) below it."""
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    first = goals[0]
    _title(slide, t("goals.deck_title", period=period_text(t, first["period"])))
    rows = goal_table_rows(t, goals)
    height = Inches(min(0.4 * len(rows), 4.8))
    _table(slide, rows, left=margin, top=Inches(1.3), width=width - 2 * margin, height=height, size=11)
    notes = [t("goals.deck_note", baseline_period=period_text(t, first["baseline_period"]))]
    if first.get("running"):
        notes.append(t("goals.running", period=period_text(t, first["period"])))
    box = slide.shapes.add_textbox(margin, Inches(1.5) + height, width - 2 * margin, Inches(0.9))
    _text(box.text_frame, notes, size=11)


def review_deck(review_data: dict, *, lang: str, generated_at: datetime | None = None) -> bytes:
    """The deck of a review (views.review.review's dict, live or from a frozen snapshot) as .pptx bytes."""
    t = Translator(lang)
    report = review_data["report"]
    level = f"{review_data['alpha']:g}"
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDE
    width, height = deck.slide_width, deck.slide_height
    margin = Inches(0.5)

    title = deck.slides.add_slide(deck.slide_layouts[TITLE])
    _text(
        title.shapes.title.text_frame,
        [t("review.deck_title", period=period_text(t, report["period"]))],
        size=40,
    )
    as_of = datetime.fromisoformat(report["data_as_of"])
    subtitle = t(
        "review.deck_subtitle",
        scope=scope_text(t, report["scope"]),
        as_of=t.datetime(as_of, report["timezone"]),
        level=level,
    )
    _text(title.placeholders[1].text_frame, [subtitle], size=18)

    summary = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    _title(summary, t("review.summary"))
    names = [k for names in AREAS.values() for k in names if k in report["kpis"]]
    _table(summary, _kpi_rows(t, review_data, names), left=margin, top=Inches(1.3), width=width - 2 * margin,
           height=Inches(5.8), size=8)  # fmt: skip

    story = deck.slides.add_slide(deck.slide_layouts[TITLE_AND_CONTENT])
    _title(story, t("review.narrative"))
    lines = []
    for statement, evidence in narrative_lines(t, review_data):
        lines.append(statement)
        lines += [f"    – {e}" for e in evidence]
    body = story.placeholders[1]
    body.left, body.top, body.width, body.height = (
        margin,
        Inches(1.3),
        width - 2 * margin,
        height - Inches(1.6),
    )
    _text(body.text_frame, lines, size=12)

    for area in AREAS:
        slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
        _title(slide, t(f"review.area_{area}"))
        drawn = chart_kpis(review_data, area)
        if drawn:
            data = CategoryChartData()
            data.categories = [t(f"kpi.{k}.label") for k in drawn]
            for series, field in (("now", "value"), ("previous", "previous"), ("last_year", "last_year")):
                data.add_series(t(f"review.series_{series}"), [report["kpis"][k][field] for k in drawn])
            chart = slide.shapes.add_chart(
                XL_CHART_TYPE.COLUMN_CLUSTERED, margin, Inches(1.3), Emu(int(width * 0.45)), Inches(5.6), data
            ).chart
            chart.has_legend = True
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
            chart.font.name = EAST_ASIAN_FONT
            chart.font.size = Pt(10)
        in_area = [k for k in AREAS[area] if k in report["kpis"]]
        _table(slide, _kpi_rows(t, review_data, in_area), left=Emu(int(width * 0.5)), top=Inches(1.3),
               width=Emu(int(width * 0.5) - margin), height=Inches(3.2), size=9)  # fmt: skip
        _text(slide.notes_slide.notes_text_frame, _area_notes(t, review_data, area), size=12)

    if review_data.get("goals"):
        _goals_slide(deck, t, review_data["goals"], margin=margin, width=width)

    appendix = deck.slides.add_slide(deck.slide_layouts[TITLE_AND_CONTENT])
    _title(appendix, t("review.appendix"))
    options = report["options"]
    definitions = [
        f"{t(f'kpi.{k}.label')} ({k}): "
        + (t(f"kpi.{k}.help", threshold=options["csat_threshold"], window=options["churn_window_days"])
           if t.has(f"kpi.{k}.help") else report["kpis"][k]["definition"])
        for k in names
    ]  # fmt: skip
    body = appendix.placeholders[1]
    body.left, body.top, body.width, body.height = (
        margin,
        Inches(1.2),
        width - 2 * margin,
        height - Inches(1.4),
    )
    _text(body.text_frame, definitions, size=9)

    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
