"""`python -m cxdash bench --whatif` on the small demo: cxdash's re-tier beside the pandas peers, whose
results are checked equal before timing (no timing asserted; the browser part is left out here)."""

import json
from pathlib import Path

from cxdash import bench
from cxdash.cli import main


def test_whatif_bench_reports_cxdash_beside_pandas(capsys, monkeypatch, small_db):
    monkeypatch.setattr(bench, "CHROMIUM", Path("/nonexistent/chromium"))
    assert main(["bench", "--db", small_db, "--whatif", "--runs", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["what-if (tiers page slider)"]
    assert rows[0]["what"].startswith("per-customer facts")
    retier = rows[1]
    assert (
        retier["what"].startswith("re-tier + summary") and retier["cxdash_s"] > 0 and retier["pandas_s"] > 0
    )
    assert rows[2]["what"].startswith("the usual way") and rows[2]["pandas_s"] > 0
