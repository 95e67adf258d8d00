"""Typed reads of frame values the tests compare (polars types `Series.max()` as any literal or None)."""

from __future__ import annotations

import polars as pl


def max_record_number(items: pl.DataFrame) -> int:
    """The highest record number in `items` (which must have at least one row)."""
    highest = items["record_number"].max()
    assert isinstance(highest, int), highest
    return highest
