"""Text columns → the schema's types, with one error row per bad cell (row, column, value, problem).

Each type is one Polars expression over the stripped text; a cell that has text but no value after
casting is an error, never silently null. Problems are codes (`import.problem.<code>` in the
catalogues) plus what was expected, so the CLI and both languages of the app can say them.
"""

from datetime import datetime
from typing import Final

import polars as pl

from cxdash.importer.files import ROW_COLUMN
from cxdash.importer.mapping import Mapping, Target

ERROR_SCHEMA: Final = {
    "row": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "problem": pl.String,
    "expected": pl.String,
}
UTC_TIME: Final = pl.Datetime("us", "UTC")
NAIVE_FORMATS: Final = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
AWARE_FORMATS: Final = ("%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M%#z")
EXCEL_EPOCH: Final = datetime(1899, 12, 30)
# Excel day numbers accepted as dates: 1954-10-03 … 2119-01-10 (a plain count outside is not a date).
EXCEL_SERIAL_RANGE: Final = (20_000, 80_000)
TRUE_WORDS: Final = ("true", "t", "yes", "y", "1", "是", "对", "√", "✓", "真")
FALSE_WORDS: Final = ("false", "f", "no", "n", "0", "否", "不是", "×", "✗", "假")
CURRENCY_MARKS: Final = r"[¥￥$€£,\s]|CNY|RMB|元"
# Ranges per (table, column) beyond the type itself.
RANGES: Final[dict[tuple[str, str], tuple[float | None, float | None]]] = {
    ("orders", "amount"): (0, None),
    ("tickets", "severity"): (1, 4),
    ("tickets", "reopen_count"): (0, None),
    ("tickets", "agent_replies"): (0, None),
    ("tickets", "reassign_count"): (0, None),
    ("surveys", "rating_speed"): (1, 5),
    ("surveys", "rating_resolution"): (1, 5),
    ("surveys", "rating_attitude"): (1, 5),
    ("surveys", "rating_knowledge"): (1, 5),
    ("sla_policies", "first_response_target_min"): (1, None),
    ("sla_policies", "resolution_target_min"): (1, None),
    ("order_lines", "unit_price"): (0, None),
}
EXPECTED: Final = {
    "int": "a whole number",
    "float": "a number",
    "money": "an amount such as 1234.50",
    "bool": "yes/no, true/false, 1/0, 是/否",
    "timestamp": "a date and time such as 2024-01-05 13:05, 2024/1/5, 2024年1月5日 or an Excel date",
    "date": "a date such as 2024-01-05, 2024/1/5 or 2024年1月5日",
}


def text_expr(raw: pl.Expr) -> pl.Expr:
    """Stripped text, blanks as null (the value itself is kept verbatim otherwise)."""
    stripped = raw.str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def enum_expr(text: pl.Expr, choices: tuple[str, ...]) -> pl.Expr:
    """A choice matched without case, blanks or hyphens ("Web Form" → web_form); null if none."""
    key = text.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
    return pl.when(key.is_in(list(choices))).then(key).otherwise(None)


def int_expr(text: pl.Expr) -> pl.Expr:
    """Whole numbers ("1,234", "12.0" from Excel); null for anything else."""
    plain = text.str.replace_all(r"[,\s]", "")
    return (
        pl.when(plain.str.contains(r"^[+-]?\d{1,19}(\.0*)?$"))  # 19 digits: overflow → null
        .then(plain.str.replace(r"\.0*$", "").str.replace(r"^\+", ""))
        .otherwise(None)
        .cast(pl.Int64, strict=False)
    )


