"""FIDM match files: institution copied down, owner names split, trailer count and balance total."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from loaders import FileRejected, parse_file
from tests.loaders.conftest import RECEIVED, assert_reconciled, reasons
from tests.loaders.writers import fidm_a, fidm_b, fidm_file, fidm_t, write_lines


def parse(path: Path):
    return parse_file("fidm", path, received_date=RECEIVED)


def test_good_file(tmp_path: Path) -> None:
    details = [
        fidm_b(),
        fidm_b(owner_name="SMITH JR, ROBERT A", second_owner_name="SMITH MARY", account_balance="0000000"),
        fidm_b(owner_name="GARCIA LOPEZ MARIA ELENA", trust_indicator="1", dob="", zip="60601    "),
    ]
    parsed = parse(write_lines(tmp_path / "fidm.txt", fidm_file(details)))
    assert_reconciled(parsed)
    assert parsed.quarantine.height == 0
    assert parsed.header["institution_tin"] == "410987654" and parsed.header["match_period"] == "20261"
    first, second, third = parsed.records.to_dicts()
    assert (first["last_name"], first["first_name"], first["middle_name"], first["suffix"]) == (
        "PUBLIC",
        "JOHN",
        "Q",
        None,
    )
    assert first["owner_name_raw"] == "PUBLIC JOHN Q" and first["dob"] == date(1980, 1, 15)
    assert (first["address_line1"], first["city"], first["state"], first["zip"], first["zip4"]) == (
        "12 MAIN ST",
        "SPRINGFIELD",
        "IL",
        "62701",
        "1234",
    )
    assert (
        first["account_balance"] == 1500 and first["account_type"] == "04" and first["trust_indicator"] == "0"
    )
    assert first["account_number"] == "000123456789" and first["pass_back_id"] == "P000001"
    assert (first["institution_tin"], first["institution_name"], first["institution_zip"]) == (
        "410987654",
        "FIRST PRAIRIE BANK",
        "606011234",
    )
    assert first["match_period"] == "20261" and first["institution_city"] == "CHICAGO"
    assert first["employer_fein"] is None and first["employer_name"] is None
    assert (second["last_name"], second["first_name"], second["middle_name"], second["suffix"]) == (
        "SMITH",
        "ROBERT",
        "A",
        "JR",
    )
    assert second["second_owner_name"] == "SMITH MARY" and second["account_balance"] == 0
    assert third["middle_name"] == "MARIA ELENA" and third["trust_indicator"] == "1"
    assert third["zip"] == "60601" and third["zip4"] is None and third["dob"] is None


def test_bad_records_and_indicators(tmp_path: Path) -> None:
    details = [
        fidm_b(ssn="12345X789"),  # 2 kept, SSN treated as missing
        fidm_b()[:450],  # 3 short: its balance is not summed (unreadable lines only warn, see below)
        fidm_b(trust_indicator="9", account_type="99"),  # 4 kept, values nulled
        fidm_a(),  # 5 an A record among the B records
    ]
    lines = fidm_file(details)
    lines[-1] = fidm_t(4, 1500 * 3)  # the A record carries no balance
    parsed = parse(write_lines(tmp_path / "fidm.txt", lines))
    assert_reconciled(parsed)
    assert reasons(parsed) == {3: "line_length", 5: "record_type"}
    kept = {r["record_number"]: r for r in parsed.records.to_dicts()}
    assert kept[2]["ssn"] is None and kept[2]["data_issues"] == ["ssn_not_numeric"]
    assert kept[4]["trust_indicator"] is None and kept[4]["account_type"] is None
    assert kept[4]["data_issues"] == ["account_type_invalid", "trust_indicator_invalid"]


@pytest.mark.parametrize(
    ("count", "total", "code"),
    [(2, 3000, None), (3, 3000, "trailer_count_mismatch"), (2, 3001, "balance_sum_mismatch")],
)
def test_trailer_count_and_balance_total(tmp_path: Path, count: int, total: int, code: str | None) -> None:
    path = write_lines(tmp_path / "fidm.txt", fidm_file([fidm_b(), fidm_b()], count=count, total=total))
    if code is None:
        assert parse(path).records["account_balance"].sum() == total
        return
    with pytest.raises(FileRejected) as caught:
        parse(path)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([fidm_a(file_indicator=" "), fidm_b(), fidm_t(1, 1500)], "wrong_file_type"),
        ([fidm_b(), fidm_t(1, 1500)], "missing_header"),
        ([fidm_a(), fidm_b()], "missing_trailer"),
    ],
)
def test_file_rejections(tmp_path: Path, lines: list[str], code: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse(write_lines(tmp_path / "fidm.txt", lines))
    assert caught.value.code == code


MALFORMED = [
    (fidm_b(owner_name="PE\u00d1A MARIA", account_balance="0002500"), "line_length"),  # 501 bytes of UTF-8
    (fidm_b(account_balance="0002500")[:300], "line_length"),  # cut before its balance
    (fidm_b(account_balance="0002500")[:-1], "line_length"),  # its balance in place, the line not
    (fidm_b(owner_name="PE\u00d1A MARIA", account_balance="0002500").encode("latin-1"), "non_ascii"),
]


@pytest.mark.parametrize(("malformed", "reason"), MALFORMED)
def test_a_malformed_b_line_is_quarantined_and_does_not_reject_the_file(
    tmp_path: Path, malformed: str | bytes, reason: str
) -> None:
    """The sender's total includes the malformed line's 2500: the 3000 of the well-formed lines differ, but
    the malformed line explains it. Accepted, with a warning that gives counts only."""
    lines = [fidm_a(), fidm_b(), malformed, fidm_b(owner_name="DOE JANE"), fidm_t(3, 1500 + 2500 + 1500)]
    with capture_logs() as logs:
        parsed = parse(write_lines(tmp_path / "fidm.txt", lines))
    assert_reconciled(parsed)
    assert reasons(parsed) == {3: reason}
    assert parsed.records["account_balance"].to_list() == [1500, 1500]
    assert logs == [
        {
            "event": "control_total_unverified",
            "log_level": "warning",
            "source": "fidm",
            "check": "balance_sum_mismatch",
            "summed_lines": 2,
            "malformed_lines": 1,
        }
    ]


@pytest.mark.parametrize(("malformed", "reason"), MALFORMED[:2])
def test_a_total_of_the_well_formed_lines_is_right_too(
    tmp_path: Path, malformed: str | bytes, reason: str
) -> None:
    lines = [fidm_a(), fidm_b(), malformed, fidm_t(2, 1500)]
    with capture_logs() as logs:
        parsed = parse(write_lines(tmp_path / "fidm.txt", lines))
    assert reasons(parsed) == {3: reason} and logs == []


@pytest.mark.parametrize("stray", ["", " " * 500, fidm_a(), fidm_b(account_balance="00A1500")])
def test_a_wrong_total_rejects_when_every_b_line_is_well_formed(tmp_path: Path, stray: str) -> None:
    """Lines that are not B records, or a B line whose balance is not a number, explain nothing."""
    lines = [fidm_a(), fidm_b(), stray, fidm_b(), fidm_t(2 + stray.startswith("B"), 3001)]
    with pytest.raises(FileRejected) as caught:
        parse(write_lines(tmp_path / "fidm.txt", lines))
    assert caught.value.code == "balance_sum_mismatch"
