"""Features: the shortcuts taken for speed give what the plain normalisers give."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import normalise
from matching.features import FEATURES, _distinct_identities, _normalised, normalise_person

TEXT = st.text(alphabet=st.sampled_from("ab XYZ 12 éÑ-'.,#"), max_size=16)
VALUES = st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(VALUES)
def test_accent_folding_only_where_needed_changes_nothing(values: list[str | None]) -> None:
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    for normaliser in (normalise.street, normalise.place, normalise.sex):
        plain = frame.select(normaliser(pl.col("raw")).alias("x"))["x"]
        assert _normalised(frame, "x", normaliser).to_list() == plain.to_list()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT), min_size=1, max_size=10))
def test_per_distinct_person_features_match_row_by_row(rows: list[tuple[str, ...]]) -> None:
    columns = ("first_name", "middle_name", "last_name", "address_line1", "city", "sex")
    frame = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    features = normalise_person(frame)
    for i in range(frame.height):
        assert normalise_person(frame.slice(i, 1)).row(0) == features.row(i)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("PQR"), st.sampled_from(["A", "B", None])), min_size=1, max_size=9))
def test_distinct_identities_is_unique_on_person_and_features(rows: list[tuple[str, str | None]]) -> None:
    frame = pl.DataFrame(
        {
            "person_id": [p for p, _ in rows],
            "identity_kind": ["primary"] * len(rows),
            **{f: [None] * len(rows) for f in FEATURES},
            "last_name": [name for _, name in rows],
            "last_parts": [[str(i)] for i in range(len(rows))],
        },
        schema_overrides={f: pl.String for f in FEATURES if f != "last_parts"},
    )
    key = ["person_id", *[f for f in FEATURES if f != "last_parts"]]
    assert _distinct_identities(frame).equals(frame.unique(subset=key, keep="first", maintain_order=True))
