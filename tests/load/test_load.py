"""Load test: N virtual users in one Chromium (one browser context each) log in to one server and
click through its pages and the tiers slider for a bounded time.

Asserts only that everything worked: no failure (a browser-side exception, an error box, the login
form coming back, an action not finishing) and at least 3 page views per user. Timings and server
memory are reported, never asserted (a shared 2-core machine is noisy). Settings: CXDASH_LOAD_USERS,
CXDASH_LOAD_SECONDS, CXDASH_LOAD_DB (copied first), CXDASH_LOAD_REPORT (a JSON file to write).
"""

import asyncio
import contextlib
import json
import random
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path

# The protocol's message type only, to read the websocket; the app itself is driven through Chromium.
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: TID251

from cxdash.auth.demo import DEMO_USERS
from cxdash.ui.registry import pages_for
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, ROOT
from tests.load.conftest import Server, Settings

DRAWN = (
    "() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
    ".every(c => c.querySelector('.main-svg'))"
)
PROBLEMS = "[data-testid=stException], [data-testid=stAlertContentError]"
# Several roles: team leads see their own team's data, the viewer masked customers.
ACCOUNTS = ("manager", "lead_t01", "analyst", "lead_t02", "viewer")
TIMEOUT_MS = 120_000  # a sanity bound for one action, not a timing assertion
RAMP_SECONDS = 2.0  # between one user's login and the next: a login runs the heavy Overview
SLIDER_PAGE = "loyalty"
SERVER_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
NAV = tomllib.loads((ROOT / "src" / "cxdash" / "i18n" / "zh.toml").read_text(encoding="utf-8"))["nav"]


@dataclass
class UserResult:
    name: str
    login: float | None = None
    pages: list[tuple[str, float]] = field(default_factory=list)
    sliders: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Runs:
    """Counts the server's "script run finished" messages on a session's websocket: the exact end of
    the run an action started (the DOM's script state can miss a short run)."""

    def __init__(self) -> None:
        self.finished = 0

    def on_frame(self, payload: str | bytes) -> None:
        # A script_finished message is a few bytes; the big ones are deltas, not worth parsing.
        if isinstance(payload, bytes) and len(payload) < 256:
            message = ForwardMsg.FromString(payload)
            if message.WhichOneof("type") == "script_finished" and message.script_finished in SERVER_DONE:
                self.finished += 1

    async def after(self, count: int) -> None:
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while self.finished <= count:
            if time.monotonic() > deadline:
                raise TimeoutError("no script run finished on the server")
            await asyncio.sleep(0.02)


def links(username: str) -> dict[str, str]:
    """Page id → its link text in the sidebar, for this demo account's roles."""
    roles = next(r for u, _, r, *_ in DEMO_USERS if u == username)
    return {spec.id: NAV[spec.title_key.removeprefix("nav.")] for spec in pages_for({roles})}


def responsive(base: str) -> bool:
    """Whether the server still answers its health check (a deadlocked one does not)."""
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its descendants, from /proc (no psutil)."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += rss_bytes(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass  # the process (or a child) just ended
    return total


