"""Helpers: the comparison levels of one record against one registry identity."""

from __future__ import annotations

from typing import Any

import polars as pl

from matching.compare import LEVELS, comparison_codes
from matching.explain import level_names
from matching.features import record_features
from matching.profiles import get_profile
from tests.matching.conftest import records


def levels_against(
    record: dict[str, Any],
    person_id: str,
    registry: pl.DataFrame,
    profile: str = "new_hire",
    kind: str = "primary",
) -> dict[str, str]:
    """{comparison: level} for the record against the person's identity of that kind."""
    chosen = get_profile(profile)
    features = record_features(records(record, source=profile), chosen)
    identity = registry.filter((pl.col("person_id") == person_id) & (pl.col("identity_kind") == kind))
    pairs = pl.DataFrame({"rec_id": [0], "identity_id": [identity["identity_id"][0]]}).cast(pl.UInt32)
    codes = comparison_codes(pairs, features, registry, chosen)
    row = codes.select(level_names()).row(0, named=True)
    return {c: row[f"{c}_level"] for c in LEVELS}
