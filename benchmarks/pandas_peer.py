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
