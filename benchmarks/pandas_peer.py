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
