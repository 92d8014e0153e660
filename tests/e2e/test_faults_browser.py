"""The login page in a real browser shows no page list at any moment: no page titles and no file names
of `pages/`, also on a server no session has used yet (Streamlit reads the pages/ folder before any
st.navigation runs and would list its files until the script hides them)."""

import pytest

from tests.e2e.conftest import settle

NAV = (
    "[data-testid=stSidebarNav], [data-testid=stSidebarNavLink], [data-testid=stTopNavLinkContainer], "
    "[data-testid=stPageLink]"
)
# Records whether a page list was ever in the document, even for a moment before the first run ended.
WATCH_NAV = f"""
window.__navSeen = [];
new MutationObserver(() => {{
  for (const el of document.querySelectorAll("{NAV}")) window.__navSeen.push(el.innerText);
}}).observe(document, {{subtree: true, childList: true}});
"""


@pytest.mark.parametrize("path", ["", "admin", "overview"])
def test_the_login_page_shows_no_page_list(fresh_server, page, path):
    page.add_init_script(WATCH_NAV)
    page.goto(f"{fresh_server}/{path}")
    settle(page)
    page.get_by_label("用户名").wait_for()
    assert page.locator(NAV).count() == 0
    assert page.evaluate("window.__navSeen") == []
    sidebar = page.locator("[data-testid=stSidebar]").inner_text().lower()
    assert "admin" not in sidebar and "overview" not in sidebar
