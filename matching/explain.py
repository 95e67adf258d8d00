"""Explain: readable level names and a short `reasons` string per match (worklist only, never logs)."""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from matching.block import rule_names
from matching.compare import LEVELS, check_row_positions, gather

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


# A phrase: text, the record's value ({r}), text, the registry's value ({c}), text; the values optional.
_SLOTS = re.compile(r"([^{]*)(\{r\})?([^{]*)(\{c\})?([^{]*)")


def _slots(comparison: str, text: str) -> tuple[str, bool, str, bool, str]:
    found = _SLOTS.fullmatch(text) if comparison in _VALUE_FIELD else None
    if found is None:  # no values to substitute
        return text, False, "", False, ""
    before, r, between, c, after = found.groups()
    return before, r is not None, between, c is not None, after


def _phrase(comparison: str) -> pl.Expr:
    """Per row, the phrase of the comparison's level (null for levels that say nothing), with the
    record/registry values substituted; one lookup per phrase slot, not one expression per level."""
    codes = [LEVELS[comparison].index(level) for level in PHRASES[comparison]]
    slots = [_slots(comparison, text) for text in PHRASES[comparison].values()]
    code = pl.col(f"{comparison}_code")

    def text(i: int) -> pl.Expr:
        return code.replace_strict(codes, [slot[i] for slot in slots], default=None, return_dtype=pl.String)

    def value(i: int, side: str) -> pl.Expr:
        if not any(slot[i] for slot in slots):
            return pl.lit("")
        shown = code.replace_strict(
            codes, [slot[i] for slot in slots], default=False, return_dtype=pl.Boolean
        )
        return (
            pl.when(shown)
            .then(pl.col(f"{_VALUE_FIELD[comparison]}_{side}").fill_null(""))
            .otherwise(pl.lit(""))
        )

    return pl.concat_str([text(0), value(1, "r"), text(2), value(3, "c"), text(4)])


def reasons() -> pl.Expr:
    """`; `-joined evidence, e.g. `SSN exact; first name nickname BILL~WILLIAM; DOB day/month swapped`,
    then why the candidate could not be auto, if anything blocked it (from the `<comparison>_code`
    columns, the compared values `<field>_r`/`<field>_c`, `hint_agrees` and `blocked_by`)."""
    pieces = [_phrase(comparison) for comparison in PHRASES]
    pieces.append(pl.when(pl.col("hint_agrees")).then(pl.lit("pass-back id agrees (hint only)")))
    pieces.append(
        pl.when(pl.col("blocked_by") != "").then(
            pl.lit("not auto: ") + pl.col("blocked_by").str.replace_all("|", ", ", literal=True)
        )
    )
    return pl.concat_str(pieces, separator="; ", ignore_nulls=True).alias("reasons")


def explain(best: pl.DataFrame, records: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Add `<comparison>_level`, `blocking_rules` and `reasons` to the best candidates (`records`: the
    record features, sorted by `rec_id` then `variant`; `registry`: `identity_id` is the row position)."""
    check_row_positions(registry["identity_id"], "registry identity_id")
    rec_rows = _record_rows(records, best)
    values = list(_VALUE_FIELD.values())
    joined = best.with_columns(
        gather(records["hint_id"], rec_rows).alias("hint_id"),
        *[gather(records[f], rec_rows).alias(f"{f}_r") for f in values],
        *[gather(registry[f], best["identity_id"]).alias(f"{f}_c") for f in values],
    )
    with_levels = joined.with_columns(
        *level_names(),
        blocking_rules=rule_names(pl.col("rule_mask")),
        hint_agrees=(pl.col("hint_id") == pl.col("person_id")).fill_null(False),
    )
    return with_levels.with_columns(reasons()).drop(
        "hint_id", "hint_agrees", *[f"{f}_r" for f in values], *[f"{f}_c" for f in values]
    )


def _record_rows(records: pl.DataFrame, best: pl.DataFrame) -> pl.Series:
    """The record-features row of each best candidate's (`rec_id`, `variant`; a UInt8, so the key
    rec_id * 256 + variant orders rows as record_features does)."""
    keys = records["rec_id"].cast(pl.Int64).to_numpy() * 256 + records["variant"].to_numpy()
    wanted = best["rec_id"].cast(pl.Int64).to_numpy() * 256 + best["variant"].to_numpy()
    rows = np.searchsorted(keys, wanted)
    if not (np.all(np.diff(keys) > 0) and np.array_equal(keys[np.minimum(rows, keys.size - 1)], wanted)):
        raise ValueError("record features must hold each (rec_id, variant) once, sorted (as record_features)")
    return pl.Series(rows, dtype=pl.UInt32)
