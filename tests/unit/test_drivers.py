"""Key-driver analysis on frames worked out by hand, and against direct numpy / scipy fits."""

import itertools
import math

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats as sps

from cxdash.metrics.drivers import (
    DRIVER_MIN_RESPONSES,
    DRIVER_SCHEMA,
    QUADRANTS,
    _relative_weights,
    importance_performance,
    key_drivers,
)

# Orthogonal, centred drivers: the four sign combinations repeated 25 times (n = 100, sd² = 100/99).
X1 = [-1.0, 1.0, -1.0, 1.0] * 25
X2 = [-1.0, -1.0, 1.0, 1.0] * 25
X1X2 = [a * b for a, b in zip(X1, X2, strict=True)]  # orthogonal to x1, x2 and the intercept


def hand_frame(noise: bool) -> pl.DataFrame:
    y = [2 * a + b + (c if noise else 0.0) for a, b, c in zip(X1, X2, X1X2, strict=True)]
    return pl.DataFrame({"y": y, "x1": X1, "x2": X2})


def random_frame(n: int, k: int, *, seed: int, shared: float = 0.0) -> pl.DataFrame:
    """k drivers sharing a common factor (weight `shared`), y = 1·x1 + 2·x2 + … + noise."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 1))
    x = rng.normal(size=(n, k)) + shared * factor
    y = x @ np.arange(1, k + 1) + rng.normal(scale=3.0, size=n)
    return pl.DataFrame({"y": y} | {f"x{j + 1}": x[:, j] for j in range(k)})


def ols(frame: pl.DataFrame, outcome: str, drivers: list[str]) -> tuple[np.ndarray, float, np.ndarray]:
    """Direct OLS with an intercept: slopes, R², two-sided t-test p-values of the slopes."""
    y = frame[outcome].to_numpy()
    a = np.column_stack([np.ones(len(y)), *(frame[d].to_numpy() for d in drivers)])
    coef, *_ = np.linalg.lstsq(a, y)
    resid = y - a @ coef
    df = len(y) - a.shape[1]
    se = np.sqrt(resid @ resid / df * np.diag(np.linalg.inv(a.T @ a)))
    r2 = 1 - (resid @ resid) / ((y - y.mean()) @ (y - y.mean()))
    return coef[1:], r2, 2 * sps.t.sf(np.abs(coef / se), df)[1:]


def standardized(frame: pl.DataFrame, outcome: str, drivers: list[str], slopes: np.ndarray) -> np.ndarray:
    return np.array([b * frame[d].std() / frame[outcome].std() for d, b in zip(drivers, slopes, strict=True)])


def column(result, name: str) -> list:
    return result.drivers[name].to_list()


# --- hand-worked fits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("noise", "r2", "betas", "parts"),
    [
        # y = 2·x1 + x2: var y = 5·sd², beta = 2/√5, 1/√5; orthogonal → Shapley part = beta² (4/5, 1/5)
        (False, 1.0, [2 / math.sqrt(5), 1 / math.sqrt(5)], [0.8, 0.2]),
        # + x1·x2 (orthogonal noise of variance 1): var y = 6·sd², beta = 2/√6, 1/√6, R² = 5/6
        (True, 5 / 6, [2 / math.sqrt(6), 1 / math.sqrt(6)], [4 / 6, 1 / 6]),
    ],
)
def test_orthogonal_drivers_by_hand(noise, r2, betas, parts):
    result = key_drivers(hand_frame(noise), outcome="y", numeric=["x1", "x2"])
    assert result.status == "ok"
    assert result.n == 100
    assert result.r2 == pytest.approx(r2, abs=1e-12)
    assert column(result, "beta") == pytest.approx(betas, abs=1e-12)
    assert column(result, "r2_part") == pytest.approx(parts, abs=1e-12)
    assert column(result, "importance") == pytest.approx([0.8, 0.2], abs=1e-12)  # beta² / R²
    assert column(result, "kept") == [True, True]
    assert column(result, "note") == [None, None]
    assert result.drivers.schema == DRIVER_SCHEMA


def test_noisy_p_values_by_hand():
    # X'X = 100·I, SSE = 100 (the x1·x2 term), df = 97 → se(b) = √(1/97): t = 2√97 and √97
    result = key_drivers(hand_frame(noise=True), outcome="y", numeric=["x1", "x2"])
    expected = [2 * sps.t.sf(2 * math.sqrt(97), 97), 2 * sps.t.sf(math.sqrt(97), 97)]
    assert column(result, "p_value") == pytest.approx(expected, rel=1e-6)
    assert result.adj_r2 == pytest.approx(1 - (1 / 6) * 99 / 97)
    # F = (R²/2) / ((1 − R²)/97) = 5/2 · 97 = 242.5
    assert result.f_p_value == pytest.approx(sps.f.sf(242.5, 2, 97), rel=1e-6)


def test_perfect_fit_p_values_are_zero():
    result = key_drivers(hand_frame(noise=False), outcome="y", numeric=["x1", "x2"])
    assert column(result, "p_value") == pytest.approx([0.0, 0.0], abs=1e-12)
    assert result.f_p_value == pytest.approx(0.0, abs=1e-12)


def test_relative_weights_equal_squared_betas_for_orthogonal_drivers():
    frame = hand_frame(noise=True)
    corr = np.corrcoef(frame.select("x1", "x2", "y").to_numpy(), rowvar=False)
    weights = _relative_weights(corr[:2, :2], corr[:2, 2])
    assert weights == pytest.approx([4 / 6, 1 / 6], abs=1e-12)


# --- against direct fits ------------------------------------------------------------------------


def test_noisy_fit_matches_lstsq():
    frame = random_frame(500, 3, seed=1, shared=0.7)
    drivers = ["x1", "x2", "x3"]
    slopes, r2, p_values = ols(frame, "y", drivers)
    result = key_drivers(frame, outcome="y", numeric=drivers)
    assert result.r2 == pytest.approx(r2, rel=1e-10)
    assert column(result, "beta") == pytest.approx(standardized(frame, "y", drivers, slopes), rel=1e-9)
    assert column(result, "p_value") == pytest.approx(p_values, rel=1e-6, abs=1e-300)


def test_single_driver_matches_linregress():
    frame = random_frame(150, 1, seed=2)
    fit = sps.linregress(frame["x1"].to_numpy(), frame["y"].to_numpy())
    result = key_drivers(frame, outcome="y", numeric=["x1"])
    assert result.r2 == pytest.approx(fit.rvalue**2, rel=1e-10)
    assert column(result, "beta") == pytest.approx([fit.rvalue], rel=1e-10)  # one driver: beta = r
    assert column(result, "p_value") == pytest.approx([fit.pvalue], rel=1e-6)
    assert result.f_p_value == pytest.approx(fit.pvalue, rel=1e-6)  # F = t² with one driver
    assert column(result, "importance") == pytest.approx([1.0])


def test_p_values_on_a_tiny_frame_match_scipy_t():
    frame = pl.DataFrame(
        {
            "y": [3.0, 5.0, 4.0, 8.0, 6.0, 9.0, 7.0, 11.0],
            "x1": [1.0, 2.0, 2.0, 4.0, 3.0, 5.0, 3.0, 6.0],
            "x2": [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
        }
    )
    slopes, _, p_values = ols(frame, "y", ["x1", "x2"])
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2"], min_n=8)
    assert result.n == 8
    assert column(result, "p_value") == pytest.approx(p_values, rel=1e-9)
    assert column(result, "beta") == pytest.approx(standardized(frame, "y", ["x1", "x2"], slopes), rel=1e-9)


def test_shares_sum_to_one_and_parts_to_r2():
    frame = random_frame(300, 5, seed=3, shared=1.0).with_columns(
        team=pl.Series(np.random.default_rng(3).choice(["a", "b", "c", "d"], 300))
    )
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2", "x3", "x4", "x5"], categorical=["team"])
    assert result.drivers["importance"].sum() == pytest.approx(1.0, abs=1e-12)
    assert result.drivers["r2_part"].sum() == pytest.approx(result.r2, abs=1e-12)


def test_shapley_close_to_johnson_relative_weights_on_correlated_drivers():
    drivers = ["x1", "x2", "x3", "x4", "x5"]
    frame = random_frame(2000, 5, seed=4, shared=1.0)
    corr = np.corrcoef(frame.select(*drivers, "y").to_numpy(), rowvar=False)
    weights = _relative_weights(corr[:5, :5], corr[:5, 5])
    result = key_drivers(frame, outcome="y", numeric=drivers)
    assert weights.sum() == pytest.approx(result.r2, rel=1e-10)  # relative weights also sum to R²
    assert column(result, "importance") == pytest.approx(weights / weights.sum(), abs=0.02)


def brute_force_shapley(frame: pl.DataFrame, outcome: str, groups: dict[str, list[str]]) -> list[float]:
    """Shapley by refitting on the rows for every order of entry: mean gain in R² per group."""

    def r2(names: tuple[str, ...]) -> float:
        columns = [c for name in names for c in groups[name]]
        return ols(frame, outcome, columns)[1] if columns else 0.0

    orders = list(itertools.permutations(groups))
    gains = dict.fromkeys(groups, 0.0)
    for order in orders:
        for position, name in enumerate(order):
            gains[name] += r2(order[: position + 1]) - r2(order[:position])
    return [gain / len(orders) for gain in gains.values()]


def test_shapley_matches_brute_force_refits():
    frame = random_frame(200, 4, seed=5, shared=0.8)
    groups = {name: [name] for name in ["x1", "x2", "x3", "x4"]}
    result = key_drivers(frame, outcome="y", numeric=list(groups))
    assert column(result, "r2_part") == pytest.approx(brute_force_shapley(frame, "y", groups), abs=1e-10)


def test_shapley_of_a_categorical_group_matches_brute_force_refits():
    rng = np.random.default_rng(6)
    level = rng.choice(["a", "b", "c"], 200, p=[0.5, 0.3, 0.2])
    frame = random_frame(200, 3, seed=6, shared=0.5).with_columns(
        level=pl.Series(level), y=pl.col("y") + pl.Series(np.where(level == "b", 2.0, 0.0))
    )
    dummies = frame.select(
        b=(pl.col("level") == "b").cast(pl.Float64), c=(pl.col("level") == "c").cast(pl.Float64)
    )
    groups = {"x1": ["x1"], "x2": ["x2"], "x3": ["x3"], "level": ["b", "c"]}
    expected = brute_force_shapley(pl.concat([frame, dummies], how="horizontal"), "y", groups)
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2", "x3"], categorical=["level"])
    assert column(result, "r2_part") == pytest.approx(expected, abs=1e-10)


# --- robustness ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "dropped", "jitter"),
    [
        (["x1", "x2", "x3"], "x3", 0.0),  # x3 = x1 + x2: the later one goes
        (["x3", "x1", "x2"], "x2", 0.0),  # the same relation, x2 now comes last
        (["x1", "x2", "x3"], "x3", 1e-12),  # numerically collinear still counts
    ],
)
def test_collinear_driver_dropped(order, dropped, jitter):
    frame = random_frame(200, 2, seed=7)
    noise = np.random.default_rng(7).normal(scale=jitter, size=200)
    frame = frame.with_columns(x3=pl.col("x1") + pl.col("x2") + pl.Series(noise))
    result = key_drivers(frame, outcome="y", numeric=order)
    assert result.status == "ok"
    assert column(result, "driver") == order
    assert column(result, "note") == [("collinear" if d == dropped else None) for d in order]
    assert column(result, "kept") == [d != dropped for d in order]
    row = result.drivers.row(order.index(dropped), named=True)
    assert [row[c] for c in ("beta", "p_value", "importance", "r2_part")] == [None] * 4
    others = [d for d in order if d != dropped]
    alone = key_drivers(frame, outcome="y", numeric=others)
    assert result.r2 == pytest.approx(alone.r2, rel=1e-9)
    assert result.drivers.filter("kept")["beta"].to_list() == pytest.approx(column(alone, "beta"), rel=1e-9)


@pytest.mark.parametrize("constant", [pl.lit(3.0), pl.lit(None, dtype=pl.Float64)])
def test_constant_driver_noted_and_left_out(constant):
    frame = hand_frame(noise=True).with_columns(flat=constant)
    result = key_drivers(frame, outcome="y", numeric=["x1", "flat", "x2"])
    assert result.status == "ok"
    assert result.n == 100
    assert column(result, "note") == [None, "constant", None]
    assert column(result, "kept") == [True, False, True]
    assert column(result, "importance") == pytest.approx([0.8, None, 0.2])


def test_driver_constant_after_listwise_deletion_is_noted_and_its_rows_return():
    # "late" varies only in the rows where x2 is null, so with x2 in the fit it is constant
    frame = hand_frame(noise=True).with_columns(
        late=pl.when(pl.int_range(pl.len()) < 3).then(pl.int_range(pl.len())).otherwise(1).cast(pl.Float64),
        x2=pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col("x2")),
    )
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2", "late"], min_n=50)
    assert column(result, "note") == [None, None, "constant"]
    assert result.n == 97  # only x2's nulls are dropped once "late" is out


@pytest.mark.parametrize(
    ("frame", "numeric", "notes"),
    [
        (hand_frame(noise=True).with_columns(y=pl.lit(4.0)), ["x1", "x2"], [None, None]),
        (hand_frame(noise=True).with_columns(a=pl.lit(1.0), b=pl.lit(True)), ["a", "b"], ["constant"] * 2),
        (hand_frame(noise=True), [], []),
    ],
    ids=["constant outcome", "only constant drivers", "no drivers"],
)
def test_no_variance(frame, numeric, notes):
    result = key_drivers(frame, outcome="y", numeric=numeric)
    assert result.status == "no_variance"
    assert result.n == 100
    assert (result.r2, result.adj_r2, result.f_p_value) == (None, None, None)
    assert column(result, "note") == notes
    assert column(result, "kept") == [False] * len(numeric)


@pytest.mark.parametrize(
    ("frame", "n"),
    [
        (hand_frame(noise=True).head(DRIVER_MIN_RESPONSES - 1), DRIVER_MIN_RESPONSES - 1),
        (
            hand_frame(noise=True).with_columns(
                x1=pl.when(pl.col("x1").cum_count() == 5).then(None).otherwise("x1")
            ),
            99,
        ),
        (hand_frame(noise=True).head(0), 0),
        (pl.DataFrame(), 0),
    ],
    ids=["99 rows", "a null leaves 99", "no rows", "no columns"],
)
def test_too_few(frame, n):
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2"])
    assert (result.status, result.n, result.r2, result.adj_r2, result.f_p_value) == (
        "too_few",
        n,
        None,
        None,
        None,
    )
    expected = pl.DataFrame(
        {"driver": ["x1", "x2"], "kept": [False, False]}, schema_overrides={"kept": pl.Boolean}
    ).select(
        pl.col(name) if name in ("driver", "kept") else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in DRIVER_SCHEMA.items()
    )
    assert_frame_equal(result.drivers, expected)


def test_nulls_dropped_listwise():
    frame = hand_frame(noise=True).with_columns(
        y=pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise("y"),
        x1=pl.when(pl.int_range(pl.len()) == 1).then(None).otherwise("x1"),
        x2=pl.when(pl.int_range(pl.len()) == 2).then(float("nan")).otherwise("x2"),  # NaN counts as null
    )
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2"], min_n=50)
    complete = key_drivers(frame.slice(3), outcome="y", numeric=["x1", "x2"], min_n=50)
    assert result.n == 97
    assert result.r2 == pytest.approx(complete.r2, rel=1e-12)
    assert_frame_equal(result.drivers, complete.drivers)


def test_boolean_driver_counts_as_zero_one():
    frame = random_frame(120, 1, seed=8).with_columns(flag=pl.col("x1") > 0.3)
    as_bool = key_drivers(frame, outcome="y", numeric=["x1", "flag"])
    as_int = key_drivers(
        frame.with_columns(pl.col("flag").cast(pl.Int8)), outcome="y", numeric=["x1", "flag"]
    )
    assert as_bool.status == "ok"
    assert_frame_equal(as_bool.drivers, as_int.drivers)
    _, _, p_values = ols(frame.with_columns(pl.col("flag").cast(pl.Float64)), "y", ["x1", "flag"])
    assert column(as_bool, "p_value") == pytest.approx(p_values, rel=1e-6)


@pytest.mark.parametrize("dtype", [pl.String, pl.Categorical, pl.Enum(["c", "b", "a"])])
def test_categorical_group_f_test(dtype):
    rng = np.random.default_rng(9)
    level = rng.choice(["a", "b", "c"], 240, p=[0.5, 0.3, 0.2])  # "a" most frequent: the reference
    frame = random_frame(240, 2, seed=9).with_columns(
        y=pl.col("y") + pl.Series(np.select([level == "b", level == "c"], [1.5, -1.0], 0.0)),
        level=pl.Series(level).cast(dtype),
    )
    dummies = frame.select(
        b=(pl.col("level").cast(pl.String) == "b").cast(pl.Float64),
        c=(pl.col("level").cast(pl.String) == "c").cast(pl.Float64),
    )
    full = pl.concat([frame, dummies], how="horizontal")
    _, r2_full, _ = ols(full, "y", ["x1", "x2", "b", "c"])
    _, r2_reduced, _ = ols(full, "y", ["x1", "x2"])
    df = 240 - 4 - 1
    f = ((r2_full - r2_reduced) / 2) / ((1 - r2_full) / df)
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2"], categorical=["level"])
    assert result.r2 == pytest.approx(r2_full, rel=1e-10)
    row = result.drivers.row(2, named=True)
    assert (row["driver"], row["beta"], row["kept"]) == ("level", None, True)
    assert row["p_value"] == pytest.approx(sps.f.sf(f, 2, df), rel=1e-6)
    # the dummies change the model's df: the numeric t-tests use df = n − 4 − 1
    _, _, p_values = ols(full, "y", ["x1", "x2", "b", "c"])
    assert column(result, "p_value")[:2] == pytest.approx(p_values[:2], rel=1e-6)


def test_categorical_with_one_level_is_constant():
    frame = hand_frame(noise=True).with_columns(team=pl.lit("only"))
    result = key_drivers(frame, outcome="y", numeric=["x1", "x2"], categorical=["team"])
    assert column(result, "note") == [None, None, "constant"]
    assert result.r2 == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    ("numeric", "categorical"), [(["x1", "x1"], []), (["x1", "y"], []), (["x1"], ["x1"])]
)
def test_misnamed_drivers_raise(numeric, categorical):
    with pytest.raises(ValueError, match="distinct"):
        key_drivers(hand_frame(noise=True), outcome="y", numeric=numeric, categorical=categorical)


# --- importance × performance -------------------------------------------------------------------


def test_importance_performance_quadrants_by_hand():
    # placed drivers a–d: mean importance (0.4+0.3+0.2+0.1)/4 = 0.25, mean performance (60+90+80+70)/4 = 75.
    # e (not kept) and f (no performance) get no quadrant and do not move the cut lines.
    drivers = pl.DataFrame(
        {
            "driver": ["a", "b", "c", "d", "e", "f"],
            "importance": [0.4, 0.3, 0.2, 0.1, None, 0.5],
            "performance_pct": [60.0, 90.0, 80.0, 70.0, 10.0, None],
            "kept": [True, True, True, True, False, True],
        }
    )
    result = importance_performance(drivers)
    assert result.columns == [*drivers.columns, "quadrant"]
    assert result["quadrant"].dtype == pl.String
    assert result["quadrant"].to_list() == ["fix_first", "keep_up", "maintain", "lower_priority", None, None]
    assert set(QUADRANTS) == set(result["quadrant"].drop_nulls())


@pytest.mark.parametrize(
    ("importance", "performance", "quadrant"),
    [
        (0.25, 75.0, "keep_up"),  # exactly on both cut lines counts as high
        (0.25, 70.0, "fix_first"),
        (0.125, 75.0, "maintain"),
        (0.125, 70.0, "lower_priority"),
    ],
)
def test_importance_performance_cut_lines_are_inclusive(importance, performance, quadrant):
    # x and its mirror image about (0.25, 75) keep both means exactly there (binary-exact values);
    # p and q sit well clear of the lines.
    drivers = pl.DataFrame(
        {
            "driver": ["p", "q", "x", "mirror"],
            "importance": [0.375, 0.125, importance, 0.5 - importance],
            "performance_pct": [85.0, 65.0, performance, 150.0 - performance],
            "kept": [True, True, True, True],
        }
    )
    result = importance_performance(drivers)
    assert result["quadrant"].to_list()[:3] == ["keep_up", "lower_priority", quadrant]


def test_importance_performance_on_an_empty_frame():
    empty = pl.DataFrame(
        schema={
            "driver": pl.String,
            "importance": pl.Float64,
            "performance_pct": pl.Float64,
            "kept": pl.Boolean,
        }
    )
    assert importance_performance(empty).schema["quadrant"] == pl.String
    assert importance_performance(empty).height == 0


def test_importance_performance_cut_lines_from_reference_drivers():
    frame = pl.DataFrame(
        {
            "driver": ["resolution", "speed", "attitude", "reopened"],
            "importance": [0.50, 0.30, 0.18, 0.02],
            "performance_pct": [70.0, 80.0, 78.0, 95.0],
            "kept": [True, True, True, True],
        }
    )
    # Lines from the three items: importance mean (.5 + .3 + .18) / 3 = 0.3267, performance mean
    # (70 + 80 + 78) / 3 = 76. resolution: high, low → fix_first; speed: 0.30 < 0.3267, 80 ≥ 76 →
    # maintain; attitude: low, 78 ≥ 76 → maintain; reopened: low, 95 → maintain.
    placed = importance_performance(frame, reference=["resolution", "speed", "attitude"])
    assert placed["quadrant"].to_list() == ["fix_first", "maintain", "maintain", "maintain"]
    # Over all four the lines are 0.25 and 80.75: speed becomes important (0.30) and low (80) → fix_first.
    assert importance_performance(frame)["quadrant"].to_list() == [
        "fix_first",
        "fix_first",
        "lower_priority",
        "maintain",
    ]
