"""Incoming records for one source: true NCPs with faults, hard negatives, strangers, and the ground truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from pipeline.synth import faults, people, pools
from pipeline.synth.registry import NCP_COLUMNS, RegistryFrames, relative_generation

ALIAS = ("_alias_ssn", "_alias_first_name", "_alias_middle_name", "_alias_last_name")
WORK = (*NCP_COLUMNS, "hard_negative", "faults", "_anchor_id", "_anchor_last", *ALIAS)
TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "record_number": pl.Int64(),
    "person_id": pl.String(),
    "faults": pl.List(pl.String()),
    "hard_negative": pl.String(),
}
HARD_NEGATIVE_KINDS = (
    "twin",
    "jr_sr",
    "relative_same_address",
    "relatives_ssn",
    "common_name_stranger",
    "ssn_neighbor",
)


@dataclass(frozen=True)
class GeneratedRecords:
    """`rows`: the layout's fields, ready for the writer. `truth`: who each record is (TRUTH_SCHEMA)."""

    rows: pl.DataFrame
    truth: pl.DataFrame


@dataclass(frozen=True)
class Profile:
    """How one source's records look: share of NCPs, hard negatives among the rest, fault and noise rates."""

    match_rate: float
    hard_negative_share: float  # of the non-NCP records
    hard_negatives: dict[str, float]  # kind -> weight
    faults: dict[str, float]  # code -> probability on true-NCP records
    noise: dict[str, float]  # code -> probability on other records (format habits, not identity faults)
    anchors_need_ssn: bool = False  # only NCPs with an SSN, and hard negatives carry it (FIDM matches on SSN)


_SSN_FAULTS = {
    "ssn_alias": 0.4,
    "ssn_typo": 0.03,
    "ssn_transposed": 0.02,
    "ssn_missing": 0.015,
    "ssn_zeros": 0.01,
    "ssn_dummy": 0.01,
    "ssn_itin": 0.01,
    "ssn_relative": 0.01,
}
_NAME_FAULTS = {
    "alias_name": 0.3,
    "surname_hyphenated": 0.02,
    "surname_changed": 0.02,
    "last_typo": 0.03,
    "suffix_in_last": 0.4,
    "nickname": 0.08,
    "middle_as_first": 0.03,
    "first_typo": 0.03,
    "name_swap": 0.02,
}
_DOB_FAULTS = {"dob_day_month_swap": 0.02, "dob_off_day": 0.01, "dob_off_month": 0.01, "dob_off_year": 0.01}
_ALL_KINDS = dict.fromkeys(HARD_NEGATIVE_KINDS, 1.0) | {"relative_same_address": 1.5, "jr_sr": 1.5}

PROFILES: dict[str, Profile] = {
    "new_hire": Profile(
        match_rate=0.4,
        hard_negative_share=0.25,
        hard_negatives=_ALL_KINDS,
        faults={
            **_SSN_FAULTS,
            **_NAME_FAULTS,
            **_DOB_FAULTS,
            "dob_missing": 0.25,
            "last_truncated": 0.01,
            "first_initial": 0.02,
            "address_new": 0.35,
        },
        noise={"dob_missing": 0.25, "suffix_in_last": 0.3},
    ),
    "quarterly_wage": Profile(
        match_rate=0.3,
        hard_negative_share=0.15,
        hard_negatives=_ALL_KINDS,
        faults={
            **_SSN_FAULTS,
            **_NAME_FAULTS,
            "nickname": 0.05,
            "first_initial": 0.3,
            "first_blank": 0.03,
            "last_truncated": 0.15,
            "last_blank": 0.02,
            "name_blank": 0.05,
        },
        noise={"first_initial": 0.3, "last_truncated": 0.15, "name_blank": 0.05, "suffix_in_last": 0.3},
    ),
    "dmv": Profile(
        match_rate=0.3,
        hard_negative_share=0.3,
        hard_negatives=_ALL_KINDS,
        faults={
            **_SSN_FAULTS,
            **_DOB_FAULTS,
            "alias_name": 0.2,
            "surname_hyphenated": 0.02,
            "surname_changed": 0.03,
            "suffix_in_last": 0.2,
            "nickname": 0.02,
            "middle_as_first": 0.02,
            "last_typo": 0.01,
            "first_typo": 0.01,
            "dob_missing": 0.01,
            "address_new": 0.6,
        },
        noise={"suffix_in_last": 0.1},
    ),
    "fidm": Profile(
        match_rate=0.85,
        hard_negative_share=1.0,
        hard_negatives={"relatives_ssn": 3.0, "jr_sr": 1.0, "twin": 1.0},
        faults={
            "ssn_alias": 0.4,
            "alias_name": 0.3,
            "surname_changed": 0.05,
            "surname_hyphenated": 0.02,
            "suffix_in_last": 0.2,
            "nickname": 0.06,
            "middle_as_first": 0.03,
            "first_initial": 0.05,
            "last_typo": 0.02,
            "first_typo": 0.02,
            "dob_missing": 0.6,
            "address_new": 0.4,
        },
        noise={"dob_missing": 0.6},
        anchors_need_ssn=True,
    ),
}


