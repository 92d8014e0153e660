"""Settings as data: one frozen dataclass built by a pure function from the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cxdash.business_hours import CLOCKS, Clock
from cxdash.errors import InputError

DEFAULT_DB_URL = "sqlite:///data/cxdash.db"


@dataclass(frozen=True, slots=True)
class TierThresholds:
    """Value-tier and lifecycle rules of METRICS.md (the what-if sliders start here)."""

    m_vip: float = 10_000.0  # monetary, 365 days, currency
    f_vip: int = 12  # completed orders, 365 days
    m_high: float = 4_000.0
    f_high: int = 10
    r_risk_days: int = 90


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    display_tz: str = "Asia/Shanghai"
    currency: str = "CNY"
    lang: str = "zh"
    csat_threshold: int = 4
    churn_window_days: int = 180
    clock: Clock = "calendar"  # durations in calendar or business hours, until a page or --clock says
    tiers: TierThresholds = TierThresholds()
    session_secret: str = ""
    session_idle_min: int = 30
    session_max_hours: int = 12
    severity_weights: tuple[float, float, float, float] = (8.0, 4.0, 2.0, 1.0)  # severity 1 … 4
    # OLA targets in minutes: registered → assigned, assigned → first action, resolved → feedback request
    ola_targets: tuple[int, int, int] = (30, 240, 1440)
    # CXDASH_SOURCE=aggregates: the app reads the per-day aggregates only, never the raw rows (data
    # beyond what one process holds): the Overview's cards and trends; the other pages say why not.
    aggregates_only: bool = False


def settings_from(env: Mapping[str, str], *, db_url: str | None = None) -> Settings:
    """Settings from `CXDASH_*` variables; an explicit `db_url` (e.g. `--db`) wins."""
    defaults = Settings()
    return Settings(
        db_url=db_url or env.get("CXDASH_DB_URL") or defaults.db_url,
        display_tz=env.get("CXDASH_TZ", defaults.display_tz),
        currency=env.get("CXDASH_CURRENCY", defaults.currency),
        lang=env.get("CXDASH_LANG", defaults.lang),
        csat_threshold=int(env.get("CXDASH_CSAT_THRESHOLD", defaults.csat_threshold)),
        churn_window_days=int(env.get("CXDASH_CHURN_WINDOW_DAYS", defaults.churn_window_days)),
        clock=clock_setting(env.get("CXDASH_CLOCK", defaults.clock)),
        session_secret=env.get("CXDASH_SESSION_SECRET", ""),
        session_idle_min=int(env.get("CXDASH_SESSION_IDLE_MIN", defaults.session_idle_min)),
        session_max_hours=int(env.get("CXDASH_SESSION_MAX_HOURS", defaults.session_max_hours)),
        ola_targets=ola_targets_setting(env["CXDASH_OLA_TARGETS"])
        if "CXDASH_OLA_TARGETS" in env
        else defaults.ola_targets,
        aggregates_only=source_setting(env.get("CXDASH_SOURCE", "raw")),
    )


SOURCES = ("raw", "aggregates")


def source_setting(value: str) -> bool:
    """CXDASH_SOURCE: `raw` (default) or `aggregates` (any case, blanks ignored) → aggregates only;
    InputError otherwise."""
    source = value.strip().lower()
    if source not in SOURCES:
        raise InputError(
            f"CXDASH_SOURCE must be raw or aggregates, not {value!r}. Set it to aggregates to read the "
            "per-day aggregates only (build them with `python -m cxdash aggregates`), or unset it.",
            key="aggregates.bad_source",
            value=value,
        )
    return source == "aggregates"


def clock_setting(value: str) -> Clock:
    """CXDASH_CLOCK: `calendar` or `business` (any case, blanks ignored); InputError otherwise."""
    clock = value.strip().lower()
    if clock not in CLOCKS:
        raise InputError(
            f"CXDASH_CLOCK must be {' or '.join(CLOCKS)}, not {value!r}. "
            "Set it to business for durations in working hours, or unset it for calendar hours.",
            key="errors.bad_clock_setting",
            value=value,
        )
    return clock  # type: ignore[return-value]


def ola_targets_setting(value: str) -> tuple[int, int, int]:
    """CXDASH_OLA_TARGETS: "30, 240, 1440" (minutes for assign, first action, feedback request);
    InputError (key ola.bad_targets) otherwise."""
    from cxdash.metrics.ola import parse_ola_targets  # here: cxdash.metrics imports config

    targets = parse_ola_targets(value)
    return (targets.assign_min, targets.first_action_min, targets.feedback_request_min)


def current_settings(*, db_url: str | None = None) -> Settings:
    """Settings from this process's environment."""
    return settings_from(os.environ, db_url=db_url)


def with_definitions(settings: Settings, stored: Mapping[str, str]) -> Settings:
    """The settings with the definitions an admin set in the database (app_settings), which win over
    the environment's; a stored value that is not valid is ignored (the ledger shows it)."""
    from dataclasses import replace

    from cxdash.db.definitions import parse_definition

    changes: dict[str, object] = {}
    for key, text in stored.items():
        try:
            changes[key] = parse_definition(key, text)
        except InputError:
            continue
    return replace(settings, **changes) if changes else settings
