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
                "id": r[0],
                "customer": r[1],
                "team": r[2],
                "channel": r[3],
                "created": ts(r[4]),
                "fr": ts(r[5]),
                "resolved": ts(r[6]),
                "closed": ts(r[7]),
                "priority": r[8],
                "complaint": bool(r[9]),
                "reopen": r[10],
                "replies": r[11],
                "escalated": bool(r[12]),
            }
            for r in db.execute(
                "SELECT ticket_id, customer_id, team_id, channel, created_at, first_response_at, "
                "resolved_at, closed_at, priority, is_complaint, reopen_count, agent_replies, escalated "
                "FROM tickets"
            )
        ]
        self.surveys = [
            {
                "kind": kind,
                "customer": cid,
                "ticket": tid,
                "sent": ts(sent),
                "responded": ts(resp),
                "score": score,
            }
            for kind, cid, tid, sent, resp, score in db.execute(
                "SELECT kind, customer_id, ticket_id, sent_at, responded_at, score FROM surveys"
            )
        ]
        self.orders = [
            (cid, ts(at), amount)
            for cid, at, amount in db.execute(
                "SELECT customer_id, ordered_at, amount FROM orders WHERE status = 'completed'"
            )
        ]
        self.customers = {
            cid: {"signup": ts(at), "segment": segment, "region": region}
            for cid, at, segment, region in db.execute(
                "SELECT customer_id, signup_at, segment, region FROM customers"
            )
        }
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
        # The start of the order history: windows reaching before it have "not enough history".
        self.history_from = min(at for _, at, _ in self.orders)

    def kpis(self, start, end, scope=None, churn_days=180, threshold=4):
        scope = scope or {}
        teams, channels = scope.get("teams", []), scope.get("channels", [])
        segments, regions = scope.get("segments", []), scope.get("regions", [])
        ticket_filter = bool(teams or channels)

        def customer_ok(cid):
            c = self.customers.get(cid)
            return (
                c is not None
                and (not segments or c["segment"] in segments)
                and (not regions or c["region"] in regions)
            )

        scoped_tickets = [
            t
            for t in self.tickets
            if (not teams or t["team"] in teams)
            and (not channels or t["channel"] in channels)
            and (not (segments or regions) or customer_ok(t["customer"]))
        ]
        ticket_ids = {t["id"] for t in scoped_tickets}
        if ticket_filter:  # the customers these tickets have ever served
            customers = {t["customer"] for t in scoped_tickets}
        else:
            customers = {cid for cid in self.customers if customer_ok(cid)}
        surveys = [
            s
            for s in self.surveys
            if (s["ticket"] in ticket_ids if s["ticket"] is not None else s["customer"] in customers)
        ]
        as_of = min(end, self.data_as_of)
        inside = lambda t: t is not None and start <= t < end  # noqa: E731
        created = [t for t in scoped_tickets if inside(t["created"])]
        # Customer-side KPIs: under a ticket filter, the customers served in the period.
        side = {t["customer"] for t in created} if ticket_filter else customers
        orders = [o for o in self.orders if o[0] in side]
        out = {}
        self.reasons = {}  # why a value is null although there is data
        answered = [s for s in surveys if inside(s["responded"]) and s["score"] is not None]
        csat = [s["score"] for s in answered if s["kind"] == "csat"]
        out["csat_pct"] = (pct(sum(s >= threshold for s in csat), len(csat)), len(csat))
        out["csat_mean"] = (mean(csat), len(csat))
        sent = [s["responded"] for s in surveys if s["kind"] == "csat" and inside(s["sent"])]
        out["csat_response_rate_pct"] = (pct(sum(r is not None for r in sent), len(sent)), len(sent))
        nps = [s["score"] for s in answered if s["kind"] == "nps" and s["customer"] in side]
        promoters, detractors = sum(s >= 9 for s in nps), sum(s <= 6 for s in nps)
        out["nps"] = (pct(promoters - detractors, len(nps)), len(nps))
        ces = [s["score"] for s in answered if s["kind"] == "ces"]
        out["ces_mean"] = (mean(ces), len(ces))

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
        period_orders = [o for o in orders if inside(o[1])]
        if ticket_filter:
            out["complaint_rate_per_1k_orders"] = (None, 0)
            self.reasons["complaint_rate_per_1k_orders"] = "undefined_under_ticket_filter"
        else:
            out["complaint_rate_per_1k_orders"] = (
                None if not period_orders else 1000 * complaints / len(period_orders),
                len(period_orders),
            )
        out["reopen_rate_pct"] = (pct(sum(t["reopen"] > 0 for t in resolved), len(resolved)), len(resolved))
        out["one_touch_pct"] = (pct(sum(t["replies"] <= 1 for t in resolved), len(resolved)), len(resolved))
        out["escalation_rate_pct"] = (pct(sum(t["escalated"] for t in created), len(created)), len(created))
        backlog = sum(
            t["created"] <= as_of
            and (t["resolved"] is None or t["resolved"] > as_of)
            and (t["closed"] is None or t["closed"] > as_of)
            for t in scoped_tickets
        )
        out["backlog_open"] = (float(backlog), backlog)
        out["revenue"] = (round(sum(o[2] for o in period_orders), 2), len(period_orders))

        if ticket_filter:
            out["conversion_rate_pct"] = (None, 0)
            self.reasons["conversion_rate_pct"] = "undefined_under_ticket_filter"
        else:
            first_order = {}
            for cid, at, _ in orders:
                first_order[cid] = min(at, first_order.get(cid, at))
            signed = [cid for cid in customers if inside(self.customers[cid]["signup"])]
            converted = sum(cid in first_order and first_order[cid] <= as_of for cid in signed)
            out["conversion_rate_pct"] = (pct(converted, len(signed)), len(signed))
        w = timedelta(days=churn_days)

        def buyers(after, until):
            return {cid for cid, at, _ in orders if after < at <= until}

        active_now = buyers(as_of - w, as_of)
        if as_of - w < self.history_from:
            out["active_customers"] = (None, 0)
            self.reasons["active_customers"] = "not_enough_history"
        else:
            out["active_customers"] = (float(len(active_now)), len(active_now))
        if start - w < self.history_from:
            out["churn_rate_pct"] = (None, 0)
            self.reasons["churn_rate_pct"] = "not_enough_history"
        else:
            active_start = buyers(start - w, start)
            out["churn_rate_pct"] = (
                pct(len(active_start - active_now), len(active_start)),
                len(active_start),
            )
        if as_of - timedelta(days=365) < self.history_from:
            out["repeat_purchase_rate_pct"] = (None, 0)
            self.reasons["repeat_purchase_rate_pct"] = "not_enough_history"
        else:
            per_customer = defaultdict(int)
            for cid, at, _ in orders:
                if as_of - timedelta(days=365) < at <= as_of:
                    per_customer[cid] += 1
            repeaters = sum(c >= 2 for c in per_customer.values())
            out["repeat_purchase_rate_pct"] = (pct(repeaters, len(per_customer)), len(per_customer))
        return out