def _ssn_pool(registry: RegistryFrames) -> people.SsnSet:
    return people.SsnSet(pl.concat([registry.ncp["ssn"], registry.alias["ssn"]]))


def _fill_unknowns(rng: np.random.Generator, frame: pl.DataFrame, taken: people.SsnSet) -> pl.DataFrame:
    """What the registry lacks (SSN, DOB, sex, address) the real person still has."""
    lacking = frame.select(
        pl.any_horizontal(pl.col(c).is_null() for c in ("ssn", "dob", "sex", "address_line1"))
    )
    rows = np.flatnonzero(lacking.to_series().to_numpy())
    fresh = people.people(rng, len(rows), taken)
    fresh = fresh.select(pl.all().name.prefix("_fresh_")).with_columns(_row=pl.Series(rows, dtype=pl.UInt32))
    joined = frame.with_row_index("_row").join(fresh, on="_row", how="left", maintain_order="left")
    moved = pl.col("address_line1").is_null()
    return joined.with_columns(
        *(pl.col(c).fill_null(pl.col(f"_fresh_{c}")) for c in ("ssn", "dob", "sex")),
        *(
            pl.when(moved).then(pl.col(f"_fresh_{c}")).otherwise(pl.col(c)).alias(c)
            for c in faults.ADDRESS_FIELDS
        ),
    ).select(frame.columns)


def _anchors(
    rng: np.random.Generator,
    registry: RegistryFrames,
    n: int,
    taken: people.SsnSet,
    where: pl.Expr | None = None,
) -> pl.DataFrame:
    """n NCPs drawn with replacement (from those matching `where`), unknowns filled, anchor columns set."""
    pool = registry.ncp if where is None else registry.ncp.filter(where)
    if pool.height == 0:
        pool = registry.ncp
    drawn = pool[rng.integers(0, pool.height, n)] if n else pool.clear()
    anchored = drawn.with_columns(_anchor_id=pl.col("person_id"), _anchor_last=pl.col("last_name"))
    return _fill_unknowns(rng, anchored, taken)


def _aliases(frame: pl.DataFrame, registry: RegistryFrames) -> pl.DataFrame:
    """Attach each NCP's first alternate SSN and first alias name (null where none)."""
    alias = registry.alias
    ssn = (
        alias.filter(pl.col("ssn").is_not_null())
        .group_by("person_id")
        .agg(pl.col("ssn").first().alias("_alias_ssn"))
    )
    names = (
        alias.filter(pl.col("last_name").is_not_null())
        .unique("person_id", keep="first", maintain_order=True)
        .select(
            "person_id", *(pl.col(c).alias(f"_alias_{c}") for c in ("first_name", "middle_name", "last_name"))
        )
    )
    return frame.join(ssn, on="person_id", how="left", maintain_order="left").join(
        names, on="person_id", how="left", maintain_order="left"
    )


def _finish(frame: pl.DataFrame, kind: str | None, *, truth_person: bool) -> pl.DataFrame:
    """Bring a frame of people to the WORK columns."""
    missing = {
        c: pl.lit(None, dtype=pl.String) for c in (*ALIAS, "_anchor_id", "_anchor_last") if c not in frame
    }
    return frame.with_columns(
        **missing,
        person_id=pl.col("person_id") if truth_person else pl.lit(None, dtype=pl.String),
        hard_negative=pl.lit(kind, dtype=pl.String),
        faults=pl.lit([], dtype=pl.List(pl.String)),
    ).select(WORK)


