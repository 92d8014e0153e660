"""The one exit point of business data: a user's scope and personal-data masking, applied together.

Everything a page, an export or a command shows of the business tables goes through `frames_for_user`;
the process-wide cache holds raw frames, which never leave without it.
"""

from collections.abc import Iterable

from cxdash.auth.privacy import frames_for
from cxdash.auth.roles import allowed_scope, may_see_pii
from cxdash.load import Frames
from cxdash.metrics.scope import Scope, scoped


def frames_for_user(
    frames: Frames, *, roles: Iterable[str], lead_teams: Iterable[str], chosen: Scope
) -> Frames:
    """Every table restricted to the user's scope and masked for their roles."""
    roles = tuple(roles)
    scope = allowed_scope(roles, tuple(lead_teams), chosen)
    return frames_for(scoped(frames, scope), may_see=may_see_pii(roles))
