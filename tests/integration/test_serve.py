"""`python -m cxdash serve`: start-up refusals reach the terminal before Streamlit starts."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cxdash import cli

ROOT = Path(__file__).resolve().parents[2]
STRONG = "N7v-2QpL0xWk9sRfT3bYh8Zc1JmUa5Ge6DiKo4Ps_rEw"


@pytest.fixture
def execs(monkeypatch):
    """Record the exec instead of replacing the test process with Streamlit."""
    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda path, argv, env: calls.append((path, argv, env)))
    monkeypatch.setattr(cli.os, "chdir", lambda path: calls.append(("chdir", path)))
    for name in ("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "STREAMLIT_SERVER_ENABLE_CORS",
                 "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION", "CXDASH_SESSION_SECRET"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return calls


@pytest.fixture
def real_db(small_db, tmp_path) -> str:
    """The small demo's data, no longer marked as a demo."""
    import sqlite3

    target = tmp_path / "real.db"
    shutil.copy(small_db.removeprefix("sqlite:///"), target)
    with sqlite3.connect(target) as db:
        db.execute("DELETE FROM app_meta WHERE key IN ('demo', 'demo_generated')")
    return f"sqlite:///{target}"


@pytest.mark.parametrize(
    "secret", ["", "a" * 32, "cxdash demo mode: sessions of a demo database only ", "short"]
)
def test_a_weak_secret_is_refused_on_the_terminal(capsys, monkeypatch, execs, real_db, secret):
    monkeypatch.setenv("CXDASH_SESSION_SECRET", secret)
    assert cli.main(["serve", "--db", real_db]) == 2
    err = capsys.readouterr().err
    assert "refuses to start" in err and "CXDASH_SESSION_SECRET" in err
    assert execs == []  # Streamlit never started


def test_a_strong_secret_starts_streamlit_in_the_project(capsys, monkeypatch, execs, real_db):
    monkeypatch.setenv("CXDASH_SESSION_SECRET", STRONG)
    assert cli.main(["serve", "--db", real_db, "--server.port", "8599"]) == 0
    (_, root), (path, argv, env) = execs
    assert root == ROOT and path == sys.executable
    assert argv[1:] == ["-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", "8599"]
    assert env["CXDASH_DB_URL"] == real_db


def test_a_demo_database_needs_no_secret(execs, small_db):
    relative = os.path.relpath(small_db.removeprefix("sqlite:///"))  # from this process's directory
    assert cli.main(["serve", "--db", f"sqlite:///{relative}"]) == 0
    assert execs[-1][2]["CXDASH_DB_URL"] == small_db  # relative path made absolute before the chdir


@pytest.mark.parametrize(
    ("flags", "env", "phrase"),
    [
        (["--server.enableCORS", "false"], {}, "enableCORS"),
        (["--server.enableXsrfProtection=false"], {}, "enableXsrfProtection"),
        ([], {"STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full"}, "showErrorDetails"),
    ],
)
def test_unsafe_streamlit_options_are_refused(capsys, monkeypatch, execs, small_db, flags, env, phrase):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", "--db", small_db, *flags]) == 2
    assert phrase in capsys.readouterr().err and execs == []


def test_other_commands_still_reject_unknown_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["kpis", "--period", "2026Q3", "--server.port", "1"])
    assert exit_info.value.code == 2 and "unrecognized" in capsys.readouterr().err


def test_the_real_command_exits_non_zero_with_the_reason(real_db, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CXDASH_SESSION_SECRET": "a" * 32}
    done = subprocess.run(
        [sys.executable, "-m", "cxdash", "serve", "--db", real_db],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "refuses to start" in done.stderr and "not random enough" in done.stderr
