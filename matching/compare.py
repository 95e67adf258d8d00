"""Comparison vectors: per candidate pair, one agreement level per field (codes into `LEVELS`).

Each pair's values are gathered by row position (`rec_id` into the record features, `identity_id`
into the prepared registry), a few columns per comparison, so no wide frame of both sides is built.
Costly evidence (string similarity, nicknames, compound-surname parts, SSN digits, birth-date parts)
is computed only for the pairs that missing or exactly agreeing values have not decided, and string
similarity once per distinct value pair with rapidfuzz's vectorised `cpdist`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl
import pyarrow.compute as pc
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


def check_row_positions(ids: pl.Series, what: str) -> None:
    """Raise unless `ids` are the row positions 0..n-1 (`identity_id` of a prepared registry): pairs
    find their rows by position, never by a join."""
    if not np.array_equal(ids.to_numpy(), np.arange(ids.len())):
        raise ValueError(f"{what} must be the row position (as prepare_registry assigns it)")


def gather(column: pl.Series, rows: pl.Series) -> pl.Series:
    """`column[rows]`, from one chunk: gathering from a many-chunk column (a registry read from parquet)
    is several times slower than rechunking it first."""
    return column.rechunk().gather(rows)


def _take(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    return frame.select(pl.all().gather(rows))


@dataclass(frozen=True)
class _Pairs:
    """The record-feature row and the registry row of each compared pair."""

    records: pl.DataFrame
    registry: pl.DataFrame
    rec_rows: pl.Series
    reg_rows: pl.Series

    @property
    def height(self) -> int:
        return self.rec_rows.len()

    def subset(self, rows: pl.Series) -> _Pairs:
        return _Pairs(self.records, self.registry, self.rec_rows.gather(rows), self.reg_rows.gather(rows))

    def values(
        self, *both: str, record: tuple[str, ...] = (), candidate: tuple[str, ...] = ()
    ) -> pl.DataFrame:
        """Per pair, the record's columns as `<name>_r` and the candidate's as `<name>_c`."""
        return pl.DataFrame(
            [
                *(gather(self.records[c], self.rec_rows).alias(f"{c}_r") for c in (*both, *record)),
                *(gather(self.registry[c], self.reg_rows).alias(f"{c}_c") for c in (*both, *candidate)),
            ]
        )


def _levels(comparison: str, conditions: list[tuple[str, pl.Expr]], null: pl.Expr) -> pl.Expr:
    """First satisfied condition wins; `null` first, the last level (else/other/disagree) otherwise."""
    codes = LEVELS[comparison]
    chain: Any = pl.when(null).then(pl.lit(0, dtype=pl.UInt8))
    for level, condition in conditions:
        chain = chain.when(condition).then(pl.lit(codes.index(level), dtype=pl.UInt8))
    return chain.otherwise(pl.lit(len(codes) - 1, dtype=pl.UInt8)).alias(f"{comparison}_code")


def _evaluate(frame: pl.DataFrame, levels: pl.Expr) -> np.ndarray:
    """A level expression over `frame` (lazily, so repeated sub-expressions are computed once)."""
    return frame.lazy().select(levels).collect().to_series().to_numpy()


def _null_or_exact(
    comparison: str, frame: pl.DataFrame, field: str, agree: str = "exact"
) -> tuple[np.ndarray, pl.Series]:
    """Codes of the pairs a missing value (`null`) or exact agreement decides, and the rows of the
    others (both values present and different), whose code is still to be set."""
    same = frame[f"{field}_r"] == frame[f"{field}_c"]
    codes = np.where(same.fill_null(False).to_numpy(), np.uint8(level_code(comparison, agree)), np.uint8(0))
    return codes, (~same).fill_null(False).arg_true()


def _factorize(values: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Per row, the position of its value among the distinct values; and those values (one hash pass)."""
    encoded = pc.dictionary_encode(values.to_arrow())
    return encoded.indices.to_numpy(), pl.Series(encoded.dictionary)


