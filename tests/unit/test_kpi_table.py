"""`kpis --format table`: labels, units, rounding, reasons, marks and CJK-aligned columns of a report."""

import re
import unicodedata

import pytest

from cxdash.kpi_report import format_table


def kpi(
    value, unit, *, n=0, previous=None, change=None, per_day=False, p_value=None, served=False, reason=None
):
    entry = {
        "value": value,
        "n": n,
        "previous": previous,
        "previous_n": n,
        "change": change,
        "change_per_day_of_data": per_day,
        "p_value": p_value,
        "last_year": None,
        "last_year_n": 0,
        "change_vs_last_year": None,
        "p_value_vs_last_year": None,
        "target": None,
        "status": None,
        "unit": unit,
        "customers_served_only": served,
        "definition": "",
    }
    if reason:
        entry["reason"] = reason
    return entry


def report(*, running=True, scope=None, **overrides):
    kpis = {
        "csat_pct": kpi(82.352941, "%", n=578, previous=82.155272, change=0.197669, p_value=0.92),
        "csat_mean": kpi(4.164383, "score", n=578, previous=4.180765, change=-0.016382, p_value=0.7),
        "nps": kpi(29.508197, "points", n=61, previous=30.666667, change=-1.15847, served=True),
        "frt_median_min": kpi(9.666667, "min", n=12_164, previous=12.058333, change=-2.391666),
        "resolution_median_h": kpi(25.456111, "h", n=2111, previous=28.358889, change=-2.902778),
        "tickets": kpi(
            12_310.0, "count", n=12_310, previous=3163.0, change=729.4, per_day=True, p_value=0.001
        ),
        "one_touch_pct": kpi(49.88, "%", n=2111, previous=45.75, change=4.13, p_value=0.05),  # not < 0.05
        "revenue": kpi(
            1_385_151.294,
            "currency",
            n=3968,
            previous=2_380_705.07,
            change=194_814.333,
            per_day=True,
            served=True,
        ),
        "active_customers": kpi(None, "count", reason="not_enough_history"),
        "conversion_rate_pct": kpi(None, "%", reason="undefined_under_ticket_filter"),
        "complaint_rate_per_1k_orders": kpi(77.873, "per 1k orders", n=3968),  # no previous period
    }
    kpis.update(overrides)
    return {
        "period": "2026Q4",
        "previous_period": "2026Q3",
        "last_year_period": "2025Q4",
        "running": running,
        "as_of": "2026-11-15T15:59:08+00:00" if running else "2026-09-30T16:00:00+00:00",
        "data_as_of": "2026-11-15T15:59:08+00:00",
        "timezone": "Asia/Shanghai",
        "scope": scope or {"teams": [], "channels": [], "segments": [], "regions": []},
        "customers": "served" if scope else "all",
        "options": {"csat_threshold": 4, "churn_window_days": 180},
        "kpis": kpis,
    }


def cells(text: str, label: str) -> list[str]:
    """The cells of the row of `label` (cells are separated by two or more spaces)."""
    [line] = [line for line in text.splitlines() if line.strip().startswith(label)]
    return re.split(r"\s{2,}", line.strip())


def columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@pytest.mark.parametrize(
    ("lang", "label", "shown"),
    [
        ("zh", "满意度 CSAT", ["82.4%", "578", "82.2%", "+0.2 个百分点"]),
        ("en", "CSAT", ["82.4%", "578", "82.2%", "+0.2 pp"]),
        ("zh", "平均满意度评分", ["4.16", "578", "4.18", "-0.02"]),
        ("zh", "净推荐值 NPS ‡", ["+29.5", "61", "+30.7", "-1.2"]),
        ("en", "First response (median)", ["9.7 min", "12,164", "12.1 min", "-2.4 min"]),
        ("zh", "首次响应时长(中位数)", ["9.7 分钟", "12,164", "12.1 分钟", "-2.4 分钟"]),
        ("en", "Resolution time (median)", ["25.5 h", "2,111", "28.4 h", "-2.9 h"]),
        ("zh", "工单量", ["12,310", "12,310", "3,163", "+729", "*†"]),
        ("en", "One-touch resolution", ["49.9%", "2,111", "45.8%", "+4.1 pp"]),
        ("en", "Revenue ‡", ["¥1,385,151.29", "3,968", "¥2,380,705.07", "+¥194,814.33", "†"]),
        ("zh", "营收 ‡", ["¥1,385,151.29", "3,968", "¥2,380,705.07", "+¥194,814.33", "†"]),
        ("en", "Complaints per 1k orders", ["77.9 ‰", "3,968", "—", "—"]),
        ("zh", "千单投诉率", ["77.9 /千单", "3,968", "—", "—"]),
        ("zh", "活跃客户数", ["历史数据不足"]),
        ("en", "Active customers", ["not enough history"]),
        ("zh", "注册转化率", ["按团队/渠道筛选时不适用"]),
        ("en", "Sign-up conversion", ["not defined under a team or channel filter"]),
    ],
)
def test_rows_show_labels_units_and_rounding(lang, label, shown):
    assert cells(format_table(report(), lang=lang), label) == [label, *shown]


