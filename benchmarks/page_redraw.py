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
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
TIMEOUT_MS = 600_000
RUNNING = "[data-testid=stApp][data-test-script-state=running]"
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
    page.wait_for_selector("[data-testid=stMetric]", timeout=TIMEOUT_MS)


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


def _memory_mb(pid: int) -> dict[str, float]:
    """The server's resident memory now and its peak so far (VmRSS, VmHWM), MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


class _SocketMeter:
    """Frames the browser receives on Streamlit's websocket: time of the last one and bytes since a mark."""

    def __init__(self, page: Page) -> None:
        self.received: list[tuple[float, int]] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))

    def _received(self, payload: str | bytes) -> None:
        self.received.append((time.perf_counter(), len(payload)))

    def since(self, mark: float) -> tuple[float, int]:
        """Seconds from `mark` to the last frame received after it, and the bytes received after it."""
        after = [(at, size) for at, size in self.received if at >= mark]
        return (after[-1][0] - mark if after else 0.0), sum(size for _, size in after)


def _metered_slider_moves(page: Page, meter: _SocketMeter, moves: int) -> dict[str, list[float]]:
    """Slider moves on the open page: time to redrawn, time to the rerun's last websocket frame, bytes."""
    thumb = page.get_by_role("slider").first
    thumb.focus()
    drawn, round_trip, kilobytes = [], [], []
    for _ in range(moves):
        mark = time.perf_counter()
        drawn.append(_timed(page, lambda: page.keyboard.press("ArrowRight")))
        seconds, size = meter.since(mark)
        round_trip.append(seconds)
        kilobytes.append(size / 1024)
    return {"drawn": drawn, "round_trip": round_trip, "kilobytes": kilobytes}


def _new_page(browser: object) -> Page:
    return browser.new_context(viewport={"width": 1440, "height": 1500}).new_page()


def _sign_in(page: Page, base: str, timeout_ms: int = TIMEOUT_MS) -> float:
    """Open the app, log in as the demo manager; seconds from opening to the Overview drawn. A click on a
    form that has not finished mounting is lost (seen on a busy machine): then it is filled and sent again."""
    start = time.perf_counter()
    page.goto(base)
    for _ in range(3):
        page.wait_for_timeout(500)
        page.wait_for_selector(IDLE, timeout=timeout_ms)
        if page.locator("[data-testid=stMetric]").count():
            break
        page.get_by_label("用户名").fill("manager", timeout=timeout_ms)
        page.get_by_label("密码").fill("demo-manager-2026", timeout=timeout_ms)
        page.get_by_role("button", name="登录").click(timeout=timeout_ms)
        try:
            page.wait_for_selector(f"[data-testid=stMetric], {RUNNING}", timeout=15_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_selector("[data-testid=stMetric]", timeout=timeout_ms)
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_function(DRAWN, timeout=timeout_ms)
    return time.perf_counter() - start


def measure_app(
    url: str,
    *,
    port: int,
    chromium: str,
    sessions: int = 10,
    moves: int = 15,
    say: Callable[[str], None] = print,
) -> dict:
    """What PERFORMANCE.md targets in the browser, cxdash and the pandas peer app in one run: cold start
    to the first Overview drawn, every page switch, Overview filter changes, slider moves on the tiers
    page (drawn, websocket round trip, bytes), server memory after one and after `sessions` sessions."""
    from benchmarks import capacity  # it builds on this module

    results: dict = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        server = _serve(url, port)
        base = f"http://127.0.0.1:{port}/"
        try:
            page = _new_page(browser)
            meter = _SocketMeter(page)
            sent = capacity._listen(page)
            results["cold_start_s"] = _sign_in(page, base)
            say(f"cold start → Overview drawn: {results['cold_start_s']:.2f} s; switching pages")
            switches = {}
            for page_id, (link, _, _) in PAGES.items():
                switches[page_id] = _timed(
                    page, lambda link=link: page.get_by_role("link", name=link).click()
                )
            switches["overview"] = _timed(
                page, lambda: page.get_by_role("link", name=PAGES["overview"][0]).click()
            )
            results["page_switch_s"] = switches
            say("Overview period changes")
            results["filter_change_s"] = [_timed(page, _period(page, label)) for label in PERIODS[:3]]
            say("slider moves on the tiers page")
            _timed(page, lambda: page.get_by_role("link", name=PAGES["loyalty"][0]).click())
            results["slider"] = _metered_slider_moves(page, meter, moves)
            results["memory_one_session_mb"] = _memory_mb(server.pid)
            say(f"{sessions - 1} more sessions, each running the Overview (websocket clients)")
            _timed(page, lambda: page.get_by_role("link", name=PAGES["overview"][0]).click())
            cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
            overview_run = capacity._reruns(sent)[-1]
            results[f"memory_{sessions}_sessions_mb"] = capacity.with_sessions(
                base, cookie, overview_run, sessions - 1, lambda: _memory_mb(server.pid)
            )
        finally:
            server.terminate()
        say("the pandas peer app: cold start and slider moves")
        peer = _serve(url, port + 1, "benchmarks/pandas_tiers_app.py")
        try:
            page = _new_page(browser)
            meter = _SocketMeter(page)
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port + 1}/")
            page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
            page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
            results["peer_cold_start_s"] = time.perf_counter() - started
            results["peer_slider"] = _metered_slider_moves(page, meter, moves)
            results["peer_memory_mb"] = _memory_mb(peer.pid)
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