def _with_ssn_digit_changed(rng: np.random.Generator, ssn: pl.Series) -> pl.Series:
    frame = pl.DataFrame(
        {"ssn": ssn, "_pos9": rng.integers(0, 9, ssn.len()), "_k9": rng.integers(1, 10, ssn.len())}
    )
    return frame.select(faults.FAULT_BY_CODE["ssn_typo"].updates["ssn"]).to_series()


def _twin(rng: np.random.Generator, anchor: pl.DataFrame, taken: people.SsnSet) -> pl.DataFrame:
    """Same surname, DOB and address; another first name; often the next SSN."""
    return people.twins(rng, anchor, taken, next_ssn_share=0.3, valid_serial=False)


def _jr_sr(rng: np.random.Generator, anchor: pl.DataFrame, taken: people.SsnSet) -> pl.DataFrame:
    """Father or son: same first, middle and last name and address, DOB 20-35 years apart, own SSN."""
    gen = relative_generation(rng, anchor)
    return anchor.with_columns(
        suffix=gen["suffix"], dob=gen["dob"], ssn=people.valid_ssns(rng, anchor.height, taken)
    )


def _relative_same_address(
    rng: np.random.Generator, anchor: pl.DataFrame, taken: people.SsnSet
) -> pl.DataFrame:
    """Spouse or sibling: same surname and address, another first name and DOB."""
    n = anchor.height
    base_sex = anchor["sex"].to_numpy()
    sex = np.where(rng.random(n) < 0.6, np.where(base_sex == "M", "F", "M"), base_sex)
    fresh = people.people(rng, n, taken)
    shift = rng.integers(1, 12 * 365, n) * np.where(rng.random(n) < 0.5, -1, 1)
    return anchor.with_columns(
        sex=pl.Series(sex, dtype=pl.String),
        first_name=people.other_first_names(rng, sex, anchor["first_name"]),
        middle_name=fresh["middle_name"],
        suffix=pl.lit(None, dtype=pl.String),
        dob=anchor["dob"] + pl.duration(days=pl.lit(pl.Series(shift))),
        ssn=fresh["ssn"],
    )


def _relatives_ssn(rng: np.random.Generator, anchor: pl.DataFrame, taken: people.SsnSet) -> pl.DataFrame:
    """Someone using the NCP's SSN: another first name and DOB, often the same surname and address."""
    n = anchor.height
    fresh = people.people(rng, n, taken)
    same_last = pl.Series(rng.random(n) < 0.7)
    same_home = pl.Series(rng.random(n) < 0.5)
    home = [pl.when(same_home).then(anchor[c]).otherwise(fresh[c]).alias(c) for c in faults.ADDRESS_FIELDS]
    return fresh.with_columns(
        home,
        first_name=people.other_first_names(rng, fresh["sex"].to_numpy(), anchor["first_name"]),
        last_name=pl.select(
            pl.when(same_last).then(anchor["last_name"]).otherwise(fresh["last_name"])
        ).to_series(),
        ssn=anchor["ssn"],
    ).hstack(anchor.select("person_id", "_anchor_id", "_anchor_last"))


def _common_name_stranger(
    rng: np.random.Generator, anchor: pl.DataFrame, taken: people.SsnSet
) -> pl.DataFrame:
    """A stranger with the NCP's (common) first and last name, sometimes the same DOB; own SSN and address."""
    fresh = people.people(rng, anchor.height, taken)
    same_dob = pl.Series(rng.random(anchor.height) < 0.3)
    return fresh.with_columns(
        sex=anchor["sex"],
        first_name=anchor["first_name"],
        last_name=anchor["last_name"],
        suffix=pl.lit(None, dtype=pl.String),
        dob=pl.select(pl.when(same_dob).then(anchor["dob"]).otherwise(fresh["dob"])).to_series(),
    ).hstack(anchor.select("person_id", "_anchor_id", "_anchor_last"))