def float_expr(text: pl.Expr) -> pl.Expr:
    plain = text.str.replace_all(r"[,\s]", "")
    number = (
        pl.when(plain.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"))
        .then(plain)
        .otherwise(None)
        .cast(pl.Float64, strict=False)
    )
    return pl.when(number.is_finite()).then(number).otherwise(None)


def money_expr(text: pl.Expr) -> pl.Expr:
    """Amounts with currency marks and thousands separators ("¥1,234.5", "1234.50元"), to the cent."""
    return float_expr(text.str.replace_all(CURRENCY_MARKS, "")).round(2, mode="half_away_from_zero")


def bool_expr(text: pl.Expr) -> pl.Expr:
    key = text.str.to_lowercase()
    return (
        pl.when(key.is_in(list(TRUE_WORDS)))
        .then(pl.lit(True))
        .when(key.is_in(list(FALSE_WORDS)))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )


def _iso_like(text: pl.Expr, date_order: str) -> pl.Expr:
    """2024/1/5, 2024.1.5, 2024年1月5日 (and 05/01/2024 by `date_order`) → 2024-1-5; T → space."""
    s = text.str.replace(r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})(?:\s*[日号])?", "$1-$2-$3")
    if date_order == "dmy":
        s = s.str.replace(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", "$3-$2-$1")
    elif date_order == "mdy":
        s = s.str.replace(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", "$3-$1-$2")
    return (
        s.str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})[T\s]+", "$1 ")
        .str.replace(r"(\d{1,2})时(\d{1,2})分((\d{1,2})秒)?$", "$1:$2:${4}")
        .str.replace(r":$", "")
    )


def timestamp_expr(text: pl.Expr, *, date_order: str = "ymd", timezone: str = "Asia/Shanghai") -> pl.Expr:
    """UTC times from the usual spellings; times without an offset are in `timezone`; Excel day
    numbers accepted; impossible dates (2024/02/30) and anything else → null."""
    iso = _iso_like(text, date_order)
    naive = pl.coalesce([iso.str.to_datetime(f, time_unit="us", strict=False) for f in NAIVE_FORMATS])
    serial = text.cast(pl.Float64, strict=False)
    low, high = EXCEL_SERIAL_RANGE
    excel = (
        pl.when(text.str.contains(r"^\d{5}(\.\d+)?$") & serial.is_between(low, high))
        .then(pl.lit(EXCEL_EPOCH) + pl.duration(milliseconds=(serial * 86_400_000).round(0).cast(pl.Int64)))
        .otherwise(None)
        .cast(pl.Datetime("us"))
    )
    local = pl.coalesce([naive, excel]).dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    )
    aware = pl.coalesce([iso.str.to_datetime(f, time_unit="us", strict=False) for f in AWARE_FORMATS])
    return pl.coalesce([local.dt.convert_time_zone("UTC"), aware.dt.convert_time_zone("UTC")]).cast(UTC_TIME)


def typed_expr(target: Target, text: pl.Expr, mapping: Mapping) -> pl.Expr:
    """The target's value from its text (null where the text is not a valid value)."""
    match target.type:
        case "enum":
            return enum_expr(text, target.choices)
        case "int":
            return int_expr(text)
        case "float":
            return float_expr(text)
        case "money":
            return money_expr(text)
        case "bool":
            return bool_expr(text)
        case "timestamp":
            return timestamp_expr(text, date_order=mapping.date_order, timezone=mapping.timezone)
        case "date":
            return timestamp_expr(text, date_order=mapping.date_order, timezone="UTC").dt.date()
    return text


def source_text(frame: pl.DataFrame, target: Target, mapping: Mapping) -> pl.Expr | None:
    """The target's text: its mapped column with value translations applied, or its constant default;
    None when the file neither has nor sets it."""
    header = mapping.columns.get(target.name)
    if header:
        text = text_expr(pl.col(header))
        translations = mapping.values.get(target.name)
        if translations:
            text = text.replace(translations)
        return text
    if target.name in mapping.defaults:
        return text_expr(pl.lit(mapping.defaults[target.name], pl.String))
    return None


