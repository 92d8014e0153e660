"""Reading uploaded files as text (SECURITY.md "Import"): encodings, CSV damage, Excel safety, limits."""

import io
import zipfile
from datetime import datetime

import pytest
import xlsxwriter

from cxdash.errors import InputError
from cxdash.importer.files import Limits, read_text_table


def xlsx(rows: list[list[object]]) -> bytes:
    """A one-sheet workbook: str cells written as text, numbers as numbers, datetimes as dates."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(r, c, value, stamp)
            else:
                sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def rows_of(data: bytes, name: str = "f.csv", **kwargs) -> list[dict]:
    return read_text_table(data, name, **kwargs).frame.to_dicts()


# Encodings -----------------------------------------------------------------------------------------

CHINESE = "工单号,客户姓名,城市,备注\nT001,张三,北京,“满意”—谢谢\nT002,欧阳娜娜,广州,退款·已处理\n"


@pytest.mark.parametrize("codec", ["gbk", "gb18030", "utf-8"])
def test_chinese_text_round_trips_exactly(codec):
    table = read_text_table(CHINESE.encode(codec), "工单.csv")
    assert table.headers == ["工单号", "客户姓名", "城市", "备注"]
    assert table.frame.drop("_row").rows() == [
        ("T001", "张三", "北京", "“满意”—谢谢"),
        ("T002", "欧阳娜娜", "广州", "退款·已处理"),
    ]
    assert table.source_format == ("csv (utf-8)" if codec == "utf-8" else "csv (gb18030)")


def test_gb18030_four_byte_characters_survive():
    text = "name\n𠮷野家\n㐀字\n"  # outside GBK: four-byte GB18030 sequences
    assert [r["name"] for r in rows_of(text.encode("gb18030"))] == ["𠮷野家", "㐀字"]


def test_utf8_bom_is_not_part_of_the_first_header():
    table = read_text_table(b"\xef\xbb\xbf" + "客户编号,name\n007,a\n".encode(), "f.csv")
    assert table.headers == ["客户编号", "name"]
    assert table.source_format == "csv (utf-8 BOM)"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_refused_clearly(codec):
    with pytest.raises(InputError, match=r"UTF-16|NUL") as caught:
        read_text_table("id,name\n1,张三\n".encode(codec), "f.csv")
    assert "CSV UTF-8" in str(caught.value)


@pytest.mark.parametrize(
    "text", ["name,city\nJosé,Málaga\nFrançois,Genève\n", "name\nMüller\nGöttingen\n", "x\nSchön ist\n"]
)
def test_latin1_is_refused_unless_its_encoding_is_given(text):
    data = text.encode("latin-1")
    with pytest.raises(InputError, match="encoding") as caught:
        read_text_table(data, "f.csv")
    assert caught.value.key == "import.unknown_encoding"
    table = read_text_table(data, "f.csv", encoding="latin-1")
    assert table.frame.drop("_row").rows() == [tuple(line.split(",")) for line in text.splitlines()[1:]]
    assert table.source_format == "csv (latin-1)"


def test_a_wrong_encoding_given_is_a_clear_error():
    with pytest.raises(InputError, match="cannot be read as utf-8"):
        read_text_table("a\n张\n".encode("gbk"), "f.csv", encoding="utf-8")
    with pytest.raises(InputError, match="no-such-codec"):
        read_text_table(b"a\n1\n", "f.csv", encoding="no-such-codec")


def test_nul_bytes_are_refused():
    with pytest.raises(InputError, match="NUL") as caught:
        read_text_table(b"id,name\n1,a\x00b\n", "f.csv")
    assert caught.value.key == "import.nul_bytes"
    with pytest.raises(InputError, match="NUL"):  # also when the encoding is given
        read_text_table(b"id,name\n1,a\x00b\n", "f.csv", encoding="latin-1")


# Headers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["email,email", "ｅｍａｉｌ, email", "Email,EMAIL", " 邮箱 ,邮箱"],
)
def test_duplicate_headers_are_refused_naming_both_columns(header):
    with pytest.raises(InputError, match="Columns 1 and 2 are both named") as caught:
        read_text_table(f"{header}\n1,2\n".encode(), "f.csv")
    assert caught.value.key == "import.duplicate_header"


def test_full_width_and_padded_headers_are_folded():
    table = read_text_table("ｔｉｃｋｅｔ＿ｉｄ , 　客户姓名　,\tstatus\n1,2,3\n".encode(), "f.csv")
    assert table.headers == ["ticket_id", "客户姓名", "status"]


def test_a_blank_header_is_refused():
    with pytest.raises(InputError, match="Column 2 has no header"):
        read_text_table(b"a,,c\n1,2,3\n", "f.csv")


# CSV damage ----------------------------------------------------------------------------------------


def test_ragged_rows_are_refused_with_their_row_numbers():
    with pytest.raises(InputError, match="row 3 has 3; row 4 has 1") as caught:
        read_text_table(b"id,name\n1,a\n2,b,c\n3\n4,d\n", "f.csv")
    assert caught.value.key == "import.ragged_rows"


def test_a_trailing_empty_field_is_not_ragged():
    assert rows_of(b"id,name\n1,a,\n") == [{"_row": 2, "id": "1", "name": "a"}]


def test_an_unclosed_quote_is_refused_near_its_row():
    with pytest.raises(InputError, match="near row 3: a quoted value is never closed") as caught:
        read_text_table(b'id,name\n1,a\n2,"b\n3,c\n', "f.csv")
    assert caught.value.key == "import.bad_csv"


def test_a_stray_quote_inside_a_value_is_refused():
    with pytest.raises(InputError, match="near row 2"):
        read_text_table(b'id,name\n1,"ab"c\n', "f.csv")


def test_embedded_newlines_are_kept_and_rows_count_records():
    data = b'id,note\n1,"line one\nline two"\n2,"a\r\nb"\n3,plain\n'
    assert rows_of(data) == [
        {"_row": 2, "id": "1", "note": "line one\nline two"},
        {"_row": 3, "id": "2", "note": "a\r\nb"},
        {"_row": 4, "id": "3", "note": "plain"},
    ]


def test_blank_lines_are_skipped_but_keep_row_numbers():
    assert [r["_row"] for r in rows_of(b"id\n1\n\n3\n")] == [2, 4]


@pytest.mark.parametrize(("name", "data"), [("f.csv", b"a;b\n1;x,y\n"), ("f.tsv", b"a\tb\n1\tx,y\n")])
def test_delimiters(name, data):
    assert rows_of(data, name) == [{"_row": 2, "a": "1", "b": "x,y"}]


def test_leading_zero_and_long_ids_stay_text_in_csv():
    table = read_text_table(b"id,phone\n007,013800138000\n123456789012345678,+8613800138000\n", "f.csv")
    assert table.frame.get_column("id").to_list() == ["007", "123456789012345678"]
    assert table.frame.get_column("phone").to_list() == ["013800138000", "+8613800138000"]


# Limits --------------------------------------------------------------------------------------------


def test_an_oversize_file_is_refused_before_reading():
    with pytest.raises(InputError, match="the limit is 100 bytes") as caught:
        read_text_table(b"a,b\n" + b"1,2\n" * 100, "f.csv", limits=Limits(max_bytes=100))
    assert caught.value.key == "import.too_big"


@pytest.mark.parametrize("name", ["f.csv", "f.xlsx"])
def test_too_many_rows_are_refused(name):
    rows = [["a", "b"], *([str(i), "x"] for i in range(11))]
    data = xlsx(rows) if name.endswith("xlsx") else "\n".join(",".join(r) for r in rows).encode()
    with pytest.raises(InputError, match=r"[Ss]plit it") as caught:
        read_text_table(data, name, limits=Limits(max_rows=10))
    assert caught.value.key == "import.too_many_rows"
    assert read_text_table(data, name, limits=Limits(max_rows=11)).frame.height == 11


def test_too_many_columns_are_refused():
    with pytest.raises(InputError, match="3 columns; the limit is 2"):
        read_text_table(b"a,b,c\n1,2,3\n", "f.csv", limits=Limits(max_columns=2))


def test_an_empty_file_is_refused():
    with pytest.raises(InputError, match="empty"):
        read_text_table(b" \n", "f.csv")


# Excel ---------------------------------------------------------------------------------------------


def test_xlsx_text_ids_stay_exact_and_rows_are_numbered():
    data = xlsx(
        [
            ["客户编号", "金额", "时间", "会员"],
            ["007", 12.5, datetime(2024, 1, 5, 10, 30), True],
            ["123456789012345678", 3, "2024年1月5日", False],
            [None, None, None, None],
            ["A1", None, 45296.5, None],
        ]
    )
    table = read_text_table(data, "客户.xlsx")
    assert table.source_format == "xlsx"
    assert table.headers == ["客户编号", "金额", "时间", "会员"]
    assert table.frame.rows() == [
        (2, "007", "12.5", "2024-01-05 10:30:00", "true"),
        (3, "123456789012345678", "3", "2024年1月5日", "false"),
        (5, "A1", None, "45296.5", None),
    ]
    assert table.inexact_numbers == {}


def test_xlsx_long_number_cells_are_flagged_as_inexact():
    data = xlsx([["id", "amount"], ["123456789012345678", 1], [123456789012345678, 2], [1234567, 1e16]])
    table = read_text_table(data, "f.xlsx")
    assert table.inexact_numbers == {"id": frozenset({3}), "amount": frozenset({4})}


def test_xlsx_values_without_a_header_are_refused():
    with pytest.raises(InputError, match="Column 3 has values but no header"):
        read_text_table(xlsx([["a", "b"], ["1", "2", "3"]]), "f.xlsx")


def test_xlsx_duplicate_full_width_headers_are_refused():
    with pytest.raises(InputError, match="both named 'email'"):
        read_text_table(xlsx([["ｅｍａｉｌ", " email "], ["a", "b"]]), "f.xlsx")


@pytest.mark.parametrize(
    ("payload", "looks_like"),
    [
        (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (b"\n  <html><head><meta charset=gbk></head><table></table></html>", "HTML"),
        (b'<?xml version="1.0"?><Workbook></Workbook>', "XML"),
        (b"%PDF-1.7\n", "PDF"),
        (b"id,name\n1,a\n", "text"),
    ],
)
@pytest.mark.parametrize("name", ["report.xlsx", "report.xls"])
def test_extension_lies_are_named(payload, looks_like, name):
    with pytest.raises(InputError, match="is named like an Excel workbook but is not one") as caught:
        read_text_table(payload, name)
    assert looks_like in str(caught.value)
    assert caught.value.key == "import.not_excel"


def zip_of(members: dict[str, bytes | int]) -> bytes:
    """A deflated zip; an int member is that many zero bytes, written in chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, int):
                with archive.open(name, "w", force_zip64=True) as stream:
                    chunk = bytes(1 << 20)
                    for _ in range(content // len(chunk)):
                        stream.write(chunk)
            else:
                archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    data = zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": 200 << 20})
    assert len(data) < 1 << 20  # 200 MB of zeros packed into a few hundred KB
    return data


def test_a_zip_bomb_named_xlsx_is_refused(zip_bomb):
    with pytest.raises(InputError, match="zip bomb") as caught:
        read_text_table(zip_bomb, "report.xlsx")
    assert caught.value.key == "import.zip_bomb"


def test_a_zip_bomb_with_no_workbook_parts_is_refused_as_a_bomb():
    data = zip_of({"[Content_Types].xml": b"<Types/>", "zeros.bin": 50 << 20})
    with pytest.raises(InputError, match="zip bomb"):
        read_text_table(data, "report.xlsx")


def test_unpacked_size_limit():
    data = xlsx([["a"], *([f"value {i}"] for i in range(2000))])
    with pytest.raises(InputError, match="zip bomb"):
        read_text_table(data, "f.xlsx", limits=Limits(max_unpacked_bytes=10_000))


def test_a_zip_that_is_no_workbook_is_refused():
    with pytest.raises(InputError, match="zip archive but not an Excel workbook"):
        read_text_table(zip_of({"readme.txt": b"hello"}), "f.xlsx")


def test_a_damaged_workbook_is_refused():
    data = xlsx([["a"], ["1"]])
    with pytest.raises(InputError, match=r"damaged|cannot be read") as caught:
        read_text_table(data[: len(data) // 2], "f.xlsx")
    assert caught.value.key == "import.bad_excel"


def test_file_hash_identifies_the_bytes():
    one = read_text_table(b"a\n1\n", "x.csv")
    assert one.file_hash == read_text_table(b"a\n1\n", "y.csv").file_hash
    assert one.file_hash != read_text_table(b"a\n2\n", "x.csv").file_hash
