"""`python -m cxdash kpis` against a second, independent computation: plain Python over sqlite3 rows.

Nothing here uses cxdash's loaders, periods or metrics: the definitions of METRICS.md are re-implemented
with the standard library, over every quarter of the small demo.
"""

import itertools
import json
import math
import sqlite3
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")


def ts(text):
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def quantile(values, q):
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def pct(hits, total):
    return None if total == 0 else 100 * hits / total


def mean(values):
    return None if not values else sum(values) / len(values)


def quarter_bounds(label):
    year, q = int(label[:4]), int(label[-1])
    start = datetime(year, 3 * q - 2, 1, tzinfo=TZ)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


class Plain:
    def __init__(self, path):
        db = sqlite3.connect(path)
        self.tickets = [
            {
                "created": ts(r[0]),
                "fr": ts(r[1]),
                "resolved": ts(r[2]),
                "priority": r[3],
                "complaint": bool(r[4]),
                "reopen": r[5],
                "replies": r[6],
                "escalated": bool(r[7]),
            }
            for r in db.execute(
                "SELECT created_at, first_response_at, resolved_at, priority, is_complaint, reopen_count, "
                "agent_replies, escalated FROM tickets"
            )
        ]
        self.surveys = [
            (kind, ts(sent), ts(resp), score)
            for kind, sent, resp, score in db.execute(
                "SELECT kind, sent_at, responded_at, score FROM surveys"
            )
        ]
        self.orders = [
            (cid, ts(at), amount)
            for cid, at, amount in db.execute(
                "SELECT customer_id, ordered_at, amount FROM orders WHERE status = 'completed'"
            )
        ]
        self.signups = [
            (cid, ts(at)) for cid, at in db.execute("SELECT customer_id, signup_at FROM customers")
        ]
        self.sla = {p: (f, r) for p, f, r in db.execute("SELECT * FROM sla_policies")}
        stamps = []
        for table, column in [
            ("tickets", "created_at"), ("tickets", "first_response_at"), ("tickets", "resolved_at"),
            ("tickets", "closed_at"), ("ticket_events", "occurred_at"), ("surveys", "sent_at"),
            ("surveys", "responded_at"), ("orders", "ordered_at"), ("customers", "signup_at"),
            ("loyalty_ledger", "occurred_at"),
        ]:  # fmt: skip
            stamps.append(ts(db.execute(f"SELECT MAX({column}) FROM {table}").fetchone()[0]))
        self.data_as_of = max(s for s in stamps if s)

    def kpis(self, start, end, churn_days=180, threshold=4):
        as_of = min(end, self.data_as_of)
        inside = lambda t: t is not None and start <= t < end  # noqa: E731
        out = {}
        csat = [s for k, _, r, s in self.surveys if k == "csat" and inside(r) and s is not None]
        out["csat_pct"] = (pct(sum(s >= threshold for s in csat), len(csat)), len(csat))
        out["csat_mean"] = (mean(csat), len(csat))
        sent = [r for k, s, r, _ in self.surveys if k == "csat" and inside(s)]
        out["csat_response_rate_pct"] = (pct(sum(r is not None for r in sent), len(sent)), len(sent))
        nps = [s for k, _, r, s in self.surveys if k == "nps" and inside(r) and s is not None]
        promoters, detractors = sum(s >= 9 for s in nps), sum(s <= 6 for s in nps)
        out["nps"] = (pct(promoters - detractors, len(nps)), len(nps))
        ces = [s for k, _, r, s in self.surveys if k == "ces" and inside(r) and s is not None]
        out["ces_mean"] = (mean(ces), len(ces))

        created = [t for t in self.tickets if inside(t["created"])]
        frt = [(t["fr"] - t["created"]).total_seconds() / 60 for t in created if t["fr"]]
        out["frt_median_min"] = (quantile(frt, 0.5), len(frt))
        out["frt_p90_min"] = (quantile(frt, 0.9), len(frt))
        resolved = [t for t in created if t["resolved"]]
        hours = [(t["resolved"] - t["created"]).total_seconds() / 3600 for t in resolved]
        out["resolution_median_h"] = (quantile(hours, 0.5), len(hours))
        out["resolution_p90_h"] = (quantile(hours, 0.9), len(hours))
        for name, field, which in (
            ("sla_first_response_pct", "fr", 0),
            ("sla_resolution_pct", "resolved", 1),
        ):
            met = breached = 0
            for t in created:
                if t["priority"] not in self.sla:
                    continue
                target = self.sla[t["priority"]][which]
                if t[field] is not None:
                    ok = (t[field] - t["created"]).total_seconds() / 60 <= target
                    met, breached = met + ok, breached + (not ok)
                elif (self.data_as_of - t["created"]).total_seconds() / 60 > target:
                    breached += 1
            out[name] = (pct(met, met + breached), met + breached)
        complaints = sum(t["complaint"] for t in created)
        out["tickets"] = (float(len(created)), len(created))
        out["complaints"] = (float(complaints), complaints)
        period_orders = [o for o in self.orders if inside(o[1])]
        out["complaint_rate_per_1k_orders"] = (
            None if not period_orders else 1000 * complaints / len(period_orders),
            len(period_orders),
        )
        out["reopen_rate_pct"] = (pct(sum(t["reopen"] > 0 for t in resolved), len(resolved)), len(resolved))
        out["one_touch_pct"] = (pct(sum(t["replies"] <= 1 for t in resolved), len(resolved)), len(resolved))
        out["escalation_rate_pct"] = (pct(sum(t["escalated"] for t in created), len(created)), len(created))
        backlog = sum(
            t["created"] <= as_of and (t["resolved"] is None or t["resolved"] > as_of) for t in self.tickets
        )
        out["backlog_open"] = (float(backlog), backlog)
        out["revenue"] = (round(sum(o[2] for o in period_orders), 2), len(period_orders))

        first_order = {}
        for cid, at, _ in self.orders:
            first_order[cid] = min(at, first_order.get(cid, at))
        signed = [cid for cid, at in self.signups if inside(at)]
        converted = sum(cid in first_order and first_order[cid] <= as_of for cid in signed)
        out["conversion_rate_pct"] = (pct(converted, len(signed)), len(signed))
        w = timedelta(days=churn_days)

        def buyers(after, until):
            return {cid for cid, at, _ in self.orders if after < at <= until}

        active_now = buyers(as_of - w, as_of)
        out["active_customers"] = (float(len(active_now)), len(active_now))
        active_start = buyers(start - w, start)
        out["churn_rate_pct"] = (pct(len(active_start - active_now), len(active_start)), len(active_start))
        per_customer = defaultdict(int)
        for cid, at, _ in self.orders:
            if as_of - timedelta(days=365) < at <= as_of:
                per_customer[cid] += 1
        repeaters = sum(c >= 2 for c in per_customer.values())
        out["repeat_purchase_rate_pct"] = (pct(repeaters, len(per_customer)), len(per_customer))
        return out


