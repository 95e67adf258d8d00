"""Blocking: candidate (record, registry identity) pairs from a union of equi-join rules, never all pairs."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from matching.profiles import Profile

# Rule name -> bit in `rule_mask`; the order is also the priority when a record has too many pairs.
RULES = (
    "ssn_exact", "ssn_near", "hint", "last4_name", "last4_dob", "last_dob", "first_dob", "swapped_names",
    "phonetic_year_initial", "dob_zip", "name_zip", "employer_name", "full_name", "last_initial",
    "first_stem",
)  # fmt: skip
# Rules that place a record by its SSN; the name-only fallbacks apply to records none of them placed.
SSN_RULES = ("ssn_exact", "ssn_near", "last4_name", "last4_dob")
RULE_BIT = {name: 1 << i for i, name in enumerate(RULES)}

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


def _digit(ssn: pl.Expr, power: pl.Expr) -> pl.Expr:
    return (ssn // power) % 10


def _ssn_near(records: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Pairs whose SSNs differ by one substituted digit or one adjacent transposition.

    Substitutions: both sides are keyed by (position, SSN with that digit zeroed), 9 keys each, so
    equal keys differ at most in that digit. Transpositions: the 8 swap variants of the record SSN
    are joined to the registry SSN.
    """
    rec = records.select("rec_id", "ssn_num").drop_nulls().unique()
    reg = registry.select("identity_id", "ssn_num").drop_nulls()

    def masked(frame: pl.DataFrame) -> pl.DataFrame:
        power = pl.lit(10, dtype=pl.Int64).pow(pl.col("pos"))
        return (
            frame.with_columns(pos=pl.lit(list(range(9)), dtype=pl.List(pl.Int64)))
            .explode("pos")
            .with_columns(
                key=(pl.col("ssn_num") - _digit(pl.col("ssn_num"), power) * power) * 10 + pl.col("pos")
            )
        )

    substituted = (
        masked(rec)
        .join(masked(reg), on="key", suffix="_reg")
        .filter(pl.col("ssn_num") != pl.col("ssn_num_reg"))
        .select("rec_id", "identity_id")
    )
    lo = pl.lit(10, dtype=pl.Int64).pow(pl.col("pos"))
    hi = lo * 10
    a, b = _digit(pl.col("ssn_num"), lo), _digit(pl.col("ssn_num"), hi)
    transposed = (
        rec.with_columns(pos=pl.lit(list(range(8)), dtype=pl.List(pl.Int64)))
        .explode("pos")
        .filter(a != b)
        .select("rec_id", ssn_num=pl.col("ssn_num") + (b - a) * lo + (a - b) * hi)
        .join(reg, on="ssn_num")
        .select("rec_id", "identity_id")
    )
    return pl.concat([substituted, transposed])


def _equi(
    records: pl.DataFrame,
    registry: pl.DataFrame,
    left: list[str],
    right: list[str],
    *,
    max_block: int = MAX_BLOCK,
) -> pl.DataFrame:
    """Pairs agreeing on all key columns (nulls never agree); registry keys over `max_block` are skipped."""
    rec = records.select("rec_id", *left).drop_nulls()
    # Only the registry rows sharing a key with these records: their block sizes are still exact, and
    # the window over the whole registry is not recomputed for every chunk of a big file.
    keys = rec.select(pl.col(a).alias(b) for a, b in zip(left, right, strict=True)).unique()
    reg = registry.select("identity_id", *right).drop_nulls().join(keys, on=right, how="semi")
    reg = reg.filter(pl.len().over(right) <= max_block)
    return rec.join(reg, left_on=left, right_on=right).select("rec_id", "identity_id")


