"""`python -m cxdash bench --whatif` on the small demo: cxdash's re-tier beside the pandas peers, whose
results are checked equal before timing (no timing asserted; the browser part is left out here)."""

import json
from pathlib import Path

from cxdash import bench
from cxdash.cli import main


def test_whatif_bench_reports_cxdash_beside_pandas(capsys, monkeypatch, small_db):
    monkeypatch.setattr(bench, "CHROMIUM", Path("/nonexistent/chromium"))
    assert main(["bench", "--db", small_db, "--whatif", "--runs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["what-if"]
    assert rows[0]["what"].startswith("per-customer facts")
    retier = rows[1]
    assert (
        retier["what"].startswith("re-tier + summary") and retier["cxdash_s"] > 0 and retier["pandas_s"] > 0
    )
    assert retier["duckdb_s"] > 0  # the SQL peer agreed on every tier before it was timed
    (target,) = report["targets"]
    assert target["target"].startswith("pure re-tier") and target["at_most"] == 0.005
    assert target["ratio_vs_pandas"] == retier["pandas_s"] / retier["cxdash_s"]
    assert rows[2]["what"].startswith("the usual way") and rows[2]["pandas_s"] > 0


def test_kpi_bench_checks_both_peers_equal_then_reports_the_target(capsys, small_db):
    """The 23 headline KPIs in pandas and in DuckDB SQL equal cxdash's (bench raises otherwise)."""
    assert main(["bench", "--db", small_db, "--kpis", "--runs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["kpis"]
    assert row["what"].startswith("headline KPIs (23)")
    assert row["cxdash_s"] > 0 and row["pandas_s"] > 0 and row["duckdb_s"] > 0
    (target,) = report["targets"]
    assert target["target"] == "headline KPI set (s)" and target["ratio_at_least"] == 2.0
    assert target["met"] == (row["cxdash_s"] <= 0.3)
