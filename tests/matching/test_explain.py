"""Reasons text: per-level phrases with the compared values, in comparison order."""

from __future__ import annotations

import polars as pl

from matching.compare import LEVELS, level_code
from matching.explain import reasons


def _row(levels: dict[str, str], **values: str | None) -> pl.DataFrame:
    codes = {f"{c}_code": level_code(c, levels.get(c, "null")) for c in LEVELS}
    names = {
        f"{f}_{side}": values.get(f"{f}_{side}")
        for f in ("first_name", "middle_name", "last_name", "suffix")
        for side in "rc"
    }
    return pl.DataFrame([{**codes, **names, "hint_agrees": False, "blocked_by": ""}]).cast(
        {**{c: pl.UInt8 for c in codes}, **{n: pl.String for n in names}}
    )


def test_reasons_name_the_values_compared() -> None:
    levels = {
        "ssn": "exact", "first_name": "nickname", "middle_name": "else", "last_name": "part",
        "suffix": "disagree", "dob": "day_month_swapped", "sex": "agree",
    }  # fmt: skip
    row = _row(
        levels, first_name_r="BILL", first_name_c="WILLIAM", middle_name_r="J", last_name_r="GARCIA",
        last_name_c="GARCIALOPEZ", suffix_r="JR", suffix_c="SR",
    )  # fmt: skip
    assert row.select(reasons()).item() == (
        "SSN exact; first name nickname BILL~WILLIAM; middle name differs J~; "
        "last name part of compound GARCIA~GARCIALOPEZ; suffix differs JR/SR; DOB day/month swapped"
    )


def test_reasons_end_with_the_hint_and_what_blocked_auto() -> None:
    row = _row(
        {"ssn": "one_substitution", "first_name": "middle_as_first"}, first_name_r="JAMES"
    ).with_columns(hint_agrees=pl.lit(True), blocked_by=pl.lit("first_name_unconfirmed|no_identifier"))
    assert row.select(reasons()).item() == (
        "SSN one digit different; middle name used as first name JAMES; DOB missing; "
        "pass-back id agrees (hint only); not auto: first_name_unconfirmed, no_identifier"
    )
