"""cxdash.labels: labels of coded values computed in Python on the calling thread and applied natively,
with the same output as the `map_elements` they replace (nulls stay null, String dtype, same names)."""

import threading
import warnings

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from cxdash.labels import joined_labels, label_expr, label_map, row_labels, with_label


def shout(value: object) -> str:
    return f"<{value}>"


def test_label_map_calls_the_label_once_per_distinct_non_null_value() -> None:
    calls: list[object] = []

    def label(value: object) -> str:
        calls.append(value)
        return str(value).upper()

    assert label_map(["b", "a", None, "b", "a"], label) == {"b": "B", "a": "A"}
    assert calls == ["b", "a"]
    assert label_map([], label) == {}


def test_labels_are_computed_on_the_calling_thread() -> None:
    """The point of the module: no Python code runs on Polars' worker threads."""
    threads: set[int] = set()

    def label(value: object) -> str:
        threads.add(threading.get_ident())
        return shout(value)

    frame = pl.DataFrame({"code": [f"c{i % 50}" for i in range(10_000)], "codes": [["a", "b"]] * 10_000})
    with_label(frame, "code", label, "label")
    joined_labels(frame, "codes", label)
    row_labels(frame, ("code", "code"), lambda a, b: label(a + b), "pair")
    assert threads == {threading.get_ident()}


def test_with_label_keeps_nulls_and_adds_a_string_column() -> None:
    frame = pl.DataFrame({"code": ["x", None, "y", "x"], "n": [1, 2, 3, 4]})
    out = with_label(frame, "code", shout, "label")
    assert out.columns == ["code", "n", "label"]
    assert out.schema["label"] == pl.String
    assert out["label"].to_list() == ["<x>", None, "<y>", "<x>"]
    assert_frame_equal(out.drop("label"), frame)


@pytest.mark.parametrize(
    "values",
    [
        pl.Series("code", ["web", None, "phone", "web"], dtype=pl.Enum(["phone", "web", "chat"])),
        pl.Series("code", ["web", None, "phone", "web"], dtype=pl.Categorical),
        pl.Series("code", [3, None, 1, 3], dtype=pl.Int32),
        pl.Series("code", [None, None], dtype=pl.String),
        pl.Series("code", [], dtype=pl.String),
    ],
    ids=["enum", "categorical", "int", "all-null", "empty"],
)
def test_label_expr_matches_map_elements(values: pl.Series) -> None:
    """Same values, name and dtype as the map_elements it replaces (Enum/Categorical as their text)."""
    frame = values.to_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PolarsInefficientMapWarning: the old way, for comparison only
        before = frame.select(pl.col("code").map_elements(shout, return_dtype=pl.String))
    after = frame.select(label_expr(frame, "code", shout))
    assert_frame_equal(after, before)
    assert after.schema == pl.Schema({"code": pl.String})


def test_label_expr_keeps_the_column_name_and_aliases_like_an_expression() -> None:
    frame = pl.DataFrame({"stage": ["channel", "outcome"]})
    out = frame.with_columns(
        label_expr(frame, "stage", str.upper), label_expr(frame, "stage", len).alias("n")
    )
    assert out.to_dict(as_series=False) == {"stage": ["CHANNEL", "OUTCOME"], "n": ["7", "7"]}


def test_label_expr_on_the_frame_it_labels_only() -> None:
    """A value missing from the frame the labels came from has no label (null), not an error."""
    labels = label_expr(pl.DataFrame({"c": ["a"]}), "c", shout)
    assert pl.DataFrame({"c": ["a", "b"]}).select(labels)["c"].to_list() == ["<a>", None]


def test_joined_labels_joins_each_list_and_keeps_null_lists() -> None:
    frame = pl.DataFrame({"causes": [["late", "rude"], None, [], ["late"]]})
    out = joined_labels(frame, "causes", shout)
    assert_series_equal(out, pl.Series("causes", ["<late>, <rude>", None, "", "<late>"], dtype=pl.String))
    assert joined_labels(frame, "causes", shout, " / ")[0] == "<late> / <rude>"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = frame.select(
            pl.col("causes").map_elements(
                lambda codes: ", ".join(shout(c) for c in codes), return_dtype=pl.String
            )
        )
    assert_frame_equal(frame.select(out), before)


def test_joined_labels_labels_null_items_like_the_lambda_did() -> None:
    frame = pl.DataFrame({"codes": [["a", None]]})
    assert joined_labels(frame, "codes", lambda c: "?" if c is None else c)[0] == "a, ?"


def test_joined_labels_of_an_empty_frame_is_an_empty_string_series() -> None:
    frame = pl.DataFrame({"kpis": []}, schema={"kpis": pl.List(pl.String)})
    out = frame.select(pl.lit(1).alias("x").head(0), joined_labels(frame, "kpis", shout).alias("K"))
    assert out.schema == pl.Schema({"x": pl.Int32, "K": pl.String})
    assert out.height == 0


def test_row_labels_uses_several_columns_per_row() -> None:
    frame = pl.DataFrame({"stage": ["channel", "ticket_type", "channel"], "node": ["web", "complaint", None]})
    out = row_labels(frame, ("stage", "node"), lambda stage, node: f"{stage}:{node}", "node")
    assert_series_equal(
        out, pl.Series("node", ["channel:web", "ticket_type:complaint", "channel:None"], dtype=pl.String)
    )
    assert frame.with_columns(out).columns == ["stage", "node"]  # replaces the column in place
