"""The headline KPIs of a period and scope with their previous period, ready for JSON or a table."""

import unicodedata
from datetime import datetime

import polars as pl

from cxdash import stats
from cxdash.errors import InputError
from cxdash.i18n import Translator
from cxdash.load import Frames
from cxdash.metrics.compare import compare_periods, resolve_targets
from cxdash.metrics.kpis import DURATION_KPIS, SERVED_CUSTOMER_KPIS, KpiOptions
from cxdash.metrics.scope import Scope, scoped
from cxdash.periods import DataSpan, Period, parse_period
from cxdash.views.overview import KPI_GROUPS

EVERYTHING = Scope()
DEFAULT_OPTIONS = KpiOptions()


def check_scope(scope: Scope, teams: pl.DataFrame) -> None:
    """InputError for a team that does not exist."""
    unknown = sorted(set(scope.teams) - set(teams["team_id"].to_list()))
    if unknown:
        known = ", ".join(sorted(teams["team_id"].to_list()))
        raise InputError(
            f"Unknown team {', '.join(unknown)}. Teams: {known}.",
            key="errors.unknown_team",
            team=", ".join(unknown),
            known=known,
        )


def kpi_report(
    frames: Frames,
    period: Period,
    *,
    span: DataSpan,
    tz: str,
    scope: Scope = EVERYTHING,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> dict:
    """JSON-ready report: every headline KPI with value, N, the previous period and last year (changes
    and their significance), the target, its definition, and why a value is null when it is not for
    lack of data; the clock durations are measured on, with the years whose public holidays the
    business clock lacks (`warnings`). Full precision."""
    in_scope = scoped(frames, scope)
    compared = compare_periods(in_scope, period, span=span, tz=tz, options=options)
    targets = resolve_targets(in_scope.kpi_targets.collect(), period_label=period.label, teams=scope.teams)
    window = compared.current.window
    previous, last_year = compared.previous, compared.last_year
    uncovered = (
        uncovered_holiday_years(frames, first_year=window.start.year, last_year=span.data_as_of.year)
        if options.clock == "business"
        else []
    )
    kpis = {}
    for row in compared.kpis(targets):
        name = row.spec.name
        entry = {
            "value": row.now.value,
            "n": row.now.n,
            "previous": previous.kpis[name].value if previous else None,
            "previous_n": previous.kpis[name].n if previous else 0,
            "change": row.vs_previous.delta,
            "change_per_day_of_data": row.vs_previous.adjusted,
            "p_value": row.vs_previous.p_value,
            "last_year": last_year.kpis[name].value if last_year else None,
            "last_year_n": last_year.kpis[name].n if last_year else 0,
            "change_vs_last_year": row.vs_last_year.delta,
            "p_value_vs_last_year": row.vs_last_year.p_value,
            "target": row.target,
            "status": row.status,
            "unit": row.spec.unit,
            "customers_served_only": in_scope.ticket_filtered and name in SERVED_CUSTOMER_KPIS,
            "definition": (row.spec.compute.__doc__ or "").strip(),
        }
        if name in DURATION_KPIS:
            entry["clock"] = options.clock
            entry["definition"] += " " + CLOCK_DEFINITIONS[options.clock]
        if row.now.reason:
            entry["reason"] = row.now.reason
        kpis[name] = entry
    return {
        "period": period.label,
        "previous_period": period.previous().label,
        "last_year_period": period.same_last_year().label,
        "running": window.running,
        "as_of": window.as_of.isoformat(),
        "data_as_of": span.data_as_of.isoformat(),
        "timezone": tz,
        "scope": scope.as_dict(),
        "customers": "served" if in_scope.ticket_filtered else "all",
        "options": {
            "csat_threshold": options.csat_threshold,
            "churn_window_days": options.churn_window_days,
            "clock": options.clock,
        },
        "clock": options.clock,
        "uncovered_holiday_years": uncovered,
        "warnings": [HOLIDAYS_MISSING.format(years=", ".join(map(str, uncovered)))] if uncovered else [],
        "kpis": kpis,
    }


CLOCK_DEFINITIONS = {
    "calendar": "Clock: calendar hours (elapsed time).",
    "business": "Clock: business hours (working time of the ticket's team calendar; an SLA policy on "
    "the calendar clock counts elapsed time).",
}
HOLIDAYS_MISSING = (
    "The installed holiday data (chinese_calendar) does not cover {years}: business hours there count "
    "public holidays as working days. Upgrade chinese_calendar."
)


def uncovered_holiday_years(frames: Frames, *, first_year: int, last_year: int) -> list[int]:
    """Years from `first_year` to `last_year` whose public holidays the business calendars need but the
    installed holiday data lacks."""
    return [y for y in frames.working_hours.uncovered_years if first_year <= y <= last_year]


SIGNIFICANT, PER_DAY, SERVED = "*", "†", "‡"  # footnote marks; narrow in a terminal
GAP = "  "
INDENT = "  "


def format_table(report: dict, *, lang: str) -> str:
    """A plain-text table of one report for people: catalogue labels grouped like the Overview, values
    rounded with their units, changes marked (significant, per day of data, customers served) with
    footnotes, and columns that line up with Chinese text."""
    t = Translator(lang)
    kpis = report["kpis"]
    grouped = [
        (t(f"overview.group_{group}"), [n for n in names if n in kpis]) for group, names in KPI_GROUPS.items()
    ]
    others = [n for n in kpis if all(n not in names for names in KPI_GROUPS.values())]
    grouped.append((t("table.group_other"), others))
    header = (
        t("table.col_kpi"),
        t("table.col_value"),
        t("table.col_n"),
        t("table.col_previous"),
        t("table.col_change"),
    )
    sections = [(title, [_row(t, name, kpis[name]) for name in names]) for title, names in grouped if names]
    cells = [row for _, rows in sections for row in rows if len(row) > 2]
    widths = [max(_width(row[i]) for row in [header, *cells]) for i in range(len(header))]
    widths[0] = max([widths[0], *(_width(INDENT + row[0]) for _, rows in sections for row in rows)])

    lines = [*_heading(t, report), "", _line(header, widths)]
    lines.append("-" * _width(lines[-1]))
    for title, rows in sections:
        lines.append(title)
        for row in rows:
            if len(row) == 2:  # a value null for a reason: the reason spans the figures
                lines.append((_pad(INDENT + row[0], widths[0]) + GAP + row[1]).rstrip())
            else:
                lines.append(_line(row, widths, indent=INDENT))
    used = "".join(row[0] + "".join(row[5:]) for _, rows in sections for row in rows)
    notes = [
        t("table.note_significant", mark=SIGNIFICANT, alpha=stats.ALPHA) if SIGNIFICANT in used else "",
        t("table.note_per_day", mark=PER_DAY) if PER_DAY in used else "",
        t("table.note_served", mark=SERVED) if SERVED in used else "",
    ]
    return "\n".join(lines + [""] * any(notes) + [note for note in notes if note])


def _line(cells: tuple[str, ...], widths: list[int], *, indent: str = "") -> str:
    """The label left-aligned, the figures right-aligned, then any marks."""
    figures = [_pad(cell, width, right=True) for cell, width in zip(cells[1:5], widths[1:], strict=True)]
    return GAP.join([_pad(indent + cells[0], widths[0]), *figures, *cells[5:]]).rstrip()


def _heading(t: Translator, report: dict) -> list[str]:
    """The period, whether it is still running, as_of in the display timezone, the scope, the clock of
    durations (and the years the holiday data lacks)."""
    tz = report["timezone"]
    when = t.datetime(datetime.fromisoformat(report["as_of"]), tz)
    state = t("table.running" if report["running"] else "table.as_of", when=when, tz=tz)
    scope = t("table.scope", scope=scope_text(t, report["scope"]))
    previous = t("table.compared_with", previous=period_text(t, report["previous_period"]))
    clock = report.get("clock", "calendar")
    lines = [
        f"{t('table.title', period=period_text(t, report['period']))} · {state}",
        f"{scope} · {previous}",
        t(f"table.clock_{clock}"),
    ]
    if report.get("uncovered_holiday_years"):
        years = t("table.list_separator").join(map(str, report["uncovered_holiday_years"]))
        lines.append(t("table.holidays_missing", years=years))
    return lines


def _row(t: Translator, name: str, kpi: dict) -> tuple[str, ...]:
    """(label, value, N, previous, change, marks), or (label, reason) for a value null for a reason."""
    label = t(f"kpi.{name}.label") + (f" {SERVED}" if kpi.get("customers_served_only") else "")
    if kpi["value"] is None and kpi.get("reason"):
        key = f"reason.{kpi['reason']}"
        return label, t(key) if t.has(key) else kpi["reason"]
    unit = kpi["unit"]
    p_value = kpi.get("p_value")
    marks = (SIGNIFICANT if p_value is not None and p_value < stats.ALPHA else "") + (
        PER_DAY if kpi.get("change_per_day_of_data") and kpi.get("change") is not None else ""
    )
    return (
        label,
        shown_value(t, kpi["value"], unit),
        f"{kpi['n']:,}",
        shown_value(t, kpi["previous"], unit),
        shown_change(t, kpi.get("change"), unit),
        marks,
    )


def shown_value(t: Translator, value: float | None, unit: str) -> str:
    """A value as a manager reads it: ¥ in full with 2 decimals, NPS points signed, else as on a card."""
    if value is None:
        return "—"
    if unit == "currency":
        return t.money(value, compact=False)
    if unit == "points":
        rounded = round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
        return f"{rounded:+,.1f}" if rounded else "0.0"
    return t.kpi_value(value, unit)


def shown_change(t: Translator, delta: float | None, unit: str) -> str:
    """A signed change in the value's unit (percentages in points); "—" without a comparison."""
    if delta is None:
        return "—"
    if unit == "currency":
        rounded = round(delta, 2) + 0.0
        sign = "+" if rounded > 0 else "-" if rounded < 0 else ""
        return sign + t.money(abs(rounded), compact=False)
    return t.kpi_delta(delta, unit) or "—"


def period_text(t: Translator, label: str) -> str:
    try:
        return t.period(parse_period(label))
    except InputError:
        return label


def scope_text(t: Translator, scope: dict[str, list[str]]) -> str:
    """The filters in words, e.g. "团队 T01、T02;渠道 在线聊天"; the whole company without filters."""
    sep = t("table.list_separator")
    parts = [
        (t("filters.team"), scope.get("teams", [])),
        (t("filters.channel"), [t(f"channel.{c}") for c in scope.get("channels", [])]),
        (t("filters.segment"), [t(f"segment.{s}") for s in scope.get("segments", [])]),
        (t("filters.region"), scope.get("regions", [])),
    ]
    words = [t("table.scope_part", name=name, values=sep.join(values)) for name, values in parts if values]
    return t("table.scope_separator").join(words) or t("overview.scope_all")


def _width(text: str) -> int:
    """Terminal columns: wide and full-width (CJK) characters take two, combining marks none."""
    return sum(
        2 if unicodedata.east_asian_width(c) in ("W", "F") else 0 if unicodedata.combining(c) else 1
        for c in text
    )


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(width - _width(text), 0)
    return fill + text if right else text + fill
