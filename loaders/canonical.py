"""The canonical person-record frame every loader produces and the matcher consumes.

One row per parsed detail record. Loaders fill the person columns from their layout; anything a
source does not carry stays null. Source-specific columns (wages, licence, account, employer) ride
along after the person columns and are named in each source's spec.
"""

from __future__ import annotations

import polars as pl

# Provenance: which file and which physical line (1-based, header included) a record came from.
PROVENANCE: dict[str, pl.DataType] = {
    "source": pl.String(),
    "file_name": pl.String(),
    "record_number": pl.Int64(),
    "received_date": pl.Date(),
}

# The person as the record describes them; raw but trimmed, upper case, blank -> null.
PERSON: dict[str, pl.DataType] = {
    "ssn": pl.String(),  # 9 digits as given (validity by SSA rules is the matcher's concern)
    "ssn_last4": pl.String(),  # only the last four digits are known (some DMV records)
    "first_name": pl.String(),
    "middle_name": pl.String(),
    "last_name": pl.String(),
    "suffix": pl.String(),
    "dob": pl.Date(),
    "sex": pl.String(),
    "address_line1": pl.String(),
    "address_line2": pl.String(),
    "address_line3": pl.String(),
    "city": pl.String(),
    "state": pl.String(),
    "zip": pl.String(),  # ZIP5
    "zip4": pl.String(),
    "data_issues": pl.List(pl.String()),  # non-fatal problems, e.g. ["dob_invalid"]
}

# Where the money is: employer (new hire, wage), institution (FIDM). Null for other sources.
EMPLOYER: dict[str, pl.DataType] = {
    "employer_fein": pl.String(),
    "employer_name": pl.String(),
    "employer_address_line1": pl.String(),
    "employer_address_line2": pl.String(),
    "employer_address_line3": pl.String(),
    "employer_city": pl.String(),
    "employer_state": pl.String(),
    "employer_zip": pl.String(),
}

CANONICAL: dict[str, pl.DataType] = {**PROVENANCE, **PERSON, **EMPLOYER}

QUARANTINE: dict[str, pl.DataType] = {
    "source": pl.String(),
    "file_name": pl.String(),
    "record_number": pl.Int64(),
    "reason": pl.String(),  # a reason code, e.g. "line_length", "ssn_not_numeric", "hire_date_invalid"
    "detail": pl.String(),  # human-readable, never PII (no SSN, name or DOB values)
}


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType] = CANONICAL) -> pl.DataFrame:
    """Add missing canonical columns as nulls and cast to the canonical types; extra columns are kept."""
    missing = [
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns
    ]
    frame = frame.with_columns(missing) if missing else frame
    casts = {name: dtype for name, dtype in schema.items() if frame.schema[name] != dtype}
    frame = frame.cast(casts) if casts else frame  # type: ignore[arg-type]
    extras = [c for c in frame.columns if c not in schema]
    return frame.select([*schema, *extras])


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE)