@pytest.fixture(scope="module")
def cli_reports(small_db):
    result = subprocess.run(
        [sys.executable, "-m", "cxdash", "kpis", "--db", small_db, "--period", "all"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_every_quarter_is_reported(cli_reports):
    assert [r["period"] for r in cli_reports] == [
        "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"
    ]  # fmt: skip


def test_every_kpi_of_every_quarter_matches_plain_python(small_db, cli_reports):
    plain = Plain(small_db.removeprefix("sqlite:///"))
    assert cli_reports[0]["data_as_of"] == plain.data_as_of.isoformat()
    mismatches = []
    for report in cli_reports:
        start, end = quarter_bounds(report["period"])
        expected = plain.kpis(start, end)
        assert report["as_of"] == min(end, plain.data_as_of).isoformat()
        assert set(report["kpis"]) == set(expected)
        for name, (value, n) in expected.items():
            got = report["kpis"][name]
            if got["n"] != n or not (
                (value is None and got["value"] is None) or (got["value"] == pytest.approx(value, rel=1e-9))
            ):
                mismatches.append((report["period"], name, got["value"], got["n"], value, n))
    assert not mismatches


def test_previous_is_the_value_of_the_quarter_before(cli_reports):
    for before, after in itertools.pairwise(cli_reports):
        for name, kpi in after["kpis"].items():
            assert kpi["previous"] == before["kpis"][name]["value"], (after["period"], name)
            assert kpi["previous_n"] == before["kpis"][name]["n"]
    assert all(k["previous"] is None for k in cli_reports[0]["kpis"].values())
