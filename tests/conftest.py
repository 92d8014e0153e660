"""Shared fixtures: demo databases and frames generated once per test session."""

import os
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from cxdash.auth.demo import create_demo_users
from cxdash.db.engine import make_engine
from cxdash.db.version import read_data_version
from cxdash.demo.generator import DemoConfig, generate
from cxdash.demo.staffing import demo_setup
from cxdash.demo.writer import write_tables

SMALL = DemoConfig(scale="small", seed=7, end_date=date(2026, 11, 15), locale="zh_CN")
MEDIUM = DemoConfig(scale="medium", seed=11, end_date=date(2026, 11, 15), locale="zh_CN")
IN_CI = os.environ.get("CXDASH_CI") == "1"
PG_URL = os.environ.get("CXDASH_TEST_PG_URL", "")
# The load test (tests/load) runs only when asked for: CXDASH_LOAD=1 pytest tests/load -s
collect_ignore = [] if os.environ.get("CXDASH_LOAD") == "1" else ["load"]


def data_version_of(url: str) -> int:
    """The data version of the database at `url`, read with a short-lived engine."""
    engine = make_engine(url)
    try:
        return read_data_version(engine)
    finally:
        engine.dispose()


def need(condition: bool, reason: str) -> None:
    """Skip on a developer's machine without a service; fail in CI, where every service must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CXDASH_CI=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def small_frames():
    return generate(SMALL)


@pytest.fixture(scope="session")
def medium_frames():
    return generate(MEDIUM)


@pytest.fixture(scope="session")
def small_db(tmp_path_factory, small_frames) -> str:
    """The small demo as `python -m cxdash demo` writes it, with its demo accounts."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'small.db'}"
    write_tables(url, small_frames, force=False, calendars=demo_setup(SMALL.tz, SMALL.locale))
    create_demo_users(url, now=datetime.now(UTC))
    return url


@pytest.fixture(scope="session")
def medium_db(tmp_path_factory, medium_frames) -> str:
    """The medium demo with its demo accounts: for the page tests of planted stories that need its size."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'medium.db'}"
    write_tables(url, medium_frames, force=False, calendars=demo_setup(MEDIUM.tz, MEDIUM.locale))
    create_demo_users(url, now=datetime.now(UTC))
    return url


def _reachable(url: str) -> bool:
    if not url:
        return False
    try:
        with sa.create_engine(url).connect():
            return True
    except sa.exc.SQLAlchemyError:
        return False


@pytest.fixture(scope="module")
def pg_db(small_frames):
    """The small demo written to the PostgreSQL test database (each module starts from it afresh)."""
    need(_reachable(PG_URL), f"no PostgreSQL at CXDASH_TEST_PG_URL={PG_URL!r}")
    write_tables(PG_URL, small_frames, force=True, calendars=demo_setup(SMALL.tz, SMALL.locale))
    return PG_URL


@pytest.fixture
def small_copy(small_db, tmp_path):
    """A private copy of the small demo database, for a test that writes to it."""
    import shutil

    from cxdash.db.engine import dispose_engines

    db = tmp_path / "copy.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), db)
    yield f"sqlite:///{db}"
    dispose_engines()