def _employer_name(records: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """Pairs whose record employer is one on file for the person and whose surnames share the first
    three letters (wage files truncate surnames)."""
    if "employer_feins" not in registry.columns:
        return pl.DataFrame(schema={"rec_id": pl.UInt32, "identity_id": pl.UInt32})
    stem = pl.col("last_name").str.slice(0, 3).alias("last_stem")
    reg = registry.select("identity_id", "employer_feins", stem).explode("employer_feins")
    reg = reg.rename({"employer_feins": "employer_fein"})
    return _equi(records.with_columns(stem), reg, *[["employer_fein", "last_stem"]] * 2)


def _partial_names(records: pl.DataFrame, registry: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Surname + first initial (`last_initial`) and first name + surname stem (`first_stem`, for
    truncated surnames), in small registry blocks only, and only where the SSN cannot speak: the record
    has no usable SSN or the registry none for the identity (a stranger's own SSN would disagree)."""
    stem = pl.col("last_name").str.slice(0, 3).alias("last_stem")
    recs, reg = records.with_columns(stem), registry.with_columns(stem)
    silent = pl.col("ssn_num").is_null() | pl.col("ssn_num_reg").is_null()
    rules = {"last_initial": ["last_name", "first_initial"], "first_stem": ["first_name", "last_stem"]}
    return {
        name: _equi(recs, reg, keys, keys, max_block=PARTIAL_NAME_BLOCK)
        .join(records.select("rec_id", "ssn_num"), on="rec_id")
        .join(registry.select("identity_id", ssn_num_reg="ssn_num"), on="identity_id")
        .filter(silent)
        .select("rec_id", "identity_id")
        for name, keys in rules.items()
    }


def candidate_pairs(
    records: pl.DataFrame, registry: pl.DataFrame, profile: Profile, cap: int = 50
) -> tuple[pl.DataFrame, BlockStats]:
    """Union of the blocking rules -> (`rec_id`, `identity_id`, `rule_mask`), at most `cap` per record.

    `records` are `features.record_features`, `registry` is `prepare_registry` output. When a record
    has more than `cap` candidates the ones found by more and stronger rules are kept. The name-only
    rules `employer_name`, `full_name` and (profiles without a birth date) `last_initial` and
    `first_stem` apply to records that no SSN rule placed.
    """
    no_ssn = records.filter(pl.col("ssn_num").is_null())
    found: dict[str, pl.DataFrame] = {
        "ssn_exact": _equi(records, registry, ["ssn_num"], ["ssn_num"]),
        "ssn_near": _ssn_near(records, registry),
        "last_dob": _equi(records, registry, ["last_name", "dob"], ["last_name", "dob"]),
        "first_dob": _equi(records, registry, ["first_name", "dob"], ["first_name", "dob"]),
        "swapped_names": _equi(records, registry, ["first_name", "last_name"], ["last_name", "first_name"]),
        "phonetic_year_initial": _equi(
            records, registry, *[["last_phonetic", "birth_year", "first_initial"]] * 2
        ),
        "dob_zip": _equi(records, registry, ["dob", "zip5"], ["dob", "zip5"]),
        "name_zip": _equi(records, registry, *[["last_name", "first_name", "zip5"]] * 2),
    }
    if profile.ssn_last4:
        found["last4_name"] = _equi(no_ssn, registry, ["ssn_last4", "last_name"], ["ssn_last4", "last_name"])
        found["last4_dob"] = _equi(no_ssn, registry, ["ssn_last4", "dob"], ["ssn_last4", "dob"])
    # Records the SSN did not place (missing, invalid, or someone else's) may be found by name alone.
    placed = pl.concat([found[rule]["rec_id"] for rule in SSN_RULES if rule in found]).unique()
    unplaced = records.filter(~pl.col("rec_id").is_in(placed.implode()))
    found["employer_name"] = _employer_name(unplaced, registry)
    found["full_name"] = _equi(unplaced, registry, *[["first_name", "last_name"]] * 2)
    if "dob" not in profile.comparisons:  # partial names and no birth date: wage files
        found.update(_partial_names(unplaced, registry))
    if profile.hint_column:
        hint = records.select("rec_id", "hint_id").drop_nulls().unique()
        found["hint"] = hint.join(
            registry.select("identity_id", "person_id"), left_on="hint_id", right_on="person_id"
        ).select("rec_id", "identity_id")
    union = pl.concat(
        [
            frame.with_columns(rule_mask=pl.lit(RULE_BIT[name], dtype=pl.UInt16))
            for name, frame in found.items()
        ]
    )
    pairs = (
        union.group_by("rec_id", "identity_id")
        .agg(pl.col("rule_mask").unique().sum().cast(pl.UInt16))
        .sort("rec_id", "identity_id")  # the cap's ties fall the same way on every run
    )
    # Lower bits are stronger rules: rank by (strongest rule, number of rules).
    mask = pl.col("rule_mask")
    priority = mask.bitwise_trailing_zeros().cast(pl.Int32) * 16 - mask.bitwise_count_ones().cast(pl.Int32)
    ranked = pairs.with_columns(_rank=priority.rank("ordinal").over("rec_id"))
    kept = ranked.filter(pl.col("_rank") <= cap).drop("_rank")
    dropped = ranked.height - kept.height
    stats = BlockStats(
        pairs=kept.height,
        records_with_pairs=kept["rec_id"].n_unique(),
        dropped_by_cap=dropped,
        records_capped=ranked.filter(pl.col("_rank") > cap)["rec_id"].n_unique() if dropped else 0,
    )
    return kept.sort("rec_id", "identity_id"), stats


def rule_names(mask: pl.Expr) -> pl.Expr:
    """`|`-joined names of the rules in a `rule_mask`."""
    pieces = [pl.when((mask & bit) > 0).then(pl.lit(name)) for name, bit in RULE_BIT.items()]
    return pl.concat_str(pieces, separator="|", ignore_nulls=True)
