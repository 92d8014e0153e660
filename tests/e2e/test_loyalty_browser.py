"""The Loyalty page in a real browser: moving a tier slider changes the VIP count, the migration matrix
and the list of customers who would change tier, without redrawing the rest of the page."""

from tests.e2e.conftest import login, settle, shoot


def vip_customers(page) -> int:
    metric = page.locator("[data-testid=stMetric]").filter(has_text="VIP 客户")
    return int(metric.locator("[data-testid=stMetricValue]").inner_text().replace(",", ""))


def movers(page) -> int:
    text = page.get_by_text("位客户的分层会改变").inner_text()
    return int(text.split(" ")[0].replace(",", ""))


def test_a_slider_move_changes_the_tiers_and_the_matrix(server, page):
    login(page, server)
    page.get_by_role("link", name="客户分层与忠诚度").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=60_000)
    before, moved = vip_customers(page), movers(page)
    assert moved == 0
    heatmap = page.locator("[data-testid=stPlotlyChart]").filter(has_text="从现行分层到假设分层")
    matrix_before = heatmap.inner_text()
    shoot(page, "loyalty_zh")
    thumb = page.get_by_role("slider").first  # VIP: 365-day spend at least
    thumb.focus()
    page.keyboard.press("Home")  # the lowest VIP spend
    settle(page)
    assert vip_customers(page) > before
    assert movers(page) == vip_customers(page) - before
    assert heatmap.inner_text() != matrix_before
    shoot(page, "loyalty_moved_zh")
    page.get_by_role("button", name="恢复默认").click()
    settle(page)
    assert vip_customers(page) == before and movers(page) == 0
