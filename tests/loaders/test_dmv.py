"""DMV pipe-delimited extracts: column order, extra columns, quoting, last4 SSNs, dates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from loaders import FileRejected, parse_file
from tests.loaders.conftest import RECEIVED, assert_reconciled, reasons

COLUMNS = (
    "license_number|license_state|license_class|license_status|last_name|first_name|middle_name|suffix|"
    "dob|sex|ssn|address_line1|address_line2|city|state|zip|issue_date|expiration_date|record_updated"
)
ROW = (
    "D1234567|IL|D|VALID|Public|John|Q||1980-01-15|M|123456789|12 Main St||Springfield|IL|62701|"
    "2020-01-02|2028-01-15|2026-02-27"
)


def parse(tmp_path: Path, text: str | bytes):
    path = tmp_path / "dmv.txt"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return parse_file("dmv", path, received_date=RECEIVED)


def test_good_row_maps_every_column(tmp_path: Path) -> None:
    parsed = parse(tmp_path, f"{COLUMNS}\n{ROW}\n")
    assert_reconciled(parsed)
    row = parsed.records.to_dicts()[0]
    assert row["record_number"] == 2 and row["source"] == "dmv"
    assert (row["license_number"], row["license_state"], row["license_class"], row["license_status"]) == (
        "D1234567",
        "IL",
        "D",
        "VALID",
    )
    assert (row["last_name"], row["first_name"], row["middle_name"], row["suffix"]) == (
        "PUBLIC",
        "JOHN",
        "Q",
        None,
    )
    assert row["dob"] == date(1980, 1, 15) and row["sex"] == "M" and row["ssn"] == "123456789"
    assert (row["address_line1"], row["city"], row["state"], row["zip"]) == (
        "12 MAIN ST",
        "SPRINGFIELD",
        "IL",
        "62701",
    )
    assert row["issue_date"] == date(2020, 1, 2) and row["expiration_date"] == date(2028, 1, 15)
    assert row["record_updated"] == date(2026, 2, 27)
    assert row["unmapped_columns"] is None and row["data_issues"] == []
    assert row["employer_fein"] is None


def test_any_column_order_extra_columns_and_missing_optional_ones(tmp_path: Path) -> None:
    text = (
        "dob|Eye_Color|first_name|last_name|license_state|license_number|ssn\n01/31/1979|BRN|Ann|Lee|WI|X9|\n"
    )
    parsed = parse(tmp_path, text)
    assert_reconciled(parsed)
    row = parsed.records.to_dicts()[0]
    assert row["dob"] == date(1979, 1, 31) and row["first_name"] == "ANN" and row["license_number"] == "X9"
    assert row["ssn"] is None and row["city"] is None
    assert json.loads(row["unmapped_columns"]) == {"eye_color": "BRN"}
    assert parsed.header["unmapped_columns"] == "eye_color"


def test_quoting_last4_and_bad_values(tmp_path: Path) -> None:
    rows = [
        ROW.replace("|Public|", '|"Public|Jr"|').replace("|12 Main St|", '|"12 ""A"" Main St"|'),  # 2
        ROW.replace("|123456789|", "|last4:6789|"),  # 3
        ROW.replace("|123456789|", "|123-45-6789|").replace("|62701|", "|62701-1234|"),  # 4
        ROW.replace("|1980-01-15|", "|1980-02-30|").replace("|M|", "|Q|"),  # 5
        ROW.replace("|Public|", '|"Public|'),  # 6 broken quoting
        ROW.replace("|Public|", "|Pub|lic|"),  # 7 one field too many
        "D1|IL|D",  # 8 too few
        ROW.replace("|123456789|", "|12345678X|"),  # 9
        ROW.replace("|123456789|", "|last4:67X9|"),  # 10
        ROW.replace("|Public|John|", "|||"),  # 11
        "",  # 12 blank line in the middle
        ROW.replace("|VALID|", "|valid|").replace("|62701|", "|6270|"),  # 13
    ]
    parsed = parse(tmp_path, COLUMNS + "\r\n" + "\r\n".join(rows))
    assert_reconciled(parsed)
    assert reasons(parsed) == {
        6: "broken_quoting",
        7: "column_count",
        8: "column_count",
        11: "name_missing",
        12: "column_count",
    }
    kept = {r["record_number"]: r for r in parsed.records.to_dicts()}
    assert kept[2]["last_name"] == "PUBLIC|JR" and kept[2]["address_line1"] == '12 "A" MAIN ST'
    assert kept[3]["ssn"] is None and kept[3]["ssn_last4"] == "6789"
    assert kept[4]["ssn"] == "123456789" and (kept[4]["zip"], kept[4]["zip4"]) == ("62701", "1234")
    assert kept[5]["dob"] is None and kept[5]["sex"] is None
    assert kept[5]["data_issues"] == ["dob_invalid", "sex_invalid"]  # in field order
    assert kept[9]["ssn"] is None and kept[9]["data_issues"] == ["ssn_not_numeric"]  # treated as missing
    assert kept[10]["ssn_last4"] is None and kept[10]["data_issues"] == ["ssn_not_numeric"]
    assert kept[13]["license_status"] == "VALID" and kept[13]["zip"] is None
    assert kept[13]["data_issues"] == ["zip_invalid"]


def test_quoted_line_break_quarantines_both_physical_lines(tmp_path: Path) -> None:
    row = ROW.replace("|12 Main St|", '|"12 Main St\nApt 4"|')
    parsed = parse(tmp_path, f"{COLUMNS}\n{row}\n{ROW}\n")
    assert_reconciled(parsed)
    assert reasons(parsed) == {2: "broken_quoting", 3: "column_count"}
    assert parsed.records["record_number"].to_list() == [4]


def test_a_quote_inside_an_unquoted_field_is_a_plain_character(tmp_path: Path) -> None:
    rows = [
        ROW.replace("|John|", '|John "Bud"|').replace("|Public|", '|O"Neil|'),  # 2
        ROW.replace("|12 Main St|", '| "12" Main St |'),  # 3
        ROW.replace("|Public|", '|"Public" Jr|'),  # 4 text after a closing quote: ambiguous
    ]
    parsed = parse(tmp_path, "\n".join([COLUMNS, *rows]))
    assert_reconciled(parsed)
    assert reasons(parsed) == {4: "broken_quoting"}
    kept = {r["record_number"]: r for r in parsed.records.to_dicts()}
    assert (kept[2]["first_name"], kept[2]["last_name"]) == ('JOHN "BUD"', 'O"NEIL')
    assert kept[3]["address_line1"] == '"12" MAIN ST'


def test_month_and_day_without_leading_zeros(tmp_path: Path) -> None:
    row = ROW.replace("|1980-01-15|", "|8/5/1967|")
    parsed = parse(tmp_path, f"{COLUMNS}\n{row}\n{ROW.replace('|1980-01-15|', '|2/30/1967|')}\n")
    assert parsed.records["dob"].to_list() == [date(1967, 8, 5), None]
    assert parsed.records["data_issues"].to_list() == [[], ["dob_invalid"]]


def test_invalid_utf8_row_is_quarantined_and_utf8_names_kept(tmp_path: Path) -> None:
    bad = ROW.encode().replace(b"Public", b"P\xfablic")
    good = ROW.replace("Public", "Muñoz").encode()
    parsed = parse(tmp_path, COLUMNS.encode() + b"\n" + bad + b"\n" + good + b"\n")
    assert_reconciled(parsed)
    assert reasons(parsed) == {2: "not_utf8"}
    assert parsed.records["last_name"].to_list() == ["MUÑOZ"]


def test_bom_in_header_is_ignored(tmp_path: Path) -> None:
    parsed = parse(tmp_path, "\ufeff" + COLUMNS + "\n" + ROW)
    assert parsed.records.height == 1


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (b"", "empty_file"),
        (b"license_number|license_state|first_name|dob\nX|IL|A|1980-01-01\n", "missing_columns"),
        (f"{COLUMNS}|dob\n".encode(), "duplicate_columns"),
        (b'"license_number|license_state\n', "missing_header"),
        (b"license\xff_number|x\n", "not_decodable"),
    ],
)
def test_file_rejections(tmp_path: Path, text: bytes, code: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse(tmp_path, text)
    assert caught.value.code == code


def test_missing_columns_message_names_them(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as caught:
        parse(tmp_path, "license_number|license_state|first_name\n")
    assert caught.value.message == "missing required columns: last_name, dob"


def test_header_only(tmp_path: Path) -> None:
    parsed = parse(tmp_path, COLUMNS + "\n")
    assert parsed.read == 0 and parsed.records.height == 0 and parsed.quarantine.height == 0
