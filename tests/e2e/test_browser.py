"""What a manager sees and clicks in the browser: the Overview in both languages, periods, downloads."""

import json

from cxdash.auth import store
from cxdash.db.engine import make_engine
from tests.e2e.conftest import login, settle, shoot


def test_overview_in_chinese_and_english(server, page):
    login(page, server)
    page.wait_for_selector("[data-testid=stMetric]")
    assert page.get_by_role("heading", name="总览").is_visible()
    assert page.locator("[data-testid=stMetric]").count() == 23
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 4
    assert "满意度 CSAT" in page.locator("[data-testid=stMetric]").first.inner_text()
    shoot(page, "overview_zh")

    page.get_by_role("radio", name="English", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert "CSAT" in page.locator("[data-testid=stMetric]").first.inner_text()
    shoot(page, "overview_en")

    assert page.get_by_role("radio", name="Quarter", exact=True).is_visible()
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 4

    page.get_by_role("radio", name="中文", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", name="总览").is_visible()
    assert page.get_by_role("radio", name="季度", exact=True).is_visible()
    # the trend choices survive both switches
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 4


def test_changing_the_period_changes_the_cards(server, page):
    login(page, server)
    first_card = page.locator("[data-testid=stMetric]").first
    before = first_card.inner_text()
    page.locator("[data-testid=stSelectbox]").filter(has_text="选择周期").click()
    page.get_by_role("option", name="2026年第1季度").click()
    settle(page)
    assert page.get_by_text("2026年第1季度(较 2025年第4季度").is_visible()
    assert first_card.inner_text() != before
    # the choice survives a language switch, and the list speaks the new language
    page.get_by_role("radio", name="English", exact=True).click()
    settle(page)
    period_box = page.locator("[data-testid=stSelectbox]").filter(has_text="Choose a period")
    assert "2026 Q1" in (period_box.inner_text() + period_box.locator("input").input_value())
    assert page.get_by_text("2026 Q1 (vs 2025 Q4").is_visible()
    # the language is remembered for the user: switch back so the next tests log in to Chinese
    page.get_by_role("radio", name="中文", exact=True).click()
    settle(page)


def test_download_a_trend_table(server, page, tmp_path, e2e_db):
    login(page, server)
    page.get_by_text("查看数据表").first.click()
    settle(page)
    button = page.locator("[data-testid=stExpander]").first.get_by_role(
        "button", name="下载 CSV"
    )  # the trend's
    button.wait_for(state="visible")
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = target.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("周期,")
    assert len(lines) == 1 + 8  # header and eight quarters
    settle(page)
    with make_engine(e2e_db).connect() as conn:
        record = store.read_audit(conn, action="export", username="manager")[0]
    detail = json.loads(record["detail"])
    assert (detail["view"], detail["rows"], detail["filters"]["period"]) == (
        "overview.trend.csat_pct",
        8,
        "2026Q3",
    )


def test_empty_filters_show_a_message(server, page):
    login(page, server)
    for label, option in (("团队", "电话客服组 (T01)"), ("渠道", "在线聊天")):
        page.locator("[data-testid=stMultiSelect]").filter(has_text=label).click()
        page.get_by_role("option", name=option).click()
        page.keyboard.press("Escape")
        settle(page)
    assert page.get_by_text("当前筛选条件下没有数据").is_visible()
    assert page.locator("[data-testid=stMetric]").count() == 0


def test_download_a_table_as_excel_with_its_definitions(server, page, tmp_path):
    """The Excel twin of a table's CSV: the table's sheet (numbers as numbers) and a definitions sheet."""
    from fastexcel import read_excel

    login(page, server)
    page.get_by_text("查看数据表").first.click()
    settle(page)
    button = page.locator("[data-testid=stExpander]").first.get_by_role(
        "button", name="下载 Excel"
    )  # the trend's
    button.wait_for(state="visible")
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    assert target.suffix == ".xlsx"
    workbook = read_excel(target.read_bytes())
    assert workbook.sheet_names[-1] == "definitions" and len(workbook.sheet_names) == 2
    table = workbook.load_sheet(0).to_polars()
    assert table.columns[0] == "周期" and table.height > 0
    definitions = workbook.load_sheet(1).to_polars()
    assert "csat_pct" in definitions["name"].to_list()
    settle(page)
