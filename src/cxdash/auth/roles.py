"""Roles and what they may do (PRODUCT.md), and the data scope a user's roles allow.

Which pages a role may open is in the page registry, cxdash.ui.registry.
"""

from collections.abc import Iterable
from typing import Final

from cxdash.metrics.scope import Scope

ROLES: Final = ("admin", "manager", "team_lead", "analyst", "viewer")
PII_ROLES: Final = frozenset({"admin", "manager", "team_lead"})  # may see customers' name, phone, e-mail
IMPORT_ROLES: Final = frozenset({"admin", "analyst"})
ALL_DATA_ROLES: Final = frozenset({"admin", "manager", "analyst", "viewer"})
NO_TEAM: Final = "\x00no-team"  # an id no team has: an empty scope rather than the whole company


def parse_roles(text: str | Iterable[str]) -> tuple[str, ...]:
    """Roles from 'a,b' or a list; unknown names raise ValueError."""
    names = [r.strip() for r in (text.split(",") if isinstance(text, str) else text) if r.strip()]
    unknown = sorted(set(names) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not names:
        raise ValueError(f"give at least one role of {', '.join(ROLES)}")
    return tuple(r for r in ROLES if r in names)


def may_see_pii(roles: Iterable[str]) -> bool:
    return bool(PII_ROLES & set(roles))


def sees_all_data(roles: Iterable[str]) -> bool:
    return bool(ALL_DATA_ROLES & set(roles))


def allowed_scope(roles: Iterable[str], lead_teams: Iterable[str], chosen: Scope) -> Scope:
    """The chosen scope narrowed to what the user may see: a team lead (without an all-data role) only
    their own teams, whatever was chosen; a team lead with no teams sees nothing."""
    if sees_all_data(roles):
        return chosen
    own = tuple(sorted(set(lead_teams)))
    picked = tuple(t for t in chosen.teams if t in own) or own  # a team not theirs never widens it
    return Scope(
        teams=picked or (NO_TEAM,),
        channels=chosen.channels,
        segments=chosen.segments,
        regions=chosen.regions,
    )
