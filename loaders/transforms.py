"""Execute the transforms a source spec declares (``loaders.spec.Transform``) as polars expressions."""

from __future__ import annotations

import polars as pl

from loaders.spec import SplitPersonName, SplitPrefixed, SplitZipPlus4, Transform


def apply_transforms(frame: pl.DataFrame, transforms: tuple[Transform, ...]) -> pl.DataFrame:
    """Apply each transform in order to cleaned (trimmed, upper-cased, blank -> null) values."""
    for transform in transforms:
        frame = frame.with_columns(_expressions(transform))
    return frame


def _expressions(transform: Transform) -> list[pl.Expr]:
    if isinstance(transform, SplitPrefixed):
        return _split_prefixed(transform)
    if isinstance(transform, SplitZipPlus4):
        return _split_zip(transform)
    return _split_person_name(transform)


def _split_zip(t: SplitZipPlus4) -> list[pl.Expr]:
    value = pl.col(t.column)
    plus4 = value.str.extract(r"^\d{5}-?(\d{4})$", 1)
    return [
        pl.when(plus4.is_not_null()).then(value.str.slice(0, 5)).otherwise(value).alias(t.column),
        plus4.alias(t.target),
    ]


def _split_prefixed(t: SplitPrefixed) -> list[pl.Expr]:
    value = pl.col(t.column)
    has_prefix = value.str.to_lowercase().str.starts_with(t.prefix.lower()).fill_null(False)
    rest = value.str.slice(len(t.prefix)).str.strip_chars()
    return [
        pl.when(has_prefix).then(rest).alias(t.target),
        pl.when(has_prefix).then(None).otherwise(value).alias(t.column),
    ]


def _split_person_name(t: SplitPersonName) -> list[pl.Expr]:
    """``LAST FIRST MIDDLE…``: suffix tokens anywhere go to ``suffix``; commas and periods are spaces."""
    tokens = (
        pl.col(t.column)
        .str.replace_all(r"[.,]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.split(" ")
    )
    is_suffix = pl.element().is_in(list(t.suffixes))
    names = tokens.list.eval(pl.element().filter(~is_suffix & (pl.element() != "")))
    middle = names.list.slice(2).list.join(" ")
    return [
        names.list.get(0, null_on_oob=True).alias("last_name"),
        names.list.get(1, null_on_oob=True).alias("first_name"),
        pl.when(middle != "").then(middle).alias("middle_name"),
        tokens.list.eval(pl.element().filter(is_suffix)).list.first().alias("suffix"),
    ]
