"""Labels for coded values (codes → translated names) without Python code running inside Polars.

A Python UDF (`map_elements`, `map_batches`…) runs on Polars' worker threads and needs the GIL there;
Polars holds the GIL in some calls while it waits for those same workers (`DataFrame.to_pandas`, which
`st.dataframe` makes, or pickling a frame for `st.cache_data`), so two sessions at once can deadlock the
whole server (pola-rs/polars#26821, #19382). Here every label is computed in Python on the calling
thread, once per distinct value, and applied by a native expression (`replace_strict`) or added as a
ready-made Series. Nulls stay null, as `map_elements` (which skips nulls) left them.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import polars as pl

Label = Callable[[Any], str]


def label_map(values: Iterable[Any], label: Label) -> dict[Any, str]:
    """Each distinct non-null value → its label, `label` called once per value."""
    return {value: label(value) for value in dict.fromkeys(values) if value is not None}


def _as_text(source: pl.Series) -> pl.Series:
    """Enum/Categorical values as plain strings (replace_strict keys are then simple str)."""
    return source.cast(pl.String) if isinstance(source.dtype, pl.Enum | pl.Categorical) else source


def label_expr(frame: pl.DataFrame, column: str, label: Label) -> pl.Expr:
    """A native expression naming `column` (output name `column`, dtype String) with `label` of each of
    its values in `frame`; null stays null."""
    source = _as_text(frame.get_column(column))
    mapping = label_map(source.unique().to_list(), label)
    expr = pl.col(column).cast(pl.String) if source.dtype == pl.String else pl.col(column)
    return expr.replace_strict(mapping, default=None, return_dtype=pl.String).alias(column)


def with_label(frame: pl.DataFrame, column: str, label: Label, alias: str) -> pl.DataFrame:
    """`frame` with `alias` = label(value) of `column` (see label_expr)."""
    return frame.with_columns(label_expr(frame, column, label).alias(alias))


def joined_labels(frame: pl.DataFrame, column: str, label: Label, separator: str = ", ") -> pl.Series:
    """A list column as one String per row: its items' labels joined by `separator` (a null list stays
    null, an empty one gives ""), computed per row in Python on this thread."""
    rows = frame.get_column(column).to_list()
    texts = [None if items is None else separator.join(label(item) for item in items) for items in rows]
    return pl.Series(column, texts, dtype=pl.String)


def row_labels(
    frame: pl.DataFrame, columns: Sequence[str], label: Callable[..., str], name: str
) -> pl.Series:
    """label(*values) of each row's `columns`, as a String Series `name` (for labels that need several
    columns), computed in Python on this thread."""
    values = zip(*(frame.get_column(c).to_list() for c in columns), strict=True)
    return pl.Series(name, [label(*row) for row in values], dtype=pl.String)
