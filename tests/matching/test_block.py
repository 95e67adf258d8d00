"""Blocking finds typo'd SSNs by generated variants and tags each pair with its rules."""

from __future__ import annotations

import polars as pl
import pytest

from matching import prepare_registry
from matching.block import RULE_BIT, candidate_pairs, rule_names
from matching.features import record_features
from matching.profiles import get_profile
from tests.matching.conftest import alias_frame, known_employer_frame, ncp_frame, person, records


def _found(registry: pl.DataFrame, *rows: dict, profile: str = "new_hire", cap: int = 50) -> pl.DataFrame:
    chosen = get_profile(profile)
    pairs, _ = candidate_pairs(
        record_features(records(*rows, source=profile), chosen), registry, chosen, cap=cap
    )
    people = registry.select("identity_id", "person_id")
    return pairs.join(people, on="identity_id").with_columns(rules=rule_names(pl.col("rule_mask")))


def _rules_for(found: pl.DataFrame, rec_id: int, person_id: str) -> set[str]:
    rows = found.filter((pl.col("rec_id") == rec_id) & (pl.col("person_id") == person_id))["rules"].to_list()
    return {rule for joined in rows for rule in joined.split("|")}


def test_one_digit_typo_and_adjacent_swap_are_found_by_ssn_alone(registry: pl.DataFrame) -> None:
    # Names and DOB useless: only the SSN can find these.
    stranger = {"first_name": "ZED", "last_name": "NOBODY", "dob": None, "address_line1": None, "zip": None}
    found = _found(
        registry,
        {**stranger, "ssn": "231456701"},  # P1 with one digit mistyped
        {**stranger, "ssn": "321456781"},  # P1 with the first two digits swapped
        {**stranger, "ssn": "412589673"},  # P3 with the last two digits swapped
        {**stranger, "ssn": "231456781"},  # P1 exact
        {**stranger, "ssn": "777777771"},  # nobody
    )
    assert _rules_for(found, 0, "P1") == {"ssn_near"}
    assert _rules_for(found, 1, "P1") == {"ssn_near"}
    assert _rules_for(found, 2, "P3") == {"ssn_near"}
    assert _rules_for(found, 3, "P1") == {"ssn_exact"}
    assert found.filter(pl.col("rec_id") == 4).is_empty()


def test_two_digit_changes_are_not_near(registry: pl.DataFrame) -> None:
    found = _found(registry, {"ssn": "231456700", "first_name": "ZED", "last_name": "NOBODY"})
    assert found.is_empty()


def test_name_and_date_rules(registry: pl.DataFrame) -> None:
    found = _found(
        registry,
        person("P2", ssn=None),
        person("P2", ssn=None, first_name="KOWALSKI", last_name="ANNA", dob=None, zip=None),
        person(
            "P4", ssn=None, last_name="SMITH", first_name="MARIA"
        ),  # surname changed: DOB + ZIP, first + DOB
        person("P1", ssn=None, dob=None, first_name="WILLIAM", last_name="OKAFOR"),  # name + ZIP
    )
    assert {"last_dob", "first_dob", "phonetic_year_initial", "dob_zip", "name_zip"} <= _rules_for(
        found, 0, "P2"
    )
    assert "swapped_names" in _rules_for(found, 1, "P2")
    assert {"dob_zip", "first_dob"} <= _rules_for(found, 2, "P4")
    assert _rules_for(found, 3, "P1") == {"name_zip", "full_name"}  # no SSN: the full name finds them


def test_a_part_of_a_compound_surname_with_the_birth_date_finds_the_person(registry: pl.DataFrame) -> None:
    # No SSN, another first name and no ZIP: the whole surname differs, so only a shared part can find them.
    unplaced = {"ssn": None, "first_name": "MARY", "zip": None, "address_line1": None}
    found = _found(
        registry,
        person("P4", **unplaced, last_name="LOPEZ"),  # registry GARCIA-LOPEZ, record one part of it
        person("P2", **unplaced, last_name="KOWALSKI-NOWAK"),  # registry KOWALSKI, record a compound name
        person("P4", **unplaced, last_name="LOPEZ-DIAZ"),  # both compound, one part shared
        person("P2", **unplaced, last_name="NOWAK"),  # no part shared: nothing
    )
    assert "part_dob" in _rules_for(found, 0, "P4") and "last_dob" not in _rules_for(found, 0, "P4")
    assert "part_dob" in _rules_for(found, 1, "P2")
    assert "part_dob" in _rules_for(found, 2, "P4")
    assert "part_dob" not in _rules_for(found, 3, "P2")


def test_alias_ssn_is_blocked_like_the_primary(registry: pl.DataFrame) -> None:
    found = _found(registry, {"ssn": "523698700", "first_name": "MARIA", "last_name": "GARCIA"})
    assert _rules_for(found, 0, "P4") == {"ssn_exact"}