def _similarity(
    left: pl.Series, right: pl.Series, *, edits: bool = True, nicknames: bool = False
) -> pl.DataFrame:
    """Per row of two string columns without nulls: Jaro–Winkler similarity (`jw`), OSA edit distance
    (`edits`) and whether the two are nicknames of each other (`nick`), computed once per distinct value
    pair."""
    left_code, left_values = _factorize(left)
    right_code, right_values = _factorize(right)
    n_right = right_values.len()
    pair_code, pairs = _factorize(pl.Series(left_code.astype(np.int64) * n_right + right_code))
    left_of, right_of = pairs // n_right, pairs % n_right  # each distinct pair's values
    # Python strings for rapidfuzz: each distinct value converted once, then picked per pair.
    a = np.array(left_values.to_list(), dtype=object)[left_of.to_numpy()]
    b = np.array(right_values.to_list(), dtype=object)[right_of.to_numpy()]
    per_pair = {
        "jw": process.cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=-1, dtype=np.float32)
    }
    if edits:
        per_pair["edits"] = process.cpdist(a, b, scorer=OSA.distance, workers=-1, dtype=np.int32)
    if nicknames:
        per_pair["nick"] = (
            pl.DataFrame({"a": left_values.gather(left_of), "b": right_values.gather(right_of)})
            .join(
                nickname_pairs().with_columns(_nick=pl.lit(True)),
                left_on=["a", "b"],
                right_on=["name_a", "name_b"],
                how="left",
                maintain_order="left",
            )["_nick"]
            .fill_null(False)
            .to_numpy()
        )
    return pl.DataFrame({name: values[pair_code] for name, values in per_pair.items()})


def _close(field: str) -> pl.Expr:
    """Jaro–Winkler >= JW_HIGH, or one edit apart when both values have three letters or more."""
    both_long = (pl.col(f"{field}_r").str.len_chars() >= 3) & (pl.col(f"{field}_c").str.len_chars() >= 3)
    return (pl.col(f"_{field}_jw") >= JW_HIGH) | (both_long & (pl.col(f"_{field}_edits") <= 1))


def _ssn_codes(pairs: _Pairs, profile: Profile) -> np.ndarray:
    """SSN levels: exact, one digit substituted, two adjacent digits transposed, other; and (profiles
    with `ssn_last4`) last four agree / differ when the record carries only those."""
    frame = pairs.values("ssn_num", *(("ssn_last4",) if profile.ssn_last4 else ()))
    a, b = frame["ssn_num_r"], frame["ssn_num_c"]
    codes = np.zeros(frame.height, dtype=np.uint8)
    if profile.ssn_last4:
        l_r, l_c = frame["ssn_last4_r"], frame["ssn_last4_c"]
        last4_only = (a.is_null() & l_r.is_not_null() & l_c.is_not_null()).to_numpy()
        codes[last4_only] = level_code("ssn", "last4_differ")
        codes[last4_only & (l_r == l_c).fill_null(False).to_numpy()] = level_code("ssn", "last4_agree")
    full = (a.is_not_null() & b.is_not_null()).to_numpy()
    a_full, b_full = a.fill_null(0).to_numpy()[full], b.fill_null(0).to_numpy()[full]
    levels = np.full(a_full.shape, level_code("ssn", "other"), dtype=np.uint8)
    same = a_full == b_full
    levels[same] = level_code("ssn", "exact")
    one_substitution, transposition = _ssn_typos(a_full[~same], b_full[~same])
    near = levels[~same]
    near[transposition] = level_code("ssn", "transposition")
    near[one_substitution] = level_code("ssn", "one_substitution")
    levels[~same] = near
    codes[full] = levels
    return codes


