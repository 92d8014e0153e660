"""The usual Streamlit dashboard's tiers page, for timing against cxdash's in the same run: orders read
with `pandas.read_sql` into `st.cache_data`, RFM recomputed from them on every slider move, the whole
script rerun, a Plotly Express chart. `streamlit run benchmarks/pandas_tiers_app.py` with CXDASH_DB_URL."""

import os

import pandas as pd
import plotly.express as px
import sqlalchemy as sa
import streamlit as st

from benchmarks.pandas_peer import tiers_from_orders

URL = os.environ["CXDASH_DB_URL"]


@st.cache_data
def orders() -> pd.DataFrame:
    engine = sa.create_engine(URL)
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("SELECT customer_id, ordered_at, amount, status FROM orders"), conn)
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True, format="mixed")
    return frame


st.title("Tiers (pandas peer)")
data = orders()
as_of = data["ordered_at"].max()
m_vip = st.slider("VIP: 365-day spend at least", 1_000, 100_000, 10_000, 500)
f_vip = st.slider("VIP: orders at least", 1, 60, 12)
summary = tiers_from_orders(data, as_of, m_vip, f_vip, 4_000, 10).reset_index()
st.plotly_chart(px.bar(summary, x="tier", y="customers"))
st.dataframe(summary)
