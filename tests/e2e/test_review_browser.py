"""The Quarterly review in a real browser: the manager sees the last complete quarter's top movers and
narrative, follows a statement's link to the page that shows it (same quarter), downloads the deck
(a real .pptx with native charts), freezes the review and reopens it; zh screenshot."""

from urllib.parse import parse_qs, urlparse

from pptx import Presentation

from tests.e2e.conftest import login, settle, shoot


def open_review(page, server):
    login(page, server, "manager")
    page.goto(f"{server}/review")
    settle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=120_000)


def test_review_movers_narrative_and_a_link_to_its_page(server, page):
    open_review(page, server)
    assert page.get_by_role("heading", name="季度复盘").is_visible()
    assert page.get_by_text("变化最显著的指标").is_visible()
    assert page.locator("[data-testid=stMetric]").count() >= 1
    assert page.get_by_role("heading", name="发生了什么变化").is_visible()  # the narrative
    shoot(page, "review_browser_zh")
    quarter = page.locator("[data-testid=stSelectbox]").filter(has=page.get_by_text("季度", exact=True))
    quarter.click()
    page.get_by_role("option", name="2026年第2季度").click()
    settle(page)
    page.get_by_role("button", name="中查看").first.click()  # "see it on <page>"
    settle(page)
    assert "/review" not in page.url
    # the page opens at the review's quarter, and the sidebar says so
    box = page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first
    shown = box.evaluate(
        "b => b.textContent + ' ' + [...b.querySelectorAll('input')].map(i => i.value).join(' ')"
    )
    assert "2026年第2季度" in shown, shown
    assert parse_qs(urlparse(page.url).query).get("p") == ["2026Q2"]


def test_deck_download_freeze_and_reopen(server, page, tmp_path):
    open_review(page, server)
    with page.expect_download(timeout=120_000) as download_info:
        page.locator("[data-testid=stDownloadButton]").filter(has_text="PowerPoint").click()
    deck_path = tmp_path / "review.pptx"
    download_info.value.save_as(deck_path)
    deck = Presentation(str(deck_path))
    charts = [shape for slide in deck.slides for shape in slide.shapes if shape.has_chart]
    assert len(deck.slides) >= 6 and charts  # title, summary, four areas, appendix; native charts
    settle(page)
    page.get_by_label("冻结复盘的名称", exact=False).fill("季度会议")
    page.get_by_role("button", name="冻结此复盘").click()
    settle(page)
    assert page.get_by_text("季度会议", exact=False).count() >= 1
    page.locator("[data-testid=stSelectbox]").filter(has=page.get_by_text("复盘", exact=True)).click()
    page.get_by_role("option", name="季度会议", exact=False).click()
    settle(page)
    assert page.locator("[data-testid=stAlert]").filter(has_text="冻结").count() >= 1
    assert page.locator("[data-testid=stMetric]").count() >= 1  # the frozen movers, same page
