"""Comparison vectors: per candidate pair, one agreement level per field (codes into `LEVELS`).

String similarity is computed once per distinct value pair with rapidfuzz's vectorised `cpdist`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from matching.normalise import nickname_pairs
from matching.profiles import Profile

# Levels per comparison, strongest first; level 0 is always `null` (a value missing: weight 0).
LEVELS: dict[str, tuple[str, ...]] = {
    "ssn": ("null", "exact", "one_substitution", "transposition", "last4_agree", "last4_differ", "other"),
    "first_name": (
        "null",
        "exact",
        "nickname",
        "middle_as_first",
        "swapped",
        "jw_high",
        "initial",
        "jw_mid",
        "else",
    ),
    "middle_name": ("null", "exact", "initial", "else"),
    "last_name": ("null", "exact", "part", "swapped", "prefix", "jw_high", "jw_mid", "else"),
    "suffix": ("null", "agree", "disagree"),
    "dob": ("null", "exact", "day_month_swapped", "off_by_one", "one_field", "else"),
    "address": ("null", "street", "zip", "city_state", "else"),
    "sex": ("null", "agree", "disagree"),
    "employer": ("null", "known", "else"),
}

JW_HIGH = 0.92
JW_MID = 0.85
JW_STREET = 0.93


def level_code(comparison: str, level: str) -> int:
    return LEVELS[comparison].index(level)


def _levels(comparison: str, conditions: list[tuple[str, pl.Expr]], null: pl.Expr) -> pl.Expr:
    """First satisfied condition wins; `null` first, the last level (else/other/disagree) otherwise."""
    codes = LEVELS[comparison]
    chain: Any = pl.when(null).then(pl.lit(0, dtype=pl.UInt8))
    for level, condition in conditions:
        chain = chain.when(condition).then(pl.lit(codes.index(level), dtype=pl.UInt8))
    return chain.otherwise(pl.lit(len(codes) - 1, dtype=pl.UInt8)).alias(f"{comparison}_code")


def _similarity(frame: pl.DataFrame, left: str, right: str) -> pl.DataFrame:
    """Jaro–Winkler similarity (`jw`) and OSA edit distance (`edits`) of two string columns, computed
    once per distinct non-null value pair; one row per input row."""
    distinct = frame.select(left, right).drop_nulls().unique()
    a, b = distinct[left].to_list(), distinct[right].to_list()
    jw = process.cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=-1, dtype=np.float32)
    edits = process.cpdist(a, b, scorer=OSA.distance, workers=-1, dtype=np.int32)
    lookup = distinct.with_columns(jw=pl.Series(jw, dtype=pl.Float32), edits=pl.Series(edits, dtype=pl.Int32))
    return (
        frame.select(left, right)
        .join(lookup, on=[left, right], how="left", maintain_order="left")
        .select("jw", "edits")
    )


def _close(field: str) -> pl.Expr:
    """Jaro–Winkler >= JW_HIGH, or one edit apart when both values have three letters or more."""
    both_long = (pl.col(f"{field}_r").str.len_chars() >= 3) & (pl.col(f"{field}_c").str.len_chars() >= 3)
    return (pl.col(f"_{field}_jw") >= JW_HIGH) | (both_long & (pl.col(f"_{field}_edits") <= 1))


def _nickname_flag(frame: pl.DataFrame) -> pl.Series:
    nicks = nickname_pairs().with_columns(_nick=pl.lit(True))
    joined = frame.select("first_name_r", "first_name_c").join(
        nicks,
        left_on=["first_name_r", "first_name_c"],
        right_on=["name_a", "name_b"],
        how="left",
        maintain_order="left",
    )
    return joined["_nick"].fill_null(False)


def _ssn_levels(profile: Profile) -> pl.Expr:
    a, b = pl.col("ssn_num_r"), pl.col("ssn_num_c")
    digits_a = [(a // 10**k) % 10 for k in range(9)]
    digits_b = [(b // 10**k) % 10 for k in range(9)]
    n_diff = pl.sum_horizontal([(x != y).cast(pl.UInt8) for x, y in zip(digits_a, digits_b, strict=True)])
    swap = pl.any_horizontal(
        (digits_a[k] == digits_b[k + 1]) & (digits_a[k + 1] == digits_b[k]) & (digits_a[k] != digits_a[k + 1])
        for k in range(8)
    )
    full = a.is_not_null() & b.is_not_null()
    last4_only = a.is_null() & pl.col("ssn_last4_r").is_not_null() & pl.col("ssn_last4_c").is_not_null()
    conditions = [
        ("exact", full & (a == b)),
        ("one_substitution", full & (n_diff == 1)),
        ("transposition", full & (n_diff == 2) & swap),
        ("other", full),
    ]
    if profile.ssn_last4:
        conditions += [
            ("last4_agree", last4_only & (pl.col("ssn_last4_r") == pl.col("ssn_last4_c"))),
            ("last4_differ", last4_only),
        ]
    return _levels("ssn", conditions, ~full & ~(last4_only & pl.lit(profile.ssn_last4)))


def _is_initial_of(short: pl.Expr, full: pl.Expr) -> pl.Expr:
    return (short.str.len_chars() == 1) & (short == full.str.slice(0, 1))


def _first_name_levels() -> pl.Expr:
    f_r, f_c = pl.col("first_name_r"), pl.col("first_name_c")
    long_r, long_c = f_r.str.len_chars() > 1, f_c.str.len_chars() > 1
    return _levels(
        "first_name",
        [
            ("exact", f_r == f_c),
            ("nickname", pl.col("_first_nick")),
            (
                "middle_as_first",
                long_r & long_c & ((f_r == pl.col("middle_name_c")) | (pl.col("middle_name_r") == f_c)),
            ),
            ("swapped", long_r & (f_r == pl.col("last_name_c"))),
            ("jw_high", long_r & long_c & _close("first_name")),
            ("initial", _is_initial_of(f_r, f_c) | _is_initial_of(f_c, f_r)),
            ("jw_mid", long_r & long_c & (pl.col("_first_name_jw") >= JW_MID)),
        ],
        f_r.is_null() | f_c.is_null(),
    )


def _middle_name_levels() -> pl.Expr:
    m_r, m_c = pl.col("middle_name_r"), pl.col("middle_name_c")
    return _levels(
        "middle_name",
        [("exact", m_r == m_c), ("initial", m_r.str.slice(0, 1) == m_c.str.slice(0, 1))],
        m_r.is_null() | m_c.is_null(),
    )


def _last_name_levels(profile: Profile) -> pl.Expr:
    l_r, l_c = pl.col("last_name_r"), pl.col("last_name_c")
    parts_r, parts_c = pl.col("last_parts_r"), pl.col("last_parts_c")
    part = (
        parts_c.list.contains(l_r)
        | parts_r.list.contains(l_c)
        | (parts_r.list.set_intersection(parts_c).list.len() > 0)
    )
    len_r = l_r.str.len_chars()
    return _levels(
        "last_name",
        [
            ("exact", l_r == l_c),
            ("part", part),
            ("swapped", (len_r > 1) & (l_r == pl.col("first_name_c"))),
            (
                "prefix",
                (len_r >= profile.min_prefix) & (len_r < l_c.str.len_chars()) & l_c.str.starts_with(l_r),
            ),
            ("jw_high", _close("last_name")),
            ("jw_mid", pl.col("_last_name_jw") >= JW_MID),
        ],
        l_r.is_null() | l_c.is_null(),
    )


def _dob_levels() -> pl.Expr:
    d_r, d_c = pl.col("dob_r"), pl.col("dob_c")
    y_r, m_r, dd_r = d_r.dt.year(), d_r.dt.month(), d_r.dt.day()
    y_c, m_c, dd_c = d_c.dt.year(), d_c.dt.month(), d_c.dt.day()
    same = [(y_r == y_c), (m_r == m_c), (dd_r == dd_c)]
    n_same = pl.sum_horizontal([s.cast(pl.UInt8) for s in same])
    one_apart = ((y_r - y_c).abs() == 1) | ((m_r - m_c).abs() == 1) | ((dd_r - dd_c).abs() == 1)
    return _levels(
        "dob",
        [
            ("exact", d_r == d_c),
            ("day_month_swapped", (y_r == y_c) & (dd_r == m_c) & (m_r == dd_c)),
            ("off_by_one", ((d_r - d_c).dt.total_days().abs() == 1) | ((n_same == 2) & one_apart)),
            ("one_field", n_same == 2),
        ],
        d_r.is_null() | d_c.is_null(),
    )


def _address_levels() -> pl.Expr:
    s_r, s_c = pl.col("street_r"), pl.col("street_c")
    z_r, z_c = pl.col("zip5_r"), pl.col("zip5_c")
    zip_ok = (z_r == z_c) | z_r.is_null() | z_c.is_null()
    empty_r = s_r.is_null() & z_r.is_null() & pl.col("city_r").is_null()
    empty_c = s_c.is_null() & z_c.is_null() & pl.col("city_c").is_null()
    return _levels(
        "address",
        [
            ("street", ((s_r == s_c) & zip_ok) | ((pl.col("_street_jw") >= JW_STREET) & (z_r == z_c))),
            ("zip", z_r == z_c),
            ("city_state", (pl.col("city_r") == pl.col("city_c")) & (pl.col("state_r") == pl.col("state_c"))),
        ],
        empty_r | empty_c,
    )


def _employer_tf(wide: pl.DataFrame) -> pl.Series:
    """Per pair, the registry share of the record's employer when it is one on file for the person
    (null when it is not, or either side has none)."""
    listed = wide.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        pl.col("employer_fein_r").alias("fein"),
        pl.col("employer_feins_c").alias("feins"),
        pl.col("employer_tfs_c").alias("tfs"),
    ).filter(pl.col("fein").is_not_null() & (pl.col("feins").list.len() > 0))
    known = (
        listed.explode("feins", "tfs")
        .filter(pl.col("feins") == pl.col("fein"))
        .group_by("_row")
        .agg(pl.col("tfs").min().alias("employer_tf"))
    )
    rows = pl.DataFrame({"_row": pl.int_range(wide.height, dtype=pl.UInt32, eager=True)})
    return rows.join(known, on="_row", how="left", maintain_order="left")["employer_tf"]


def _employer_levels() -> pl.Expr:
    on_file = pl.col("employer_feins_c").list.len() > 0
    return _levels(
        "employer",
        [("known", pl.col("employer_tf").is_not_null())],
        pl.col("employer_fein_r").is_null() | ~on_file.fill_null(False),
    )


def _name_disagreement() -> pl.Expr:
    """How badly a reading of the record's name disagrees with the candidate (lower is better): a
    differing first or last name costs most, one read as the other name or missing less, then the
    level's rank; middle name and suffix only break ties."""
    cost = []
    for comparison in ("first_name", "last_name"):
        code = pl.col(f"{comparison}_code").cast(pl.Int32)
        cost.append(
            pl.when(code == level_code(comparison, "else"))
            .then(100)
            .when(code == level_code(comparison, "swapped"))
            .then(60)
            .when(code == 0)
            .then(50)
            .otherwise(code)
        )
    middle_differs = pl.col("middle_name_code") == level_code("middle_name", "else")
    suffix_differs = pl.col("suffix_code") == level_code("suffix", "disagree")
    return pl.sum_horizontal(*cost, middle_differs.cast(pl.Int32), suffix_differs.cast(pl.Int32))


