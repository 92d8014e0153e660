"""Every page of the app as data: the navigation, role access and the page tests all derive from PAGES.

A new page is one `PageSpec` here, its three-line script in pages/ and its body in cxdash.ui.pages.
No Streamlit here, so that access rules can be read and tested without it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cxdash.auth.roles import ROLES


@dataclass(frozen=True, slots=True)
class PageSpec:
    """One page: its id (also its URL path), its script under the project root, its Material icon,
    the message key of its title and the roles that may open it."""

    id: str
    script: str
    icon: str
    title_key: str
    roles: frozenset[str]


# In navigation order; the first page a user may open is their start page.
PAGES: Final[tuple[PageSpec, ...]] = (
    PageSpec(
        id="overview",
        script="pages/overview.py",
        icon=":material/dashboard:",
        title_key="nav.overview",
        roles=frozenset(ROLES),
    ),
    PageSpec(
        id="satisfaction",
        script="pages/satisfaction.py",
        icon=":material/sentiment_satisfied:",
        title_key="nav.satisfaction",
        roles=frozenset(ROLES),
    ),
    PageSpec(
        id="complaints",
        script="pages/complaints.py",
        icon=":material/report:",
        title_key="nav.complaints",
        roles=frozenset(ROLES),
    ),
    PageSpec(
        id="loyalty",
        script="pages/loyalty.py",
        icon=":material/loyalty:",
        title_key="nav.loyalty",
        roles=frozenset(ROLES),
    ),
    PageSpec(
        id="team",
        script="pages/team.py",
        icon=":material/groups:",
        title_key="nav.team",
        roles=frozenset(ROLES),
    ),
    PageSpec(
        id="service_map",
        script="pages/service_map.py",
        icon=":material/account_tree:",
        title_key="nav.service_map",
        roles=frozenset(ROLES),
    ),
    PageSpec(
        id="review",
        script="pages/review.py",
        icon=":material/event_note:",
        title_key="nav.review",
        roles=frozenset(ROLES),
    ),
    PageSpec(
        id="data",
        script="pages/data.py",
        icon=":material/database:",
        title_key="nav.data",
        roles=frozenset(ROLES),  # import for IMPORT_ROLES, definitions edited by admins, inside the page
    ),
    PageSpec(
        id="admin",
        script="pages/admin.py",
        icon=":material/admin_panel_settings:",
        title_key="nav.admin",
        roles=frozenset({"admin"}),
    ),
)
PAGE_BY_ID: Final[dict[str, PageSpec]] = {spec.id: spec for spec in PAGES}


def pages_for(roles: Iterable[str]) -> tuple[PageSpec, ...]:
    """The pages any of these roles may open, in navigation order (none for unknown roles)."""
    held = set(roles)
    return tuple(spec for spec in PAGES if spec.roles & held)


def may_open(roles: Iterable[str], page_id: str) -> bool:
    """Whether these roles may open the page `page_id` (an unknown page: no)."""
    spec = PAGE_BY_ID.get(page_id)
    return spec is not None and bool(spec.roles & set(roles))
