"""Per-source rows (the layout's fields) built from the people behind the records; `generate_records`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipeline.synth import people, pools
from pipeline.synth.records import GeneratedRecords, generate_people, previous_quarter, truth_of
from pipeline.synth.registry import RegistryFrames
from pipeline.synth.writers import DMV_COLUMNS, FIDM_B, QW, W4

HOME_STATE = "IL"
_NULL = pl.lit(None, dtype=pl.String)


def _blank_some(column: str, share: float, rng: np.random.Generator, n: int) -> pl.Expr:
    return pl.when(pl.Series(rng.random(n) >= share)).then(pl.col(column)).alias(column)


def _employers(
    rng: np.random.Generator, work: pl.DataFrame, registry: RegistryFrames, known_share: float
) -> pl.DataFrame:
    """Employer of each record: for NCPs sometimes one already on file; else big known employers or new firms.

    Returns the employer block plus `_employer_tag` (`employer_known`, `employer_known_iwo` or null).
    """
    n = work.height
    known = registry.known_employer
    by_person = known.group_by("person_id").agg(pl.col("fein").alias("_feins"))
    own = work.select("person_id").join(by_person, on="person_id", how="left", maintain_order="left")
    pick = pl.Series(rng.integers(0, 1 << 30, n))
    own_fein = own.select(
        pl.col("_feins").list.get(pick % pl.col("_feins").list.len(), null_on_oob=True)
    ).to_series()
    names = known.select("fein", "employer_name").unique("fein", keep="first", maintain_order=True)
    fresh = people.employers(rng, max(20, n // 40), names["fein"])
    zipf = 1.0 / np.arange(1, fresh.height + 1) ** 1.1
    fresh_fein = fresh["fein"].gather(rng.choice(fresh.height, n, p=zipf / zipf.sum()))
    seen_fein = known["fein"].gather(rng.integers(0, known.height, n)) if known.height else fresh_fein
    use_own = pl.Series(rng.random(n) < known_share) & work["person_id"].is_not_null()
    use_seen = pl.Series(rng.random(n) < 0.5)
    fein = pl.select(
        pl.when(use_own & own_fein.is_not_null())
        .then(own_fein)
        .when(use_seen)
        .then(seen_fein)
        .otherwise(fresh_fein)
    ).to_series()
    lookup = pl.concat([names, fresh])
    details = people.employer_details(fein.unique()).join(
        lookup.rename({"fein": "employer_fein"}), on="employer_fein", how="left"
    )
    iwo = known.group_by("person_id", "fein").agg((pl.col("iwo_active") == "Y").any().alias("_iwo"))
    return (
        pl.DataFrame({"person_id": work["person_id"], "employer_fein": fein})
        .join(details, on="employer_fein", how="left", maintain_order="left")
        .join(
            iwo.rename({"fein": "employer_fein"}),
            on=["person_id", "employer_fein"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            _employer_tag=pl.when(pl.col("_iwo"))
            .then(pl.lit("employer_known_iwo"))
            .when(pl.col("_iwo").is_not_null())
            .then(pl.lit("employer_known"))
        )
        .drop("person_id", "_iwo")
    )


def _tag(work: pl.DataFrame, tag: pl.Series) -> pl.DataFrame:
    """Append a per-record code (null = none) to `faults`."""
    return work.with_columns(pl.concat_list("faults", tag).list.drop_nulls().alias("faults"))


_FOREIGN = (
    *(
        f"{who}foreign_{part}"
        for who in ("", "employer_", "employer_opt_")
        for part in ("country_code", "country_name", "postal_code")
    ),
    "employer_opt_zip4",
)


def _new_hire(
    rng: np.random.Generator, work: pl.DataFrame, registry: RegistryFrames, received: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = work.height
    employer = _employers(rng, work, registry, known_share=0.3)
    hired = pl.Series(rng.integers(2, 28, n), dtype=pl.Int64)
    rows = (
        work.hstack(employer.drop("_employer_tag"))
        .with_columns(
            _blank_some("middle_name", 0.4, rng, n),
            address_line3=_NULL,
            zip4=pl.when(pl.Series(rng.random(n) < 0.3)).then(pools.digits(rng, n, 4)),
            hire_date=pl.lit(received) - pl.duration(days=pl.lit(hired)),
            hire_state=pl.when(pl.Series(rng.random(n) < 0.8)).then(pl.lit(HOME_STATE)),
            **dict.fromkeys(_FOREIGN, _NULL),
        )
        .select(W4.columns)
    )
    return rows, _tag(work, employer["_employer_tag"])


def _quarterly_wage(
    rng: np.random.Generator, work: pl.DataFrame, registry: RegistryFrames, received: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = work.height
    employer = _employers(rng, work, registry, known_share=0.6)
    year, quarter = previous_quarter(received)
    wages = np.round(rng.lognormal(np.log(9_000), 0.9, n) * 100).astype(np.int64)
    rows = work.hstack(employer.drop("_employer_tag")).with_columns(
        _blank_some("middle_name", 0.85, rng, n),
        wage_cents=pl.Series(np.minimum(wages, 10**11 - 1)),
        period=pl.lit(f"{year}{quarter}"),
    )
    return rows.select(QW.columns), _tag(work, employer["_employer_tag"])


def _dmv(
    rng: np.random.Generator, work: pl.DataFrame, registry: RegistryFrames, received: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = work.height
    shown = rng.random(n)
    issued = people.dates_between(rng, n, received - timedelta(days=4 * 365), received - timedelta(days=1))
    cls = pools.pick(
        rng, ("D", "D", "D", "CDL-A", "CDL-B", "ID", "M"), n, (0.5, 0.2, 0.1, 0.03, 0.02, 0.12, 0.03)
    )
    rows = work.with_columns(
        license_number=work["last_name"].fill_null("X").str.head(1) + pools.digits(rng, n, 11),
        license_state=pl.lit(HOME_STATE),
        license_class=cls,
        license_status=pools.pick(
            rng, ("VALID", "SUSPENDED", "REVOKED", "EXPIRED", "CANCELLED"), n, (0.85, 0.06, 0.02, 0.05, 0.02)
        ),
        ssn=pl.when(pl.Series(shown < 0.2))
        .then(pl.col("ssn"))
        .when(pl.Series(shown < 0.35) & pl.col("ssn").is_not_null())
        .then(pl.lit("last4:") + pl.col("ssn").str.tail(4)),
        sex=pl.when(pl.Series(rng.random(n) < 0.005)).then(pl.lit("X")).otherwise(pl.col("sex")),
        issue_date=issued,
        expiration_date=issued.dt.offset_by("4y"),
        record_updated=pl.lit(received) - pl.duration(days=pl.lit(pl.Series(rng.integers(1, 8, n)))),
    )
    return rows.select(DMV_COLUMNS), work


_TRUST_TITLES = ("", " UTMA CUSTODIAN", " IOLTA", " ESCROW", " SECURITY DEPOSIT", " TRUST")


def _fidm(
    rng: np.random.Generator, work: pl.DataFrame, registry: RegistryFrames, received: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = work.height
    u = rng.random(n)
    free_form = pl.Series(rng.random(n) < 0.2)
    payee = pl.Series(np.where(u < 0.08, "1", np.where(u < 0.2, "2", "0")))
    trust = pl.Series(
        np.where(rng.random(n) < 0.08, rng.integers(1, 6, n), np.where(rng.random(n) < 0.01, 6, 0))
    )
    co_owner = people.people(rng, n)
    wrong_id = registry.ncp["person_id"].gather(rng.integers(0, max(1, registry.ncp.height), n))
    passback_fault = rng.random(n)
    is_ncp = work["person_id"].is_not_null()
    standard = pl.concat_str(["last_name", "first_name", "middle_name"], separator=" ", ignore_nulls=True)
    free = pl.concat_str(
        ["first_name", "middle_name", "last_name", "suffix"], separator=" ", ignore_nulls=True
    )
    co_name = (co_owner["last_name"] + " " + co_owner["first_name"]).alias("co")
    frame = work.with_columns(
        _owner=pl.when(free_form).then(free).otherwise(standard),
        _co=co_name,
        _payee=payee,
        _trust=trust,
    )
    rows = (
        frame.with_columns(
            match_yyyymm=pl.lit(received.strftime("%Y%m")),
            account_number=pools.digits(rng, n, 12),
            account_type=pools.pick(
                rng,
                ("04", "01", "05", "11", "12", "14", "16", "17", "18", "00"),
                n,
                (0.5, 0.28, 0.05, 0.05, 0.04, 0.01, 0.01, 0.01, 0.04, 0.01),
            ),
            payee_indicator=pl.col("_payee"),
            first_owner_name=pl.when(pl.col("_payee") == "1").then("_co").otherwise("_owner"),
            second_owner_name=pl.when(pl.col("_payee") == "1")
            .then("_owner")
            .when(pl.col("_payee") == "2")
            .then("_co"),
            foreign_indicator=_NULL,
            street=pl.concat_str(["address_line1", "address_line2"], separator=" ", ignore_nulls=True),
            zip=pl.col("zip")
            + pl.when(pl.Series(rng.random(n) < 0.5)).then(pools.digits(rng, n, 4)).otherwise(pl.lit("")),
            state_passback=pl.lit(HOME_STATE),
            passback_id=pl.when(is_ncp & pl.Series(passback_fault < 0.03))
            .then(wrong_id)
            .when(is_ncp & pl.Series(passback_fault < 0.06))
            .then(_NULL)
            .otherwise(pl.col("_anchor_id").fill_null(pl.col("person_id"))),
            balance=pl.Series(
                np.where(rng.random(n) < 0.1, 0, np.round(rng.lognormal(np.log(1_500), 1.5, n))).astype(
                    np.int64
                )
            ).clip(0, 9_999_999),
            trust_indicator=pl.col("_trust").cast(pl.String),
            balance_indicator=pools.pick(rng, ("2", "1", "0"), n, (0.8, 0.15, 0.05)),
            update_indicator=pools.pick(rng, ("1", "2", "0"), n, (0.85, 0.1, 0.05)),
            owner_dob=pl.col("dob"),
        )
        .with_columns(
            last_name_control=pl.when(pl.col("_payee") == "1")
            .then(pl.col("_co").str.head(4))
            .otherwise(pl.col("last_name").str.head(4)),
            account_title=pl.col("first_owner_name")
            + pl.when(pl.col("second_owner_name").is_not_null())
            .then(" AND " + pl.col("second_owner_name"))
            .otherwise(pl.lit(""))
            + pl.lit(pl.Series(_TRUST_TITLES)).gather(pl.col("_trust").clip(0, 5)),
        )
        .with_columns(
            name_match_flag=pl.when(pl.Series(rng.random(n) < 0.1))
            .then(pl.lit("0"))
            .when(
                pl.col("last_name_control")
                == pl.col("_anchor_last").fill_null(pl.col("last_name")).str.head(4)
            )
            .then(pl.lit("1"))
            .otherwise(pl.lit("2")),
        )
    )
    tags = frame.select(
        pl.when(is_ncp & (pl.col("_payee") == "1")).then(pl.lit("second_owner")).alias("a"),
        pl.when(free_form).then(pl.lit("owner_name_free_form")).alias("b"),
        pl.when(is_ncp & pl.Series(passback_fault < 0.03))
        .then(pl.lit("passback_wrong"))
        .when(is_ncp & pl.Series(passback_fault < 0.06))
        .then(pl.lit("passback_blank"))
        .alias("c"),
    )
    for column in tags.columns:
        work = _tag(work, tags[column])
    return rows.select(FIDM_B.columns), work


Builder = Callable[
    [np.random.Generator, pl.DataFrame, RegistryFrames, date], tuple[pl.DataFrame, pl.DataFrame]
]
BUILDERS: dict[str, Builder] = {
    "new_hire": _new_hire,
    "quarterly_wage": _quarterly_wage,
    "dmv": _dmv,
    "fidm": _fidm,
}
SOURCES = tuple(BUILDERS)


def generate_records(
    source: str,
    registry: RegistryFrames,
    n_records: int,
    seed: int,
    *,
    received_date: date,
    match_rate: float | None = None,
    first_record_number: int = 2,
) -> GeneratedRecords:
    """n_records of `source` in file order; truth record numbers from `first_record_number` (header = 1)."""
    if source not in BUILDERS:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    rng = np.random.default_rng(seed)
    work = generate_people(source, registry, n_records, rng, match_rate)
    rows, work = BUILDERS[source](rng, work, registry, received_date)
    return GeneratedRecords(rows=rows, truth=truth_of(work, first_record_number))


def iter_records(
    source: str,
    registry: RegistryFrames,
    n_records: int,
    seed: int,
    *,
    received_date: date,
    chunk_size: int = 1_000_000,
    match_rate: float | None = None,
) -> Iterator[GeneratedRecords]:
    """generate_records in chunks (memory flat in n_records); record numbers continue across chunks."""
    sizes = [min(chunk_size, n_records - start) for start in range(0, n_records, chunk_size)]
    seeds = np.random.SeedSequence(seed).generate_state(max(1, len(sizes)))
    start = 2
    for size, chunk_seed in zip(sizes, seeds, strict=False):
        yield generate_records(
            source,
            registry,
            size,
            int(chunk_seed),
            received_date=received_date,
            match_rate=match_rate,
            first_record_number=start,
        )
        start += size
