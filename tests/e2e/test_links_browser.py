"""Links that keep their state, in a real browser: a reload keeps the filter and the language, a page's
address on a fresh server shows the login form itself, and the navigation shows translated titles."""

import shutil

import pytest

from cxdash.i18n import Translator
from cxdash.ui.registry import PAGES, may_open
from tests.e2e.conftest import login, settle, start_server

NAV_TITLES = "[data-testid=stSidebar] [data-testid=stPageLink-NavLink] [data-testid=stMarkdownContainer]"
FILE_NAMES = {"app", *(spec.id for spec in PAGES)}
ADMIN_NAV_EN = [Translator("en")(spec.title_key) for spec in PAGES if may_open(["admin"], spec.id)]


@pytest.fixture
def own_server(small_db, tmp_path):
    """A server on a copy of the demo database: switching the language saves it for the user."""
    copy = tmp_path / "links.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), copy)
    yield from start_server(f"sqlite:///{copy}")


def nav_titles(page) -> list[str]:
    page.wait_for_selector(NAV_TITLES, timeout=30_000)
    return [text.strip() for text in page.locator(NAV_TITLES).all_inner_texts()]


def test_a_reload_keeps_the_filter_and_the_language(own_server, page):
    login(page, own_server, "admin")  # an admin has two pages: the navigation is shown
    page.locator("[data-testid=stMultiSelect]").filter(has_text="渠道").click()
    page.get_by_role("option", name="在线聊天").click()
    page.keyboard.press("Escape")
    settle(page)
    page.get_by_role("radio", name="English", exact=True).click()
    settle(page)
    assert "ch=chat" in page.url and "lang=en" in page.url

    page.reload()
    settle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
    assert page.get_by_role("heading", name="Overview").is_visible()
    channels = page.locator("[data-testid=stMultiSelect]").filter(has_text="Channel")
    assert "Chat" in channels.inner_text()
    assert page.get_by_text("Chat", exact=False).count() > 1  # the filter and the Overview's caption
    assert nav_titles(page) == ADMIN_NAV_EN
    assert "ch=chat" in page.url and "lang=en" in page.url


def test_a_page_address_on_a_fresh_server_shows_the_login_form_then_the_page(fresh_server, page):
    page.goto(f"{fresh_server}/admin")
    settle(page)
    assert page.locator("[data-testid=stForm]").count() == 1  # the form itself, not a link to it
    assert page.get_by_text("请先登录").count() == 0
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("demo-admin-2026")
    page.get_by_role("button", name="登录").click()
    settle(page)
    page.wait_for_selector("[data-testid=stTab]", timeout=60_000)
    assert page.get_by_role("heading", name="管理").is_visible()  # the page the link named
    titles = nav_titles(page)
    assert titles == [Translator("zh")(spec.title_key) for spec in PAGES if may_open(["admin"], spec.id)]
    assert not FILE_NAMES & set(titles)


def test_after_a_restart_a_page_address_keeps_the_session_the_link_and_the_titles(small_db, tmp_path, page):
    # Sessions live in the database: a reload after a restart reaches a server that serves pages/ files
    # by their address until a session calls st.navigation.
    copy = tmp_path / "restart.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), copy)
    first = start_server(f"sqlite:///{copy}")
    login(page, next(first), "admin")
    page.reload()  # the session cookie is written by the run after the login
    settle(page)
    page.goto("about:blank")  # leave before the server goes, or the tab's reconnects count as failures
    next(first, None)  # stops the first server
    second = start_server(f"sqlite:///{copy}")
    page.goto(f"{next(second)}/overview?ch=chat&lang=en")
    settle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert nav_titles(page) == ADMIN_NAV_EN
    assert "Chat" in page.locator("[data-testid=stMultiSelect]").filter(has_text="Channel").inner_text()
    page.goto("about:blank")
    next(second, None)
