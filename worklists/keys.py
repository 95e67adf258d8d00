"""Idempotency keys: a stable SHA-256 (its first 128 bits) of the item's kind, NCP, case and normalised fact.

The run, file and source are deliberately not part of the key (except for `match_review`, where the record
itself is the question): re-running a file, or a second source reporting the same employer or address,
lands on the same key and becomes corroboration instead of a duplicate item.

128 bits keep a collision out of reach (about 1e-20 for a billion items) and halve the unique index every
queued item is inserted into at a random place (migration 005 shortened the stored keys the same way).
"""

from __future__ import annotations

import hashlib

import polars as pl

KEY_HEX_CHARS = 32  # the first 128 bits of the SHA-256, as hex


def _sha256(values: pl.Series) -> pl.Series:
    # polars' own hash is not stable across versions; keys are stored for years, so use SHA-256.
    # One digest per work item (after the rules filtered the records), never per record or pair.
    return pl.Series(
        [hashlib.sha256(v.encode()).hexdigest()[:KEY_HEX_CHARS] for v in values.to_list()], dtype=pl.String()
    )


def idempotency_key(kind: pl.Expr, person_id: pl.Expr, case_id: pl.Expr, fact: pl.Expr) -> pl.Expr:
    """The first 128 bits (hex) of the SHA-256 of `kind|person|case|fact` (a missing case: empty string)."""
    text = pl.concat_str([kind, person_id, case_id.fill_null(""), fact], separator="\x1f")
    return text.map_batches(_sha256, return_dtype=pl.String())
