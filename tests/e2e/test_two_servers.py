"""More users (docs/deploy.md): two app processes on one PostgreSQL behind nginx, sticky per browser.

nginx runs docs/nginx.conf.example itself — ports, certificate and log paths replaced — as a child
process with its own prefix in a temporary folder, TLS included (a self-signed certificate), so the
session cookie is set `Secure` through X-Forwarded-Proto as in production. Sessions live in the
database: when the process a browser is on stops, its next reload lands on the other one, still
signed in; a logout on one process ends the session on the other.
"""

import getpass
import http.client
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cxdash.auth.demo import create_demo_users
from cxdash.db.engine import dispose_engines
from cxdash.demo.staffing import demo_setup
from cxdash.demo.writer import write_tables
from tests.conftest import PG_URL, SMALL, _reachable, need
from tests.e2e.conftest import ROOT, free_port, login, settle

TEMPLATE = ROOT / "docs" / "nginx.conf.example"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OVERVIEW = "[data-testid=stMetric]"
LOGIN_FORM = "[data-testid=stForm]"

pytestmark = pytest.mark.postgres


def test_the_deploy_guide_shows_the_tested_nginx_config():
    """docs/deploy.md prints docs/nginx.conf.example verbatim: the config the test below runs."""
    assert TEMPLATE.read_text(encoding="utf-8") in DEPLOY_DOC.read_text(encoding="utf-8")


# PostgreSQL --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_url(small_frames):
    """The small demo in a database of its own, dropped afterwards: the other PostgreSQL tests
    rewrite the CXDASH_TEST_PG_URL database, and may run while these servers hold it."""
    need(_reachable(PG_URL), f"no PostgreSQL at CXDASH_TEST_PG_URL={PG_URL!r}")
    name = f"cxdash_two_servers_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        write_tables(url, small_frames, force=True, calendars=demo_setup(SMALL.tz, SMALL.locale))
        create_demo_users(url, now=datetime.now(UTC))
        yield url
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The app processes -------------------------------------------------------------------------------


class App:
    """One `streamlit run app.py` on a fixed port (a restart comes back on the same one)."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
            "--server.address", "127.0.0.1", "--server.headless", "true",
        ]  # fmt: skip
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        wait_until(lambda: status(f"http://127.0.0.1:{self.port}/_stcore/health") == 200, self.explain)

    def stop(self, *, crash: bool = False) -> None:
        """Stop the process: SIGKILL (a crash) or SIGTERM (an orderly restart)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def explain(self) -> str:
        return f"streamlit on port {self.port} did not start:\n{self.log.read_text()[-3000:]}"


def status(url: str, cookie: str = "") -> int | None:
    """The HTTP status of a GET (None: no answer); TLS certificates are not checked."""
    return _get(url, cookie)[0]


