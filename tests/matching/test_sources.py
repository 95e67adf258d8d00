"""Per-source rules: FIDM owner names and the inquiry SSN, wage files' partial names and employers."""

from __future__ import annotations

from typing import Any

import polars as pl

from matching import Model, match_records
from matching.normalise import fein, read_full_name
from tests.matching.conftest import person, records
from tests.matching.helpers import levels_against

P1_DOB = "1980-03-04"


def _one(registry: pl.DataFrame, model: Model, row: dict[str, Any], profile: str) -> dict[str, Any]:
    out = match_records(records(row, source=profile), registry, model, profile)
    assert out.height == 1
    return out.row(0, named=True)


def _account(owner: str, second: str | None = None, **changes: Any) -> dict[str, Any]:
    """A FIDM record for P1's SSN as the loader hands it over: the first owner split `LAST FIRST
    MIDDLE` into the name columns, both raw owner names kept, no DOB unless given."""
    tokens = owner.split()
    split = {"last_name": tokens[0], "first_name": tokens[1] if len(tokens) > 1 else None,
             "middle_name": " ".join(tokens[2:]) or None}  # fmt: skip
    base = person("P1", dob=None, suffix=None, **split)
    return {**base, "owner_name_raw": owner, "second_owner_name": second, **changes}


def test_read_full_name_both_ways() -> None:
    frame = pl.DataFrame({"name": ["OKAFOR WILLIAM J", "WILLIAM J OKAFOR JR.", "OKAFOR, WILLIAM", "CHER"]})
    surname_first = frame.select(read_full_name(pl.col("name"), given_first=False))
    given_first = frame.select(read_full_name(pl.col("name"), given_first=True))
    assert surname_first.row(0) == ("OKAFOR", "WILLIAM", "J", None)
    assert given_first.row(1) == ("OKAFOR", "WILLIAM", "J", "JR")
    assert given_first.row(2) == (None, None, None, None)  # a comma means surname first
    assert given_first.row(3) == (None, None, None, None)  # one word is no given-first reading
    assert surname_first.row(3)[0] == "CHER"


def test_an_account_role_word_ends_the_owner_name() -> None:
    names = ["OKAFOR WILLIAM J UTMA CUSTODIAN", "OKAFOR WILLIAM CUST", "WILLIAM OKAFOR DBA OKAFOR AUTO",
             "OKAFOR WILLIAM J ET AL", "DBA OKAFOR AUTO"]  # fmt: skip
    frame = pl.DataFrame({"name": names})
    surname_first = frame.select(read_full_name(pl.col("name"), given_first=False)).rows()
    given_first = frame.select(read_full_name(pl.col("name"), given_first=True)).rows()
    assert surname_first[0] == surname_first[3] == ("OKAFOR", "WILLIAM", "J", None)
    assert surname_first[1] == ("OKAFOR", "WILLIAM", None, None)
    assert given_first[2] == ("OKAFOR", "WILLIAM", None, None)
    assert surname_first[4] == given_first[4] == (None, None, None, None)  # no name before the role


def test_fein_is_nine_digits_or_null() -> None:
    values = pl.Series(["12-3456789", "000000000", "1234", None])
    assert pl.select(fein(pl.lit(values))).to_series().to_list() == ["123456789", None, None, None]


def test_fidm_free_form_owner_name_is_read_first_name_first(registry: pl.DataFrame) -> None:
    levels = levels_against(_account("WILLIAM JAMES OKAFOR"), "P1", registry, profile="fidm")
    assert (levels["first_name"], levels["middle_name"], levels["last_name"]) == ("exact", "exact", "exact")


def test_fidm_ncp_as_second_owner_is_compared_by_the_second_name(
    registry: pl.DataFrame, model: Model
) -> None:
    row = _account("DOE JANE", second="OKAFOR WILLIAM JAMES", dob=P1_DOB, payee_indicator="1")
    best = _one(registry, model, row, "fidm")
    assert (best["person_id"], best["first_name_level"], best["last_name_level"]) == ("P1", "exact", "exact")
    assert best["decision"] == "auto"


