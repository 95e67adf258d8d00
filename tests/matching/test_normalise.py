"""Normalisers: examples and properties (hypothesis)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import normalise

NAME_TEXT = st.text(alphabet=st.sampled_from("abcXYZ éÑ-'. ,jrJR123"), max_size=20)


def _names(
    first: Sequence[str | None], last: Sequence[str | None], suffix: Sequence[str | None] | None = None
) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "f": list(first),
            "m": [None] * len(first),
            "l": list(last),
            "s": list(suffix or [None] * len(first)),
        },
        schema=dict.fromkeys("fmls", pl.String),
    )
    return normalise.names(frame, "f", "m", "l", "s")


def test_names_examples() -> None:
    out = _names(
        ["José", "j.", "Mary Ann", None],
        ["O'Brien-Smith jr.", "de la Cruz", "SMITH III", "Nguyen"],
        [None, None, None, "Sr."],
    ).to_dicts()
    assert out[0] == {"first_name": "JOSE", "middle_name": None, "last_name": "OBRIENSMITH",
                      "last_parts": ["OBRIEN", "SMITH"], "suffix": "JR"}  # fmt: skip
    assert (out[1]["first_name"], out[1]["last_name"], out[1]["last_parts"]) == ("J", "DELACRUZ", ["CRUZ"])
    assert (out[2]["first_name"], out[2]["last_name"], out[2]["suffix"]) == ("MARYANN", "SMITH", "III")
    assert (out[3]["first_name"], out[3]["suffix"]) == (None, "SR")


@settings(max_examples=60, deadline=None)
@given(st.lists(NAME_TEXT, min_size=1, max_size=8))
def test_names_are_upper_ascii_letters_and_idempotent(values: list[str]) -> None:
    once = _names(values, values)
    for column in ("first_name", "last_name"):
        for value in once[column].to_list():
            assert value is None or (value.isascii() and value.isalpha() and value.isupper())
    # normalising a normalised name changes nothing (parts are only known from the raw separators)
    twice = _names(once["first_name"].to_list(), once["last_name"].to_list(), once["suffix"].to_list())
    whole = ["first_name", "last_name", "suffix"]
    assert twice.select(whole).equals(once.select(whole))


def _ssn(values: list[str | None]) -> list[str | None]:
    return (
        pl.DataFrame({"s": values}, schema={"s": pl.String}).select(normalise.ssn(pl.col("s")))["s"].to_list()
    )


def test_ssn_examples() -> None:
    assert _ssn(["231-45-6781", "000456781", "666456781", "900456781", "231006781", "231450000",
                 "123456789", "111111111", "12345678", "", None]) == ["231456781"] + [None] * 10  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_ssn_validity_follows_ssa_rules(value: str) -> None:
    area, group, serial = value[:3], value[3:5], value[5:]
    valid = (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and len(set(value)) > 1
        and value not in normalise.DUMMY_SSNS
    )
    assert _ssn([value]) == [value if valid else None]


def test_street_zip_place_sex() -> None:
    frame = pl.DataFrame(
        {
            "a": ["123 North Main Street, Apt. #4", "  ", None],
            "z": ["62701-1234", "00000", "627"],
            "c": ["St. Louis", "", None],
            "x": ["m", "X", None],
        }
    )
    out = frame.select(
        normalise.street(pl.col("a")),
        normalise.zip5(pl.col("z")),
        normalise.place(pl.col("c")),
        normalise.sex(pl.col("x")),
    ).rows()
    assert out == [
        ("123 N MAIN ST APT 4", "62701", "ST LOUIS", "M"),
        (None, None, None, None),
        (None, None, None, None),
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("0123456789 -abc"), max_size=12), min_size=1, max_size=6))
def test_zip5_is_five_digits_or_null(values: list[str]) -> None:
    out = pl.DataFrame({"z": values}).select(normalise.zip5(pl.col("z")))["z"].to_list()
    assert all(v is None or (len(v) == 5 and v.isdigit() and v != "00000") for v in out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 1, 1)), min_size=1, max_size=6))
def test_dob_placeholder_years_are_missing(values: list[date]) -> None:
    out = pl.DataFrame({"d": values}).select(normalise.dob(pl.col("d")))["d"].to_list()
    assert out == [v if v.year >= 1900 else None for v in values]


def test_nickname_pairs_both_directions() -> None:
    pairs = set(normalise.nickname_pairs().rows())
    assert {("BILL", "WILLIAM"), ("WILLIAM", "BILL"), ("BILL", "WILL"), ("BOB", "ROBERT")} <= pairs
    assert ("ROBERT", "WILLIAM") not in pairs  # siblings only through a longer formal name
