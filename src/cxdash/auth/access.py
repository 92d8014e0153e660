"""The one exit point of business data: a user's scope and personal-data masking, applied together.

Everything a page, an export or a command shows of the business tables goes through `frames_for_user`;
the process-wide cache holds raw frames, which never leave without it.
"""

from collections.abc import Iterable

import polars as pl

from cxdash.auth.privacy import FREE_TEXT, frames_for, masked_free_text, with_personal_data_for
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


def frames_for_counting(
    frames: Frames, *, roles: Iterable[str], lead_teams: Iterable[str], chosen: Scope
) -> Frames:
    """Every table restricted to the user's scope but NOT masked: only for counts that compare personal
    data (duplicate customers by e-mail or phone); rows taken from it leave through `rows_for_user`."""
    return scoped(frames, allowed_scope(tuple(roles), tuple(lead_teams), chosen))


def rows_for_user(table: str, rows: pl.DataFrame, *, roles: Iterable[str]) -> pl.DataFrame:
    """Rows of `table` (from `frames_for_counting`) masked as `frames_for_user` masks them."""
    if may_see_pii(tuple(roles)):
        return rows
    lazy = rows.lazy()
    if table == "customers":
        lazy = with_personal_data_for(lazy, may_see=False)
    lazy = lazy.with_columns(masked_free_text(c) for c in FREE_TEXT.get(table, ()) if c in rows.columns)
    return lazy.collect()
