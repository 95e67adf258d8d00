"""FIDM match file (A/B/T records), ``shared/formats/fidm_match.md``.

The A record's institution fields ride on every B record; the owner name (``LAST FIRST MIDDLE`` or free
form) is kept raw and split into the canonical name columns. The T record's count is checked against
the B lines, its balance total against the balances of the well-formed B lines (500 bytes of ASCII;
when some B line is not, a disagreeing total is logged, not rejected: see ``loaders.fixed_width``).
"""

from __future__ import annotations

from loaders.spec import (
    Field,
    FixedWidthLayout,
    HeaderRecord,
    SourceSpec,
    SplitPersonName,
    TrailerRecord,
    date,
    digits,
    integer,
    text,
)
from loaders.specs.common import SSN_CHECK

_INSTITUTION = (
    "match_period",
    "institution_tin",
    "institution_name",
    "institution_address_line1",
    "institution_city",
    "institution_state",
    "institution_zip",
)

FIDM = SourceSpec(
    name="fidm",
    description="Financial institution data match, matched accounts (500 bytes)",
    landing_prefix="fidm/",
    matching_profile="fidm",
    work_rules=("locate_hit", "levy_candidate"),
    layout=FixedWidthLayout(
        record_length=500,
        type_length=1,
        header=HeaderRecord(
            code="A",
            fields=(
                text("match_period", 2, 5),
                text("institution_tin", 7, 9),
                text("institution_name", 50, 40),
                text("institution_address_line1", 131, 40),
                text("institution_city", 171, 29),
                text("institution_state", 200, 2),
                text("institution_zip", 202, 9),
                text("file_indicator", 371, 1),
            ),
            expect=(("file_indicator", "M"),),
            copy_to_records=_INSTITUTION,
        ),
        detail_code="B",
        trailer=TrailerRecord(
            code="T",
            count_field=digits("record_count", 2, 8),
            sum_field=digits("balance_total", 10, 15),
            sum_of="account_balance",
            sum_mismatch_code="balance_sum_mismatch",
        ),
        fields=(
            digits("match_year_month", 2, 6),
            text("last_name_control", 8, 4),
            digits("ssn", 15, 9, **SSN_CHECK),
            text("account_number", 24, 20),
            text("account_type", 44, 2, allowed=("00", "01", "04", "05", "11", "12", "14", "16", "17", "18")),
            text("payee_indicator", 46, 1, allowed=("0", "1", "2")),
            text("name_match_flag", 47, 1, allowed=("0", "1", "2")),
            text("account_title", 61, 100),
            text("foreign_indicator", 161, 1, allowed=("0", "1")),
            text("owner_name_raw", 162, 40),
            text("second_owner_name", 202, 40),
            text("address_line1", 242, 40),
            text("city", 282, 29),
            text("state", 311, 2),
            digits("zip", 313, 5),
            digits("zip4", 318, 4),
            text("state_pass_back", 322, 5),
            text("pass_back_id", 327, 23),
            integer("account_balance", 351, 7),
            text("trust_indicator", 359, 1, allowed=("0", "1", "2", "3", "4", "5", "6")),
            text("balance_indicator", 361, 1, allowed=("0", "1", "2")),
            text("update_indicator", 362, 1, allowed=("0", "1", "2")),
            date("dob", 363),
        ),
    ),
    transforms=(SplitPersonName(column="owner_name_raw"),),
    derived_fields=(
        Field(name="last_name"),
        Field(name="first_name"),
        Field(name="middle_name"),
        Field(name="suffix"),
    ),
)
