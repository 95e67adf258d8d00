"""DMV driver-record extract, ``shared/formats/dmv.md``: pipe-delimited, header line, any column order."""

from __future__ import annotations

from loaders.spec import (
    DateFormat,
    DelimitedLayout,
    Field,
    SourceSpec,
    SplitPrefixed,
    SplitZipPlus4,
)
from loaders.specs.common import NAME_REQUIRED

_DATES: tuple[DateFormat, ...] = ("YYYY-MM-DD", "MM/DD/YYYY")

DMV = SourceSpec(
    name="dmv",
    description="Motor-vehicle agency driver and ID-card extract (pipe-delimited)",
    landing_prefix="dmv/",
    matching_profile="dmv",
    work_rules=("locate_hit", "license_suspension_candidate"),
    layout=DelimitedLayout(
        separator="|",
        quote_char='"',
        fields=(
            Field(name="license_number", column_required=True),
            Field(name="license_state", column_required=True),
            Field(name="license_class"),
            Field(
                name="license_status",
                allowed=("VALID", "SUSPENDED", "REVOKED", "EXPIRED", "CANCELLED"),
            ),
            Field(name="last_name", column_required=True),
            Field(name="first_name", column_required=True),
            Field(name="middle_name"),
            Field(name="suffix"),
            Field(name="dob", kind="date", date_formats=_DATES, column_required=True),
            Field(name="sex", allowed=("M", "F", "X")),
            Field(
                name="ssn",
                kind="digits",
                digits=9,
                remove_chars="- ",
                invalid_code="ssn_not_numeric",  # treated as missing (null, flagged), as in every source
            ),
            Field(name="address_line1"),
            Field(name="address_line2"),
            Field(name="city"),
            Field(name="state"),
            Field(name="zip", kind="digits", digits=5),
            Field(name="issue_date", kind="date", date_formats=_DATES),
            Field(name="expiration_date", kind="date", date_formats=_DATES),
            Field(name="record_updated", kind="date", date_formats=_DATES),
        ),
    ),
    transforms=(SplitPrefixed(column="ssn", prefix="last4:", target="ssn_last4"), SplitZipPlus4()),
    derived_fields=(
        Field(name="ssn_last4", kind="digits", digits=4, invalid_code="ssn_not_numeric"),
        Field(name="zip4", kind="digits", digits=4),
    ),
    record_rules=(NAME_REQUIRED,),
)
