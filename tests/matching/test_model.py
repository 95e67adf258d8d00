"""Thresholds against registries of other sizes, and the model file (matching/model.py)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import polars as pl
import pytest

from matching import Model, Thresholds, match_records
from matching.model import load_model
from tests.matching.conftest import person, records

CALIBRATED = Thresholds(auto=12.0, review=-4.0, margin=2.0, persons=200_000, review_per_doubling=1.5)


def test_thresholds_hold_up_to_the_calibrated_registry_size() -> None:
    for n in (None, 0, 1_000, 200_000):
        assert CALIBRATED.at(n) == CALIBRATED


def test_review_rises_with_each_doubling_of_the_registry_never_past_auto() -> None:
    bigger = CALIBRATED.at(800_000)  # two doublings
    assert bigger.review == pytest.approx(-1.0)
    assert (bigger.auto, bigger.margin) == (CALIBRATED.auto, CALIBRATED.margin)
    assert CALIBRATED.at(200_000 * 2**20).review == CALIBRATED.auto


def test_thresholds_without_a_size_or_slope_are_never_scaled() -> None:
    assert replace(CALIBRATED, persons=0).at(2_000_000).review == -4.0
    assert replace(CALIBRATED, review_per_doubling=0.0).at(2_000_000).review == -4.0


def test_review_slope_is_fitted_from_calibrations_at_two_sizes() -> None:
    small = replace(CALIBRATED, review_per_doubling=0.0)
    large = replace(small, review=1.0, persons=2_000_000)
    fitted = small.with_review_scaling(large)
    assert fitted.review_per_doubling == pytest.approx(5.0 / math.log2(10))
    assert fitted.at(2_000_000).review == pytest.approx(1.0)
    # a larger registry calibrating lower never lowers review
    assert small.with_review_scaling(replace(large, review=-6.0)).review_per_doubling == 0.0
    with pytest.raises(ValueError, match="two known sizes"):
        large.with_review_scaling(small)


def test_model_file_keeps_the_scaling_and_reads_files_written_before_it() -> None:
    shipped = load_model()
    assert all(t.persons == 200_000 for t in shipped.thresholds.values())
    assert all(shipped.thresholds[p].review_per_doubling > 1 for p in ("new_hire", "quarterly_wage"))
    assert Model.from_json(shipped.to_json()) == shipped
    older = json.loads(shipped.to_json())
    for given in older["thresholds"].values():
        del given["persons"], given["review_per_doubling"]
    for t in Model.from_json(json.dumps(older)).thresholds.values():
        assert (t.persons, t.review_per_doubling) == (0, 0.0)
        assert t.at(2_000_000) == t


def test_match_records_raises_review_for_a_registry_larger_than_calibrated(
    registry: pl.DataFrame, model: Model
) -> None:
    """A look-alike in review against the calibrated registry size is left out against a larger one."""
    twin = records(person("P2", first_name="CLARA", middle_name="ROSE", ssn="555443333"))  # own SSN
    n = registry["person_key"].n_unique()
    base = replace(model.thresholds["new_hire"], persons=n, review_per_doubling=1.0)
    best = match_records(twin, registry, replace(model, thresholds={"new_hire": base}), "new_hire")
    assert best["decision"][0] == "review"
    # calibrated on a single NCP, with a slope that lifts review one bit past this candidate at n NCPs
    # (auto above both: review never rises past auto)
    weight = best["match_weight"][0]
    slope = (weight - base.review + 1.0) / math.log2(n)
    smaller = replace(base, auto=weight + 5.0, persons=1, review_per_doubling=slope)
    out = match_records(twin, registry, replace(model, thresholds={"new_hire": smaller}), "new_hire")
    assert out["decision"][0] == "none"
