"""The quarterly review's movers and narrative on hand-built reports: only significant changes are said,
evidence only when it moved significantly the same way, and the wording in both languages."""

import pytest

from cxdash.i18n import Translator
from cxdash.views.review import movers, narrative, statement_text


def kpi(value, previous, p, *, unit="%", last_year=None, p_ly=None) -> dict:
    return {
        "value": value, "previous": previous, "change": None if previous is None else value - previous,
        "p_value": p, "last_year": last_year,
        "change_vs_last_year": None if last_year is None else value - last_year, "p_value_vs_last_year": p_ly,
        "unit": unit, "target": None,
    }  # fmt: skip


REPORT = {
    "kpis": {
        "csat_pct": kpi(78.0, 82.0, 0.001),  # worse, significant
        "sla_first_response_pct": kpi(90.0, 89.0, 0.2),  # not significant
        "complaints": kpi(120, 100, 0.04, unit="count", last_year=90, p_ly=0.0001),  # worse, and vs last year
        "tickets": kpi(1000, 1100, 0.01, unit="count"),  # a volume: fell, neither better nor worse
        "frt_median_min": kpi(5.0, 3.0, None, unit="min"),  # no test: never said
    }
}
EVIDENCE = {
    "teams": [
        {
            "kpi": "csat_pct",
            "where": "T01",
            "value": 70.0,
            "other": 80.0,
            "delta": -10.0,
            "p_value": 0.002,
            "n": 300,
        },
        {
            "kpi": "csat_pct",
            "where": "T02",
            "value": 90.0,
            "other": 85.0,
            "delta": 5.0,
            "p_value": 0.03,
            "n": 300,
        },
    ],
    "channels": [],
    "causes": [
        {"cause": "billing.double_charge", "count": 40, "before": 20, "growth_pct": 100.0, "p_value": 0.001}
    ],
    "drivers": [
        {"driver": "rating_resolution", "importance": 41.0, "performance_pct": 70.0, "r2": 0.52, "n": 900}
    ],
}


def test_movers_are_the_significant_changes_most_significant_first():
    found = movers(REPORT, alpha=0.05)
    assert [(m["kpi"], m["against"]) for m in found] == [
        ("complaints", "last_year"),
        ("csat_pct", "previous"),
        ("tickets", "previous"),
        ("complaints", "previous"),
    ]
    better = {(m["kpi"], m["against"]): m["better"] for m in found}
    assert better[("csat_pct", "previous")] is False and better[("tickets", "previous")] is None
    assert movers(REPORT, alpha=0.0005) == [m for m in found if m["p_value"] < 0.0005]


def test_the_narrative_backs_a_change_only_with_what_moved_the_same_way():
    said = narrative(REPORT, EVIDENCE, alpha=0.05)
    by = {(s["key"], s.get("kpi")): s for s in said}
    csat = by[("worsened", "csat_pct")]
    assert [(e["key"], e.get("where") or e.get("driver")) for e in csat["evidence"]] == [
        ("team_moved", "T01"),  # T02 rose: not with a fall
        ("top_driver", "rating_resolution"),
    ]
    complaints = by[("worsened", "complaints")]
    assert [e["key"] for e in complaints["evidence"]] == ["cause_grew"]
    assert [e["key"] for e in by[("fell", "tickets")]["evidence"]] == ["no_single_source"]
    assert ("vs_last_year", "complaints") in by and ("worsened", "frt_median_min") not in by
    # beneath the totals: what was not said with a company change
    beneath = [(s["key"], s.get("where") or s.get("cause")) for s in said if not s.get("against")]
    assert beneath == [("team_moved", "T02")]  # T01 and the cause were said above


def test_nothing_significant_says_so():
    quiet = {"kpis": {"csat_pct": kpi(80.0, 80.5, 0.6)}}
    assert [s["key"] for s in narrative(quiet, {}, alpha=0.05)] == ["steady"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "CSAT worsened from 82.0% to 78.0% (-4.0 pp; p = 0.001)."),
        ("zh", "满意度 CSAT由 82.0% 恶化至 78.0%(-4.0 个百分点;p = 0.001)。"),
    ],
)
def test_a_change_is_worded_with_its_numbers_and_p_value(lang, expected):
    said = next(s for s in narrative(REPORT, EVIDENCE, alpha=0.05) if s.get("kpi") == "csat_pct")
    assert statement_text(Translator(lang), said) == expected


@pytest.mark.parametrize(
    ("lang", "key", "expected"),
    [
        ("en", "team_moved", "Team T01: CSAT 80.0% → 70.0% (-10.0 pp; p = 0.002)."),
        ("en", "cause_grew", "Root cause billing.double_charge: 40 complaints against 20 the quarter before, "
                             "100% more per day of data (p = 0.001)."),
        ("zh", "no_single_source", "没有单个团队、渠道或根因随之发生显著变化。"),
        ("en", "steady", "No KPI changed significantly against the previous quarter or the same quarter "
                         "last year."),
    ],
)  # fmt: skip
def test_evidence_wording(lang, key, expected):
    said = [e for s in narrative(REPORT, EVIDENCE, alpha=0.05) for e in [s, *s["evidence"]]]
    found = next((s for s in said if s["key"] == key), {"key": key})
    assert statement_text(Translator(lang), found) == expected


