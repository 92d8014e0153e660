from datetime import date

import polars as pl

from cxdash.charts.trends import TrendLabels, kpi_trend_line
from cxdash.reports.export import csv_bytes, neutralise_formulas


def test_formulas_are_neutralised_and_numbers_stay_numbers():
    frame = pl.DataFrame(
        {
            "name": ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "正常", "a=b", None],
            "n": [-1.5] * 9,
        }
    )
    safe = neutralise_formulas(frame)
    assert safe["name"].to_list() == [
        '\'=HYPERLINK("x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "正常",
        "a=b",
        None,
    ]
    assert safe["n"].to_list() == [-1.5] * 9


def test_csv_has_a_bom_and_utf8_chinese():
    data = csv_bytes(pl.DataFrame({"周期": ["2026年第3季度"], "数值": [81.5]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["周期,数值", "2026年第3季度,81.5"]


LABELS = TrendLabels(title="满意度", period="周期", value="满意度", n="N", target="目标", annotation="事件")


def test_trend_line_with_target_annotations_and_partial_period():
    series = pl.DataFrame(
        {
            "period": ["2026Q2", "2026Q3", "2026Q4"],
            "period_start": [date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)],
            "period_label": ["2026年第2季度", "2026年第3季度", "2026年第4季度"],
            "value": [82.0, 80.5, None],
            "n": [800, 850, 0],
            "running": [False, False, True],
        }
    )
    annotations = pl.DataFrame(
        {"on_date": [date(2026, 7, 11), date(2020, 1, 1)], "label": ["new chat vendor", "too early"]}
    )
    fig = kpi_trend_line(series, annotations, labels=LABELS, value_format=".1f", target=85.0)
    line, target, events = fig.data
    assert list(line.y) == [82.0, 80.5, None]
    assert list(line.marker.symbol) == ["circle", "circle", "circle-open"]
    assert list(target.y) == [85.0, 85.0]
    assert list(events.text) == ["new chat vendor"]  # only events inside the charted range
    assert fig.layout.title.text == "满意度"
    assert "Noto Sans CJK SC" in fig.layout.font.family
    assert list(fig.layout.xaxis.ticktext) == ["2026Q2", "2026Q3", "2026Q4"]


def test_trend_line_without_data():
    empty = pl.DataFrame(
        schema={
            "period": pl.String,
            "period_start": pl.Date,
            "period_label": pl.String,
            "value": pl.Float64,
            "n": pl.Int64,
        }
    )
    fig = kpi_trend_line(
        empty,
        pl.DataFrame(schema={"on_date": pl.Date, "label": pl.String}),
        labels=LABELS,
        value_format=".1f",
    )
    assert len(fig.data) == 1
