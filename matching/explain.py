"""Explain: readable level names and a short `reasons` string per match (worklist only, never logs)."""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from matching.block import rule_names
from matching.compare import LEVELS

_R, _C = "{r}", "{c}"

# Phrase per comparison level; {r}/{c} are the record's and the registry's values. Levels not listed
# (null names, plain agreement on sex or suffix) say nothing.
PHRASES: dict[str, dict[str, str]] = {
    "ssn": {
        "exact": "SSN exact", "one_substitution": "SSN one digit different",
        "transposition": "SSN two digits transposed", "last4_agree": "SSN last four agree",
        "last4_differ": "SSN last four differ", "other": "SSN different", "null": "SSN missing or invalid",
    },
    "first_name": {
        "exact": "first name exact", "nickname": f"first name nickname {_R}~{_C}",
        "middle_as_first": f"middle name used as first name {_R}", "swapped": "first and last name swapped",
        "jw_high": f"first name similar {_R}~{_C}", "initial": "first name initial only",
        "jw_mid": f"first name loosely similar {_R}~{_C}", "else": f"first name differs {_R}~{_C}",
    },
    "middle_name": {"else": f"middle name differs {_R}~{_C}"},
    "last_name": {
        "exact": "last name exact", "part": f"last name part of compound {_R}~{_C}",
        "swapped": "last name given as first name", "jw_high": f"last name similar {_R}~{_C}",
        "prefix": f"last name truncated {_R}~{_C}", "jw_mid": f"last name loosely similar {_R}~{_C}",
        "else": f"last name differs {_R}~{_C}",
    },
    "suffix": {"disagree": f"suffix differs {_R}/{_C}"},
    "dob": {
        "exact": "DOB exact", "day_month_swapped": "DOB day/month swapped", "off_by_one": "DOB off by one",
        "one_field": "DOB one part differs", "else": "DOB differs", "null": "DOB missing",
    },
    "address": {"street": "same street address", "zip": "same ZIP", "city_state": "same city and state",
                "else": "address differs"},
    "sex": {"disagree": "sex differs"},
    "employer": {"known": "employer already on file", "else": "employer not on file"},
}  # fmt: skip

_VALUE_FIELD = {
    "first_name": "first_name",
    "middle_name": "middle_name",
    "last_name": "last_name",
    "suffix": "suffix",
}


def level_names() -> list[pl.Expr]:
    """`<comparison>_level` strings from the `<comparison>_code` columns."""
    return [
        pl.col(f"{c}_code")
        .replace_strict(list(range(len(lv))), list(lv), return_dtype=pl.String)
        .alias(f"{c}_level")
        for c, lv in LEVELS.items()
    ]


def _phrase(comparison: str, text: str) -> pl.Expr:
    """A phrase with the record/registry values substituted (as expressions, per row)."""
    field = _VALUE_FIELD.get(comparison)
    if field is None:
        return pl.lit(text)
    pieces = [
        pl.col(f"{field}_{piece[1]}").fill_null("") if piece in (_R, _C) else pl.lit(piece)
        for piece in re.split(r"(\{[rc]\})", text)
        if piece
    ]
    return pl.concat_str(pieces)


def reasons() -> pl.Expr:
    """`; `-joined evidence, e.g. `SSN exact; first name nickname BILL~WILLIAM; DOB day/month swapped`,
    then why the candidate could not be auto, if anything blocked it."""
    pieces: list[pl.Expr] = []
    for comparison, phrases in PHRASES.items():
        level = pl.col(f"{comparison}_level")
        chain: Any = None
        for lvl, text in phrases.items():
            chain = (pl.when(level == lvl) if chain is None else chain.when(level == lvl)).then(
                _phrase(comparison, text)
            )
        pieces.append(chain)
    pieces.append(pl.when(pl.col("hint_agrees")).then(pl.lit("pass-back id agrees (hint only)")))
    pieces.append(
        pl.when(pl.col("blocked_by") != "").then(
            pl.lit("not auto: ") + pl.col("blocked_by").str.replace_all(r"\|", ", ")
        )
    )
    return pl.concat_str(pieces, separator="; ", ignore_nulls=True).alias("reasons")


def explain(best: pl.DataFrame, records: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Add `<comparison>_level`, `blocking_rules` and `reasons` to the best candidates."""
    values = list(_VALUE_FIELD.values())
    rec = records.select("rec_id", "variant", "hint_id", *[pl.col(f).alias(f"{f}_r") for f in values])
    reg = registry.select("identity_id", *[pl.col(f).alias(f"{f}_c") for f in values])
    joined = best.join(rec, on=["rec_id", "variant"], how="left", maintain_order="left").join(
        reg, on="identity_id", how="left", maintain_order="left"
    )
    with_levels = joined.with_columns(
        *level_names(),
        blocking_rules=rule_names(pl.col("rule_mask")),
        hint_agrees=(pl.col("hint_id") == pl.col("person_id")).fill_null(False),
    )
    return with_levels.with_columns(reasons()).drop(
        "hint_id", "hint_agrees", *[f"{f}_r" for f in values], *[f"{f}_c" for f in values]
    )
