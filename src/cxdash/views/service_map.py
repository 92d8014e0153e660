"""The Service map's content as data (客户服务运作图, PRODUCT.md view 9): the tickets created in the
period followed through the whole service system — channel → ticket type → handling path → outcome →
feedback → what the customer did next — as nodes and links, each node with its live KPIs and its lead
KPI coloured against the target in force, and the page (with filter) that explains it.

The tickets are followed up to `data_as_of` (not the period's end): what happened to them, as far as
the data goes. So a node's first-response figures equal the headline KPIs over its tickets, and the
channel totals equal the period's `tickets` (cxdash.metrics.flow).
"""

from dataclasses import dataclass
from typing import Final

import polars as pl

from cxdash.load import Frames
from cxdash.metrics.compare import resolve_targets, target_status
from cxdash.metrics.flow import COMPLAINT_PREFIX, STAGES, flow_links, node_kpis, ticket_paths
from cxdash.metrics.kpis import KPI_BY_NAME, KpiOptions, Window
from cxdash.periods import DataSpan, Period

# The KPI each stage's nodes are coloured by, and the KPI whose target it is measured against. The
# flow's churn is the share of the node's customers churned at data_as_of; its target is the
# company's churn-rate target, the nearest stated goal.
LEAD_KPI: Final[dict[str, tuple[str, str] | None]] = {
    "channel": ("frt_median_min", "frt_median_min"),
    "ticket_type": ("sla_first_response_pct", "sla_first_response_pct"),
    "handling": ("csat_pct", "csat_pct"),
    "outcome": ("csat_pct", "csat_pct"),
    "feedback": ("churn_pct", "churn_rate_pct"),
    "next_step": None,  # the last stage is itself an outcome: no KPI of its own
}
MEASURED_BY: Final = dict(kpis for kpis in LEAD_KPI.values() if kpis is not None)
# The N behind each node KPI.
KPI_N: Final = {
    "frt_median_min": "frt_n",
    "sla_first_response_pct": "sla_n",
    "csat_pct": "csat_n",
    "churn_pct": "customers",
}
# The page that explains a node of each stage (ticket types and closed-unresolved: explained_on).
EXPLAINED_ON: Final[dict[str, str]] = {
    "channel": "team",
    "handling": "team",
    "outcome": "team",
    "feedback": "satisfaction",
    "next_step": "loyalty",
}


@dataclass(frozen=True, slots=True)
class ServiceMap:
    nodes: (
        pl.DataFrame
    )  # stage, node, tickets, share_pct, the node KPIs with their N, lead, value, target, status
    links: pl.DataFrame  # source_stage, source, target_stage, target, tickets
    tickets: int
    window: Window


def explained_on(stage: str, node: str) -> tuple[str, str | None]:
    """The page that explains a node and the channel to filter it to (channel nodes only)."""
    if stage == "ticket_type":
        return ("complaints" if node.startswith(COMPLAINT_PREFIX) else "satisfaction"), None
    if stage == "outcome" and node == "closed_unresolved":
        return "complaints", None
    return EXPLAINED_ON[stage], (node if stage == "channel" else None)


def _lead_columns(targets: dict[str, float]) -> list[pl.Expr]:
    """Per node: the lead KPI's name, value, target and traffic-light status."""
    lead = (
        pl.col("stage")
        .cast(pl.String)
        .replace_strict(
            {s: (k[0] if k else None) for s, k in LEAD_KPI.items()}, default=None, return_dtype=pl.String
        )
    )
    value = pl.lit(None, dtype=pl.Float64)
    target = pl.lit(None, dtype=pl.Float64)
    for stage, kpis in LEAD_KPI.items():
        if kpis is None:
            continue
        shown, measured = kpis
        value = pl.when(pl.col("stage") == stage).then(pl.col(shown)).otherwise(value)
        target = pl.when(pl.col("stage") == stage).then(pl.lit(targets.get(measured))).otherwise(target)
    return [lead.alias("lead"), value.alias("value"), target.cast(pl.Float64).alias("target")]


def _status(row: dict) -> str | None:
    if row["lead"] is None:
        return None
    higher = KPI_BY_NAME[MEASURED_BY[row["lead"]]].higher_is_better
    return target_status(row["value"], row["target"], higher)


def service_map(
    frames: Frames, period: Period, *, span: DataSpan, tz: str, options: KpiOptions, teams: tuple[str, ...]
) -> ServiceMap:
    """The map of the tickets created in `period` (frames already scoped), followed to data_as_of."""
    window = Window.of(period, tz=tz, data_as_of=span.data_as_of)
    as_of = window.data_as_of
    paths = ticket_paths(frames, window, as_of=as_of, options=options).collect().lazy()
    nodes, links = pl.collect_all(
        [node_kpis(frames, paths, window, as_of=as_of, options=options), flow_links(paths)]
    )
    targets = resolve_targets(frames.kpi_targets.collect(), period_label=period.label, teams=teams)
    total = int(nodes.filter(pl.col("stage") == STAGES[0])["tickets"].sum())
    nodes = nodes.with_columns(
        pl.col("stage").cast(pl.String),
        (100 * pl.col("tickets") / max(total, 1)).alias("share_pct"),
        *_lead_columns(targets),
    )
    nodes = nodes.with_columns(
        pl.Series("status", [_status(r) for r in nodes.iter_rows(named=True)], dtype=pl.String)
    )
    links = links.with_columns(pl.col("source_stage", "target_stage").cast(pl.String))
    return ServiceMap(nodes=nodes, links=links, tickets=total, window=window)
