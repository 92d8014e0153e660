"""The Team performance page in a real browser: the scorecards and the fair comparison drawn, an SLA
target slider that changes the replayed attainment, a team lead's download holding only their team."""

from tests.e2e.conftest import login, settle, shoot


def open_team(page, server, username="manager"):
    login(page, server, username)
    page.get_by_role("link", name="团队绩效").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=60_000)
    settle(page)


def overall(page, label: str) -> str:
    metric = page.locator("[data-testid=stMetric]").filter(has_text=label)
    return metric.locator("[data-testid=stMetricValue]").inner_text()


def test_the_fair_comparison_and_an_sla_slider(server, page):
    open_team(page, server)
    assert page.get_by_role("heading", name="团队绩效").is_visible()
    assert (
        page.locator("[data-testid=stPlotlyChart]").filter(has_text="满意度与工单组合预期之差").count() == 1
    )
    shoot(page, "team_zh")
    page.get_by_role("tab", name="时效目标假设分析").click()
    settle(page)
    before = overall(page, "首次响应时效(全范围)")
    thumb = page.get_by_role("slider").first  # the first priority's first-response target
    thumb.focus()
    page.keyboard.press("Home")  # the tightest target: more breaches
    settle(page)
    after = overall(page, "首次响应时效(全范围)")
    assert float(after.rstrip("%")) < float(before.rstrip("%"))
    shoot(page, "team_whatif_zh")


def test_a_team_lead_downloads_only_their_team(server, page, tmp_path):
    open_team(page, server, "lead_t01")
    button = page.locator("[data-testid=stDownloadButton]:visible").filter(has_text="CSV").first
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    lines = target.read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "(T01)" in lines[1]
    settle(page)
