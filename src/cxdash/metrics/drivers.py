"""Key-driver analysis (METRICS.md "Statistics used"): standardized OLS coefficients with p-values,
each driver's Shapley share of R² (dominance analysis), and the importance × performance quadrant.

Unlike the other metrics this one fits a model, so it takes a collected frame: the caller selects
one row per survey answer with the outcome and the driver columns.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import polars as pl
from scipy import stats as sps

DRIVER_MIN_RESPONSES: Final = 100
QUADRANTS: Final = ("fix_first", "keep_up", "maintain", "lower_priority")
# Exact Shapley needs R² of every subset of drivers: 2^k small solves, instant up to ~12 drivers.
MAX_SHAPLEY_DRIVERS: Final = 16
# A driver whose correlation matrix with the drivers kept before it has an eigenvalue below this
# is (numerically) a linear combination of them: its coefficient would be noise, so it is dropped.
COLLINEAR_TOL: Final = 1e-8

DRIVER_SCHEMA: Final = pl.Schema(
    {
        "driver": pl.String,
        "beta": pl.Float64,
        "p_value": pl.Float64,
        "importance": pl.Float64,
        "r2_part": pl.Float64,
        "kept": pl.Boolean,
        "note": pl.String,
    }
)

Status = Literal["ok", "too_few", "no_variance"]
Note = Literal["constant", "collinear"]


@dataclass(frozen=True, slots=True)
class DriverAnalysis:
    """A key-driver fit: status, rows used, model fit, and one row per driver (DRIVER_SCHEMA).

    `too_few`: fewer than `min_n` rows, nothing fitted. `no_variance`: the outcome is constant or no
    driver is left after dropping constant and collinear ones. Model fields are None unless `ok`.
    """

    status: Status
    n: int
    r2: float | None
    adj_r2: float | None
    f_p_value: float | None
    drivers: pl.DataFrame


@dataclass(frozen=True, slots=True)
class _Group:
    """One driver's columns in the design matrix (a categorical driver has one per non-reference level)."""

    driver: str
    columns: tuple[int, ...]
    categorical: bool


@dataclass(frozen=True, slots=True)
class _DriverResult:
    beta: float | None
    p_value: float | None
    r2_part: float


def key_drivers(
    frame: pl.DataFrame,
    *,
    outcome: str,
    numeric: Sequence[str],
    categorical: Sequence[str] = (),
    min_n: int = DRIVER_MIN_RESPONSES,
) -> DriverAnalysis:
    """OLS of `outcome` on the drivers: standardized betas, p-values, R² and Shapley shares of R².

    Numeric drivers (Boolean as 0/1) come first, then categorical ones (dummies against the most
    frequent level); "the order given" is that order. Rows with a null (or NaN) outcome or used driver
    are dropped listwise. An empty frame or fewer than `min_n` rows gives `too_few`; a constant
    outcome or no usable driver gives `no_variance`. Raises ValueError only for a misuse: a driver
    named twice or as the outcome, or more than MAX_SHAPLEY_DRIVERS usable drivers.
    """
    asked = [*numeric, *categorical]
    _check_names(outcome, asked)
    if frame.height == 0:
        return _unfitted("too_few", 0, asked, {})
    values = _normalized(frame, outcome, numeric, categorical)
    used, active, constant = _usable_rows(values, outcome, asked, min_n)
    if used.height < min_n:
        return _unfitted("too_few", used.height, asked, {})
    notes: dict[str, Note] = dict.fromkeys(constant, "constant")
    if not active or used[outcome].n_unique() <= 1:
        return _unfitted("no_variance", used.height, asked, notes)
    groups, exprs = _design(used, active, set(categorical))
    corr = _correlation(used.select(*exprs, pl.col(outcome)).to_numpy())
    kept, collinear = _independent_groups(corr, groups)
    notes |= dict.fromkeys(collinear, "collinear")
    if not kept:
        return _unfitted("no_variance", used.height, asked, notes)
    if len(kept) > MAX_SHAPLEY_DRIVERS:
        msg = f"key_drivers: {len(kept)} drivers, at most {MAX_SHAPLEY_DRIVERS} for exact Shapley shares"
        raise ValueError(msg)
    return _fitted(corr, kept, used.height, asked, notes)


