"""The Service map in a real browser: the Sankey draws (every stage's column), and a channel node's
card opens the Team performance page filtered to that channel at the map's period; zh/en screenshots."""

from urllib.parse import parse_qs, urlparse

from tests.e2e.conftest import login, settle, shoot


def test_the_map_draws_and_a_node_opens_its_page_with_its_filter(server, page):
    login(page, server, "manager")
    page.goto(f"{server}/service_map")
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .sankey", timeout=120_000)
    assert (
        page.locator(".sankey .sankey-node").count() >= 20
    )  # channels, types, handling, outcomes, feedback, next
    assert page.get_by_role("heading", name="客户服务运作图").first.is_visible()
    shoot(page, "service_map_zh")
    page.get_by_role("button", name="在团队绩效中查看").first.click()  # the first channel's card
    settle(page)
    assert urlparse(page.url).path == "/team"
    query = parse_qs(urlparse(page.url).query)
    assert query.get("ch") == ["chat"], page.url  # filtered to that one channel
    sidebar = page.locator("[data-testid=stSidebar]")
    channel_box = sidebar.locator("[data-testid=stMultiSelect]").nth(1)  # team, then channel
    assert "在线聊天" in channel_box.inner_text()  # the chat card came first (most tickets)


def test_a_click_on_a_diagram_node_opens_its_page(server, page):
    login(page, server, "manager")
    page.goto(f"{server}/service_map")
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .sankey", timeout=120_000)
    page.wait_for_timeout(1000)  # the click listener binds to the drawn chart
    dissatisfied = page.locator(".sankey .sankey-node").filter(has_text="不满意").first
    box = dissatisfied.locator(".node-rect").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settle(page)
    page.wait_for_url("**/satisfaction*", timeout=60_000)  # feedback is explained on Satisfaction
    settle(page)
    assert page.get_by_role("heading", name="满意度").first.is_visible()


def test_the_map_in_english(server, page):
    login(page, server, "manager")
    page.goto(f"{server}/service_map?lang=en")
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .sankey", timeout=120_000)
    assert page.get_by_role("heading", name="Service map").first.is_visible()
    shoot(page, "service_map_en")
