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


EXCEL_SHEET_NAME_LIMIT = 31
EXCEL_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = name.translate(EXCEL_FORBIDDEN).strip() or "Sheet"
    candidate, n = base[:EXCEL_SHEET_NAME_LIMIT], 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[: EXCEL_SHEET_NAME_LIMIT - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def xlsx_bytes(tables: dict[str, pl.DataFrame], *, definitions: pl.DataFrame | None = None) -> bytes:
    """A workbook with one sheet per table (and a definitions sheet): text cells written as text, never as
    formulas or links, and formula-like text neutralised as in CSV; numbers, dates and booleans stay
    typed. Chinese text is kept as it is (xlsx is Unicode)."""
    import io
    import math

    import xlsxwriter

    out = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
               "remove_timezone": True, "in_memory": True}  # fmt: skip
    with xlsxwriter.Workbook(out, options) as workbook:
        header = workbook.add_format({"bold": True})
        stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        taken: set[str] = set()
        sheets = dict(tables)
        if definitions is not None:
            sheets["definitions"] = definitions
        for name, frame in sheets.items():
            sheet = workbook.add_worksheet(sheet_name(name, taken))
            safe = neutralise_formulas(frame)
            for c, column in enumerate(safe.columns):
                sheet.write_string(0, c, str(column), header)
                dtype = safe.schema[column]
                for r, value in enumerate(safe.get_column(column).to_list(), start=1):
                    if value is None:
                        continue
                    if dtype == pl.String:
                        sheet.write_string(r, c, value)
                    elif dtype == pl.Boolean:
                        sheet.write_boolean(r, c, value)
                    elif isinstance(dtype, pl.Datetime):
                        sheet.write_datetime(r, c, value, stamp)
                    elif dtype == pl.Date:
                        sheet.write_datetime(r, c, value, day)
                    elif dtype.is_numeric():
                        if math.isfinite(value):  # NaN and ±inf have no cell value: left blank
                            sheet.write_number(r, c, value)
                    else:
                        sheet.write_string(r, c, str(value))
            sheet.freeze_panes(1, 0)
    return out.getvalue()
