"""Each comparison level pinned on hand-written record/registry pairs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from rapidfuzz.distance import OSA, JaroWinkler

from matching.compare import _similarity, _ssn_typos, comparison_codes
from matching.features import record_features
from matching.profiles import get_profile
from tests.matching.conftest import person, records
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
        ("1960-03-04", "one_field"),  # one digit of the year mistyped
        ("1908-03-04", "one_field"),  # two adjacent digits of the year swapped
        ("2005-03-04", "else"),  # P1's day and month a generation later: a son, not a typo
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


def _ssn_typos_by_digits(a: int, b: int) -> tuple[bool, bool]:
    """The definition: the last nine digits differ in one place, or in two adjacent places swapped."""
    da, db = [a // 10**k % 10 for k in range(9)], [b // 10**k % 10 for k in range(9)]
    differ = [k for k in range(9) if da[k] != db[k]]
    swapped = len(differ) == 2 and differ[1] == differ[0] + 1 and da[differ[0]] == db[differ[1]]
    swapped = swapped and da[differ[1]] == db[differ[0]]
    return len(differ) == 1, swapped


def test_ssn_typos_agree_with_the_digit_definition() -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 10**9, 20_000)
    position = 10 ** rng.integers(0, 9, a.size)
    substituted = a - (a // position % 10) * position + rng.integers(0, 10, a.size) * position
    low = 10 ** rng.integers(0, 8, a.size)
    x, y = a // low % 10, a // (low * 10) % 10
    transposed = a + (y - x) * low + (x - y) * low * 10
    gaps = rng.choice([1, 9, 10, 81, 90, 900, 45_000, 7_200_000], a.size)
    b = np.concatenate([substituted, transposed, rng.integers(0, 10**9, a.size), np.abs(a - gaps)])
    a = np.concatenate([a, a, a, a, [10**9 + 5, 5]])
    b = np.concatenate([b, [5, 10**9 + 5]])
    keep = a != b
    one, swap = _ssn_typos(a[keep], b[keep])
    expected = [_ssn_typos_by_digits(int(x), int(y)) for x, y in zip(a[keep], b[keep], strict=True)]
    assert one.tolist() == [e[0] for e in expected]
    assert swap.tolist() == [e[1] for e in expected]
    assert one.any() and swap.any()


def test_pairs_keep_their_order_and_columns(registry: pl.DataFrame) -> None:
    features = record_features(records(person("P1"), person("P2", first_name="ANN")), get_profile("new_hire"))
    ids = registry["identity_id"]
    pairs = pl.DataFrame(
        {"rec_id": [1, 0, 1, 0], "identity_id": [ids[0], ids[1], ids[1], ids[0]], "rule_mask": [1, 2, 3, 4]},
        schema={"rec_id": pl.UInt32, "identity_id": pl.UInt32, "rule_mask": pl.UInt16},
    )
    forward = comparison_codes(pairs, features, registry, get_profile("new_hire"))
    backward = comparison_codes(pairs.reverse(), features, registry, get_profile("new_hire"))
    assert forward.select(pairs.columns).equals(pairs)
    assert forward.equals(backward.reverse())


def test_registry_rows_are_found_by_position(registry: pl.DataFrame) -> None:
    features = record_features(records(person("P1")), get_profile("new_hire"))
    pairs = pl.DataFrame(
        {"rec_id": [0], "identity_id": [1]}, schema={"rec_id": pl.UInt32, "identity_id": pl.UInt32}
    )
    with pytest.raises(ValueError, match="row position"):
        comparison_codes(pairs, features, registry.reverse(), get_profile("new_hire"))


def test_similarity_per_row_from_distinct_pairs() -> None:
    left = pl.Series(["BILL", "WILLIAM", "BILL", "ANNA", "BILL"])
    right = pl.Series(["WILLIAM", "WILLAIM", "WILLIAM", "ANNA", "WILL"])
    similar = _similarity(left, right, nicknames=True)
    for row, (a, b) in enumerate(zip(left, right, strict=True)):
        assert similar["jw"][row] == pytest.approx(JaroWinkler.normalized_similarity(a, b), abs=1e-6)
        assert similar["edits"][row] == OSA.distance(a, b)
    assert similar["nick"].to_list() == [True, False, True, False, True]