def cast_file(
    frame: pl.DataFrame, mapping: Mapping, *, inexact: dict[str, frozenset[int]] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(typed, errors): `_row` plus one typed column per target the file maps or sets (named by the
    target), and one error row per cell that is missing (required), not of its type, outside its
    range, or an id Excel stored as an inexact number."""
    columns: list[pl.Expr] = [pl.col(ROW_COLUMN)]
    checks: list[pl.DataFrame] = []
    texts: dict[str, pl.Expr] = {}
    for target in mapping.targets():
        text = source_text(frame, target, mapping)
        if text is None:
            continue
        texts[target.name] = text
        columns.append(typed_expr(target, text, mapping).alias(target.name))
    typed = frame.select(columns)
    with_text = frame.select(
        pl.col(ROW_COLUMN), *(t.alias(f"text:{name}") for name, t in texts.items())
    ).with_columns(typed.drop(ROW_COLUMN))
    by_name = {t.name: t for t in mapping.targets()}
    for name in texts:
        target = by_name[name]
        checks.append(_cell_errors(with_text, target, mapping))
    for target in mapping.targets():
        if target.required and target.name not in texts and target.name not in mapping.skip_rows_without:
            checks.append(_unmapped(frame, target))
    checks.append(_inexact_ids(frame, mapping, inexact or {}))
    checks = [c for c in checks if c.height]
    errors = pl.concat(checks) if checks else pl.DataFrame(schema=ERROR_SCHEMA)
    return typed, errors.sort("row", "column")


def _cell_errors(frame: pl.DataFrame, target: Target, mapping: Mapping) -> pl.DataFrame:
    text = pl.col(f"text:{target.name}")
    value = pl.col(target.name)
    header = mapping.columns.get(target.name, target.name)
    expected = _expected(target)
    problem = pl.when(text.is_null() & pl.lit(target.required)).then(pl.lit("missing"))
    problem = problem.when(text.is_not_null() & value.is_null()).then(
        pl.lit("unknown_value" if target.type == "enum" else f"not_{target.type}")
    )
    low, high = RANGES.get((target.table, target.column), (None, None))
    if low is not None:
        problem = problem.when(value < low).then(pl.lit("out_of_range"))
    if high is not None:
        problem = problem.when(value > high).then(pl.lit("out_of_range"))
    skipped = target.name in mapping.skip_rows_without
    found = frame.select(
        pl.col(ROW_COLUMN).alias("row"),
        pl.lit(header).alias("column"),
        text.alias("value"),
        problem.otherwise(None).alias("problem"),
        pl.lit(expected).alias("expected"),
    ).filter(pl.col("problem").is_not_null())
    if skipped:  # rows without it are dropped (and counted), not errors
        found = found.filter(pl.col("problem") != "missing")
    return found.cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def _expected(target: Target) -> str:
    low, high = RANGES.get((target.table, target.column), (None, None))
    if target.type == "enum":
        return ", ".join(target.choices)
    if low is not None and high is not None:
        return f"{low:g}–{high:g}"
    if low is not None:
        return f"≥ {low:g}"
    return EXPECTED.get(target.type, "text")


def _unmapped(frame: pl.DataFrame, target: Target) -> pl.DataFrame:
    """A required column the mapping leaves out: one error, on the header row."""
    return pl.DataFrame(
        {
            "row": [1],
            "column": [target.name],
            "value": [None],
            "problem": ["not_mapped"],
            "expected": [target.name],
        },
        schema=ERROR_SCHEMA,
    )


def _inexact_ids(frame: pl.DataFrame, mapping: Mapping, inexact: dict[str, frozenset[int]]) -> pl.DataFrame:
    """Ids (text targets) that Excel stored as numbers longer than it keeps exactly."""
    rows = []
    for target in mapping.targets():
        header = mapping.columns.get(target.name)
        if target.type != "text" or not header or header not in inexact:
            continue
        bad = frame.filter(pl.col(ROW_COLUMN).is_in(sorted(inexact[header])))
        for row, value in bad.select(ROW_COLUMN, header).iter_rows():
            rows.append((row, header, value, "inexact_excel_number", "the id typed as text in Excel"))
    return pl.DataFrame(rows, schema=ERROR_SCHEMA, orient="row")
