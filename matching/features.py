"""Match features of records and registry identities: the same normalised columns on both sides."""

from __future__ import annotations

from collections.abc import Callable

import jellyfish
import polars as pl

from matching import normalise
from matching.profiles import Profile

# Columns both sides carry after normalisation (the comparisons read these).
FEATURES = (
    "ssn", "ssn_num", "ssn_last4", "first_name", "middle_name", "last_name", "last_parts", "suffix",
    "first_initial", "last_phonetic", "dob", "birth_year", "sex", "street", "zip5", "city", "state",
)  # fmt: skip

# Registry-only columns: name frequencies and the person's employers on file.
REGISTRY_EXTRAS = ("last_tf", "first_tf", "employer_feins", "employer_tfs")

_NAME_FIELDS = ("first_name", "middle_name", "last_name", "suffix")
PERSON_FIELDS = ("ssn", "first_name", "middle_name", "last_name", "suffix", "dob", "sex",
                 "address_line1", "city", "state", "zip")  # fmt: skip


def _nysiis(values: pl.Series) -> pl.Series:
    """NYSIIS codes for a batch of surnames."""
    return pl.Series([jellyfish.nysiis(v) if v else None for v in values.to_list()], dtype=pl.String)


def _text(frame: pl.DataFrame, name: str, width: int | None = None) -> pl.Expr:
    """A raw column as text (null when absent); integers read from CSV regain their leading zeros."""
    if name not in frame.columns:
        return pl.lit(None, dtype=pl.String)
    col = pl.col(name)
    if frame.schema[name].is_integer() and width is not None:
        return col.cast(pl.String).str.zfill(width)
    return col.cast(pl.String)


def _date(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, dtype=pl.Date)
    if frame.schema[name] == pl.String:
        return pl.col(name).str.to_date("%Y-%m-%d", strict=False)
    return pl.col(name).cast(pl.Date)


