"""The headline KPIs read from the per-day aggregates instead of the raw rows (METRICS.md definitions).

Counts, sums, shares, means and SLA attainment are exact; medians and percentiles come from the duration
histograms, within ±(1% + 0.5 s) of the exact value (definitions). Scope: the whole company, teams
and channels (the grain of the aggregates). What the aggregates cannot answer says so with a reason:
under a team or channel filter the customer-side KPIs are about the customers served in the period,
which needs the raw rows (`not_in_aggregates`); segment and region filters and the business clock
are refused (InputError), so nothing silently means something else.
"""

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from cxdash.aggregates.definitions import DURATION_EDGES_S, epoch_micros
from cxdash.aggregates.store import AggregateMeta, AggregateSet, DayRange
from cxdash.errors import InputError
from cxdash.metrics.kpis import (
    DEFAULT_OPTIONS,
    HEADLINE_KPIS,
    NOT_ENOUGH_HISTORY,
    UNDEFINED_UNDER_TICKET_FILTER,
    KpiOptions,
    KpiValue,
    Window,
)
from cxdash.metrics.scope import Scope

NOT_IN_AGGREGATES = "not_in_aggregates"
EVERYTHING = Scope()


def _share(part: int, n: int) -> KpiValue:
    return KpiValue(value=100 * part / n if n else None, n=n)


def _count(n: int) -> KpiValue:
    return KpiValue(value=float(n), n=n)


def _sum(frame: pl.DataFrame, column: str) -> int:
    return int(frame[column].sum() or 0) if frame.height else 0


def _missing(reason: str) -> KpiValue:
    return KpiValue(value=None, n=0, reason=reason)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def _is_local_midnight(instant: datetime, tz: str) -> bool:
    local = instant.astimezone(ZoneInfo(tz))
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def bin_middle_s(bin_index: int) -> float:
    """The value a histogram bin stands for: its middle; 0 below the first edge (negative durations),
    the last edge above it."""
    if bin_index <= 0:
        return 0.0
    if bin_index >= len(DURATION_EDGES_S):
        return float(DURATION_EDGES_S[-1])
    return (DURATION_EDGES_S[bin_index - 1] + DURATION_EDGES_S[bin_index]) / 2


def histogram_quantile_s(histogram: pl.DataFrame, q: float) -> tuple[float | None, int]:
    """(the q-quantile in seconds, N) of a histogram (`bin`, `tickets`), interpolated linearly between
    the two order statistics like the raw path; null for N = 0."""
    counts = histogram.group_by("bin").agg(pl.col("tickets").sum()).sort("bin")
    n = _sum(counts, "tickets")
    if n == 0:
        return None, 0
    rank = (n - 1) * q
    low = math.floor(rank)
    bins = counts["bin"].to_list()
    ends = counts["tickets"].cum_sum().to_list()  # order statistics [ends[i-1], ends[i]) are in bins[i]

    def middle_of(order_statistic: int) -> float:
        return bin_middle_s(next(b for b, end in zip(bins, ends, strict=True) if end > order_statistic))

    lower = middle_of(low)
    upper = middle_of(min(low + 1, n - 1))
    return lower + (rank - low) * (upper - lower), n


