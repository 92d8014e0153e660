"""Reading an uploaded file into text: encodings detected strictly, Excel read safely, limits first.

Everything is read as text (a `pl.String` column per header) so that ids keep their leading zeros and
18 digits; cxdash.importer.cast gives the columns their types. Row numbers are the spreadsheet's:
the header is row 1, the first data row is row 2.
"""

import csv
import hashlib
import io
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from cxdash.errors import InputError

ROW_COLUMN: Final = "_row"  # the spreadsheet row number of each data row
UTF8_BOM: Final = b"\xef\xbb\xbf"
UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")
ZIP_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
EXCEL_EXTENSIONS: Final = (".xlsx", ".xlsm", ".xls")
CSV_EXTENSIONS: Final = (".csv", ".txt", ".tsv")
# Excel keeps 15 significant digits of a number: a longer id stored as a number has lost digits.
EXCEL_EXACT_DIGITS: Final = 15
MAX_ZIP_RATIO: Final = 200  # unpacked / packed size of one member; real sheets stay far below
MIN_BOMB_MEMBER: Final = 1024 * 1024  # bytes a member unpacks to before its ratio counts


@dataclass(frozen=True, slots=True)
class Limits:
    """What an import may be: bytes on disk, bytes unpacked from an Excel file, and data rows."""

    max_bytes: int = 200 * 1024 * 1024
    max_unpacked_bytes: int = 1024 * 1024 * 1024
    max_rows: int = 2_000_000
    max_columns: int = 500


@dataclass(frozen=True, slots=True)
class TextTable:
    """A file read as text: one String column per header plus `_row`, its encoding or format, and the
    cells Excel stored as numbers too long to be exact (header → row numbers)."""

    frame: pl.DataFrame
    source_format: str  # "csv (utf-8)", "csv (gb18030)", "xlsx", …
    file_hash: str
    inexact_numbers: dict[str, frozenset[int]] = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW_COLUMN]