def _per_distinct(
    frame: pl.DataFrame, raw: pl.Expr, lookup: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """Columns made from `raw` once per distinct value, then one row per frame row.

    `lookup` gets the distinct non-null values (column `raw`) and returns them (in any order) with the
    columns made from them."""
    values = _column(frame, raw)
    table = lookup(values.unique().drop_nulls())
    return values.join(table, on="raw", how="left", maintain_order="left").drop("raw")


def _column(frame: pl.DataFrame, raw: pl.Expr) -> pl.DataFrame:
    """`raw` as the column `raw`, one row per frame row (a literal too)."""
    return frame.with_columns(raw.alias("raw")).select("raw")


def _with_name_fields(distinct: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([distinct, normalise.name_fields(distinct, "raw")], how="horizontal")


def _with_surname_fields(distinct: pl.DataFrame) -> pl.DataFrame:
    """`name_fields` of raw surnames plus `last_phonetic`, the NYSIIS code of the normalised surname."""
    return _with_name_fields(distinct).with_columns(
        last_phonetic=pl.col("whole").map_batches(_nysiis, return_dtype=pl.String)
    )


def _normalised(values: pl.DataFrame, name: str, normaliser: Callable[..., pl.Expr]) -> pl.Series:
    """`normaliser` of the column `raw`, row for row; only non-ASCII values go through accent folding."""
    raw = pl.col("raw")
    out = values.lazy().select(normaliser(raw, ascii_only=True).alias(name)).collect().to_series()
    folded = values.with_row_index("_row").filter(raw.str.len_bytes() != raw.str.len_chars())
    if folded.height:
        out = out.scatter(folded["_row"], folded.lazy().select(normaliser(raw)).collect().to_series())
    return out


def _with_normalised(name: str, normaliser: Callable[..., pl.Expr]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A `_per_distinct` lookup adding `name` = `normaliser(raw)`."""
    return lambda distinct: distinct.with_columns(_normalised(distinct, name, normaliser))


def normalise_person(frame: pl.DataFrame) -> pl.DataFrame:
    """The normalised feature columns of a frame with raw person columns (canonical or registry).

    Names, cities, states and sex are normalised once per distinct value (they repeat a lot), then
    joined back.
    """
    first = _per_distinct(frame, _text(frame, "first_name"), _with_name_fields)
    middle = _per_distinct(frame, _text(frame, "middle_name"), _with_name_fields)
    last = _per_distinct(frame, _text(frame, "last_name"), _with_surname_fields)
    places = pl.concat(
        [
            # addresses rarely repeat: normalised row for row
            _normalised(_column(frame, _text(frame, "address_line1")), "street", normalise.street).to_frame(),
            _per_distinct(frame, _text(frame, "city"), _with_normalised("city", normalise.place)),
            _per_distinct(frame, _text(frame, "state"), _with_normalised("state", normalise.place)),
            _per_distinct(frame, _text(frame, "sex"), _with_normalised("sex", normalise.sex)),
        ],
        how="horizontal",
    )
    ssn = pl.col("ssn")
    out = pl.concat(
        [
            frame.lazy()
            .with_columns(  # not select: all-literal columns still get one row per frame row
                normalise.ssn(_text(frame, "ssn", 9)).alias("_ssn"),
                _text(frame, "ssn_last4", 4).alias("_last4_field"),
                _text(frame, "suffix").alias("_suffix_field"),
                normalise.dob(_date(frame, "dob")).alias("_dob"),
                normalise.zip5(_text(frame, "zip", 5)).alias("zip5"),
            )
            .select("_last4_field", "_suffix_field", "zip5", ssn=pl.col("_ssn"), dob=pl.col("_dob"))
            .with_columns(
                ssn_num=ssn.cast(pl.Int64), ssn_last4=normalise.ssn_last4(ssn, pl.col("_last4_field"))
            )
            .collect(),
            first.select(first_name="whole", _first_suffix="tail_suffix"),
            middle.select(middle_name="whole"),
            last.select("last_phonetic", last_name="whole", last_parts="parts", _last_suffix="tail_suffix"),
            places,
        ],
        how="horizontal",
    ).with_columns(
        normalise.combine_suffix(pl.col("_suffix_field"), pl.col("_last_suffix"), pl.col("_first_suffix")),
        first_initial=pl.col("first_name").str.slice(0, 1),
        birth_year=pl.col("dob").dt.year().cast(pl.Int32),
    )
    return out.select(FEATURES)


def _name_readings(raw: pl.DataFrame, profile: Profile) -> list[pl.DataFrame]:
    """The record's name as given, then each reading of the profile's free-form name columns (and of
    `last_name` when `first_name` is blank): one frame of raw name columns per reading, row-aligned."""
    given = raw.select(_text(raw, c).alias(c) for c in _NAME_FIELDS)
    if not profile.full_name_columns:
        return [given]
    wholes = [_text(raw, c) for c in profile.full_name_columns if c in raw.columns]
    wholes.append(pl.when(_text(raw, "first_name").is_null()).then(_text(raw, "last_name")))
    return [given] + [
        raw.select(normalise.read_full_name(whole, given_first=given_first)).select(_NAME_FIELDS)
        for whole in wholes
        for given_first in (False, True)
    ]


def record_features(records: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """Canonical records -> `rec_id` (row position), `variant`, the features, `employer_fein` and the
    profile's hint column.

    One row per record, except where the profile reads free-form names several ways: then one row per
    distinct reading (`variant` 0 is the name as given and is always there).
    """
    hint = profile.hint_column
    extras = records.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("rec_id"),
        normalise.fein(_text(records, "employer_fein", 9)).alias("employer_fein"),
        hint_id=pl.col(hint).cast(pl.String).str.strip_chars()
        if hint and hint in records.columns
        else pl.lit(None, dtype=pl.String),
    )
    person = records.select(
        c for c in (*PERSON_FIELDS, "ssn_last4") if c in records.columns and c not in _NAME_FIELDS
    )
    readings = _name_readings(records, profile)
    variants = [
        pl.concat([extras, person, names], how="horizontal").with_columns(variant=pl.lit(i, dtype=pl.UInt8))
        for i, names in enumerate(readings)
    ]
    stacked = pl.concat(variants, how="vertical_relaxed")
    if len(readings) > 1:
        stacked = stacked.filter(
            (pl.col("variant") == 0) | pl.any_horizontal(pl.col(c).is_not_null() for c in _NAME_FIELDS)
        )
    feats = pl.concat(
        [stacked.select("rec_id", "variant"), normalise_person(stacked), stacked.select(*extras.columns[1:])],
        how="horizontal",
    )
    if len(readings) > 1:
        names = ["first_name", "middle_name", "last_name", "suffix"]
        feats = feats.unique(subset=["rec_id", *names], keep="first", maintain_order=True)
        feats = feats.sort("rec_id", maintain_order=True)
    return feats


def _known_employers(known_employer: pl.DataFrame | None, n_persons: int) -> pl.DataFrame:
    """Per person, the employers on file (`employer_feins`) and the share of registry persons each one
    employs (`employer_tfs`, for term-frequency weights: agreeing on a small employer weighs more)."""
    schema = pl.Schema(
        {
            "person_id": pl.String(),
            "employer_feins": pl.List(pl.String()),
            "employer_tfs": pl.List(pl.Float64()),
        }
    )
    if known_employer is None or known_employer.height == 0:
        return pl.DataFrame(schema=schema)
    feins = (
        known_employer.select(
            pl.col("person_id").cast(pl.String),
            normalise.fein(_text(known_employer, "fein", 9)).alias("fein"),
        )
        .drop_nulls()
        .unique(maintain_order=True)
        .with_columns(tf=pl.len().over("fein") / n_persons)
    )
    return (
        feins.group_by("person_id", maintain_order=True)
        .agg(employer_feins="fein", employer_tfs="tf")
        .cast(schema)
    )


def _distinct_identities(identities: pl.DataFrame) -> pl.DataFrame:
    """The first of identities that agree on the person and every feature but `last_parts`.

    Only a person's own identities can repeat one another (`person_id` is part of the key), so only
    the rows of persons with several identities are compared (found by a hash of `person_id`: a
    collision only adds rows to compare).
    """
    key = ["person_id", *[f for f in FEATURES if f != "last_parts"]]
    several = pl.col("person_id").hash().is_duplicated()
    rows = identities.with_row_index("_row").with_columns(_several=several)
    kept = rows.filter("_several").unique(subset=key, keep="first", maintain_order=True)["_row"]
    return rows.filter(~pl.col("_several") | pl.col("_row").is_in(kept.implode())).drop("_row", "_several")


def prepare_registry(
    ncp: pl.DataFrame, alias: pl.DataFrame | None = None, known_employer: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per registry identity: each NCP's primary identity plus one per alias row.

    An alias row overrides the primary values it carries (an alias name keeps the primary SSN, DOB and
    address; an alternate SSN keeps the primary name), so aliases compete like primary values and the
    best-scoring identity speaks for the person. Computed once per registry snapshot; carries
    `identity_id`, `person_id`, `person_key` (dense int), `identity_kind` (`primary` | `alias`), the
    features, and surname / first-name frequencies (`last_tf`, `first_tf`) for term-frequency weights.
    With `known_employer` (the registry extract's frame) each identity also carries its person's
    employers on file (`employer_feins`, `employer_tfs`; null without), which wage and new-hire
    records are compared with.
    """
    base = ncp.select(
        pl.col("person_id").cast(pl.String),
        *[
            _text(ncp, f, 9 if f == "ssn" else 5 if f == "zip" else None).alias(f)
            for f in PERSON_FIELDS
            if f != "dob"
        ],
        _date(ncp, "dob").alias("dob"),
    ).with_columns(identity_kind=pl.lit("primary"))
    identities = [base]
    if alias is not None and alias.height:
        given = alias.select(
            pl.col("person_id").cast(pl.String),
            *[_text(alias, f, 9 if f == "ssn" else None).alias(f"{f}_alias") for f in ("ssn", *_NAME_FIELDS)],
        )
        has_name = pl.any_horizontal(pl.col(f"{f}_alias").is_not_null() for f in ("first_name", "last_name"))
        overridden = [
            pl.when(has_name).then(pl.col(f"{f}_alias")).otherwise(pl.col(f)).alias(f)
            if f in ("middle_name", "suffix")
            else pl.coalesce(f"{f}_alias", f).alias(f)
            for f in ("ssn", *_NAME_FIELDS)
        ]
        aliased = given.join(base.drop("identity_kind"), on="person_id", how="inner").with_columns(overridden)
        identities.append(aliased.select(base.columns[:-1]).with_columns(identity_kind=pl.lit("alias")))
    raw = pl.concat(identities, how="vertical_relaxed")
    feats = normalise_person(raw)
    prepared = _distinct_identities(
        pl.concat([raw.select("person_id", "identity_kind"), feats], how="horizontal")
    )
    n_persons = max(prepared["person_id"].n_unique(), 1)
    employers = _known_employers(known_employer, n_persons)
    return (
        prepared.with_columns(
            identity_id=pl.int_range(pl.len(), dtype=pl.UInt32),
            person_key=pl.col("person_id").rank("dense").cast(pl.UInt32),
        )
        .with_columns(  # person_key stands for person_id one to one, and is cheaper to count
            last_tf=(pl.col("person_key").n_unique().over("last_name") / n_persons).fill_null(0.0),
            first_tf=(pl.col("person_key").n_unique().over("first_name") / n_persons).fill_null(0.0),
        )
        .join(employers, on="person_id", how="left", maintain_order="left")
        .select("identity_id", "person_id", "person_key", "identity_kind", *FEATURES, *REGISTRY_EXTRAS)
    )