def _ssn_neighbor(rng: np.random.Generator, anchor: pl.DataFrame, taken: people.SsnSet) -> pl.DataFrame:
    """A stranger whose SSN is one digit away from the NCP's."""
    fresh = people.people(rng, anchor.height, taken)
    return fresh.with_columns(ssn=_with_ssn_digit_changed(rng, anchor["ssn"])).hstack(
        anchor.select("person_id", "_anchor_id", "_anchor_last")
    )


_COMMON_LAST = pools.surnames().names.head(100).implode()
_COMMON_FIRST = pl.concat(
    [pools.first_names("M").names.head(60), pools.first_names("F").names.head(60)]
).implode()
HardNegativeBuilder = Callable[[np.random.Generator, pl.DataFrame, people.SsnSet], pl.DataFrame]
_BUILDERS: dict[str, tuple[HardNegativeBuilder, pl.Expr | None]] = {
    "twin": (_twin, pl.col("ssn").is_not_null()),
    "jr_sr": (_jr_sr, (pl.col("sex") == "M") & pl.col("suffix").is_null()),
    "relative_same_address": (_relative_same_address, None),
    "relatives_ssn": (_relatives_ssn, pl.col("ssn").is_not_null()),
    "common_name_stranger": (
        _common_name_stranger,
        pl.col("last_name").is_in(_COMMON_LAST) & pl.col("first_name").is_in(_COMMON_FIRST),
    ),
    "ssn_neighbor": (_ssn_neighbor, pl.col("ssn").is_not_null()),
}


def _hard_negatives(
    rng: np.random.Generator, registry: RegistryFrames, n: int, profile: Profile, taken: people.SsnSet
) -> pl.DataFrame:
    kinds = list(profile.hard_negatives)
    weights = np.array([profile.hard_negatives[k] for k in kinds])
    counts = rng.multinomial(n, weights / weights.sum())
    parts = []
    for kind, count in zip(kinds, counts, strict=True):
        build, where = _BUILDERS[kind]
        if profile.anchors_need_ssn:
            where = pl.col("ssn").is_not_null() if where is None else where & pl.col("ssn").is_not_null()
        anchor = _anchors(rng, registry, int(count), taken, where)
        made = build(rng, anchor, taken)
        if profile.anchors_need_ssn:
            made = made.with_columns(ssn=anchor["ssn"])
        parts.append(_finish(made, kind, truth_person=False))
    return pl.concat(parts)


def _people(
    rng: np.random.Generator, registry: RegistryFrames, n_records: int, profile: Profile, match_rate: float
) -> pl.DataFrame:
    """The people behind the records, faults applied, in file order."""
    taken = _ssn_pool(registry)
    n_true = min(n_records, round(n_records * match_rate)) if registry.ncp.height else 0
    n_hard = round((n_records - n_true) * profile.hard_negative_share) if registry.ncp.height else 0
    n_strangers = n_records - n_true - n_hard
    inquiry = pl.col("ssn").is_not_null() if profile.anchors_need_ssn else None
    ncps = _aliases(_anchors(rng, registry, n_true, taken, inquiry), registry)
    ncps = _finish(ncps, None, truth_person=True)
    ncps = faults.apply_faults(rng, ncps, profile.faults, taken)
    others = pl.concat(
        [
            _hard_negatives(rng, registry, n_hard, profile, taken),
            _finish(
                people.people(rng, n_strangers, taken).with_columns(person_id=pl.lit(None, pl.String)),
                None,
                truth_person=False,
            ),
        ]
    )
    others = faults.apply_faults(rng, others, profile.noise, taken)
    everyone = pl.concat([ncps, others])
    return everyone[rng.permutation(everyone.height)]


def generate_people(
    source: str, registry: RegistryFrames, n_records: int, rng: np.random.Generator, match_rate: float | None
) -> pl.DataFrame:
    """The WORK frame (person fields, truth, anchors) for n_records of a source."""
    profile = PROFILES[source]
    return _people(
        rng, registry, n_records, profile, profile.match_rate if match_rate is None else match_rate
    )


def truth_of(work: pl.DataFrame, first_record_number: int = 2) -> pl.DataFrame:
    return work.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_record_number).alias("record_number"),
        "person_id",
        "faults",
        "hard_negative",
    )


def previous_quarter(day: date) -> tuple[int, int]:
    quarter = (day.month - 1) // 3 + 1
    return (day.year - 1, 4) if quarter == 1 else (day.year, quarter - 1)
