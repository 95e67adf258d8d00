"""A synthetic registry extract: NCPs (twins, JR/SR pairs, aliases), cases, known employers, addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from loaders.registry import REGISTRY_SCHEMAS
from pipeline.synth import people, pools
from pipeline.synth.faults import ADDRESS_FIELDS

NCP_COLUMNS = tuple(REGISTRY_SCHEMAS["ncp"])
ALIAS_COLUMNS = tuple(REGISTRY_SCHEMAS["alias"])
CASE_COLUMNS = tuple(REGISTRY_SCHEMAS["ncp_case"])
EMPLOYER_COLUMNS = tuple(REGISTRY_SCHEMAS["known_employer"])
ADDRESS_COLUMNS = tuple(REGISTRY_SCHEMAS["known_address"])
_EXTRACT_DATE = date(2026, 1, 1)  # "today" for the registry's own history (employment, verifications)


@dataclass(frozen=True)
class RegistryFrames:
    """The five frames of a registry extract, columns exactly as in registry_extract.md."""

    ncp: pl.DataFrame
    alias: pl.DataFrame
    ncp_case: pl.DataFrame
    known_employer: pl.DataFrame
    known_address: pl.DataFrame

    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "ncp": self.ncp,
            "alias": self.alias,
            "ncp_case": self.ncp_case,
            "known_employer": self.known_employer,
            "known_address": self.known_address,
        }


def _ids(prefix: str, n: int, width: int) -> pl.Expr:
    return pl.lit(prefix) + (pl.int_range(n) + 1).cast(pl.String).str.pad_start(width, "0")


def _twins(rng: np.random.Generator, base: pl.DataFrame, taken: people.SsnSet) -> pl.DataFrame:
    """A twin per base row: same surname, DOB and address, another first name, often the next SSN serial."""
    return people.twins(rng, base, taken, next_ssn_share=0.4, valid_serial=True)


def relative_generation(rng: np.random.Generator, base: pl.DataFrame) -> pl.DataFrame:
    """Suffix and DOB of a father (SR) or son (JR) of each base man: 20-35 years apart, same name."""
    n = base.height
    gap = pl.Series(rng.integers(20 * 365, 35 * 365, n), dtype=pl.Int64)
    born_late = base["dob"].dt.year().fill_null(1990) > 1982
    older = born_late | pl.Series(rng.random(n) < 0.5)
    return pl.DataFrame(
        {
            "base_suffix": pl.select(pl.when(older).then(pl.lit("JR")).otherwise(pl.lit("SR"))).to_series(),
            "suffix": pl.select(pl.when(older).then(pl.lit("SR")).otherwise(pl.lit("JR"))).to_series(),
            "dob": pl.select(
                pl.when(older)
                .then(base["dob"] - pl.duration(days=pl.lit(gap)))
                .otherwise(base["dob"] + pl.duration(days=pl.lit(gap)))
            ).to_series(),
        }
    )


def _jr_sr(
    rng: np.random.Generator, base: pl.DataFrame, taken: people.SsnSet
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(base with JR/SR set, the other generation): same first/middle/last and address."""
    gen = relative_generation(rng, base)
    other = base.with_columns(
        suffix=gen["suffix"], dob=gen["dob"], ssn=people.valid_ssns(rng, base.height, taken)
    )
    return base.with_columns(suffix=gen["base_suffix"]), other


def _blank(
    frame: pl.DataFrame, rng: np.random.Generator, columns: tuple[str, ...], share: float
) -> pl.DataFrame:
    """Null the given columns together on a random share of rows."""
    mask = pl.Series(rng.random(frame.height) < share)
    return frame.with_columns(pl.when(~mask).then(pl.col(c)).alias(c) for c in columns)


def _ncp(rng: np.random.Generator, n: int) -> pl.DataFrame:
    n_twins = n_jrsr = n // 200
    n_base = n - n_twins - n_jrsr
    base = people.people(rng, n_base, male_share=0.82)
    men = np.flatnonzero((base["sex"] == "M").to_numpy() & base["suffix"].is_null().to_numpy())
    jr_idx = rng.choice(men, min(n_jrsr, len(men)), replace=False)
    rest = np.setdiff1d(np.arange(n_base), jr_idx)
    twin_idx = rng.choice(rest, n_twins, replace=False)
    twins = _twins(rng, base[twin_idx], people.SsnSet(base["ssn"]))
    juniors, seniors = _jr_sr(rng, base[jr_idx], people.SsnSet(pl.concat([base["ssn"], twins["ssn"]])))
    base = base.with_row_index("_i").update(
        juniors.with_columns(_i=pl.Series(jr_idx, dtype=pl.UInt32)), on="_i"
    )
    frame = pl.concat([base.drop("_i"), twins, seniors]).sample(fraction=1.0, shuffle=True, seed=_seed(rng))
    frame = _blank(frame, rng, ("ssn",), 0.01)
    frame = _blank(frame, rng, ("dob",), 0.01)
    frame = _blank(frame, rng, ("sex",), 0.005)
    frame = _blank(frame, rng, ADDRESS_FIELDS, 0.03)
    return frame.with_columns(_ids("M", frame.height, 9).alias("person_id")).select(NCP_COLUMNS)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31))