def importance_performance(drivers: pl.DataFrame, *, reference: Sequence[str] | None = None) -> pl.DataFrame:
    """Adds `quadrant` to a frame with driver, importance, performance_pct (0..100) and kept.

    Cut lines: among kept drivers with an importance and a performance (and among `reference` drivers
    when given, e.g. the rating items whose performances share one scale), high importance is
    importance ≥ their mean importance and high performance is performance_pct ≥ their mean
    performance_pct. fix_first = high importance, low performance; keep_up = high, high;
    maintain = low importance, high performance; lower_priority = low, low. A driver not kept or
    without importance or performance gets a null quadrant; an empty frame stays empty.
    """
    return drivers.with_columns(quadrant_expr(reference))


def quadrant_expr(reference: Sequence[str] | None = None) -> pl.Expr:
    """The quadrant of each driver against the mean cut lines (see `importance_performance`)."""
    placed = (
        pl.col("kept").fill_null(False)
        & pl.col("importance").is_not_null()
        & pl.col("performance_pct").is_not_null()
    )
    # The cut lines are means over the placed drivers only, so a dropped driver cannot move them.
    lines = placed if reference is None else placed & pl.col("driver").is_in(list(reference))
    high_importance = pl.col("importance") >= pl.col("importance").filter(lines).mean()
    high_performance = pl.col("performance_pct") >= pl.col("performance_pct").filter(lines).mean()
    fix_first, keep_up, maintain, lower_priority = QUADRANTS
    return (
        pl.when(~placed)
        .then(pl.lit(None, dtype=pl.String))
        .when(high_importance & ~high_performance)
        .then(pl.lit(fix_first))
        .when(high_importance)
        .then(pl.lit(keep_up))
        .when(high_performance)
        .then(pl.lit(maintain))
        .otherwise(pl.lit(lower_priority))
        .alias("quadrant")
    )


def _check_names(outcome: str, asked: Sequence[str]) -> None:
    if len(set(asked)) != len(asked) or outcome in asked:
        msg = f"key_drivers: drivers must be distinct and differ from the outcome {outcome!r}: {asked}"
        raise ValueError(msg)


def _normalized(
    frame: pl.DataFrame, outcome: str, numeric: Sequence[str], categorical: Sequence[str]
) -> pl.DataFrame:
    """Outcome and numeric drivers as Float64 (NaN as null), categorical drivers as String."""
    return frame.select(
        pl.col(outcome).cast(pl.Float64).fill_nan(None),
        *(pl.col(name).cast(pl.Float64).fill_nan(None) for name in numeric),
        *(pl.col(name).cast(pl.String) for name in categorical),
    )


def _usable_rows(
    values: pl.DataFrame, outcome: str, drivers: Sequence[str], min_n: int
) -> tuple[pl.DataFrame, list[str], list[str]]:
    """Rows with the outcome and every non-constant driver non-null; those drivers; the constant ones."""
    rows = values.filter(pl.col(outcome).is_not_null())
    # A driver with one value (or none) among its answers explains nothing; left in, an all-null
    # column would also empty the listwise rows.
    constant = [name for name in drivers if rows[name].drop_nulls().n_unique() <= 1]
    while True:
        active = [name for name in drivers if name not in constant]
        used = rows.drop_nulls(active)
        # Listwise deletion can leave a driver with one value: drop it too and take its rows back.
        newly = [name for name in active if used[name].n_unique() <= 1] if used.height >= min_n else []
        if not newly:
            return used, active, constant
        constant += newly


