"""Browser-test fixtures: a real `streamlit run` on the small demo, Debian's Chromium via Playwright.

Skips without /usr/bin/chromium on a developer's machine; fails under CXDASH_CI=1.
"""

import os
import shutil
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


def start_server(url: str):
    """Start `streamlit run app.py` on a free port; yields its base URL, stops it afterwards."""
    need(CHROMIUM.exists(), "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    port = free_port()
    env = {**os.environ, "CXDASH_DB_URL": url, "CXDASH_LANG": "zh"}
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
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + (process.stdout.read() if process.stdout else ""))
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def own_copy(small_db: str, folder) -> str:
    """A copy of the small demo for one server: what a test saves (a user's language, sessions) stays
    with that test's module."""
    target = folder / "e2e.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="module")
def e2e_db(small_db, tmp_path_factory) -> str:
    """The database of this module's server."""
    return own_copy(small_db, tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="module")
def server(e2e_db):
    yield from start_server(e2e_db)


@pytest.fixture
def fresh_server(small_db, tmp_path):
    """A server no session has used yet (Streamlit serves pages/ by URL until one calls st.navigation)."""
    yield from start_server(own_copy(small_db, tmp_path))


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM.exists(), "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context; any console error, page error or failed request fails the test.

    Not counted: requests the browser itself aborted on navigation or reload, the 404 for a download
    file of a script run that a newer run replaced, and the frontend's base-path probes. A test may
    allow a console message, a request failure reason or a status ("HTTP 502") it expects with
    @pytest.mark.allow_console("text").
    """
    allowed = [text for marker in request.node.iter_markers("allow_console") for text in marker.args]
    context = browser.new_context(viewport={"width": 1440, "height": 2600}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message) -> None:
        text = message.text
        if (
            message.type == "error"
            and not text.startswith("Failed to load resource")
            and not any(a in text for a in allowed)
        ):
            errors.append(text)

    def on_failed(failed) -> None:
        reason = failed.failure or ""
        if "ERR_ABORTED" not in reason and not any(a in reason for a in allowed):
            errors.append(f"request failed: {failed.url} ({reason})")

    def on_response(response) -> None:
        # Opened at /<page>, Streamlit's frontend first probes <page>/_stcore/… for a base path.
        probe = response.url.endswith(("/_stcore/health", "/_stcore/host-config"))
        failure = f"HTTP {response.status}"
        if response.status >= 400 and "/media/" not in response.url and not probe and failure not in allowed:
            errors.append(f"{failure}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    yield page
    context.close()
    assert not errors, errors


def settle(page) -> None:
    """Wait until the script run that an action started has finished and the page is idle."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_timeout(300)


def login(page, server: str, username: str = "manager", password: str | None = None) -> None:
    """Log in through the form, as a person would; waits for the app or the form's message."""
    from cxdash.auth.demo import DEMO_USERS

    password = password or next(p for u, p, *_ in DEMO_USERS if u == username)
    page.goto(f"{server}/")
    settle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    settle(page)
    page.wait_for_selector("[data-testid=stAlert], [data-testid=stMetric]", timeout=60_000)
    settle(page)


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
