"""`python -m cxdash import` on the real public samples (tests/fixtures/public) with the README's
mappings (data/mappings): the figures `kpis` then gives equal an independent count of the raw CSV;
dry runs write nothing; a file with errors writes nothing and lists them; the same file twice is
refused."""

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from cxdash.cli import main
from cxdash.db.engine import dispose_engines
from tests.conftest import data_version_of

ROOT = Path(__file__).resolve().parents[2]
TICKETS = ROOT / "tests" / "fixtures" / "public" / "support_tickets.csv"
ORDER_LINES = ROOT / "tests" / "fixtures" / "public" / "online_retail.csv"
TICKET_MAPPING = ROOT / "data" / "mappings" / "support_tickets.yaml"
ORDER_MAPPING = ROOT / "data" / "mappings" / "online_retail.yaml"


@pytest.fixture
def empty(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["init-db", "--db", url]) == 0
    yield url
    dispose_engines()


def kpis(capsys, url: str, period: str) -> dict:
    capsys.readouterr()
    assert main(["kpis", "--db", url, "--period", period]) == 0
    return json.loads(capsys.readouterr().out)["kpis"]


def rows(path: Path, encoding: str = "utf-8") -> list[dict]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_ticket_export_imports_and_kpis_match_the_raw_file(empty, capsys):
    assert main(["import", "--db", empty, "--mapping", str(TICKET_MAPPING), str(TICKETS)]) == 0
    out = capsys.readouterr().out
    raw = rows(TICKETS)
    timed = [r for r in raw if r["First Response Time"]]  # open tickets have no time: skipped
    assert f"{len(raw) - len(timed):,} skipped" in out
    ratings = [float(r["Customer Satisfaction Rating"]) for r in timed if r["Customer Satisfaction Rating"]]
    quarter = {
        f"{d.year}Q{(d.month - 1) // 3 + 1}"
        for d in (datetime.fromisoformat(r["First Response Time"]) for r in timed)
    }
    assert quarter == {"2023Q2"}
    figures = kpis(capsys, empty, "2023Q2")
    assert figures["tickets"]["value"] == len(timed)
    assert figures["csat_pct"]["n"] == len(ratings)
    assert figures["csat_pct"]["value"] == pytest.approx(100 * sum(r >= 4 for r in ratings) / len(ratings))
    assert figures["csat_mean"]["value"] == pytest.approx(sum(ratings) / len(ratings))
    pending = sum(r["Ticket Status"] == "Pending Customer Response" for r in timed)
    assert figures["backlog_open"]["value"] == pending


def test_the_order_lines_sum_into_orders_and_revenue_matches_the_raw_file(empty, capsys):
    assert main(["import", "--db", empty, "--mapping", str(ORDER_MAPPING), str(ORDER_LINES)]) == 0
    raw = [r for r in rows(ORDER_LINES, "cp1252") if r["CustomerID"]]
    completed = [r for r in raw if not r["InvoiceNo"].startswith("C")]
    by_invoice: dict[str, float] = {}
    for r in completed:
        by_invoice[r["InvoiceNo"]] = by_invoice.get(r["InvoiceNo"], 0.0) + float(r["Quantity"]) * float(
            r["UnitPrice"]
        )
    figures = kpis(capsys, empty, "2010Q4")
    assert figures["revenue"]["value"] == pytest.approx(
        sum(round(v, 2) for v in by_invoice.values()), abs=0.01
    )


def test_a_dry_run_writes_nothing(empty, capsys):
    version = data_version_of(empty)
    code = main(["import", "--db", empty, "--mapping", str(TICKET_MAPPING), "--dry-run", str(TICKETS)])
    assert code == 0 and "nothing was written" in capsys.readouterr().out
    assert data_version_of(empty) == version


def test_the_same_file_twice_is_refused(empty, capsys):
    assert main(["import", "--db", empty, "--mapping", str(ORDER_MAPPING), str(ORDER_LINES)]) == 0
    version = data_version_of(empty)
    assert main(["import", "--db", empty, "--mapping", str(ORDER_MAPPING), str(ORDER_LINES)]) == 2
    assert "already imported" in capsys.readouterr().err
    assert data_version_of(empty) == version


def test_a_file_with_errors_writes_nothing_and_lists_them(empty, tmp_path, capsys):
    bad = tmp_path / "tickets.csv"
    bad.write_text(
        "工单号,客户邮箱,渠道,创建时间,优先级,团队\n"
        "T1,a@x.com,电话,2026-01-05 09:00,高,T9\n"
        "T2,b@x.com,传真,2026-02-30,高,T9\n",
        encoding="utf-8-sig",
    )
    errors = tmp_path / "errors.csv"
    version = data_version_of(empty)
    code = main(
        [
            "import",
            "--db",
            empty,
            "--kind",
            "flat_tickets",
            str(bad),
            "--errors",
            str(errors),
            "--save-mapping",
            str(tmp_path / "m.yaml"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "nothing was written" in err
    assert "row 3, 渠道: '传真'" in err and "row 3, 创建时间: '2026-02-30'" in err
    listed = errors.read_bytes().decode("utf-8-sig").splitlines()
    assert listed[0] == "row,column,value,problem,expected"
    assert [line.split(",")[:4] for line in listed[1:]] == [
        ["2", "tickets.team_id", "T9", "unknown_reference"],  # row 3 has cell errors: not checked further
        ["3", "创建时间", "2026-02-30", "not_timestamp"],
        ["3", "渠道", "传真", "unknown_value"],
    ]
    assert data_version_of(empty) == version
    assert "channel: 渠道" in (tmp_path / "m.yaml").read_text(encoding="utf-8")


def test_without_a_mapping_or_kind_it_says_what_to_give(empty, capsys):
    assert main(["import", "--db", empty, str(TICKETS)]) == 2
    assert "--table NAME, --kind" in capsys.readouterr().err