class AggregateReader:
    """The headline KPIs of one window and scope from an aggregate set."""

    def __init__(self, aggregates: AggregateSet, window: Window, scope: Scope, options: KpiOptions) -> None:
        meta = aggregates.meta
        if scope.filters_customers:
            raise InputError(
                "Segment and region filters need the raw rows: the aggregates are by team and channel."
            )
        if options.clock != "calendar":
            raise InputError("The aggregates hold calendar-clock durations; use --clock calendar.")
        if window.data_as_of != meta.data_as_of:
            raise InputError(
                f"The aggregates describe the data as of {meta.data_as_of.isoformat()}, not "
                f"{window.data_as_of.isoformat()}: rebuild them with `python -m cxdash aggregates`."
            )
        for instant in (window.start, window.end):
            if not _is_local_midnight(instant, meta.tz):
                raise InputError(f"Periods must be whole days in {meta.tz} to be read from the aggregates.")
        self.tables, self.meta, self.window, self.scope, self.options = (
            aggregates.tables,
            meta,
            window,
            scope,
            options,
        )
        self.start_day, self.end_day = local_date(window.start, meta.tz), local_date(window.end, meta.tz)

    # -- selections ----------------------------------------------------------------------------
    def _scoped(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Rows of the scope's teams and channels (rows without a ticket only for the whole company)."""
        if self.scope.teams:
            frame = frame.filter(pl.col("team_id").is_in(list(self.scope.teams)))
        if self.scope.channels:
            frame = frame.filter(pl.col("channel").is_in(list(self.scope.channels)))
        return frame

    def _in_period(self, name: str, *, scoped: bool = True) -> pl.DataFrame:
        frame = self.tables[name].filter(
            pl.col("day").is_between(self.start_day, self.end_day, closed="left")
        )
        return self._scoped(frame) if scoped else frame

    def _until_day(self, until: datetime) -> date | None:
        """The closing days at or before `until` are those before the returned day; None: all of them
        (nothing happened after data_as_of)."""
        if until >= self.meta.data_as_of:
            return None
        if not _is_local_midnight(until, self.meta.tz):
            raise InputError(f"{until.isoformat()} is not a whole day in {self.meta.tz}.")
        return local_date(until, self.meta.tz)

    def _closed_by(self, frame: pl.DataFrame, until: datetime, column: str = "closing_day") -> pl.DataFrame:
        day = self._until_day(until)
        return frame if day is None else frame.filter(pl.col(column) < day)

    def _latest_orders(self, until: datetime, since: datetime) -> pl.DataFrame:
        """Per customer with an order after `since`, the latest and second latest completed order at or
        before `until` (µs; a second latest at or before `since` may be missing: callers compare both
        with `since` or later). Orders after `since` close on or after its local date."""
        days = self._closed_by(self.tables["agg_customer_days"], until).filter(
            pl.col("closing_day") >= local_date(since, self.meta.tz)
        )
        instants = pl.concat(
            [
                days.select("customer_id", pl.col("last_ordered_us").alias("t")),
                days.select("customer_id", pl.col("prev_ordered_us").alias("t")).drop_nulls(),
            ]
        )
        return instants.group_by("customer_id").agg(
            pl.col("t").max().alias("latest"),
            pl.when(pl.len() >= 2).then(pl.col("t").top_k(2).min()).alias("second"),
        )

    def _lacks_history(self, since: datetime) -> bool:
        return self.meta.history_from is not None and since < self.meta.history_from

    # -- the KPIs --------------------------------------------------------------------------------
    def ticket_kpis(self) -> dict[str, KpiValue]:
        t = self._in_period("agg_tickets")
        created, resolved = _sum(t, "created"), _sum(t, "resolved")
        return {
            "tickets": _count(created),
            "complaints": _count(_sum(t, "complaints")),
            "escalation_rate_pct": _share(_sum(t, "escalated"), created),
            "reopen_rate_pct": _share(_sum(t, "reopened"), resolved),
            "one_touch_pct": _share(_sum(t, "one_touch"), resolved),
            "sla_first_response_pct": _share(_sum(t, "frt_sla_met"), _sum(t, "frt_sla_counted")),
            "sla_resolution_pct": _share(_sum(t, "resolution_sla_met"), _sum(t, "resolution_sla_counted")),
        }

    def duration_kpis(self) -> dict[str, KpiValue]:
        durations = self._in_period("agg_durations")
        result = {}
        for measure, prefix, unit_s in (("first_response", "frt", 60), ("resolution", "resolution", 3600)):
            histogram = durations.filter(pl.col("measure") == measure)
            suffix = "min" if unit_s == 60 else "h"
            for label, q in (("median", 0.5), ("p90", 0.9)):
                seconds, n = histogram_quantile_s(histogram, q)
                value = None if seconds is None else seconds / unit_s
                result[f"{prefix}_{label}_{suffix}"] = KpiValue(value=value, n=n)
        return result

    def survey_kpis(self) -> dict[str, KpiValue]:
        responses = self._in_period("agg_survey_responses")
        sends = self._in_period("agg_survey_sends").filter(pl.col("kind") == "csat")
        csat = responses.filter(pl.col("kind") == "csat")
        n_csat = _sum(csat, "responses")
        result = {
            "csat_pct": _share(
                _sum(csat.filter(pl.col("score") >= self.options.csat_threshold), "responses"), n_csat
            ),
            "csat_mean": _mean(csat),
            "csat_response_rate_pct": _share(_sum(sends, "answered"), _sum(sends, "sent")),
            "ces_mean": _mean(responses.filter(pl.col("kind") == "ces")),
        }
        if self.scope.filters_tickets:  # NPS of the customers served: needs the raw rows
            result["nps"] = _missing(NOT_IN_AGGREGATES)
            return result
        nps = responses.filter(pl.col("kind") == "nps")
        n = _sum(nps, "responses")
        promoters = _sum(nps.filter(pl.col("score") >= 9), "responses")
        detractors = _sum(nps.filter(pl.col("score") <= 6), "responses")
        result["nps"] = KpiValue(
            value=100 * (promoters - detractors) / n if n else None,
            n=n,
            extra={"promoters": float(promoters), "detractors": float(detractors)},
        )
        return result

    def backlog_open(self) -> KpiValue:
        flow = self._scoped(self._closed_by(self.tables["agg_backlog"], self.window.as_of))
        return _count(_sum(flow, "entered") - _sum(flow, "left"))

    def order_kpis(self) -> dict[str, KpiValue]:
        if self.scope.filters_tickets:
            return {
                "complaint_rate_per_1k_orders": _missing(UNDEFINED_UNDER_TICKET_FILTER),
                "revenue": _missing(NOT_IN_AGGREGATES),
            }
        orders = self._in_period("agg_orders", scoped=False)
        n = _sum(orders, "orders")
        complaints = _sum(self._in_period("agg_tickets"), "complaints")
        return {
            "complaint_rate_per_1k_orders": KpiValue(
                value=1000 * complaints / n if n else None, n=n, extra={"complaints": float(complaints)}
            ),
            "revenue": KpiValue(value=round(_sum(orders, "amount_cents") / 100, 2), n=n),
        }

    def customer_kpis(self) -> dict[str, KpiValue]:
        if self.scope.filters_tickets:
            return {
                "conversion_rate_pct": _missing(UNDEFINED_UNDER_TICKET_FILTER),
                **{k: _missing(NOT_IN_AGGREGATES) for k in ("active_customers", "churn_rate_pct")},
                "repeat_purchase_rate_pct": _missing(NOT_IN_AGGREGATES),
            }
        w = timedelta(days=self.options.churn_window_days)
        as_of, start = self.window.as_of, self.window.start
        signups = self._in_period("agg_signups", scoped=False)
        converted = self._closed_by(
            signups.drop_nulls("first_order_closing_day"), as_of, "first_order_closing_day"
        )
        result = {"conversion_rate_pct": _share(_sum(converted, "customers"), _sum(signups, "customers"))}
        year_ago = as_of - timedelta(days=365)
        now = self._latest_orders(as_of, min(as_of - w, year_ago))
        if self._lacks_history(as_of - w):
            result["active_customers"] = _missing(NOT_ENOUGH_HISTORY)
        else:
            result["active_customers"] = _count(now.filter(pl.col("latest") > epoch_micros(as_of - w)).height)
        if self._lacks_history(start - w):
            result["churn_rate_pct"] = _missing(NOT_ENOUGH_HISTORY)
        else:
            at_start = self._latest_orders(start, start - w).filter(
                pl.col("latest") > epoch_micros(start - w)
            )
            still = now.filter(pl.col("latest") > epoch_micros(as_of - w)).select("customer_id")
            churned = at_start.join(still, on="customer_id", how="anti").height
            result["churn_rate_pct"] = _share(churned, at_start.height)
        if self._lacks_history(year_ago):
            result["repeat_purchase_rate_pct"] = _missing(NOT_ENOUGH_HISTORY)
        else:
            buyers = now.filter(pl.col("latest") > epoch_micros(year_ago))
            repeat = buyers.filter(pl.col("second") > epoch_micros(year_ago)).height
            result["repeat_purchase_rate_pct"] = _share(repeat, buyers.height)
        return result

    def kpis(self, names: Sequence[str] | None = None) -> dict[str, KpiValue]:
        every = {
            **self.ticket_kpis(),
            **self.duration_kpis(),
            **self.survey_kpis(),
            "backlog_open": self.backlog_open(),
            **self.order_kpis(),
            **self.customer_kpis(),
        }
        return {s.name: every[s.name] for s in HEADLINE_KPIS if names is None or s.name in names}


def _mean(responses: pl.DataFrame) -> KpiValue:
    """Mean score with the sample standard deviation (`sd`, for Welch's test) from score counts."""
    n = _sum(responses, "responses")
    if n == 0:
        return KpiValue(value=None, n=0, extra={"sd": None})  # type: ignore[dict-item]
    total = _sum(responses.with_columns(x=pl.col("score") * pl.col("responses")), "x")
    squares = _sum(responses.with_columns(x=pl.col("score") ** 2 * pl.col("responses")), "x")
    mean = total / n
    sd = math.sqrt(max(squares - n * mean * mean, 0.0) / (n - 1)) if n > 1 else None
    return KpiValue(value=mean, n=n, extra={"sd": sd})  # type: ignore[dict-item]


PERIOD_TABLES = ("agg_tickets", "agg_durations", "agg_survey_responses", "agg_survey_sends", "agg_orders",
                 "agg_signups")  # fmt: skip


def window_rows(window: Window, meta: AggregateMeta, options: KpiOptions) -> dict[str, DayRange]:
    """The rows AggregateReader reads for `window`, as day ranges to fetch (a superset, never less):
    the period's days; the backlog's flows up to as_of; customer days up to as_of from the earliest
    look-back (churn window before start and as_of, a year before as_of). An order at an instant after
    a threshold closes on or after the threshold's local date, so no latest or second latest order that
    a KPI compares with a threshold is left out; a second latest left out is at or before a year ago,
    which reads as "no repeat" either way."""
    start, end = local_date(window.start, meta.tz), local_date(window.end, meta.tz)
    until = local_date(window.as_of, meta.tz) + timedelta(days=1)  # closing days at or before as_of
    w = timedelta(days=options.churn_window_days)
    earliest = min(window.start - w, window.as_of - w, window.as_of - timedelta(days=365))
    return {
        **{name: DayRange("day", start, end) for name in PERIOD_TABLES},
        "agg_backlog": DayRange("closing_day", None, until),
        "agg_customer_days": DayRange("closing_day", local_date(earliest, meta.tz), until),
    }


def rows_for(windows: Sequence[Window], meta: AggregateMeta, options: KpiOptions) -> dict[str, DayRange]:
    """The rows every window of `windows` reads (their ranges' unions)."""
    ranges: dict[str, DayRange] = {}
    for window in windows:
        for name, days in window_rows(window, meta, options).items():
            ranges[name] = ranges[name].union(days) if name in ranges else days
    return ranges


def headline_kpis_from_aggregates(
    aggregates: AggregateSet,
    window: Window,
    *,
    scope: Scope = EVERYTHING,
    options: KpiOptions = DEFAULT_OPTIONS,
) -> dict[str, KpiValue]:
    """Every headline KPI of one period and scope, read from the aggregates."""
    return AggregateReader(aggregates, window, scope, options).kpis()