async def sample_memory(pid: int, samples: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(rss_bytes(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1)


async def problem(page, js_errors: list[str]) -> str | None:
    """What is wrong on the page now, if anything."""
    if js_errors:
        return "browser error: " + "; ".join(js_errors)
    boxes = page.locator(PROBLEMS)
    if await boxes.count():
        return "error box: " + (await boxes.first.inner_text())[:300]
    if await page.locator("input[type=password]").count():
        return "the login form came back"
    return None


async def timed(page, runs: Runs, action) -> float:
    """Seconds from the action until the server finished its run and every chart is drawn."""
    before = runs.finished
    start = time.perf_counter()
    await action()
    await runs.after(before)
    await page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    await page.wait_for_function(DRAWN, timeout=TIMEOUT_MS)
    return time.perf_counter() - start


async def log_in(page, runs: Runs, base: str, username: str) -> float:
    """Seconds from pressing the login button until the Overview's cards and charts are drawn (a
    login takes several script runs: the first to finish may still be the login page's)."""
    password = next(p for u, p, *_ in DEMO_USERS if u == username)
    await page.goto(f"{base}/")
    await runs.after(0)  # the login page's first run has finished: the form is complete
    await page.wait_for_selector(IDLE)
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    start = time.perf_counter()
    await page.get_by_role("button", name="登录").click(delay=100)  # pressed like a person, not in 0 ms
    await page.wait_for_selector("[data-testid=stMetric]", state="attached")  # the Overview is there
    await page.wait_for_selector(IDLE)
    await page.wait_for_function(DRAWN)
    return time.perf_counter() - start


async def move_slider(page, runs: Runs) -> float:
    """One keyboard step of the first tier slider, towards a side it can still move to."""
    thumb = page.get_by_role("slider").first
    now, low, high = [float(await thumb.get_attribute(f"aria-value{a}") or 0) for a in ("now", "min", "max")]
    key = (
        "ArrowLeft"
        if now >= high
        else "ArrowRight"
        if now <= low
        else random.choice(("ArrowLeft", "ArrowRight"))
    )
    await thumb.focus()
    return await timed(page, runs, lambda: page.keyboard.press(key))


async def virtual_user(browser, base: str, result: UserResult, seconds: float, shots: Path) -> None:
    """Log in, then click through pages (and the slider) for `seconds` after the login."""
    username = result.name
    context = await browser.new_context(viewport={"width": 1440, "height": 1500})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    runs, js_errors = Runs(), []
    page.on("websocket", lambda ws: ws.on("framereceived", runs.on_frame))
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    step = "login"
    try:
        result.login = await log_in(page, runs, base, username)
        if found := await problem(page, js_errors):
            raise AssertionError(found)
        deadline = time.monotonic() + seconds
        targets, current = links(username), "overview"
        while time.monotonic() < deadline:
            await asyncio.sleep(random.uniform(1, 3))  # think time
            current = random.choice([p for p in targets if p != current])
            step = f"open {current}"
            link = page.get_by_role("link", name=targets[current], exact=True)
            result.pages.append((current, await timed(page, runs, link.click)))
            if found := await problem(page, js_errors):
                raise AssertionError(found)
            if current == SLIDER_PAGE:
                for _ in range(random.randint(1, 3)):
                    await asyncio.sleep(random.uniform(0.5, 1.5))
                    step = "move the tiers slider"
                    result.sliders.append(await move_slider(page, runs))
                    if found := await problem(page, js_errors):
                        raise AssertionError(found)
    except Exception as exc:  # recorded and asserted on at the end, with every other user's
        where = f"{page.url}, {runs.finished} runs finished"
        result.failures.append(f"{username} at {step!r} ({where}): {type(exc).__name__}: {str(exc)[:300]}")
        with contextlib.suppress(Exception):  # what the user saw, for the report
            await page.screenshot(path=str(shots / f"failure-{username}-{id(result)}.png"), full_page=True)
    finally:
        await context.close()


def percentile(values: list[float], q: float) -> float | None:
    """Linearly interpolated percentile (METRICS.md's convention); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(
    settings: Settings,
    warm_up: UserResult,
    results: list[UserResult],
    idle: list[int],
    busy: list[int],
    wall: float,
) -> dict:
    """The report; `idle`: server memory samples before the warm-up login, `busy`: from its end on."""
    pages = [s for r in results for _, s in r.pages]
    sliders = [s for r in results for s in r.sliders]
    logins = [r.login for r in results if r.login is not None]
    idle_mb = [s / 2**20 for s in idle if s] or [0.0]
    mb = [s / 2**20 for s in busy if s] or [0.0]

    def stats(values: list[float]) -> dict:
        return {
            "count": len(values),
            **{f"p{q}_s": percentile(values, q) for q in (50, 95)},
            "max_s": max(values, default=None),
        }

    return {
        "users": settings.users,
        "accounts": sorted({r.name for r in results}),
        "seconds": settings.seconds,
        "wall_seconds": wall,
        "database": settings.db or "small demo fixture",
        "page_views": len(pages),
        "page_views_per_user_min": min((len(r.pages) for r in results), default=0),
        "page_time": stats(pages),
        "slider_time": stats(sliders),
        "cold_login_s": warm_up.login,
        "login_time": stats(logins),
        # start: after the warm-up login (data loaded, one session); growth: what the users added
        "rss_mb": {
            "idle": idle_mb[0],
            "start": mb[0],
            "peak": max(mb),
            "end": mb[-1],
            "growth": mb[-1] - mb[0],
        },
        "failures": [f for r in (warm_up, *results) for f in r.failures],
    }


def print_report(report: dict) -> None:
    def line(name: str, s: dict) -> str:
        figures = (s["p50_s"], s["p95_s"], s["max_s"])
        if s["count"] == 0:
            return f"{name}: none"
        return (
            f"{name}: {s['count']} × p50 {figures[0]:.2f} s, p95 {figures[1]:.2f} s, max {figures[2]:.2f} s"
        )

    rss = report["rss_mb"]
    print(
        f"\nload test: {report['users']} users ({', '.join(report['accounts'])})"
        f" for {report['seconds']:.0f} s ({report['wall_seconds']:.0f} s wall) on {report['database']}",
        f"page views: {report['page_views']} (fewest per user {report['page_views_per_user_min']})",
        line("page time", report["page_time"]),
        line("slider time", report["slider_time"]),
        f"cold login (warm-up, loads the data): {report['cold_login_s'] or float('nan'):.2f} s",
        line("login time (warm)", report["login_time"]),
        f"server RSS: idle {rss['idle']:.0f} MB; after the warm-up {rss['start']:.0f} MB,"
        f" peak {rss['peak']:.0f} MB, end {rss['end']:.0f} MB, growth {rss['growth']:+.0f} MB",
        f"failures: {len(report['failures'])} (server log and screenshots: {report.get('artifacts')})",
        *report["failures"],
        sep="\n",
    )


async def run(settings: Settings, server: Server) -> dict:
    from playwright.async_api import async_playwright

    results = [UserResult(name) for name, _ in zip(cycle(ACCOUNTS), range(settings.users), strict=False)]
    warm_up = UserResult(ACCOUNTS[0])
    samples: list[int] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_memory(server.pid, samples, stop))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # One login first loads the data, as on a server in use; the users then find it warm.
        await virtual_user(browser, server.base, warm_up, 0, server.log.parent)
        warm = len(samples)
        samples.append(rss_bytes(server.pid))
        start = time.monotonic()

        async def staggered(i: int, result: UserResult) -> None:
            await asyncio.sleep(i * RAMP_SECONDS)  # people do not all log in in the same instant
            await virtual_user(browser, server.base, result, settings.seconds, server.log.parent)

        await asyncio.gather(*(staggered(i, r) for i, r in enumerate(results)))
        wall = time.monotonic() - start
        await browser.close()
    stop.set()
    await sampler
    samples.append(rss_bytes(server.pid))
    if not await asyncio.to_thread(responsive, server.base):
        warm_up.failures.append(f"the server no longer answers {server.base}/_stcore/health (hung)")
    report = summary(settings, warm_up, results, samples[:warm], samples[warm:], wall)
    report["artifacts"] = str(server.log.parent)  # the server's log, a screenshot per failure
    return report


def test_concurrent_users_click_through_pages_and_sliders(settings, load_server):
    report = asyncio.run(run(settings, load_server))
    print_report(report)
    if settings.report is not None:
        settings.report.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    assert not report["failures"], report["failures"]
    assert report["page_views_per_user_min"] >= 3, report
    assert report["rss_mb"]["peak"] > 0  # the sampler saw the server
