"""Each comparison level pinned on hand-written record/registry pairs."""

from __future__ import annotations

import polars as pl
import pytest

from tests.matching.conftest import person
from tests.matching.helpers import levels_against


def test_identical_record_agrees_everywhere(registry: pl.DataFrame) -> None:
    levels = levels_against(person("P1"), "P1", registry)
    assert levels == {"ssn": "exact", "first_name": "exact", "middle_name": "exact", "last_name": "exact",
                      "suffix": "null", "dob": "exact", "address": "street", "sex": "agree",
                      "employer": "null"}  # fmt: skip


@pytest.mark.parametrize(
    ("ssn", "level"),
    [
        ("231456781", "exact"),
        ("231456701", "one_substitution"),  # one mistyped digit
        ("321456781", "transposition"),  # first two digits swapped
        ("231456718", "transposition"),  # last two digits swapped
        ("231457681", "transposition"),
        ("555443333", "other"),
        ("000000000", "null"),  # invalid SSNs are missing, never evidence
        ("666456781", "null"),
        ("931456781", "null"),  # ITIN
        ("123456789", "null"),  # dummy
        ("231006781", "null"),  # group 00
        ("231450000", "null"),  # serial 0000
        (None, "null"),
    ],
)
def test_ssn_levels(registry: pl.DataFrame, ssn: str | None, level: str) -> None:
    assert levels_against(person("P1", ssn=ssn), "P1", registry)["ssn"] == level


def test_ssn_last_four_only_on_dmv(registry: pl.DataFrame) -> None:
    record = person("P1", ssn=None, ssn_last4="6781")
    assert levels_against(record, "P1", registry, profile="dmv")["ssn"] == "last4_agree"
    assert (
        levels_against({**record, "ssn_last4": "1111"}, "P1", registry, profile="dmv")["ssn"]
        == "last4_differ"
    )
    assert levels_against(record, "P1", registry, profile="new_hire")["ssn"] == "null"


@pytest.mark.parametrize(
    ("changes", "level"),
    [
        ({"first_name": "BILL"}, "nickname"),
        ({"first_name": "Will"}, "nickname"),
        ({"first_name": "JAMES", "middle_name": None}, "middle_as_first"),
        ({"first_name": "WILLAIM"}, "jw_high"),  # typo
        ({"first_name": "W"}, "initial"),
        ({"first_name": "W."}, "initial"),
        ({"first_name": "WILLARD"}, "jw_mid"),
        ({"first_name": "PETER"}, "else"),
        ({"first_name": None}, "null"),
    ],
)
def test_first_name_levels(registry: pl.DataFrame, changes: dict[str, str | None], level: str) -> None:
    assert levels_against(person("P1", **changes), "P1", registry)["first_name"] == level


def test_swapped_first_and_last(registry: pl.DataFrame) -> None:
    levels = levels_against(person("P1", first_name="OKAFOR", last_name="WILLIAM"), "P1", registry)
    assert (levels["first_name"], levels["last_name"]) == ("swapped", "swapped")


@pytest.mark.parametrize(
    ("last_name", "level"),
    [
        ("GARCIA LOPEZ", "exact"),  # hyphen or space: the same whole surname
        ("GARCIA", "part"),  # one part of a hyphenated surname
        ("LOPEZ", "part"),
        ("GARCIA-LOPES", "part"),  # one part still agrees
        ("GARCIA-LOPEZ JR", "exact"),  # a suffix inside the last name is split out
        ("XU", "else"),
        (None, "null"),
    ],
)
def test_last_name_levels(registry: pl.DataFrame, last_name: str | None, level: str) -> None:
    assert levels_against(person("P4", last_name=last_name), "P4", registry)["last_name"] == level


def test_surname_typo(registry: pl.DataFrame) -> None:
    assert levels_against(person("P3", last_name="JOHNSTOME"), "P3", registry)["last_name"] == "jw_high"


def test_truncated_surname_is_a_prefix_not_a_disagreement(registry: pl.DataFrame) -> None:
    assert levels_against(person("P3", last_name="JOHNST"), "P3", registry)["last_name"] == "prefix"
    # wage files truncate hard: even three letters are a truncation there
    record = person("P3", last_name="JOH")
    assert levels_against(record, "P3", registry, profile="quarterly_wage")["last_name"] == "prefix"


def test_suffix_in_last_name_is_compared_as_suffix(registry: pl.DataFrame) -> None:
    junior = levels_against(person("P3", last_name="JOHNSTONE JR", suffix=None), "P3", registry)
    assert (junior["last_name"], junior["suffix"]) == ("exact", "disagree")
    senior = levels_against(person("P3", last_name="JOHNSTONE SR.", suffix=None), "P3", registry)
    assert senior["suffix"] == "agree"


@pytest.mark.parametrize(
    ("dob", "level"),
    [
        ("1980-03-04", "exact"),
        ("1980-04-03", "day_month_swapped"),
        ("1980-03-05", "off_by_one"),
        ("1980-02-04", "off_by_one"),
        ("1981-03-04", "off_by_one"),
        ("1980-03-24", "one_field"),
        ("1958-11-30", "else"),
        (None, "null"),  # missing DOB is not a disagreement
    ],
)
def test_dob_levels(registry: pl.DataFrame, dob: str | None, level: str) -> None:
    assert levels_against(person("P1", dob=dob), "P1", registry)["dob"] == level


@pytest.mark.parametrize(
    ("address", "level"),
    [
        ({"address_line1": "12 Elm St."}, "street"),  # USPS abbreviation
        ({"address_line1": "99 OTHER WAY"}, "zip"),
        ({"address_line1": "99 OTHER WAY", "zip": "62799"}, "city_state"),
        ({"address_line1": "1 X", "zip": "10001", "city": "NEW YORK", "state": "NY"}, "else"),
        ({"address_line1": None, "zip": None, "city": None}, "null"),
    ],
)
def test_address_levels(registry: pl.DataFrame, address: dict[str, str | None], level: str) -> None:
    assert levels_against(person("P1", **address), "P1", registry)["address"] == level


def test_alias_identity_competes(registry: pl.DataFrame) -> None:
    alternate_ssn = levels_against(person("P4", ssn="523698700"), "P4", registry, kind="alias")
    assert alternate_ssn["ssn"] == "exact"
    alias_name = levels_against(person("P5", last_name="QUINN"), "P5", registry, kind="alias")
    assert alias_name["last_name"] == "exact"


def test_profile_without_a_comparison_scores_it_null(registry: pl.DataFrame) -> None:
    levels = levels_against(person("P1", dob="1958-11-30"), "P1", registry, profile="quarterly_wage")
    assert (levels["dob"], levels["address"], levels["sex"]) == ("null", "null", "null")


def test_fidm_free_form_owner_name(registry: pl.DataFrame) -> None:
    """FIDM owner names arrive as one `LAST FIRST MIDDLE` string."""
    record = person("P1", first_name=None, middle_name=None, last_name="OKAFOR WILLIAM J")
    levels = levels_against(record, "P1", registry, profile="fidm")
    assert (levels["first_name"], levels["last_name"], levels["middle_name"]) == ("exact", "exact", "initial")