def _design(
    used: pl.DataFrame, active: Sequence[str], categorical: set[str]
) -> tuple[list[_Group], list[pl.Expr]]:
    """Design-matrix columns per driver: the value itself, or one dummy per non-reference level."""
    groups: list[_Group] = []
    exprs: list[pl.Expr] = []
    for name in active:
        levels = _dummy_levels(used[name]) if name in categorical else [None]
        columns = tuple(range(len(exprs), len(exprs) + len(levels)))
        for level in levels:
            value = pl.col(name) if level is None else (pl.col(name) == level).cast(pl.Float64)
            exprs.append(value.alias(f"__x{len(exprs)}"))
        groups.append(_Group(name, columns, categorical=name in categorical))
    return groups, exprs


def _dummy_levels(values: pl.Series) -> list[str]:
    """Levels that get a dummy: all but the most frequent (ties: the first by name), sorted."""
    counts = values.value_counts(name="__n").sort(["__n", values.name], descending=[True, False])
    return sorted(counts[values.name][1:].to_list())


def _correlation(matrix: np.ndarray) -> np.ndarray:
    """Correlation matrix of the columns (outcome last); every column has variance by construction."""
    centred = matrix - matrix.mean(axis=0)
    cross = centred.T @ centred
    scale = np.sqrt(np.diag(cross))
    corr = cross / np.outer(scale, scale)
    np.fill_diagonal(corr, 1.0)
    return corr


def _independent_groups(corr: np.ndarray, groups: Sequence[_Group]) -> tuple[list[_Group], list[str]]:
    """Groups that add full rank to the ones before them, and the names of those that do not."""
    kept: list[_Group] = []
    collinear: list[str] = []
    columns: list[int] = []
    for group in groups:
        trial = [*columns, *group.columns]
        block = corr[np.ix_(trial, trial)]
        if np.linalg.matrix_rank(block, tol=COLLINEAR_TOL, hermitian=True) < len(trial):
            collinear.append(group.driver)
            continue
        kept.append(group)
        columns = trial
    return kept, collinear


def _fitted(
    corr: np.ndarray, kept: Sequence[_Group], n: int, asked: Sequence[str], notes: dict[str, Note]
) -> DriverAnalysis:
    """The model on the kept groups, from the correlation matrix (standardized variables)."""
    columns = [column for group in kept for column in group.columns]
    corr_xx = corr[np.ix_(columns, columns)]
    corr_xy = corr[columns, -1]
    # Re-number each group's columns to positions in corr_xx.
    local = {column: position for position, column in enumerate(columns)}
    groups = [_Group(g.driver, tuple(local[c] for c in g.columns), categorical=g.categorical) for g in kept]
    k = len(columns)
    df_resid = n - k - 1
    r2 = _subset_r2(corr_xx, corr_xy, range(k))
    shares = _shapley_r2(corr_xx, corr_xy, [g.columns for g in groups])
    tests = _driver_tests(corr_xx, corr_xy, groups, r2, df_resid)
    results = {
        group.driver: _DriverResult(beta, p_value, float(part))
        for group, (beta, p_value), part in zip(groups, tests, shares, strict=True)
    }
    return DriverAnalysis(
        status="ok",
        n=n,
        r2=r2,
        adj_r2=1 - (1 - r2) * (n - 1) / df_resid if df_resid > 0 else None,
        f_p_value=_f_p(r2, k, 1 - r2, df_resid),
        drivers=_driver_frame(asked, results, r2, notes),
    )


def _subset_r2(corr_xx: np.ndarray, corr_xy: np.ndarray, columns: Sequence[int]) -> float:
    """R² of the outcome on some columns, from correlations alone (no pass over the rows)."""
    index = list(columns)
    if not index:
        return 0.0
    r = corr_xy[index]
    r2 = float(r @ np.linalg.solve(corr_xx[np.ix_(index, index)], r))
    return min(max(r2, 0.0), 1.0)  # rounding can step just outside [0, 1] on a perfect fit


