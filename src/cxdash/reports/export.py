"""Safe CSV export: UTF-8 with BOM for Excel users, spreadsheet formulas neutralised (OWASP)."""

import polars as pl

# A cell starting with one of these is read as a formula by spreadsheet programs: the ASCII forms and
# their full-width forms (Excel folds ＝＋－＠ to ASCII when it parses an entry).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# Spreadsheets skip leading blanks and line breaks before they look for a formula sign.
LEADING_BLANKS = " \u3000\n"
FORMULA_PATTERN = (
    "^[" + LEADING_BLANKS + "]*[" + "".join("\\" + p if p in "-+" else p for p in FORMULA_PREFIXES) + "]"
)


def formula_risk_expr(column: str) -> pl.Expr:
    """True where the text cell would start a spreadsheet formula (null stays null)."""
    return pl.col(column).cast(pl.String).str.contains(FORMULA_PATTERN)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote; numbers stay numbers."""
    text_columns = [
        name
        for name, dtype in frame.schema.items()
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
    ]
    return frame.with_columns(
        pl.when(formula_risk_expr(c))
        .then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in text_columns
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as CSV for Excel: UTF-8 with BOM, formulas neutralised."""
    return neutralise_formulas(frame).write_csv(include_bom=True).encode("utf-8")