def _alias(rng: np.random.Generator, ncp: pl.DataFrame) -> pl.DataFrame:
    """Maiden names, nicknames, first part of hyphenated surnames, alternate SSNs."""
    n = ncp.height
    u = pl.Series(rng.random(n))
    fresh_last = people.surnames(rng, n)
    nick = ncp.select("first_name").join(
        pools.nicknames(), on="first_name", how="left", maintain_order="left"
    )
    pick = pl.Series((rng.random(n) * 1e6).astype(np.int64))
    nickname = nick.select(
        pl.col("nicknames").list.get(pick % pl.col("nicknames").list.len(), null_on_oob=True)
    )
    names = ncp.select("person_id", "first_name", "middle_name", "last_name").with_columns(
        suffix=pl.lit(None, dtype=pl.String), ssn=pl.lit(None, dtype=pl.String)
    )
    maiden = names.filter((ncp["sex"] == "F") & (u < 0.12)).with_columns(
        last_name=fresh_last.filter((ncp["sex"] == "F") & (u < 0.12))
    )
    nick_rows = names.with_columns(first_name=nickname.to_series()).filter(
        (u >= 0.5) & (u < 0.56) & nickname.to_series().is_not_null()
    )
    hyphen = names.filter(ncp["last_name"].str.contains("-", literal=True)).with_columns(
        last_name=pl.col("last_name").str.split("-").list.first()
    )
    has_ssn = ncp.filter(pl.Series(rng.random(n) < 0.03) & ncp["ssn"].is_not_null())
    ssn_rows = has_ssn.select(
        "person_id",
        *(
            pl.lit(None, dtype=pl.String).alias(c)
            for c in ("first_name", "middle_name", "last_name", "suffix")
        ),
        ssn=people.valid_ssns(rng, has_ssn.height, people.SsnSet(ncp["ssn"])),
    )
    return (
        pl.concat([maiden, nick_rows, hyphen, ssn_rows])
        .sort("person_id", maintain_order=True)
        .select(ALIAS_COLUMNS)
    )


