"""The usual Streamlit dashboard's loading: `pandas.read_sql` over SQLAlchemy, whole tables."""

import pandas as pd
import sqlalchemy as sa


def load_table(url: str, table: str) -> int:
    """Read a whole table with pandas; returns the row count."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return len(pd.read_sql(sa.text(f"SELECT * FROM {table}"), conn))
    finally:
        engine.dispose()


def whatif_summary(facts: pd.DataFrame, m_vip: float, f_vip: int, m_high: float, f_high: int) -> pd.DataFrame:
    """The what-if tier summary the pandas way, on the same per-customer facts: tier with np.select,
    group by tier, sums and ratios (customers, revenue, CSAT %, NPS, complaints per 1,000 orders, churn %)."""
    import numpy as np

    m, f = facts["monetary"], facts["frequency"]
    tier = np.select(
        [~facts["has_bought"], (m >= m_vip) & (f >= f_vip), (m >= m_high) | (f >= f_high)],
        ["prospect", "vip", "high_value"],
        "regular",
    )
    churned = facts["active_at_start"] & ~facts["active_at_end"]
    grouped = (
        facts.assign(tier=tier, churned=churned)
        .groupby("tier")
        .agg(
            customers=("customer_id", "size"),
            revenue=("monetary", "sum"),
            csat_hits=("csat_hits", "sum"),
            csat_n=("csat_n", "sum"),
            promoters=("nps_promoters", "sum"),
            detractors=("nps_detractors", "sum"),
            nps_n=("nps_n", "sum"),
            complaints=("complaints", "sum"),
            orders_n=("orders_n", "sum"),
            churned=("churned", "sum"),
            churn_n=("active_at_start", "sum"),
        )
    )
    grouped["revenue_share_pct"] = 100 * grouped["revenue"] / grouped["revenue"].sum()
    grouped["csat_pct"] = 100 * grouped["csat_hits"] / grouped["csat_n"]
    grouped["nps"] = 100 * (grouped["promoters"] - grouped["detractors"]) / grouped["nps_n"]
    grouped["complaint_rate_per_1k_orders"] = 1000 * grouped["complaints"] / grouped["orders_n"]
    grouped["churn_rate_pct"] = 100 * grouped["churned"] / grouped["churn_n"]
    return grouped


def tiers_from_orders(
    orders: pd.DataFrame, as_of: pd.Timestamp, m_vip: float, f_vip: int, m_high: float, f_high: int
) -> pd.DataFrame:
    """The usual Streamlit dashboard's slider path: recompute M and F from the raw orders on every move
    (no per-customer cache), then tier and count."""
    import numpy as np

    recent = orders[
        (orders["status"] == "completed")
        & (orders["ordered_at"] > as_of - pd.Timedelta(days=365))
        & (orders["ordered_at"] <= as_of)
    ]
    rfm = recent.groupby("customer_id").agg(m=("amount", "sum"), f=("amount", "size"))
    tier = np.select(
        [(rfm["m"] >= m_vip) & (rfm["f"] >= f_vip), (rfm["m"] >= m_high) | (rfm["f"] >= f_high)],
        ["vip", "high_value"],
        "regular",
    )
    return rfm.assign(tier=tier).groupby("tier").agg(customers=("m", "size"), revenue=("m", "sum"))


def _between(values: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (values >= start) & (values < end)


def _share(condition: pd.Series) -> float | None:
    return 100 * condition.mean() if len(condition) else None


def headline_kpis(
    tables: dict[str, pd.DataFrame],
    start: pd.Timestamp,
    end: pd.Timestamp,
    as_of: pd.Timestamp,
    data_as_of: pd.Timestamp,
    *,
    csat_threshold: int = 4,
    window_days: int = 180,
) -> dict[str, float | None]:
    """The 23 headline KPIs of METRICS.md, company-wide on the calendar clock, the way a pandas dashboard
    writes them: boolean masks, merges and groupbys over whole frames."""
    t, s, o, c = tables["tickets"], tables["surveys"], tables["orders"], tables["customers"]
    created = t[_between(t["created_at"], start, end)]
    resolved = created[created["resolved_at"].notna()]
    answered = created[created["first_response_at"].notna()]

    def responses(kind: str) -> pd.Series:
        rows = s[(s["kind"] == kind) & _between(s["responded_at"], start, end) & s["score"].notna()]
        return rows["score"].astype(float)

    csat, nps_scores, ces = responses("csat"), responses("nps"), responses("ces")
    sent = s[(s["kind"] == "csat") & _between(s["sent_at"], start, end)]
    frt_min = (answered["first_response_at"] - answered["created_at"]).dt.total_seconds() / 60
    resolution_h = (resolved["resolved_at"] - resolved["created_at"]).dt.total_seconds() / 3600

    def sla(done_at: str, target: str) -> float | None:
        rows = created.merge(tables["sla_policies"], on="priority")
        done = rows[done_at].notna()
        minutes = (rows[done_at].where(done, data_as_of) - rows["created_at"]).dt.total_seconds() / 60
        over = minutes > rows[target]
        met = done & ~over
        return _share(met[met | over])

    completed = o[o["status"] == "completed"]
    period_orders = completed[_between(completed["ordered_at"], start, end)]

    def buyers(after: pd.Timestamp, until: pd.Timestamp) -> set:
        mask = (completed["ordered_at"] > after) & (completed["ordered_at"] <= until)
        return set(completed.loc[mask, "customer_id"])

    window = pd.Timedelta(days=window_days)
    at_start, at_end = buyers(start - window, start), buyers(as_of - window, as_of)
    first_order = completed.groupby("customer_id")["ordered_at"].min()
    signed_up = c[_between(c["signup_at"], start, end)]
    year = completed[
        (completed["ordered_at"] > as_of - pd.Timedelta(days=365)) & (completed["ordered_at"] <= as_of)
    ]
    orders_per_buyer = year.groupby("customer_id").size()
    backlog = t[
        (t["created_at"] <= as_of)
        & (t["resolved_at"].isna() | (t["resolved_at"] > as_of))
        & (t["closed_at"].isna() | (t["closed_at"] > as_of))
    ]
    return {
        "csat_pct": _share(csat >= csat_threshold),
        "csat_mean": csat.mean() if len(csat) else None,
        "csat_response_rate_pct": _share(sent["responded_at"].notna()),
        "nps": 100 * ((nps_scores >= 9).sum() - (nps_scores <= 6).sum()) / len(nps_scores)
        if len(nps_scores)
        else None,
        "ces_mean": ces.mean() if len(ces) else None,
        "frt_median_min": frt_min.median(),
        "frt_p90_min": frt_min.quantile(0.9),
        "resolution_median_h": resolution_h.median(),
        "resolution_p90_h": resolution_h.quantile(0.9),
        "sla_first_response_pct": sla("first_response_at", "first_response_target_min"),
        "sla_resolution_pct": sla("resolved_at", "resolution_target_min"),
        "tickets": float(len(created)),
        "complaints": float(created["is_complaint"].sum()),
        "complaint_rate_per_1k_orders": 1000 * created["is_complaint"].sum() / len(period_orders)
        if len(period_orders)
        else None,
        "reopen_rate_pct": _share(resolved["reopen_count"] > 0),
        "one_touch_pct": _share(resolved["agent_replies"] <= 1),
        "escalation_rate_pct": _share(created["escalated"].astype(bool)),
        "backlog_open": float(len(backlog)),
        "revenue": round(float(period_orders["amount"].sum()), 2),
        "conversion_rate_pct": _share(signed_up["customer_id"].map(first_order) <= as_of),
        "active_customers": float(len(at_end)),
        "churn_rate_pct": 100 * len(at_start - at_end) / len(at_start) if at_start else None,
        "repeat_purchase_rate_pct": _share(orders_per_buyer >= 2),
    }
