"""The README's two set-up commands stay true: CI runs the test command verbatim."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt -e . && .venv/bin/python -m pytest"
)


def test_ci_runs_the_readme_test_command():
    assert TEST_COMMAND in (ROOT / "README.md").read_text(encoding="utf-8")
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_requirements_are_pinned_exactly():
    lines = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"streamlit", "streamlit-authenticator", "polars", "plotly", "sqlalchemy", "pytest"} <= names