@pytest.mark.parametrize(
    ("value", "change", "shown"),
    [(0.04, 0.0, ["0.0", "0.0"]), (-11.27, -2.0, ["-11.3", "-2.0"]), (100.0, 3.33, ["+100.0", "+3.3"])],
)
def test_nps_points_are_signed_with_one_decimal(value, change, shown):
    table = format_table(
        report(nps=kpi(value, "points", n=5, previous=value - change, change=change)), lang="en"
    )
    assert cells(table, "NPS")[1] == shown[0] and cells(table, "NPS")[4] == shown[1]


def test_a_fall_in_revenue_keeps_the_currency_after_the_sign():
    table = format_table(
        report(revenue=kpi(1000.0, "currency", n=2, previous=3500.5, change=-2500.5)), lang="zh"
    )
    assert cells(table, "营收") == ["营收", "¥1,000.00", "2", "¥3,500.50", "-¥2,500.50"]


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("zh", ["核心指标 · 2026年第4季度 · 进行中 · 截至 2026年11月15日 23:59(Asia/Shanghai)",
                "范围:全公司 · 对比上期:2026年第3季度"]),
        ("en", ["Headline KPIs · 2026 Q4 · running, data as of 15 Nov 2026 23:59 (Asia/Shanghai)",
                "Scope: whole company · previous period: 2026 Q3"]),
    ],
)  # fmt: skip
def test_heading_with_the_running_marker_local_time_and_scope(lang, heading):
    assert format_table(report(), lang=lang).splitlines()[:2] == heading


@pytest.mark.parametrize(
    ("lang", "as_of"), [("zh", "截至 2026年10月1日 00:00"), ("en", "as of 1 Oct 2026 00:00")]
)
def test_a_finished_period_has_no_running_marker(lang, as_of):
    first = format_table(report(running=False), lang=lang).splitlines()[0]
    assert as_of in first and "进行中" not in first and "running" not in first


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", "范围:团队 T01、T02;渠道 在线聊天;客户类型 企业客户 · 对比上期"),
        ("en", "Scope: Team: T01, T02; Channel: Chat; Segment: Business · previous period"),
    ],
)
def test_scope_in_words(lang, words):
    scope = {"teams": ["T01", "T02"], "channels": ["chat"], "segments": ["business"], "regions": []}
    assert format_table(report(scope=scope), lang=lang).splitlines()[1].startswith(words)


@pytest.mark.parametrize(
    ("lang", "notes"),
    [
        ("zh", ["* 与上期相比变化显著(p < 0.05)", "† 按天折算", "‡ 仅统计本期由所选范围内工单服务过的客户"]),
        ("en", ["* significant change vs the previous period (p < 0.05)", "† per day of data",
                "‡ only the customers served by the tickets in scope in this period"]),
    ],
)  # fmt: skip
def test_marks_have_footnotes(lang, notes):
    footer = format_table(report(), lang=lang).split("\n\n")[-1].splitlines()
    assert len(footer) == 3
    assert all(line.startswith(note) for line, note in zip(footer, notes, strict=True))


def test_no_footnotes_without_marks():
    plain = {
        name: kpi(1.0, "%", n=10, previous=1.0, change=0.0, p_value=0.9)
        for name in ("csat_pct", "tickets", "nps", "revenue", "active_customers", "conversion_rate_pct")
    }
    table = format_table(report(**plain), lang="en")
    assert not any(mark in table for mark in "*†‡")
    assert table.splitlines()[-1].startswith("  Sign-up conversion")


def test_groups_follow_the_overview():
    lines = format_table(report(), lang="zh").splitlines()
    order = ["满意度", "  满意度 CSAT", "  平均满意度评分", "服务效率", "  首次响应时长",
             "工单与投诉", "  工单量", "客户与营收", "  营收", "  注册转化率"]  # fmt: skip
    found = [next(i for i, line in enumerate(lines) if line.startswith(start)) for start in order]
    assert found == sorted(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_columns_line_up_in_display_columns(lang):
    """Every figure ends in the terminal column of its heading; a Chinese character takes two columns."""
    lines = format_table(report(), lang=lang).splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(("指标", "KPI")))

    def spans(line: str) -> list[tuple[int, int]]:
        return [
            (columns(line[: m.start()]), columns(line[: m.end()])) for m in re.finditer(r"\S+(?: \S+)*", line)
        ]

    heading_ends = [end for _, end in spans(lines[header])[1:]]
    assert len(heading_ends) == 4
    rows = [line for line in lines[header + 2 :] if line.startswith("  ") and len(spans(line)) >= 5]
    assert len(rows) == 9
    for line in rows:
        cell_spans = spans(line)
        assert cell_spans[0][0] == 2, line  # labels indented under their group
        assert [end for _, end in cell_spans[1:5]] == heading_ends, line
        if len(cell_spans) == 6:  # the marks start right after the change column
            assert cell_spans[5][0] == heading_ends[-1] + 2, line
    reasons = [line for line in lines if "历史数据不足" in line or "not enough history" in line]
    value_column = min(start for line in [lines[header], *rows] for start, _ in spans(line)[1:2])
    assert [spans(line)[1][0] for line in reasons] == [value_column]