def file_hash(data: bytes) -> str:
    """The file's identity for "already imported": SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def read_text_table(
    data: bytes, filename: str, *, limits: Limits = Limits(), encoding: str | None = None
) -> TextTable:
    """The file as text columns; InputError (saying what is wrong and what to do) for anything that is
    not a readable CSV or Excel file within the limits. `encoding` overrides detection for CSV."""
    if len(data) > limits.max_bytes:
        raise InputError(
            f"The file is {_size(len(data))}; the limit is {_size(limits.max_bytes)}. "
            "Split it into smaller files and import them one after the other.",
            key="import.too_big",
            size_mb=round(len(data) / 1e6, 1),
            limit_mb=round(limits.max_bytes / 1e6, 1),
        )
    if not data.strip():
        raise InputError("The file is empty.", key="import.empty_file")
    name = filename.lower()
    looks_excel = data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC)
    if name.endswith(EXCEL_EXTENSIONS) or looks_excel:
        if not looks_excel:
            raise InputError(
                f"'{filename}' is named like an Excel workbook but is not one "
                f"(it starts like {_what_it_looks_like(data)}). Open it in Excel or WPS and save it "
                "as .xlsx or as CSV, then import that.",
                key="import.not_excel",
                name=filename,
                looks_like=_what_it_looks_like(data),
            )
        frame, inexact = _read_excel(data, limits)
        source = "xls" if data.startswith(OLE_MAGIC) else "xlsx"
    else:
        text, used = decode_text(data, encoding=encoding)
        frame = _read_csv(text, limits, delimiter="\t" if name.endswith(".tsv") else None)
        source, inexact = f"csv ({used})", {}
    if frame.height > limits.max_rows:
        raise InputError(
            f"The file has {frame.height:,} rows; the limit is {limits.max_rows:,}. "
            "Split it into smaller files.",
            key="import.too_many_rows",
            rows=frame.height,
            limit=limits.max_rows,
        )
    return TextTable(frame=frame, source_format=source, file_hash=file_hash(data), inexact_numbers=inexact)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _what_it_looks_like(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in head:
        return "an HTML page"
    if head.startswith(b"<?xml"):
        return "an XML file"
    if head.startswith(b"%pdf"):
        return "a PDF"
    return "text" if _is_text(head) else "an unknown binary format"


def _is_text(head: bytes) -> bool:
    return b"\x00" not in head


# Encodings -----------------------------------------------------------------------------------------


def decode_text(data: bytes, *, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used): UTF-8 (with or without BOM), else GB18030 when the result is Chinese
    text; never lossy — anything else asks for an explicit encoding. UTF-16 is refused."""
    if data.startswith(UTF16_BOMS):
        raise InputError(
            'The file is UTF-16 text (Excel\'s "Unicode text"). Save it as "CSV UTF-8" and import that.',
            key="import.utf16",
        )
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                f"The file cannot be read as {encoding}: {exc}. Check the encoding you gave.",
                key="import.bad_encoding_given",
                encoding=encoding,
            ) from None
    if b"\x00" in data[:65536]:
        raise InputError(
            "The file contains NUL bytes: it is binary, or UTF-16 text without a byte-order mark. "
            'Save it as "CSV UTF-8" and import that.',
            key="import.nul_bytes",
        )
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM) :].decode("utf-8"), "utf-8 BOM"
        except UnicodeDecodeError as exc:
            raise InputError(
                f"The file starts with a UTF-8 byte-order mark but is not UTF-8 (byte {exc.start}). "
                'Save it again as "CSV UTF-8".',
                key="import.bad_utf8",
                at=exc.start,
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _mostly_chinese(text):
        return text, "gb18030"
    raise InputError(
        "The file is neither UTF-8 nor Chinese GB18030/GBK text, so its characters cannot be read "
        'without guessing. Save it as "CSV UTF-8", or give its encoding in the column mapping '
        "(e.g. encoding: cp1252).",
        key="import.unknown_encoding",
    )


def _mostly_chinese(text: str) -> bool:
    """GB18030 decodes most byte soups: accept it only when the non-ASCII characters are CJK, and
    mostly common ones (GB2312). A Latin-1 letter before an ASCII one ("Müller") decodes to a rare
    GBK ideograph outside GB2312 (黮), so Latin-1 text fails the second test."""
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return True
    cjk = sum(1 for ch in wide if _is_cjk(ch))
    common = sum(1 for ch in wide if _in_gb2312(ch))
    return cjk / len(wide) >= 0.9 and common / len(wide) >= 0.5


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF  # unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x20000 <= code <= 0x3FFFF  # extensions B–H (four bytes in GB18030)
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x3000 <= code <= 0x303F  # CJK punctuation
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x2000 <= code <= 0x206F  # general punctuation (“”…—)
        or ch in "·×÷°"
    )


# Headers -------------------------------------------------------------------------------------------


def clean_header(header: str) -> str:
    """A header as people mean it: full-width forms folded (NFKC), blanks around it dropped."""
    return unicodedata.normalize("NFKC", header).strip()


def checked_headers(raw: list[str], max_columns: int) -> list[str]:
    """Cleaned headers; InputError for none, too many, blank or duplicate ones (naming the columns)."""
    headers = [clean_header(h) for h in raw]
    while headers and not headers[-1]:
        headers.pop()  # trailing empty columns (a common Excel leftover)
    if not headers:
        raise InputError("The file has no header row.", key="import.no_header")
    if len(headers) > max_columns:
        raise InputError(
            f"The file has {len(headers)} columns; the limit is {max_columns}.",
            key="import.too_many_columns",
            columns=len(headers),
            limit=max_columns,
        )
    blank = [i + 1 for i, h in enumerate(headers) if not h]
    if blank:
        raise InputError(
            f"Column {', '.join(map(str, blank))} has no header. Give every column a name in row 1.",
            key="import.blank_header",
            columns=", ".join(map(str, blank)),
        )
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):
        if h.casefold() in seen:
            first = seen[h.casefold()]
            raise InputError(
                f"Columns {first + 1} and {i + 1} are both named '{h}'. Rename one of them.",
                key="import.duplicate_header",
                first=first + 1,
                second=i + 1,
                name=h,
            )
        seen[h.casefold()] = i
    if ROW_COLUMN in headers:
        raise InputError(f"A column may not be named '{ROW_COLUMN}'.", key="import.reserved_header")
    return headers


