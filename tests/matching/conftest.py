"""Hand-written registry, records and a fixed model for the matcher's unit tests (all synthetic)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from loaders.canonical import conform
from matching import Model, Thresholds, prepare_registry
from matching.compare import LEVELS
from matching.model import M_START

NCP_COLUMNS = ("person_id", "ssn", "first_name", "middle_name", "last_name", "suffix", "dob", "sex",
               "address_line1", "address_line2", "city", "state", "zip")  # fmt: skip
NCPS = [
    (
        "P1",
        "231456781",
        "WILLIAM",
        "JAMES",
        "OKAFOR",
        None,
        "1980-03-04",
        "M",
        "12 ELM STREET",
        None,
        "SPRINGFIELD",
        "IL",
        "62701",
    ),
    (
        "P2",
        "312547896",
        "ANNA",
        "MARIE",
        "KOWALSKI",
        None,
        "1990-07-15",
        "F",
        "5 OAK AVENUE",
        None,
        "SPRINGFIELD",
        "IL",
        "62702",
    ),
    (
        "P3",
        "412589637",
        "ROBERT",
        "LEE",
        "JOHNSTONE",
        "SR",
        "1960-01-20",
        "M",
        "77 PINE ROAD",
        None,
        "DECATUR",
        "IL",
        "62521",
    ),
    (
        "P4",
        "523698741",
        "MARIA",
        "ELENA",
        "GARCIA-LOPEZ",
        None,
        "1985-11-02",
        "F",
        "9 MAPLE DR",
        None,
        "PEORIA",
        "IL",
        "61602",
    ),
    (
        "P5",
        "634125897",
        "DEVON",
        "PAUL",
        "QUINTERO",
        None,
        "1975-05-06",
        "M",
        "40 BIRCH LN",
        None,
        "JOLIET",
        "IL",
        "60431",
    ),
]
ALIASES = [
    ("P4", None, None, None, None, "523698700"),  # an alternate SSN
    ("P5", "DEVON", None, "QUINN", None, None),  # an alias name
]


# Employers on file: P1 and P2 both work for one employer (it employs 2 of the 5 NCPs), P1 also for another.
KNOWN_EMPLOYERS = [("P1", "361234567"), ("P1", "470000001"), ("P2", "470000001")]


def known_employer_frame() -> pl.DataFrame:
    return pl.DataFrame(KNOWN_EMPLOYERS, schema=["person_id", "fein"], orient="row")


def ncp_frame() -> pl.DataFrame:
    return pl.DataFrame([dict(zip(NCP_COLUMNS, row, strict=True)) for row in NCPS]).with_columns(
        pl.col("dob").str.to_date()
    )


def alias_frame() -> pl.DataFrame:
    columns = ("person_id", "first_name", "middle_name", "last_name", "suffix", "ssn")
    return pl.DataFrame(
        [dict(zip(columns, row, strict=True)) for row in ALIASES], schema=dict.fromkeys(columns, pl.String)
    )


@pytest.fixture(scope="session")
def registry() -> pl.DataFrame:
    return prepare_registry(ncp_frame(), alias_frame(), known_employer_frame())


def records(*rows: dict[str, Any], source: str = "new_hire") -> pl.DataFrame:
    """Canonical records from partial dicts (record_number = 2, 3, … like lines after a header)."""
    filled = [
        {
            "source": source,
            "file_name": "test.txt",
            "record_number": i,
            "received_date": date(2026, 1, 5),
            **row,
        }
        for i, row in enumerate(rows, start=2)
    ]
    frame = pl.DataFrame(filled, infer_schema_length=None)
    if "dob" in frame.columns and frame.schema["dob"] == pl.String:
        frame = frame.with_columns(pl.col("dob").str.to_date())
    return conform(frame)


def person(pid: str, **changes: Any) -> dict[str, Any]:
    """The registry person's own details as a record, with changes applied."""
    base = dict(zip(NCP_COLUMNS, next(r for r in NCPS if r[0] == pid), strict=True))
    base.pop("person_id")
    return {**base, **changes}


# u: what chance agreement looks like among strangers (rounded, plausible values for the tests).
U_TEST: dict[str, dict[str, float]] = {
    "ssn": {"exact": 1e-7, "one_substitution": 1e-6, "transposition": 1e-6, "last4_agree": 1e-4,
            "last4_differ": 0.9999, "other": 0.999997},
    "first_name": {"exact": 0.01, "nickname": 0.002, "middle_as_first": 0.004, "swapped": 2e-4,
                   "jw_high": 0.002, "initial": 0.002, "jw_mid": 0.01, "else": 0.97},
    "middle_name": {"exact": 0.01, "initial": 0.06, "else": 0.93},
    "last_name": {"exact": 0.001, "part": 1e-4, "swapped": 2e-4, "jw_high": 5e-4, "prefix": 5e-5,
                  "jw_mid": 0.001, "else": 0.998},
    "suffix": {"agree": 0.4, "disagree": 0.6},
    "dob": {"exact": 7e-5, "day_month_swapped": 2e-5, "off_by_one": 3e-4, "one_field": 0.005, "else": 0.995},
    "address": {"street": 1e-5, "zip": 0.005, "city_state": 0.25, "else": 0.745},
    "sex": {"agree": 0.5, "disagree": 0.5},
    "employer": {"known": 1e-3, "else": 0.999},
}  # fmt: skip


@pytest.fixture(scope="session")
def model() -> Model:
    """A fixed model: m at the EM starting values, u as above, round thresholds."""
    assert set(U_TEST) == set(LEVELS)
    return Model(
        version="test-model",
        created="2026-01-01T00:00:00+00:00",
        match_rate=0.4,
        m={c: dict(M_START[c]) for c in LEVELS},
        u=U_TEST,
        tf_min=1e-3,
        thresholds={"new_hire": Thresholds(auto=10.0, review=0.0, margin=4.0)},
    )
