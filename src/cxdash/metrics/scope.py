"""Restricting the KPI tables to a scope: teams, channels, customer segments and regions."""

from dataclasses import asdict, dataclass

import polars as pl

from cxdash.metrics.kpis import KpiFrames


@dataclass(frozen=True, slots=True)
class Scope:
    """Empty tuples mean 'all'. Team and channel scope tickets and, through them, the customers
    who contacted those teams or channels; segment and region scope customers and their activity."""

    teams: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def is_everything(self) -> bool:
        return not (self.teams or self.channels or self.segments or self.regions)

    def as_dict(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in asdict(self).items()}


def _isin(column: str, values: tuple[str, ...]) -> pl.Expr:
    return pl.col(column).cast(pl.String).is_in(list(values)) if values else pl.lit(True)


def scoped(frames: KpiFrames, scope: Scope) -> KpiFrames:
    """The same tables, restricted to `scope` (unchanged for the whole company)."""
    if scope.is_everything:
        return frames
    customers = frames.customers.filter(_isin("segment", scope.segments) & _isin("region", scope.regions))
    tickets = frames.tickets.filter(_isin("team_id", scope.teams) & _isin("channel", scope.channels))
    if scope.segments or scope.regions:
        tickets = tickets.join(customers.select("customer_id"), on="customer_id", how="semi")
    if scope.teams or scope.channels:
        customers = customers.join(tickets.select("customer_id"), on="customer_id", how="semi")
    ticket_surveys = frames.surveys.filter(pl.col("ticket_id").is_not_null()).join(
        tickets.select("ticket_id"), on="ticket_id", how="semi"
    )
    relationship_surveys = frames.surveys.filter(pl.col("ticket_id").is_null()).join(
        customers.select("customer_id"), on="customer_id", how="semi"
    )
    return KpiFrames(
        tickets=tickets,
        surveys=pl.concat([ticket_surveys, relationship_surveys]),
        orders=frames.orders.join(customers.select("customer_id"), on="customer_id", how="semi"),
        customers=customers,
        sla_policies=frames.sla_policies,
    )