# CSV -----------------------------------------------------------------------------------------------


def _read_csv(text: str, limits: Limits, *, delimiter: str | None) -> pl.DataFrame:
    if "\x00" in text:
        raise InputError(
            "The file contains NUL characters; it is not a text file. Export it again as CSV.",
            key="import.nul_bytes",
        )
    sep = delimiter or _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        raw_headers = next(reader)
    except StopIteration:
        raise InputError("The file has no header row.", key="import.no_header") from None
    except csv.Error as exc:
        raise _csv_error(exc, 1) from None
    headers = checked_headers(raw_headers, limits.max_columns)
    width = len(headers)
    records: list[list[str]] = []
    rows: list[int] = []
    ragged: list[tuple[int, int]] = []
    record = 1
    try:
        for read in reader:
            record += 1
            fields = read
            if not "".join(fields).strip():
                continue  # blank lines
            if len(rows) >= limits.max_rows:
                raise InputError(
                    f"The file has more than {limits.max_rows:,} rows; split it into smaller files.",
                    key="import.too_many_rows",
                    rows=limits.max_rows + 1,
                    limit=limits.max_rows,
                )
            if len(fields) != width:
                if len(fields) < width or "".join(fields[width:]).strip():
                    ragged.append((record, len(fields)))
                fields = (fields + [""] * width)[:width]
            rows.append(record)
            records.append(fields)
    except csv.Error as exc:
        raise _csv_error(exc, record + 1) from None
    if ragged:
        first = ragged[:5]
        listed = "; ".join(f"row {r} has {n}" for r, n in first)
        raise InputError(
            f"{len(ragged)} row(s) do not have {width} fields like the header: {listed}. "
            "A comma or quote inside a value probably needs quoting; export the file again as CSV.",
            key="import.ragged_rows",
            count=len(ragged),
            width=width,
            rows=listed,
        )
    schema = dict.fromkeys(headers, pl.String)
    frame = pl.DataFrame(records or None, schema=schema, orient="row")
    blank_as_null = (
        pl.when(pl.col(h).str.strip_chars() == "").then(None).otherwise(pl.col(h)).alias(h) for h in headers
    )
    return frame.select(pl.Series(ROW_COLUMN, rows, dtype=pl.Int64), *blank_as_null)


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _csv_error(exc: csv.Error, row: int) -> InputError:
    reason = str(exc)
    if "unexpected end of data" in reason or "EOF" in reason:
        reason = "a quoted value is never closed"
    return InputError(
        f"The CSV cannot be read near row {row}: {reason}. Check the quotes in that row, or export the "
        "file again as CSV.",
        key="import.bad_csv",
        row=row,
        reason=reason,
    )


# Excel ---------------------------------------------------------------------------------------------


