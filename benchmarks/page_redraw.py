"""How long a page takes to redraw in Chromium after a filter change: `python -m benchmarks.page_redraw
--db sqlite:///data/bench-large.db --page satisfaction` (needs Debian's chromium and the test extras).

Starts `streamlit run` on the database, logs in as the demo manager, opens the page, then times each
action from the click until the script has finished and every chart on the page is drawn. Periods are
visited once each, so no timing is a cache hit. Prints medians; timings are noisy (±20%), never asserted.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
DRAWN = (
    "() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
    ".every(c => c.querySelector('.main-svg'))"
)
PERIODS = (
    "2026年第2季度",
    "2026年第1季度",
    "2025年第4季度",
    "2025年第3季度",
    "2025年第2季度",
    "2025年第1季度",
)
# Per page: its link text, the tabs to time a period change on (None: no tabs), and its settings.
PAGES: dict[str, tuple[str, tuple[str | None, ...], tuple[str, ...]]] = {
    "overview": ("总览", (None,), ()),
    "satisfaction": (
        "满意度",
        ("趋势", "细分", "关键驱动因素", "客户原声"),
        ("仅 5 分(top-1)", "4–5 分(top-2)"),
    ),
    "complaints": ("投诉与根因", ("投诉量", "根因分析", "处理流程", "新兴根因", "客户价值"), ()),
    "team": ("团队绩效", ("公平对比", "时效与积压", "工作负荷", "时效目标假设分析", "客服个人记分卡"), ()),
    "loyalty": ("客户分层与忠诚度", ("生命周期流转", "同期群留存", "客户终身价值", "积分与会员"), ()),
    "data": ("数据", ("数据质量",), ()),  # the manager has no import tab; the ledger ignores the period
    "review": ("季度复盘", (None,), ()),  # its own quarter box is the filter (below)
    "service_map": ("客户服务运作图", (None,), ()),
}
# The period box a page's period change uses: the sidebar's, or the page's own.
PERIOD_BOX = {"review": "季度"}


def _serve(url: str, port: int, script: str = "app.py") -> subprocess.Popen:
    env = {**os.environ, "CXDASH_DB_URL": url, "CXDASH_LANG": "zh", "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the app did not start")


def _timed(page: Page, action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    page.wait_for_timeout(50)
    page.wait_for_selector(IDLE, timeout=300_000)
    page.wait_for_function(DRAWN, timeout=300_000)
    return time.perf_counter() - start


def _log_in(page: Page) -> None:
    """Submit the login form and wait for the Overview's cards (a cold server loads the data first)."""
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=stMetric]", timeout=600_000)


def _period(page: Page, label: str, box: str = "选择周期") -> Callable[[], None]:
    def choose() -> None:
        page.locator("[data-testid=stSelectbox]").filter(has=page.get_by_text(box, exact=True)).click()
        page.get_by_role("option", name=label).click()

    return choose


def _slider_moves(page: Page, moves: int) -> list[float]:
    """Move the first slider one step right `moves` times with the keyboard, each timed to redrawn."""
    thumb = page.get_by_role("slider").first
    thumb.focus()
    return [_timed(page, lambda: page.keyboard.press("ArrowRight")) for _ in range(moves)]


def measure_sliders(url: str, *, port: int, chromium: str, moves: int = 15) -> dict[str, list[float]]:
    """Slider moves on cxdash's tiers page and on the pandas peer app, in the same run."""
    results: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        server = _serve(url, port)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1500}).new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector(IDLE, timeout=300_000)
            boxes = page.get_by_role("textbox")
            boxes.nth(0).fill("manager")
            boxes.nth(1).fill("demo-manager-2026")
            _timed(page, lambda: page.keyboard.press("Enter"))
            _timed(page, lambda: page.get_by_role("link", name=PAGES["loyalty"][0]).click())
            results["cxdash: slider move → tiers redrawn"] = _slider_moves(page, moves)
        finally:
            server.terminate()
        peer = _serve(url, port + 1, "benchmarks/pandas_tiers_app.py")
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1500}).new_page()
            page.goto(f"http://127.0.0.1:{port + 1}/")
            page.wait_for_selector(IDLE, timeout=300_000)
            page.wait_for_function(DRAWN, timeout=300_000)
            results["pandas peer: slider move → redrawn"] = _slider_moves(page, moves)
        finally:
            peer.terminate()
        browser.close()
    return results


def measure(url: str, page_id: str, *, port: int, chromium: str) -> dict[str, list[float]]:
    link, tabs, settings = PAGES[page_id]
    server = _serve(url, port)
    results: dict[str, list[float]] = {}
    periods = iter(PERIODS * 4)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_context(viewport={"width": 1440, "height": 1500}).new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector(IDLE, timeout=300_000)
            boxes = page.get_by_role("textbox")
            boxes.nth(0).fill("manager")
            boxes.nth(1).fill("demo-manager-2026")
            results["login → Overview drawn"] = [_timed(page, lambda: _log_in(page))]
            results["open the page"] = [_timed(page, lambda: page.get_by_role("link", name=link).click())]
            for tab in tabs:
                if tab is not None:
                    results.setdefault("open a tab", []).append(
                        _timed(page, lambda tab=tab: page.get_by_role("tab", name=tab).click())
                    )
                name = f"period change{'' if tab is None else f' ({tab})'}"
                box = PERIOD_BOX.get(page_id, "选择周期")
                results[name] = [_timed(page, _period(page, next(periods), box)) for _ in range(3)]
            for setting in settings:
                results.setdefault("setting change", []).append(
                    _timed(page, lambda setting=setting: page.get_by_role("radio", name=setting).click())
                )
            browser.close()
    finally:
        server.terminate()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--page", choices=list(PAGES), default="satisfaction")
    parser.add_argument("--port", type=int, default=8597)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "--sliders", action="store_true", help="time the tiers page's slider against the pandas peer"
    )
    args = parser.parse_args()
    if args.sliders:
        results = measure_sliders(args.db, port=args.port, chromium=args.chromium)
    else:
        results = measure(args.db, args.page, port=args.port, chromium=args.chromium)
    for step, seconds in results.items():
        print(f"{step}: median {statistics.median(seconds):.2f} s ({', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
