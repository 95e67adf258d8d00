"""The report's SVG histogram: every record in exactly one bar, thresholds always drawn, valid SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.histogram import svg_histogram

DECISIONS = ("auto", "review", "none")
COLOURS = {"auto": "#2e7d32", "review": "#f9a825", "none": "#9e9e9e"}
SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg: str) -> list[tuple[str, int, float, float]]:
    """(decision, records, low, high) of every bar, from its hover title."""
    return [
        (d, int(n), float(lo), float(hi))
        for d, n, lo, hi in re.findall(r"<title>(\w+): (\d+) records, weight (\S+) to (\S+)</title>", svg)
    ]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-80, 80, allow_nan=False), st.sampled_from(DECISIONS)), min_size=1, max_size=300
    ),
    st.dictionaries(st.sampled_from(["auto", "review"]), st.floats(-100, 100, allow_nan=False)),
)
def test_every_record_is_in_one_bar_of_its_decision(
    rows: list[tuple[float, str]], thresholds: dict[str, float]
) -> None:
    weights = pl.DataFrame(rows, schema={"match_weight": pl.Float64, "decision": pl.String}, orient="row")

    svg = svg_histogram(weights, thresholds, DECISIONS, COLOURS)

    root = ET.fromstring(svg)  # well-formed
    assert root.tag == f"{SVG}svg"
    bars = _bars(svg)
    for decision in DECISIONS:
        expected = sum(1 for _, d in rows if d == decision)
        assert sum(n for d, n, _, _ in bars if d == decision) == expected
    for weight, _ in rows:  # the bars' ranges cover every weight
        assert any(lo - 0.01 <= weight <= hi + 0.01 for _, _, lo, hi in bars)
    assert len(root.findall(f"{SVG}line[@stroke-dasharray]")) == len(thresholds)


def test_thresholds_outside_the_weights_widen_the_axis() -> None:
    weights = pl.DataFrame({"match_weight": [5.0, 5.0, 5.0], "decision": ["review"] * 3})

    svg = svg_histogram(weights, {"auto": 12.0, "review": -2.0}, DECISIONS, COLOURS)

    assert "auto ≥ 12" in svg and "review ≥ -2" in svg
    ((decision, records, low, high),) = [b for b in _bars(svg)]
    assert (decision, records) == ("review", 3) and low <= 5.0 <= high
    lines = ET.fromstring(svg).findall(f"{SVG}line[@stroke-dasharray]")
    xs = sorted(float(line.get("x1", "nan")) for line in lines)
    assert 0 < xs[0] < xs[1] < 800  # both thresholds inside the drawing


def test_one_weight_value_without_thresholds_is_one_bar() -> None:
    weights = pl.DataFrame({"match_weight": [7.5] * 4, "decision": ["auto", "auto", "none", "review"]})

    bars = _bars(svg_histogram(weights, {}, DECISIONS, COLOURS))

    assert sorted((d, n) for d, n, _, _ in bars) == [("auto", 2), ("none", 1), ("review", 1)]