def _check_zip(data: bytes, limits: Limits) -> None:
    """Refuse zip bombs before anything is unpacked: declared sizes, ratios and member count, then an
    unpacking pass that stops at the limit (declared sizes can lie); then the workbook's parts."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _damaged("not a valid archive") from None
    with archive:
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        # Small parts (styles, an empty sheet) compress very well; only a big member's ratio counts.
        ratio = max(
            (m.file_size / max(m.compress_size, 1) for m in members if m.file_size > MIN_BOMB_MEMBER),
            default=0,
        )
        if len(members) > 10_000 or declared > limits.max_unpacked_bytes or ratio > MAX_ZIP_RATIO:
            raise _bomb()
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise InputError(
                "The file is a zip archive but not an Excel workbook. Save it from Excel as .xlsx.",
                key="import.not_excel",
                name="",
                looks_like="a zip archive",
            )
        unpacked = 0
        try:
            for member in members:
                with archive.open(member) as stream:
                    while chunk := stream.read(1 << 20):
                        unpacked += len(chunk)
                        if unpacked > limits.max_unpacked_bytes:
                            raise _bomb()
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as exc:
            raise _damaged(str(exc)[:200]) from None


def _damaged(reason: str) -> InputError:
    return InputError(
        f"The Excel file is damaged ({reason}). Open and save it again in Excel.",
        key="import.bad_excel",
        reason=reason,
    )


def _bomb() -> InputError:
    return InputError(
        "The Excel file unpacks to far more data than it holds (a zip bomb, or a workbook too large to "
        "import). Export the data as CSV, or split it.",
        key="import.zip_bomb",
    )


def _read_excel(data: bytes, limits: Limits) -> tuple[pl.DataFrame, dict[str, frozenset[int]]]:
    import fastexcel  # calamine: no XML entity expansion, no macros run

    if data.startswith(ZIP_MAGIC):
        _check_zip(data, limits)
    try:
        reader = fastexcel.read_excel(data)
        if not reader.sheet_names:
            raise InputError("The workbook has no sheet.", key="import.no_sheet")
        n_rows = limits.max_rows + 2  # the header, and one more row than allowed to tell it is too many
        text = reader.load_sheet(0, header_row=None, dtypes="string", n_rows=n_rows).to_polars()
        # calamine casts only number (and boolean) cells to boolean; text cells become null. So this
        # tells, cell by cell, which values Excel stored as numbers.
        numeric = reader.load_sheet(0, header_row=None, dtypes="boolean", n_rows=n_rows).to_polars()
    except InputError:
        raise
    except Exception as exc:  # calamine's errors are many types; all mean "cannot read"
        raise InputError(
            f"The Excel file cannot be read: {exc}. Open and save it again in Excel, or export CSV.",
            key="import.bad_excel",
            reason=str(exc)[:200],
        ) from None
    if text.height == 0:
        raise InputError("The file has no header row.", key="import.no_header")
    raw_headers = ["" if v is None else str(v) for v in text.row(0)]
    headers = checked_headers(raw_headers, limits.max_columns)
    _refuse_values_without_header(text, len(headers))
    body = text.slice(1).select(text.columns[: len(headers)])
    body.columns = headers
    body = body.with_columns(pl.col(h).str.strip_chars().replace("", None) for h in headers)
    body = body.with_row_index(ROW_COLUMN, offset=2).with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))
    inexact = _inexact_numbers(body, numeric.slice(1), headers)
    body = body.filter(pl.any_horizontal(pl.col(h).is_not_null() for h in headers))
    return body, inexact


def _refuse_values_without_header(text: pl.DataFrame, width: int) -> None:
    """Values right of the last header would be dropped silently: refuse them instead."""
    for i in range(width, text.width):
        rows = text.to_series(i).slice(1).str.strip_chars().replace("", None).drop_nulls()
        if rows.len():
            raise InputError(
                f"Column {i + 1} has values but no header. Give every column a name in row 1.",
                key="import.blank_header",
                columns=str(i + 1),
            )


def _inexact_numbers(
    body: pl.DataFrame, numeric: pl.DataFrame, headers: list[str]
) -> dict[str, frozenset[int]]:
    """Cells Excel holds as numbers with more digits than it keeps exactly (row numbers per header)."""
    found: dict[str, frozenset[int]] = {}
    for i, header in enumerate(headers):
        is_number = numeric.to_series(i).is_not_null()
        value = body.get_column(header).cast(pl.Float64, strict=False).abs()
        big = body.filter(is_number & (value >= 10**EXCEL_EXACT_DIGITS))
        rows = frozenset(big.get_column(ROW_COLUMN).to_list())
        if rows:
            found[header] = rows
    return found
