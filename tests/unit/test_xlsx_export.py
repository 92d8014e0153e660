"""The Excel export: one sheet per table and a definitions sheet; formula payloads (also after blanks and
in full-width forms) neutralised in the workbook's XML and never written as formulas; numbers stay
numbers; Chinese kept; sheet names made valid."""

import io
import zipfile
from datetime import UTC, date, datetime

import polars as pl
import pytest
from fastexcel import read_excel

from cxdash.reports.export import sheet_name, xlsx_bytes

PAYLOADS = [
    "=1+2",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "  =1",
    "\n=1",
    "＝1+2",
    "＋1",
    "－1",
    "＠x",
]


def xml_of(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(
            archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("xl/") and name.endswith(".xml")
        )


def test_formula_payloads_are_neutralised_and_never_formulas():
    frame = pl.DataFrame({"comment": PAYLOADS, "n": list(range(len(PAYLOADS)))})
    data = xlsx_bytes({"comments": frame})
    xml = xml_of(data)
    assert "<f>" not in xml  # no formula cell anywhere
    sheet = read_excel(data).load_sheet(0, dtypes={"comment": "string"}).to_polars()
    assert all(value.startswith("'") for value in sheet["comment"].to_list())
    assert sheet["n"].to_list() == [float(i) for i in range(len(PAYLOADS))]  # numbers stay numbers


def test_numbers_dates_and_chinese_keep_their_types():
    frame = pl.DataFrame(
        {
            "客户": ["张三", "李四"],
            "amount": [1234.5, -3.0],  # a negative number is a number, not a formula
            "ok": [True, False],
            "day": [date(2026, 7, 1), None],
            "at": [datetime(2026, 7, 1, 8, 30, tzinfo=UTC), datetime(2026, 7, 2, tzinfo=UTC)],
        }
    )
    data = xlsx_bytes({"表": frame}, definitions=pl.DataFrame({"kpi": ["csat_pct"], "definition": ["≥ 4"]}))
    reader = read_excel(data)
    assert reader.sheet_names == ["表", "definitions"]
    sheet = reader.load_sheet(0).to_polars()
    assert sheet["客户"].to_list() == ["张三", "李四"]
    assert sheet["amount"].to_list() == [1234.5, -3.0]
    assert sheet["ok"].to_list() == [True, False]
    assert reader.load_sheet(1).to_polars()["definition"].to_list() == ["≥ 4"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a/b:c", "a b c"), ("x" * 40, "x" * 31), ("", "Sheet"), ("Data", "Data (2)")],
)
def test_sheet_names_are_valid_and_unique(name, expected):
    taken = {"data"}
    assert sheet_name(name, taken) == expected