def _get(url: str, cookie: str = "") -> tuple[int | None, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=5, context=_INSECURE) as response:
            return response.status, response.headers.get("X-Upstream", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Upstream", "")
    except OSError:
        return None, ""


_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE


def wait_until(condition, explain, *, seconds: float = 90) -> None:
    """Poll `condition` until it holds; fail with `explain()` after `seconds` (a start-up bound)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(explain())
        time.sleep(0.3)


def served_by(x_upstream: str) -> int:
    """The port of the process that answered: the last address nginx tried (it lists each one)."""
    return int(x_upstream.rsplit(",", maxsplit=1)[-1].strip().rsplit(":", maxsplit=1)[1])


# nginx -------------------------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, valid for a day."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def site_config(replacements: dict[str, str]) -> str:
    """docs/nginx.conf.example with its example ports and paths replaced; each must occur exactly
    once, so the guide's config and the tested one cannot drift apart unnoticed."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{old!r} should occur once in {TEMPLATE.name}"
        text = text.replace(old, new)
    return text


def main_config(folder: Path) -> str:
    """nginx.conf around the site: in the foreground, every file it writes in `folder`. Workers run as
    the current user (as root — CI — `user root;`, else nginx would switch to nobody, who cannot
    enter the private temporary folder; for anyone else nginx ignores the directive)."""
    return f"""
user {getpass.getuser()};
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/cxdash.conf;
}}
"""


@pytest.fixture(scope="module")
def cluster(pg_url, tmp_path_factory):
    """Two app processes (same database, same session secret) and nginx in front; yields
    (nginx's https base URL, {port: App}, the plain-http port that redirects)."""
    need(Path(NGINX).exists(), "nginx is not installed (apt-get install nginx)")
    folder = tmp_path_factory.mktemp("nginx")
    env = {
        **os.environ, "CXDASH_DB_URL": pg_url, "CXDASH_LANG": "zh",
        "CXDASH_SESSION_SECRET": secrets.token_urlsafe(48),
    }  # fmt: skip
    ports = free_port(), free_port()
    apps = {port: App(port, env, folder / f"app-{port}.log") for port in ports}
    https_port, http_port = free_port(), free_port()
    cert, key = self_signed(folder)
    (folder / "cxdash.conf").write_text(
        site_config(
            {
                "server 127.0.0.1:8501 ": f"server 127.0.0.1:{ports[0]} ",
                "server 127.0.0.1:8502 ": f"server 127.0.0.1:{ports[1]} ",
                "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
                "listen 80;": f"listen 127.0.0.1:{http_port};",
                "/etc/ssl/cxdash/fullchain.pem": str(cert),
                "/etc/ssl/cxdash/privkey.pem": str(key),
            }
        )
    )
    (folder / "nginx.conf").write_text(main_config(folder))
    nginx_command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    check = subprocess.run([*nginx_command, "-t"], check=False, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    for app in apps.values():
        app.start()
    nginx_log = (folder / "nginx.out").open("w")
    nginx = subprocess.Popen(nginx_command, stdout=nginx_log, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{https_port}"
    try:
        wait_until(
            lambda: status(f"{base}/_stcore/health") == 200,
            lambda: "nginx did not start: " + (folder / "error.log").read_text()[-3000:],
        )
        yield base, apps, http_port
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        nginx_log.close()
        for app in apps.values():
            if app.process is not None:
                app.stop()


class _TrustingBrowser:
    """The module's Chromium, whose contexts accept the test's self-signed certificate (the `page`
    fixture of tests/e2e/conftest.py only calls new_context)."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **options):
        return self._browser.new_context(ignore_https_errors=True, **options)


@pytest.fixture(scope="module")
def browser(browser):
    return _TrustingBrowser(browser)


# The test ----------------------------------------------------------------------------------------


def reload(page) -> int:
    """Reload the page; the port of the process that served it, once the Overview is drawn again
    (signed in by the cookie alone: no login form)."""
    response = page.reload()
    assert response is not None and response.ok, response
    settle(page)
    page.wait_for_selector(OVERVIEW, timeout=60_000)
    assert page.locator(LOGIN_FORM).count() == 0
    return served_by(response.headers["x-upstream"])


def route_of(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "cxdash_route")


def wait_for_route(base: str, route: str, port: int) -> None:
    """Wait until nginx sends this route to `port` (a process just restarted is skipped for
    fail_timeout after its failure)."""
    cookie = f"cxdash_route={route}"

    def there() -> bool:
        code, upstream = _get(f"{base}/_stcore/health", cookie)
        return code == 200 and served_by(upstream) == port

    wait_until(there, lambda: f"nginx never sent route {route} to port {port}")


def route_to(base: str, port: int) -> str:
    """A route cookie value that nginx's consistent hash sends to `port` (each try: one chance in two)."""
    for _ in range(64):
        route = secrets.token_hex(16)
        code, upstream = _get(f"{base}/_stcore/health", f"cxdash_route={route}")
        if code == 200 and served_by(upstream) == port:
            return route
    pytest.fail(f"no route to port {port}")


def session_rows(url: str) -> list[tuple[str, str | None]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r) for r in conn.execute(sa.text("SELECT username, revoked_reason FROM app_sessions"))
            ]
    finally:
        engine.dispose()


# Killing the process a page is connected to fails the requests in flight to it (Chromium gives up on a
# socket that dies mid-response, nginx may answer 502 while it finds the live one): expected here.
@pytest.mark.allow_console("net::ERR_", "WebSocket", "HTTP 502", "HTTP 504")
def test_a_signed_in_user_survives_either_process_stopping(cluster, browser, page, pg_url):
    base, apps, http_port = cluster
    first, second = apps
    # Plain http only redirects to https.
    connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
    connection.request("GET", "/")
    redirect = connection.getresponse()
    assert redirect.status == 301 and redirect.getheader("Location", "").startswith("https://")
    connection.close()

    login(page, base)
    page.wait_for_selector(OVERVIEW, timeout=60_000)
    wait_until(
        lambda: any(c["name"] == "cxdash_session" for c in page.context.cookies()),
        lambda: "no session cookie after the login",
    )
    cookies = {c["name"]: c for c in page.context.cookies()}
    # Behind TLS termination the app saw X-Forwarded-Proto: https and marked its cookie Secure.
    assert cookies["cxdash_session"]["secure"] and cookies["cxdash_session"]["sameSite"] == "Strict"
    assert cookies["cxdash_route"]["httpOnly"] and cookies["cxdash_route"]["secure"]

    # Sticky: every reload goes to the same process while both run.
    home = reload(page)
    assert home in apps
    assert {reload(page) for _ in range(3)} == {home}
    away = second if home == first else first
    served = {home}

    # The browser's process crashes: the reload goes to the other one, still signed in.
    apps[home].stop(crash=True)
    assert reload(page) == away
    served.add(away)

    # It comes back and gets its browsers back (consistent hash); then the other one restarts.
    apps[home].start()
    wait_for_route(base, route_of(page), home)
    apps[away].stop()
    assert reload(page) == home
    assert served == set(apps)  # nginx really used both processes
    apps[away].start()

    # The same session at once on the other process (another browser with the copied cookie and a
    # route to it), then a logout on this one: the row is revoked, so the other process ends it too.
    other = browser.new_context(viewport={"width": 1440, "height": 1600})
    try:
        other.add_cookies(
            [cookies["cxdash_session"], {**cookies["cxdash_route"], "value": route_to(base, away)}]
        )
        second_page = other.new_page()
        response = second_page.goto(f"{base}/")
        assert response is not None and served_by(response.headers["x-upstream"]) == away
        settle(second_page)
        second_page.wait_for_selector(OVERVIEW, timeout=60_000)

        page.get_by_role("button", name="退出登录").click()
        settle(page)
        assert page.locator(LOGIN_FORM).count() == 1
        assert session_rows(pg_url) == [("manager", "logout")]

        response = second_page.reload()
        assert response is not None and served_by(response.headers["x-upstream"]) == away
        second_page.get_by_text("会话已结束").wait_for(timeout=60_000)  # login.ended_revoked
        settle(second_page)
        assert second_page.locator(LOGIN_FORM).count() == 1
        assert second_page.locator(OVERVIEW).count() == 0
    finally:
        other.close()
