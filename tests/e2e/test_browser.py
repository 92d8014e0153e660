"""A real `streamlit run` driven by Playwright in Debian's Chromium: what a manager sees and clicks.

Skips without /usr/bin/chromium on a developer's machine; fails under CXDASH_CI=1.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(small_db):
    need(CHROMIUM.exists(), "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    port = free_port()
    env = {**os.environ, "CXDASH_DB_URL": small_db, "CXDASH_LANG": "zh"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + (process.stdout.read() if process.stdout else ""))
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM.exists(), "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 2600}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    yield page
    context.close()
    assert not errors, errors


def settle(page) -> None:
    """Wait until the script run that an action started has finished and the page is idle."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_timeout(300)


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_overview_in_chinese_and_english(server, page):
    page.goto(f"{server}/")
    settle(page)
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
    page.goto(f"{server}/")
    settle(page)
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


def test_download_a_trend_table(server, page, tmp_path):
    page.goto(f"{server}/")
    settle(page)
    page.get_by_text("查看数据表").first.click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="下载 CSV").first.click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = target.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("周期,")
    assert len(lines) == 1 + 8  # header and eight quarters


def test_empty_filters_show_a_message(server, page):
    page.goto(f"{server}/")
    settle(page)
    for label, option in (("团队", "电话客服组 (T01)"), ("渠道", "在线聊天")):
        page.locator("[data-testid=stMultiSelect]").filter(has_text=label).click()
        page.get_by_role("option", name=option).click()
        page.keyboard.press("Escape")
        settle(page)
    assert page.get_by_text("当前筛选条件下没有数据").is_visible()
    assert page.locator("[data-testid=stMetric]").count() == 0
