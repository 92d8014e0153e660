"""Complaint Pareto: ranking, weights, the 80 % line and the drill path, on hand-built complaints."""

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cxdash.metrics.pareto import (
    DEFAULT_SEVERITY_WEIGHTS,
    pareto_path_filter,
    root_cause_pareto,
    with_product_category,
)

SCHEMA = {
    "ticket_id": pl.String,
    "order_id": pl.String,
    "category": pl.Categorical,
    "root_cause": pl.Categorical,
    "severity": pl.Int32,
}


def complaints(*rows: tuple[str | None, int | None]) -> pl.LazyFrame:
    """Complaints from (root_cause, severity) pairs; every one about billing."""
    return pl.LazyFrame(
        {
            "ticket_id": [f"T{i}" for i in range(len(rows))],
            "order_id": [None] * len(rows),
            "category": ["billing"] * len(rows),
            "root_cause": [cause for cause, _ in rows],
            "severity": [severity for _, severity in rows],
        },
        schema=SCHEMA,
    )


# A: three minor complaints; B: one critical complaint.
A_AND_B = complaints(("A", 4), ("A", 4), ("A", 4), ("B", 1))


def pareto(tickets: pl.LazyFrame, **options) -> pl.DataFrame:
    return root_cause_pareto(tickets, **options).collect()


def test_counts_rank_a_first():
    # by count: A 3, B 1 of 4 → shares 75, 25; cumulative 75, 100; A vital (0 before), B vital (75 < 80)
    expected = pl.DataFrame(
        {
            "root_cause": ["A", "B"],
            "complaints": [3, 1],
            "weighted": [3.0, 8.0],  # 1+1+1 = 3 (minor = 1); critical = 8
            "value": [3.0, 1.0],
            "share_pct": [75.0, 25.0],
            "cumulative_pct": [75.0, 100.0],
            "rank": [1, 2],
            "is_vital_few": [True, True],
        }
    )
    assert_frame_equal(pareto(A_AND_B), expected)


def test_severity_weights_rank_b_first():
    # weighted: B 8, A 3 of 11 → shares 72.73, 27.27; B vital (0 before), A vital (72.73 < 80)
    result = pareto(A_AND_B, weights=DEFAULT_SEVERITY_WEIGHTS)
    assert result["root_cause"].to_list() == ["B", "A"]
    assert result["value"].to_list() == [8.0, 3.0]
    assert result["share_pct"].to_list() == pytest.approx([800 / 11, 300 / 11])
    assert result["rank"].to_list() == [1, 2]


def test_custom_weights_and_missing_severity_weigh_as_minor():
    # weights {1: 10, 2: 5}: A = sev 3 (unmapped → 1) + null (→ 1) = 2; B = sev 2 = 5; C = sev 1 = 10
    tickets = complaints(("A", 3), ("A", None), ("B", 2), ("C", 1))
    result = pareto(tickets, weights={1: 10.0, 2: 5.0})
    assert result["root_cause"].to_list() == ["C", "B", "A"]
    assert result["weighted"].to_list() == [10.0, 5.0, 2.0]
    # the column `weighted` uses the default weights when ranking by count: A = 2 + 1, B = 4, C = 8
    assert pareto(tickets)["weighted"].to_list() == [3.0, 4.0, 8.0]


def test_ties_by_label_null_last_and_the_80_percent_line_at_a_boundary():
    # b 4, a 4, c 1, unknown 1 (total 10): ties a before b, c before the unknown cause.
    # shares 40, 40, 10, 10 → cumulative 40, 80, 90, 100. Share before each row: 0, 40, 80, 90:
    # a and b are the vital few (they reach exactly 80 %); c starts at 80 %, so it is not.
    tickets = complaints(*[("b", 4)] * 4, *[("a", 4)] * 4, ("c", 4), (None, 4))
    result = pareto(tickets)
    assert result["root_cause"].to_list() == ["a", "b", "c", None]
    assert result["cumulative_pct"].to_list() == [40.0, 80.0, 90.0, 100.0]
    assert result["is_vital_few"].to_list() == [True, True, False, False]
    assert result["rank"].to_list() == [1, 2, 3, 4]


def test_the_80_percent_line_is_not_lost_to_rounding():
    # a 7, b 3, c 2, d 2, e 1 of 15: before d are 7 + 3 + 2 = 12 = 80 % exactly, so d is not vital.
    # Adding the rounded shares 46.67 + 20 + 13.33 in floating point gives 79.999…, which would let d in.
    tickets = complaints(*[("a", 4)] * 7, *[("b", 4)] * 3, *[("c", 4)] * 2, *[("d", 4)] * 2, ("e", 4))
    result = pareto(tickets)
    assert result["root_cause"].to_list() == ["a", "b", "c", "d", "e"]
    assert result["is_vital_few"].to_list() == [True, True, True, False, False]
    assert result["cumulative_pct"][2] == 80.0


def test_one_cause_is_the_whole_pareto():
    result = pareto(complaints(("A", 2)))
    assert result.select("share_pct", "cumulative_pct", "is_vital_few").row(0) == (100.0, 100.0, True)


def test_no_complaints_no_rows_with_the_schema():
    result = pareto(complaints())
    assert result.height == 0
    assert result.schema["root_cause"] == pl.String
    assert result.schema["is_vital_few"] == pl.Boolean


def test_by_another_column():
    tickets = pl.concat(
        [
            A_AND_B,
            complaints(("C", 4)).with_columns(pl.lit("delivery").cast(pl.Categorical).alias("category")),
        ]
    )
    # billing 4, delivery 1
    result = pareto(tickets, by="category")
    assert result.select("category", "complaints").rows() == [("billing", 4), ("delivery", 1)]


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ([], ["T0", "T1", "T2", "T3", "T4"]),
        ([("category", "billing")], ["T0", "T1", "T2", "T3"]),
        ([("category", "billing"), ("root_cause", "A")], ["T0", "T1"]),
        ([("category", "billing"), ("root_cause", None)], ["T3"]),  # the unknown cause: null-safe
        ([("category", "billing"), ("root_cause", "A"), ("product_category", "shoes")], ["T0"]),
        ([("category", "billing"), ("root_cause", "A"), ("product_category", None)], ["T1"]),  # no order
        ([("root_cause", "nothing")], []),
    ],
)
def test_drill_path(path, kept):
    tickets = pl.LazyFrame(
        {
            "ticket_id": ["T0", "T1", "T2", "T3", "T4"],
            "order_id": ["O1", None, "O2", "O9", "O1"],
            "category": ["billing", "billing", "billing", "billing", "delivery"],
            "root_cause": ["A", "A", "B", None, "A"],
            "severity": [1, 2, 3, 4, None],
        },
        schema=SCHEMA,
    )
    orders = pl.LazyFrame(
        {"order_id": ["O1", "O2"], "product_category": ["shoes", "bags"]},
        schema={"order_id": pl.String, "product_category": pl.Categorical},
    )
    # O9 is not among the orders: its ticket gets a null product category, like a ticket without one
    result = with_product_category(tickets, orders).filter(pareto_path_filter(path)).collect()
    assert sorted(result["ticket_id"].to_list()) == kept


def test_product_category_left_join_keeps_every_ticket():
    tickets = complaints(("A", 4), ("B", 4)).with_columns(pl.Series("order_id", ["O1", None]))
    orders = pl.LazyFrame({"order_id": ["O1"], "product_category": ["shoes"]})
    result = with_product_category(tickets, orders).collect()
    assert result["product_category"].to_list() == ["shoes", None]
