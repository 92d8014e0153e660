"""Restricting every table to a scope (METRICS.md "Scope"): teams, channels, segments and regions."""

from dataclasses import asdict, dataclass

import polars as pl

from cxdash.load import Frames


@dataclass(frozen=True, slots=True)
class Scope:
    """Empty tuples mean 'all'. Team and channel are ticket filters: those tickets, their events and
    surveys, the agents of those teams, and the customers those tickets served. Segment and region are
    customer filters: those customers and everything of theirs. Filters combine with AND."""

    teams: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def is_everything(self) -> bool:
        return not (self.teams or self.channels or self.segments or self.regions)

    @property
    def filters_tickets(self) -> bool:
        """A team or channel filter: customer-side KPIs are about the customers served."""
        return bool(self.teams or self.channels)

    @property
    def filters_customers(self) -> bool:
        return bool(self.segments or self.regions)

    def as_dict(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in asdict(self).items()}


def _isin(column: str, values: tuple[str, ...]) -> pl.Expr:
    return pl.col(column).cast(pl.String).is_in(list(values)) if values else pl.lit(True)


def _of(rows: pl.LazyFrame, keep: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """The rows whose `key` is among `keep`'s."""
    return rows.join(keep.select(key), on=key, how="semi")


def scoped(frames: Frames, scope: Scope) -> Frames:
    """Every table restricted to `scope` (unchanged for the whole company).

    Under a ticket filter the customers are those the scoped tickets have ever served (with their
    orders, loyalty and relationship surveys); the KPIs narrow them to the customers served in the
    period. Ticket surveys follow their ticket; relationship (NPS) surveys their customer.
    """
    if scope.is_everything:
        return frames
    customers = frames.customers.filter(_isin("segment", scope.segments) & _isin("region", scope.regions))
    tickets = frames.tickets.filter(_isin("team_id", scope.teams) & _isin("channel", scope.channels))
    if scope.filters_customers:
        tickets = _of(tickets, customers, "customer_id")
    if scope.filters_tickets:
        customers = _of(customers, tickets, "customer_id")
    surveys = pl.concat(
        [
            _of(frames.surveys.filter(pl.col("ticket_id").is_not_null()), tickets, "ticket_id"),
            _of(frames.surveys.filter(pl.col("ticket_id").is_null()), customers, "customer_id"),
        ]
    )
    team_rows = _isin("team_id", scope.teams)
    return frames.with_tables(
        teams=frames.teams.filter(team_rows),
        agents=frames.agents.filter(team_rows),
        customers=customers,
        orders=_of(frames.orders, customers, "customer_id"),
        tickets=tickets,
        ticket_events=_of(frames.ticket_events, tickets, "ticket_id"),
        surveys=surveys,
        loyalty_ledger=_of(frames.loyalty_ledger, customers, "customer_id"),
        kpi_targets=frames.kpi_targets.filter(pl.col("team_id").is_null() | team_rows),
    ).with_flags(ticket_filtered=frames.ticket_filtered or scope.filters_tickets)
