"""Declarations shared by the H4/T4-framed fixed-width files (new hire, quarterly wage, UI claims)."""

from __future__ import annotations

from loaders.spec import Field, FixedWidthLayout, HeaderRecord, RequireAny, TrailerRecord, digits, text


def h4_header(transmission_type: str) -> HeaderRecord:
    """The H4 header of new_hire_w4.md; ``transmission_type`` must match the source."""
    fields: tuple[Field, ...] = (
        text("state_fips", 3, 2),
        text("agency_code", 5, 9),
        text("transmission_type", 14, 2),
        text("version", 17, 2),
        text("creation_date", 19, 8),
        text("batch_number", 27, 6),
    )
    return HeaderRecord(code="H4", fields=fields, expect=(("transmission_type", transmission_type),))


T4_TRAILER = TrailerRecord(code="T4", count_field=digits("record_count", 3, 11))

SSN_CHECK = {"on_invalid": "null", "invalid_code": "ssn_not_numeric"}
"""A present SSN that is not 9 digits is treated as missing (null, flagged ``ssn_not_numeric``): the record
can still match on name, DOB and address. Blank is null; validity by SSA rules is the matcher's."""

NAME_REQUIRED = RequireAny(("first_name", "last_name"), "name_missing")
"""A record with neither a first nor a last name is quarantined."""

H4_PERSON: tuple[Field, ...] = (
    digits("ssn", 3, 9, **SSN_CHECK),
    text("first_name", 12, 16),
    text("middle_name", 28, 16),
    text("last_name", 44, 30),
)
"""Bytes 3-73 of every H4/T4 detail record: SSN, first, middle and last name."""


def h4_layout(record_type: str, record_length: int, fields: tuple[Field, ...]) -> FixedWidthLayout:
    """An H4 (transmission type ``record_type``) / detail / T4 file: `H4_PERSON`, then ``fields``."""
    return FixedWidthLayout(
        record_length=record_length,
        type_length=2,
        header=h4_header(record_type),
        detail_code=record_type,
        trailer=T4_TRAILER,
        fields=(*H4_PERSON, *fields),
    )
