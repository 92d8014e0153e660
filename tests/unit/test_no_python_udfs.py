"""No Python UDF may run inside Polars anywhere in cxdash.

A Python function passed to Polars (`map_elements`, `map_batches`, `map_groups`, `map_rows`, `.apply`)
runs on Polars' worker threads and must take the GIL there. Polars 2.1 keeps the GIL in some calls while
it waits for those same workers (`DataFrame.to_pandas`, which `st.dataframe` makes; pickling a frame for
`st.cache_data`), so one session's UDF and another session's table deadlock the whole server, health
check included (pola-rs/polars#26821, #19382). Label codes with `cxdash.labels` instead: the labels are
computed in Python on the calling thread and applied by a native expression.
"""

import io
import tokenize
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "cxdash"
UDF_METHODS = {"map_elements", "map_batches", "map_groups", "map_rows", "apply"}


def udf_calls(source: str) -> list[tuple[int, str]]:
    """(line, method) of every `.method(` call of a UDF method in code (comments and strings are not code)."""
    tokens = [
        tok
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    ]
    return [
        (name.start[0], name.string)
        for dot, name, paren in zip(tokens, tokens[1:], tokens[2:], strict=False)
        if dot.string == "."
        and name.type == tokenize.NAME
        and name.string in UDF_METHODS
        and paren.string == "("
    ]


def test_the_scan_finds_udf_calls_in_code_only() -> None:
    source = (
        '"""pl.col("a").map_elements(f) in a docstring is fine."""\n'
        "x = df.with_columns(\n"
        "    pl.col('a')\n"
        "    .map_elements(lambda v: v)  # .map_batches( in a comment is fine\n"
        ")\n"
        "y = frame.group_by('g').map_groups(f)\n"
        "z = s.apply(f)\n"
        "w = pl.col('a').replace_strict(m)\n"
    )
    assert udf_calls(source) == [(4, "map_elements"), (6, "map_groups"), (7, "apply")]


def test_no_python_udf_runs_inside_polars() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50  # the scan really reads the package
    found = [
        f"{path.relative_to(SRC.parent)}:{line}: .{method}("
        for path in files
        for line, method in udf_calls(path.read_text(encoding="utf-8"))
    ]
    assert not found, (
        "Python UDFs inside Polars can deadlock the server under concurrent sessions (a UDF waits for the "
        "GIL on Polars' worker threads while another call holds the GIL waiting for those threads, "
        "pola-rs/polars#26821). Compute labels in Python with cxdash.labels (label_expr, with_label, "
        "joined_labels, row_labels) instead:\n" + "\n".join(found)
    )
