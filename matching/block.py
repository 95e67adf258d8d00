"""Blocking: candidate (record, registry identity) pairs from a union of equi-join rules, never all pairs."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import polars as pl

from matching.block_index import (
    RegistryIndex,
    Rule,
    registry_index,
    run_starts,
    sorted_values,
    surname_part_keys,
)
from matching.profiles import Profile

# Rule name -> bit in `rule_mask`; the order is also the priority when a record has too many pairs.
RULES = (
    "ssn_exact", "ssn_near", "hint", "last4_name", "last4_dob", "last_dob", "part_dob", "first_dob",
    "swapped_names",
    "phonetic_year_initial", "dob_zip", "name_zip", "employer_name", "full_name", "last_initial",
    "first_stem",
)  # fmt: skip
# Rules that place a record by its SSN; the name-only fallbacks apply to records none of them placed.
SSN_RULES = ("ssn_exact", "ssn_near", "last4_name", "last4_dob")
# Rules for records without a usable SSN (the source may carry its last four digits only).
LAST4 = ("last4_name", "last4_dob")
RULE_BIT = {name: 1 << i for i, name in enumerate(RULES)}
RULE_INDEX_BITS = (len(RULES) - 1).bit_length()
# Per `rule_mask`, its rank when a record has too many pairs: the strongest rule first, then more rules.
_PRIORITY = np.array(
    [0] + [((m & -m).bit_length() - 1) * 16 + 16 - m.bit_count() for m in range(1, 1 << len(RULES))],
    dtype=np.uint8,
)

# Name/date rules skip registry keys shared by more identities than this (e.g. a placeholder DOB).
MAX_BLOCK = 1000
# Partial-name rules (sources without a birth date to block on): only keys few identities share, so
# the search stays specific, not state-wide.
PARTIAL_NAME_BLOCK = 10


@dataclass(frozen=True)
class BlockStats:
    """Counts only (no PII): how many pairs blocking kept and how many the per-record cap dropped."""

    pairs: int
    records_with_pairs: int
    dropped_by_cap: int
    records_capped: int


def _same(*columns: str, max_block: int = MAX_BLOCK) -> Rule:
    return Rule(columns, columns, max_block)


# The rules that are one equi-join each: record column(s) = registry column(s).
EQUI = {
    "ssn_exact": Rule(("ssn_num",), ("ssn_num",), MAX_BLOCK),
    "last_dob": _same("last_name", "dob"),
    "first_dob": _same("first_name", "dob"),
    # The record's surname is the registry first name and the other way round.
    "swapped_names": Rule(("last_name", "first_name"), ("first_name", "last_name"), MAX_BLOCK),
    "phonetic_year_initial": _same("last_phonetic", "birth_year", "first_initial"),
    "dob_zip": _same("dob", "zip5"),
    "name_zip": _same("last_name", "first_name", "zip5"),
    "last4_name": _same("ssn_last4", "last_name"),
    "last4_dob": _same("ssn_last4", "dob"),
    # Wage files truncate surnames: the employer on file and the first three letters of the surname.
    "employer_name": Rule(("employer_fein", "last_stem"), ("employer_feins", "last_stem"), MAX_BLOCK),
    "full_name": _same("first_name", "last_name"),
    # Partial names (sources without a birth date to block on): only keys few identities share, so the
    # search stays specific, not state-wide.
    "last_initial": _same("last_name", "first_initial", max_block=PARTIAL_NAME_BLOCK),
    "first_stem": _same("first_name", "last_stem", max_block=PARTIAL_NAME_BLOCK),
}
# Every registry SSN (near misses have no block limit).
ANY_SSN = Rule(("ssn_num",), ("ssn_num",), sys.maxsize)
# Rules for the records no SSN rule placed; the partial names only for profiles without a birth date.
NAME_ONLY = ("employer_name", "full_name")
PARTIAL_NAMES = ("last_initial", "first_stem")


def _ssn_near(records: pl.DataFrame, index: RegistryIndex) -> pl.DataFrame:
    """Pairs whose SSNs differ by one substituted digit or one adjacent transposition: the variants of
    the record SSN the registry may hold (`RegistryIndex.near_ssns`), joined to its SSNs."""
    rec = records.select("rec_id", "ssn_num").drop_nulls().unique()
    ssns = rec["ssn_num"].unique().sort().to_numpy()
    rows, variants = index.near_ssns(ssns)
    near = pl.DataFrame({"ssn_num": ssns[rows], "key": variants}).join(rec, on="ssn_num")
    return index.pairs(ANY_SSN, near.select("rec_id", "key"))


def _part_dob(records: pl.DataFrame, index: RegistryIndex) -> pl.DataFrame:
    """Pairs with the same birth date whose surnames share a part of a compound one (GARCIA-LOPEZ and
    GARCIA, GARCIA-LOPEZ and LOPEZ-DIAZ): `last_dob` compares whole surnames only."""
    compound_parts, every_surname = index.surname_keys()
    keys = surname_part_keys(records.select("rec_id", "last_name", "last_parts", "dob").drop_nulls("dob"))
    on = ["surname", "dob"]
    return pl.concat(
        [
            keys.filter(pl.col("compound")).join(every_surname, on=on).select("rec_id", "identity_id"),
            keys.filter(~pl.col("compound")).join(compound_parts, on=on).select("rec_id", "identity_id"),
        ]
    )


def _equi_rules(profile: Profile, registry: pl.DataFrame) -> list[str]:
    """The equi-join rules that apply to the profile (and the registry: employers on file)."""
    skip = set()
    if not profile.ssn_last4:
        skip |= set(LAST4)
    if "employer_feins" not in registry.columns:
        skip.add("employer_name")
    if "dob" in profile.comparisons:  # partial names only where there is no birth date: wage files
        skip |= set(PARTIAL_NAMES)
    return [name for name in EQUI if name not in skip]


def candidate_pairs(
    records: pl.DataFrame, registry: pl.DataFrame, profile: Profile, cap: int = 50
) -> tuple[pl.DataFrame, BlockStats]:
    """Union of the blocking rules -> (`rec_id`, `identity_id`, `rule_mask`), at most `cap` per record.

    `records` are `features.record_features`, `registry` is `prepare_registry` output (its blocking keys
    are built on the first call and reused while it lives: never modify it in place). When a record
    has more than `cap` candidates the ones found by more and stronger rules are kept. The name-only
    rules `employer_name`, `full_name` and (profiles without a birth date) `last_initial` and
    `first_stem` apply to records that no SSN rule placed.
    """
    if cap < 1:
        raise ValueError("the pair cap must be at least 1")
    index = registry_index(registry)
    names = _equi_rules(profile, registry)
    keys = pl.concat(
        [records.select("rec_id", "ssn_num"), index.record_keys(records, {n: EQUI[n] for n in names})],
        how="horizontal",
    )

    def equi(name: str, subset: pl.DataFrame) -> pl.DataFrame:
        return index.pairs(EQUI[name], subset.select("rec_id", key=name))

    subsets = {*LAST4, *NAME_ONLY, *PARTIAL_NAMES}
    found = {name: equi(name, keys) for name in names if name not in subsets}
    found["ssn_near"] = _ssn_near(records, index)
    if "dob" in profile.comparisons:
        found["part_dob"] = _part_dob(records, index)
    no_ssn = keys.filter(pl.col("ssn_num").is_null())
    found |= {name: equi(name, no_ssn) for name in LAST4 if name in names}
    # Records the SSN did not place (missing, invalid, or someone else's) may be found by name alone.
    placed = pl.concat([found[rule]["rec_id"] for rule in SSN_RULES if rule in found]).unique()
    unplaced = keys.filter(~pl.col("rec_id").is_in(placed.implode()))
    found |= {name: equi(name, unplaced) for name in NAME_ONLY if name in names}
    if PARTIAL_NAMES[0] in names:
        found |= _partial_names(unplaced, registry, {name: equi(name, unplaced) for name in PARTIAL_NAMES})
    if profile.hint_column:
        hint = records.select("rec_id", "hint_id").drop_nulls().unique()
        found["hint"] = hint.join(
            registry.select("identity_id", "person_id"), left_on="hint_id", right_on="person_id"
        ).select("rec_id", "identity_id")
    id_bits = index.identity_bits()
    if int(records.select(pl.col("rec_id").max()).item() or 0).bit_length() + 8 + id_bits > 64:
        raise ValueError("too many records to block at once: split them into chunks")
    return _capped(*_union(found, id_bits), id_bits, cap)


def _partial_names(
    unplaced: pl.DataFrame, registry: pl.DataFrame, found: dict[str, pl.DataFrame]
) -> dict[str, pl.DataFrame]:
    """The partial-name pairs where the SSN cannot speak: the record has no usable SSN or the registry
    none for the identity (a stranger's own SSN would disagree)."""
    no_ssn = unplaced.filter(pl.col("ssn_num").is_null())["rec_id"]
    silent = pl.col("rec_id").is_in(no_ssn.implode()) | pl.col("identity_id").is_in(
        registry.filter(pl.col("ssn_num").is_null())["identity_id"].implode()
    )
    return {name: pairs.filter(silent) for name, pairs in found.items()}


def _union(found: dict[str, pl.DataFrame], id_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs found, sorted, as `rec_id << id_bits | identity_id`, and each one's `rule_mask`."""
    shift = id_bits + RULE_INDEX_BITS
    tagged = pl.concat(
        frame.select(
            pl.col("rec_id").cast(pl.UInt64) * (1 << shift)
            + pl.col("identity_id").cast(pl.UInt64) * (1 << RULE_INDEX_BITS)
            + RULES.index(name)
        ).to_series()
        for name, frame in found.items()
    )
    pair = tagged.sort(multithreaded=False).to_numpy(writable=True)
    rule = (pair & ((1 << RULE_INDEX_BITS) - 1)).astype(np.uint8)
    pair >>= RULE_INDEX_BITS
    starts = run_starts(pair)
    if not len(starts):
        return pair, np.zeros(0, dtype=np.uint16)
    return pair[starts], np.bitwise_or.reduceat(np.left_shift(np.uint16(1), rule), starts)


def _capped(pair: np.ndarray, masks: np.ndarray, id_bits: int, cap: int) -> tuple[pl.DataFrame, BlockStats]:
    """At most `cap` pairs per record, by `_PRIORITY`, ties by `identity_id` (the same on every run)."""
    rec = pair >> id_bits
    firsts = run_starts(rec)
    counts = np.diff(np.r_[firsts, len(rec)])
    # (rec_id, priority, identity_id) packed into one integer (the priority goes in above the identity).
    # Sorted, each record's pairs keep their run, in rank order: the cap-th is the record's limit.
    order = rec * 255
    order += _PRIORITY[masks]
    order <<= id_bits
    order += pair
    last = sorted_values(order)[np.minimum(firsts + cap - 1, len(order) - 1)]
    keep = order <= np.repeat(np.where(counts > cap, last, np.iinfo(np.uint64).max), counts)
    kept = pair[keep]
    frame = pl.DataFrame(
        {
            "rec_id": (kept >> id_bits).astype(np.uint32),
            "identity_id": (kept & ((1 << id_bits) - 1)).astype(np.uint32),
            "rule_mask": masks[keep],
        }
    )
    stats = BlockStats(
        pairs=frame.height,
        records_with_pairs=len(firsts),
        dropped_by_cap=len(pair) - frame.height,
        records_capped=int((counts > cap).sum()),
    )
    return frame, stats


def rule_names(mask: pl.Expr) -> pl.Expr:
    """`|`-joined names of the rules in a `rule_mask`."""
    pieces = [pl.when((mask & bit) > 0).then(pl.lit(name)) for name, bit in RULE_BIT.items()]
    return pl.concat_str(pieces, separator="|", ignore_nulls=True)