def _equal_levels(comparison: str, field: str, agree: str) -> pl.Expr:
    left, right = pl.col(f"{field}_r"), pl.col(f"{field}_c")
    return _levels(comparison, [(agree, left == right)], left.is_null() | right.is_null())


def comparison_codes(
    pairs: pl.DataFrame, records: pl.DataFrame, registry: pl.DataFrame, profile: Profile
) -> pl.DataFrame:
    """Pairs (`rec_id`, `identity_id`, …) -> the same rows with a `<comparison>_code` per comparison.

    `records` are record features, `registry` the prepared registry; `first_tf`, `last_tf` and
    `employer_tf` ride along for the term-frequency weights. Comparisons outside the profile are null.
    Where a record has several name readings (`variant`), each pair keeps the reading whose name
    agrees best with the candidate.
    """
    rec = records.select(pl.all().name.suffix("_r")).rename({"rec_id_r": "rec_id", "variant_r": "variant"})
    # The candidates' identities only: renaming and joining the whole registry per chunk costs seconds.
    registry = registry.join(pairs.select("identity_id").unique(), on="identity_id", how="semi")
    if "employer_feins" not in registry.columns:  # a registry prepared without employers on file
        registry = registry.with_columns(
            employer_feins=pl.lit(None, dtype=pl.List(pl.String)),
            employer_tfs=pl.lit(None, dtype=pl.List(pl.Float64)),
        )
    reg = registry.select(pl.all().name.suffix("_c")).rename(
        {"identity_id_c": "identity_id", "first_tf_c": "first_tf", "last_tf_c": "last_tf"}
    )
    wide = pairs.join(rec, on="rec_id", how="left", maintain_order="left").join(
        reg, on="identity_id", how="left", maintain_order="left"
    )
    similarities = [
        _similarity(wide, f"{field}_r", f"{field}_c").select(pl.all().name.prefix(f"_{field}_"))
        for field in ("first_name", "last_name", "street")
    ]
    wide = pl.concat([wide, *similarities], how="horizontal").with_columns(
        _first_nick=_nickname_flag(wide), employer_tf=_employer_tf(wide)
    )
    builders: dict[str, pl.Expr] = {
        "ssn": _ssn_levels(profile),
        "first_name": _first_name_levels(),
        "middle_name": _middle_name_levels(),
        "last_name": _last_name_levels(profile),
        "suffix": _equal_levels("suffix", "suffix", "agree"),
        "dob": _dob_levels(),
        "address": _address_levels(),
        "sex": _equal_levels("sex", "sex", "agree"),
        "employer": _employer_levels(),
    }
    codes = [
        expr if name in profile.comparisons else pl.lit(0, dtype=pl.UInt8).alias(f"{name}_code")
        for name, expr in builders.items()
    ]
    out = wide.select(*pairs.columns, "variant", *codes, "first_tf", "last_tf", "employer_tf")
    if out.height > pairs.height:  # several readings of some records' names: keep the best per pair
        out = (
            out.with_columns(_cost=_name_disagreement())
            .sort("rec_id", "identity_id", "_cost", "variant")
            .unique(subset=["rec_id", "identity_id"], keep="first", maintain_order=True)
            .drop("_cost")
        )
    return out
