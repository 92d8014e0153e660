"""SECURITY.md's authentication and authorization cases that are about the browser."""

import pytest

from tests.e2e.conftest import login, settle

LOGIN_FORM = "[data-testid=stForm]"


def logged_in(page) -> bool:
    return (
        page.locator("[data-testid=stMetric]").count() > 0
        or page.get_by_role("heading", name="管理", exact=True).count() > 0
    )


def shows_login(page) -> bool:
    return page.locator(LOGIN_FORM).count() == 1 and page.locator("[data-testid=stMetric]").count() == 0


def logout(page) -> None:
    page.get_by_role("button", name="退出登录").click()
    settle(page)


def test_reload_keeps_a_live_session(server, page):
    login(page, server)
    assert logged_in(page)
    page.reload()
    settle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=30_000)
    assert not shows_login(page)


def test_cookie_replay_after_logout_is_rejected(server, browser, page):
    login(page, server)
    page.reload()  # the session cookie is written by the run after the login
    settle(page)
    cookies = [c for c in page.context.cookies() if c["name"] == "cxdash_session"]
    assert cookies and cookies[0]["value"]
    logout(page)
    assert shows_login(page)
    replay = browser.new_context()
    replay.add_cookies(cookies)
    other = replay.new_page()
    other.goto(f"{server}/")
    settle(other)
    assert shows_login(other)
    replay.close()


def test_logout_in_one_tab_ends_the_other_after_reload(server, page):
    login(page, server)
    page.reload()
    settle(page)
    second = page.context.new_page()
    second.goto(f"{server}/")
    settle(second)
    second.wait_for_selector("[data-testid=stMetric]", timeout=30_000)  # signed in by the shared cookie
    logout(page)
    second.reload()
    settle(second)
    assert shows_login(second)


@pytest.mark.allow_console("does not seem to exist")
def test_a_viewer_cannot_open_the_admin_page_by_url(server, page):
    login(page, server, "viewer")
    assert logged_in(page)
    page.goto(f"{server}/admin")
    settle(page)
    assert page.get_by_role("heading", name="管理", exact=True).count() == 0
    assert page.get_by_role("tab", name="审计日志").count() == 0


def test_an_admin_sees_the_audit_log(server, page):
    login(page, server, "admin")
    page.goto(f"{server}/admin")
    settle(page)
    assert page.get_by_role("heading", name="管理", exact=True).is_visible()
    page.get_by_role("tab", name="审计日志").click()
    settle(page)
    assert page.get_by_text("login").count() > 0 or page.locator("[data-testid=stDataFrame]").count() > 0


def test_the_admin_url_on_a_fresh_server_before_any_login(fresh_server, page):
    page.goto(f"{fresh_server}/admin")
    settle(page)
    assert page.get_by_role("heading", name="管理", exact=True).count() == 0
    assert page.get_by_role("tab", name="用户").count() == 0
    assert page.get_by_text("请先登录").count() > 0 or shows_login(page)


def test_wrong_passwords_are_throttled_with_one_message(server, page):
    messages = []
    for _ in range(6):
        login(page, server, "nobody_here", "wrong password 123")
        messages.append(page.locator("[data-testid=stAlert]").first.inner_text())
    assert all("用户名或密码不正确" in m for m in messages[:5])
    assert "登录失败次数过多" in messages[5]


def test_two_team_leads_one_after_the_other_see_only_their_team(server, page):
    for lead, team_name in (("lead_t01", "电话客服组 (T01)"), ("lead_t02", "在线客服组 (T02)")):
        login(page, server, lead)
        assert logged_in(page)
        page.locator("[data-testid=stMultiSelect]").filter(has_text="团队").click()
        options = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        assert options == [team_name]
        logout(page)


def test_a_forged_or_malformed_cookie_just_shows_the_login(server, browser):
    parsed = server.removeprefix("http://")
    host = parsed.split(":")[0]
    for value in ("eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImFkbWluIn0.", "%%%garbage", "x" * 4000):
        context = browser.new_context()
        context.add_cookies([{"name": "cxdash_session", "value": value, "domain": host, "path": "/"}])
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto(f"{server}/")
        settle(page)
        assert shows_login(page)
        assert page.get_by_text("Traceback").count() == 0 and not errors
        context.close()


def test_the_language_chosen_on_the_login_page_is_kept_after_login(server, page):
    page.goto(f"{server}/")
    settle(page)
    page.get_by_role("radio", name="English", exact=True).click()
    settle(page)
    page.get_by_label("Username").fill("manager")
    page.get_by_role("textbox", name="Password").fill("demo-manager-2026")
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
    assert page.get_by_role("heading", name="Overview").is_visible()