def _cases(rng: np.random.Generator, ncp: pl.DataFrame) -> pl.DataFrame:
    n = ncp.height
    per_person = rng.choice([1, 2, 3], n, p=[0.72, 0.22, 0.06])
    n_workers = max(3, n // 250)
    worker = rng.integers(0, n_workers, n)
    fv = rng.random(n) < 0.02
    owner = np.repeat(np.arange(n), per_person)
    m = len(owner)
    order = pools.pick(rng, ("ACTIVE", "NONE", "SUSPENDED"), m, (0.68, 0.2, 0.12))
    status = pools.pick(rng, ("OPEN", "CLOSED"), m, (0.85, 0.15))
    support = np.round(rng.lognormal(np.log(350), 0.5, m), 2)
    arrears = np.where(rng.random(m) < 0.45, 0.0, np.round(rng.lognormal(np.log(4000), 1.3, m), 2))
    return (
        pl.DataFrame(
            {
                "person_id": ncp["person_id"].gather(owner),
                "caseworker_id": "CW" + pl.Series(worker[owner]).cast(pl.String).str.pad_start(5, "0"),
                "office_id": pl.Series(worker[owner] % max(1, n_workers // 12) + 1)
                .cast(pl.String)
                .str.pad_start(3, "0"),
                "case_status": status,
                "order_status": order,
                "current_support_monthly": pl.select(
                    pl.when((order == "ACTIVE") & (status == "OPEN")).then(pl.Series(support)).otherwise(0.0)
                ).to_series(),
                "arrears_balance": pl.Series(arrears),
                "family_violence": pl.select(pl.when(pl.Series(fv[owner])).then(pl.lit("Y"))).to_series(),
            }
        )
        .with_columns(
            _ids("C", m, 9).alias("case_id"),
            pl.concat_str([pl.lit("OF"), "office_id"]).alias("office_id"),
        )
        .select(CASE_COLUMNS)
    )


def _known_employers(rng: np.random.Generator, ncp: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    n = ncp.height
    pool = people.employers(rng, max(50, n // 20))
    zipf = 1.0 / np.arange(1, pool.height + 1) ** 1.1
    per_person = np.where(rng.random(n) < 0.45, rng.choice([1, 2], n, p=[0.75, 0.25]), 0)
    owner = np.repeat(np.arange(n), per_person)
    m = len(owner)
    second = np.r_[False, owner[1:] == owner[:-1]] if m else np.zeros(0, dtype=bool)
    has_next = np.r_[owner[:-1] == owner[1:], False] if m else np.zeros(0, dtype=bool)
    start = people.dates_between(rng, m, date(2010, 1, 1), date(2025, 10, 31))
    current = pl.Series(second | (~has_next & (rng.random(m) < 0.75)))
    end = pl.select(
        pl.when(~current).then(
            pl.min_horizontal(
                start + pl.duration(days=pl.lit(pl.Series(rng.integers(60, 1500, m)))), pl.lit(_EXTRACT_DATE)
            )
        )
    ).to_series()
    ordered = cases.filter(pl.col("order_status") == "ACTIVE").get_column("person_id").unique()
    person = ncp["person_id"].gather(owner)
    iwo = current & person.is_in(ordered.implode()) & pl.Series(rng.random(m) < 0.5)
    employer = pool[rng.choice(pool.height, m, p=zipf / zipf.sum())]
    # A second job is never at the same employer as the first.
    employer = (
        employer.with_columns(
            pl.when(pl.Series(second) & (pl.col("fein") == pl.col("fein").shift(1)))
            .then(pool["fein"].gather(rng.integers(0, pool.height, m)))
            .otherwise(pl.col("fein"))
            .alias("fein")
        )
        .drop("employer_name")
        .join(pool, on="fein", how="left", maintain_order="left")
    )
    return pl.DataFrame(
        {
            "person_id": person,
            "fein": employer["fein"],
            "employer_name": employer["employer_name"],
            "start_date": pl.select(
                pl.when(pl.Series(second)).then(end.shift(1) + pl.duration(days=30)).otherwise(start)
            ).to_series(),
            "end_date": end,
            "iwo_active": pl.select(pl.when(iwo).then(pl.lit("Y")).otherwise(pl.lit("N"))).to_series(),
        }
    ).select(EMPLOYER_COLUMNS)


def _known_addresses(rng: np.random.Generator, ncp: pl.DataFrame) -> pl.DataFrame:
    n = ncp.height
    current = ncp.filter(pl.Series(rng.random(n) < 0.85) & pl.col("address_line1").is_not_null()).select(
        "person_id", *ADDRESS_FIELDS
    )
    current = current.with_columns(
        verified_date=people.dates_between(rng, current.height, date(2023, 1, 1), _EXTRACT_DATE)
    )
    prior_of = ncp.filter(pl.Series(rng.random(n) < 0.3)).select("person_id")
    prior = prior_of.hstack(people.addresses(rng, prior_of.height)).with_columns(
        verified_date=people.dates_between(rng, prior_of.height, date(2012, 1, 1), date(2022, 12, 31))
    )
    return pl.concat([current, prior]).sort("person_id", maintain_order=True).select(ADDRESS_COLUMNS)


def generate_registry(n_persons: int, seed: int) -> RegistryFrames:
    """A reproducible extract of n_persons NCPs (0.5% twins and 0.5% JR/SR pairs both in the registry)."""
    rng = np.random.default_rng(seed)
    ncp = _ncp(rng, n_persons)
    cases = _cases(rng, ncp)
    return RegistryFrames(
        ncp=ncp,
        alias=_alias(rng, ncp),
        ncp_case=cases,
        known_employer=_known_employers(rng, ncp, cases),
        known_address=_known_addresses(rng, ncp),
    )


def write_registry(frames: RegistryFrames, directory: Path, fmt: Literal["csv", "parquet"] = "csv") -> Path:
    """Write `<name>.csv` (dates YYYY-MM-DD, money with cents) or `<name>.parquet` for each frame."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.frames().items():
        if fmt == "csv":
            frame.write_csv(directory / f"{name}.csv", float_precision=2, date_format="%Y-%m-%d")
        else:
            frame.write_parquet(directory / f"{name}.parquet")
    return directory
