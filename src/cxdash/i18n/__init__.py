"""Message catalogues (zh, en) and language-aware number, date and period formatting."""

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from cxdash.periods import Period

LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of a language, keyed like `kpi.csat_pct.label`."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    text = resources.files("cxdash.i18n").joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def normalise_language(value: str | None) -> str:
    """A supported language code for a setting such as `zh_CN` or `en-US`; Chinese by default."""
    code = (value or "zh").split("_")[0].split("-")[0].lower()
    return code if code in LANGUAGES else "zh"


@dataclass(frozen=True, slots=True)
class Translator:
    """Messages and formats of one language. A missing key comes back as the key itself (tests catch it)."""

    lang: str

    def __call__(self, key: str, **values: object) -> str:
        message = catalogue(self.lang).get(key)
        if message is None:
            return key
        return message.format(**values) if values else message

    def has(self, key: str) -> bool:
        return key in catalogue(self.lang)

    # Numbers -----------------------------------------------------------------------------------------
    def number(self, value: float | None, decimals: int = 0) -> str:
        return "—" if value is None else f"{value:,.{decimals}f}"

    def money(self, value: float | None, *, compact: bool = True) -> str:
        """Currency; compact uses 万/亿 in Chinese and K/M in English."""
        if value is None:
            return "—"
        symbol = self("unit.currency")
        if not compact:
            return f"{symbol}{value:,.2f}"
        size = abs(value)
        if self.lang == "zh":
            if size >= 1e8:
                return f"{symbol}{value / 1e8:,.2f}亿"
            if size >= 1e4:
                return f"{symbol}{value / 1e4:,.2f}万"
            return f"{symbol}{value:,.2f}"
        if size >= 1e6:
            return f"{symbol}{value / 1e6:,.2f}M"
        if size >= 1e3:
            return f"{symbol}{value / 1e3:,.1f}K"
        return f"{symbol}{value:,.2f}"

    def kpi_value(self, value: float | None, unit: str) -> str:
        """A KPI value with its unit, as shown on a card."""
        if value is None:
            return "—"
        if unit == "%":
            return f"{value:,.1f}%"
        if unit == "currency":
            return self.money(value)
        if unit == "count":
            return self.number(value)
        if unit == "score":
            return f"{value:,.2f}"
        suffix = self(f"unit.{_unit_key(unit)}")
        return f"{value:,.1f} {suffix}".rstrip()

    def kpi_delta(self, delta: float | None, unit: str) -> str | None:
        """A change with its sign, rounded as shown (never "-0.0"); percentages change in points."""
        if delta is None:
            return None
        decimals = {"count": 0, "score": 2, "currency": 2}.get(unit, 1)
        delta = round(delta, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
        sign = "+" if delta > 0 else ""
        if unit == "%":
            return f"{sign}{delta:,.1f} {'个百分点' if self.lang == 'zh' else 'pp'}"
        if unit == "currency":
            return sign + self.money(delta) if delta >= 0 else "-" + self.money(-delta)
        if unit in ("count", "score"):
            return f"{sign}{delta:,.{decimals}f}"
        return f"{sign}{delta:,.1f} {self(f'unit.{_unit_key(unit)}')}".rstrip()

    # Dates -------------------------------------------------------------------------------------------
    def period(self, period: Period) -> str:
        start = period.start_date
        if period.kind == "quarter":
            return self("period.quarter", year=start.year, quarter=(start.month - 1) // 3 + 1)
        if period.kind == "month":
            return self(
                "period.month", year=start.year, month=start.month, month_name=_MONTHS_EN[start.month - 1]
            )
        if period.kind == "week":
            return self("period.week", year=period.label[:4], week=int(period.label[-2:]))
        last = period.end_date.toordinal() - 1
        return self("period.custom", start=self.date(start), end=self.date(type(start).fromordinal(last)))

    def date(self, day: object) -> str:
        if self.lang == "zh":
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"

    def datetime(self, instant: datetime, tz: str) -> str:
        local = instant.astimezone(ZoneInfo(tz))
        return f"{self.date(local.date())} {local:%H:%M}"


def _unit_key(unit: str) -> str:
    return {"%": "pct", "per 1k orders": "per_1k_orders"}.get(unit, unit)
