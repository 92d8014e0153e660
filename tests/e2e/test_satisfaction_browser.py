"""The Satisfaction page in a real browser: the threshold setting moves the CSAT card, a bar click opens
the responses behind it and they download, a team lead sees only their teams."""

import json

from cxdash.auth import store
from cxdash.db.engine import make_engine
from tests.e2e.conftest import login, settle, shoot


def open_satisfaction(page, server, username="manager"):
    login(page, server, username)
    page.get_by_role("link", name="满意度").click()
    settle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=60_000)
    settle(page)


def csat_card(page) -> float:
    text = page.locator("[data-testid=stMetric]").first.inner_text()
    return float(next(line for line in text.splitlines() if line.endswith("%")).rstrip("%"))


def test_the_threshold_setting_moves_the_csat_card(server, page):
    open_satisfaction(page, server)
    assert page.get_by_role("heading", name="满意度").is_visible()
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    top2 = csat_card(page)
    assert page.get_by_text("CSAT = 评 4–5 分的占比(top-2-box)").is_visible()
    shoot(page, "satisfaction_zh")
    page.get_by_role("radio", name="仅 5 分(top-1)").click()
    settle(page)
    top1 = csat_card(page)
    assert top1 < top2
    assert page.get_by_text("CSAT = 评 5 分的占比(top-1-box)").is_visible()
    assert "csat=5" in page.url  # a shared link keeps the definition
    page.get_by_role("radio", name="4–5 分(top-2)").click()
    settle(page)
    assert csat_card(page) == top2


def test_a_bar_opens_the_responses_behind_it_and_they_download(server, page, tmp_path, e2e_db):
    open_satisfaction(page, server)
    page.get_by_role("tab", name="细分").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    # the browser shows the period the page computes: a click elsewhere does not switch it
    assert page.get_by_text("2026年第3季度(对比 2026年第2季度)").is_visible()
    assert "p=" not in page.url
    bar = page.locator("[data-testid=stPlotlyChart]").first.locator("g.point path").first.bounding_box()
    page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # Plotly's drag layer on top
    settle(page)
    caption = page.get_by_text("条回复及其工单")
    caption.wait_for(state="visible", timeout=30_000)
    assert int(caption.inner_text().split()[0].replace(",", "")) > 0
    shoot(page, "satisfaction_drill_zh")
    button = page.locator("[data-testid=stDownloadButton]:visible").filter(has_text="CSV").first
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("调查,回复时间,")
    settle(page)
    with make_engine(e2e_db).connect() as conn:
        record = store.read_audit(conn, action="export", username="manager")[0]
    detail = json.loads(record["detail"])
    assert detail["view"] == "satisfaction.drill.csat_pct"
    assert detail["filters"]["csat_threshold"] == 4


def test_a_team_lead_sees_only_their_teams(server, page):
    open_satisfaction(page, server, "lead_t01")
    page.get_by_role("tab", name="细分").click()
    settle(page)
    page.locator("[data-testid=stSelectbox]").filter(has_text="细分维度").click()
    page.get_by_role("option", name="团队").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    chart = page.locator("[data-testid=stPlotlyChart]").first.inner_text()
    assert "(T01)" in chart
    assert "(T02)" not in chart and "(T03)" not in chart


def test_the_page_in_english(server, page):
    login(page, server)
    page.get_by_role("radio", name="English", exact=True).click()
    settle(page)
    page.get_by_role("link", name="Satisfaction").click()
    settle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    assert page.get_by_role("heading", name="Satisfaction").is_visible()
    assert page.get_by_text("CSAT = share of ratings of 4–5 (top-2-box)").is_visible()
    shoot(page, "satisfaction_en")
    page.get_by_role("radio", name="中文", exact=True).click()
    settle(page)
