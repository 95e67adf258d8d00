"""New-hire (W4) files: good, broken, and everything in between."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from loaders import FileRejected, parse_file
from loaders.sources import get_source
from tests.loaders.conftest import RECEIVED, assert_reconciled, reasons
from tests.loaders.writers import h4, new_hire_file, qw, t4, w4, write_lines


def parse(path: Path):
    return parse_file("new_hire", path, received_date=RECEIVED)


def test_good_file_maps_every_block(tmp_path: Path) -> None:
    details = [
        w4(),
        w4(
            ssn="",
            first_name="mary",
            last_name="SMITH-JONES JR",
            dob="",
            iwo_address_line1="PO BOX 9",
            iwo_city="CHICAGO",
            iwo_state="IL",
            iwo_zip="60601",
        ),
    ]
    parsed = parse(write_lines(tmp_path / "nh.txt", new_hire_file(details)))
    assert_reconciled(parsed)
    assert parsed.read == 2 and parsed.quarantine.height == 0
    assert parsed.header["transmission_type"] == "W4" and parsed.header["batch_number"] == "000001"
    first, second = parsed.records.to_dicts()
    assert (
        first["source"] == "new_hire"
        and first["file_name"] == "nh.txt"
        and first["received_date"] == RECEIVED
    )
    assert first["record_number"] == 2 and second["record_number"] == 3
    assert (first["ssn"], first["first_name"], first["middle_name"], first["last_name"]) == (
        "123456789",
        "JOHN",
        "Q",
        "PUBLIC",
    )
    assert first["dob"] == date(1980, 1, 15) and first["hire_date"] == date(2026, 2, 20)
    assert (first["address_line1"], first["city"], first["state"], first["zip"]) == (
        "12 MAIN ST",
        "SPRINGFIELD",
        "IL",
        "62701",
    )
    assert (first["employer_fein"], first["employer_name"], first["employer_zip"]) == (
        "361234567",
        "ACME WIDGETS INC",
        "61602",
    )
    assert (
        first["state_of_hire"] == "IL" and first["iwo_address_line1"] is None and first["data_issues"] == []
    )
    assert second["ssn"] is None and second["dob"] is None and second["data_issues"] == []
    assert second["first_name"] == "MARY" and second["last_name"] == "SMITH-JONES JR"
    assert (second["iwo_address_line1"], second["iwo_city"], second["iwo_state"], second["iwo_zip"]) == (
        "PO BOX 9",
        "CHICAGO",
        "IL",
        "60601",
    )
    assert list(parsed.records.schema.items()) == list(get_source("new_hire").output_schema.items())


def test_broken_records_are_quarantined_with_reasons(tmp_path: Path) -> None:
    details = [
        w4(),  # 2 ok
        w4()[:-1],  # 3 short
        w4() + "X",  # 4 long
        w4(ssn="12345678A"),  # 5 SSN with a letter: treated as missing, kept
        w4(ssn="12345 678"),  # 6 SSN with a blank inside: kept
        w4(hire_date="20260230"),  # 7 impossible required date: nulled, kept
        w4(hire_date=""),  # 8 missing required date: kept
        w4(first_name="", last_name=""),  # 9 no name at all
        qw(),  # 10 a QW record in a new-hire file
        "",  # 11 blank line
        w4(dob="20260230"),  # 12 impossible optional date: kept
        w4(ssn="000000000"),  # 13 all zeros: the matcher's problem, kept
        w4(first_name="", employer_fein="36-123456"),  # 14 last name alone is enough; bad FEIN nulled
    ]
    parsed = parse(write_lines(tmp_path / "nh.txt", new_hire_file(details)))
    assert_reconciled(parsed)
    assert reasons(parsed) == {
        3: "line_length",
        4: "line_length",
        9: "name_missing",
        10: "record_type",
        11: "record_type",
    }
    kept = {r["record_number"]: r for r in parsed.records.to_dicts()}
    assert all(kept[n]["ssn"] is None and kept[n]["data_issues"] == ["ssn_not_numeric"] for n in (5, 6))
    assert kept[7]["hire_date"] is None and kept[7]["data_issues"] == ["hire_date_invalid"]
    assert kept[8]["hire_date"] is None and kept[8]["data_issues"] == ["hire_date_missing"]
    assert kept[12]["dob"] is None and kept[12]["data_issues"] == ["dob_invalid"]
    assert kept[13]["ssn"] == "000000000"
    assert kept[14]["employer_fein"] is None and kept[14]["data_issues"] == ["employer_fein_invalid"]
    details_by_number = dict(
        zip(parsed.quarantine["record_number"], parsed.quarantine["detail"], strict=True)
    )
    assert details_by_number[3] == "line is 800 bytes, expected 801"
    assert details_by_number[10] == "record type 'QW', expected 'W4'"


def test_details_carry_no_pii(tmp_path: Path) -> None:
    details = [
        w4(ssn="12345678A", first_name="ZEBULON")[:-1],
        w4(hire_date="20269999", first_name="ZEBULON") + "X",
        w4(ssn="123456781", first_name="", last_name=""),
    ]
    parsed = parse(write_lines(tmp_path / "nh.txt", new_hire_file(details)))
    assert parsed.quarantine.height == 3
    text = " ".join(parsed.quarantine["detail"].to_list())
    for secret in ("12345678", "ZEBULON", "20269999", "19800115"):
        assert secret not in text


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
@pytest.mark.parametrize("final", [True, False])
def test_line_ends_and_missing_final_newline(tmp_path: Path, newline: bytes, final: bool) -> None:
    path = write_lines(tmp_path / "nh.txt", new_hire_file([w4(), w4(), w4()]), newline=newline, final=final)
    parsed = parse(path)
    assert_reconciled(parsed)
    assert parsed.records.height == 3 and parsed.quarantine.height == 0


def test_mixed_line_ends(tmp_path: Path) -> None:
    lines = [line.encode() for line in new_hire_file([w4(), w4(), w4()])]
    path = tmp_path / "nh.txt"
    path.write_bytes(lines[0] + b"\r\n" + lines[1] + b"\n" + lines[2] + b"\r\n" + lines[3] + b"\n" + lines[4])
    parsed = parse(path)
    assert_reconciled(parsed)
    assert parsed.records.height == 3


def test_trailing_blank_lines_are_not_records(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "nh.txt", [*new_hire_file([w4()]), "", ""], newline=b"\r\n")
    parsed = parse(path)
    assert_reconciled(parsed)
    assert parsed.read == 1


def test_non_ascii_and_nul_bytes(tmp_path: Path) -> None:
    good = w4().encode()
    latin1 = good[:11] + "JOSÉ".encode("latin-1") + good[15:]  # same length, one byte 0xC9
    utf8 = good[:11] + "JOSÉ".encode() + good[15:]  # one byte longer
    nul = good[:50] + b"\x00" + good[51:]
    path = write_lines(tmp_path / "nh.txt", [h4("W4", 801), latin1, utf8, nul, good, t4(4, 801)])
    parsed = parse(path)
    assert_reconciled(parsed)
    assert reasons(parsed) == {2: "non_ascii", 3: "line_length", 4: "non_ascii"}
    details = dict(zip(parsed.quarantine["record_number"], parsed.quarantine["detail"], strict=True))
    assert details[2] == "1 bytes outside printable ASCII, first at byte 15"
    assert details[3] == "line is 802 bytes, expected 801"
    assert details[4] == "1 bytes outside printable ASCII, first at byte 51"


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "empty_file"),
        (["", ""], "empty_file"),
        ([h4("W4", 801)], "missing_trailer"),
        ([w4(), t4(1, 801)], "missing_header"),
        ([h4("W4", 801), w4(), w4()], "missing_trailer"),
        ([h4("W4", 801), w4(), t4(2, 801)], "trailer_count_mismatch"),
        ([h4("W4", 801), w4(), w4()[:-5], t4(1, 801)], "trailer_count_mismatch"),
        ([h4("W4", 801), w4(), "T4XXXXXXXXXXX".ljust(801)], "trailer_invalid"),
        ([h4("QW", 300), qw(), t4(1, 300)], "wrong_file_type"),
    ],
)
def test_file_rejections(tmp_path: Path, lines: list[str], code: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse(write_lines(tmp_path / "nh.txt", lines))
    assert caught.value.code == code


def test_header_and_trailer_only(tmp_path: Path) -> None:
    parsed = parse(write_lines(tmp_path / "nh.txt", new_hire_file([])))
    assert_reconciled(parsed)
    assert parsed.read == 0 and parsed.records.height == 0


def test_rejection_message_has_no_pii(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as caught:
        parse(write_lines(tmp_path / "nh.txt", [h4("W4", 801), w4(first_name="ZEBULON"), t4(7, 801)]))
    assert "ZEBULON" not in str(caught.value) and "123456789" not in str(caught.value)
    assert str(caught.value) == "trailer_count_mismatch: trailer declares 7 detail records, the file has 1"


def test_source_accepts_cli_spelling_and_file_name(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "nh.txt", new_hire_file([w4()]))
    parsed = parse_file("new-hire", path, received_date=RECEIVED, file_name="NH_20260302.txt")
    assert parsed.records["file_name"].to_list() == ["NH_20260302.txt"]
    with pytest.raises(KeyError):
        parse_file("payroll", path, received_date=RECEIVED)
