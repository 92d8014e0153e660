"""`python -m cxdash bench --business-hours`: runs without a database on a small row count (no timing)."""

import json

import polars as pl

from cxdash.bench import synthetic_tickets
from cxdash.cli import main


def test_business_hours_bench_runs_without_a_database(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CXDASH_DB_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    code = main(["bench", "--business-hours", "--rows", "2000", "--runs", "1", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert "database" not in report
    measured, compiled = report["business hours (synthetic tickets, no database)"]
    assert measured["rows"] == 2000
    assert measured["cxdash_s"] > 0
    assert measured["rows_per_s"] > 0
    assert isinstance(measured["under_1s"], bool)
    assert compiled["rows"] > 0
    assert not (tmp_path / "absent.db").exists()


def test_business_hours_bench_table(capsys):
    assert main(["bench", "--business-hours", "--rows", "500", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "business FRT + resolution" in out
    assert "under_1s" in out


def test_bench_measures_everything_when_nothing_is_chosen_and_says_what_is_missing(capsys, tmp_path):
    """No section chosen means all of them (on the database), so a missing database is the first thing
    said, with what to do — and nothing is created."""
    absent = tmp_path / "absent.db"
    assert main(["bench", "--db", f"sqlite:///{absent}"]) == 2
    assert "python -m cxdash demo" in capsys.readouterr().err
    assert not absent.exists()


def test_synthetic_tickets_are_seeded_and_typed():
    tickets = synthetic_tickets(1000)
    assert tickets.equals(synthetic_tickets(1000))
    assert tickets.schema["created_at"] == pl.Datetime("us", "UTC")
    assert tickets["team_id"].n_unique() == 6
    assert 0 < tickets["first_response_at"].null_count() < tickets["resolved_at"].null_count()
    answered = tickets.drop_nulls("first_response_at")
    assert (answered["first_response_at"] >= answered["created_at"]).all()
