"""Small writers for synthetic test files, with positions copied from the format docs (not from the specs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

# (start, length) per field, 1-based, from shared/formats/*.md.
W4_FIELDS: dict[str, tuple[int, int]] = {
    "ssn": (3, 9),
    "first_name": (12, 16),
    "middle_name": (28, 16),
    "last_name": (44, 30),
    "address_line1": (74, 40),
    "address_line2": (114, 40),
    "address_line3": (154, 40),
    "city": (194, 25),
    "state": (219, 2),
    "zip": (221, 5),
    "zip4": (226, 4),
    "dob": (272, 8),
    "hire_date": (280, 8),
    "state_of_hire": (288, 2),
    "employer_fein": (290, 9),
    "employer_sein": (299, 12),
    "employer_name": (311, 45),
    "employer_address_line1": (356, 40),
    "employer_city": (476, 25),
    "employer_state": (501, 2),
    "employer_zip": (503, 5),
    "iwo_address_line1": (554, 40),
    "iwo_city": (674, 25),
    "iwo_state": (699, 2),
    "iwo_zip": (701, 5),
}
QW_FIELDS: dict[str, tuple[int, int]] = {
    "ssn": (3, 9),
    "first_name": (12, 16),
    "middle_name": (28, 16),
    "last_name": (44, 30),
    "employer_fein": (74, 9),
    "employer_sein": (83, 12),
    "employer_name": (95, 45),
    "employer_city": (220, 25),
    "employer_state": (245, 2),
    "employer_zip": (247, 5),
    "wage_amount_cents": (256, 11),
    "wage_period": (267, 5),
}
FIDM_A_FIELDS: dict[str, tuple[int, int]] = {
    "match_period": (2, 5),
    "institution_tin": (7, 9),
    "institution_name": (50, 40),
    "institution_address_line1": (131, 40),
    "institution_city": (171, 29),
    "institution_state": (200, 2),
    "institution_zip": (202, 9),
    "file_indicator": (371, 1),
}
FIDM_B_FIELDS: dict[str, tuple[int, int]] = {
    "match_year_month": (2, 6),
    "last_name_control": (8, 4),
    "ssn": (15, 9),
    "account_number": (24, 20),
    "account_type": (44, 2),
    "payee_indicator": (46, 1),
    "name_match_flag": (47, 1),
    "account_title": (61, 100),
    "foreign_indicator": (161, 1),
    "owner_name": (162, 40),
    "second_owner_name": (202, 40),
    "street": (242, 40),
    "city": (282, 29),
    "state": (311, 2),
    "zip": (313, 9),
    "state_pass_back": (322, 5),
    "pass_back_id": (327, 23),
    "account_balance": (351, 7),
    "trust_indicator": (359, 1),
    "balance_indicator": (361, 1),
    "update_indicator": (362, 1),
    "dob": (363, 8),
}
UI_FIELDS: dict[str, tuple[int, int]] = {
    "ssn": (3, 9),
    "first_name": (12, 16),
    "last_name": (44, 30),
    "address_line1": (74, 40),
    "city": (154, 25),
    "state": (179, 2),
    "zip": (181, 5),
    "dob": (190, 8),
    "claim_date": (198, 8),
    "weekly_benefit_amount_cents": (206, 9),
    "claim_state": (215, 2),
    "claim_id": (217, 12),
}


def fixed(code: str, length: int, fields: Mapping[str, tuple[int, int]], values: Mapping[str, str]) -> str:
    """One fixed-width record: ``code`` at position 1, each value left-justified in its slot."""
    chars = list(code.ljust(length))
    for name, value in values.items():
        start, size = fields[name]
        assert len(value) <= size, name
        chars[start - 1 : start - 1 + size] = value.ljust(size)
    return "".join(chars)


def h4(transmission: str, length: int) -> str:
    """An H4 header (state 17, version 01, creation date, batch 000001)."""
    return ("H417" + " " * 9 + transmission + " 01" + "20260302" + "000001").ljust(length)


def t4(count: int, length: int) -> str:
    return ("T4" + f"{count:011d}").ljust(length)


W4_DEFAULTS = {
    "ssn": "123456789",
    "first_name": "JOHN",
    "middle_name": "Q",
    "last_name": "PUBLIC",
    "address_line1": "12 MAIN ST",
    "city": "SPRINGFIELD",
    "state": "IL",
    "zip": "62701",
    "dob": "19800115",
    "hire_date": "20260220",
    "state_of_hire": "IL",
    "employer_fein": "361234567",
    "employer_name": "ACME WIDGETS INC",
    "employer_address_line1": "1 FACTORY RD",
    "employer_city": "PEORIA",
    "employer_state": "IL",
    "employer_zip": "61602",
}
QW_DEFAULTS = {
    "ssn": "987654321",
    "first_name": "J",
    "last_name": "PUBLI",
    "employer_fein": "361234567",
    "employer_name": "ACME WIDGETS INC",
    "employer_city": "PEORIA",
    "employer_state": "IL",
    "employer_zip": "61602",
    "wage_amount_cents": "00000123456",
    "wage_period": "20261",
}


def w4(**values: str) -> str:
    return fixed("W4", 801, W4_FIELDS, {**W4_DEFAULTS, **values})


def qw(**values: str) -> str:
    return fixed("QW", 300, QW_FIELDS, {**QW_DEFAULTS, **values})


def new_hire_file(details: Iterable[str], count: int | None = None) -> list[str]:
    rows = list(details)
    return [h4("W4", 801), *rows, t4(len(rows) if count is None else count, 801)]


def wage_file(details: Iterable[str], count: int | None = None) -> list[str]:
    rows = list(details)
    return [h4("QW", 300), *rows, t4(len(rows) if count is None else count, 300)]


def fidm_a(**values: str) -> str:
    base = {
        "match_period": "20261",
        "institution_tin": "410987654",
        "institution_name": "FIRST PRAIRIE BANK",
        "institution_address_line1": "100 LEVY PLAZA",
        "institution_city": "CHICAGO",
        "institution_state": "IL",
        "institution_zip": "606011234",
        "file_indicator": "M",
    }
    return fixed("A", 500, FIDM_A_FIELDS, {**base, **values})


def fidm_b(**values: str) -> str:
    base = {
        "match_year_month": "202603",
        "last_name_control": "PUBL",
        "ssn": "123456789",
        "account_number": "000123456789",
        "account_type": "04",
        "payee_indicator": "0",
        "name_match_flag": "1",
        "account_title": "JOHN Q PUBLIC",
        "foreign_indicator": "0",
        "owner_name": "PUBLIC JOHN Q",
        "street": "12 MAIN ST",
        "city": "SPRINGFIELD",
        "state": "IL",
        "zip": "627011234",
        "state_pass_back": "IL",
        "pass_back_id": "P000001",
        "account_balance": "0001500",
        "trust_indicator": "0",
        "balance_indicator": "2",
        "update_indicator": "1",
        "dob": "19800115",
    }
    return fixed("B", 500, FIDM_B_FIELDS, {**base, **values})


def fidm_t(count: int, total: int) -> str:
    return ("T" + f"{count:08d}" + f"{total:015d}").ljust(500)


def fidm_file(details: list[str], count: int | None = None, total: int | None = None) -> list[str]:
    balance = sum(int(d[350:357]) for d in details if d[350:357].isdigit())
    return [
        fidm_a(),
        *details,
        fidm_t(len(details) if count is None else count, balance if total is None else total),
    ]


def ui(**values: str) -> str:
    base = {
        "ssn": "123456789",
        "first_name": "JOHN",
        "last_name": "PUBLIC",
        "address_line1": "12 MAIN ST",
        "city": "SPRINGFIELD",
        "state": "IL",
        "zip": "62701",
        "claim_date": "20260301",
        "weekly_benefit_amount_cents": "000045000",
        "claim_state": "IL",
        "claim_id": "UI0000000042",
    }
    return fixed("UI", 250, UI_FIELDS, {**base, **values})


def write_lines(
    path: Path, lines: Iterable[str | bytes], *, newline: bytes = b"\n", final: bool = True
) -> Path:
    """Write lines (str as ASCII/UTF-8, bytes as is) joined by ``newline``; ``final`` adds a last line end."""
    encoded = [line if isinstance(line, bytes) else line.encode("utf-8") for line in lines]
    path.write_bytes(newline.join(encoded) + (newline if final and encoded else b""))
    return path
