"""Load-test fixtures: one `streamlit run` server (with its PID, for memory sampling) on a private
copy of the database, and the settings from the environment.

Collected only with CXDASH_LOAD=1 (the root conftest ignores this folder otherwise):
`CXDASH_LOAD=1 .venv/bin/pytest tests/load -s`.
"""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import need
from tests.e2e.conftest import CHROMIUM, ROOT, free_port


@dataclass(frozen=True, slots=True)
class Settings:
    users: int
    seconds: float
    db: str | None  # None: the small demo fixture
    report: Path | None


@dataclass(frozen=True, slots=True)
class Server:
    base: str
    pid: int
    log: Path


def read_settings() -> Settings:
    report = os.environ.get("CXDASH_LOAD_REPORT")
    return Settings(
        users=int(os.environ.get("CXDASH_LOAD_USERS", "12")),
        seconds=float(os.environ.get("CXDASH_LOAD_SECONDS", "120")),
        db=os.environ.get("CXDASH_LOAD_DB") or None,
        report=Path(report) if report else None,
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    return read_settings()


@pytest.fixture(scope="session")
def load_db(settings, request, tmp_path_factory) -> str:
    """A copy of the database: the server writes sessions and login attempts to it."""
    url = settings.db or request.getfixturevalue("small_db")
    source = Path(url.removeprefix("sqlite:///"))
    if not url.startswith("sqlite:///"):
        return url  # e.g. PostgreSQL: used as it is
    need(source.exists(), f"no database at {source}")
    target = tmp_path_factory.mktemp("load") / "load.db"
    shutil.copy(source, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def load_server(load_db, tmp_path_factory) -> Iterator[Server]:
    """`streamlit run app.py` on a free port, its output in a log file (a pipe nobody reads would
    block the server once full)."""
    need(CHROMIUM.exists(), "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    port = free_port()
    log = tmp_path_factory.mktemp("load-server") / "streamlit.log"
    env = {**os.environ, "CXDASH_DB_URL": load_db, "CXDASH_LANG": "zh"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--server.headless", "true"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
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
        pytest.fail("streamlit did not start: " + log.read_text())
    yield Server(base, process.pid, log)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
