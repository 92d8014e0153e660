"""Small conversions from the generator's numpy arrays to typed Polars columns."""

import numpy as np
import polars as pl


def to_datetime(epoch_seconds: np.ndarray | pl.Series) -> pl.Series:
    """Epoch seconds → tz-aware UTC datetimes."""
    return (pl.Series(epoch_seconds).cast(pl.Int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))


def masked(series: pl.Series, present: np.ndarray) -> pl.Series:
    """`series` with nulls where `present` is False."""
    frame = pl.DataFrame({"v": series, "present": present})
    return frame.select(pl.when("present").then("v")).to_series()