def test_fidm_without_dob_goes_to_review_never_auto(registry: pl.DataFrame, model: Model) -> None:
    """A same-named son using his father's SSN looks exactly like this: only a DOB tells them apart."""
    best = _one(registry, model, _account("OKAFOR WILLIAM JAMES"), "fidm")
    assert (best["person_id"], best["decision"]) == ("P1", "review")
    assert "dob_unconfirmed" in best["reasons"]
    # the same account on a new-hire record (the person's own SSN) may be auto
    assert _one(registry, model, _account("OKAFOR WILLIAM JAMES"), "new_hire")["decision"] == "auto"


def test_fidm_pass_back_id_is_never_evidence(registry: pl.DataFrame, model: Model) -> None:
    stranger = _account("NOBODY ZED", ssn=None, pass_back_id="P1", address_line1=None, zip=None, city=None)
    out = match_records(records(stranger, source="fidm"), registry, model, "fidm")
    assert out.is_empty() or out["decision"][0] == "none"


def test_wage_partial_names_are_not_disagreement(registry: pl.DataFrame, model: Model) -> None:
    row = person("P3", first_name="R", middle_name=None, last_name="JOHNS", dob=None, suffix=None)
    best = _one(registry, model, row, "quarterly_wage")
    assert (best["first_name_level"], best["last_name_level"]) == ("initial", "prefix")
    assert (best["person_id"], best["decision"]) == ("P3", "auto")


def test_wage_without_ssn_found_by_name_and_employer_on_file(registry: pl.DataFrame, model: Model) -> None:
    """No usable SSN, initial only: the employer on file finds the NCP; review, never auto."""
    row = person("P1", ssn="000000000", first_name="W", dob=None, employer_fein="361234567")
    best = _one(registry, model, row, "quarterly_wage")
    assert (best["person_id"], best["employer_level"], best["decision"]) == ("P1", "known", "review")
    assert "employer_name" in best["blocking_rules"]
    assert (
        "full_name"
        in _one(registry, model, {**row, "first_name": "WILLIAM"}, "quarterly_wage")["blocking_rules"]
    )


def test_small_employer_weighs_more_than_a_big_one(registry: pl.DataFrame, model: Model) -> None:
    small = _one(registry, model, person("P1", dob=None, employer_fein="361234567"), "quarterly_wage")
    big = _one(registry, model, person("P1", dob=None, employer_fein="470000001"), "quarterly_wage")
    other = _one(registry, model, person("P1", dob=None, employer_fein="999999999"), "quarterly_wage")
    assert small["employer_weight"] > 0  # one NCP in five works there
    assert small["employer_weight"] > big["employer_weight"] > other["employer_weight"]  # big: two in five
    assert other["employer_level"] == "else"


def test_name_fallbacks_only_for_records_the_ssn_did_not_place(registry: pl.DataFrame, model: Model) -> None:
    row = person("P1", dob=None, zip=None, employer_fein="361234567")
    assert _one(registry, model, row, "quarterly_wage")["blocking_rules"] == "ssn_exact"


def test_dmv_relative_at_the_same_address_is_not_auto(registry: pl.DataFrame, model: Model) -> None:
    spouse = person("P1", ssn=None, first_name="GRACE", middle_name=None, dob="1982-09-10", sex="F")
    out = match_records(records(spouse, source="dmv"), registry, model, "dmv")
    assert out.is_empty() or out["decision"][0] != "auto"
    ncp = _one(registry, model, person("P1", ssn=None, ssn_last4="6781"), "dmv")
    assert (ncp["person_id"], ncp["ssn_level"], ncp["decision"]) == ("P1", "last4_agree", "auto")


def test_prior_is_fixed_at_training_size(model: Model) -> None:
    fixed = Model(**{**model.__dict__, "prior_persons": 200_000})
    assert fixed.prior_weight(10_000) == fixed.prior_weight(2_000_000) < model.prior_weight(10_000)
