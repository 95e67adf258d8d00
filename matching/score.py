"""Fellegi–Sunter scoring: per-level weights log2(m/u), term-frequency adjusted names, prior, probability."""

from __future__ import annotations

import math

import polars as pl

from matching.compare import LEVELS, level_code
from matching.model import Model

# Comparison -> (frequency column, the agreeing level whose u is that frequency).
TF_FIELDS = {
    "first_name": ("first_tf", "exact"),
    "last_name": ("last_tf", "exact"),
    "employer": ("employer_tf", "known"),
}


def _level_weight(model: Model, comparison: str) -> pl.Expr:
    weights = model.weights(comparison)
    code = pl.col(f"{comparison}_code")
    expr = pl.lit(pl.Series(weights, dtype=pl.Float64)).gather(code)  # weights indexed by level code
    if comparison in TF_FIELDS:
        # Agreement on a rare name (a small employer) is stronger evidence than on SMITH (the biggest
        # employer in the state): u = the value's frequency in the registry.
        column, level = TF_FIELDS[comparison]
        u_value = pl.col(column).clip(lower_bound=model.tf_min)
        tf_weight = pl.lit(math.log2(model.m[comparison][level])) - u_value.log(2)
        expr = pl.when(code == level_code(comparison, level)).then(tf_weight).otherwise(expr)
    return expr.alias(f"{comparison}_weight")


def score(codes: pl.DataFrame, model: Model, n_persons: int) -> pl.DataFrame:
    """Add `<comparison>_weight`, `match_weight` (prior + sum, in bits) and `match_probability`.

    The prior is the model's (`Model.prior_weight`; `n_persons` only for a model without one).
    """
    weight_cols = [f"{c}_weight" for c in LEVELS]
    scored = codes.with_columns(_level_weight(model, c) for c in LEVELS)
    total = pl.sum_horizontal(weight_cols) + model.prior_weight(n_persons)
    return scored.with_columns(match_weight=total).with_columns(
        match_probability=probability(pl.col("match_weight"))
    )


def probability(weight: pl.Expr) -> pl.Expr:
    """P(match) from a log2 Bayes factor that includes the prior."""
    return 1.0 / (1.0 + pl.lit(2.0).pow(-weight))