def _shapley_r2(corr_xx: np.ndarray, corr_xy: np.ndarray, groups: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Each group's Shapley value of R² (= general dominance): its mean gain over all orders of entry."""
    count = len(groups)
    r2_of = np.array(
        [
            _subset_r2(corr_xx, corr_xy, [c for g in range(count) if mask >> g & 1 for c in groups[g]])
            for mask in range(1 << count)
        ]
    )
    # Weight of a subset of size s not holding the group: s!(k-s-1)!/k!, the share of orders in
    # which exactly that subset enters before it.
    weight = [
        math.factorial(size) * math.factorial(count - size - 1) / math.factorial(count)
        for size in range(count)
    ]
    values = np.zeros(count)
    for mask in range(1 << count):
        size = mask.bit_count()
        for g in range(count):
            if not mask >> g & 1:
                values[g] += weight[size] * (r2_of[mask | 1 << g] - r2_of[mask])
    return values


def _relative_weights(corr_xx: np.ndarray, corr_xy: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights of each column; they sum to R² (a cross-check on Shapley)."""
    eigenvalues, eigenvectors = np.linalg.eigh(corr_xx)
    # Λ = R^½: correlations of the columns with their closest orthogonal counterparts Z.
    root = eigenvectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T
    beta_z = np.linalg.solve(root, corr_xy)
    return (root**2) @ (beta_z**2)


def _driver_tests(
    corr_xx: np.ndarray, corr_xy: np.ndarray, groups: Sequence[_Group], r2: float, df_resid: int
) -> list[tuple[float | None, float | None]]:
    """(beta, p-value) per group: t-test for a numeric driver, partial F-test for a categorical one."""
    inverse = np.linalg.inv(corr_xx)
    beta = inverse @ corr_xy
    resid = max(1 - r2, 0.0)
    out: list[tuple[float | None, float | None]] = []
    for group in groups:
        if group.categorical:
            others = [c for c in range(len(corr_xy)) if c not in group.columns]
            gain = r2 - _subset_r2(corr_xx, corr_xy, others)
            out.append((None, _f_p(gain, len(group.columns), resid, df_resid)))
            continue
        (column,) = group.columns
        out.append((float(beta[column]), _t_p(beta[column], inverse[column, column], resid, df_resid)))
    return out


def _t_p(beta: float, inverse_diag: float, resid: float, df_resid: int) -> float | None:
    """Two-sided p of a standardized coefficient: se² = (1 − R²)/df · [R⁻¹]ⱼⱼ; None without df."""
    if df_resid <= 0:
        return None
    se = math.sqrt(resid / df_resid * inverse_diag)
    if se == 0:  # a perfect fit: any non-zero coefficient is certain
        return 0.0 if beta != 0 else 1.0
    return float(2 * sps.t.sf(abs(beta) / se, df_resid))


def _f_p(gain: float, q: int, resid: float, df_resid: int) -> float | None:
    """p of an F-test that `q` columns add `gain` to R² with (1 − R²) left over; None without df."""
    if df_resid <= 0:
        return None
    if gain <= 0:
        return 1.0
    if resid <= 0:
        return 0.0
    return float(sps.f.sf((gain / q) / (resid / df_resid), q, df_resid))


def _driver_frame(
    asked: Sequence[str], results: dict[str, _DriverResult], r2: float | None, notes: dict[str, Note]
) -> pl.DataFrame:
    """One row per driver asked for, in order; metrics null for drivers not in the fit."""
    rows = []
    for name in asked:
        result = results.get(name)
        # With R² = 0 there is nothing to share out: importance stays null.
        share = result.r2_part / r2 if result is not None and r2 else None
        rows.append(
            {
                "driver": name,
                "beta": result.beta if result else None,
                "p_value": result.p_value if result else None,
                "importance": share,
                "r2_part": result.r2_part if result else None,
                "kept": result is not None,
                "note": notes.get(name),
            }
        )
    return pl.DataFrame(rows, schema=DRIVER_SCHEMA)


def _unfitted(status: Status, n: int, asked: Sequence[str], notes: dict[str, Note]) -> DriverAnalysis:
    """A result without a model: every driver not kept, metric columns null."""
    return DriverAnalysis(
        status=status,
        n=n,
        r2=None,
        adj_r2=None,
        f_p_value=None,
        drivers=_driver_frame(asked, {}, None, notes),
    )