def test_a_p_value_under_one_in_a_thousand_is_said_as_such():
    said = next(s for s in narrative(REPORT, EVIDENCE, alpha=0.05) if s["key"] == "vs_last_year")
    assert statement_text(Translator("en"), said).endswith("(+30; p < 0.001).")


def test_value_tiers_back_the_change_they_moved_with_and_are_worded():
    evidence = {
        **EVIDENCE,
        "tiers": [
            {"kpi": "csat_pct", "tier": "vip", "value": 50.0, "other": 100.0, "delta": -50.0,
             "p_value": 0.0003, "n": 20},
            {"kpi": "complaints", "tier": "regular", "value": 10, "other": 0, "delta": 10.0,
             "p_value": 0.002, "n": 10},
            {"kpi": "csat_pct", "tier": "regular", "value": 90.0, "other": 80.0, "delta": 10.0,
             "p_value": 0.01, "n": 200},
        ],
    }  # fmt: skip
    said = narrative(REPORT, evidence, alpha=0.05)
    by = {(s["key"], s.get("kpi")): s for s in said}
    assert [(e["key"], e.get("tier")) for e in by[("worsened", "csat_pct")]["evidence"]] == [
        ("team_moved", None),
        ("tier_moved", "vip"),  # the regular tier rose: not with a fall
        ("top_driver", None),
    ]
    assert ("tier_moved", "regular") in [
        (e["key"], e.get("tier")) for e in by[("worsened", "complaints")]["evidence"]
    ]
    beneath = [(s["key"], s.get("tier")) for s in said if s["key"] == "tier_moved"]
    assert beneath == [("tier_moved", "regular")]  # its CSAT rise was said with no company change
    vip = by[("worsened", "csat_pct")]["evidence"][1]
    assert (
        statement_text(Translator("en"), vip) == "Value tier VIP: CSAT 100.0% → 50.0% (-50.0 pp; p < 0.001)."
    )
    complaints = next(e for e in by[("worsened", "complaints")]["evidence"] if e["key"] == "tier_moved")
    assert statement_text(Translator("zh"), complaints) == (
        "价值分层「普通」:本季度投诉 10 件,上季度 0 件(按有数据的天数比较;p = 0.002)。"
    )


def test_tier_changes_on_hand_built_rows():
    from cxdash.config import TierThresholds
    from cxdash.metrics.kpis import KpiOptions
    from cxdash.metrics.tiers import TierRules
    from cxdash.periods import DataSpan, parse_period
    from cxdash.views.review import tier_changes
    from tests.kpi_frames import at, kpi_frames

    # v1 is VIP at the end of Q3 (12 orders of 1,000 in the year: M 12,000 ≥ 10,000, F 12 ≥ 12); r1 regular.
    orders = [
        {"customer_id": "v1", "ordered_at": at("2026-09-01", 60 * i), "amount": 1000.0} for i in range(12)
    ]
    orders.append({"customer_id": "r1", "ordered_at": at("2026-09-01"), "amount": 10.0})
    customers = [{"customer_id": c, "signup_at": at("2025-01-01")} for c in ("v1", "r1")]
    # v1's CSAT: 20 of 20 satisfied in Q2, 10 of 20 in Q3: pooled 0.75, z = 0.5 / √(0.75·0.25·0.1) = 3.65,
    # p ≈ 0.00026. r1: no complaints in Q2 (91 days), 10 in Q3 (92 days): binomial 10 of 10 at 92/183,
    # p = 0.50273^10 + 0.49727^10 ≈ 0.0020.
    surveys = [{"customer_id": "v1", "responded_at": at("2026-05-01", i), "score": 5} for i in range(20)] + [
        {"customer_id": "v1", "responded_at": at("2026-08-01", i), "score": 5 if i < 10 else 2}
        for i in range(20)
    ]
    tickets = [
        {"customer_id": "r1", "is_complaint": True, "created_at": at("2026-08-01", i)} for i in range(10)
    ]
    frames = kpi_frames(tickets=tickets, surveys=surveys, orders=orders, customers=customers)
    found = tier_changes(
        frames, parse_period("2026Q3"), span=DataSpan(first=at("2026-01-01"), data_as_of=at("2026-10-15")),
        tz="UTC", options=KpiOptions(), rules=TierRules.from_settings(TierThresholds(), 180), alpha=0.05,
    )  # fmt: skip
    assert [(f["tier"], f["kpi"], f["value"], f["other"], f["n"]) for f in found] == [
        ("vip", "csat_pct", 50.0, 100.0, 20),
        ("regular", "complaints", 10, 0, 10),
    ]
    assert found[0]["p_value"] == pytest.approx(0.00026, abs=0.00002)
    assert found[1]["p_value"] == pytest.approx(0.0020, abs=0.0001)


def test_a_team_is_named_with_its_id_when_its_name_is_known():
    said = {"key": "team_moved", "kpi": "csat_pct", "where": "T01", "name": "电话客服组", "value": 70.0,
            "other": 80.0, "delta": -10.0, "p_value": 0.002}  # fmt: skip
    assert (
        statement_text(Translator("en"), said)
        == "Team 电话客服组 (T01): CSAT 80.0% → 70.0% (-10.0 pp; p = 0.002)."
    )