def test_dmv_last_four_and_fidm_pass_back(registry: pl.DataFrame) -> None:
    dmv = _found(registry, person("P1", ssn=None, ssn_last4="6781", dob=None, zip=None), profile="dmv")
    assert _rules_for(dmv, 0, "P1") == {"last4_name"}
    fidm = _found(registry, {"ssn": None, "last_name": "NOBODY", "pass_back_id": "P3"}, profile="fidm")
    assert _rules_for(fidm, 0, "P3") == {"hint"}


def test_cap_keeps_the_strongest_pairs(registry: pl.DataFrame) -> None:
    # SSN of P1, name and DOB of P2: two candidates; a cap of one keeps the SSN pair.
    record = person("P2", ssn="231456781")
    chosen = get_profile("new_hire")
    features = record_features(records(record), chosen)
    pairs, stats = candidate_pairs(features, registry, chosen, cap=1)
    kept = pairs.join(registry.select("identity_id", "person_id"), on="identity_id")
    assert kept["person_id"].to_list() == ["P1"]
    assert (kept["rule_mask"][0] & RULE_BIT["ssn_exact"]) > 0
    assert (stats.dropped_by_cap, stats.records_capped, stats.pairs) == (1, 1, 1)


def test_wage_record_with_an_initial_and_no_ssn_is_found_by_surname_and_initial(
    registry: pl.DataFrame,
) -> None:
    # No usable SSN, no employer on file, only a first initial: surname + initial finds P1, for wage
    # files only (sources with a birth date block on it instead).
    record = {"ssn": "000000000", "first_name": "W", "last_name": "OKAFOR"}
    assert _rules_for(_found(registry, record, profile="quarterly_wage"), 0, "P1") == {"last_initial"}
    assert _found(registry, record).is_empty()
    # Another initial is no candidate.
    assert _found(registry, {**record, "first_name": "Q"}, profile="quarterly_wage").is_empty()


def test_wage_partial_names_need_a_silent_ssn(registry: pl.DataFrame) -> None:
    # A truncated surname with the full first name is found by first name + surname stem.
    truncated = {"ssn": None, "first_name": "WILLIAM", "last_name": "OKA"}
    assert _rules_for(_found(registry, truncated, profile="quarterly_wage"), 0, "P1") == {"first_stem"}
    # A valid SSN that is not the person's (a stranger's own) with only surname + initial: no candidate.
    stranger = {"ssn": "555123456", "first_name": "W", "last_name": "OKAFOR"}
    assert _found(registry, stranger, profile="quarterly_wage").is_empty()


def test_cap_ties_fall_to_the_lower_identity(registry: pl.DataFrame) -> None:
    # P5's primary and alias identities share the SSN: one rule, one priority; the cap keeps the lower id.
    chosen = get_profile("new_hire")
    features = record_features(
        records({"ssn": "634125897", "first_name": "ZED", "last_name": "NOBODY"}), chosen
    )
    pairs, stats = candidate_pairs(features, registry, chosen, cap=1)
    p5 = registry.filter(pl.col("person_id") == "P5")["identity_id"]
    assert p5.len() == 2
    assert pairs["identity_id"].to_list() == [p5.min()]
    assert (stats.pairs, stats.dropped_by_cap, stats.records_capped) == (1, 1, 1)
    with pytest.raises(ValueError, match="at least 1"):
        candidate_pairs(features, registry, chosen, cap=0)


def test_a_registry_ssn_one_digit_from_the_records_is_near_too() -> None:
    # P6's SSN is P1's with the last digit changed: a record with P1's SSN finds both.
    p6 = (
        ncp_frame()
        .filter(pl.col("person_id") == "P1")
        .with_columns(
            person_id=pl.lit("P6"),
            ssn=pl.lit("231456782"),
            first_name=pl.lit("OTTO"),
            last_name=pl.lit("BERG"),
        )
    )
    registry = prepare_registry(pl.concat([ncp_frame(), p6]), alias_frame(), known_employer_frame())
    found = _found(registry, {"ssn": "231456781", "first_name": "ZED", "last_name": "NOBODY"})
    assert _rules_for(found, 0, "P1") == {"ssn_exact"}
    assert _rules_for(found, 0, "P6") == {"ssn_near"}


def test_no_records_no_pairs(registry: pl.DataFrame) -> None:
    chosen = get_profile("quarterly_wage")
    pairs, stats = candidate_pairs(record_features(records(person("P1")), chosen).head(0), registry, chosen)
    assert pairs.is_empty() and pairs.columns == ["rec_id", "identity_id", "rule_mask"]
    assert stats.pairs == stats.dropped_by_cap == 0