def _ssn_typos(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of different non-negative SSNs: one digit substituted; two adjacent digits swapped
    (of the last nine digits)."""
    # Such a pair shares its last four or its first four digits: only those pairs' digits are compared.
    four = 10**4
    rows = np.flatnonzero(((a - b) % four == 0) | ((a // 10**5 - b // 10**5) % four == 0))
    digits_a = np.stack([(a[rows] // 10**k % 10).astype(np.int8) for k in range(9)])
    digits_b = np.stack([(b[rows] // 10**k % 10).astype(np.int8) for k in range(9)])
    n_diff = (digits_a != digits_b).sum(axis=0)
    swap = np.zeros(rows.shape, dtype=bool)
    for k in range(8):
        swap |= (
            (digits_a[k] == digits_b[k + 1])
            & (digits_a[k + 1] == digits_b[k])
            & (digits_a[k] != digits_a[k + 1])
        )
    one_substitution, transposition = np.zeros(a.shape, dtype=bool), np.zeros(a.shape, dtype=bool)
    one_substitution[rows], transposition[rows] = n_diff == 1, (n_diff == 2) & swap
    return one_substitution, transposition


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


def _first_name_codes(names: pl.DataFrame) -> np.ndarray:
    codes, rows = _null_or_exact("first_name", names, "first_name")
    rest = _take(
        names.select("first_name_r", "first_name_c", "middle_name_r", "middle_name_c", "last_name_c"), rows
    )
    similar = _similarity(rest["first_name_r"], rest["first_name_c"], nicknames=True)
    rest = rest.with_columns(
        _first_nick=similar["nick"], _first_name_jw=similar["jw"], _first_name_edits=similar["edits"]
    )
    codes[rows.to_numpy()] = _evaluate(rest, _first_name_levels())
    return codes


def _middle_name_levels() -> pl.Expr:
    m_r, m_c = pl.col("middle_name_r"), pl.col("middle_name_c")
    return _levels(
        "middle_name",
        [("exact", m_r == m_c), ("initial", m_r.str.slice(0, 1) == m_c.str.slice(0, 1))],
        m_r.is_null() | m_c.is_null(),
    )


def _parts_agree() -> pl.Expr:
    """A compound surname's part is the other surname, or the two share a part."""
    l_r, l_c = pl.col("last_name_r"), pl.col("last_name_c")
    parts_r, parts_c = pl.col("last_parts_r"), pl.col("last_parts_c")
    return (
        parts_c.list.contains(l_r)
        | parts_r.list.contains(l_c)
        | (parts_r.list.set_intersection(parts_c).list.len() > 0)
    )


def _last_name_levels(profile: Profile) -> pl.Expr:
    l_r, l_c = pl.col("last_name_r"), pl.col("last_name_c")
    len_r = l_r.str.len_chars()
    return _levels(
        "last_name",
        [
            ("exact", l_r == l_c),
            ("part", pl.col("_last_part")),
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


def _compound_part(pairs: _Pairs, names: pl.DataFrame) -> np.ndarray:
    """`_parts_agree` per pair (`names`: its surnames), looked at only where a side has parts (only a
    compound surname has any)."""
    n_r = gather(pairs.records["last_parts"].list.len(), pairs.rec_rows)
    n_c = gather(pairs.registry["last_parts"].list.len(), pairs.reg_rows)
    rows = ((n_r > 0) | (n_c > 0)).fill_null(False).arg_true()
    compound = pl.concat([_take(names, rows), pairs.subset(rows).values("last_parts")], how="horizontal")
    agree = np.zeros(pairs.height, dtype=bool)
    agree[rows.to_numpy()] = compound.select(_parts_agree()).to_series().fill_null(False).to_numpy()
    return agree


def _last_name_codes(pairs: _Pairs, names: pl.DataFrame, profile: Profile) -> np.ndarray:
    codes, rows = _null_or_exact("last_name", names, "last_name")
    rest = _take(names.select("last_name_r", "last_name_c", "first_name_c"), rows)
    similar = _similarity(rest["last_name_r"], rest["last_name_c"])
    rest = rest.with_columns(
        _last_part=_compound_part(pairs.subset(rows), rest.select("last_name_r", "last_name_c")),
        _last_name_jw=similar["jw"],
        _last_name_edits=similar["edits"],
    )
    codes[rows.to_numpy()] = _evaluate(rest, _last_name_levels(profile))
    return codes


def _dob_levels() -> pl.Expr:
    """Over `dob_r`, `dob_c` and their parts (`_year_r`, `_month_r`, `_day_r`, …: `_dob_parts`)."""
    d_r, d_c = pl.col("dob_r"), pl.col("dob_c")
    y_r, m_r, dd_r = pl.col("_year_r"), pl.col("_month_r"), pl.col("_day_r")
    y_c, m_c, dd_c = pl.col("_year_c"), pl.col("_month_c"), pl.col("_day_c")
    same = [(y_r == y_c), (m_r == m_c), (dd_r == dd_c)]
    n_same = pl.sum_horizontal([s.cast(pl.UInt8) for s in same])
    one_apart = ((y_r - y_c).abs() == 1) | ((m_r - m_c).abs() == 1) | ((dd_r - dd_c).abs() == 1)
    return _levels(
        "dob",
        [
            ("exact", d_r == d_c),
            ("day_month_swapped", (y_r == y_c) & (dd_r == m_c) & (m_r == dd_c)),
            ("off_by_one", ((d_r - d_c).dt.total_days().abs() == 1) | ((n_same == 2) & one_apart)),
            ("one_field", (n_same == 2) & ((y_r == y_c) | _year_typo(y_r, y_c))),
        ],
        d_r.is_null() | d_c.is_null(),
    )


def _year_typo(y_r: pl.Expr, y_c: pl.Expr) -> pl.Expr:
    """Two different years one keying slip apart: one digit differs, or two adjacent digits are swapped
    (1985/1965, 1985/1958). A son born on his father's day and month a generation later is not one."""
    digits = [((y_r // 10**k) % 10, (y_c // 10**k) % 10) for k in range(4)]
    differ = [r != c for r, c in digits]
    one_digit = pl.sum_horizontal([d.cast(pl.UInt8) for d in differ]) == 1
    swaps = [
        (r1 == c2) & (r2 == c1) & pl.all_horizontal(~differ[j] for j in range(4) if j not in (k, k + 1))
        for k, ((r1, c1), (r2, c2)) in enumerate(pairwise(digits))
    ]
    return one_digit | pl.any_horizontal(swaps)


def _dob_parts() -> list[pl.Expr]:
    return [
        getattr(pl.col(f"dob_{side}").dt, part)().alias(f"_{part}_{side}")
        for side in "rc"
        for part in ("year", "month", "day")
    ]


def _dob_codes(pairs: _Pairs) -> np.ndarray:
    dates = pairs.values("dob")
    codes, rows = _null_or_exact("dob", dates, "dob")
    codes[rows.to_numpy()] = _evaluate(_take(dates, rows).with_columns(_dob_parts()), _dob_levels())
    return codes


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


def _address_codes(pairs: _Pairs) -> np.ndarray:
    """Address levels; the street similarity only matters (and is computed only) for different streets
    in the same ZIP."""
    places = pairs.values("street", "zip5", "city", "state")
    rows = (
        ((places["zip5_r"] == places["zip5_c"]) & (places["street_r"] != places["street_c"]))
        .fill_null(False)
        .arg_true()
    )
    similar = _similarity(places["street_r"].gather(rows), places["street_c"].gather(rows), edits=False)
    street_jw = pl.repeat(None, places.height, dtype=pl.Float32, eager=True).scatter(rows, similar["jw"])
    return _evaluate(places.with_columns(_street_jw=street_jw), _address_levels())


def _employer(pairs: _Pairs) -> tuple[np.ndarray, pl.Series]:
    """Employer levels, and per pair the registry share of the record's employer when it is one on
    file for the person (`employer_tf`; null when it is not, or either side has none)."""
    codes = np.zeros(pairs.height, dtype=np.uint8)
    employer_tf = pl.repeat(None, pairs.height, dtype=pl.Float64, eager=True).alias("employer_tf")
    if "employer_feins" not in pairs.registry.columns:  # a registry prepared without employers on file
        return codes, employer_tf
    fein = gather(pairs.records["employer_fein"], pairs.rec_rows)
    on_file = gather(pairs.registry["employer_feins"].list.len(), pairs.reg_rows) > 0
    rows = (fein.is_not_null() & on_file).fill_null(False).arg_true()
    codes[rows.to_numpy()] = level_code("employer", "else")
    known = (
        pairs.subset(rows)
        .values(candidate=("employer_feins",))
        .with_columns(fein=fein.gather(rows), _row=rows)
        .filter(pl.col("employer_feins_c").list.contains(pl.col("fein")))
    )
    if known.height:
        tfs = gather(pairs.registry["employer_tfs"], pairs.reg_rows.gather(known["_row"]))
        employer_tf.scatter(known["_row"], _share_of_fein(known.with_columns(employer_tfs_c=tfs)))
        codes[known["_row"].to_numpy()] = level_code("employer", "known")
    return codes, employer_tf


def _share_of_fein(known: pl.DataFrame) -> np.ndarray:
    """Per row (`fein`, the lists `employer_feins_c`/`employer_tfs_c` holding it): the smallest share
    listed for that FEIN."""
    lengths = known["employer_feins_c"].list.len().to_numpy().astype(np.int64)
    flat = known.select("fein", "employer_feins_c", "employer_tfs_c").explode(
        "employer_feins_c", "employer_tfs_c"
    )
    same = (flat["employer_feins_c"] == flat["fein"]).to_numpy()
    shares = np.where(same, flat["employer_tfs_c"].to_numpy(), np.inf)
    return np.minimum.reduceat(shares, np.cumsum(lengths) - lengths)


def _equal_codes(pairs: _Pairs, field: str) -> np.ndarray:
    """Levels of a comparison whose values agree or disagree (`suffix`, `sex`)."""
    codes, rows = _null_or_exact(field, pairs.values(field), field, agree="agree")
    codes[rows.to_numpy()] = level_code(field, "disagree")
    return codes


def _suffix_record_only(pairs: _Pairs, profile: Profile) -> pl.Series:
    """Whether the record gives a generational suffix (JR, SR, III) and the candidate none: the `null`
    level of `suffix`, but a father and son are told apart by nothing else when no birth date agrees."""
    if "suffix" not in profile.comparisons:
        return pl.Series("suffix_record_only", np.zeros(pairs.height, dtype=bool))
    values = pairs.values("suffix")
    return (values["suffix_r"].is_not_null() & values["suffix_c"].is_null()).alias("suffix_record_only")


def _middle_name_codes(names: pl.DataFrame) -> np.ndarray:
    codes, rows = _null_or_exact("middle_name", names, "middle_name")
    rest = _take(names.select("middle_name_r", "middle_name_c"), rows)
    codes[rows.to_numpy()] = _evaluate(rest, _middle_name_levels())
    return codes


def _name_codes(pairs: _Pairs, profile: Profile) -> dict[str, np.ndarray]:
    """First, middle and last name levels (each reads the others' names too: gathered once)."""
    names = pairs.values("first_name", "middle_name", "last_name")
    return {
        "first_name": _first_name_codes(names),
        "middle_name": _middle_name_codes(names),
        "last_name": _last_name_codes(pairs, names, profile),
    }


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


def _pair_rows(pairs: pl.DataFrame, records: pl.DataFrame) -> tuple[pl.Series | None, pl.Series]:
    """Per compared row, the pair it belongs to (None: one row per pair) and its record-features row:
    one per reading (`variant`) of the record's name."""
    rec_ids = records["rec_id"]
    if np.array_equal(rec_ids.to_numpy(), np.arange(records.height)):  # one row per record
        return None, pairs["rec_id"]
    if not rec_ids.is_sorted():
        raise ValueError("record features must be sorted by rec_id (as record_features returns them)")
    ids, wanted = rec_ids.to_numpy(), pairs["rec_id"].to_numpy()
    first, last = np.searchsorted(ids, wanted, "left"), np.searchsorted(ids, wanted, "right")
    if not (last > first).all():
        raise ValueError("pairs name a rec_id that the record features do not hold")
    counts = last - first
    pair_of_row = np.repeat(np.arange(pairs.height), counts)
    within = np.arange(pair_of_row.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return pl.Series(pair_of_row, dtype=pl.UInt32), pl.Series(first[pair_of_row] + within, dtype=pl.UInt32)


def comparison_codes(
    pairs: pl.DataFrame, records: pl.DataFrame, registry: pl.DataFrame, profile: Profile
) -> pl.DataFrame:
    """Pairs (`rec_id`, `identity_id`, …) -> the same rows with a `<comparison>_code` per comparison.

    `records` are record features (sorted by `rec_id`, as `record_features` returns them), `registry`
    the prepared registry (`identity_id` is the row position); `first_tf`, `last_tf` and `employer_tf`
    ride along for the term-frequency weights. Comparisons outside the profile are null. Where a record
    has several name readings (`variant`), each pair keeps the reading whose name agrees best with the
    candidate.
    """
    check_row_positions(registry["identity_id"], "registry identity_id")
    pair_of_row, rec_rows = _pair_rows(pairs, records)
    identities = pairs["identity_id"] if pair_of_row is None else pairs["identity_id"].gather(pair_of_row)
    compared = _Pairs(records, registry, rec_rows, identities)
    employer_codes, employer_tf = _employer(compared)
    others: dict[str, Callable[[], np.ndarray]] = {
        "ssn": lambda: _ssn_codes(compared, profile),
        "suffix": lambda: _equal_codes(compared, "suffix"),
        "dob": lambda: _dob_codes(compared),
        "address": lambda: _address_codes(compared),
        "sex": lambda: _equal_codes(compared, "sex"),
    }
    computed = {
        **_name_codes(compared, profile),
        **{name: build() for name, build in others.items() if name in profile.comparisons},
        "employer": employer_codes,
    }
    codes = [
        pl.Series(
            f"{name}_code",
            computed[name] if name in profile.comparisons else np.zeros(compared.height, np.uint8),
            dtype=pl.UInt8,
        )
        for name in LEVELS
    ]
    out = (pairs if pair_of_row is None else _take(pairs, pair_of_row)).with_columns(
        gather(records["variant"], rec_rows).alias("variant"),
        *codes,
        _suffix_record_only(compared, profile),
        gather(registry["first_tf"], identities).alias("first_tf"),
        gather(registry["last_tf"], identities).alias("last_tf"),
        employer_tf,
    )
    if out.height > pairs.height:  # several readings of some records' names: keep the best per pair
        out = (
            out.with_columns(_cost=_name_disagreement())
            .sort("rec_id", "identity_id", "_cost", "variant")
            .unique(subset=["rec_id", "identity_id"], keep="first", maintain_order=True)
            .drop("_cost")
        )
    return out
