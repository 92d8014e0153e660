"""SMART goals on `kpi_targets` rows (metric, team_id, period, target): checked before they are saved,
and their progress.

A goal is Specific and Measurable (a headline KPI of METRICS.md, for the company or one team),
Achievable in principle (a target the KPI can take: percentages 0–100, NPS −100–100, CSAT mean 1–5,
CES mean 1–7, counts, durations, money and rates ≥ 0) and Time-bound (one concrete quarter, month or
ISO week; the `*` "every period" rows of kpi_targets are standing targets, not goals).

Progress: gap = target − current; progress_pct = the share of the way from the baseline to the target
covered so far, 100 × (current − baseline) / (target − baseline), clipped to −100…100 (negative: moved
away from the target); achieved = the current value meets the target in the KPI's better direction.
"""

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, TypedDict

from cxdash.domain import SCORE_RANGES
from cxdash.errors import InputError
from cxdash.metrics.kpis import KPI_BY_NAME, KpiSpec
from cxdash.periods import parse_period

EVERY_PERIOD: Final = "*"
# The possible values of a KPI by its unit; "score" KPIs take their survey's scale (csat_mean → csat).
RANGE_BY_UNIT: Final[dict[str, tuple[float, float]]] = {"%": (0.0, 100.0), "points": (-100.0, 100.0)}
NON_NEGATIVE: Final = (0.0, math.inf)
PERIOD_ADVICE: Final = "Use a quarter like 2026Q3, a month like 2026-07 or an ISO week like 2026-W27."


@dataclass(frozen=True, slots=True)
class Goal:
    """A validated goal: `period` is the normalised label (e.g. 2026Q3), team_id None = whole company."""

    metric: str
    team_id: str | None
    period: str
    target: float

    @property
    def higher_is_better(self) -> bool | None:
        return KPI_BY_NAME[self.metric].higher_is_better


class GoalProgress(TypedDict):
    gap: float | None
    progress_pct: float | None
    achieved: bool | None


def target_range(spec: KpiSpec) -> tuple[float, float]:
    """The values a KPI can take (low, high), high = inf when unbounded."""
    if spec.unit == "score":
        low, high = SCORE_RANGES[spec.name.split("_")[0]]
        return float(low), float(high)
    return RANGE_BY_UNIT.get(spec.unit, NON_NEGATIVE)


def _range_text(low: float, high: float) -> str:
    """Language-neutral range text for messages and translations: "0–100", or "≥ 0" when unbounded."""
    return f"≥ {low:g}" if math.isinf(high) else f"{low:g}–{high:g}"


def _check_metric(metric: str) -> KpiSpec:
    spec = KPI_BY_NAME.get(metric)
    if spec is None:
        known = ", ".join(KPI_BY_NAME)
        raise InputError(
            f"'{metric}' is not a KPI, so the goal cannot be measured. Choose one of: {known}.",
            key="goals.unknown_metric",
            metric=metric,
            metrics=known,
        )
    return spec


def _check_period(period: str | None) -> str:
    text = (period or "").strip()
    if text in ("", EVERY_PERIOD):
        raise InputError(
            "A goal needs one period as its deadline ('*', every period, is a standing target, not a "
            f"goal). {PERIOD_ADVICE}",
            key="goals.no_period",
            period=text,
        )
    try:
        return parse_period(text).label
    except InputError as exc:
        advice = "" if exc.key == "errors.not_a_period" else f" {PERIOD_ADVICE}"
        raise InputError(
            f"The goal's period is not valid: {exc}{advice}",
            key="goals.bad_period",
            period=text,
            detail=str(exc),
        ) from exc


def _check_target(spec: KpiSpec, target: float) -> float:
    low, high = target_range(spec)
    number = None if isinstance(target, bool) else _as_number(target)
    if number is None or not math.isfinite(number) or not low <= number <= high:
        allowed = _range_text(low, high)
        between = f"of at least {low:g}" if math.isinf(high) else f"from {low:g} to {high:g}"
        raise InputError(
            f"The target of {spec.name} cannot be {target!r}: {spec.name} is always a number {between} "
            f"({spec.unit}). Enter a target in that range.",
            key="goals.out_of_range",
            metric=spec.name,
            target=str(target),
            allowed=allowed,
            unit=spec.unit,
        )
    return number


def _as_number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]  # numbers and numeric text
    except (TypeError, ValueError):
        return None


def _check_team(team_id: str | None, teams: Collection[str]) -> str | None:
    if team_id is not None and team_id not in teams:
        known = ", ".join(sorted(teams))
        raise InputError(
            f"There is no team '{team_id}'. Choose one of: {known}, or no team for a company-wide goal.",
            key="goals.unknown_team",
            team=team_id,
            teams=known,
        )
    return team_id


def validate_goal(
    metric: str, team_id: str | None, period: str | None, target: float, *, teams: Collection[str]
) -> Goal:
    """The goal, checked in the order metric, period, target, team; InputError (goals.*) on the first
    problem, saying what to do."""
    spec = _check_metric(metric)
    label = _check_period(period)
    number = _check_target(spec, target)
    return Goal(metric=spec.name, team_id=_check_team(team_id, teams), period=label, target=number)


def goal_progress(
    baseline: float | None, current: float | None, target: float, *, higher_is_better: bool | None
) -> GoalProgress:
    """Gap, progress and achievement of `current` towards `target` from `baseline`.

    gap is null without a current value; progress_pct is null without a baseline or current value, or
    when the baseline already equals the target (no way to cover); achieved is null without a current
    value or for KPIs with no better direction (volumes).
    """
    if current is None:
        return GoalProgress(gap=None, progress_pct=None, achieved=None)
    progress = None
    if baseline is not None and baseline != target:
        progress = max(-100.0, min(100.0, 100 * (current - baseline) / (target - baseline)))
    achieved = None
    if higher_is_better is not None:
        achieved = current >= target if higher_is_better else current <= target
    return GoalProgress(gap=target - current, progress_pct=progress, achieved=achieved)