SCOPES = {
    "company": {},
    "team": {"teams": ["T01"]},
    "channel": {"channels": ["chat"]},
    "segment": {"segments": ["business"]},
    "region": {"regions": ["华东"]},
    "team_and_segment": {"teams": ["T02"], "segments": ["consumer"]},
}
FLAGS = {"teams": "--team", "channels": "--channel", "segments": "--segment", "regions": "--region"}


def run_kpis(db, scope):
    flags = [arg for key, values in scope.items() for value in values for arg in (FLAGS[key], value)]
    result = subprocess.run(
        [sys.executable, "-m", "cxdash", "kpis", "--db", db, "--period", "all", *flags],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def cli_reports(small_db):
    return run_kpis(small_db, {})


def test_every_quarter_is_reported(cli_reports):
    assert [r["period"] for r in cli_reports] == [
        "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"
    ]  # fmt: skip


@pytest.fixture(scope="module")
def plain(small_db):
    return Plain(small_db.removeprefix("sqlite:///"))


@pytest.mark.parametrize("scope_name", list(SCOPES))
def test_every_kpi_of_every_quarter_matches_plain_python(small_db, plain, scope_name):
    scope = SCOPES[scope_name]
    reports = run_kpis(small_db, scope)
    assert reports[0]["data_as_of"] == plain.data_as_of.isoformat()
    assert reports[0]["customers"] == ("served" if scope.get("teams") or scope.get("channels") else "all")
    mismatches = []
    for report in reports:
        start, end = quarter_bounds(report["period"])
        expected = plain.kpis(start, end, scope)
        assert report["as_of"] == min(end, plain.data_as_of).isoformat()
        assert set(report["kpis"]) == set(expected)
        for name, (value, n) in expected.items():
            got = report["kpis"][name]
            if got["n"] != n or not (
                (value is None and got["value"] is None) or (got["value"] == pytest.approx(value, rel=1e-9))
            ):
                mismatches.append((report["period"], name, got["value"], got["n"], value, n))
            if got.get("reason") != plain.reasons.get(name):
                mismatches.append((report["period"], name, "reason", got.get("reason")))
        assert report["running"] == (end > plain.data_as_of)
    assert not mismatches
    # The demo has a year of order history before its first quarter: every history KPI is defined.
    assert not any(k.get("reason") == "not_enough_history" for r in reports for k in r["kpis"].values())


def test_previous_is_the_value_of_the_quarter_before(cli_reports):
    for before, after in itertools.pairwise(cli_reports):
        for name, kpi in after["kpis"].items():
            assert kpi["previous"] == before["kpis"][name]["value"], (after["period"], name)
            assert kpi["previous_n"] == before["kpis"][name]["n"]
    assert all(k["previous"] is None for k in cli_reports[0]["kpis"].values())
