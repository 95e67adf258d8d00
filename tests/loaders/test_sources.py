"""The declarative source registry: names, extras other packages rely on, and layout sanity."""

from __future__ import annotations

import polars as pl
import pytest

from loaders.canonical import CANONICAL
from loaders.sources import SOURCES, get_source
from loaders.spec import FixedWidthLayout, HeaderRecord, TrailerRecord, digits, text

WORK_RULES = {"locate_hit", "iwo_candidate", "levy_candidate", "license_suspension_candidate"}
S, D, I64 = pl.String(), pl.Date(), pl.Int64()

# Extra columns other engineers use by name: they must stay.
PROMISED_EXTRAS = {
    "new_hire": {
        "hire_date": D,
        "state_of_hire": S,
        "employer_sein": S,
        **{f"iwo_address_line{i}": S for i in (1, 2, 3)},
        "iwo_city": S,
        "iwo_state": S,
        "iwo_zip": S,
    },
    "quarterly_wage": {"wage_amount_cents": I64, "wage_period": S},
    "dmv": {
        "license_number": S,
        "license_state": S,
        "license_class": S,
        "license_status": S,
        "issue_date": D,
        "expiration_date": D,
        "record_updated": D,
    },
    "fidm": {
        **dict.fromkeys(
            [
                "account_number",
                "account_type",
                "payee_indicator",
                "name_match_flag",
                "account_title",
                "foreign_indicator",
                "second_owner_name",
                "state_pass_back",
                "pass_back_id",
                "trust_indicator",
                "balance_indicator",
                "update_indicator",
                "match_period",
                "institution_tin",
                "institution_name",
                "institution_address_line1",
                "institution_city",
                "institution_state",
                "institution_zip",
                "owner_name_raw",
            ],
            S,
        ),
        "account_balance": I64,
    },
    "ui_claim": {"claim_date": D, "weekly_benefit_amount_cents": I64, "claim_state": S, "claim_id": S},
}


def test_registry_names_and_lookup() -> None:
    assert set(SOURCES) == {"new_hire", "quarterly_wage", "dmv", "fidm", "ui_claim"}
    assert get_source("new-hire") is get_source("new_hire") is get_source(" New-Hire ")
    assert get_source("quarterly-wage").cli_name == "quarterly-wage"
    with pytest.raises(KeyError, match="new-hire"):
        get_source("payroll")


@pytest.mark.parametrize("name", sorted(PROMISED_EXTRAS))
def test_promised_extra_columns(name: str) -> None:
    spec = get_source(name)
    extras = spec.extra_columns
    for column, dtype in PROMISED_EXTRAS[name].items():
        assert extras.get(column) == dtype, column
    assert not set(extras) & set(CANONICAL)
    assert list(spec.output_schema)[: len(CANONICAL)] == list(CANONICAL)


@pytest.mark.parametrize("spec", SOURCES.values(), ids=list(SOURCES))
def test_spec_sanity(spec) -> None:
    assert spec.landing_prefix == f"{spec.name}/"
    assert spec.work_rules and set(spec.work_rules) <= WORK_RULES
    assert spec.matching_profile in {"new_hire", "quarterly_wage", "dmv", "fidm", "ui_claim"}
    names = [f.name for f in (*spec.layout.fields, *spec.derived_fields)]
    assert len(names) == len(set(names))
    if isinstance(spec.layout, FixedWidthLayout):
        taken = [0] * (spec.layout.record_length + 1)
        for f in spec.layout.fields:
            assert f.start is not None and f.length is not None
            for position in range(f.start, f.start + f.length):
                taken[position] += 1
        assert max(taken) == 1, "fixed-width fields overlap"
        assert all(taken[p] == 0 for p in range(1, spec.layout.type_length + 1))


def test_fidm_feeds_levies_and_ui_only_locate() -> None:
    assert "levy_candidate" in get_source("fidm").work_rules
    assert get_source("ui_claim").work_rules == ("locate_hit",)
    assert get_source("fidm").extra_columns.keys().isdisjoint({"employer_fein", "employer_name"})


def test_layout_refuses_a_field_past_the_record_end() -> None:
    header = HeaderRecord(code="H4", fields=(text("transmission_type", 14, 2),))
    with pytest.raises(ValueError, match="ends past byte"):
        FixedWidthLayout(
            record_length=20,
            type_length=2,
            header=header,
            detail_code="XX",
            fields=(text("name", 10, 12),),
            trailer=TrailerRecord(code="T4", count_field=digits("record_count", 3, 11)),
        )
